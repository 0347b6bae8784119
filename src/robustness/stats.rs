//! The summaries of an analysis: rank statistics per unit (quantiles as R's default, type 7)
//! and variance-based sensitivity indices of a Saltelli design, as COINr's `SA_estimate`.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::{RankStats, Sensitivity};

/// The `p` quantile of `sorted` (ascending, no NaN) by R's default rule (type 7): linear
/// interpolation between the order statistics at `(n − 1)·p`. NaN for an empty slice.
pub fn quantile7(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            // As R computes it: index = 1 + (n − 1)·p, then (1 − h)·x[lo] + h·x[hi].
            let index = 1.0 + (n - 1) as f64 * p;
            let lo = index.floor();
            let h = index - lo;
            let (a, b) = (
                sorted[lo as usize - 1],
                sorted[(index.ceil() as usize).min(n) - 1],
            );
            if h > 0.0 && a != b {
                (1.0 - h) * a + h * b
            } else {
                a
            }
        }
    }
}

/// Statistics of one unit's ranks over the runs (`ranks`, 0 = no rank, left out); `None`
/// when the unit has a rank in no run.
pub fn rank_stats(nominal: u32, ranks: impl IntoIterator<Item = u32>) -> Option<RankStats> {
    let mut r: Vec<u32> = ranks.into_iter().filter(|&r| r > 0).collect();
    if r.is_empty() {
        return None;
    }
    r.sort_unstable();
    let x: Vec<f64> = r.iter().map(|&v| f64::from(v)).collect();
    Some(RankStats {
        nominal,
        mean: x.iter().sum::<f64>() / x.len() as f64,
        median: quantile7(&x, 0.5),
        q5: quantile7(&x, 0.05),
        q95: quantile7(&x, 0.95),
        min: r[0],
        max: r[r.len() - 1],
        runs: r.len(),
    })
}

/// The output of a run for the sensitivity analysis: the mean absolute difference between the
/// units' ranks in the run and their nominal ranks, over the units ranked in both (0 = no
/// rank). NaN when no unit is ranked in both.
pub fn mean_rank_shift(nominal: &[u32], run: &[u32]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (&a, &b) in nominal.iter().zip(run) {
        if a > 0 && b > 0 {
            sum += f64::from(a.abs_diff(b));
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Sample variance (n − 1) of the finite values of `y`.
fn variance(y: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = y.filter(|x| x.is_finite()).collect();
    let n = v.len() as f64;
    if v.len() < 2 {
        return f64::NAN;
    }
    let mean = v.iter().sum::<f64>() / n;
    v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
}

/// First-order index (Saltelli 2010): `mean(yB·(yABi − yA)) / varY`, over the rows where all
/// three are finite (R's `na.rm = TRUE`).
fn first_order(ya: &[f64], yb: &[f64], yab: &[f64], var_y: f64) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for ((&a, &b), &ab) in ya.iter().zip(yb).zip(yab) {
        let t = b * (ab - a);
        if t.is_finite() {
            sum += t;
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64 / var_y
    }
}

/// Total-order index (Jansen 1999): `Σ (yA − yABi)² / (2N·varY)`, the sum over the rows where
/// both are finite and N the design's base size (as COINr).
fn total_order(ya: &[f64], yab: &[f64], var_y: f64) -> f64 {
    let sum: f64 = ya
        .iter()
        .zip(yab)
        .map(|(&a, &ab)| (a - ab) * (a - ab))
        .filter(|t| t.is_finite())
        .sum();
    sum / (2.0 * ya.len() as f64 * var_y)
}

/// Sensitivity indices of a Saltelli design as COINr's `SA_estimate`. `y` holds the outputs
/// stacked as the design's runs: A (`n` rows), B (`n`), then AB_1 … AB_d (`n` each) for the
/// `inputs` in order. varY is the variance of A and B (n − 1); the bootstrap resamples the
/// `n` row indices with replacement `bootstrap` times per input (varY is not resampled) and
/// gives the 5 % and 95 % quantiles (type 7). The resamples are drawn from `seed`.
///
/// # Panics
/// When `y` does not hold `n·(inputs + 2)` outputs ([`super::analyse`] checks a plan first).
pub fn sensitivity(
    y: &[f64],
    n: usize,
    inputs: &[String],
    bootstrap: usize,
    seed: u64,
) -> Vec<Sensitivity> {
    assert_eq!(
        y.len(),
        n * (inputs.len() + 2),
        "a Saltelli design's outputs"
    );
    let (ya, yb) = (&y[..n], &y[n..2 * n]);
    let var_y = variance(ya.iter().chain(yb).copied());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    inputs
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let yab = &y[(i + 2) * n..(i + 3) * n];
            let (mut si_b, mut sti_b) = (Vec::new(), Vec::new());
            let (mut a, mut b, mut ab) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            for _ in 0..bootstrap {
                for k in 0..n {
                    // Lemire's multiply-shift: uniform on 0..n without a modulo's bias.
                    let d = ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize;
                    (a[k], b[k], ab[k]) = (ya[d], yb[d], yab[d]);
                }
                si_b.push(first_order(&a, &b, &ab, var_y));
                sti_b.push(total_order(&a, &ab, var_y));
            }
            let q = |mut v: Vec<f64>, p: f64| {
                v.retain(|x| !x.is_nan());
                v.sort_by(f64::total_cmp);
                quantile7(&v, p)
            };
            Sensitivity {
                input: name.clone(),
                si: first_order(ya, yb, yab, var_y),
                si_q5: q(si_b.clone(), 0.05),
                si_q95: q(si_b, 0.95),
                sti: total_order(ya, yab, var_y),
                sti_q5: q(sti_b.clone(), 0.05),
                sti_q95: q(sti_b, 0.95),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_r_type_7() {
        // R: quantile(c(1, 2, 4, 8), c(0.05, 0.5, 0.95)) = 1.15, 3, 7.4
        let x = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile7(&x, 0.05) - 1.15).abs() < 1e-12);
        assert_eq!(quantile7(&x, 0.5), 3.0);
        assert!((quantile7(&x, 0.95) - 7.4).abs() < 1e-12);
        assert_eq!(quantile7(&x, 0.0), 1.0);
        assert_eq!(quantile7(&x, 1.0), 8.0);
        assert_eq!(quantile7(&[5.0], 0.3), 5.0);
        assert!(quantile7(&[], 0.5).is_nan());
    }

    #[test]
    fn rank_statistics_by_hand() {
        // Ranks 3, 1, 2, 2 and one run without a rank.
        let s = rank_stats(2, [3, 1, 0, 2, 2]).unwrap();
        assert_eq!((s.nominal, s.min, s.max, s.runs), (2, 1, 3, 4));
        assert_eq!(s.mean, 2.0);
        assert_eq!(s.median, 2.0);
        // sorted 1 2 2 3: h = 3·0.05 = 0.15 → 1.15; h = 2.85 → 2 + 0.85 = 2.85
        assert!((s.q5 - 1.15).abs() < 1e-12 && (s.q95 - 2.85).abs() < 1e-12);
        assert_eq!(rank_stats(1, [0, 0]), None);
    }

    #[test]
    fn the_rank_shift_leaves_out_units_without_a_rank() {
        assert_eq!(mean_rank_shift(&[1, 2, 3, 0], &[2, 1, 3, 4]), 2.0 / 3.0);
        assert!(mean_rank_shift(&[0, 1], &[1, 0]).is_nan());
    }
}
