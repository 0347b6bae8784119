//! Outlier treatment of one indicator column: COINr's default `Treat` algorithm.
//!
//! With thresholds `skew_t`, `kurt_t` (COINr 2 and 3.5), skewness and excess kurtosis as in
//! [`crate::stats`] (type 2), computed over present values:
//!
//! 1. **Check.** The column passes if `|skew| < skew_t` **or** `kurt < kurt_t`. A passing
//!    column is left untouched ([`TreatOutcome::Passed`]).
//! 2. **Winsorise** (COINr `winsorise`). While the column fails and `nwin < winmax` (checked
//!    *before* each step, so a tie group can overshoot `winmax`): if the current skew is
//!    `≥ 0`, every point equal to the current maximum is set to the largest remaining value;
//!    otherwise every point equal to the minimum is set to the smallest remaining value.
//!    `nwin` is then the number of points currently capped (COINr: `length(imax) +
//!    length(imin)`, where the latest tie group at each end includes every point capped
//!    earlier at that end). Re-check after every step.
//! 3. **Log fallback** (COINr `log_CT`). If the column still fails once `nwin ≥ winmax`, the
//!    winsorisation is discarded and the *original* present values become
//!    `ln(x − min + 0.01·(max − min))`; the result is not re-checked
//!    ([`TreatOutcome::Log`]). Without the fallback (COINr `f2 = NULL`) the winsorised
//!    values are kept even though they fail ([`TreatOutcome::Winsorised`]; compare
//!    `skew_after`/`kurt_after` with the thresholds).
//!
//! Undefined statistics (fewer than 4 present values, or no spread) make the column
//! [`TreatOutcome::Untouched`]. If winsorisation runs out of distinct values, or a step
//! leaves the statistics undefined, the column counts as failing (so the log fallback
//! applies). These cases are errors or `NA` in COINr.
//!
//! Verified against COINr on the ASEM example (`05_treat_details.csv`, `05_treat_points.csv`):
//! `nwin`, the treated points and the before/after statistics all match.

use ndarray::ArrayViewMut1;

use super::StageError;
use super::methods::Treat;
use crate::stats;

/// What happened to a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreatOutcome {
    /// No treatment requested, or skew/kurtosis undefined (too few values, no spread).
    Untouched,
    /// Checked and passed the skew/kurtosis test; values unchanged.
    Passed,
    /// Winsorised (passing after treatment unless the log fallback was disabled).
    Winsorised,
    /// Log-transformed after winsorisation failed.
    Log,
}

/// How one cell was treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreatFlag {
    /// Capped down to a lower value (COINr `winhi`).
    WinHi,
    /// Raised to a higher value (COINr `winlo`).
    WinLo,
    /// Log-transformed (COINr `log_CT`).
    Log,
}

/// Details of the treatment of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct TreatReport {
    /// Skewness of the input (`None` if undefined).
    pub skew_before: Option<f64>,
    /// Excess kurtosis of the input (`None` if undefined).
    pub kurt_before: Option<f64>,
    /// Skewness of the output.
    pub skew_after: Option<f64>,
    /// Excess kurtosis of the output.
    pub kurt_after: Option<f64>,
    /// Number of winsorised points reached (also reported when the log fallback was used).
    pub nwin: usize,
    /// What happened.
    pub outcome: TreatOutcome,
    /// Treated cells as `(row, flag)`, in row order.
    pub points: Vec<(usize, TreatFlag)>,
}

fn passes(x: &[f64], skew_t: f64, kurt_t: f64) -> bool {
    within(stats::skew_kurt(x), skew_t, kurt_t)
}

/// Whether skewness and kurtosis `(skew, kurt)` are within COINr's thresholds.
fn within(moments: (Option<f64>, Option<f64>), skew_t: f64, kurt_t: f64) -> bool {
    match moments {
        (Some(s), Some(k)) => s.abs() < skew_t || k < kurt_t,
        _ => false,
    }
}

