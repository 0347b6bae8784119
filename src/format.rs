//! Numbers as kapok shows them to readers: charts (and any report part that wants the same
//! look). One place for significant figures and for never writing a negative zero.

/// A value with three significant figures, as charts show scores and raw values: `67.8`,
/// `5.23`, `0.0316`, `1234` (whole numbers from 1,000 up), `–` for no value. A value that
/// rounds to zero is `0`-something, never `-0`.
pub fn fmt_value(v: f64) -> String {
    fmt_sig(v, 3)
}

/// A value with `sig` significant figures (at least 1), no exponent: whole numbers keep all
/// their digits (`12345` stays `12345`). `–` for NaN or infinity.
pub fn fmt_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return fmt_fixed(0.0, sig.saturating_sub(1).min(1));
    }
    let sig = sig.max(1);
    // The exponent after rounding to `sig` figures (9.996 rounds to 10.0, not 9.996).
    let e: i32 = format!("{:.*e}", sig - 1, v.abs())
        .split('e')
        .nth(1)
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let decimals = (sig as i32 - 1 - e).clamp(0, 12) as usize;
    fmt_fixed(v, decimals)
}

/// A value with a fixed number of decimals; one that rounds to zero has no minus sign.
pub fn fmt_fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let s = format!("{v:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A value with at most `decimals` decimals and no trailing zeros: rank statistics such as
/// `3`, `4.5`, `4.95`. `–` for NaN or infinity.
pub fn fmt_trimmed(v: f64, decimals: usize) -> String {
    let s = fmt_fixed(v, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Decimals to print scores with: `digits` when the framework ranks on rounded scores
/// (`[rank] digits`, as their publisher prints them; 1–6), 3 when every score is within ±1
/// (indices on a 0–1 scale, such as UNDP's, where 2 decimals would tie most units), else 2.
pub fn score_decimals(digits: Option<u32>, scores: impl IntoIterator<Item = f64>) -> usize {
    if let Some(d) = digits {
        return d.clamp(1, 6) as usize;
    }
    let within_one = scores
        .into_iter()
        .filter(|v| v.is_finite())
        .all(|v| v.abs() <= 1.0);
    if within_one { 3 } else { 2 }
}

/// `v` with a negative zero made positive (other values unchanged): stored results never hold
/// `-0.0`, which would print as `-0`.
pub fn no_negative_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_ranked_or_by_their_scale() {
        assert_eq!(score_decimals(Some(3), [60.0, 70.0]), 3);
        assert_eq!(score_decimals(Some(9), [60.0]), 6);
        assert_eq!(score_decimals(None, [0.009, 0.012, f64::NAN, -0.5]), 3);
        assert_eq!(score_decimals(None, [0.5, 1.5]), 2);
        assert_eq!(score_decimals(None, [65.2, 80.1]), 2);
    }

    #[test]
    fn rank_statistics_lose_their_trailing_zeros() {
        assert_eq!(fmt_trimmed(3.0, 2), "3");
        assert_eq!(fmt_trimmed(4.5, 2), "4.5");
        assert_eq!(fmt_trimmed(4.95, 2), "4.95");
        assert_eq!(fmt_trimmed(1.0499999999999972, 2), "1.05");
        assert_eq!(fmt_trimmed(10.0, 2), "10");
        assert_eq!(fmt_trimmed(f64::NAN, 2), "–");
    }

    #[test]
    fn three_significant_figures() {
        assert_eq!(fmt_value(0.0316), "0.0316");
        assert_eq!(fmt_value(0.031649), "0.0316");
        assert_eq!(fmt_value(67.84), "67.8");
        assert_eq!(fmt_value(5.2349), "5.23");
        assert_eq!(fmt_value(100.0), "100");
        assert_eq!(fmt_value(9.996), "10.0");
        assert_eq!(fmt_value(1234.6), "1235");
        assert_eq!(fmt_value(12345.0), "12345");
        assert_eq!(fmt_value(-0.5), "-0.500");
        assert_eq!(fmt_value(0.0), "0.0");
        assert_eq!(fmt_value(f64::NAN), "–");
        assert_eq!(fmt_sig(45.23, 2), "45");
        assert_eq!(fmt_sig(0.523, 2), "0.52");
    }

    #[test]
    fn never_a_negative_zero() {
        assert_eq!(fmt_value(-0.0), "0.0");
        assert_eq!(fmt_fixed(-0.004, 2), "0.00");
        assert_eq!(fmt_fixed(-0.0, 1), "0.0");
        assert_eq!(fmt_fixed(-0.006, 2), "-0.01");
        assert_eq!(fmt_sig(-0.0, 2), "0.0");
        assert!(no_negative_zero(-0.0).is_sign_positive());
        assert_eq!(no_negative_zero(-1.5), -1.5);
        assert!(no_negative_zero(f64::NAN).is_nan());
    }
}
