//! Aggregation of a node's children (columns) into one score per unit (row).
//!
//! For each row, `P` is the set of present (non-`NaN`) children and the weights are
//! renormalised over it: `w̃_j = w_j / Σ_{k∈P} w_k`. A row gets a missing result (`NaN`) when
//! no child is present, when `|P| / children < min_share` (COINr `dat_thresh`), or when the
//! present children all have weight 0. Otherwise, over `j ∈ P`:
//!
//! | method | formula | invalid |
//! |---|---|---|
//! | `Arithmetic` | `Σ w̃ x` | |
//! | `Geometric` | `exp(Σ w̃ ln x)` | `x ≤ 0` → [`StageError::NonPositive`] |
//! | `Harmonic` | `1 / Σ (w̃ / x)` | `x = 0` → [`StageError::ZeroValue`] |
//! | `Generalised { p }` | `(Σ w̃ x^p)^(1/p)`; `p = 0` is `Geometric` | |
//! | `Copeland` | see below | |
//! | `Mpi { penalty }` | `M ± S·cv` on `z = 100 + 10·(x − μ_j)/σ_j` | constant child → [`StageError::ConstantChild`] |
//! | `Ampi { penalty }` | `M ± S·cv` on `r = 70 + 60·(x − min_j)/(max_j − min_j)` | constant child → [`StageError::ConstantChild`] |
//! | `Bod { lower, upper }` | see [`mod@super::bod`] (every child needed; weights ignored) | `x < 0` → [`StageError::NegativeChild`] |
//!
//! **Copeland.** Over the rows with a result (the units of one period), for each pair of
//! units `i ≠ j` only the children present for both count, with weights renormalised over
//! them: `o_ij = Σ w̃ [x_i > x_j] + ½ Σ w̃ [x_i = x_j]`; `o_ij > ½ → +1`, `< ½ → −1`,
//! `= ½ → 0` (also when no child is shared). The score of `i` is `Σ_j` of these. Since
//! `o_ij − ½ = ½ (Σ w̃ [x_i > x_j] − Σ w̃ [x_i < x_j])`, the sign is computed from the
//! difference of the two weighted counts, treated as a tie when it is within `1e-12` of
//! their total weight (so rounding of weights such as 0.1 + 0.2 does not break ties).
//!
//! **Mazziotta–Pareto** (Mazziotta & Pareto 2016; Compind `ci_mpi` / `ci_ampi`). Each child
//! column is first rescaled over all its present values (all rows): MPI uses z-scores
//! `100 + 10·(x − μ_j)/σ_j` with the population standard deviation (`n`); AMPI uses
//! `70 + 60·(x − min_j)/(max_j − min_j)` (Compind's goalposts with the reference value at the
//! midrange). Then per row `M = Σ w̃ z`, `S = sqrt(Σ w̃ (z − M)²)` (population, weighted;
//! equal weights give the published formula), `cv = S / M`, and the result is `M − S·cv` for
//! [`Penalty::Negative`](super::Penalty::Negative) or `M + S·cv` for
//! [`Penalty::Positive`](super::Penalty::Positive). Compind's `ci_ampi` uses the opposite
//! sign convention from its `ci_mpi` and in some versions ignores the argument; here both
//! honour it identically.
//!
//! Every result must be finite, else [`StageError::NonFinite`].

use ndarray::{Array1, ArrayView1, ArrayView2};

use super::StageError;
use super::methods::Aggregate;
use crate::framework::formula::Formula;
use crate::stats;

