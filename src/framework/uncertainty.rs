//! The `[uncertainty]` table: the inputs of a robustness analysis (see [`crate::robustness`]).
//! Every key is optional but at least one input must be declared:
//!
//! ```toml
//! [uncertainty]
//! runs = 1000          # runs of an uncertainty analysis (default 1000)
//! seed = 1             # seed of the draws and the bootstrap (default 1)
//! sampling = "sobol"   # "sobol" (quasi-random, the default) or "uniform" (pseudo-random)
//! bootstrap = 100      # bootstrap resamples of the sensitivity indices (default 100)
//!
//! # Weight noise: each listed weight w becomes w·(1 + U(−1, 1)·noise) in every run (COINr's
//! # get_noisy_weights). `level` counts from the index: 1 = its children, 2 = theirs, …
//! weights = [{ level = 1, noise = 0.25 }, { nodes = ["hotline"], noise = 0.1 }]
//!
//! # Discrete alternatives: each run takes one of them, each equally likely.
//! normalize = ["minmax", { method = "zscore", mean = 10, sd = 2 }]
//! aggregate = ["arithmetic", "geometric"]
//! impute = ["none", "median"]
//! treat = ["none", "winsorise"]
//! set = { "treat.winmax" = [1, 2, 3, 4, 5] }
//! exclude = ["petitions", "hotline_calls"]  # each run drops one of these, or none
//! ```
//!
//! Each key is one *input* of the analysis (all weight noise together is the input `weights`;
//! each `set` parameter is its own input `set:KIND.PARAM`); the sensitivity analysis measures
//! how much of the ranking's variance each input explains.

use std::ops::Range;

use super::overrides::{MethodKind, SetParam};

/// How the random draws of an analysis are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sampling {
    /// A Sobol low-discrepancy sequence, randomly shifted by the seed: the runs cover the
    /// space of choices evenly, so estimates settle with fewer runs.
    #[default]
    Sobol,
    /// Independent pseudo-random draws (ChaCha, one stream per run).
    Uniform,
}

impl Sampling {
    /// The name as written (`sobol`, `uniform`).
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Sobol => "sobol",
            Sampling::Uniform => "uniform",
        }
    }
}

/// Noise on one node's weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoisyWeight {
    /// The node (never the index).
    pub node: usize,
    /// Relative half-width: the weight is drawn uniformly from `w·(1 ± noise)`.
    pub noise: f64,
}

/// What an input varies.
#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    /// Weights of these nodes, each drawn independently (one uniform draw per node).
    Weights(Vec<NoisyWeight>),
    /// One of these whole methods of a kind, each written as the command line accepts it
    /// (`"geometric"`, `{ method = "zscore", mean = 10, sd = 2 }`).
    Method {
        /// The method kind.
        kind: MethodKind,
        /// The alternatives, as written.
        alternatives: Vec<String>,
    },
    /// One of these values of a method parameter, each as `--set` accepts it.
    Set {
        /// The kind and parameter; its `value` is unused.
        param: SetParam,
        /// The values, as written.
        values: Vec<String>,
    },
    /// Nothing, or one of these indicators, taken out of the framework.
    Exclude(Vec<String>),
}

/// One uncertain input.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// What it varies.
    pub kind: InputKind,
    /// Span of its key in the framework file.
    pub span: Range<usize>,
}

impl Input {
    /// The input's name: `weights`, `normalize`, `set:treat.winmax`, `exclude`. It is also the
    /// name of its column in a run table (one `weight:<id>` column per node for `weights`) and
    /// of its block (`AB:<name>`) in a Saltelli design.
    pub fn name(&self) -> String {
        match &self.kind {
            InputKind::Weights(_) => "weights".to_string(),
            InputKind::Method { kind, .. } => kind.name().to_string(),
            InputKind::Set { param, .. } => format!("set:{}", param.name()),
            InputKind::Exclude(_) => "exclude".to_string(),
        }
    }

    /// How many uniform draws a run takes for this input: one per noisy weight, else one.
    pub fn dims(&self) -> usize {
        match &self.kind {
            InputKind::Weights(w) => w.len(),
            _ => 1,
        }
    }

    /// How many discrete alternatives the input chooses among (`None` for weights, which are
    /// continuous). An exclusion chooses among "none" and each listed indicator.
    pub fn choices(&self) -> Option<usize> {
        match &self.kind {
            InputKind::Weights(_) => None,
            InputKind::Method { alternatives, .. } => Some(alternatives.len()),
            InputKind::Set { values, .. } => Some(values.len()),
            InputKind::Exclude(ids) => Some(ids.len() + 1),
        }
    }
}

/// Default number of runs of an uncertainty analysis.
pub const DEFAULT_RUNS: usize = 1000;
/// Default seed.
pub const DEFAULT_SEED: u64 = 1;
/// Default number of bootstrap resamples of the sensitivity indices.
pub const DEFAULT_BOOTSTRAP: usize = 100;

/// The declared uncertain inputs and how to run them (`[uncertainty]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertainty {
    /// The inputs, in the order written.
    pub inputs: Vec<Input>,
    /// Runs of an uncertainty analysis (a Saltelli design's N is derived from it).
    pub runs: usize,
    /// Seed of the draws and of the bootstrap.
    pub seed: u64,
    /// How the draws are made.
    pub sampling: Sampling,
    /// Bootstrap resamples of the sensitivity indices.
    pub bootstrap: usize,
    /// Span of the `[uncertainty]` table.
    pub span: Range<usize>,
}

impl Default for Uncertainty {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            runs: DEFAULT_RUNS,
            seed: DEFAULT_SEED,
            sampling: Sampling::Sobol,
            bootstrap: DEFAULT_BOOTSTRAP,
            span: 0..0,
        }
    }
}

impl Uncertainty {
    /// Uniform draws a run takes: the sum of the inputs' [`Input::dims`].
    pub fn dims(&self) -> usize {
        self.inputs.iter().map(Input::dims).sum()
    }
}
