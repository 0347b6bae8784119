//! Benefit of the doubt (BoD): each unit's score under the weights most favourable to it
//! (Cherchye et al. 2007; Compind's `ci_bod` and `ci_bod_constr`).
//!
//! Over the rows with every child present (the units of one period), with `y_u` the children's
//! values of unit `u`, the score of `u` is the optimum of the linear programme
//!
//! ```text
//! maximise  Σ_j w_j y_uj   subject to   Σ_j w_j y_kj ≤ 1 for every unit k,   w ≥ 0,
//! and, with share bounds,   lower ≤ w_j y_uj / Σ_r w_r y_ur ≤ upper for every child j.
//! ```
//!
//! It lies in `[0, 1]`; 1 means no other unit does better under `u`'s own best weights (`u` is
//! on the frontier). The bounds are on each child's *share* of the unit's score (Compind's
//! `ci_bod_constr`, `low_w` and `up_w`: the "pie shares" of Cherchye et al.), so, like the
//! unbounded score, the result does not change when a child is multiplied by a positive
//! constant. Written linearly, each bound is `y_uj w_j − upper Σ_r y_ur w_r ≤ 0` and
//! `lower Σ_r y_ur w_r − y_uj w_j ≤ 0`; `w = 0` meets every constraint, so the programme is
//! always feasible and one simplex phase from the origin solves it ([`simplex`], Bland's rule:
//! deterministic and free of cycling). Each child is first divided by its largest value (the
//! programme is the same up to the scale of `w`), and the score is computed from the optimal
//! weights as `y_u·w / max_k y_k·w`, so a unit on the frontier scores exactly 1.
//!
//! The framework's weights are not used, except that a child of weight 0 is left out. A row
//! with a missing child has no score and is not part of the frontier. Children must be ≥ 0
//! ([`StageError::NegativeChild`]); the bounds must allow shares adding up to 1
//! (`lower · n ≤ 1 ≤ upper · n` for `n` children, else [`StageError::BodBounds`]).

use ndarray::{Array1, Array2, ArrayView2};

use super::StageError;

/// Reduced costs and pivots smaller than this are zero (the data are scaled to `[0, 1]`).
const EPS: f64 = 1e-11;

/// Scores and weights of a benefit-of-the-doubt aggregation.
#[derive(Clone, Debug, PartialEq)]
pub struct Bod {
    /// Score of every row in `[0, 1]` (`NaN`: a child missing).
    pub scores: Array1<f64>,
    /// Rows × children: each child's share `w_j y_uj / Σ_r w_r y_ur` of the row's score under
    /// its own optimal weights (Compind's `ci_bod_constr_weights`); `NaN` for a child of
    /// weight 0, a row without a score, or a score of 0.
    pub shares: Array2<f64>,
}