/// Aggregates the columns of `children` row by row (see the module docs).
///
/// # Errors
/// [`StageError::WeightsLength`] when `weights` does not have one entry per column, plus
/// the method-specific errors in the module docs.
pub fn aggregate(
    children: ArrayView2<f64>,
    weights: &[f64],
    method: &Aggregate,
    min_share: f64,
) -> Result<Array1<f64>, StageError> {
    let (nrows, ncols) = children.dim();
    if weights.len() != ncols {
        return Err(StageError::WeightsLength {
            expected: ncols,
            found: weights.len(),
        });
    }
    if let Aggregate::Arithmetic = method {
        let cols: Vec<ArrayView1<f64>> = children.columns().into_iter().collect();
        return arithmetic(&cols, weights, min_share);
    }
    // Which rows get a result.
    let eligible: Vec<bool> = children
        .rows()
        .into_iter()
        .map(|row| {
            let present = row.iter().filter(|v| !v.is_nan()).count();
            let wsum: f64 = row
                .iter()
                .zip(weights)
                .filter(|(v, _)| !v.is_nan())
                .map(|(_, w)| w)
                .sum();
            present > 0 && present as f64 / ncols as f64 >= min_share && wsum > 0.0
        })
        .collect();

    // Per-cell transform used by the Mazziotta–Pareto methods.
    let values = match method {
        Aggregate::Mpi { .. } | Aggregate::Ampi { .. } => {
            let mut t = children.to_owned();
            for (j, mut col) in t.columns_mut().into_iter().enumerate() {
                let Some((lo, hi)) = stats::min_max(col.view()) else {
                    continue;
                };
                if hi <= lo {
                    return Err(StageError::ConstantChild { col: j });
                }
                if let Aggregate::Mpi { .. } = method {
                    let mu = stats::mean(col.view()).unwrap_or(lo);
                    let n = col.iter().filter(|v| !v.is_nan()).count() as f64;
                    let var = col
                        .iter()
                        .filter(|v| !v.is_nan())
                        .map(|v| (v - mu).powi(2))
                        .sum::<f64>()
                        / n;
                    let sd = var.sqrt();
                    if sd.is_nan() || sd <= 0.0 {
                        return Err(StageError::ConstantChild { col: j });
                    }
                    col.mapv_inplace(|v| 100.0 + 10.0 * (v - mu) / sd);
                } else {
                    col.mapv_inplace(|v| 70.0 + 60.0 * (v - lo) / (hi - lo));
                }
            }
            ndarray::CowArray::from(t)
        }
        _ => ndarray::CowArray::from(children),
    };

    if let Aggregate::Copeland = method {
        return copeland(values.view(), weights, &eligible);
    }
    if let Aggregate::Formula(f) = method {
        return formula(children, f);
    }
    if let Aggregate::Bod { lower, upper } = method {
        return super::bod::benefit_of_the_doubt(children, weights, *lower, *upper)
            .map(|b| b.scores);
    }

    let mut out = Array1::from_elem(nrows, f64::NAN);
    // One buffer for every row: a robustness analysis aggregates thousands of times.
    let mut cells: Vec<(usize, f64, f64)> = Vec::with_capacity(ncols);
    for (i, row) in values.rows().into_iter().enumerate() {
        if !eligible[i] {
            continue;
        }
        cells.clear();
        cells.extend(
            row.iter()
                .zip(weights)
                .enumerate()
                .filter(|(_, (v, _))| !v.is_nan())
                .map(|(j, (v, w))| (j, *v, *w)),
        );
        let cells = &cells;
        let wsum: f64 = cells.iter().map(|c| c.2).sum();
        let wmean =
            |f: &dyn Fn(f64) -> f64| cells.iter().map(|&(_, x, w)| w * f(x)).sum::<f64>() / wsum;
        let geometric = || -> Result<f64, StageError> {
            if let Some(&(col, value, _)) = cells.iter().find(|c| c.1 <= 0.0) {
                return Err(StageError::NonPositive { row: i, col, value });
            }
            Ok(wmean(&f64::ln).exp())
        };
        let y = match method {
            Aggregate::Arithmetic => wmean(&|x| x),
            Aggregate::Geometric => geometric()?,
            Aggregate::Generalised { p } if *p == 0.0 => geometric()?,
            Aggregate::Generalised { p } => wmean(&|x| x.powf(*p)).powf(1.0 / p),
            Aggregate::Harmonic => {
                if let Some(&(col, _, _)) = cells.iter().find(|c| c.1 == 0.0) {
                    return Err(StageError::ZeroValue { row: i, col });
                }
                1.0 / wmean(&|x| 1.0 / x)
            }
            Aggregate::Mpi { penalty } | Aggregate::Ampi { penalty } => {
                let m = wmean(&|x| x);
                let s = wmean(&|x| (x - m).powi(2)).sqrt();
                m + penalty.sign() * s * (s / m)
            }
            // Handled above.
            Aggregate::Copeland | Aggregate::Formula(_) | Aggregate::Bod { .. } => f64::NAN,
        };
        if !y.is_finite() {
            return Err(StageError::NonFinite { row: i });
        }
        out[i] = y;
    }
    Ok(out)
}

