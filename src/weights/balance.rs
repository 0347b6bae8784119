//! Balance weights of one node (COINr's `get_opt_weights(optype = "balance", itarg = "equal")`):
//! the weights that make the children's correlations with the node's score as equal as possible.
//!
//! Over the units with every child present, for weights `w` the node's score `y(w)` is the
//! children aggregated with the node's own method, and `c_j` is the Pearson correlation of child
//! `j` with `y(w)`. The cost is COINr's, without its logarithm (which moves the path of the
//! search, not its minimum):
//!
//! ```text
//! cost(w) = Σ_j (1/k − c_j / Σ_i c_i)² / k
//! ```
//!
//! It is minimised by [`nelder_mead`] — the rules of R's `optim(method = "Nelder-Mead")`, which
//! COINr calls — over `x` with `w_j = x_j² / Σ x_i²`, so that weights stay ≥ 0 (COINr searches
//! `w` itself and may return negative weights), from equal weights (`x = 1`), with a relative
//! tolerance of [`RELTOL`] and at most [`MAX_EVALUATIONS`] evaluations (COINr: 0.1 and 500,
//! which stop the search early). A cost that cannot be computed (an undefined correlation, an
//! aggregation error) counts as 10³⁵, as in R.

use ndarray::{Array2, ArrayView2};

use super::{Problem, complete};
use crate::framework::AggSpec;
use crate::pipeline;

/// Relative tolerance of the search: it stops when the simplex's costs differ by less than
/// `RELTOL · (cost at equal weights + RELTOL)`.
pub const RELTOL: f64 = 1e-14;
/// Cost at or below which the search stops: correlations equal to rounding.
pub const ABSTOL: f64 = 1e-20;
/// Largest number of cost evaluations.
pub const MAX_EVALUATIONS: usize = 20000;
/// The cost of weights whose cost cannot be computed (R's `big`).
const BIG: f64 = 1e35;

/// The balance weights of one node's children.
#[derive(Clone, Debug, PartialEq)]
pub struct Balanced {
    /// Weights, summing to 1.
    pub weights: Vec<f64>,
    /// Each child's correlation with the node's score under `weights`.
    pub correlations: Vec<f64>,
    /// Each child's correlation with the node's score under equal weights.
    pub equal_correlations: Vec<f64>,
    /// The cost under `weights`.
    pub cost: f64,
    /// Cost evaluations the search used.
    pub evaluations: usize,
    /// Whether the search met its tolerance (false: it stopped at [`MAX_EVALUATIONS`] or
    /// because its simplex could shrink no further).
    pub converged: bool,
    /// Units with every child present.
    pub units: usize,
}

/// The children's correlations with their aggregate under `weights` (rows are complete units),
/// or `None` when one is undefined or the aggregation fails.
pub fn correlations(x: ArrayView2<f64>, weights: &[f64], agg: &AggSpec) -> Option<Vec<f64>> {
    let y = pipeline::aggregate(x, weights, &agg.method, agg.min_share).ok()?;
    let y = y.to_vec();
    (0..x.ncols())
        .map(|j| crate::stats::pearson(&x.column(j).to_vec(), &y))
        .collect()
}

/// The cost of correlations `c` (module docs); `None` when they sum to 0.
pub fn cost_of(c: &[f64]) -> Option<f64> {
    let k = c.len() as f64;
    let total: f64 = c.iter().sum();
    let cost = c
        .iter()
        .map(|ci| (1.0 / k - ci / total).powi(2))
        .sum::<f64>()
        / k;
    cost.is_finite().then_some(cost)
}

/// The cost of `weights` (module docs), `None` when it cannot be computed.
pub fn cost(x: ArrayView2<f64>, weights: &[f64], agg: &AggSpec) -> Option<f64> {
    cost_of(&correlations(x, weights, agg)?)
}

/// Weights from the search variables: `x_j² / Σ x_i²`.
fn to_weights(x: &[f64]) -> Vec<f64> {
    let total: f64 = x.iter().map(|v| v * v).sum();
    x.iter().map(|v| v * v / total).collect()
}

