//! Imputation of the missing values (`NaN`) of one indicator column.
//!
//! - `Mean` / `Median`: every missing cell gets the mean / median of the observed values of
//!   the column (COINr `i_mean`, `i_median`).
//! - `GroupMean` / `GroupMedian`: every missing cell gets the mean / median of the observed
//!   values of the units in the same group (COINr `i_mean_grp`, `i_median_grp`), where
//!   `groups[i]` is the group id of row `i`.
//!
//! - `Chain`: the cross-section steps in order, each filling what the previous left, from the
//!   observed values; panel steps (`carry_forward`, `interpolate`, …) fill nothing here, they
//!   are computed over the whole panel by [`mod@super::panel_impute`].
//!
//! Observed values never change. A cell whose column (or group) has no observed value stays
//! missing. The returned count is the number of cells actually filled.

use std::collections::BTreeMap;

use ndarray::ArrayViewMut1;

use super::StageError;
use super::methods::Impute;
use crate::stats;

/// Fills the missing values of `col` in place and returns how many cells were filled.
///
/// # Errors
/// [`StageError::GroupsRequired`] for a group method without `groups`;
/// [`StageError::GroupsLength`] when `groups` does not have one entry per row.
pub fn impute(
    mut col: ArrayViewMut1<f64>,
    method: &Impute,
    groups: Option<&[usize]>,
) -> Result<usize, StageError> {
    let centre: fn(&[f64]) -> Option<f64> = match method {
        // Panel methods take values from other periods: see `panel_impute`.
        Impute::None
        | Impute::CarryForward { .. }
        | Impute::CarryBackward { .. }
        | Impute::Interpolate { .. } => return Ok(0),
        Impute::Chain(steps) => return chain(col, steps, groups),
        Impute::Mean | Impute::GroupMean => |v| stats::mean(v),
        Impute::Median | Impute::GroupMedian => |v| stats::median(v),
    };
    let grouped = matches!(method, Impute::GroupMean | Impute::GroupMedian);
    let groups = match (grouped, groups) {
        (false, _) => None,
        (true, None) => return Err(StageError::GroupsRequired),
        (true, Some(g)) if g.len() != col.len() => {
            return Err(StageError::GroupsLength {
                expected: col.len(),
                found: g.len(),
            });
        }
        (true, Some(g)) => Some(g),
    };
    if !col.iter().any(|v| v.is_nan()) {
        return Ok(0);
    }

    let Some(groups) = groups else {
        // One group: the column's observed values, in order.
        let observed: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
        let Some(c) = centre(&observed) else {
            return Ok(0);
        };
        let mut filled = 0;
        for v in col.iter_mut().filter(|v| v.is_nan()) {
            *v = c;
            filled += 1;
        }
        return Ok(filled);
    };
    // Observed values per group.
    let group_of = |i: usize| groups[i];
    let mut observed: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (i, v) in col.iter().enumerate() {
        let entry = observed.entry(group_of(i)).or_default();
        if !v.is_nan() {
            entry.push(*v);
        }
    }
    let fill: BTreeMap<usize, f64> = observed
        .iter()
        .filter_map(|(g, v)| centre(v).map(|c| (*g, c)))
        .collect();

    let mut filled = 0;
    for (i, v) in col.iter_mut().enumerate() {
        if v.is_nan()
            && let Some(c) = fill.get(&group_of(i))
        {
            *v = *c;
            filled += 1;
        }
    }
    Ok(filled)
}

