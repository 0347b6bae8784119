//! Correlation, covariance and Cronbach's alpha.
//!
//! - [`pearson`] and [`spearman`] use **pairwise-complete** observations: the positions where
//!   both variables are present. They need at least 3 such pairs and non-zero spread in both.
//! - [`spearman`] is Pearson's correlation of the **average ranks** ([`ranks`]) of the complete
//!   pairs (ties share the mean of the ranks they span, as R's `rank(ties.method = "average")`).
//! - [`correlations`] gives both, and the number of complete pairs, for two [`Variable`]s: a
//!   variable correlated with many others (the audit's nodes) is ranked once, not per pair.
//! - [`covariance`] and [`cronbach_alpha`] use **complete rows** ([`complete_rows`]): the rows
//!   of a matrix (units) where every column (variable) is present.
//!
//! Cronbach's alpha of `k` items with sample covariance matrix `C` (denominator `n − 1`) is
//! `α = k² · mean(off-diagonal Cᵢⱼ) / Σᵢⱼ Cᵢⱼ`. Since `Σᵢⱼ Cᵢⱼ = σ²_total` (the variance of the
//! row sums) and the off-diagonal sum is `σ²_total − Σᵢ σᵢ²` over `k(k − 1)` entries, this is
//! the usual `k/(k − 1) · (1 − Σᵢ σᵢ² / σ²_total)`. It is at most 1 (Cauchy–Schwarz gives
//! `σ²_total ≤ k Σᵢ σᵢ²`) and may be negative.

use ndarray::{Array2, ArrayView2, Axis};

/// The values at positions where both `x` and `y` are present.
pub fn complete_pairs(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .unzip()
}

/// Pearson correlation over the pairwise-complete observations of `x` and `y` (same length).
///
/// `None` with fewer than 3 complete pairs or when either variable is constant over them.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (a, b) = complete_pairs(x, y);
    pearson_complete(&a, &b)
}

fn pearson_complete(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 3 {
        return None;
    }
    let ma = super::descriptive::mean_of(a)?;
    let mb = super::descriptive::mean_of(b)?;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        return None;
    }
    Some((sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0))
}

/// Ranks 1..n of `x` in ascending order, ties getting the average of the ranks they span
/// (`[10, 20, 20, 5]` → `[2, 3.5, 3.5, 1]`). `x` must not contain `NaN`.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut out = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // positions start..end hold ranks start+1 ..= end; their mean:
        let r = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = r;
        }
        start = end;
    }
    out
}

/// Spearman rank correlation over the pairwise-complete observations (average ranks for ties).
///
/// `None` with fewer than 3 complete pairs or when either variable is constant over them.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let (a, b) = complete_pairs(x, y);
    pearson_complete(&ranks(&a), &ranks(&b))
}

/// A variable correlated with many others: its values and, when none is missing, its average
/// ranks, which Spearman's coefficient of every pair it is in would otherwise rank again.
pub struct Variable {
    values: Vec<f64>,
    ranks: Option<Vec<f64>>,
}

impl Variable {
    /// `values`, ranked once when none is missing.
    pub fn new(values: Vec<f64>) -> Self {
        let ranks = (!values.iter().any(|v| v.is_nan())).then(|| ranks(&values));
        Self { values, ranks }
    }