/// Aggregates the columns `children` of `s` (rows × nodes) as [`aggregate`] does: the
/// arithmetic mean reads them in place ([`arithmetic`]), the other methods from a copy of
/// them side by side.
///
/// # Errors
/// As [`aggregate`].
pub fn aggregate_columns(
    s: ArrayView2<f64>,
    children: &[usize],
    weights: &[f64],
    method: &Aggregate,
    min_share: f64,
) -> Result<Array1<f64>, StageError> {
    if let Aggregate::Arithmetic = method {
        let cols: Vec<ArrayView1<f64>> = children.iter().map(|&c| s.column(c)).collect();
        return arithmetic(&cols, weights, min_share);
    }
    let mat = s.select(ndarray::Axis(1), children);
    aggregate(mat.view(), weights, method, min_share)
}

/// The weighted arithmetic mean of the columns `children` (with one weight each), as
/// [`aggregate`] defines it, worked a column at a time: each column is read once, in order,
/// and no row's cells are gathered. Every sum adds the present cells in column order, as the
/// row by row methods do, so the results are theirs to the bit.
///
/// # Errors
/// [`StageError::WeightsLength`] when `weights` does not have one entry per column;
/// [`StageError::NonFinite`] for the first row whose mean is not finite.
pub fn arithmetic(
    children: &[ArrayView1<f64>],
    weights: &[f64],
    min_share: f64,
) -> Result<Array1<f64>, StageError> {
    if weights.len() != children.len() {
        return Err(StageError::WeightsLength {
            expected: children.len(),
            found: weights.len(),
        });
    }
    let nrows = children.first().map_or(0, |c| c.len());
    // As `Iterator::sum` of floats starts: −0 + x is x for every x.
    let mut sum = vec![-0.0; nrows];
    let mut wsum = vec![-0.0; nrows];
    let mut present = vec![0usize; nrows];
    for (col, &w) in children.iter().zip(weights) {
        for (i, &x) in col.iter().enumerate() {
            if !x.is_nan() {
                sum[i] += w * x;
                wsum[i] += w;
                present[i] += 1;
            }
        }
    }
    let ncols = children.len() as f64;
    let mut out = Array1::from_elem(nrows, f64::NAN);
    for i in 0..nrows {
        let n = present[i];
        if n > 0 && n as f64 / ncols >= min_share && wsum[i] > 0.0 {
            let y = sum[i] / wsum[i];
            if !y.is_finite() {
                return Err(StageError::NonFinite { row: i });
            }
            out[i] = y;
        }
    }
    Ok(out)
}

/// Each row's value of a node formula over the children (columns) `x`: missing when an
/// input it reads is missing, an error when it is undefined with every input present.
fn formula(x: ArrayView2<f64>, f: &Formula) -> Result<Array1<f64>, StageError> {
    let mut out = Array1::from_elem(x.nrows(), f64::NAN);
    let mut row = Vec::with_capacity(x.ncols());
    for (i, r) in x.rows().into_iter().enumerate() {
        row.clear();
        row.extend(r.iter().copied());
        let y = f.eval(&row);
        if y.is_finite() {
            out[i] = y;
        } else if !f.missing(&row) {
            let inputs: Vec<String> = (0..row.len())
                .filter(|&k| f.uses(k))
                .map(|k| format!("child `{k}` = {}", row[k]))
                .collect();
            return Err(StageError::FormulaUndefined {
                row: i,
                formula: f.text.clone(),
                value: y,
                inputs: inputs.join(", "),
            });
        }
    }
    Ok(out)
}

