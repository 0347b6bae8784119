//! Rollup: publishing quarters or years from monthly (or quarterly) data.
//!
//! With `--per quarter` (or `[units] per = "quarter"`), every joined periodic source is rolled
//! up per unit and quarter *before* the indicator expressions are evaluated, so that a rate is
//! a ratio of sums (`Σ thefts / population`), never a mean of monthly ratios. Each column has a
//! rule (`[rollup]`): `sum` (the default for numbers), `last` (the default for text), `first`,
//! `mean`, `max`, `min`, all over the months that have a value. Static sources (no period
//! column) are used as they are.
//!
//! **Missing months.** A month is missing for a column when its row is missing or its cell is
//! empty. A column with no value in any month of the quarter is simply missing that quarter
//! (like a missing cell in a monthly run); a column with values in some months only makes the
//! unit-quarter *incomplete*, and `[rollup] incomplete` decides:
//! - `refuse` (default): no number from an incomplete period. A period the data start or end
//!   inside of (monthly data through 2023-11 asked per quarter: 2023-Q4 lacks 2023-12 for every
//!   unit) is left out with a warning saying so; any other incomplete unit-period stops the run
//!   with a data error naming units, periods and months.
//! - `prorate`: `sum` columns are scaled by months-in-period / months-present; flagged.
//! - `accept`: the months there are; flagged.
//!
//! **Lags.** `lag(x, k)` counts periods of the data's own granularity: under `--per quarter`
//! a lag of `k` months is `k / 3` quarters (`lag(x, 12)` = the same quarter a year earlier) and
//! `k` must be a multiple of 3 (12 under `--per year`), else a framework error at the lag.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::datasource::MemTable;

use super::{DataStage, Input, as_text, df_err};
use crate::error::Error;
use crate::framework::expr::{self, ExprError, quote_ident};
use crate::framework::rollup::{Incomplete, Rule};
use crate::framework::{Diagnostic, Diagnostics, Framework};
use crate::messages::Warning;
use crate::period::{Granularity, Period};

/// A rollup to run: from the data's granularity to the published one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The data's granularity.
    pub from: Granularity,
    /// The published granularity.
    pub to: Granularity,
}

impl Plan {
    /// Data periods per published period (3 months a quarter, 12 a year, 4 quarters a year).
    pub fn factor(self) -> i64 {
        self.from.per_year() / self.to.per_year()
    }

    /// `lag(x, k)` with `k` in data periods, rewritten in published periods; a `k` that is not
    /// a whole number of published periods is an error at the lag.
    pub fn lags(self, text: &str) -> Result<String, ExprError> {
        let f = self.factor() as u64;
        let (from, to) = (one(self.from), one(self.to));
        expr::rescale_lags(text, &|k, written, range| {
            if k.is_multiple_of(f) {
                Ok(k / f)
            } else {
                Err(ExprError {
                    message: format!(
                        "`{written}` reaches {k} {from}(s) back, not a whole number of {to}s ({f} {from}s each): under a rollup a lag counts the data's periods ({from}s), so write a multiple of {f} (lag(x, {f}) is the previous {to}, lag(x, {}) the same {to} a year earlier)",
                        f * self.to.per_year() as u64
                    ),
                    range,
                })
            }
        })
    }
}

/// A granularity's singular name.
fn one(g: Granularity) -> &'static str {
    match g {
        Granularity::Month => "month",
        Granularity::Quarter => "quarter",
        Granularity::Year => "year",
    }
}

