//! `kapok weights`: weights derived from the data, written as a `[weights]` table (see
//! [`crate::weights`]); and `--weights-from`, which applies them in a run.

use std::path::PathBuf;

use clap::Args;

use super::RunArgs;
use crate::error::Error;
use crate::framework::Framework;
use crate::weights::{Derived, Method};

/// Arguments of `kapok weights`.
#[derive(Debug, Args)]
pub struct WeightsArgs {
    #[command(flatten)]
    run: RunArgs,
    /// How to derive the weights: equal (every child 1); pca (per node, the children's squared
    /// loadings on their first principal component, OECD/JRC Handbook; units with every child
    /// present); balance (per node, the weights that make the children's correlations with the
    /// node's score as equal as possible, COINr's get_opt_weights "balance"). Nodes are
    /// weighted bottom-up: a dimension is scored with the weights derived below it.
    #[arg(long, value_enum, value_name = "METHOD")]
    method: Method,
    /// The period whose normalised values the weights come from (default: the latest).
    #[arg(long)]
    period: Option<String>,
    /// Write the `[weights]` table to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `kapok weights`.
pub fn run(a: &WeightsArgs) -> Result<(), Error> {
    if !a.run.weights.is_empty() || a.run.weights_from.is_some() {
        return Err(Error::Usage(
            "kapok weights derives every weight from the data: --weight and --weights-from do not apply"
                .into(),
        ));
    }
    let fw = a.run.framework(None)?;
    if let Some(out) = &a.output {
        crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
    }
    let (panel, warnings) = crate::read_panel(&fw, a.run.data.as_deref())?;
    super::warn(&warnings);
    let p = super::pick_period(&panel, a.period.as_deref(), &warnings)?;
    let derived = crate::weights::derive(&fw, panel, p, a.method)?;
    super::warn(&derived.notes(&fw));
    let text = derived.to_toml(&fw, &file_name(&a.run.framework), &data_label(&a.run, &fw));
    match &a.output {
        None => super::print(&text),
        Some(out) => {
            crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
            crate::io::write_atomic(out, |f| {
                use std::io::Write;
                f.write_all(text.as_bytes()).map_err(|e| e.to_string())
            })?;
            eprintln!(
                "wrote the {} weights of {} node(s) to {}",
                a.method.name(),
                fw.nodes.len() - 1,
                out.display()
            );
            Ok(())
        }
    }
}

/// The weights `--weights-from METHOD` applies: derived from `period` (default: the latest) of
/// the run's data, with a line on standard error saying so.
pub fn derive_for_run(
    run: &RunArgs,
    fw: &Framework,
    period: Option<&str>,
    method: Method,
) -> Result<Derived, Error> {
    let (panel, warnings) = crate::read_panel(fw, run.data.as_deref())?;
    let p = super::pick_period(&panel, period, &warnings)?;
    let derived = crate::weights::derive(fw, panel, p, method)?;
    super::warn(&derived.notes(fw));
    let from = if derived.period.is_empty() {
        String::new()
    } else {
        format!(" of {}", derived.period)
    };
    eprintln!(
        "weights: {} weights derived from the normalised values{from} ({} unit(s)); `kapok weights --method {}` writes them",
        method.name(),
        derived.units,
        method.name()
    );
    Ok(derived)
}

/// The file name of a path, for the header of the weights written (no directories, so that
/// the text does not depend on where kapok runs).
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The data the weights come from: `--data`, or the framework's sources.
fn data_label(run: &RunArgs, fw: &Framework) -> String {
    match &run.data {
        Some(d) => format!("--data {}", file_name(d)),
        None => fw
            .sources
            .iter()
            .map(|s| file_name(std::path::Path::new(&s.path)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}