    /// The values.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

/// Pearson's and Spearman's coefficients of `x` and `y` and their number of complete pairs:
/// [`pearson`], [`spearman`] and the length of [`complete_pairs`], to the bit, with the pairs
/// found once and the ranks of a variable with no missing value taken from it.
pub fn correlations(x: &Variable, y: &Variable) -> (Option<f64>, Option<f64>, usize) {
    if let (Some(rx), Some(ry)) = (&x.ranks, &y.ranks)
        && x.values.len() == y.values.len()
    {
        let n = x.values.len();
        return (
            pearson_complete(&x.values, &y.values),
            pearson_complete(rx, ry),
            n,
        );
    }
    let (a, b) = complete_pairs(&x.values, &y.values);
    (
        pearson_complete(&a, &b),
        pearson_complete(&ranks(&a), &ranks(&b)),
        a.len(),
    )
}

/// The rows of `m` in which every column is present.
pub fn complete_rows(m: ArrayView2<f64>) -> Array2<f64> {
    let keep: Vec<usize> = m
        .rows()
        .into_iter()
        .enumerate()
        .filter(|(_, r)| r.iter().all(|v| !v.is_nan()))
        .map(|(i, _)| i)
        .collect();
    m.select(Axis(0), &keep)
}

/// Sample covariance matrix (denominator `n − 1`) of the columns of `m` over its complete rows;
/// `None` with fewer than 2 complete rows.
pub fn covariance(m: ArrayView2<f64>) -> Option<Array2<f64>> {
    let x = complete_rows(m);
    let (n, k) = x.dim();
    if n < 2 {
        return None;
    }
    let means: Vec<f64> = (0..k)
        .map(|j| super::descriptive::mean_of(&x.column(j).to_vec()).unwrap_or(0.0))
        .collect();
    let mut c = Array2::zeros((k, k));
    for i in 0..k {
        for j in i..k {
            let s: f64 = x
                .rows()
                .into_iter()
                .map(|r| (r[i] - means[i]) * (r[j] - means[j]))
                .sum();
            c[[i, j]] = s / (n as f64 - 1.0);
            c[[j, i]] = c[[i, j]];
        }
    }
    Some(c)
}

/// Cronbach's alpha of the columns (items) of `m` over its complete rows (see the module docs).
///
/// `None` with fewer than 2 columns, fewer than 2 complete rows, or a total variance of 0.
pub fn cronbach_alpha(m: ArrayView2<f64>) -> Option<f64> {
    let k = m.ncols();
    if k < 2 {
        return None;
    }
    let c = covariance(m)?;
    let total = c.sum();
    if total <= 0.0 {
        return None;
    }
    let off_mean = (total - c.diag().sum()) / (k * (k - 1)) as f64;
    Some((k * k) as f64 * off_mean / total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const NA: f64 = f64::NAN;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn pearson_by_hand_pairwise_complete() {
        // x = 1 2 3 4, y = 2 4 5 9: dx = -1.5 -0.5 0.5 1.5, dy = -3 -1 0 4
        // Σdxdy = 4.5 + 0.5 + 0 + 6 = 11, Σdx² = 5, Σdy² = 26 → r = 11/√130
        let r = 11.0 / 130f64.sqrt();
        assert!(close(
            pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]).unwrap(),
            r
        ));
        // a pair with a missing member is dropped, not the whole variable
        let x = [1.0, 2.0, NA, 3.0, 4.0, 7.0];
        let y = [2.0, 4.0, 1.0, 5.0, 9.0, NA];
        assert!(close(pearson(&x, &y).unwrap(), r));
        // a perfect negative relation
        assert!(close(
            pearson(&[1.0, 2.0, 3.0], &[6.0, 4.0, 2.0]).unwrap(),
            -1.0
        ));
        // undefined: fewer than 3 pairs, or a constant variable
        assert_eq!(pearson(&[1.0, 2.0, NA], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), None);
    }

    proptest::proptest! {
        /// The correlation chart computes each pair once and mirrors it: that is only the
        /// same chart if swapping the variables gives the same bits.
        #[test]
        fn pearson_is_symmetric_to_the_bit(
            pairs in proptest::collection::vec(
                (
                    proptest::prop_oneof![-1e6..1e6f64, proptest::strategy::Just(NA)],
                    proptest::prop_oneof![-1e3..1e3f64, proptest::strategy::Just(NA)],
                ),
                0..60,
            ),
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let bits = |r: Option<f64>| r.map(f64::to_bits);
            proptest::prop_assert_eq!(bits(pearson(&x, &y)), bits(pearson(&y, &x)));
        }
    }

