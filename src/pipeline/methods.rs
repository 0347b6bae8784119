//! The closed sets of methods each stage offers, with their parameters.
//!
//! Parameters are assumed to have been validated when the framework was loaded (finite numbers,
//! thresholds in `[0, 1]`, ...). The stages still guard against degenerate *data* (zero range,
//! zero standard deviation, ...) and report it as a [`StageError`](super::StageError).

/// Whether a higher or a lower value of an indicator is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Higher values are better (COINr direction `1`).
    Higher,
    /// Lower values are better (COINr direction `-1`).
    Lower,
}

impl Direction {
    /// `+1.0` for [`Direction::Higher`], `-1.0` for [`Direction::Lower`].
    pub fn sign(self) -> f64 {
        match self {
            Direction::Higher => 1.0,
            Direction::Lower => -1.0,
        }
    }
}

/// How units (rows) are screened out before the rest of the pipeline.
///
/// Availability = share of a unit's indicators that are present; non-zero share = share of
/// its *present* values that are not zero (COINr `get_data_avail`). A unit is kept when its
/// share is **at least** the threshold (COINr flags `share < threshold`).
#[derive(Clone, Debug, PartialEq)]
pub enum ScreenMethod {
    /// Keep every unit (only forced exclusions apply).
    None,
    /// Keep units whose availability is at least `min_availability` (COINr `byNA`, `dat_thresh`).
    ByNa {
        /// Minimum share of present indicators, in `[0, 1]`.
        min_availability: f64,
    },
    /// Keep units whose non-zero share is at least `min_nonzero` (COINr `byzeros`,
    /// `nonzero_thresh`, default 0.05).
    ByZeros {
        /// Minimum share of non-zero values among the present ones, in `[0, 1]`.
        min_nonzero: f64,
    },
    /// Keep units meeting both thresholds (COINr `byNAandzeros`).
    Both {
        /// Minimum share of present indicators, in `[0, 1]`.
        min_availability: f64,
        /// Minimum share of non-zero values among the present ones, in `[0, 1]`.
        min_nonzero: f64,
    },
}

/// How missing values of one indicator are filled in.
#[derive(Clone, Debug, PartialEq)]
pub enum Impute {
    /// Leave missing values missing.
    None,
    /// Column mean of the observed values (COINr `i_mean`).
    Mean,
    /// Column median of the observed values (COINr `i_median`).
    Median,
    /// Mean of the observed values in the unit's group (COINr `i_mean_grp`).
    GroupMean,
    /// Median of the observed values in the unit's group (COINr `i_median_grp`).
    GroupMedian,
    /// The unit's latest earlier observed value, at most `max_periods` calendar periods back
    /// (COINr `impute_panel(imp_type = "latest", max_time)`; with [`Ends::Nearest`] COINr
    /// `"constant"`). See [`mod@super::panel_impute`].
    CarryForward {
        /// How many calendar periods back a donor may be (`None`: any).
        max_periods: Option<u32>,
        /// Whether leading gaps (before the unit's first observation) are filled too.
        ends: Ends,
    },
    /// The unit's next later observed value, at most `max_periods` calendar periods ahead.
    CarryBackward {
        /// How many calendar periods ahead a donor may be (`None`: any).
        max_periods: Option<u32>,
    },
    /// Linear in calendar time between the unit's nearest observed values before and after
    /// (with [`Ends::Nearest`] COINr `impute_panel(imp_type = "linear")`).
    Interpolate {
        /// Whether gaps before the first or after the last observation are filled too.
        ends: Ends,
    },
    /// Each step fills what the previous steps left missing (steps are never chains).
    Chain(Vec<Impute>),
}

/// What a panel imputation does with gaps at the ends of a unit's series, where a value has a
/// neighbour on one side only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ends {
    /// Leave them missing (kapok's default: nothing is invented outside the observed range,
    /// except by carrying forward).
    #[default]
    None,
    /// Fill them with the nearest observation (COINr's `constant` and `linear`, `rule = 2` of
    /// R's `approx`).
    Nearest,
}

