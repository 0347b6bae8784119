//! Publishing at a coarser granularity than the data: `[units] per` and the `[rollup]` table.
//!
//! ```toml
//! [units]
//! period = "month"
//! per = "quarter"            # publish quarters from monthly data (`--per` overrides)
//!
//! [rollup]
//! incomplete = "refuse"      # a quarter with a month missing: refuse | prorate | accept
//! volunteers_registered = "last"   # a stock: the latest month's value
//! loss_population = "mean"
//! ```
//!
//! Every numeric column of a periodic source is summed unless `[rollup]` names another rule;
//! columns of static sources (no period column) are used as they are. Column names can only be
//! checked against the data, by the data stage (see `crate::data::rollup`).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, did_you_mean};
use super::read::{Sink, Sp, TableReader, type_name};
use crate::period::Granularity;

/// How a column's values over the months of a quarter (or year) become one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The total of the months present (counts, flows; the default for numbers).
    Sum,
    /// The latest month's value (stocks at the end of the period; the default for text).
    Last,
    /// The earliest month's value.
    First,
    /// The mean of the months present (average stocks such as population).
    Mean,
    /// The largest monthly value.
    Max,
    /// The smallest monthly value.
    Min,
}

/// Rule names as written in `[rollup]`.
pub const RULES: &[&str] = &["sum", "last", "first", "mean", "max", "min"];

impl Rule {
    /// Parses a rule name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sum" => Self::Sum,
            "last" => Self::Last,
            "first" => Self::First,
            "mean" => Self::Mean,
            "max" => Self::Max,
            "min" => Self::Min,
            _ => return None,
        })
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Last => "last",
            Self::First => "first",
            Self::Mean => "mean",
            Self::Max => "max",
            Self::Min => "min",
        }
    }
}

/// What to do with a unit-period for which a month is missing (no row in a periodic source, or
/// an empty cell among months that have values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Incomplete {
    /// Publish no number from an incomplete period: a period the data start or end inside of
    /// (incomplete for every unit) is left out with a warning; any other incomplete
    /// unit-period is a data error naming units, periods and months.
    #[default]
    Refuse,
    /// Scale `sum` columns by months-in-period / months-present; flagged.
    Prorate,
    /// Use the months that are there; flagged.
    Accept,
}

/// Names of the incompleteness rules.
pub const INCOMPLETE: &[&str] = &["refuse", "prorate", "accept"];

impl Incomplete {
    /// Parses a rule name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "refuse" => Self::Refuse,
            "prorate" => Self::Prorate,
            "accept" => Self::Accept,
            _ => return None,
        })
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Prorate => "prorate",
            Self::Accept => "accept",
        }
    }
}

/// A column's declared rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRule {
    /// The column, as written.
    pub column: String,
    /// Its rule.
    pub rule: Rule,
    /// Span of the key in the framework file.
    pub span: Range<usize>,
}

/// The publication granularity and the rollup rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupSpec {
    /// Publish at this granularity (`[units] per`, or `--per`); `None`: the data's own.
    pub per: Option<Granularity>,
    /// Span of `[units] per` when the framework sets it; `None` when it comes from `--per`.
    pub per_span: Option<Range<usize>>,
    /// What to do with incomplete periods.
    pub incomplete: Incomplete,
    /// Rules of named columns, in file order.
    pub columns: Vec<ColumnRule>,
}

impl RollupSpec {
    /// The declared rule of a column, if any.
    pub fn rule_of(&self, column: &str) -> Option<Rule> {
        self.columns
            .iter()
            .find(|c| c.column == column)
            .map(|c| c.rule)
    }
}

/// Parses a granularity name: `month`, `quarter`, `year` (also `monthly`, `quarterly`, `yearly`,
/// `annual`).
pub fn granularity(s: &str) -> Option<Granularity> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "month" | "months" | "monthly" => Granularity::Month,
        "quarter" | "quarters" | "quarterly" => Granularity::Quarter,
        "year" | "years" | "yearly" | "annual" => Granularity::Year,
        _ => return None,
    })
}

/// Reads `per` of `[units]`.
pub fn per(sink: &mut Sink, r: &mut TableReader<'_, '_>) -> Option<Sp<Granularity>> {
    let v = r.str(sink, "per")?;
    match granularity(&v.value) {
        Some(g) => Some(Sp::new(g, v.span)),
        None => {
            sink.push(
                Diagnostic::error(
                    v.span.clone(),
                    format!(
                        "`per` in [units] must be \"month\", \"quarter\" or \"year\", not `{}`",
                        v.value
                    ),
                )
                .with_label("not a granularity")
                .with_hint_opt(did_you_mean(&v.value, ["month", "quarter", "year"])),
            );
            None
        }
    }
}

/// Reads the `[rollup]` table (rules of columns and `incomplete`).
pub fn read(
    sink: &mut Sink,
    table: Option<(&DeTable<'_>, Range<usize>)>,
    per: Option<Sp<Granularity>>,
) -> RollupSpec {
    let mut spec = RollupSpec {
        per: per.as_ref().map(|p| p.value),
        per_span: per.map(|p| p.span),
        ..RollupSpec::default()
    };
    let Some((t, _)) = table else {
        return spec;
    };
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let Some(text) = string(sink, key, v) else {
            continue;
        };
        if key == "incomplete" {
            match Incomplete::parse(&text) {
                Some(i) => spec.incomplete = i,
                None => sink.push(
                    Diagnostic::error(
                        v.span(),
                        format!(
                            "`incomplete` in [rollup] must be \"refuse\", \"prorate\" or \"accept\", not `{text}`"
                        ),
                    )
                    .with_label("not a rule for incomplete periods")
                    .with_hint(
                        did_you_mean(&text, INCOMPLETE.iter().copied()).unwrap_or_else(|| {
                            "refuse: publish no incomplete period; prorate: scale sums to the whole period; accept: use the months there are".to_string()
                        }),
                    ),
                ),
            }
            continue;
        }
        match Rule::parse(&text) {
            Some(rule) => spec.columns.push(ColumnRule {
                column: key.to_string(),
                rule,
                span: k.span(),
            }),
            None => sink.push(
                Diagnostic::error(
                    v.span(),
                    format!("unknown rollup rule `{text}` for column `{key}`"),
                )
                .with_label("not a rollup rule")
                .with_hint(
                    did_you_mean(&text, RULES.iter().copied())
                        .unwrap_or_else(|| format!("rules: {}", RULES.join(", "))),
                ),
            ),
        }
    }
    spec
}

fn string(sink: &mut Sink, key: &str, v: &Spanned<DeValue<'_>>) -> Option<String> {
    match v.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
        other => {
            sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "`{key}` in [rollup] must be a string (a rule such as \"last\"), not {}",
                        type_name(other)
                    ),
                )
                .with_label("expected a string"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in RULES {
            assert_eq!(Rule::parse(r).unwrap().name(), *r);
        }
        for i in INCOMPLETE {
            assert_eq!(Incomplete::parse(i).unwrap().name(), *i);
        }
        assert_eq!(granularity("Quarter"), Some(Granularity::Quarter));
        assert_eq!(granularity("annual"), Some(Granularity::Year));
        assert_eq!(granularity("week"), None);
        assert_eq!(Incomplete::default(), Incomplete::Refuse);
    }
}