    proptest::proptest! {
        /// [`correlations`] of two [`Variable`]s is [`pearson`], [`spearman`] and the number
        /// of complete pairs, to the bit, whether the ranks come from the variables (none
        /// missing) or from the complete pairs, with ties.
        #[test]
        fn correlations_of_variables_are_pearson_and_spearman_to_the_bit(
            pairs in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        4 => -1e6..1e6f64,
                        1 => proptest::sample::select(vec![0.0, 1.0, 2.5]),
                        1 => proptest::strategy::Just(NA),
                    ],
                    proptest::prop_oneof![
                        4 => -1e3..1e3f64,
                        1 => proptest::sample::select(vec![0.0, 1.0, 2.5]),
                        1 => proptest::strategy::Just(NA),
                    ],
                ),
                0..60,
            ),
            drop_missing in proptest::bool::ANY,
        ) {
            let pairs: Vec<(f64, f64)> = pairs
                .into_iter()
                .map(|(a, b)| if drop_missing {
                    (if a.is_nan() { 3.0 } else { a }, if b.is_nan() { -3.0 } else { b })
                } else {
                    (a, b)
                })
                .collect();
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let bits = |r: Option<f64>| r.map(f64::to_bits);
            let (p, s, n) = correlations(&Variable::new(x.clone()), &Variable::new(y.clone()));
            proptest::prop_assert_eq!(bits(p), bits(pearson(&x, &y)));
            proptest::prop_assert_eq!(bits(s), bits(spearman(&x, &y)));
            proptest::prop_assert_eq!(n, complete_pairs(&x, &y).0.len());
        }
    }

    #[test]
    fn average_ranks_for_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        assert_eq!(ranks(&[1.0, 1.0, 1.0]), vec![2.0, 2.0, 2.0]);
        assert_eq!(ranks(&[]), Vec::<f64>::new());
    }

    #[test]
    fn spearman_by_hand_with_ties() {
        // x = 1 2 2 3 → ranks 1 2.5 2.5 4; y = 1 3 2 4 → ranks 1 3 2 4
        // dx = -1.5 0 0 1.5, dy = -1.5 0.5 -0.5 1.5: Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5
        // ρ = 4.5/√22.5 = √0.9
        let x = [1.0, 2.0, 2.0, 3.0];
        let y = [1.0, 3.0, 2.0, 4.0];
        assert!(close(spearman(&x, &y).unwrap(), 0.9f64.sqrt()));
        // monotone but non-linear: Spearman 1, Pearson below 1
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [1.0, 8.0, 27.0, 64.0]);
        assert!(close(spearman(&a, &b).unwrap(), 1.0));
        assert!(pearson(&a, &b).unwrap() < 1.0);
        // ranks are taken among the complete pairs only: (NA, 100) is dropped
        let x = [1.0, 2.0, 2.0, NA, 3.0];
        let y = [1.0, 3.0, 2.0, 100.0, 4.0];
        assert!(close(spearman(&x, &y).unwrap(), 0.9f64.sqrt()));
    }

    #[test]
    fn covariance_by_hand_complete_rows() {
        // a = 1 2 3, b = 1 3 2 (row with NaN dropped): var a = 1, var b = 1,
        // da = -1 0 1, db = -1 1 0 → cov = 1/2
        let m = array![[1.0, 1.0], [2.0, 3.0], [NA, 9.0], [3.0, 2.0]];
        let c = covariance(m.view()).unwrap();
        assert_eq!(c, array![[1.0, 0.5], [0.5, 1.0]]);
        assert_eq!(complete_rows(m.view()).nrows(), 3);
        assert_eq!(covariance(array![[1.0, 2.0], [NA, 3.0]].view()), None);
    }

    #[test]
    fn cronbach_alpha_by_hand_both_forms() {
        // The items above: Σ C = 1 + 1 + 0.5 + 0.5 = 3, mean off-diagonal = 0.5
        // α = k²·0.5/3 = 4·0.5/3 = 2/3
        // usual form: row sums 2 5 5 → σ²_total = (4 + 1 + 1)/2 = 3; Σσᵢ² = 2
        // α = 2/1 · (1 − 2/3) = 2/3
        let m = array![[1.0, 1.0], [2.0, 3.0], [3.0, 2.0]];
        assert!(close(cronbach_alpha(m.view()).unwrap(), 2.0 / 3.0));

        // Three items, 5 units: both forms agree, computed independently with `sd`.
        let m = array![
            [1.0, 2.0, 4.0],
            [2.0, 1.0, 3.0],
            [4.0, 5.0, 5.0],
            [3.0, 3.0, 1.0],
            [5.0, 4.0, 4.0],
        ];
        let k = 3.0;
        let item_var: f64 = (0..3)
            .map(|j| crate::stats::sd(m.column(j)).unwrap().powi(2))
            .sum();
        let total_var = crate::stats::sd(&m.sum_axis(Axis(1))).unwrap().powi(2);
        let usual = k / (k - 1.0) * (1.0 - item_var / total_var);
        assert!(close(cronbach_alpha(m.view()).unwrap(), usual));
        // by hand: a = 1 2 4 3 5, b = 2 1 5 3 4, c = 4 3 5 1 4; each var a, var b = 10/4 = 2.5,
        // var c = (0.6² + 0.4² + 1.6² + 2.4² + 0.6²)/4 = 9.2/4 = 2.3; row sums 7 6 14 7 13,
        // mean 9.4, σ²_total = (5.76 + 11.56 + 21.16 + 5.76 + 12.96)/4 = 57.2/4 = 14.3
        // α = 1.5 · (1 − 7.3/14.3) = 1.5 · 7/14.3 = 10.5/14.3
        assert!(close(cronbach_alpha(m.view()).unwrap(), 10.5 / 14.3));

        // identical items: α = 1; opposite items: total variance 0 → undefined
        let same = array![[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]];
        assert!(close(cronbach_alpha(same.view()).unwrap(), 1.0));
        let opposite = array![[1.0, -1.0], [2.0, -2.0], [4.0, -4.0]];
        assert_eq!(cronbach_alpha(opposite.view()), None);
        assert_eq!(cronbach_alpha(array![[1.0], [2.0]].view()), None);
    }
}
