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
#[command(mut_arg("weights", |a| a.hide(true)), mut_arg("weights_from", |a| a.hide(true)))]
#[command(after_long_help = AFTER_HELP)]
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

/// The details of `kapok weights --help`.
const AFTER_HELP: &str = "\
Data: the normalised indicator values of one period (--period, default the latest; the whole table \
when the framework has no period), after screening, imputation and treatment as a run computes them. \
Nodes are weighted bottom-up: a dimension's own score is aggregated, with its own method, from the \
weights already derived below it.

pca and balance use the units with a score for every child of the node (complete cases) and need \
at least as many of them as the node has children, and 3; a child that has no value, or the same \
score for every such unit, is an error (exit 1) naming node, child and period. A node with one \
child gives it weight 1. Weights sum to 1 within each node and are rounded to six decimals; the \
weights written are the weights --weights-from applies.

pca: the OECD/JRC Handbook's weights for one factor, the squared loadings of the first principal \
component of the children's correlation matrix. The sign of a component is arbitrary and does not \
change squared loadings; the loadings shown are signed to sum positive. A child that loads \
negatively runs against its siblings: it keeps its squared loading (its share of the component's \
variance), with a warning. COINr's get_PCA gives the loadings themselves as weights, signed as the \
SVD returns them (possibly all negative, or some negative).

balance: COINr's get_opt_weights(optype = \"balance\", itarg = \"equal\") per node: the weights \
minimising the mean squared difference between 1/k and each child's share of the summed Pearson \
correlations with the node's score. Nelder-Mead with R's rules from equal weights, over w = x² \
(weights stay ≥ 0), relative tolerance 1e-14, restarted while a restart helps, at most 20000 \
evaluations. COINr minimises the logarithm of that cost over signed weights for one level at a \
time, correlating with the index, and stops at a relative tolerance of 0.1 after at most 500 \
evaluations, which stops its search early.";

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
    let derived = crate::weights::derive(&fw, &panel, p, a.method)?;
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
    let derived = crate::weights::derive(fw, &panel, p, method)?;
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
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
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