/// The balance weights of the columns of `children` (rows are units, `NaN` missing), aggregated
/// with `agg`, over its complete rows; at least two columns.
///
/// # Errors
/// The [`Problem`]s of [`complete`]; [`Problem::Aggregation`] when equal weights cannot be
/// aggregated; [`Problem::Undefined`] when the correlations are undefined at equal weights.
pub fn balance_weights(children: ArrayView2<f64>, agg: &AggSpec) -> Result<Balanced, Problem> {
    let x: Array2<f64> = complete(children)?;
    let k = x.ncols();
    let equal = vec![1.0 / k as f64; k];
    pipeline::aggregate(x.view(), &equal, &agg.method, agg.min_share)
        .map_err(Problem::Aggregation)?;
    let equal_correlations = correlations(x.view(), &equal, agg).ok_or(Problem::Undefined)?;
    cost_of(&equal_correlations).ok_or(Problem::Undefined)?;
    let f = |v: &[f64]| cost(x.view(), &to_weights(v), agg).unwrap_or(BIG);
    let min = search(f, k);
    let weights = to_weights(&min.x);
    let correlations = correlations(x.view(), &weights, agg).ok_or(Problem::Undefined)?;
    Ok(Balanced {
        weights,
        correlations,
        equal_correlations,
        cost: min.value,
        evaluations: min.evaluations,
        converged: min.converged,
        units: x.nrows(),
    })
}

/// [`nelder_mead`] from `x = 1` (equal weights), restarted from its best point with a fresh
/// simplex while a restart lowers the cost by more than a millionth (a collapsed simplex
/// stalls the search short of the minimum), within [`MAX_EVALUATIONS`] in all.
fn search(f: impl Fn(&[f64]) -> f64, k: usize) -> Minimum {
    let mut best = nelder_mead(&f, &vec![1.0; k], RELTOL, ABSTOL, MAX_EVALUATIONS);
    let mut used = best.evaluations;
    while best.value > ABSTOL && used < MAX_EVALUATIONS {
        let next = nelder_mead(&f, &best.x, RELTOL, ABSTOL, MAX_EVALUATIONS - used);
        used += next.evaluations;
        let improved = next.value < best.value * (1.0 - 1e-6);
        if next.value < best.value {
            best = next;
        }
        if !improved {
            break;
        }
    }
    Minimum {
        evaluations: used,
        converged: best.converged && used <= MAX_EVALUATIONS,
        ..best
    }
}

/// The result of [`nelder_mead`].
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    /// The best point found.
    pub x: Vec<f64>,
    /// The function's value there.
    pub value: f64,
    /// Function evaluations used.
    pub evaluations: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
}