/// The rollup to run for `fw` over data of granularity `data` (`(source, granularity, first
/// period)`): `None` when publishing at the data's own granularity. Asking for a finer one is
/// a usage error (`--per`) or a framework error (`[units] per`).
pub fn plan(
    fw: &Framework,
    data: Option<&(String, Granularity, String)>,
) -> Result<Option<Plan>, Error> {
    let (Some(to), Some((source, from, first))) = (fw.rollup.per, data) else {
        return Ok(None);
    };
    if to == *from {
        return Ok(None);
    }
    if to < *from {
        let msg = format!(
            "cannot publish {} from {}: source `{source}` has {} ({first})",
            to.name(),
            from.name(),
            from.name()
        );
        let hint = format!("publish {} or coarser (--per {})", from.name(), one(*from));
        return Err(match &fw.rollup.per_span {
            Some(span) => Error::Framework(Diagnostics {
                file: fw.file.clone(),
                items: vec![
                    Diagnostic::error(span.clone(), msg)
                        .with_label("finer than the data")
                        .with_hint(hint),
                ],
            }),
            None => Error::Usage(format!("--per {}: {msg}; {hint}", one(to))),
        });
    }
    Ok(Some(Plan { from: *from, to }))
}

/// A column of a source table as read for the rollup.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers (every numeric type, as doubles).
    Num(Vec<Option<f64>>),
    /// Text (and anything else, as text).
    Text(Vec<Option<String>>),
}

/// A unit-period with months missing in one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The unit's key.
    pub unit: String,
    /// The published period.
    pub period: Period,
    /// The missing months (or quarters).
    pub months: BTreeSet<Period>,
    /// What is missing, for the error: rows, or empty cells of named columns.
    pub detail: String,
}

/// A rolled-up table.
#[derive(Clone, Debug, PartialEq)]
pub struct Rolled {
    /// Unit key per row.
    pub keys: Vec<String>,
    /// Published period per row.
    pub periods: Vec<Period>,
    /// The columns, in input order.
    pub columns: Vec<Column>,
    /// Incomplete unit-periods.
    pub gaps: Vec<Gap>,
}

