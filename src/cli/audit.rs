//! `kapok audit`: the statistical audit of one period (see [`crate::explain::audit`]).

use std::path::PathBuf;

use clap::Args;

use super::RunArgs;
use crate::error::Error;
use crate::io::TablesTarget;
use crate::results::Stage;

/// Arguments of `kapok audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The period to audit (default: the latest).
    #[arg(long)]
    period: Option<String>,
    /// Also write every table: OUT.xlsx (one sheet per table), OUT.json (one object of
    /// tables), or a directory path without extension (one CSV per table; created if missing,
    /// refused when it holds files other than an earlier audit's unless --force).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Compute the indicator statistics (the `indicators` table and the flags) on the values
    /// after this stage: raw (before denominators), denominated (the default: the data as
    /// read), imputed, screened, treated or normalised; from screening on, over the units
    /// screening kept.
    #[arg(long, value_name = "STAGE",
          value_parser = clap::builder::PossibleValuesParser::new(Stage::ALL.map(Stage::name)))]
    stage: Option<String>,
    /// Write the CSV tables into a directory that holds other files too (only the audit's
    /// NAME.csv files are replaced; nothing else is touched).
    #[arg(long)]
    force: bool,
}

/// Every table an audit can write; a directory holding only `NAME.csv` files of these is an
/// earlier audit.
pub const TABLES: [&str; 12] = [
    "about",
    "indicators",
    "availability_units",
    "availability_groups",
    "correlations",
    "sibling_correlations",
    "aggregates",
    "pca_loadings",
    "weights",
    "treatment",
    "bod_shares",
    "removal",
];

/// Runs `kapok audit`.
pub fn run(a: &AuditArgs) -> Result<(), Error> {
    let fw = a.run.framework(a.period.as_deref())?;
    let inputs = a.run.inputs(&fw);
    if let Some(out) = &a.output {
        crate::io::guard_inputs(out, &inputs)?;
        if TablesTarget::from_path(out)? == TablesTarget::CsvDir {
            crate::io::check_table_dir(out, &TABLES, a.force)?;
        }
    }
    let (panel, warnings) = crate::read_panel(&fw, a.run.data.as_deref())?;
    let p = super::pick_period(&panel, a.period.as_deref(), &warnings)?;
    let mut warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let stage = a
        .stage
        .as_deref()
        .and_then(Stage::parse)
        .unwrap_or(Stage::Denominated);
    let raw = match stage {
        Stage::Raw => Some(crate::read_raw_panel(&fw, a.run.data.as_deref())?),
        _ => None,
    };
    let (audit, eval_warnings) =
        crate::explain::audit::audit_stage(&fw, &panel, p, stage, raw.as_ref())?;
    warnings.extend(eval_warnings);
    super::warn(&warnings);
    if let Some(out) = &a.output {
        let tables = audit.tables(&fw, a.run.lang)?;
        let named: Vec<(&str, &_)> = tables.iter().map(|(n, b)| (*n, b)).collect();
        if let Some((name, _)) = named.iter().find(|t| !TABLES.contains(&t.0)) {
            return Err(Error::Eval(format!(
                "internal: audit table `{name}` is not in the list of audit tables"
            )));
        }
        let target = TablesTarget::from_path(out)?;
        crate::io::guard_inputs(out, &inputs)?;
        for file in target.files(out, &named.iter().map(|t| t.0).collect::<Vec<_>>()) {
            crate::io::guard_inputs(&file, &inputs)?;
        }
        crate::io::write_tables(&named, out, &TABLES, a.force)?;
        eprintln!("wrote {} audit table(s) to {}", named.len(), out.display());
    }
    super::print(&audit.summary(&fw, a.run.lang))
}
