//! The `[trend]` table: the windows and thresholds of the change and trend columns (see
//! [`crate::trend`]). Every key is optional:
//!
//! ```toml
//! [trend]
//! window = 12        # periods the trend class looks back over (default 12 months, 8 quarters, 5 years)
//! rolling = 3        # periods of the rolling mean (default 3 months, 4 quarters, 3 years)
//! t = 2              # |t| of the least-squares slope needed to call a trend (default 2)
//! min_change = 0     # and the smallest change over the window, in score units (default 0)
//! min_periods = 6    # periods with a score needed for a class (default half the window, at least 3)
//! ```

use std::ops::Range;

use toml::de::DeTable;

use super::diag::Diagnostic;
use super::read::{Sink, Sp, TableReader};
use crate::period::Granularity;

/// The declared trend settings; `None` = the default for the data's granularity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrendSpec {
    /// Periods the trend class looks back over, the chosen period included.
    pub window: Option<usize>,
    /// Periods of the rolling mean, the chosen period included.
    pub rolling: Option<usize>,
    /// The |t| of the slope that makes a trend (default [`DEFAULT_T`]).
    pub t: Option<f64>,
    /// The smallest fitted change over the window (slope × (window − 1)), in score units (ranks
    /// when scores are not comparable across periods); default 0.
    pub min_change: Option<f64>,
    /// Periods with a score needed in the window for a class.
    pub min_periods: Option<usize>,
}

/// Default |t| of the slope: about the two-sided 5% level for a dozen points.
pub const DEFAULT_T: f64 = 2.0;

/// The settings in effect for data of one granularity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendRule {
    /// Periods of the trend window.
    pub window: usize,
    /// Periods of the rolling mean.
    pub rolling: usize,
    /// |t| needed.
    pub t: f64,
    /// Smallest fitted change over the window.
    pub min_change: f64,
    /// Scored periods needed in the window.
    pub min_periods: usize,
}

impl TrendSpec {
    /// The settings for data of granularity `g` (`None`: periods that are not calendar periods,
    /// treated like months).
    pub fn rule(&self, g: Option<Granularity>) -> TrendRule {
        let (window, rolling) = match g {
            Some(Granularity::Quarter) => (8, 4),
            Some(Granularity::Year) => (5, 3),
            _ => (12, 3),
        };
        let window = self.window.unwrap_or(window);
        TrendRule {
            window,
            rolling: self.rolling.unwrap_or(rolling),
            t: self.t.unwrap_or(DEFAULT_T),
            min_change: self.min_change.unwrap_or(0.0),
            min_periods: self
                .min_periods
                .unwrap_or_else(|| window.div_ceil(2).max(3))
                .min(window),
        }
    }
}

/// A whole number ≥ `least`, or a diagnostic at its span.
fn count(sink: &mut Sink, v: Option<Sp<f64>>, key: &str, least: usize) -> Option<usize> {
    let v = v?;
    if v.value.fract() == 0.0 && v.value >= least as f64 && v.value <= 1000.0 {
        Some(v.value as usize)
    } else {
        sink.push(
            Diagnostic::error(v.span, format!("`{key}` = {} is invalid", v.value))
                .with_label(format!("a whole number of periods from {least} to 1000")),
        );
        None
    }
}

/// Reads and checks the `[trend]` table; errors at their line and column.
pub(super) fn read(sink: &mut Sink, t: &DeTable<'_>, span: Range<usize>) -> TrendSpec {
    let mut r = TableReader::new(t, span, "[trend]");
    let window = r.number(sink, "window");
    let rolling = r.number(sink, "rolling");
    let tv = r.number(sink, "t");
    let min_change = r.number(sink, "min_change");
    let min_periods = r.number(sink, "min_periods");
    r.finish(sink);
    let mut spec = TrendSpec {
        window: count(sink, window, "window", 3),
        rolling: count(sink, rolling, "rolling", 1),
        min_periods: None,
        t: None,
        min_change: None,
    };
    if let Some(v) = tv {
        if v.value > 0.0 {
            spec.t = Some(v.value);
        } else {
            sink.push(
                Diagnostic::error(v.span, format!("`t` = {} is invalid", v.value))
                    .with_label("a number > 0 (2 is about the 5% level)"),
            );
        }
    }
    if let Some(v) = min_change {
        if v.value >= 0.0 {
            spec.min_change = Some(v.value);
        } else {
            sink.push(
                Diagnostic::error(v.span, format!("`min_change` = {} is invalid", v.value))
                    .with_label("a number ≥ 0 (score units over the window)"),
            );
        }
    }
    if let Some(v) = min_periods.clone()
        && let Some(n) = count(sink, Some(v.clone()), "min_periods", 3)
    {
        let window = spec.window.unwrap_or(12);
        if n > window {
            sink.push(
                Diagnostic::error(
                    v.span,
                    format!("`min_periods` = {n} is more than the window ({window})"),
                )
                .with_label("at most `window` periods"),
            );
        } else {
            spec.min_periods = Some(n);
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_scale_with_granularity() {
        let s = TrendSpec::default();
        let m = s.rule(Some(Granularity::Month));
        assert_eq!((m.window, m.rolling, m.min_periods), (12, 3, 6));
        let q = s.rule(Some(Granularity::Quarter));
        assert_eq!((q.window, q.rolling, q.min_periods), (8, 4, 4));
        let y = s.rule(Some(Granularity::Year));
        assert_eq!((y.window, y.rolling, y.min_periods), (5, 3, 3));
        assert_eq!(m.t, 2.0);
        assert_eq!(m.min_change, 0.0);
    }
}
