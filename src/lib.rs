//! # kapok — a composite governance index engine
//!
//! kapok evaluates a declarative indicator **framework** (TOML, see `indicators/README.md`)
//! over Arrow tables of unit data and produces normalised, weighted, aggregated scores and
//! ranks per period. Every command runs a prefix of one chain:
//!
//! ```text
//! framework.toml ──framework::load──► Framework      (checked tree, or every diagnostic at once)
//! sources ──data::DataStage (DataFusion)──► batches: unit, period, group, indicator values
//!         ──DataStage::bind (streamed)──► Panel  (ndarray matrices per period, NaN = missing)
//!         (or, for `score` and `rank`, Scoring: a panel without values, each period's bound as it
//!          comes, or, rows sorted by unit, read back from a temporary file: data::spill)
//! Panel ──evaluate: screen → impute → treat → normalise → aggregate → rank──► Results
//! Results ──results / io──► CSV, Parquet, Arrow, XLSX, JSON, terminal tables
//! Results ──chart──► SVG charts (plotters), PNG at 2× (resvg), embedded CJK font
//! Results ──explain::audit──► indicator statistics, correlations, alpha, PCA, rank changes
//! ```
//!
//! The statistical stages in [`pipeline`] and the statistics in [`stats`] are pure functions
//! over matrices; [`explain`] re-evaluates the index through the library to say what moves it.
//! Only [`data`], [`io`] and [`cli`] touch files.

#![warn(missing_docs)]

pub mod bounds;
pub mod chart;
pub mod cli;
pub mod columns;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod format;
pub mod framework;
pub mod import;
pub mod io;
pub mod messages;
pub mod period;
pub mod pipeline;
pub mod report;
pub mod results;
pub mod robustness;
mod scoring;
pub mod serve;
pub mod stats;
pub mod trend;
pub mod weights;

use std::path::Path;

pub use data::{DataStage, Panel};
pub use error::{Error, Result};
pub use evaluate::{Keep, Results, evaluate, evaluate_keeping, evaluate_streaming};
pub use framework::{Framework, load};
pub use messages::Warning;
pub use scoring::Scoring;

/// Reads the data of a checked framework (or the single table `data`), evaluates its indicator
/// expressions and binds them into a panel. Returns the panel and the data stage's warnings.
pub fn read_panel(fw: &Framework, data: Option<&Path>) -> Result<(Panel, Vec<Warning>)> {
    let stage = DataStage::open(fw, data)?;
    let panel = stage.bind(fw)?;
    Ok((panel, stage.warnings))
}

/// The panel of `fw`'s indicators before their denominators (`--stage raw`): the data read as
/// [`read_panel`] reads them, with every `denominator` taken out.
pub fn read_raw_panel(fw: &Framework, data: Option<&Path>) -> Result<Panel> {
    let mut raw = fw.clone();
    for node in &mut raw.nodes {
        if let framework::NodeKind::Indicator(spec) = &mut node.kind {
            spec.denominator = None;
        }
    }
    Ok(read_panel(&raw, data)?.0)
}

/// The whole chain: data → panel → results, with every warning collected.
pub fn score(fw: &Framework, data: Option<&Path>) -> Result<(Results, Vec<Warning>)> {
    score_keeping(fw, data, Keep::Stages)
}

/// [`score`], keeping of the pipeline's intermediate values only what `keep` says (see
/// [`evaluate_keeping`]).
pub fn score_keeping(
    fw: &Framework,
    data: Option<&Path>,
    keep: Keep,
) -> Result<(Results, Vec<Warning>)> {
    let (panel, mut warnings) = read_panel(fw, data)?;
    let results = evaluate_keeping(fw, panel, keep)?;
    warnings.extend(results.warnings());
    Ok((results, warnings))
}
