//! `kapok audit`: the statistical audit of one period (see [`crate::explain::audit`]).

use std::path::PathBuf;

use clap::Args;

use super::RunArgs;
use crate::error::Error;
use crate::io::TablesTarget;

/// Arguments of `kapok audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The period to audit (default: the latest).
    #[arg(long)]
    period: Option<String>,
    /// Also write every table: OUT.xlsx (one sheet per table), OUT.json (one object of
    /// tables), or a directory path without extension (one CSV per table; created if missing).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

/// Runs `kapok audit`.
pub fn run(a: &AuditArgs) -> Result<(), Error> {
    let fw = a.run.framework()?;
    if let Some(out) = &a.output {
        TablesTarget::from_path(out)?;
        crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
    }
    let (panel, mut warnings) = crate::read_panel(&fw, a.run.data.as_deref())?;
    let p = super::pick_period(&panel, a.period.as_deref())?;
    let (audit, eval_warnings) = crate::explain::audit(&fw, &panel, p)?;
    warnings.extend(eval_warnings);
    super::warn(&warnings);
    if let Some(out) = &a.output {
        let tables = audit.tables(&fw, a.run.lang)?;
        let named: Vec<(&str, &_)> = tables.iter().map(|(n, b)| (*n, b)).collect();
        let target = TablesTarget::from_path(out)?;
        for file in target.files(out, &named.iter().map(|t| t.0).collect::<Vec<_>>()) {
            crate::io::guard_inputs(&file, &a.run.inputs(&fw))?;
        }
        crate::io::write_tables(&named, out)?;
        eprintln!("wrote {} audit table(s) to {}", named.len(), out.display());
    }
    super::print(&audit.summary(&fw, a.run.lang))
}