/// The cross-section steps of a chain, in order: each fills the cells the previous ones left,
/// from the **observed** values of the column (never from values an earlier step imputed).
fn chain(
    mut col: ArrayViewMut1<f64>,
    steps: &[Impute],
    groups: Option<&[usize]>,
) -> Result<usize, StageError> {
    let observed = col.to_owned();
    let mut filled = 0;
    for step in steps {
        let mut fills = observed.clone();
        impute(fills.view_mut(), step, groups)?;
        for (v, f) in col.iter_mut().zip(&fills) {
            if v.is_nan() && !f.is_nan() {
                *v = *f;
                filled += 1;
            }
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    const NA: f64 = f64::NAN;

    fn run(x: &[f64], m: &Impute, g: Option<&[usize]>) -> (Vec<f64>, Result<usize, StageError>) {
        let mut a = Array1::from(x.to_vec());
        let r = impute(a.view_mut(), m, g);
        (a.to_vec(), r)
    }

    #[test]
    fn column_mean_and_median() {
        // observed 1, 2, 6: mean 9/3 = 3, median 2
        let (v, r) = run(&[1.0, NA, 2.0, 6.0, NA], &Impute::Mean, None);
        assert_eq!(r, Ok(2));
        assert_eq!(v, vec![1.0, 3.0, 2.0, 6.0, 3.0]);
        let (v, r) = run(&[1.0, NA, 2.0, 6.0], &Impute::Median, None);
        assert_eq!(r, Ok(1));
        assert_eq!(v, vec![1.0, 2.0, 2.0, 6.0]);
        let (v, r) = run(&[1.0, NA], &Impute::None, None);
        assert_eq!(r, Ok(0));
        assert!(v[1].is_nan());
    }

    #[test]
    fn group_mean_and_median() {
        // group 0: observed 1, 3 -> mean 2; group 7: observed 10, 20, 60 -> mean 30, median 20
        let x = [1.0, NA, 3.0, 10.0, 20.0, NA, 60.0];
        let g = [0, 0, 0, 7, 7, 7, 7];
        let (v, r) = run(&x, &Impute::GroupMean, Some(&g));
        assert_eq!(r, Ok(2));
        assert_eq!(v, vec![1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 60.0]);
        let (v, _) = run(&x, &Impute::GroupMedian, Some(&g));
        assert_eq!(v[5], 20.0);
        assert_eq!(v[1], 2.0);
    }

    #[test]
    fn group_without_observations_stays_missing() {
        // group 1 has nothing observed
        let (v, r) = run(&[1.0, NA, NA], &Impute::GroupMean, Some(&[0, 1, 1]));
        assert_eq!(r, Ok(0));
        assert!(v[1].is_nan() && v[2].is_nan());
        // whole column missing
        let (v, r) = run(&[NA, NA], &Impute::Mean, None);
        assert_eq!(r, Ok(0));
        assert!(v[0].is_nan());
    }

    #[test]
    fn a_chain_fills_from_observed_values_only() {
        // group 0: observed 1, 3 → mean 2; group 1: nothing observed → column median of the
        // observed 1, 3, 10 = 3 (not of 1, 2, 3, 10 with the group mean's 2)
        let x = [1.0, NA, 3.0, NA, 10.0, NA];
        let g = [0, 0, 0, 1, 2, 1];
        let chain = Impute::Chain(vec![Impute::GroupMean, Impute::Median]);
        let (v, r) = run(&x, &chain, Some(&g));
        assert_eq!(r, Ok(3));
        assert_eq!(v, vec![1.0, 2.0, 3.0, 3.0, 10.0, 3.0]);
        // panel steps fill nothing here
        let panel = Impute::Chain(vec![
            Impute::CarryForward {
                max_periods: None,
                ends: crate::pipeline::Ends::None,
            },
            Impute::Mean,
        ]);
        let (v, r) = run(&[1.0, NA, 3.0], &panel, None);
        assert_eq!(r, Ok(1));
        assert_eq!(v, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn group_errors() {
        let mut a = array![1.0, NA];
        assert_eq!(
            impute(a.view_mut(), &Impute::GroupMean, None),
            Err(StageError::GroupsRequired)
        );
        assert_eq!(
            impute(a.view_mut(), &Impute::GroupMedian, Some(&[0])),
            Err(StageError::GroupsLength {
                expected: 2,
                found: 1
            })
        );
    }
}
