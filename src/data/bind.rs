//! `bind`: the evaluated indicator table → a [`Panel`] of ndarray matrices per period, with
//! missing values explicit and non-finite expression results refused.

use std::collections::BTreeMap;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::Float64Type;
use ndarray::{Array2, Array3};

use super::list;
use crate::error::Error;
use crate::framework::{Framework, Lang, Text};
use crate::period::Period;

/// Indicator values per period, unit and indicator.
///
/// Missing values are `NaN` — and only missing values: every value read from the data is finite
/// (non-finite expression results are refused when binding), so a `NaN` here always means "no
/// value" and every stage treats it so.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Unit keys, sorted.
    pub units: Vec<String>,
    /// Unit display names per language, as the data give them (`[units] name`); the key when
    /// the data have no name. Read them with [`Panel::unit_name`].
    pub names: Vec<Text>,
    /// Unit groups (when the framework has a group column): the value of
    /// [`Units::group_column`](crate::framework::Units::group_column), which tells groups apart.
    pub groups: Option<Vec<String>>,
    /// Each unit's group name per language (`[units] group`), read with [`Panel::group_name`].
    pub group_names: Option<Vec<Text>>,
    /// Periods in time order (one empty period for cross-sectional data).
    pub periods: Vec<String>,
    /// Indicator node indices of the framework, in column order.
    pub indicators: Vec<usize>,
    /// `values[[period, unit, indicator]]`, NaN = missing.
    pub values: Array3<f64>,
    /// `present[[period, unit]]`: the unit has a row in that period.
    pub present: Array2<bool>,
    /// `ranked[[period, unit]]`: the `[rank] only` condition holds (`None`: every unit is
    /// ranked).
    pub ranked: Option<Array2<bool>>,
}