/// One COINr winsorisation step. Returns the rows capped at this end, or `None` when there
/// is no remaining value to cap to.
fn win_step(x: &mut [f64], high: bool) -> Option<Vec<usize>> {
    let (lo, hi) = stats::min_max(x.iter())?;
    let extreme = if high { hi } else { lo };
    let rows: Vec<usize> = (0..x.len()).filter(|&i| x[i] == extreme).collect();
    let rest = x.iter().copied().filter(|v| !v.is_nan() && *v != extreme);
    let next = if high {
        rest.reduce(f64::max)?
    } else {
        rest.reduce(f64::min)?
    };
    for &i in &rows {
        x[i] = next;
    }
    Some(rows)
}

/// Treats `col` in place and reports what was done (see the module docs).
///
/// # Errors
/// [`StageError::LogOfNonPositive`] when [`Treat::Log`] meets a value ≤ 0, and
/// [`StageError::ZeroRange`] when [`Treat::LogCt`] meets a column without spread.
pub fn treat(col: ArrayViewMut1<f64>, method: &Treat) -> Result<TreatReport, StageError> {
    if matches!(method, Treat::Log | Treat::LogCt) {
        return log_transform(col, method);
    }
    Ok(treat_coinr(col, method))
}

/// The explicit log transforms: every present value is transformed and flagged.
fn log_transform(mut col: ArrayViewMut1<f64>, method: &Treat) -> Result<TreatReport, StageError> {
    let orig: Vec<f64> = col.to_vec();
    let y: Vec<f64> = match method {
        Treat::LogCt => {
            let (lo, hi) = stats::min_max(&orig).ok_or(StageError::TooFewValues {
                needed: 1,
                found: 0,
            })?;
            if hi == lo {
                return Err(StageError::ZeroRange);
            }
            let shift = 0.01 * (hi - lo);
            orig.iter().map(|v| (v - lo + shift).ln()).collect()
        }
        _ => {
            if let Some((row, &value)) = orig.iter().enumerate().find(|(_, v)| **v <= 0.0) {
                return Err(StageError::LogOfNonPositive { row, value });
            }
            orig.iter().map(|v| v.ln()).collect()
        }
    };
    for (c, v) in col.iter_mut().zip(&y) {
        *c = *v;
    }
    let (skew_before, kurt_before) = stats::skew_kurt(&orig);
    let (skew_after, kurt_after) = stats::skew_kurt(&y);
    Ok(TreatReport {
        skew_before,
        kurt_before,
        skew_after,
        kurt_after,
        nwin: 0,
        outcome: TreatOutcome::Log,
        points: (0..orig.len())
            .filter(|&i| !orig[i].is_nan())
            .map(|i| (i, TreatFlag::Log))
            .collect(),
    })
}

