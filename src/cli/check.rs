//! `kapok check`: validate a framework, and with its data every expression.

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::framework;

/// Arguments of `kapok check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The framework file (TOML).
    pub framework: PathBuf,
    /// Check the expressions against this one table instead of the framework's sources.
    #[arg(long, value_name = "TABLE")]
    pub data: Option<PathBuf>,
    /// Check the framework file only, without reading any data.
    #[arg(long, conflicts_with = "data")]
    pub no_data: bool,
}

/// Runs `kapok check`.
pub fn run(a: &CheckArgs) -> Result<(), Error> {
    let fw = framework::load(&a.framework)?;
    if !fw.warnings.is_empty() {
        eprint!(
            "{}",
            framework::Diagnostics {
                file: fw.file.clone(),
                items: fw.warnings.clone(),
            }
            .render()
        );
    }
    let n_ind = fw.indicators().len();
    let n_dim = fw.nodes.len() - n_ind - 1;
    let mut summary = format!(
        "{}: ok — index `{}`, {n_dim} dimension(s), {n_ind} indicator(s), {} source(s)",
        a.framework.display(),
        fw.index().id,
        fw.sources.len()
    );
    // Frozen bounds files are checked even without data: a run would need them.
    let frozen = crate::bounds::check_frozen(&fw)?;
    if !frozen.is_empty() {
        summary.push_str(&format!("; frozen bounds: {} file(s)", frozen.len()));
    }
    if let Some(u) = &fw.uncertainty {
        let names: Vec<String> = u.inputs.iter().map(|i| i.name()).collect();
        summary.push_str(&format!(
            "; uncertainty: {} input(s) ({}), {} run(s)",
            names.len(),
            names.join(", "),
            u.runs
        ));
    }
    if !a.no_data {
        let (panel, warnings) = crate::read_panel(&fw, a.data.as_deref())?;
        super::warn(&warnings);
        summary.push_str(&format!("; data: {} unit(s)", panel.units.len()));
        if fw.units.period.is_some() {
            summary.push_str(&format!(", {} period(s)", panel.periods.len()));
        }
    }
    super::print(&format!("{summary}\n"))
}