impl Panel {
    /// Builds the panel from the evaluated table, as the batches DataFusion returned it (see
    /// `DataStage::evaluate`): they are read in place, not copied into one table first.
    pub fn bind(fw: &Framework, batches: &[RecordBatch]) -> Result<Self, Error> {
        let u = &fw.units;
        // Text columns are read in place: no string is copied per row.
        let text = |name: &str| -> Option<Vec<ArrayRef>> {
            batches
                .iter()
                .map(|b| super::as_text(b.column_by_name(name)?.as_ref()).ok())
                .collect()
        };
        let keys_arr =
            text(&u.key).ok_or_else(|| Error::Data(format!("no unit key column `{}`", u.key)))?;
        let keys: Vec<&StringArray> = keys_arr.iter().map(|a| a.as_string::<i32>()).collect();
        let periods_arr = u.period.as_deref().and_then(text);
        let periods_col: Option<Vec<&StringArray>> = periods_arr
            .as_ref()
            .map(|c| c.iter().map(|a| a.as_string::<i32>()).collect());
        let mut text_arrs: BTreeMap<&str, Vec<ArrayRef>> = BTreeMap::new();
        for (what, cols) in [("name", u.name_columns()), ("group", u.group_columns())] {
            for c in cols {
                let col = text(c).ok_or_else(|| {
                    Error::Data(format!(
                        "[units] {what} is `{c}`, but the data have no column `{c}`"
                    ))
                })?;
                text_arrs.insert(c, col);
            }
        }
        // Per batch: each text column by name.
        let text_cols: Vec<BTreeMap<&str, &StringArray>> = (0..batches.len())
            .map(|b| {
                text_arrs
                    .iter()
                    .map(|(c, a)| (*c, a[b].as_string::<i32>()))
                    .collect()
            })
            .collect();
        let only: Option<Vec<BooleanArray>> = match &fw.rank.only {
            None => None,
            Some(_) => Some(
                batches
                    .iter()
                    .map(|b| {
                        b.column_by_name(super::RANK_ONLY)
                            .map(|c| c.as_boolean().clone())
                    })
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        Error::Data("the [rank] only condition was not evaluated".to_string())
                    })?,
            ),
        };
        // Every row, as (batch, row in the batch).
        let rows = || {
            batches
                .iter()
                .enumerate()
                .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |i| (b, i)))
        };
        let key_of = |(b, i): (usize, usize)| keys[b].is_valid(i).then(|| keys[b].value(i));
        // A row without a period is in the one empty period (cross-sectional data).
        let period_of = |(b, i): (usize, usize)| {
            periods_col
                .as_ref()
                .and_then(|c| c[b].is_valid(i).then(|| c[b].value(i)))
                .unwrap_or("")
        };
        let (units, unit_ix) = super::spine::intern(rows().filter_map(key_of));
        let (periods, period_ix) = super::spine::intern(rows().map(period_of));
        let indicators = fw.indicators();
        let mut values =
            Array3::from_elem((periods.len(), units.len(), indicators.len()), f64::NAN);
        let mut present = Array2::from_elem((periods.len(), units.len()), false);
        let mut ranked = only
            .as_ref()
            .map(|_| Array2::from_elem((periods.len(), units.len()), false));
        let mut names: Vec<[Option<String>; 2]> = vec![[None, None]; units.len()];
        let mut group_texts: Vec<[Option<String>; 2]> = vec![[None, None]; units.len()];
        let mut groups: Vec<Option<String>> = vec![None; units.len()];
        // Per batch, per indicator.
        let cols: Vec<Vec<Float64Array>> = batches
            .iter()
            .map(|b| {
                indicators
                    .iter()
                    .map(|&i| {
                        let name = format!("ind.{}", fw.nodes[i].id);
                        b.column_by_name(&name)
                            .map(|c| c.as_primitive::<Float64Type>().clone())
                            .ok_or_else(|| {
                                Error::Data(format!(
                                    "indicator `{}` was not evaluated",
                                    fw.nodes[i].id
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()
            })
            .collect::<Result<_, _>>()?;
        // Each row's (period, unit). The evaluated table is not sorted: values are placed by
        // their cell, in table order.
        let cells: Vec<Option<(usize, usize)>> = rows()
            .map(|at| key_of(at).map(|k| (period_ix[period_of(at)], unit_ix[k])))
            .collect();
        let mut bad: Vec<((usize, usize), String)> = Vec::new();
        {
            let nj = indicators.len();
            let flat = values.as_slice_mut().expect("a new array is contiguous");
            for ((b, i), cell) in rows().zip(&cells) {
                let Some((pi, ui)) = *cell else { continue };
                present[[pi, ui]] = true;
                if let (Some(c), Some(out)) = (&only, ranked.as_mut()) {
                    // NULL counts as false, as in a WHERE clause.
                    out[[pi, ui]] = c[b].is_valid(i) && c[b].value(i);
                }
                let row = &mut flat[(pi * units.len() + ui) * nj..][..nj];
                for ((j, col), out) in cols[b].iter().enumerate().zip(row) {
                    if col.is_null(i) {
                        continue;
                    }
                    let v = col.value(i);
                    if v.is_finite() {
                        *out = v;
                    } else {
                        let pname = &periods[pi];
                        bad.push((
                            (pi, ui),
                            format!(
                                "`{}` = {v} for unit {}{}",
                                fw.nodes[indicators[j]].id,
                                units[ui],
                                if pname.is_empty() {
                                    String::new()
                                } else {
                                    format!(", period {pname}")
                                }
                            ),
                        ));
                    }
                }
            }
        }
        // Listed in period and unit order (stable: one row's indicators in column order).
        bad.sort_by_key(|(cell, _)| *cell);
        let bad: Vec<String> = bad.into_iter().map(|(_, b)| b).collect();
        // Names and groups are taken from a unit's first period: rows in (period, unit) order
        // (stable: a repeated cell keeps the table order).
        if !text_arrs.is_empty() {
            let mut order: Vec<((usize, usize), (usize, usize))> = rows()
                .zip(&cells)
                .filter_map(|(at, cell)| cell.map(|c| (c, at)))
                .collect();
            if !order.is_sorted_by_key(|(cell, _)| *cell) {
                order.sort_by_key(|(cell, _)| *cell);
            }
            for ((_, ui), (b, i)) in order {
                let cols = &text_cols[b];
                first_texts(&mut names[ui], u.name.as_ref(), cols, i);
                first_texts(&mut group_texts[ui], u.group.as_ref(), cols, i);
                if groups[ui].is_none() {
                    groups[ui] = u
                        .group_column()
                        .and_then(|c| cell(cols[c], i))
                        .map(str::to_string);
                }
            }
        }
        if !bad.is_empty() {
            return Err(Error::Eval(format!(
                "{} indicator value(s) are not finite numbers (a division by zero or the log of 0?): {}\nguard the expression, e.g. with nullif(x, 0) or greatest(x, 1)",
                bad.len(),
                list(&bad)
            )));
        }
        if let Some(g) = u.group_column() {
            let missing: Vec<&String> = units
                .iter()
                .zip(&groups)
                .filter(|(_, g)| g.is_none())
                .map(|(u, _)| u)
                .collect();
            if !missing.is_empty() {
                return Err(Error::Data(format!(
                    "{} unit(s) have no value in the group column `{g}`: {}",
                    missing.len(),
                    list(&missing)
                )));
            }
        }
        Ok(Self {
            names: names
                .into_iter()
                .zip(&units)
                .map(|(n, k)| unit_text(u.name.as_ref(), n, k))
                .collect(),
            group_names: u.group.as_ref().map(|_| {
                group_texts
                    .into_iter()
                    .zip(&groups)
                    .map(|(n, g)| unit_text(u.group.as_ref(), n, g.as_deref().unwrap_or("")))
                    .collect()
            }),
            groups: u
                .group
                .as_ref()
                .map(|_| groups.into_iter().map(Option::unwrap_or_default).collect()),
            units,
            periods,
            indicators,
            values,
            present,
            ranked,
        })
    }

    /// The panel restricted to period `p` (each period is evaluated on its own).
    pub fn select_period(&self, p: usize) -> Panel {
        use ndarray::s;
        Panel {
            units: self.units.clone(),
            names: self.names.clone(),
            groups: self.groups.clone(),
            group_names: self.group_names.clone(),
            periods: vec![self.periods[p].clone()],
            indicators: self.indicators.clone(),
            values: self.values.slice(s![p..p + 1, .., ..]).to_owned(),
            present: self.present.slice(s![p..p + 1, ..]).to_owned(),
            ranked: self
                .ranked
                .as_ref()
                .map(|r| r.slice(s![p..p + 1, ..]).to_owned()),
        }
    }

    /// Unit `u`'s name in `lang` (in the other language when it has none in `lang`; see
    /// [`Panel::name_lacks`]).
    pub fn unit_name(&self, u: usize, lang: Lang) -> &str {
        self.names[u].get(lang)
    }

    /// True when unit `u` has no name of its own in `lang` (its name is shown in the other
    /// language).
    pub fn name_lacks(&self, u: usize, lang: Lang) -> bool {
        self.names[u].lacks(lang)
    }

    /// The name of unit `u`'s group in `lang` (in the other language when it has none in
    /// `lang`; see [`Panel::group_lacks`]); `None` without groups.
    pub fn group_name(&self, u: usize, lang: Lang) -> Option<&str> {
        self.group_names.as_ref().map(|g| g[u].get(lang))
    }

    /// True when unit `u`'s group has no name of its own in `lang`.
    pub fn group_lacks(&self, u: usize, lang: Lang) -> bool {
        self.group_names.as_ref().is_some_and(|g| g[u].lacks(lang))
    }

    /// Index of a period, written in any form [`Period::parse`] reads (`2023-6` is `2023-06`).
    pub fn period_index(&self, period: &str) -> Option<usize> {
        let canonical =
            Period::parse(period).map_or_else(|_| period.to_string(), |p| p.to_string());
        self.periods.iter().position(|p| *p == canonical)
    }

    /// The period before period `p` on the calendar (2023-11 for 2023-12), when the data have
    /// it. A period with no data in the month before has no previous period, so rank changes
    /// are never computed across a gap.
    pub fn previous_period(&self, p: usize) -> Option<usize> {
        let before = Period::parse(self.periods.get(p)?).ok()?.previous()?;
        self.period_index(&before.to_string())
    }
}

/// A unit's name from the name columns' values `[zh, en]`: the same in every language when
/// `[units] name` is one column, per language otherwise; the key when the data give none.
/// Fills the languages of `out` still empty from row `r` of the columns `spec` names.
fn first_texts(
    out: &mut [Option<String>; 2],
    spec: Option<&Text>,
    cols: &BTreeMap<&str, &StringArray>,
    r: usize,
) {
    for (l, lang) in [Lang::Zh, Lang::En].into_iter().enumerate() {
        if out[l].is_none() {
            out[l] = spec
                .and_then(|t| t.own(lang))
                .and_then(|c| cell(cols[c], r))
                .map(str::to_string);
        }
    }
}

/// Row `r` of a text column, `None` when null.
fn cell(col: &StringArray, r: usize) -> Option<&str> {
    col.is_valid(r).then(|| col.value(r))
}

fn unit_text(spec: Option<&Text>, [zh, en]: [Option<String>; 2], key: &str) -> Text {
    match (spec, zh, en) {
        (Some(Text::Same(_)), Some(n), _) => Text::Same(n),
        (Some(Text::Each { .. }), zh, en) if zh.is_some() || en.is_some() => Text::Each { zh, en },
        _ => Text::same(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_name_is_per_language_as_declared_and_the_key_when_missing() {
        let per_lang = Text::new("district_name", "district_name_en");
        let both = [
            Some("荔湾区".to_string()),
            Some("Liwan District".to_string()),
        ];
        assert_eq!(
            unit_text(Some(&per_lang), both, "440103"),
            Text::new("荔湾区", "Liwan District")
        );
        // No English name in the data: Chinese only, so an English report falls back to it.
        let t = unit_text(Some(&per_lang), [Some("荔湾区".into()), None], "440103");
        assert!(t.lacks(Lang::En) && t.get(Lang::En) == "荔湾区");
        // One column for every language; no name at all: the key.
        let same = Text::same("district_name");
        assert_eq!(
            unit_text(
                Some(&same),
                [Some("荔湾区".into()), Some("荔湾区".into())],
                "440103"
            ),
            Text::same("荔湾区")
        );
        assert_eq!(
            unit_text(Some(&per_lang), [None, None], "440103"),
            Text::same("440103")
        );
        assert_eq!(
            unit_text(None, [None, None], "440103"),
            Text::same("440103")
        );
    }
}
