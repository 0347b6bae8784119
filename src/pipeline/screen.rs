//! Screening of units (rows) by data availability and by the share of zeros.
//!
//! Definitions (COINr `get_data_avail` / `Screen`):
//! - availability of a unit = `1 − missing / indicators`, the share of its indicators that
//!   are present;
//! - non-zero share = `1 − zeros / present`, the share of its **present** values that are
//!   not zero (missing values are neither zero nor non-zero).
//!
//! A unit passes a threshold when its share is **at least** the threshold (COINr flags
//! `share < threshold`). Edge cases that COINr leaves as `NaN`: a matrix with no indicator
//! columns gives availability 0, and a unit with no present value gives non-zero share 0,
//! so such units fail any positive threshold.
//!
//! Forced decisions override the thresholds: `forced[i] = Some(true)` keeps unit `i`,
//! `Some(false)` drops it, `None` (or an index beyond `forced`) leaves it to the method.

use ndarray::ArrayView2;

use super::methods::ScreenMethod;

/// Result of [`screen`]: one entry per unit (row).
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenOutcome {
    /// Whether the unit is kept.
    pub kept: Vec<bool>,
    /// Share of the unit's indicators that are present, in `[0, 1]`.
    pub availability: Vec<f64>,
    /// Share of the unit's present values that are non-zero, in `[0, 1]`.
    pub nonzero: Vec<f64>,
}

/// Screens the units (rows) of `x` (columns = indicators, `NaN` = missing).
///
/// See the module docs for the definitions and the effect of `forced`.
pub fn screen(x: ArrayView2<f64>, method: &ScreenMethod, forced: &[Option<bool>]) -> ScreenOutcome {
    let ncols = x.ncols();
    let mut out = ScreenOutcome {
        kept: Vec::with_capacity(x.nrows()),
        availability: Vec::with_capacity(x.nrows()),
        nonzero: Vec::with_capacity(x.nrows()),
    };
    // Each row's present values and zeros, counted a column at a time: a period's values are
    // held column by column, so a row's values are as far apart as the rows are many.
    let mut present = vec![0usize; x.nrows()];
    let mut zeros = vec![0usize; x.nrows()];
    for column in x.columns() {
        for ((v, p), z) in column.iter().zip(&mut present).zip(&mut zeros) {
            *p += usize::from(!v.is_nan());
            *z += usize::from(*v == 0.0);
        }
    }
    for (i, (present, zeros)) in present.into_iter().zip(zeros).enumerate() {
        let avail = if ncols == 0 {
            0.0
        } else {
            present as f64 / ncols as f64
        };
        let nonzero = if present == 0 {
            0.0
        } else {
            1.0 - zeros as f64 / present as f64
        };
        let by_rule = match method {
            ScreenMethod::None => true,
            ScreenMethod::ByNa { min_availability } => avail >= *min_availability,
            ScreenMethod::ByZeros { min_nonzero } => nonzero >= *min_nonzero,
            ScreenMethod::Both {
                min_availability,
                min_nonzero,
            } => avail >= *min_availability && nonzero >= *min_nonzero,
        };
        let kept = forced.get(i).copied().flatten().unwrap_or(by_rule);
        out.kept.push(kept);
        out.availability.push(avail);
        out.nonzero.push(nonzero);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const NA: f64 = f64::NAN;

    #[test]
    fn shares_by_hand() {
        let x = array![
            [1.0, 2.0, 3.0, 4.0], // avail 4/4 = 1, zeros 0 -> nonzero 1
            [0.0, NA, 0.0, 5.0],  // avail 3/4 = 0.75, zeros 2 of 3 present -> 1/3
            [NA, NA, NA, NA],     // avail 0, no present value -> nonzero 0
        ];
        let o = screen(x.view(), &ScreenMethod::None, &[]);
        assert_eq!(o.kept, vec![true, true, true]);
        assert_eq!(o.availability, vec![1.0, 0.75, 0.0]);
        assert_eq!(o.nonzero[0], 1.0);
        assert!((o.nonzero[1] - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(o.nonzero[2], 0.0);

        // threshold is inclusive: 0.75 >= 0.75 kept
        let o = screen(
            x.view(),
            &ScreenMethod::ByNa {
                min_availability: 0.75,
            },
            &[],
        );
        assert_eq!(o.kept, vec![true, true, false]);
        let o = screen(x.view(), &ScreenMethod::ByZeros { min_nonzero: 0.5 }, &[]);
        assert_eq!(o.kept, vec![true, false, false]);
        let o = screen(
            x.view(),
            &ScreenMethod::Both {
                min_availability: 0.5,
                min_nonzero: 0.05,
            },
            &[],
        );
        assert_eq!(o.kept, vec![true, true, false]);

        // The same values held column by column, as a period's are, give the same outcome.
        use ndarray::ShapeBuilder;
        let mut by_columns = ndarray::Array2::zeros(x.dim().f());
        by_columns.assign(&x);
        assert!(by_columns.t().is_standard_layout());
        let both = ScreenMethod::Both {
            min_availability: 0.5,
            min_nonzero: 0.05,
        };
        let o = screen(by_columns.view(), &both, &[]);
        let want = screen(x.view(), &both, &[]);
        assert_eq!(o.kept, want.kept);
        assert_eq!(o.availability, want.availability);
        assert_eq!(o.nonzero, want.nonzero);
    }

    #[test]
    fn forced_overrides() {
        let x = array![[1.0, 2.0], [NA, NA], [3.0, 4.0]];
        let m = ScreenMethod::ByNa {
            min_availability: 0.9,
        };
        // forced shorter than the rows: the rest follow the rule
        let o = screen(x.view(), &m, &[Some(false), Some(true)]);
        assert_eq!(o.kept, vec![false, true, true]);
    }

    #[test]
    fn no_columns_does_not_panic() {
        let x = ndarray::Array2::<f64>::zeros((2, 0));
        let o = screen(x.view(), &ScreenMethod::None, &[]);
        assert_eq!(o.availability, vec![0.0, 0.0]);
    }
}