/// Benefit-of-the-doubt scores of the rows of `children` (see the module docs).
///
/// # Errors
/// [`StageError::NegativeChild`] for a value below 0, [`StageError::BodBounds`] for bounds no
/// shares can meet, [`StageError::NonFinite`] if the programme of a row cannot be solved.
pub fn benefit_of_the_doubt(
    children: ArrayView2<f64>,
    weights: &[f64],
    lower: f64,
    upper: f64,
) -> Result<Bod, StageError> {
    let (nrows, ncols) = children.dim();
    let cols: Vec<usize> = (0..ncols).filter(|&j| weights[j] > 0.0).collect();
    let mut out = Bod {
        scores: Array1::from_elem(nrows, f64::NAN),
        shares: Array2::from_elem((nrows, ncols), f64::NAN),
    };
    for (row, values) in children.rows().into_iter().enumerate() {
        if let Some(&col) = cols.iter().find(|&&j| values[j] < 0.0) {
            let value = values[col];
            return Err(StageError::NegativeChild { row, col, value });
        }
    }
    let n = cols.len() as f64;
    if cols.is_empty() {
        return Ok(out);
    }
    if lower * n > 1.0 + 1e-12 || upper * n < 1.0 - 1e-12 {
        return Err(StageError::BodBounds {
            children: cols.len(),
            lower,
            upper,
        });
    }
    let complete: Vec<usize> = (0..nrows)
        .filter(|&i| cols.iter().all(|&j| !children[[i, j]].is_nan()))
        .collect();
    // Each child divided by its largest value: the same programme, better conditioned.
    let scale: Vec<f64> = cols
        .iter()
        .map(|&j| {
            let max = complete
                .iter()
                .map(|&i| children[[i, j]])
                .fold(0.0, f64::max);
            if max > 0.0 { max } else { 1.0 }
        })
        .collect();
    let y: Vec<Vec<f64>> = complete
        .iter()
        .map(|&i| {
            cols.iter()
                .zip(&scale)
                .map(|(&j, s)| children[[i, j]] / s)
                .collect()
        })
        .collect();
    let bounded = lower > 0.0 || upper < 1.0;
    for (k, &row) in complete.iter().enumerate() {
        let yu = &y[k];
        let mut a = y.clone();
        let mut b = vec![1.0; y.len()];
        if bounded {
            share_bounds(yu, lower, upper, &mut a, &mut b);
        }
        let w = simplex(yu, &a, &b).ok_or(StageError::NonFinite { row })?;
        let own = dot(yu, &w);
        if own <= 0.0 {
            out.scores[row] = 0.0;
            continue;
        }
        let best = y.iter().map(|yk| dot(yk, &w)).fold(own, f64::max);
        out.scores[row] = own / best;
        for (c, &j) in cols.iter().enumerate() {
            out.shares[[row, j]] = yu[c] * w[c] / own;
        }
    }
    Ok(out)
}