/// The Nelder–Mead simplex search with the rules of R's `optim` (reflection 1, expansion 2,
/// contraction ½, shrink towards the best point; a first simplex of steps of
/// `0.1 · max |x0_i|` along each axis): stops when the simplex's values differ by at most
/// `reltol · (|f(x0)| + reltol)`, when the best value is at most `abstol`, when a shrink does
/// not make the simplex smaller, or after `max_evaluations`. A non-finite value counts as 10³⁵.
/// Deterministic.
pub fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    x0: &[f64],
    reltol: f64,
    abstol: f64,
    max_evaluations: usize,
) -> Minimum {
    let n = x0.len();
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { BIG }
    };
    let f0 = eval(x0);
    let convtol = reltol * (f0.abs() + reltol);
    let step = x0.iter().fold(0.0f64, |m, v| m.max(0.1 * v.abs()));
    let step = if step == 0.0 { 0.1 } else { step };
    // The simplex: n + 1 points with their values.
    let mut pts: Vec<Vec<f64>> = vec![x0.to_vec()];
    let mut size = 0.0;
    for i in 0..n {
        let mut p = x0.to_vec();
        let mut t = step;
        while p[i] == x0[i] {
            p[i] = x0[i] + t;
            t *= 10.0;
        }
        size += t;
        pts.push(p);
    }
    let mut old_size = size;
    let mut vals: Vec<f64> = vec![f0];
    vals.extend(pts[1..].iter().map(|p| eval(p)));
    let mut evaluations = 1 + n;
    let mut converged = false;
    let mut low = 0;
    loop {
        // Best (first lowest from the previous best on) and worst.
        let (mut l, mut h) = (low, low);
        for j in 0..=n {
            if vals[j] < vals[l] {
                l = j;
            }
            if vals[j] > vals[h] {
                h = j;
            }
        }
        low = l;
        if vals[h] <= vals[l] + convtol || vals[l] <= abstol {
            converged = true;
            break;
        }
        if evaluations > max_evaluations {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|i| (0..=n).filter(|&j| j != h).map(|j| pts[j][i]).sum::<f64>() / n as f64)
            .collect();
        let reflected: Vec<f64> = (0..n).map(|i| 2.0 * centroid[i] - pts[h][i]).collect();
        let fr = eval(&reflected);
        evaluations += 1;
        if fr < vals[l] {
            let expanded: Vec<f64> = (0..n).map(|i| 2.0 * reflected[i] - centroid[i]).collect();
            let fe = eval(&expanded);
            evaluations += 1;
            (pts[h], vals[h]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
            continue;
        }
        // The worst value before the reflection replaces it (R's `VH`).
        let vh = vals[h];
        if fr < vh {
            (pts[h], vals[h]) = (reflected, fr);
        }
        let contracted: Vec<f64> = (0..n)
            .map(|i| 0.5 * pts[h][i] + 0.5 * centroid[i])
            .collect();
        let fc = eval(&contracted);
        evaluations += 1;
        if fc < vals[h] {
            (pts[h], vals[h]) = (contracted, fc);
        } else if fr >= vh {
            // Shrink every point towards the best one.
            size = 0.0;
            let best = pts[l].clone();
            for j in (0..=n).filter(|&j| j != l) {
                for i in 0..n {
                    pts[j][i] = 0.5 * (pts[j][i] - best[i]) + best[i];
                    size += (pts[j][i] - best[i]).abs();
                }
                vals[j] = eval(&pts[j]);
                evaluations += 1;
            }
            if size < old_size {
                old_size = size;
            } else {
                break;
            }
        }
    }
    Minimum {
        x: pts[low].clone(),
        value: vals[low],
        evaluations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Aggregate;
    use ndarray::Array2;

    fn arithmetic() -> AggSpec {
        AggSpec {
            method: Aggregate::Arithmetic,
            min_share: 0.0,
        }
    }

    fn sd(v: &[f64]) -> f64 {
        crate::stats::sd(v).unwrap()
    }

    /// Column `j` of the 8 × 8 Sylvester–Hadamard matrix: ±1, columns 1…7 orthogonal with
    /// mean 0.
    fn hadamard(j: usize) -> Vec<f64> {
        (0..8usize)
            .map(|i| {
                if (i & j).count_ones().is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    }

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let f = |x: &[f64]| (x[0] - 1.0).powi(2) + 2.0 * (x[1] + 2.0).powi(2) + 3.0;
        let m = nelder_mead(f, &[0.0, 0.0], 1e-14, f64::NEG_INFINITY, 5000);
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] + 2.0).abs() < 1e-5,
            "{m:?}"
        );
        assert!((m.value - 3.0).abs() < 1e-10);
        // Deterministic: the same search twice gives the same bits.
        assert_eq!(
            m,
            nelder_mead(f, &[0.0, 0.0], 1e-14, f64::NEG_INFINITY, 5000)
        );
        // The evaluation budget is honoured.
        let m = nelder_mead(f, &[0.0, 0.0], 1e-14, f64::NEG_INFINITY, 20);
        assert!(!m.converged && m.evaluations <= 20 + 4, "{}", m.evaluations);
    }

    #[test]
    fn two_children_are_weighted_by_the_inverse_of_their_spread() {
        // For y = w₁x₁ + w₂x₂ and standardised zⱼ = xⱼ/sⱼ, y = (w₁s₁)z₁ + (w₂s₂)z₂, and
        // corr(z₁, y) = corr(z₂, y) exactly when w₁s₁ = w₂s₂ (r ≠ 1): w ∝ 1/s.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [30.0, 10.0, 60.0, 20.0, 90.0, 50.0];
        let x = Array2::from_shape_fn((6, 2), |(i, j)| if j == 0 { a[i] } else { b[i] });
        let got = balance_weights(x.view(), &arithmetic()).unwrap();
        let (ia, ib) = (1.0 / sd(&a), 1.0 / sd(&b));
        let want = [ia / (ia + ib), ib / (ia + ib)];
        assert!(got.converged, "{got:?}");
        for j in 0..2 {
            assert!(
                (got.weights[j] - want[j]).abs() < 1e-6,
                "{got:?} vs {want:?}"
            );
        }
        assert!(
            (got.correlations[0] - got.correlations[1]).abs() < 1e-7,
            "{got:?}"
        );
        assert!(got.cost < 1e-14);
        // At equal weights the wide child dominates the score.
        assert!(got.equal_correlations[1] > got.equal_correlations[0]);
    }

    #[test]
    fn equicorrelated_children_are_weighted_by_the_inverse_of_their_spread() {
        // zⱼ = h₁ + h₍ⱼ₊₁₎ (Hadamard columns): every pair correlates ½; xⱼ = sⱼ·zⱼ + mⱼ. By
        // symmetry of the standardised children the balance is at wⱼ ∝ 1/sⱼ = 1, ½, ⅕.
        let s = [1.0, 2.0, 5.0];
        let h1 = hadamard(1);
        let x = Array2::from_shape_fn((8, 3), |(i, j)| {
            s[j] * (h1[i] + hadamard(j + 2)[i]) + 10.0 * j as f64
        });
        let got = balance_weights(x.view(), &arithmetic()).unwrap();
        let want = [1.0 / 1.7, 0.5 / 1.7, 0.2 / 1.7];
        for (w, want) in got.weights.iter().zip(want) {
            assert!((w - want).abs() < 1e-5, "{got:?}");
        }
        // Symmetric data (equal spreads): equal weights are already balanced; nothing moves.
        let x = Array2::from_shape_fn((8, 3), |(i, j)| h1[i] + hadamard(j + 2)[i]);
        let got = balance_weights(x.view(), &arithmetic()).unwrap();
        assert_eq!(got.weights, vec![1.0 / 3.0; 3]);
        assert_eq!(got.evaluations, 4);
    }

    #[test]
    fn balance_beats_equal_and_random_weights() {
        // Five children of unequal spread and a common factor, twenty units; the cost of the
        // balance weights must be below that of equal weights and of 500 random weightings.
        let mut seed = 11u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let factor: Vec<f64> = (0..20).map(|_| next()).collect();
        let x = Array2::from_shape_fn((20, 5), |(i, j)| {
            (j as f64 + 1.0) * (factor[i] + 0.8 * next())
        });
        let agg = arithmetic();
        let got = balance_weights(x.view(), &agg).unwrap();
        let best = cost(x.view(), &got.weights, &agg).unwrap();
        let equal = cost(x.view(), &[0.2; 5], &agg).unwrap();
        assert!(best < equal / 1000.0, "{best} vs {equal}");
        for _ in 0..500 {
            let w: Vec<f64> = (0..5).map(|_| next()).collect();
            assert!(best <= cost(x.view(), &w, &agg).unwrap());
        }
        assert!((got.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(got.weights.iter().all(|w| *w >= 0.0));
        let spread = got.correlations.iter().cloned().fold(f64::MIN, f64::max)
            - got.correlations.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread < 1e-5, "{:?}", got.correlations);
    }

    #[test]
    fn the_node_method_scores_the_parent() {
        // With a geometric mean the balance differs from the arithmetic one, and the
        // correlations it reports are those of the geometric aggregate.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [30.0, 10.0, 60.0, 20.0, 90.0, 50.0];
        let x = Array2::from_shape_fn((6, 2), |(i, j)| if j == 0 { a[i] } else { b[i] });
        let geo = AggSpec {
            method: Aggregate::Geometric,
            min_share: 0.0,
        };
        let got = balance_weights(x.view(), &geo).unwrap();
        assert_eq!(
            correlations(x.view(), &got.weights, &geo).unwrap(),
            got.correlations
        );
        assert!((got.correlations[0] - got.correlations[1]).abs() < 1e-7);
    }
}