/// Rolls one source's rows up to `plan.to`. `columns` have one rule each; `skip` are published
/// periods left out; only the columns `watched` says the index reads make a period incomplete
/// (all of them when `None`). Rows are `(unit, period)`-unique (checked before).
pub fn roll(
    keys: &[String],
    periods: &[Period],
    columns: &[(String, Column, Rule)],
    plan: Plan,
    incomplete: Incomplete,
    skip: &BTreeSet<Period>,
    watched: Option<&BTreeSet<String>>,
) -> Rolled {
    let mut groups: BTreeMap<(String, Period), Vec<(Period, usize)>> = BTreeMap::new();
    for (r, (k, p)) in keys.iter().zip(periods).enumerate() {
        let Some(q) = p.within(plan.to) else { continue };
        if skip.contains(&q) {
            continue;
        }
        groups.entry((k.clone(), q)).or_default().push((*p, r));
    }
    let mut out = Rolled {
        keys: Vec::new(),
        periods: Vec::new(),
        columns: columns
            .iter()
            .map(|(_, c, _)| match c {
                Column::Num(_) => Column::Num(Vec::new()),
                Column::Text(_) => Column::Text(Vec::new()),
            })
            .collect(),
        gaps: Vec::new(),
    };
    for ((unit, q), mut rows) in groups {
        rows.sort();
        let months = q.parts(plan.from);
        let n = months.len();
        let have: BTreeSet<Period> = rows.iter().map(|(p, _)| *p).collect();
        let no_row: BTreeSet<Period> = months
            .iter()
            .filter(|m| !have.contains(m))
            .copied()
            .collect();
        let mut missing: BTreeSet<Period> = BTreeSet::new();
        let mut empty_cells: BTreeMap<Period, Vec<&str>> = BTreeMap::new();
        let watches = |name: &str| watched.is_none_or(|w| w.contains(name));
        if !columns
            .iter()
            .any(|(n, c, _)| watches(n) && matches!(c, Column::Num(_)))
        {
            missing.extend(no_row.iter().copied());
        }
        for ((name, col, rule), o) in columns.iter().zip(out.columns.iter_mut()) {
            match (col, o) {
                (Column::Num(v), Column::Num(o)) => {
                    let vals: Vec<(Period, f64)> = rows
                        .iter()
                        .filter_map(|(p, r)| v[*r].map(|x| (*p, x)))
                        .collect();
                    if !vals.is_empty() && vals.len() < n && watches(name) {
                        missing
                            .extend(months.iter().filter(|m| !vals.iter().any(|(p, _)| p == *m)));
                        for (p, r) in &rows {
                            if v[*r].is_none() {
                                empty_cells.entry(*p).or_default().push(name);
                            }
                        }
                    }
                    let scale = if incomplete == Incomplete::Prorate && !vals.is_empty() {
                        n as f64 / vals.len() as f64
                    } else {
                        1.0
                    };
                    o.push(apply(*rule, &vals, scale));
                }
                (Column::Text(v), Column::Text(o)) => {
                    let vals: Vec<&String> =
                        rows.iter().filter_map(|(_, r)| v[*r].as_ref()).collect();
                    let x = match rule {
                        Rule::First => vals.first(),
                        _ => vals.last(),
                    };
                    o.push(x.map(|s| (*s).clone()));
                }
                _ => unreachable!("output columns mirror the input's"),
            }
        }
        if !missing.is_empty() {
            let mut detail = Vec::new();
            if !no_row.is_empty() {
                detail.push(format!(
                    "no row for {}",
                    no_row
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for (p, cols) in &empty_cells {
                detail.push(format!("empty in {p}: {}", cols.join(", ")));
            }
            out.gaps.push(Gap {
                unit: unit.clone(),
                period: q,
                months: missing,
                detail: detail.join("; "),
            });
        }
        out.keys.push(unit);
        out.periods.push(q);
    }
    out
}

/// One value from the `(month, value)` pairs that have a value, in calendar order; `scale`
/// multiplies sums (pro-rating).
pub fn apply(rule: Rule, vals: &[(Period, f64)], scale: f64) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    let xs = vals.iter().map(|(_, x)| *x);
    Some(match rule {
        Rule::Sum => xs.sum::<f64>() * scale,
        Rule::Mean => xs.sum::<f64>() / vals.len() as f64,
        Rule::Last => vals[vals.len() - 1].1,
        Rule::First => vals[0].1,
        Rule::Max => xs.fold(f64::NEG_INFINITY, f64::max),
        Rule::Min => xs.fold(f64::INFINITY, f64::min),
    })
}

/// Periods (of `to`) that the data's range `first..=last` starts or ends inside of, with the
/// months of each that lie outside the range.
pub fn partial_edges(first: Period, last: Period, to: Granularity) -> Vec<(Period, Vec<Period>)> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (first.within(to), last.within(to)) else {
        return out;
    };
    for q in [a, b] {
        let outside: Vec<Period> = q
            .parts(first.granularity())
            .into_iter()
            .filter(|m| *m < first || *m > last)
            .collect();
        if !outside.is_empty() && !out.iter().any(|(p, _)| *p == q) {
            out.push((q, outside));
        }
    }
    out
}

/// A source table read for the rollup.
struct Read {
    input: Input,
    keys: Vec<String>,
    periods: Vec<Period>,
    columns: Vec<(String, Column, Rule)>,
}

impl DataStage {
    /// Rolls the joined periodic sources up to the framework's publication granularity (see the
    /// module docs); nothing when it is the data's own. Also checks the `[rollup]` columns.
    pub(super) fn roll_up(&mut self, fw: &Framework, inputs: &[&Input]) -> Result<(), Error> {
        let Some(period) = fw.units.period.as_deref() else {
            return Ok(());
        };
        let key = fw.units.key.as_str();
        let mut periodic: Vec<(&Input, Vec<(String, DataType)>)> = Vec::new();
        let mut statics: Vec<(&Input, Vec<String>)> = Vec::new();
        for input in inputs {
            let schema = self.table_schema(&input.name)?;
            let cols: Vec<(String, DataType)> = schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect();
            let has = |c: &str| cols.iter().any(|(n, _)| n == c);
            if !has(key) {
                continue;
            }
            let values: Vec<(String, DataType)> = cols
                .iter()
                .filter(|(n, _)| n != key && n != period)
                .cloned()
                .collect();
            if has(period) {
                periodic.push((input, values));
            } else {
                statics.push((input, values.into_iter().map(|(n, _)| n).collect()));
            }
        }
        self.check_rules(fw, &periodic, &statics)?;
        let data = self
            .granularities
            .iter()
            .find(|(n, _, _)| periodic.iter().any(|(i, _)| &i.name == n))
            .cloned();
        let Some(plan) = plan(fw, data.as_ref())? else {
            return Ok(());
        };
        let mut tables = Vec::new();
        for (input, values) in &periodic {
            tables.push(self.read_for_rollup(fw, input, values)?);
        }
        let all: BTreeSet<Period> = tables
            .iter()
            .flat_map(|t| t.periods.iter().copied())
            .collect();
        let (Some(first), Some(last)) = (all.first().copied(), all.last().copied()) else {
            return Ok(());
        };
        let edges = partial_edges(first, last, plan.to);
        let watched = read_columns(fw);
        let incomplete = fw.rollup.incomplete;
        let skip: BTreeSet<Period> = if incomplete == Incomplete::Refuse {
            edges.iter().map(|(p, _)| *p).collect()
        } else {
            BTreeSet::new()
        };
        let mut gaps: Vec<(String, Gap)> = Vec::new();
        let mut units: BTreeSet<String> = BTreeSet::new();
        let mut published: BTreeSet<Period> = BTreeSet::new();
        for t in tables {
            units.extend(t.keys.iter().cloned());
            let rolled = roll(
                &t.keys,
                &t.periods,
                &t.columns,
                plan,
                incomplete,
                &skip,
                Some(&watched),
            );
            published.extend(rolled.periods.iter().copied());
            gaps.extend(
                rolled
                    .gaps
                    .iter()
                    .cloned()
                    .map(|g| (t.input.name.clone(), g)),
            );
            self.register_rolled(&t.input, key, period, &t.columns, rolled)?;
        }
        if !skip.is_empty() {
            let w = Warning::PartialPeriodsLeftOut {
                periods: edges
                    .iter()
                    .map(|(p, m)| (p.to_string(), m.iter().map(ToString::to_string).collect()))
                    .collect(),
                first: first.to_string(),
                last: last.to_string(),
                latest: published.last().map(ToString::to_string),
            };
            if published.is_empty() {
                return Err(Error::Data(format!(
                    "no complete {} to publish: {w}",
                    one(plan.to)
                )));
            }
            self.warnings.push(w);
        }
        if !gaps.is_empty() {
            let flagged = flagged(&gaps, &units);
            if incomplete == Incomplete::Refuse {
                return Err(refusal(&gaps, &flagged, plan));
            }
            let count = flagged
                .iter()
                .map(|(u, _, _)| if u.is_empty() { units.len() } else { 1 })
                .sum();
            self.warnings.push(Warning::IncompletePeriods {
                rule: incomplete.name().to_string(),
                count,
                items: flagged,
            });
        }
        for g in self.granularities.iter_mut() {
            if periodic.iter().any(|(i, _)| i.name == g.0) {
                g.1 = plan.to;
                if let Some(p) = published.first() {
                    g.2 = p.to_string();
                }
            }
        }
        self.rollup = Some(plan);
        Ok(())
    }

    /// `[rollup]` names columns of the periodic sources, with rules that fit their types.
    fn check_rules(
        &self,
        fw: &Framework,
        periodic: &[(&Input, Vec<(String, DataType)>)],
        statics: &[(&Input, Vec<String>)],
    ) -> Result<(), Error> {
        let mut items = Vec::new();
        let names: Vec<&str> = periodic
            .iter()
            .flat_map(|(_, c)| c.iter().map(|(n, _)| n.as_str()))
            .collect();
        for c in &fw.rollup.columns {
            let found = periodic
                .iter()
                .find_map(|(i, cols)| cols.iter().find(|(n, _)| *n == c.column).map(|x| (i, x)));
            let static_source = statics
                .iter()
                .find(|(_, cols)| cols.contains(&c.column))
                .map(|(i, _)| i.name.clone());
            match (found, static_source) {
                (Some((i, (_, t))), _) => {
                    if !t.is_numeric() && !matches!(c.rule, Rule::Last | Rule::First) {
                        items.push(
                            Diagnostic::error(
                                c.span.clone(),
                                format!(
                                    "column `{}` of source `{}` holds text ({t}): rule `{}` needs numbers",
                                    c.column,
                                    i.name,
                                    c.rule.name()
                                ),
                            )
                            .with_label("not a numeric column")
                            .with_hint("text columns take \"last\" (the default) or \"first\""),
                        );
                    }
                }
                (None, Some(s)) => items.push(
                    Diagnostic::error(
                        c.span.clone(),
                        format!(
                            "column `{}` comes from source `{s}`, which has no period column `{}`: it is not rolled up",
                            c.column,
                            fw.units.period.as_deref().unwrap_or("")
                        ),
                    )
                    .with_label("a static column")
                    .with_hint("a static column's value is used as it is in every period; remove this line"),
                ),
                (None, None) => {
                    let sources: Vec<String> = periodic
                        .iter()
                        .map(|(i, cols)| {
                            format!(
                                "`{}`: {}",
                                i.name,
                                cols.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                            )
                        })
                        .collect();
                    let hint = crate::framework::diag::did_you_mean(&c.column, names.iter().copied())
                        .unwrap_or_else(|| format!("columns of the periodic sources: {}", sources.join("; ")));
                    items.push(
                        Diagnostic::error(
                            c.span.clone(),
                            format!("unknown column `{}` in [rollup]", c.column),
                        )
                        .with_label("no periodic source has this column")
                        .with_hint(hint),
                    );
                }
            }
        }
        if items.is_empty() {
            Ok(())
        } else {
            Err(Error::Framework(Diagnostics {
                file: fw.file.clone(),
                items,
            }))
        }
    }

    /// Reads one periodic source for the rollup, after checking that its unit-periods are
    /// unique and complete.
    fn read_for_rollup(
        &self,
        fw: &Framework,
        input: &Input,
        values: &[(String, DataType)],
    ) -> Result<Read, Error> {
        let key = fw.units.key.as_str();
        let period = fw.units.period.as_deref().unwrap_or_default();
        let checked = self.keys(input, key, Some(period))?;
        if !checked.problems.is_empty() {
            return Err(Error::Data(checked.problems.join("\n")));
        }
        let what = format!("source `{}` ({})", input.name, input.path.display());
        let mut cols = vec![
            format!("CAST({} AS VARCHAR)", quote_ident(key)),
            format!("CAST({} AS VARCHAR)", quote_ident(period)),
        ];
        cols.extend(values.iter().map(|(n, _)| quote_ident(n)));
        let sql = format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            quote_ident(&input.name)
        );
        let batches = self.sql(&sql).map_err(|e| df_err(&what, e))?;
        let schema = super::batches_schema(self, &sql, &batches)?;
        let b = concat_batches(&schema, &batches).map_err(|e| df_err(&what, e))?;
        let k = as_text(b.column(0).as_ref())?;
        let keys: Vec<String> = (0..b.num_rows())
            .map(|i| k.as_string::<i32>().value(i).to_string())
            .collect();
        let p = as_text(b.column(1).as_ref())?;
        let periods = (0..b.num_rows())
            .map(|i| {
                let t = p.as_string::<i32>().value(i);
                Period::parse(t).map_err(|e| Error::Data(format!("{what}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut columns = Vec::new();
        for (j, (name, t)) in values.iter().enumerate() {
            let a = b.column(j + 2);
            let col = if t.is_numeric() {
                let f = cast(a, &DataType::Float64).map_err(|e| df_err(&what, e))?;
                let f = f.as_primitive::<Float64Type>();
                Column::Num(
                    (0..f.len())
                        .map(|i| f.is_valid(i).then(|| f.value(i)))
                        .collect(),
                )
            } else {
                let s = as_text(a.as_ref())?;
                let s = s.as_string::<i32>();
                Column::Text(
                    (0..s.len())
                        .map(|i| s.is_valid(i).then(|| s.value(i).to_string()))
                        .collect(),
                )
            };
            let rule = fw.rollup.rule_of(name).unwrap_or(if t.is_numeric() {
                Rule::Sum
            } else {
                Rule::Last
            });
            columns.push((name.clone(), col, rule));
        }
        Ok(Read {
            input: input.clone(),
            keys,
            periods,
            columns,
        })
    }

    /// Replaces a source's table by its rollup.
    fn register_rolled(
        &mut self,
        input: &Input,
        key: &str,
        period: &str,
        columns: &[(String, Column, Rule)],
        rolled: Rolled,
    ) -> Result<(), Error> {
        let what = format!("source `{}`", input.name);
        let mut fields = vec![
            Field::new(key, DataType::Utf8, false),
            Field::new(period, DataType::Utf8, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(rolled.keys)),
            Arc::new(StringArray::from(
                rolled
                    .periods
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )),
        ];
        for ((name, _, _), c) in columns.iter().zip(rolled.columns) {
            match c {
                Column::Num(v) => {
                    fields.push(Field::new(name, DataType::Float64, true));
                    arrays.push(Arc::new(Float64Array::from(v)));
                }
                Column::Text(v) => {
                    fields.push(Field::new(name, DataType::Utf8, true));
                    arrays.push(Arc::new(StringArray::from(v)));
                }
            }
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| df_err(&what, e))?;
        self.ctx
            .deregister_table(input.name.as_str())
            .map_err(|e| df_err(&what, e))?;
        let table = MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| df_err(&what, e))?;
        self.ctx
            .register_table(input.name.as_str(), Arc::new(table))
            .map_err(|e| df_err(&what, e))?;
        // Rows no longer match the file's lines.
        self.origins.remove(&input.name);
        Ok(())
    }

    /// An expression's text with its lags counted in published periods (see [`Plan::lags`]).
    pub(super) fn rolled_expr(&self, text: &str) -> Result<String, ExprError> {
        match self.rollup {
            Some(plan) => plan.lags(text),
            None => Ok(text.to_string()),
        }
    }
}

/// The columns the index reads: those of the indicator expressions, their denominators and
/// `[rank] only`.
fn read_columns(fw: &Framework) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for i in fw.indicators() {
        let Some(spec) = fw.nodes[i].indicator() else {
            continue;
        };
        if let Ok(info) = expr::analyse(&spec.expr) {
            out.extend(info.columns.into_iter().map(|c| c.name));
        }
        if let Some((d, _)) = &spec.denominator {
            out.insert(d.clone());
        }
    }
    if let Some(info) = fw.rank.only.as_deref().and_then(|c| expr::analyse(c).ok()) {
        out.extend(info.columns.into_iter().map(|c| c.name));
    }
    out
}

/// Flagged unit-periods for messages: `(unit or "" for every unit, period, missing months)`,
/// a period lacking the same months for every unit said once.
fn flagged(gaps: &[(String, Gap)], units: &BTreeSet<String>) -> Vec<(String, String, Vec<String>)> {
    let mut by: BTreeMap<(Period, String), BTreeSet<Period>> = BTreeMap::new();
    for (_, g) in gaps {
        by.entry((g.period, g.unit.clone()))
            .or_default()
            .extend(g.months.iter().copied());
    }
    let mut per_period: BTreeMap<Period, Vec<(String, BTreeSet<Period>)>> = BTreeMap::new();
    for ((p, u), m) in by {
        per_period.entry(p).or_default().push((u, m));
    }
    let mut out = Vec::new();
    for (p, list) in per_period {
        let months = |m: &BTreeSet<Period>| m.iter().map(ToString::to_string).collect();
        let same = list.windows(2).all(|w| w[0].1 == w[1].1);
        if same && list.len() == units.len() && units.len() > 1 {
            out.push((String::new(), p.to_string(), months(&list[0].1)));
        } else {
            out.extend(
                list.iter()
                    .map(|(u, m)| (u.clone(), p.to_string(), months(m))),
            );
        }
    }
    out
}

/// The data error of `incomplete = "refuse"`.
fn refusal(gaps: &[(String, Gap)], flagged: &[(String, String, Vec<String>)], plan: Plan) -> Error {
    let items: Vec<String> = flagged
        .iter()
        .map(|(u, p, m)| match u.as_str() {
            "" => format!("{p} for every unit ({} missing)", m.join(", ")),
            u => format!("{u} {p} ({} missing)", m.join(", ")),
        })
        .collect();
    let mut details: Vec<String> = gaps
        .iter()
        .take(10)
        .map(|(s, g)| format!("\n    {} {}, source `{s}`: {}", g.unit, g.period, g.detail))
        .collect();
    if gaps.len() > 10 {
        details.push(format!("\n    … and {} more", gaps.len() - 10));
    }
    let n: usize = flagged.len();
    Error::Data(format!(
        "{n} {} incomplete under [rollup] incomplete = \"refuse\" (a {} is published only when every {} of it has data): {}\n  where:{}\n  hint: fill in the missing {}s in the sources; or publish the {} as they are with --incomplete prorate (sums scaled to the whole {}) or --incomplete accept (the {}s there are), or set `incomplete` in [rollup]",
        if n == 1 {
            "unit-period is"
        } else {
            "unit-periods are"
        },
        one(plan.to),
        one(plan.from),
        items.join("; "),
        details.concat(),
        one(plan.from),
        plan.to.name(),
        one(plan.to),
        one(plan.from),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    const Q: Plan = Plan {
        from: Granularity::Month,
        to: Granularity::Quarter,
    };

    fn vals(xs: &[(&str, f64)]) -> Vec<(Period, f64)> {
        xs.iter().map(|(m, x)| (p(m), *x)).collect()
    }

    #[test]
    fn rules_by_hand() {
        let v = vals(&[("2023-01", 4.0), ("2023-02", 10.0), ("2023-03", 1.0)]);
        assert_eq!(apply(Rule::Sum, &v, 1.0), Some(15.0));
        assert_eq!(apply(Rule::Mean, &v, 1.0), Some(5.0));
        assert_eq!(apply(Rule::Last, &v, 1.0), Some(1.0));
        assert_eq!(apply(Rule::First, &v, 1.0), Some(4.0));
        assert_eq!(apply(Rule::Max, &v, 1.0), Some(10.0));
        assert_eq!(apply(Rule::Min, &v, 1.0), Some(1.0));
        // Pro-rating: two months of three, 4 + 10 = 14, × 3/2 = 21; the mean is not scaled.
        let two = vals(&[("2023-01", 4.0), ("2023-02", 10.0)]);
        assert_eq!(apply(Rule::Sum, &two, 1.5), Some(21.0));
        assert_eq!(apply(Rule::Mean, &two, 1.5), Some(7.0));
        assert_eq!(apply(Rule::Sum, &[], 1.0), None);
    }

    #[test]
    fn a_missing_month_flags_the_quarter() {
        let keys: Vec<String> = ["a", "a", "a", "a", "a"].map(String::from).to_vec();
        let periods = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-06"]
            .map(p)
            .to_vec();
        let cols = vec![(
            "x".to_string(),
            Column::Num(vec![
                Some(1.0),
                Some(2.0),
                Some(3.0),
                Some(10.0),
                Some(20.0),
            ]),
            Rule::Sum,
        )];
        let r = roll(
            &keys,
            &periods,
            &cols,
            Q,
            Incomplete::Accept,
            &BTreeSet::new(),
            None,
        );
        assert_eq!(r.periods, [p("2023-Q1"), p("2023-Q2")]);
        assert_eq!(r.columns[0], Column::Num(vec![Some(6.0), Some(30.0)]));
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].period, p("2023-Q2"));
        assert_eq!(r.gaps[0].months, BTreeSet::from([p("2023-05")]));
        assert!(
            r.gaps[0].detail.contains("no row for 2023-05"),
            "{}",
            r.gaps[0].detail
        );
        let r = roll(
            &keys,
            &periods,
            &cols,
            Q,
            Incomplete::Prorate,
            &BTreeSet::new(),
            None,
        );
        assert_eq!(r.columns[0], Column::Num(vec![Some(6.0), Some(45.0)]));
        let r = roll(
            &keys,
            &periods,
            &cols,
            Q,
            Incomplete::Refuse,
            &BTreeSet::from([p("2023-Q2")]),
            None,
        );
        assert_eq!(r.periods, [p("2023-Q1")]);
        assert!(r.gaps.is_empty());
    }

    #[test]
    fn an_empty_cell_is_a_missing_month_but_an_empty_quarter_is_a_missing_value() {
        let keys: Vec<String> = ["a"; 6].map(String::from).to_vec();
        let periods = [
            "2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06",
        ]
        .map(p)
        .to_vec();
        let cols = vec![
            (
                "x".to_string(),
                Column::Num(vec![Some(1.0), None, Some(3.0), None, None, None]),
                Rule::Sum,
            ),
            (
                "name".to_string(),
                Column::Text(
                    ["u", "v", "w", "x", "y", "z"]
                        .map(|s| Some(s.to_string()))
                        .to_vec(),
                ),
                Rule::Last,
            ),
        ];
        let r = roll(
            &keys,
            &periods,
            &cols,
            Q,
            Incomplete::Accept,
            &BTreeSet::new(),
            None,
        );
        assert_eq!(r.columns[0], Column::Num(vec![Some(4.0), None]));
        assert_eq!(
            r.columns[1],
            Column::Text(vec![Some("w".into()), Some("z".into())])
        );
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].months, BTreeSet::from([p("2023-02")]));
        assert!(
            r.gaps[0].detail.contains("empty in 2023-02: x"),
            "{}",
            r.gaps[0].detail
        );
        // A column the index does not read makes no period incomplete.
        let unread = BTreeSet::from(["y".to_string()]);
        let r = roll(
            &keys,
            &periods,
            &cols,
            Q,
            Incomplete::Accept,
            &BTreeSet::new(),
            Some(&unread),
        );
        assert!(r.gaps.is_empty());
    }

    #[test]
    fn edges_the_data_start_or_end_inside() {
        let e = partial_edges(p("2022-01"), p("2023-11"), Granularity::Quarter);
        assert_eq!(e, vec![(p("2023-Q4"), vec![p("2023-12")])]);
        let e = partial_edges(p("2022-02"), p("2023-12"), Granularity::Quarter);
        assert_eq!(e, vec![(p("2022-Q1"), vec![p("2022-01")])]);
        assert!(partial_edges(p("2022-01"), p("2023-12"), Granularity::Year).is_empty());
        let e = partial_edges(p("2022-01"), p("2023-11"), Granularity::Year);
        assert_eq!(e, vec![(p("2023"), vec![p("2023-12")])]);
    }

    #[test]
    fn lags_count_the_data_periods() {
        assert_eq!(
            Q.lags("x / nullif(lag(x, 12), 0)").unwrap(),
            "x / nullif(lag(x, 4), 0)"
        );
        assert_eq!(Q.lags("lag(x, 3)").unwrap(), "lag(x, 1)");
        let e = Q.lags("x - lag(x, 2)").unwrap_err();
        assert!(
            e.message.contains("not a whole number of quarters"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("lag(x, 3) is the previous quarter"),
            "{}",
            e.message
        );
        let y = Plan {
            from: Granularity::Month,
            to: Granularity::Year,
        };
        assert_eq!(y.lags("lag(x, 12)").unwrap(), "lag(x, 1)");
        assert!(y.lags("lag(x, 3)").is_err());
        let qy = Plan {
            from: Granularity::Quarter,
            to: Granularity::Year,
        };
        assert_eq!(qy.lags("lag(x, 4)").unwrap(), "lag(x, 1)");
    }
}