/// Appends the constraints `lower ≤ y_j w_j / Σ_r y_r w_r ≤ upper` as rows `a·w ≤ 0`.
fn share_bounds(yu: &[f64], lower: f64, upper: f64, a: &mut Vec<Vec<f64>>, b: &mut Vec<f64>) {
    for j in 0..yu.len() {
        let unit = |r: usize| if r == j { 1.0 } else { 0.0 };
        if upper < 1.0 {
            a.push((0..yu.len()).map(|r| yu[r] * (unit(r) - upper)).collect());
            b.push(0.0);
        }
        if lower > 0.0 {
            a.push((0..yu.len()).map(|r| yu[r] * (lower - unit(r))).collect());
            b.push(0.0);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Maximises `c·x` subject to `a x ≤ b` and `x ≥ 0`, where `b ≥ 0` (so `x = 0` is feasible),
/// by the simplex method on a dense tableau with Bland's rule (the entering variable is the
/// lowest-numbered one that improves the objective; ties of the ratio test go to the
/// lowest-numbered basic variable), which cannot cycle. `None` when the objective is
/// unbounded or the iterations run out.
pub fn simplex(c: &[f64], a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let (m, n) = (a.len(), c.len());
    let width = n + m + 1;
    // Constraint rows: [a | I | b]; the objective row holds the reduced costs.
    let mut t: Vec<Vec<f64>> = a
        .iter()
        .zip(b)
        .enumerate()
        .map(|(i, (row, &rhs))| {
            let mut r = vec![0.0; width];
            r[..n].copy_from_slice(row);
            r[n + i] = 1.0;
            r[width - 1] = rhs;
            r
        })
        .collect();
    let mut cost = vec![0.0; width];
    cost[..n].copy_from_slice(c);
    let mut basis: Vec<usize> = (n..n + m).collect();
    for _ in 0..100 * (n + m + 1) {
        let Some(enter) = (0..n + m).find(|&j| cost[j] > EPS) else {
            let mut x = vec![0.0; n];
            for (i, &v) in basis.iter().enumerate() {
                if v < n {
                    x[v] = t[i][width - 1].max(0.0);
                }
            }
            return Some(x);
        };
        let mut leave: Option<(usize, f64)> = None;
        for (i, row) in t.iter().enumerate() {
            if row[enter] <= EPS {
                continue;
            }
            let ratio = row[width - 1].max(0.0) / row[enter];
            leave = match leave {
                Some((l, best))
                    if ratio > best + 1e-12 || (ratio >= best - 1e-12 && basis[l] < basis[i]) =>
                {
                    Some((l, best))
                }
                _ => Some((i, ratio)),
            };
        }
        let (l, _) = leave?;
        pivot(&mut t, &mut cost, l, enter);
        basis[l] = enter;
    }
    None
}

/// One pivot of the tableau on row `l`, column `e`.
fn pivot(t: &mut [Vec<f64>], cost: &mut [f64], l: usize, e: usize) {
    let p = t[l][e];
    t[l].iter_mut().for_each(|v| *v /= p);
    let prow = t[l].clone();
    let eliminate = |row: &mut [f64]| {
        let f = row[e];
        if f != 0.0 {
            row.iter_mut().zip(&prow).for_each(|(v, p)| *v -= f * p);
        }
    };
    for (i, row) in t.iter_mut().enumerate() {
        if i != l {
            eliminate(row);
        }
    }
    eliminate(cost);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    const NA: f64 = f64::NAN;

    fn close(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-12
    }

    fn assert_scores(x: &Array2<f64>, w: &[f64], lower: f64, upper: f64, want: &[f64]) -> Bod {
        let got = benefit_of_the_doubt(x.view(), w, lower, upper).unwrap();
        assert!(
            got.scores.iter().zip(want).all(|(a, b)| close(*a, *b)),
            "{:?} vs {want:?}",
            got.scores
        );
        got
    }

    /// Five units on two children. The frontier is A, B, C (the upper-right hull of the
    /// points); D = (2, 2) is 2/3 of B. E = (3, 1) is best off on the edge between C and B:
    /// 4w₁ + w₂ = 1 and 3w₁ + 3w₂ = 1 give w = (2/9, 1/9) and 3·2/9 + 1/9 = 7/9 (the other
    /// vertices give 3/4 at (1/4, 0), 5/9 on the edge B–A, 1/4 at (0, 1/4)).
    fn five() -> Array2<f64> {
        array![[1.0, 4.0], [3.0, 3.0], [4.0, 1.0], [2.0, 2.0], [3.0, 1.0]]
    }

    #[test]
    fn by_hand() {
        let b = assert_scores(
            &five(),
            &[1.0, 1.0],
            0.0,
            1.0,
            &[1.0, 1.0, 1.0, 2.0 / 3.0, 7.0 / 9.0],
        );
        // E's shares: 3·(2/9) and 1·(1/9) of 7/9.
        assert!(close(b.shares[[4, 0]], 6.0 / 7.0) && close(b.shares[[4, 1]], 1.0 / 7.0));
        // Shares add up to 1 for every unit.
        for row in b.shares.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12, "{row:?}");
        }
    }

    #[test]
    fn equal_shares_by_hand() {
        // Shares bounded to exactly ½ each: w_j y_uj = t for both children, so unit k gets
        // t·Σ_j y_kj / y_uj against u's own 2t, and u scores 2 / max_k Σ_j y_kj / y_uj.
        // A = (1, 4): A 2, B 3 + 3/4, C 4 + 1/4, D 2 + 1/2, E 3 + 1/4 → 2 / (17/4) = 8/17.
        // B = (3, 3): the largest is B's own 2 → 1. C mirrors A. D = (2, 2): B's 3 → 2/3.
        // E = (3, 1): A's 1/3 + 4 = 13/3 → 6/13.
        let want = [8.0 / 17.0, 1.0, 8.0 / 17.0, 2.0 / 3.0, 6.0 / 13.0];
        let b = assert_scores(&five(), &[1.0, 1.0], 0.5, 0.5, &want);
        assert!(b.shares.iter().all(|s| close(*s, 0.5)), "{:?}", b.shares);
    }

    #[test]
    fn frontier_unit_scores_exactly_one() {
        let x = array![
            [0.1, 0.7, 0.3],
            [0.2, 0.2, 0.9],
            [0.6, 0.1, 0.1],
            [0.05, 0.35, 0.15]
        ];
        let b = benefit_of_the_doubt(x.view(), &[1.0; 3], 0.0, 1.0).unwrap();
        // Each of the first three is best on one child; the last is half the first.
        assert_eq!(b.scores.to_vec(), vec![1.0, 1.0, 1.0, 0.5]);
    }

    #[test]
    fn scale_invariant_per_child() {
        let x = five();
        let mut y = x.clone();
        y.column_mut(0).mapv_inplace(|v| v * 1000.0);
        y.column_mut(1).mapv_inplace(|v| v * 0.001);
        for (lo, hi) in [(0.0, 1.0), (0.2, 0.7), (0.5, 0.5)] {
            let a = benefit_of_the_doubt(x.view(), &[1.0, 1.0], lo, hi).unwrap();
            let b = benefit_of_the_doubt(y.view(), &[1.0, 1.0], lo, hi).unwrap();
            for (p, q) in a.scores.iter().zip(&b.scores) {
                assert!((p - q).abs() < 1e-12, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn missing_children_and_zero_weights() {
        // A unit with a missing child has no score and is not on the frontier (its 100 would
        // otherwise push everyone down); a child of weight 0 is left out.
        let x = array![
            [1.0, 4.0, 50.0],
            [3.0, 3.0, 0.0],
            [4.0, 1.0, 0.0],
            [2.0, 2.0, 0.0],
            [3.0, 1.0, 0.0],
            [100.0, NA, 0.0]
        ];
        let b = assert_scores(
            &x,
            &[1.0, 2.0, 0.0],
            0.0,
            1.0,
            &[1.0, 1.0, 1.0, 2.0 / 3.0, 7.0 / 9.0, NA],
        );
        assert!(b.shares.column(2).iter().all(|s| s.is_nan()));
        assert!(b.shares.row(5).iter().all(|s| s.is_nan()));
        // A unit of zeros scores 0, without shares.
        let z = array![[0.0, 0.0], [1.0, 2.0]];
        let b = assert_scores(&z, &[1.0, 1.0], 0.0, 1.0, &[0.0, 1.0]);
        assert!(b.shares.row(0).iter().all(|s| s.is_nan()));
        // With a lower bound, a zero child forces the whole score to 0 (its share is 0).
        assert_scores(
            &array![[0.0, 2.0], [1.0, 1.0]],
            &[1.0, 1.0],
            0.1,
            1.0,
            &[0.0, 1.0],
        );
    }

    #[test]
    fn errors() {
        let x = array![[1.0, 2.0], [0.5, -0.25]];
        assert_eq!(
            benefit_of_the_doubt(x.view(), &[1.0, 1.0], 0.0, 1.0),
            Err(StageError::NegativeChild {
                row: 1,
                col: 1,
                value: -0.25
            })
        );
        // A negative value under a weight of 0 does not count.
        assert!(benefit_of_the_doubt(x.view(), &[1.0, 0.0], 0.0, 1.0).is_ok());
        let y = array![[1.0, 2.0, 3.0]];
        for (lower, upper) in [(0.4, 1.0), (0.0, 0.3)] {
            assert_eq!(
                benefit_of_the_doubt(y.view(), &[1.0; 3], lower, upper),
                Err(StageError::BodBounds {
                    children: 3,
                    lower,
                    upper
                })
            );
        }
        // Exactly 1/n is allowed.
        assert!(benefit_of_the_doubt(y.view(), &[1.0; 3], 1.0 / 3.0, 1.0 / 3.0).is_ok());
    }

    #[test]
    fn simplex_by_hand() {
        // max 3x + 2y s.t. x + y ≤ 4, x + 3y ≤ 6, x ≤ 3: optimum at (3, 1), 11.
        let a = vec![vec![1.0, 1.0], vec![1.0, 3.0], vec![1.0, 0.0]];
        let x = simplex(&[3.0, 2.0], &a, &[4.0, 6.0, 3.0]).unwrap();
        assert!(close(x[0], 3.0) && close(x[1], 1.0), "{x:?}");
        // Unbounded: max x with only y ≤ 1.
        assert_eq!(simplex(&[1.0, 0.0], &[vec![0.0, 1.0]], &[1.0]), None);
    }

    /// The optimum of max c·w s.t. a w ≤ b, w ≥ 0 by enumerating the vertices: every choice of
    /// `n` constraints (of `a` or `w_j ≥ 0`) held as equalities, solved by Gaussian
    /// elimination, kept when feasible.
    fn by_vertices(c: &[f64], a: &[Vec<f64>], b: &[f64]) -> f64 {
        let n = c.len();
        let mut rows: Vec<(Vec<f64>, f64)> = a.iter().cloned().zip(b.iter().copied()).collect();
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = -1.0;
            rows.push((e, 0.0));
        }
        let mut best = f64::NEG_INFINITY;
        let mut pick = vec![0usize; n];
        let total = rows.len().pow(n as u32);
        for code in 0..total {
            let mut k = code;
            for p in pick.iter_mut() {
                *p = k % rows.len();
                k /= rows.len();
            }
            if pick.windows(2).any(|w| w[0] >= w[1]) {
                continue;
            }
            let Some(w) = solve(pick.iter().map(|&i| rows[i].clone()).collect()) else {
                continue;
            };
            let feasible = rows
                .iter()
                .all(|(r, rhs)| r.iter().zip(&w).map(|(x, y)| x * y).sum::<f64>() <= rhs + 1e-9);
            if feasible {
                best = best.max(c.iter().zip(&w).map(|(x, y)| x * y).sum());
            }
        }
        best
    }

    /// Solves a square system by Gaussian elimination with partial pivoting.
    fn solve(mut m: Vec<(Vec<f64>, f64)>) -> Option<Vec<f64>> {
        let n = m.len();
        for col in 0..n {
            let p = (col..n).max_by(|&i, &j| m[i].0[col].abs().total_cmp(&m[j].0[col].abs()))?;
            if m[p].0[col].abs() < 1e-9 {
                return None;
            }
            m.swap(col, p);
            for i in (0..n).filter(|&i| i != col) {
                let f = m[i].0[col] / m[col].0[col];
                let (pr, prhs) = m[col].clone();
                m[i].0.iter_mut().zip(&pr).for_each(|(v, q)| *v -= f * q);
                m[i].1 -= f * prhs;
            }
        }
        Some((0..n).map(|i| m[i].1 / m[i].0[i]).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Scores agree with the vertex enumeration of the same programme (written here from
        /// the definition, on the unscaled data), and every share keeps within its bounds.
        #[test]
        fn agrees_with_vertex_enumeration(
            n in 2usize..=3,
            cells in proptest::collection::vec(0u8..=6, 18),
            units in 2usize..=6,
            bounds in prop_oneof![Just((0.0, 1.0)), Just((0.1, 0.8)), Just((0.3, 0.5)), Just((0.0, 0.6))],
        ) {
            let (lower, upper) = bounds;
            let x = Array2::from_shape_fn((units, n), |(i, j)| f64::from(cells[i * 3 + j]) * 0.5);
            let got = benefit_of_the_doubt(x.view(), &vec![1.0; n], lower, upper).unwrap();
            let ys: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
            for (u, yu) in ys.iter().enumerate() {
                let mut a = ys.clone();
                let mut b = vec![1.0; units];
                let total: Vec<f64> = yu.clone();
                for j in 0..n {
                    // y_j w_j ≤ upper Σ y_r w_r and lower Σ y_r w_r ≤ y_j w_j.
                    let mut hi: Vec<f64> = total.iter().map(|t| -upper * t).collect();
                    hi[j] += yu[j];
                    let mut lo: Vec<f64> = total.iter().map(|t| lower * t).collect();
                    lo[j] -= yu[j];
                    a.push(hi);
                    a.push(lo);
                    b.extend([0.0, 0.0]);
                }
                let want = by_vertices(yu, &a, &b);
                prop_assert!((got.scores[u] - want).abs() < 1e-9, "unit {u}: {} vs {want} in {x:?}", got.scores[u]);
                if got.scores[u] > 0.0 {
                    for s in got.shares.row(u) {
                        prop_assert!(*s >= lower - 1e-9 && *s <= upper + 1e-9, "{s} in {x:?}");
                    }
                }
            }
        }
    }
}
