//! The statistical stages of kapok, as pure functions over `ndarray` matrices and columns.
//!
//! ```text
//! screen → impute → treat → normalise → aggregate → rank
//! ```
//!
//! Conventions shared by every stage:
//! - Rows are units, columns are indicators (or, for aggregation, a node's children).
//! - A missing value is `NaN` ("missing"); stages never turn a present value into `NaN`
//!   except where documented (aggregating a row with too few present children).
//! - Stages do no I/O, use no randomness and do not panic on finite or `NaN` input.
//! - Errors ([`StageError`]) carry row / column *indices* only; the caller maps them to unit,
//!   indicator, node and period names.
//! - Method parameters ([`methods`]) are validated when the framework is loaded; stages
//!   detect degenerate *data* (zero range, non-positive values, ...).

pub mod aggregate;
pub mod bod;
pub mod impute;
pub mod methods;
pub mod normalise;
pub mod panel_impute;
pub mod rank;
pub mod screen;
pub mod treat;

pub use aggregate::aggregate;
pub use impute::impute;
pub use methods::{Aggregate, Direction, Ends, Impute, Normalise, Penalty, ScreenMethod, Treat};
pub use normalise::normalise;
pub use rank::{rank_desc, rank_desc_into, rank_desc_within, rank_rows_into};
pub use screen::{ScreenOutcome, screen};
pub use treat::{TreatFlag, TreatOutcome, TreatReport, treat};

/// A problem with the data that prevents a stage from producing a result.
///
/// Indices are 0-based positions in the matrix or column handed to the stage.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StageError {
    /// Not enough present values for the method.
    #[error("needs at least {needed} present value(s) but only {found} are present")]
    TooFewValues {
        /// Minimum number of present values required.
        needed: usize,
        /// Number of present values found.
        found: usize,
    },
    /// Every present value is the same, so a range-based normalisation divides by zero.
    #[error(
        "every unit has the same value, so the range is zero and the values cannot be rescaled"
    )]
    ZeroRange,
    /// Every present value is the same, so z-scores divide by zero.
    #[error("every unit has the same value (standard deviation 0), so z-scores are undefined")]
    ZeroSd,
    /// The scaling bounds of `scaled` normalisation are equal.
    #[error("the scaling bounds a and b are equal ({value}), so the values cannot be rescaled")]
    ZeroScale {
        /// The common value of `a` and `b`.
        value: f64,
    },
    /// The goalposts are equal.
    #[error("the lower and upper goalposts are equal ({value}), so the values cannot be rescaled")]
    EqualGoalposts {
        /// The common value of the goalposts.
        value: f64,
    },
    /// The reference unit of `dist2ref` is missing (or out of range).
    #[error("the reference unit (row {row}) has no value for this indicator")]
    MissingReference {
        /// Row of the reference unit.
        row: usize,
    },
    /// The reference unit of `dist2ref` has the worst value, so distances divide by zero.
    #[error(
        "the reference unit (row {row}) has the worst value of all units, so distances to it are undefined"
    )]
    ReferenceAtMinimum {
        /// Row of the reference unit.
        row: usize,
    },
    /// The target of `dist2targ` is not better than the worst value.
    #[error(
        "the target must be better than the worst observed value; distances to it are undefined"
    )]
    DegenerateTarget,
    /// Fraction-of-max normalisation of a higher-is-better indicator met a negative value.
    #[error(
        "fraction-of-maximum normalisation needs non-negative values, but row {row} is {value}"
    )]
    NegativeValue {
        /// Row of the offending unit.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// Fraction-of-max normalisation of a lower-is-better indicator met a value ≤ 0.
    #[error(
        "fraction-of-best normalisation of a lower-is-better indicator needs positive values, but row {row} is {value}"
    )]
    NonPositiveValue {
        /// Row of the offending unit.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// The log treatment met a value ≤ 0.
    #[error(
        "the log treatment needs values > 0, but row {row} is {value} (use treat = \"log_ct\", which shifts the values, or guard the expression)"
    )]
    LogOfNonPositive {
        /// Row of the offending unit.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A geometric mean met a child value ≤ 0.
    #[error("the geometric mean needs positive values, but row {row}, child {col} is {value}")]
    NonPositive {
        /// Row (unit).
        row: usize,
        /// Column (child).
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// A harmonic mean met a child value of zero.
    #[error("the harmonic mean cannot use a value of 0 (row {row}, child {col})")]
    ZeroValue {
        /// Row (unit).
        row: usize,
        /// Column (child).
        col: usize,
    },
    /// Benefit of the doubt met a child value below 0.
    #[error("benefit of the doubt needs values ≥ 0, but row {row}, child {col} is {value}")]
    NegativeChild {
        /// Row (unit).
        row: usize,
        /// Column (child).
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// The share bounds of benefit of the doubt cannot be met by shares adding up to 1.
    #[error(
        "every one of the {children} children must take between {lower} and {upper} of a unit's score, but the shares add up to 1: needs lower × {children} ≤ 1 ≤ upper × {children}"
    )]
    BodBounds {
        /// Children with a weight above 0.
        children: usize,
        /// Least share of each child.
        lower: f64,
        /// Largest share of each child.
        upper: f64,
    },
    /// A child column is constant, so the Mazziotta–Pareto standardisation divides by zero.
    #[error("child {col} has the same value for every unit, so it cannot be standardised")]
    ConstantChild {
        /// Column (child).
        col: usize,
    },
    /// A node formula is undefined for a unit whose inputs are all present (`1 / 0`,
    /// `ln(0)`, `sqrt(-1)`).
    #[error("the formula `{formula}` is not a finite number ({value}) with {inputs}")]
    FormulaUndefined {
        /// Row (unit).
        row: usize,
        /// The formula as written.
        formula: String,
        /// What it gave (infinite or NaN).
        value: f64,
        /// The children's values, as `child `0` = 1, child `1` = 0`.
        inputs: String,
    },
    /// An aggregate came out infinite or not a number.
    #[error("the aggregated score of row {row} is not a finite number")]
    NonFinite {
        /// Row (unit).
        row: usize,
    },
    /// A group imputation method was used without group memberships.
    #[error("this imputation method imputes within groups, but no groups were given")]
    GroupsRequired,
    /// The group memberships do not cover the rows.
    #[error("{found} group memberships were given for {expected} units")]
    GroupsLength {
        /// Number of rows.
        expected: usize,
        /// Number of group memberships given.
        found: usize,
    },
    /// The weights do not match the children.
    #[error("{found} weights were given for {expected} children")]
    WeightsLength {
        /// Number of children (columns).
        expected: usize,
        /// Number of weights given.
        found: usize,
    },
}