fn copeland(
    x: ndarray::ArrayView2<f64>,
    weights: &[f64],
    eligible: &[bool],
) -> Result<Array1<f64>, StageError> {
    let nrows = x.nrows();
    let mut out = Array1::from_elem(nrows, f64::NAN);
    for i in (0..nrows).filter(|&i| eligible[i]) {
        let mut score = 0.0;
        for j in (0..nrows).filter(|&j| j != i && eligible[j]) {
            let (mut gt, mut lt, mut tot) = (0.0, 0.0, 0.0);
            for (k, w) in weights.iter().enumerate() {
                let (a, b) = (x[[i, k]], x[[j, k]]);
                if a.is_nan() || b.is_nan() {
                    continue;
                }
                tot += w;
                if a > b {
                    gt += w;
                } else if a < b {
                    lt += w;
                }
            }
            let d = gt - lt;
            if d.abs() > 1e-12 * tot {
                score += d.signum();
            }
        }
        out[i] = score;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::methods::Penalty;
    use ndarray::array;

    const NA: f64 = f64::NAN;

    fn agg(
        x: &ndarray::Array2<f64>,
        w: &[f64],
        m: Aggregate,
        share: f64,
    ) -> Result<Vec<f64>, StageError> {
        aggregate(x.view(), w, &m, share).map(|a| a.to_vec())
    }

    fn same(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-12,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn means_by_hand() {
        let x = array![[1.0, 4.0], [2.0, NA], [NA, NA]];
        let w = [1.0, 3.0];
        // row 0: (1·1 + 3·4)/4 = 13/4; row 1: only child 0 -> 2; row 2: missing
        same(
            &agg(&x, &w, Aggregate::Arithmetic, 0.0).unwrap(),
            &[3.25, 2.0, NA],
        );
        // min_share 0.6: row 1 has 1/2 present -> missing
        same(
            &agg(&x, &w, Aggregate::Arithmetic, 0.6).unwrap(),
            &[3.25, NA, NA],
        );
        // geometric: exp((ln 1 + 3 ln 4)/4) = 4^(3/4)
        same(
            &agg(&x, &w, Aggregate::Geometric, 0.0).unwrap(),
            &[4f64.powf(0.75), 2.0, NA],
        );
        // harmonic: 1/((1/1 + 3/4)/4) = 4/1.75
        same(
            &agg(&x, &w, Aggregate::Harmonic, 0.0).unwrap(),
            &[4.0 / 1.75, 2.0, NA],
        );
        // generalised p = 2: sqrt((1 + 3·16)/4) = sqrt(12.25) = 3.5
        same(
            &agg(&x, &w, Aggregate::Generalised { p: 2.0 }, 0.0).unwrap(),
            &[3.5, 2.0, NA],
        );
        same(
            &agg(&x, &w, Aggregate::Generalised { p: 0.0 }, 0.0).unwrap(),
            &[4f64.powf(0.75), 2.0, NA],
        );
        // present children with zero weight only -> missing
        same(
            &agg(&array![[NA, 5.0]], &[1.0, 0.0], Aggregate::Arithmetic, 0.0).unwrap(),
            &[NA],
        );
    }

    #[test]
    fn errors() {
        use StageError::*;
        let x = array![[1.0, 2.0], [0.0, 3.0]];
        assert_eq!(
            agg(&x, &[1.0], Aggregate::Arithmetic, 0.0),
            Err(WeightsLength {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            agg(&x, &[1.0, 1.0], Aggregate::Geometric, 0.0),
            Err(NonPositive {
                row: 1,
                col: 0,
                value: 0.0
            })
        );
        let neg = array![[1.0, -2.0]];
        assert_eq!(
            agg(&neg, &[1.0, 1.0], Aggregate::Geometric, 0.0),
            Err(NonPositive {
                row: 0,
                col: 1,
                value: -2.0
            })
        );
        assert_eq!(
            agg(&x, &[1.0, 1.0], Aggregate::Harmonic, 0.0),
            Err(ZeroValue { row: 1, col: 0 })
        );
        // (-1)^0.5 is NaN
        assert_eq!(
            agg(
                &array![[-1.0, 1.0]],
                &[1.0, 1.0],
                Aggregate::Generalised { p: 0.5 },
                0.0
            ),
            Err(NonFinite { row: 0 })
        );
        assert_eq!(
            agg(
                &array![[1e308, 1e308]],
                &[1.0, 1.0],
                Aggregate::Arithmetic,
                0.0
            ),
            Err(NonFinite { row: 0 })
        );
        let c = array![[1.0, 2.0], [1.0, 3.0]];
        let m = Aggregate::Mpi {
            penalty: Penalty::Negative,
        };
        assert_eq!(agg(&c, &[1.0, 1.0], m, 0.0), Err(ConstantChild { col: 0 }));
        let m = Aggregate::Ampi {
            penalty: Penalty::Negative,
        };
        assert_eq!(agg(&c, &[1.0, 1.0], m, 0.0), Err(ConstantChild { col: 0 }));
    }

    #[test]
    fn copeland_by_hand() {
        // weights 2, 1. (0,1): child 0 1<2 (lt 2), child 1 5>4 (gt 1) -> 0 loses, 1 wins.
        // (0,2): same pattern -> 2 wins. (1,2): 2<3 (lt 2), 4>3 (gt 1) -> 2 wins.
        // Row 3 has only child 1 = 10: beats everyone on the shared child.
        // Scores: 0: −1 −1 −1 = −3; 1: +1 −1 −1 = −1; 2: +1 +1 −1 = +1; 3: +3. Row 4 missing.
        let x = array![[1.0, 5.0], [2.0, 4.0], [3.0, 3.0], [NA, 10.0], [NA, NA]];
        same(
            &agg(&x, &[2.0, 1.0], Aggregate::Copeland, 0.0).unwrap(),
            &[-3.0, -1.0, 1.0, 3.0, NA],
        );
        // equal weights: every pair of rows 0..2 ties (one child each way) -> 0
        let y = array![[1.0, 5.0], [2.0, 4.0], [3.0, 3.0]];
        same(
            &agg(&y, &[1.0, 1.0], Aggregate::Copeland, 0.0).unwrap(),
            &[0.0, 0.0, 0.0],
        );
        // weights 0.1 + 0.2 against 0.3 tie despite rounding
        let z = array![[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        same(
            &agg(&z, &[0.1, 0.2, 0.3], Aggregate::Copeland, 0.0).unwrap(),
            &[0.0, 0.0],
        );
    }

    #[test]
    fn mazziotta_pareto_by_hand() {
        // child 0 = 1 3 1 3: μ 2, σ 1 -> z 90 110 90 110
        // child 1 = 5 5 1 1: μ 3, σ 2 -> z 110 110 90 90
        // row 0 (90, 110): M 100, S 10, cv 0.1, S·cv = 1 -> 99 / 101
        // row 1 (110, 110): S 0 -> 110; row 2 -> 90; row 3 like row 0
        let x = array![[1.0, 5.0], [3.0, 5.0], [1.0, 1.0], [3.0, 1.0]];
        let w = [1.0, 1.0];
        let neg = Penalty::Negative;
        let pos = Penalty::Positive;
        same(
            &agg(&x, &w, Aggregate::Mpi { penalty: neg }, 0.0).unwrap(),
            &[99.0, 110.0, 90.0, 99.0],
        );
        same(
            &agg(&x, &w, Aggregate::Mpi { penalty: pos }, 0.0).unwrap(),
            &[101.0, 110.0, 90.0, 101.0],
        );
        // weights 3, 1 on row 0: M = (270 + 110)/4 = 95, S² = (3·25 + 225)/4 = 75, S·cv = 75/95
        let r = agg(&x, &[3.0, 1.0], Aggregate::Mpi { penalty: neg }, 0.0).unwrap();
        assert!((r[0] - (95.0 - 75.0 / 95.0)).abs() < 1e-12);
        // AMPI: child 0 -> 70 130 70 130, child 1 -> 130 130 70 70
        // row 0 (70, 130): M 100, S 30, cv 0.3, S·cv 9 -> 91 / 109
        same(
            &agg(&x, &w, Aggregate::Ampi { penalty: neg }, 0.0).unwrap(),
            &[91.0, 130.0, 70.0, 91.0],
        );
        same(
            &agg(&x, &w, Aggregate::Ampi { penalty: pos }, 0.0).unwrap(),
            &[109.0, 130.0, 70.0, 109.0],
        );
    }

    proptest::proptest! {
        /// The arithmetic mean, worked a column at a time, is to the bit the row by row mean
        /// of `Generalised { p: 1 }` (whose powers of 1 change no value), over missing cells,
        /// zero weights, shares and sums that overflow.
        #[test]
        fn arithmetic_is_the_row_by_row_mean_to_the_bit(
            rows in proptest::collection::vec(proptest::collection::vec(0usize..8, 3), 0..12),
            w in proptest::collection::vec(0usize..4, 3),
            share in 0usize..4,
        ) {
            const VALUES: [f64; 8] = [NA, 0.0, -0.0, 0.1, 1.0 / 3.0, 57.25, -2.5, 1e308];
            const WEIGHTS: [f64; 4] = [0.0, 0.1, 1.0, 2.0 / 3.0];
            let x = ndarray::Array2::from_shape_fn((rows.len(), 3), |(i, j)| VALUES[rows[i][j]]);
            let w: Vec<f64> = w.iter().map(|&k| WEIGHTS[k]).collect();
            let share = share as f64 / 3.0;
            let got = agg(&x, &w, Aggregate::Arithmetic, share);
            let want = agg(&x, &w, Aggregate::Generalised { p: 1.0 }, share);
            match (got, want) {
                (Ok(a), Ok(b)) => {
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    proptest::prop_assert_eq!(bits(&a), bits(&b));
                }
                (a, b) => proptest::prop_assert_eq!(a.map(|_| ()), b.map(|_| ())),
            }
        }
    }
}
