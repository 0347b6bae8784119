//! Descriptive statistics that skip missing values.
//!
//! Every function here ignores `NaN` entries and computes over the remaining ("present")
//! values only; `n` below is the number of present values.
//!
//! Each function accepts anything that iterates over `&f64`: a slice (`&[f64]`, `&Vec<f64>`),
//! an `ndarray::ArrayView1<f64>` or `&Array1<f64>`. Each returns `None` when the statistic is
//! undefined: too few present values, or (for skewness and kurtosis) zero spread.
//!
//! Skewness and kurtosis are the "type 2" sample estimators of R's `e1071` package (the same
//! as Excel's `SKEW` and `KURT`, and as COINr's `skew()` / `kurt()`), with `d = x − mean(x)`:
//! - `skew = sqrt(n) · Σd³ / (Σd²)^1.5 · sqrt(n(n−1)) / (n−2)` (needs `n ≥ 3`)
//! - `r = n · Σd⁴ / (Σd²)²`, `kurt = ((n+1)(r−3) + 6) · (n−1) / ((n−2)(n−3))` (excess
//!   kurtosis, needs `n ≥ 4`)

/// Collects the present (non-`NaN`) values.
pub(super) fn present<'a>(x: impl IntoIterator<Item = &'a f64>) -> Vec<f64> {
    x.into_iter().copied().filter(|v| !v.is_nan()).collect()
}

pub(super) fn mean_of(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    // Second pass (as R's `mean`) to reduce rounding error.
    let corr = v.iter().map(|x| x - m).sum::<f64>() / n;
    Some(m + corr)
}

/// Returns `(Σd², Σd³, Σd⁴)` around the mean of `v` (non-empty).
fn central_sums(v: &[f64], m: f64) -> (f64, f64, f64) {
    v.iter().fold((0.0, 0.0, 0.0), |(s2, s3, s4), x| {
        let d = x - m;
        let d2 = d * d;
        (s2 + d2, s3 + d2 * d, s4 + d2 * d2)
    })
}

/// Arithmetic mean of the present values; `None` if there are none.
pub fn mean<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    mean_of(&present(x))
}

/// Median of the present values (average of the two middle values when `n` is even);
/// `None` if there are none.
pub fn median<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let mut v = present(x);
    if v.is_empty() {
        return None;
    }
    // Selection, not a full sort: the middle value in linear time, and for an even count the
    // largest of the lower half (the values left of the middle are all ≤ it). Present values
    // are never NaN, so `total_cmp` orders them as `<` does (−0 before +0, which average alike).
    let n = v.len();
    let (lower, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        Some(upper)
    } else {
        let below = lower
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(upper);
        Some((below + upper) / 2.0)
    }
}

/// Sample standard deviation (denominator `n − 1`) of the present values; `None` if `n < 2`.
pub fn sd<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let v = present(x);
    if v.len() < 2 {
        return None;
    }
    let m = mean_of(&v)?;
    let (s2, _, _) = central_sums(&v, m);
    Some((s2 / (v.len() as f64 - 1.0)).sqrt())
}

/// Type-2 sample skewness (R `e1071::skewness(type = 2)`, see the module docs).
///
/// `None` if fewer than 3 values are present or all present values are equal.
pub fn skew<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let v = present(x);
    if v.len() < 3 {
        return None;
    }
    let n = v.len() as f64;
    let m = mean_of(&v)?;
    let (s2, s3, _) = central_sums(&v, m);
    if s2 <= 0.0 {
        return None;
    }
    let g = n.sqrt() * s3 / s2.powf(1.5);
    Some(g * (n * (n - 1.0)).sqrt() / (n - 2.0))
}