impl Impute {
    /// The steps of the method: those of a chain, else the method itself.
    pub fn steps(&self) -> &[Impute] {
        match self {
            Impute::Chain(steps) => steps,
            other => std::slice::from_ref(other),
        }
    }

    /// True for a method that takes values from other periods of the same unit.
    pub fn is_panel(&self) -> bool {
        matches!(
            self,
            Impute::CarryForward { .. } | Impute::CarryBackward { .. } | Impute::Interpolate { .. }
        )
    }

    /// True when some step takes values from other periods (needs calendar periods).
    pub fn needs_periods(&self) -> bool {
        self.steps().iter().any(Impute::is_panel)
    }

    /// True when some step imputes within groups (needs a group column).
    pub fn needs_groups(&self) -> bool {
        self.steps()
            .iter()
            .any(|m| matches!(m, Impute::GroupMean | Impute::GroupMedian))
    }

    /// The method's name as written in a framework (`carry_forward`, `group_median`, …);
    /// `chain` for a chain.
    pub fn name(&self) -> &'static str {
        match self {
            Impute::None => "none",
            Impute::Mean => "mean",
            Impute::Median => "median",
            Impute::GroupMean => "group_mean",
            Impute::GroupMedian => "group_median",
            Impute::CarryForward { .. } => "carry_forward",
            Impute::CarryBackward { .. } => "carry_backward",
            Impute::Interpolate { .. } => "interpolate",
            Impute::Chain(_) => "chain",
        }
    }
}

/// Outlier treatment of one indicator.
#[derive(Clone, Debug, PartialEq)]
pub enum Treat {
    /// No treatment.
    None,
    /// COINr's default two-stage treatment: winsorise up to `winmax` points until
    /// `|skew| < skew` or `kurt < kurt`; if that fails and `log_fallback` is set, discard the
    /// winsorisation and log-transform the original values instead (see [`mod@super::treat`]).
    Winsorise {
        /// Maximum number of points to winsorise (ties may overshoot it). COINr default 5.
        winmax: usize,
        /// Absolute skewness threshold. COINr default 2.
        skew: f64,
        /// Excess kurtosis threshold. COINr default 3.5.
        kurt: f64,
        /// Apply COINr's `log_CT` transform when winsorisation fails. COINr default `true`.
        log_fallback: bool,
    },
    /// Natural log of every value, unconditionally; values must be positive.
    Log,
    /// COINr's `log_CT`, unconditionally: `ln(x − min + 0.01·(max − min))`, defined for any
    /// values with a non-zero range.
    LogCt,
}

impl Treat {
    /// COINr's default treatment: winsorise up to 5 points, thresholds skew 2 and kurtosis 3.5,
    /// with the log fallback.
    pub fn coinr_default() -> Self {
        Treat::Winsorise {
            winmax: 5,
            skew: 2.0,
            kurt: 3.5,
            log_fallback: true,
        }
    }
}