/// COINr's default treatment (winsorisation with the log fallback).
fn treat_coinr(mut col: ArrayViewMut1<f64>, method: &Treat) -> TreatReport {
    let orig: Vec<f64> = col.to_vec();
    let (sk0, kt0) = stats::skew_kurt(&orig);
    let mut report = TreatReport {
        skew_before: sk0,
        kurt_before: kt0,
        skew_after: sk0,
        kurt_after: kt0,
        nwin: 0,
        outcome: TreatOutcome::Untouched,
        points: Vec::new(),
    };
    let &Treat::Winsorise {
        winmax,
        skew: skew_t,
        kurt: kurt_t,
        log_fallback,
    } = method
    else {
        return report;
    };
    let (Some(_), Some(_)) = (sk0, kt0) else {
        return report;
    };
    if within((sk0, kt0), skew_t, kurt_t) {
        report.outcome = TreatOutcome::Passed;
        return report;
    }

    // Winsorisation on a copy.
    let mut x = orig.clone();
    let (mut imax, mut imin): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut nwin = 0;
    let mut pass = false;
    while !pass && nwin < winmax {
        let Some(s) = stats::skew(&x) else { break };
        let high = s >= 0.0;
        let Some(rows) = win_step(&mut x, high) else {
            break;
        };
        if high {
            imax = rows;
        } else {
            imin = rows;
        }
        nwin = imax.len() + imin.len();
        pass = passes(&x, skew_t, kurt_t);
    }
    report.nwin = nwin;

    if pass || !log_fallback {
        let mut flags: Vec<(usize, TreatFlag)> =
            imax.iter().map(|&i| (i, TreatFlag::WinHi)).collect();
        // As COINr: a point in both sets is reported as `winlo`.
        flags.retain(|(i, _)| !imin.contains(i));
        flags.extend(imin.iter().map(|&i| (i, TreatFlag::WinLo)));
        flags.sort_by_key(|(i, _)| *i);
        report.points = flags;
        report.outcome = TreatOutcome::Winsorised;
    } else {
        // log_CT on the original values; stats exist so min/max do too.
        let (lo, hi) = stats::min_max(&orig).unwrap_or((0.0, 0.0));
        let shift = 0.01 * (hi - lo);
        x = orig.iter().map(|v| (v - lo + shift).ln()).collect();
        report.points = (0..x.len())
            .filter(|&i| !orig[i].is_nan())
            .map(|i| (i, TreatFlag::Log))
            .collect();
        report.outcome = TreatOutcome::Log;
    }
    (report.skew_after, report.kurt_after) = stats::skew_kurt(&x);
    for (c, v) in col.iter_mut().zip(&x) {
        *c = *v;
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    const NA: f64 = f64::NAN;

    fn run(x: &[f64], m: &Treat) -> (Vec<f64>, TreatReport) {
        let mut a = Array1::from(x.to_vec());
        let r = treat(a.view_mut(), m).unwrap();
        (a.to_vec(), r)
    }

    fn win(winmax: usize, log_fallback: bool) -> Treat {
        Treat::Winsorise {
            winmax,
            skew: 2.0,
            kurt: 3.5,
            log_fallback,
        }
    }

    #[test]
    fn passing_and_none_untouched() {
        // 1..5 symmetric: skew 0 < 2 -> passes
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let (v, r) = run(&x, &Treat::coinr_default());
        assert_eq!(v, x.to_vec());
        assert_eq!(r.outcome, TreatOutcome::Passed);
        let (_, r) = run(&x, &Treat::None);
        assert_eq!(r.outcome, TreatOutcome::Untouched);
        // too few values: statistics undefined
        let (_, r) = run(&[1.0, 100.0, NA], &Treat::coinr_default());
        assert_eq!(r.outcome, TreatOutcome::Untouched);
        assert_eq!(r.skew_before, None);
    }

    #[test]
    fn one_outlier_winsorised() {
        // x = 1..10 and 100 (n = 11). mean = 155/11; this fails: skew ≈ 3.29 ≥ 2, kurt ≈ 10.9.
        // Step 1: skew > 0, max 100 (row 10) set to the next largest value, 10.
        // Now 1..10,10: skew ≈ -0.22 -> passes. nwin = 1.
        let mut x: Vec<f64> = (1..=10).map(f64::from).collect();
        x.push(100.0);
        let (v, r) = run(&x, &Treat::coinr_default());
        assert!(r.skew_before.unwrap() > 2.0 && r.kurt_before.unwrap() > 3.5);
        assert_eq!(r.outcome, TreatOutcome::Winsorised);
        assert_eq!(r.nwin, 1);
        assert_eq!(v[10], 10.0);
        assert_eq!(r.points, vec![(10, TreatFlag::WinHi)]);
        assert!(r.skew_after.unwrap().abs() < 2.0);
    }

    #[test]
    fn ties_overshoot_and_low_side() {
        // -100, -100 and 1..20: skew ≈ -2.90, kurt ≈ 7.45 -> fails, skew < 0 so the tied
        // minimum is raised: both -100 become 1 at once. Then skew ≈ 0.09 -> passes.
        // nwin = 2 even with winmax = 1 (the limit is checked before each step).
        let mut x = vec![-100.0, -100.0];
        x.extend((1..=20).map(f64::from));
        let (v, r) = run(&x, &win(1, true));
        assert_eq!(r.nwin, 2);
        assert_eq!(r.outcome, TreatOutcome::Winsorised);
        assert_eq!(&v[..2], &[1.0, 1.0]);
        assert_eq!(r.points, vec![(0, TreatFlag::WinLo), (1, TreatFlag::WinLo)]);
    }

    #[test]
    fn log_fallback_on_original() {
        // 1..20, 1000, 1000, 3000 (+ one missing): skew ≈ 3.68, kurt ≈ 14.5 -> fails.
        // winmax = 1: step 1 caps 3000 -> 1000 (nwin 1); now skew ≈ 2.35, kurt ≈ 3.85, still
        // failing and nwin = winmax, so log_CT of the ORIGINAL values:
        // min 1, max 3000, shift 0.01·2999 = 29.99; y = ln(x − 1 + 29.99).
        let mut x: Vec<f64> = (1..=20).map(f64::from).collect();
        x.extend([1000.0, 1000.0, 3000.0, NA]);
        let (v, r) = run(&x, &win(1, true));
        assert_eq!(r.outcome, TreatOutcome::Log);
        assert_eq!(r.nwin, 1);
        assert!((v[0] - 29.99f64.ln()).abs() < 1e-12);
        assert!((v[22] - (2999.0f64 + 29.99).ln()).abs() < 1e-12);
        assert!(v[23].is_nan());
        assert_eq!(r.points.len(), 23);
        assert_eq!(r.points[22], (22, TreatFlag::Log));
        // without the fallback the (failing) winsorised values are kept
        let (v, r) = run(&x, &win(1, false));
        assert_eq!(r.outcome, TreatOutcome::Winsorised);
        assert_eq!(v[22], 1000.0);
        assert_eq!(r.points, vec![(22, TreatFlag::WinHi)]);
        // with winmax = 5: step 2 caps the three 1000s to 20 (nwin 3) and passes
        let (v, r) = run(&x, &Treat::coinr_default());
        assert_eq!(r.outcome, TreatOutcome::Winsorised);
        assert_eq!(r.nwin, 3);
        assert_eq!(&v[20..23], &[20.0, 20.0, 20.0]);
    }

    #[test]
    fn runs_out_of_values_without_panic() {
        // 1,1,1,1,1000: winsorising makes everything 1 -> stats undefined -> log fallback
        let x = [1.0, 1.0, 1.0, 1.0, 1000.0];
        let (v, r) = run(&x, &win(10, true));
        assert!(r.skew_before.unwrap() > 2.0);
        assert_eq!(r.outcome, TreatOutcome::Log);
        assert!(v.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn explicit_log_transforms() {
        // ln(1) = 0, ln(e) = 1, missing stays missing.
        let (y, r) = run(&[1.0, std::f64::consts::E, NA], &Treat::Log);
        assert_eq!(y[0], 0.0);
        assert!((y[1] - 1.0).abs() < 1e-15);
        assert!(y[2].is_nan());
        assert_eq!(r.outcome, TreatOutcome::Log);
        assert_eq!(r.points.len(), 2);
        // log_CT: min 0, max 100, shift 1: ln(0 + 1) = 0, ln(100 + 1).
        let (y, _) = run(&[0.0, 100.0], &Treat::LogCt);
        assert_eq!(y[0], 0.0);
        assert!((y[1] - 101f64.ln()).abs() < 1e-15);
        let mut a = Array1::from(vec![3.0, 0.0, 2.0]);
        assert_eq!(
            treat(a.view_mut(), &Treat::Log),
            Err(StageError::LogOfNonPositive { row: 1, value: 0.0 })
        );
        assert_eq!(a.to_vec(), vec![3.0, 0.0, 2.0], "unchanged on error");
        let mut a = Array1::from(vec![2.0, 2.0]);
        assert_eq!(
            treat(a.view_mut(), &Treat::LogCt),
            Err(StageError::ZeroRange)
        );
    }
}
