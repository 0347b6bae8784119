//! The statistical core: pure functions over slices and matrices.
//!
//! # Missing values
//! Throughout kapok's statistical core a missing value is represented by `NaN` ("missing").
//! Infinities are not treated as missing (the pipeline stages never produce them). Each file
//! states how its functions skip missing values:
//! - [`descriptive`]: every statistic over the present values of one variable;
//! - [`correlation`]: pairwise-complete correlations; covariance and Cronbach's alpha over
//!   complete rows;
//! - [`pca`]: principal components of the correlation matrix of complete rows.
//!
//! Functions return `None` when a statistic is undefined (too few values, zero spread) rather
//! than `NaN`.

pub mod correlation;
pub mod descriptive;
pub mod pca;

pub use correlation::{complete_rows, covariance, cronbach_alpha, pearson, ranks, spearman};
pub use descriptive::{kurt, mean, median, min_max, sd, skew, skew_kurt, unique_share, zero_share};
pub use pca::{Pca, first_component};
