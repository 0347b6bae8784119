//! Robustness: how much a rank means. An *uncertainty analysis* re-runs the index many times
//! with uncertain choices (weights, methods, parameters, excluded indicators) drawn at random
//! and reports each unit's rank interval; a *sensitivity analysis* (a Saltelli design, with
//! variance-based Sobol indices) says which choice moves the ranking most. COINr's
//! `get_sensitivity` is the reference (see `METHODS.md` in the repository).
//!
//! The pieces:
//! - what may vary is declared in `[uncertainty]` ([`crate::framework::uncertainty`]);
//! - [`design`] turns the declaration into runs (uniform or quasi-random draws, plain or a
//!   Saltelli design);
//! - every run is a [`RunSpec`]: the [`Overrides`] it applies to the nominal framework; a list
//!   of them is the *run table* ([`table`]), written by every analysis and read by `--replay`;
//! - [`analyse`] evaluates the runs and summarises them ([`stats`]).

pub mod design;
mod engine;
pub mod stats;
pub mod table;

use ndarray::{Array2, Array3};

use crate::framework::overrides::Overrides;
use crate::framework::uncertainty::Sampling;

pub use engine::{Options, analyse};

/// The block of a run in a Saltelli design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A row of the first sample matrix.
    A,
    /// A row of the second sample matrix.
    B,
    /// A row of A with the input named here taken from B.
    AB(String),
}

impl Block {
    /// `A`, `B`, `AB:<input>`, as written in a run table.
    pub fn text(&self) -> String {
        match self {
            Block::A => "A".to_string(),
            Block::B => "B".to_string(),
            Block::AB(input) => format!("AB:{input}"),
        }
    }

    /// Reads [`Block::text`].
    pub fn parse(text: &str) -> Option<Block> {
        match text.trim() {
            "A" => Some(Block::A),
            "B" => Some(Block::B),
            t => t
                .strip_prefix("AB:")
                .filter(|i| !i.trim().is_empty())
                .map(|i| Block::AB(i.trim().to_string())),
        }
    }
}

/// One run of an analysis: what it applies to the nominal framework.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSpec {
    /// Run number, from 1.
    pub run: usize,
    /// Its block in a Saltelli design.
    pub block: Option<Block>,
    /// What the run changes; empty = the nominal framework.
    pub overrides: Overrides,
}

/// The runs of an analysis and how they were made.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The runs, in order.
    pub runs: Vec<RunSpec>,
    /// Names of the inputs, in order (see [`crate::framework::uncertainty::Input::name`]); a
    /// Saltelli design has a block `AB:<name>` for each.
    pub inputs: Vec<String>,
    /// The base sample size N of a Saltelli design (`None`: plain runs).
    pub saltelli: Option<usize>,
    /// How the draws were made (`None`: replayed from a run table).
    pub sampling: Option<Sampling>,
    /// Seed of the draws and of the bootstrap.
    pub seed: u64,
    /// Bootstrap resamples of the sensitivity indices.
    pub bootstrap: usize,
}

/// A run that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Run number.
    pub run: usize,
    /// Why.
    pub message: String,
}

/// Rank statistics of one unit over the runs (rank 1 = best).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankStats {
    /// Rank under the nominal framework (0 = none).
    pub nominal: u32,
    /// Mean rank.
    pub mean: f64,
    /// Median rank (R's quantile type 7).
    pub median: f64,
    /// 5 % quantile.
    pub q5: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// Best rank reached.
    pub min: u32,
    /// Worst rank reached.
    pub max: u32,
    /// Runs in which the unit had a rank.
    pub runs: usize,
}

/// Sensitivity indices of one input, with bootstrap quantiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The input's name.
    pub input: String,
    /// First-order index (Saltelli 2010).
    pub si: f64,
    /// Its 5 % bootstrap quantile.
    pub si_q5: f64,
    /// Its 95 % bootstrap quantile.
    pub si_q95: f64,
    /// Total-order index (Jansen 1999).
    pub sti: f64,
    /// Its 5 % bootstrap quantile.
    pub sti_q5: f64,
    /// Its 95 % bootstrap quantile.
    pub sti_q95: f64,
}

/// The outcome of an analysis for one period.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The plan that was run.
    pub plan: Plan,
    /// The period analysed (its text; empty for cross-sectional data).
    pub period: String,
    /// The panel's unit keys (columns of `scores` and `ranks`).
    pub units: Vec<String>,
    /// The nodes recorded (the index first), as node indices of the framework.
    pub nodes: Vec<usize>,
    /// `scores[[run, unit, k]]` of node `nodes[k]`; NaN = no score (or the run failed).
    pub scores: Array3<f64>,
    /// `ranks[[run, unit, k]]`; 0 = no rank.
    pub ranks: Array3<u32>,
    /// Nominal index scores per unit.
    pub nominal_scores: Vec<f64>,
    /// Nominal index ranks per unit (0 = none).
    pub nominal_ranks: Vec<u32>,
    /// Runs that failed.
    pub failed: Vec<Failure>,
    /// Index rank statistics per unit (only units ranked nominally or in some run).
    pub rank_stats: Vec<Option<RankStats>>,
    /// Sensitivity indices per input (Saltelli designs only).
    pub sensitivity: Option<Vec<Sensitivity>>,
    /// The output of each run for the sensitivity analysis: the mean absolute shift of the
    /// units' index ranks from the nominal ranking (NaN for a failed run).
    pub shifts: Vec<f64>,
}

impl Analysis {
    /// Index ranks of every run (`[run, unit]`).
    pub fn index_ranks(&self) -> Array2<u32> {
        self.ranks.index_axis(ndarray::Axis(2), 0).to_owned()
    }
}