/// Type-2 sample excess kurtosis (R `e1071::kurtosis(type = 2)`, see the module docs).
///
/// `None` if fewer than 4 values are present or all present values are equal.
pub fn kurt<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let v = present(x);
    if v.len() < 4 {
        return None;
    }
    let n = v.len() as f64;
    let m = mean_of(&v)?;
    let (s2, _, s4) = central_sums(&v, m);
    if s2 <= 0.0 {
        return None;
    }
    let r = n * s4 / (s2 * s2);
    Some(((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
}

/// [`skew`] and [`kurt`] of the same values, from one pass over them: equal to the two
/// computed apart, bit for bit.
pub fn skew_kurt<'a>(x: impl IntoIterator<Item = &'a f64>) -> (Option<f64>, Option<f64>) {
    let v = present(x);
    if v.len() < 3 {
        return (None, None);
    }
    let n = v.len() as f64;
    let Some(m) = mean_of(&v) else {
        return (None, None);
    };
    let (s2, s3, s4) = central_sums(&v, m);
    if s2 <= 0.0 {
        return (None, None);
    }
    let g = n.sqrt() * s3 / s2.powf(1.5);
    let skew = g * (n * (n - 1.0)).sqrt() / (n - 2.0);
    let kurt = (v.len() >= 4).then(|| {
        let r = n * s4 / (s2 * s2);
        ((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    });
    (Some(skew), kurt)
}

/// Smallest and largest present value; `None` if there are none.
pub fn min_max<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    x.into_iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Share of the present values that are exactly zero; `None` if there are none.
pub fn zero_share<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let v = present(x);
    if v.is_empty() {
        return None;
    }
    Some(v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64)
}

/// Number of distinct present values divided by the number of present values (COINr's
/// "unique share"); `None` if there are none. `0.0` and `-0.0` count as one value.
pub fn unique_share<'a>(x: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    let mut v = present(x);
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| a == b);
    Some(v.len() as f64 / n)
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
    fn mean_median_sd_by_hand() {
        // x = 1, 2, 4, 9 (NaN skipped): mean = 16/4 = 4
        let x = [1.0, NA, 2.0, 4.0, 9.0];
        assert!(close(mean(&x).unwrap(), 4.0));
        // sorted 1 2 4 9 -> (2 + 4)/2 = 3
        assert!(close(median(&x).unwrap(), 3.0));
        // d = -3 -2 0 5 -> Σd² = 9 + 4 + 0 + 25 = 38; sd = sqrt(38/3)
        assert!(close(sd(&x).unwrap(), (38.0f64 / 3.0).sqrt()));
        assert!(close(median(&[3.0, 1.0, 2.0]).unwrap(), 2.0));
        // works on ndarray views too
        let a = array![1.0, 2.0, 3.0];
        assert!(close(mean(a.view()).unwrap(), 2.0));
        assert!(close(mean(&a).unwrap(), 2.0));
        assert_eq!(min_max(&x), Some((1.0, 9.0)));
    }

    #[test]
    fn zero_and_unique_shares_by_hand() {
        // present: 0 0 3 3 5 (NaN skipped): 2 zeros of 5; distinct {0, 3, 5} = 3 of 5
        let x = [0.0, NA, 0.0, 3.0, 3.0, 5.0];
        assert!(close(zero_share(&x).unwrap(), 0.4));
        assert!(close(unique_share(&x).unwrap(), 0.6));
        assert!(close(unique_share(&[0.0, -0.0]).unwrap(), 0.5));
        assert_eq!(zero_share(&[NA]), None);
        assert_eq!(unique_share(&[] as &[f64]), None);
    }

    #[test]
    fn skew_kurt_by_hand() {
        // x = 1, 2, 4, 9: d = -3 -2 0 5, n = 4
        // Σd² = 38, Σd³ = -27 - 8 + 0 + 125 = 90, Σd⁴ = 81 + 16 + 0 + 625 = 722
        // skew = sqrt(4)·90/38^1.5 · sqrt(12)/2
        let x = [1.0, 2.0, 4.0, 9.0];
        let sk = 2.0 * 90.0 / 38f64.powf(1.5) * 12f64.sqrt() / 2.0;
        assert!(close(skew(&x).unwrap(), sk));
        // r = 4·722/38² = 2888/1444 = 2; kurt = (5·(2−3) + 6)·3/(2·1) = 1.5
        assert!(close(kurt(&x).unwrap(), 1.5));
        // symmetric data has zero skew: 1 2 3
        assert!(close(skew(&[1.0, 2.0, 3.0]).unwrap(), 0.0));
    }

    #[test]
    fn too_few_or_constant_is_none() {
        assert_eq!(mean(&[NA, NA]), None);
        assert_eq!(median(&[] as &[f64]), None);
        assert_eq!(sd(&[1.0, NA]), None);
        assert_eq!(skew(&[1.0, 2.0]), None);
        assert_eq!(kurt(&[1.0, 2.0, 3.0]), None);
        assert_eq!(skew(&[2.0, 2.0, 2.0]), None);
        assert_eq!(kurt(&[2.0, 2.0, 2.0, 2.0]), None);
        assert_eq!(min_max(&[NA]), None);
    }

    proptest::proptest! {
        /// The selected median equals the middle of the sorted values (the mean of the two
        /// middle ones for an even count), ties and missing values included.
        #[test]
        fn the_median_is_the_middle_of_the_sorted_values(
            cells in proptest::collection::vec((0i8..8, proptest::bool::weighted(0.1)), 0..30)
        ) {
            let x: Vec<f64> = cells
                .iter()
                .map(|&(v, missing)| if missing { f64::NAN } else { f64::from(v) * 0.5 })
                .collect();
            let mut sorted: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let want = match n {
                0 => None,
                _ if n % 2 == 1 => Some(sorted[n / 2]),
                _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
            };
            proptest::prop_assert_eq!(median(&x), want);
        }

        /// One pass gives what [`skew`] and [`kurt`] give apart, to the bit: with missing
        /// values, ties, constant columns and fewer than 3 or 4 values.
        #[test]
        fn skew_and_kurt_in_one_pass_are_the_two_apart(
            cells in proptest::collection::vec((-50i16..50, proptest::bool::weighted(0.1)), 0..40)
        ) {
            let x: Vec<f64> = cells
                .iter()
                .map(|&(v, missing)| if missing { f64::NAN } else { f64::from(v) * 0.37 })
                .collect();
            let bits = |v: Option<f64>| v.map(f64::to_bits);
            let (s, k) = skew_kurt(&x);
            proptest::prop_assert_eq!(bits(s), bits(skew(&x)));
            proptest::prop_assert_eq!(bits(k), bits(kurt(&x)));
        }
    }
}