/// Normalisation of one indicator. Unless stated otherwise `x` has already been multiplied
/// by the direction sign, so every result is "higher is better". Formulas are in
/// [`mod@super::normalise`].
#[derive(Clone, Debug, PartialEq)]
pub enum Normalise {
    /// Identity (after the direction sign).
    None,
    /// `(x − min)/(max − min) · (hi − lo) + lo` (COINr default `[0, 100]`).
    MinMax {
        /// Value given to the worst unit.
        lo: f64,
        /// Value given to the best unit.
        hi: f64,
    },
    /// `(x − mean(x))/sd(x) · sd + mean`, with the sample sd (`n − 1`).
    ZScore {
        /// Target mean (COINr default 0).
        mean: f64,
        /// Target standard deviation (COINr default 1).
        sd: f64,
    },
    /// `(x − a)/(b − a) · factor`.
    Scaled {
        /// Value mapped to 0.
        a: f64,
        /// Value mapped to `factor`.
        b: f64,
        /// Scale factor.
        factor: f64,
    },
    /// Rank, ties get the minimum rank, the best unit gets rank `n`.
    Rank,
    /// Borda score `rank − 1`.
    Borda,
    /// Percentile rank `(rank − 1)/(n − 1)`.
    PercentRank,
    /// UNDP-style goalposts in the indicator's own units (no direction sign applied first):
    /// higher is better `(x − min)/(max − min)`, lower is better `(x − max)/(min − max)`;
    /// clipped to `[0, 1]` when `cap`; times `scale`.
    Goalposts {
        /// Lower goalpost, in the indicator's units.
        min: f64,
        /// Upper goalpost, in the indicator's units.
        max: f64,
        /// Multiplier of the result (e.g. 1 or 100).
        scale: f64,
        /// Clip to `[0, 1]` before scaling.
        cap: bool,
    },
    /// `1 − (max − x)/(max − min)`.
    Dist2Max,
    /// `1 − (x_ref − x)/(x_ref − min)`, where `x_ref` is the value of unit `row`.
    Dist2Ref {
        /// Row index of the reference unit.
        row: usize,
    },
    /// Distance to a target in the indicator's own units: higher is better
    /// `(x − min)/(target − min)`, lower is better `(max − x)/(max − target)`; capped at 1
    /// when `cap`.
    Dist2Targ {
        /// Target value, in the indicator's units.
        target: f64,
        /// Cap results at 1 (units beyond the target).
        cap: bool,
    },
    /// Fraction of the best value, in the indicator's own units: higher is better `x / max`
    /// (values must be ≥ 0), lower is better `min / x` (values must be > 0).
    FracMax,
}

/// Sign of the Mazziotta–Pareto penalty term `S · cv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Penalty {
    /// `M − S·cv` (MPI⁻): unbalanced profiles are penalised. Use when higher composite values
    /// are better (the usual case; Compind's `ci_mpi(penalty = "POS")`).
    Negative,
    /// `M + S·cv` (MPI⁺): for composites where higher values are worse (e.g. deprivation;
    /// Compind's `ci_mpi(penalty = "NEG")`).
    Positive,
}

impl Penalty {
    /// `−1.0` for [`Penalty::Negative`], `+1.0` for [`Penalty::Positive`].
    pub fn sign(self) -> f64 {
        match self {
            Penalty::Negative => -1.0,
            Penalty::Positive => 1.0,
        }
    }
}

/// Aggregation of a node's children (columns) into one score per unit (row). Formulas are in
/// [`mod@super::aggregate`].
#[derive(Clone, Debug, PartialEq)]
pub enum Aggregate {
    /// Weighted arithmetic mean `Σ w x`.
    Arithmetic,
    /// Weighted geometric mean `exp(Σ w ln x)`; children must be positive.
    Geometric,
    /// Weighted harmonic mean `1 / Σ (w / x)`; children must be non-zero.
    Harmonic,
    /// Weighted power mean `(Σ w x^p)^(1/p)` (`p = 0` is the geometric mean).
    Generalised {
        /// The exponent.
        p: f64,
    },
    /// Copeland score from the weighted pairwise outranking of units.
    Copeland,
    /// Mazziotta–Pareto index on z-scores rescaled to `100 ± 10`.
    Mpi {
        /// Sign of the penalty term.
        penalty: Penalty,
    },
    /// Adjusted Mazziotta–Pareto index on min-max scores rescaled to `[70, 130]`.
    Ampi {
        /// Sign of the penalty term.
        penalty: Penalty,
    },
    /// A formula over the children's scores (`formula = "hdi_f / hdi_m"`), its names being
    /// the children in order; weights and `min_share` do not apply.
    Formula(crate::framework::formula::Formula),
    /// Benefit of the doubt: each unit's score under the weights most favourable to it, found
    /// by linear programming (Compind `ci_bod`, `ci_bod_constr`); see [`mod@super::bod`].
    Bod {
        /// Least share of each child in a unit's score (0: no bound).
        lower: f64,
        /// Largest share of each child in a unit's score (1: no bound).
        upper: f64,
    },
}

impl Aggregate {
    /// Whether the children's weights enter the score: not for a formula, nor for the benefit
    /// of the doubt, which chooses each unit's own weights.
    pub fn uses_weights(&self) -> bool {
        !matches!(self, Aggregate::Formula(_) | Aggregate::Bod { .. })
    }
}
