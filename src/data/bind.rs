//! `bind`: the evaluated indicator table → a [`Panel`] of ndarray matrices per period, with
//! missing values explicit and non-finite expression results refused.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::Float64Type;
use ndarray::{Array2, Array3, Axis};

use super::list;
use super::spill::Spill;
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
    /// `values[[period, unit, indicator]]`, NaN = missing. With no indicator column (periods ×
    /// units × 0) in a panel bound without values ([`Binder::without_values`]), whose run takes
    /// each period's values as they are bound and keeps none (see [`crate::Scoring`]), or whose
    /// values were given back ([`Panel::drop_values`]).
    pub values: Array3<f64>,
    /// `present[[period, unit]]`: the unit has a row in that period.
    pub present: Array2<bool>,
    /// `ranked[[period, unit]]`: the `[rank] only` condition holds (`None`: every unit is
    /// ranked).
    pub ranked: Option<Array2<bool>>,
}

impl Panel {
    /// Gives back the memory of the indicator values, which then have no column, as in a
    /// panel whose values are bound a period at a time ([`Binder::without_values`]): for a
    /// run that reads its results' scores only.
    pub fn drop_values(&mut self) {
        let (np, nu, _) = self.values.dim();
        self.values = Array3::from_elem((np, nu, 0), f64::NAN);
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

/// Each row's cell of one batch, (period, unit); `None` for a row without a unit key.
type BatchCells = [Option<(usize, usize)>];

/// Builds a [`Panel`] from the evaluated table a batch at a time, so that the table is never
/// held whole: each batch's rows are placed by their unit and period as it arrives, and the
/// batch is dropped. The units and periods are known beforehand (the data stage knows every
/// unit and period of the joined table); the panel keeps those that have rows.
pub struct Binder<'a> {
    table: Shape<'a>,
    values: Array3<f64>,
    present: Array2<bool>,
    ranked: Option<Array2<bool>>,
    /// Per unit: its texts (names and group, per language) with the period each came from.
    texts: Vec<UnitTexts>,
    /// Non-finite values: the cell and a description.
    bad: Vec<((usize, usize), String)>,
    /// Per indicator: how many values are not null.
    valued: Vec<usize>,
    rows: usize,
    /// Per period: the positions of its first and last rows among the rows placed.
    spans: Vec<Option<(usize, usize)>>,
    /// The passes over the table: the first places the rows, their texts and flags, and the
    /// values of its indicators; the others the values of theirs.
    passes: Passes,
}

/// A unit's names and group as the rows give them: each text from the earliest period that
/// has it (the unit's first period, unless that row leaves it empty).
#[derive(Clone, Default)]
struct UnitTexts {
    names: [Option<(usize, String)>; 2],
    group_names: [Option<(usize, String)>; 2],
    group: Option<(usize, String)>,
}

/// The column `spec` names for `lang`, if any.
fn own(spec: Option<&Text>, lang: Lang) -> Option<&str> {
    spec.and_then(|t| t.own(lang))
}

/// Keeps `text` from period `p` when `slot` has nothing from an earlier period.
fn earliest(slot: &mut Option<(usize, String)>, p: usize, text: Option<&str>) {
    if let Some(t) = text
        && slot.as_ref().is_none_or(|(q, _)| p < *q)
    {
        *slot = Some((p, t.to_string()));
    }
}

impl<'a> Binder<'a> {
    /// A binder for a table whose rows have units among `units` and periods among `periods`
    /// (each sorted; the empty period for rows without one).
    pub fn new(fw: &'a Framework, units: Vec<String>, periods: Vec<String>) -> Result<Self, Error> {
        Self::of(fw, units, periods, fw.indicators())
    }

    /// A binder that places no indicator value: the panel it gives has the units and periods
    /// with rows, their names, groups and `[rank] only` flags, and values with no column (see
    /// [`Panel::values`]), for a run that takes each period's values as they are bound
    /// ([`PeriodBinder`]).
    pub fn without_values(
        fw: &'a Framework,
        units: Vec<String>,
        periods: Vec<String>,
    ) -> Result<Self, Error> {
        Self::of(fw, units, periods, Vec::new())
    }

    fn of(
        fw: &'a Framework,
        units: Vec<String>,
        periods: Vec<String>,
        indicators: Vec<usize>,
    ) -> Result<Self, Error> {
        let (np, nu) = (periods.len(), units.len());
        Ok(Self {
            values: Array3::from_elem((np, nu, indicators.len()), f64::NAN),
            present: Array2::from_elem((np, nu), false),
            ranked: fw
                .rank
                .only
                .as_ref()
                .map(|_| Array2::from_elem((np, nu), false)),
            texts: vec![UnitTexts::default(); nu],
            bad: Vec::new(),
            valued: vec![0; indicators.len()],
            rows: 0,
            spans: vec![None; np],
            passes: Passes::of(np * nu, indicators.len(), 0),
            table: Shape::new(fw, units, periods, indicators),
        })
    }

    /// The indicators of each pass over the table, as nodes, in order: the first pass binds
    /// its indicators from a table with the keys, the names, groups and `[rank] only`
    /// condition, the others theirs from a table with the keys; each after
    /// [`Binder::begin`].
    pub fn passes(&self) -> Vec<Vec<usize>> {
        self.passes.nodes(&self.table.indicators)
    }

    /// The binder for a table whose reader holds `bytes` of pages at once: a large panel's
    /// indicators are bound a few a pass when those are a large share of it
    /// ([`Binder::passes`]).
    pub fn reading_pages(mut self, bytes: usize) -> Self {
        let (np, nu, nj) = self.values.dim();
        self.passes = Passes::of(np * nu, nj, bytes);
        self
    }

    /// Starts pass `pass` (of [`Binder::passes`]).
    pub fn begin(&mut self, pass: usize) {
        self.passes.current = pass;
    }

    /// Places the rows of one batch of the evaluated table (their values only, after the
    /// first pass).
    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let cells = self.table.cells(batch)?;
        if self.passes.current > 0 {
            return self.place_values(batch, &cells);
        }
        for &(pi, _) in cells.iter().flatten() {
            let span = self.spans[pi].get_or_insert((self.rows, self.rows));
            span.1 = self.rows;
            self.rows += 1;
        }
        self.place_values(batch, &cells)?;
        self.place_flags(batch, &cells)?;
        self.place_texts(batch, &cells)
    }

    /// The indicator values of the batch's rows, with non-finite values refused.
    fn place_values(&mut self, batch: &RecordBatch, cells: &BatchCells) -> Result<(), Error> {
        let table = &self.table;
        let (nu, nj) = (table.units.len(), table.indicators.len());
        let pass = self.passes.range();
        let cols = table.columns(batch, pass.clone(), &mut self.valued)?;
        let flat = self
            .values
            .as_slice_mut()
            .expect("a new array is contiguous");
        let present = &mut self.present;
        table.each_row(&cols, cells, &mut self.bad, |(pi, ui), from| {
            present[[pi, ui]] = true;
            place(
                from,
                &mut flat[(pi * nu + ui) * nj + pass.start..][..pass.len()],
            );
            Ok(())
        })
    }

    /// The `[rank] only` condition of the batch's rows (NULL counts as false, as in a WHERE
    /// clause).
    fn place_flags(&mut self, batch: &RecordBatch, cells: &BatchCells) -> Result<(), Error> {
        let Some(out) = self.ranked.as_mut() else {
            return Ok(());
        };
        let only = batch
            .column_by_name(super::RANK_ONLY)
            .and_then(|c| c.as_boolean_opt())
            .ok_or_else(|| Error::Data("the [rank] only condition was not evaluated".into()))?;
        for (i, cell) in cells.iter().enumerate() {
            if let Some((pi, ui)) = *cell {
                out[[pi, ui]] = only.is_valid(i) && only.value(i);
            }
        }
        Ok(())
    }

    /// The names and groups of the batch's rows: each unit keeps, per text, the one of its
    /// earliest period.
    fn place_texts(&mut self, batch: &RecordBatch, cells: &BatchCells) -> Result<(), Error> {
        let u = &self.table.fw.units;
        let mut cols: BTreeMap<&str, ArrayRef> = BTreeMap::new();
        for (what, names) in [("name", u.name_columns()), ("group", u.group_columns())] {
            for c in names {
                let col = batch
                    .column_by_name(c)
                    .and_then(|a| super::as_text(a.as_ref()).ok())
                    .ok_or_else(|| {
                        Error::Data(format!(
                            "[units] {what} is `{c}`, but the data have no column `{c}`"
                        ))
                    })?;
                cols.insert(c, col);
            }
        }
        if cols.is_empty() {
            return Ok(());
        }
        let cols: BTreeMap<&str, &StringArray> = cols
            .iter()
            .map(|(c, a)| (*c, a.as_string::<i32>()))
            .collect();
        for (i, cell) in cells.iter().enumerate() {
            let Some((pi, ui)) = *cell else { continue };
            let t = &mut self.texts[ui];
            for (l, lang) in [Lang::Zh, Lang::En].into_iter().enumerate() {
                let at = |c: Option<&str>| c.and_then(|c| cell_text(cols[c], i));
                earliest(&mut t.names[l], pi, at(own(u.name.as_ref(), lang)));
                earliest(&mut t.group_names[l], pi, at(own(u.group.as_ref(), lang)));
            }
            let group = u.group_column().and_then(|c| cell_text(cols[c], i));
            earliest(&mut t.group, pi, group);
        }
        Ok(())
    }

    /// Indicators with no value in any row: (indicator node) in column order.
    pub fn empty_indicators(&self) -> Vec<usize> {
        empty_indicators(&self.table.indicators, &self.valued)
    }

    /// The number of rows placed.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The most periods open at once in the order the rows came: started (a row placed) and
    /// not finished (rows still to come). One in a table sorted by period; every period in a
    /// table sorted by unit.
    pub fn most_open(&self) -> usize {
        most_open(&self.spans)
    }

    /// The panel: the units and periods that have rows, every value placed; an error for
    /// non-finite values or units without a group.
    pub fn finish(mut self) -> Result<Panel, Error> {
        if let Some(e) = non_finite(std::mem::take(&mut self.bad)) {
            return Err(e);
        }
        let (panel, groups) = self.into_layout();
        groups.map(|()| panel)
    }

    /// The panel, and apart from it the check that every unit has a group (the last check of
    /// [`Binder::finish`]; a run binding the values later makes it after theirs).
    pub fn into_layout(self) -> (Panel, Result<(), Error>) {
        let u = &self.table.fw.units;
        let mut groups = Ok(());
        if let Some(g) = u.group_column() {
            let missing: Vec<&String> = self
                .table
                .units
                .iter()
                .zip(&self.texts)
                .filter(|(_, t)| t.group.is_none())
                .map(|(u, _)| u)
                .collect();
            if !missing.is_empty() {
                groups = Err(Error::Data(format!(
                    "{} unit(s) have no value in the group column `{g}`: {}",
                    missing.len(),
                    list(&missing)
                )));
            }
        }
        let text = |slots: &[Option<(usize, String)>; 2]| -> [Option<String>; 2] {
            slots.clone().map(|s| s.map(|(_, t)| t))
        };
        let panel = Panel {
            names: self
                .texts
                .iter()
                .zip(&self.table.units)
                .map(|(t, k)| unit_text(u.name.as_ref(), text(&t.names), k))
                .collect(),
            group_names: u.group.as_ref().map(|_| {
                self.texts
                    .iter()
                    .map(|t| {
                        let g = t.group.as_ref().map_or("", |(_, g)| g.as_str());
                        unit_text(u.group.as_ref(), text(&t.group_names), g)
                    })
                    .collect()
            }),
            groups: u.group.as_ref().map(|_| {
                self.texts
                    .iter()
                    .map(|t| t.group.clone().map(|(_, g)| g).unwrap_or_default())
                    .collect()
            }),
            units: self.table.units,
            periods: self.table.periods,
            indicators: self.table.indicators,
            values: self.values,
            present: self.present,
            ranked: self.ranked,
        };
        (panel.with_rows_only(), groups)
    }
}

/// Whether rows that keep `most_open` of their `periods` open at once interleave the periods
/// too much to bind them a period at a time: more than half are open at once (a table sorted
/// by unit keeps every period open until its last rows).
pub fn interleaves(most_open: usize, periods: usize) -> bool {
    most_open > periods / 2
}

/// The indicators (nodes, in column order) whose count of values in `valued` is 0.
fn empty_indicators(indicators: &[usize], valued: &[usize]) -> Vec<usize> {
    indicators
        .iter()
        .zip(valued)
        .filter(|(_, n)| **n == 0)
        .map(|(&node, _)| node)
        .collect()
}

/// The most periods open at once, each period's rows spanning positions `spans[period]`
/// (first, last) of the rows in the order they come: started (its first row come) and not
/// finished (its last row still to come).
pub fn most_open(spans: &[Option<(usize, usize)>]) -> usize {
    // +1 where a period starts, -1 after its last row; at one position, ends before starts.
    let mut events: Vec<(usize, i64)> = spans
        .iter()
        .flatten()
        .flat_map(|&(first, last)| [(first, 1), (last + 1, -1)])
        .collect();
    events.sort_unstable();
    let (mut open, mut most) = (0i64, 0i64);
    for (_, step) in events {
        open += step;
        most = most.max(open);
    }
    most as usize
}

/// The error naming every non-finite value `bad` holds, in period and unit order; `None`
/// when it holds none.
fn non_finite(mut bad: Vec<((usize, usize), String)>) -> Option<Error> {
    if bad.is_empty() {
        return None;
    }
    // Listed in period and unit order (stable: one row's indicators in column order).
    bad.sort_by_key(|(cell, _)| *cell);
    let bad: Vec<String> = bad.into_iter().map(|(_, b)| b).collect();
    Some(Error::Eval(format!(
        "{} indicator value(s) are not finite numbers (a division by zero or the log of 0?): {}\nguard the expression, e.g. with nullif(x, 0) or greatest(x, 1)",
        bad.len(),
        list(&bad)
    )))
}

/// The evaluated table as binding reads it: the units and periods a row may have (each with
/// its position), the indicators and their columns (`ind.<id>`), and the framework that names
/// them in messages.
struct Shape<'a> {
    fw: &'a Framework,
    units: Vec<String>,
    unit_ix: HashMap<String, usize>,
    periods: Vec<String>,
    period_ix: HashMap<String, usize>,
    indicators: Vec<usize>,
    columns: Vec<String>,
}

impl<'a> Shape<'a> {
    fn new(
        fw: &'a Framework,
        units: Vec<String>,
        periods: Vec<String>,
        indicators: Vec<usize>,
    ) -> Self {
        let index = |list: &[String]| -> HashMap<String, usize> {
            list.iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i))
                .collect()
        };
        Self {
            fw,
            unit_ix: index(&units),
            period_ix: index(&periods),
            columns: indicators
                .iter()
                .map(|&i| format!("ind.{}", fw.nodes[i].id))
                .collect(),
            units,
            periods,
            indicators,
        }
    }

    /// Each row's cell (period, unit) of `batch`; `None` for a row without a unit key. A key
    /// or period not among those listed is an error.
    fn cells(&self, batch: &RecordBatch) -> Result<Vec<Option<(usize, usize)>>, Error> {
        let u = &self.fw.units;
        let text = |name: &str| -> Option<ArrayRef> {
            super::as_text(batch.column_by_name(name)?.as_ref()).ok()
        };
        let keys =
            text(&u.key).ok_or_else(|| Error::Data(format!("no unit key column `{}`", u.key)))?;
        let keys = keys.as_string::<i32>();
        let periods = u.period.as_deref().and_then(text);
        let periods = periods.as_ref().map(|c| c.as_string::<i32>());
        let mut cells = Vec::with_capacity(batch.num_rows());
        // Rows come grouped or sorted by unit or by period (see `Finder`).
        let mut unit_of = super::spine::Finder::new(&self.units, &self.unit_ix);
        let mut period_of = super::spine::Finder::new(&self.periods, &self.period_ix);
        for i in 0..batch.num_rows() {
            if keys.is_null(i) {
                cells.push(None);
                continue;
            }
            let key = keys.value(i);
            let period = periods
                .and_then(|c| c.is_valid(i).then(|| c.value(i)))
                .unwrap_or("");
            let (ui, pi) = (unit_of.find(key), period_of.find(period));
            let (Some(ui), Some(pi)) = (ui, pi) else {
                return Err(Error::Data(format!(
                    "the evaluated table has unit `{key}` in period `{period}`, which the joined data do not list"
                )));
            };
            cells.push(Some((pi, ui)));
        }
        Ok(cells)
    }

    /// The batch's column of each indicator of `pass` (positions among the indicators), in
    /// order, each column's values counted into `valued`.
    fn columns<'b>(
        &self,
        batch: &'b RecordBatch,
        pass: Range<usize>,
        valued: &mut [usize],
    ) -> Result<Vec<ValueColumn<'b>>, Error> {
        let cols: Vec<&Float64Array> = self.columns[pass.clone()]
            .iter()
            .zip(&self.indicators[pass.clone()])
            .map(|(name, &node)| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_primitive_opt::<Float64Type>())
                    .ok_or_else(|| {
                        Error::Data(format!(
                            "indicator `{}` was not evaluated",
                            self.fw.nodes[node].id
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        for (j, col) in pass.clone().zip(&cols) {
            valued[j] += col.len() - col.null_count();
        }
        Ok(cols
            .into_iter()
            .zip(pass)
            .map(|(c, indicator)| ValueColumn {
                values: c.values(),
                nulls: c.nulls(),
                indicator,
            })
            .collect())
    }

    /// Each row of `cells` that has a cell, given to `each` with its values (`NaN` where
    /// null or not finite; see [`Shape::block_values`]), a block of [`BLOCK_ROWS`] rows at a
    /// time; non-finite values are described in `bad`. The first error of `each` ends it.
    fn each_row(
        &self,
        cols: &[ValueColumn],
        cells: &BatchCells,
        bad: &mut Vec<((usize, usize), String)>,
        mut each: impl FnMut((usize, usize), &[f64]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let nj = cols.len();
        let mut block = Vec::new();
        for start in (0..cells.len()).step_by(BLOCK_ROWS) {
            let rows = start..cells.len().min(start + BLOCK_ROWS);
            self.block_values(cols, (rows.clone(), cells), &mut block, bad);
            for (k, cell) in cells[rows].iter().enumerate() {
                if let Some(cell) = *cell {
                    each(cell, &block[k * nj..][..nj])?;
                }
            }
        }
        Ok(())
    }

    /// The values of rows `rows` of `cols` (cells `cells[rows]`), row after row into
    /// `block` (one row of `cols.len()` values per row), `NaN` where a cell is null or not
    /// finite; each non-finite value is described in `bad`. Each column's values are read in
    /// order for the whole block: read row by row, the dozens of columns of a large table
    /// were each a stream of their own, more than the processor prefetches.
    fn block_values(
        &self,
        cols: &[ValueColumn],
        (rows, cells): (Range<usize>, &BatchCells),
        block: &mut Vec<f64>,
        bad: &mut Vec<((usize, usize), String)>,
    ) {
        let nj = cols.len();
        block.clear();
        block.resize(rows.len() * nj, f64::NAN);
        let mut found = Vec::new();
        for (j, col) in cols.iter().enumerate() {
            for (k, i) in rows.clone().enumerate() {
                // The value first: a null cell's slot holds some value too, and the cells of
                // a table are nearly all finite and valid.
                let v = col.values[i];
                let valid = col.nulls.is_none_or(|n| n.is_valid(i));
                if v.is_finite() {
                    if valid {
                        block[k * nj + j] = v;
                    }
                } else if valid {
                    found.push((i, j, v));
                }
            }
        }
        // In the rows' order, one row's indicators in column order, as they are listed.
        found.sort_by_key(|&(i, j, _)| (i, j));
        for (i, j, v) in found {
            if let Some(cell) = cells[i] {
                bad.push((cell, self.non_finite(cell, cols[j].indicator, v)));
            }
        }
    }

    /// The description of the non-finite value `v` of indicator column `j` in cell
    /// `(period, unit)`.
    fn non_finite(&self, (pi, ui): (usize, usize), j: usize, v: f64) -> String {
        let pname = &self.periods[pi];
        format!(
            "`{}` = {v} for unit {}{}",
            self.fw.nodes[self.indicators[j]].id,
            self.units[ui],
            if pname.is_empty() {
                String::new()
            } else {
                format!(", period {pname}")
            }
        )
    }
}

/// Rows of a batch whose values are gathered together ([`Shape::block_values`]): a block of
/// the grid's 60 indicators is 120 KiB, within the processor's second-level cache.
const BLOCK_ROWS: usize = 256;

/// A row of a block ([`Shape::block_values`]) into its cell's values `row`: the cells that
/// are null or not finite (`NaN` in the block) are left as they are.
fn place(from: &[f64], row: &mut [f64]) {
    for (out, &v) in row.iter_mut().zip(from) {
        if !v.is_nan() {
            *out = v;
        }
    }
}

/// An indicator column of a batch as [`Shape::block_values`] reads it: its values, and which
/// of them are null.
struct ValueColumn<'b> {
    values: &'b [f64],
    nulls: Option<&'b NullBuffer>,
    /// Its position among the indicators.
    indicator: usize,
}

/// Binds the evaluated table's indicator values a period at a time, for a run that scores
/// each period as soon as it is bound: the units and periods are a panel's whose values are
/// not bound ([`Binder::without_values`]), so it is known how many rows each period has; a
/// period's values are made when its first row comes and handed on when its last has been
/// placed. Rows in period order (as files usually are) keep one period open at a time.
pub struct PeriodBinder<'a> {
    table: Shape<'a>,
    /// Where the values go.
    store: Store,
    /// The passes over the table: one, but for a large panel bound whole.
    passes: Passes,
    /// Per period: its rows in the table.
    rows: Vec<usize>,
    /// Per period: how many of its rows are still to come in this pass.
    left: Vec<usize>,
    /// The first period an earlier pass found fewer rows of than it has.
    short: Option<usize>,
    bad: Vec<((usize, usize), String)>,
    valued: Vec<usize>,
}

impl<'a> PeriodBinder<'a> {
    /// A binder of the indicator values of `layout`'s rows (a panel without values).
    pub fn new(fw: &'a Framework, layout: &Panel) -> Self {
        let indicators = fw.indicators();
        let rows: Vec<usize> = layout
            .present
            .outer_iter()
            .map(|row| row.iter().filter(|&&p| p).count())
            .collect();
        Self {
            store: Store::Periods(vec![None; layout.periods.len()]),
            passes: Passes::of(0, indicators.len(), 0),
            left: rows.clone(),
            rows,
            short: None,
            bad: Vec::new(),
            valued: vec![0; indicators.len()],
            table: Shape::new(fw, layout.units.clone(), layout.periods.clone(), indicators),
        }
    }

    /// A binder of the values of `layout`'s rows into one array of every period, as
    /// [`Binder`] binds them (for rows whose periods interleave, which would keep every
    /// period open at once anyway), a large panel's a few indicators a pass
    /// ([`PeriodBinder::passes`]); [`PeriodBinder::finish`] gives it.
    pub fn whole(fw: &'a Framework, layout: &Panel) -> Self {
        let mut binder = Self::new(fw, layout);
        let (np, nu, nj) = (
            layout.periods.len(),
            layout.units.len(),
            binder.table.indicators.len(),
        );
        binder.store = Store::Whole(Array3::from_elem((np, nu, nj), f64::NAN));
        binder
    }

    /// A binder of the values of `layout`'s rows into `spill`, a temporary file of every
    /// period ([`Spill`], of the layout's periods × units × indicators), in one pass, for rows
    /// whose periods interleave: the run then reads one period at a time back.
    /// [`PeriodBinder::finish`] gives the file.
    pub fn spilling(fw: &'a Framework, layout: &Panel, spill: Spill) -> Self {
        let mut binder = Self::new(fw, layout);
        let dims = (
            layout.periods.len(),
            layout.units.len(),
            binder.table.indicators.len(),
        );
        debug_assert_eq!(spill.dims(), dims, "a spill of the layout's shape");
        binder.store = Store::Spill(spill);
        binder
    }

    /// The binder for a table whose reader holds `bytes` of pages at once: bound whole, a
    /// large panel's indicators are bound a few a pass when those are a large share of it
    /// ([`PeriodBinder::passes`]).
    pub fn reading_pages(mut self, bytes: usize) -> Self {
        if let Store::Whole(whole) = &self.store {
            let (np, nu, nj) = whole.dim();
            self.passes = Passes::of(np * nu, nj, bytes);
        }
        self
    }

    /// The indicators of each pass over the table, as nodes, in order: a pass binds its
    /// indicators from a table that has their columns (and the keys), after
    /// [`PeriodBinder::begin`].
    pub fn passes(&self) -> Vec<Vec<usize>> {
        self.passes.nodes(&self.table.indicators)
    }

    /// Starts pass `pass` (of [`PeriodBinder::passes`]): every period's rows are to come again.
    pub fn begin(&mut self, pass: usize) {
        if pass != self.passes.current {
            self.short = self.short.or(self.left.iter().position(|&n| n > 0));
            self.left.clone_from(&self.rows);
            self.passes.current = pass;
        }
    }

    /// Places the rows of one batch; each period whose last row it holds goes to `done`
    /// (never, binding whole).
    pub fn push(
        &mut self,
        batch: &RecordBatch,
        mut done: impl FnMut(usize, Array2<f64>),
    ) -> Result<(), Error> {
        let cells = self.table.cells(batch)?;
        let table = &self.table;
        let pass = self.passes.range();
        let cols = table.columns(batch, pass.clone(), &mut self.valued)?;
        let (nu, nj) = (table.units.len(), table.indicators.len());
        let (left, store) = (&mut self.left, &mut self.store);
        let contiguous = "a row of a new array is contiguous";
        table.each_row(&cols, &cells, &mut self.bad, |(pi, ui), from| {
            if left[pi] == 0 {
                return Err(Error::Data(format!(
                    "period `{}` has more rows in the evaluated table than in the joined data",
                    table.periods[pi]
                )));
            }
            left[pi] -= 1;
            let row = match store {
                Store::Whole(whole) => whole
                    .slice_mut(ndarray::s![pi, ui, pass.clone()])
                    .into_slice()
                    .expect(contiguous),
                Store::Spill(spill) => spill.row(pi, ui)?,
                Store::Periods(open) => open[pi]
                    .get_or_insert_with(|| Array2::from_elem((nu, nj), f64::NAN))
                    .row_mut(ui)
                    .into_slice()
                    .expect(contiguous),
            };
            place(from, row);
            if let Store::Periods(open) = store
                && left[pi] == 0
            {
                done(pi, open[pi].take().expect("an open period"));
            }
            Ok(())
        })
    }

    /// Indicators with no value in any row: (indicator node) in column order.
    pub fn empty_indicators(&self) -> Vec<usize> {
        empty_indicators(&self.table.indicators, &self.valued)
    }

    /// The checks made once every row is placed: every period's rows came, and every value
    /// is finite (the error [`Binder::finish`] gives); then the values, unless they were handed
    /// on a period at a time.
    pub fn finish(self) -> Result<Bound, Error> {
        let short = self.short.or(self.left.iter().position(|&n| n > 0));
        if let Some(p) = short {
            return Err(Error::Data(format!(
                "period `{}` has fewer rows in the evaluated table than in the joined data",
                self.table.periods[p]
            )));
        }
        // The passes found them in order of their columns, each in the rows' order: sorted by
        // cell (stably), a cell's are in column order, as one pass finds them.
        if let Some(e) = non_finite(self.bad) {
            return Err(e);
        }
        Ok(match self.store {
            Store::Whole(whole) => Bound::Whole(whole),
            Store::Spill(mut spill) => {
                spill.finish()?;
                Bound::Spilled(spill)
            }
            Store::Periods(_) => Bound::Handed,
        })
    }
}

/// Where a [`PeriodBinder`] puts the values it binds.
enum Store {
    /// Per period: its values `[[unit, indicator column]]` while its rows are placed, handed
    /// on at its last row.
    Periods(Vec<Option<Array2<f64>>>),
    /// Every period's values in one array ([`PeriodBinder::whole`]).
    Whole(Array3<f64>),
    /// Every period's values in a temporary file ([`PeriodBinder::spilling`]).
    Spill(Spill),
}

/// The values a [`PeriodBinder`] gives once every row is placed.
pub enum Bound {
    /// None: each period was handed on as soon as it was bound.
    Handed,
    /// Every period's values, `[[period, unit, indicator column]]`.
    Whole(Array3<f64>),
    /// Every period's values in a temporary file.
    Spilled(Spill),
}

/// The passes over the evaluated table that bind a panel's indicators: every indicator in one
/// pass, unless the panel is large and the reader of its data holds pages beside it that are a
/// large share of it; then a few indicators a pass, so that the reader holds the pages of a
/// few columns, not of every column. A Parquet reader holds each column's dictionary page (up
/// to 1 MiB as pyarrow and arrow-rs write them) until the end of its row group: 63 MB for the
/// grid benchmark's 60 columns in one row group, beside its 240 MB panel. Each pass reads the
/// unit and period keys again, a cost that grows with the rows, where the pages held do not.
#[derive(Clone, Debug)]
struct Passes {
    /// The indicators (positions) of each pass, in order.
    ranges: Vec<Range<usize>>,
    /// The pass whose rows are being placed.
    current: usize,
}

impl Passes {
    /// Indicator values of a panel above which its indicators may be bound a few at a time.
    const PANEL_BYTES: usize = 64 << 20;
    /// The share of the panel above which the pages held are worth passes: an eighth.
    const SHARE: usize = 8;
    /// Indicators of one pass, at most, when they are bound a few at a time.
    const MOST: usize = 20;

    /// The passes binding `nj` indicators of `cells` units × periods, from a table whose
    /// reader holds `held` bytes of pages at once.
    fn of(cells: usize, nj: usize, held: usize) -> Self {
        let panel = cells * nj * size_of::<f64>();
        let k = if panel > Self::PANEL_BYTES && held * Self::SHARE > panel {
            nj.div_ceil(Self::MOST)
        } else {
            1
        };
        Self {
            ranges: split(nj, k),
            current: 0,
        }
    }

    /// The indicators of the pass under way.
    fn range(&self) -> Range<usize> {
        self.ranges[self.current].clone()
    }

    /// The indicator nodes of each pass, from the nodes of every indicator.
    fn nodes(&self, indicators: &[usize]) -> Vec<Vec<usize>> {
        self.ranges
            .iter()
            .map(|r| indicators[r.clone()].to_vec())
            .collect()
    }
}

/// `0..n` split into `k` ranges (one, when `k` is 0), in order, of sizes that differ by one at
/// most: 60 into three of 20, 61 into four of 15 and 16.
fn split(n: usize, k: usize) -> Vec<Range<usize>> {
    let k = k.max(1);
    (0..k).map(|i| i * n / k..(i + 1) * n / k).collect()
}

impl Panel {
    /// The panel without the units and periods that have no row (none, when the units and
    /// periods a [`Binder`] was given are exactly the table's).
    fn with_rows_only(self) -> Self {
        let (np, nu) = self.present.dim();
        let units: Vec<usize> = (0..nu)
            .filter(|&u| (0..np).any(|p| self.present[[p, u]]))
            .collect();
        let periods: Vec<usize> = (0..np)
            .filter(|&p| (0..nu).any(|u| self.present[[p, u]]))
            .collect();
        if units.len() == nu && periods.len() == np {
            return self;
        }
        let pick = |v: &[String], ix: &[usize]| ix.iter().map(|&i| v[i].clone()).collect();
        let pick_of = |v: &[Text], ix: &[usize]| ix.iter().map(|&i| v[i].clone()).collect();
        let cells = |a: &Array2<bool>| a.select(Axis(0), &periods).select(Axis(1), &units);
        Panel {
            units: pick(&self.units, &units),
            names: pick_of(&self.names, &units),
            groups: self.groups.as_ref().map(|g| pick(g, &units)),
            group_names: self.group_names.as_ref().map(|g| pick_of(g, &units)),
            periods: pick(&self.periods, &periods),
            indicators: self.indicators,
            values: self
                .values
                .select(Axis(0), &periods)
                .select(Axis(1), &units),
            present: cells(&self.present),
            ranked: self.ranked.as_ref().map(cells),
        }
    }
}

/// Row `r` of a text column, `None` when null.
fn cell_text(col: &StringArray, r: usize) -> Option<&str> {
    col.is_valid(r).then(|| col.value(r))
}

/// A unit's name from the name columns' values `[zh, en]`: the same in every language when
/// `[units] name` is one column, per language otherwise; the key when the data give none.
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
    fn periods_open_at_once_are_counted_in_the_rows_order() {
        // Spans of the periods' rows: (first, last) positions.
        let spans = |periods: &[&[usize]]| -> Vec<Option<(usize, usize)>> {
            let rows: usize = periods.iter().map(|p| p.len()).sum();
            (0..periods.len())
                .map(|p| {
                    let at: Vec<usize> = (0..rows).filter(|r| periods[p].contains(r)).collect();
                    at.first().map(|&f| (f, *at.last().unwrap()))
                })
                .collect()
        };
        // Three periods of two units: sorted by period, one at a time (one ends where the
        // next starts).
        assert_eq!(most_open(&spans(&[&[0, 1], &[2, 3], &[4, 5]])), 1);
        // Sorted by unit: every period open until the second unit's rows.
        assert_eq!(most_open(&spans(&[&[0, 3], &[1, 4], &[2, 5]])), 3);
        // Two periods overlapping by a row, the third alone; a period without rows.
        assert_eq!(most_open(&spans(&[&[0, 2], &[1, 3], &[4, 5]])), 2);
        assert_eq!(most_open(&[None, Some((0, 0))]), 1);
        assert_eq!(most_open(&[]), 0);
        // The keys' walk counts the same way, a period's rows in any order.
        let rows = [("a", "p1"), ("b", "p1"), ("a", "p2"), ("b", "p2")];
        assert_eq!(super::super::spine::Pairs::in_order(rows.into_iter()).1, 1);
        let rows = [("a", "p1"), ("a", "p2"), ("b", "p1"), ("b", "p2")];
        assert_eq!(super::super::spine::Pairs::in_order(rows.into_iter()).1, 2);
    }

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

    /// A framework of five indicators `x0`…`x4` over units `code` and periods `month`.
    fn five_indicators() -> Framework {
        let mut text = String::from(
            "[index]\nid = \"i\"\nname = \"I\"\n[units]\nkey = \"code\"\nperiod = \"month\"\n\
             [[source]]\nname = \"t\"\npath = \"t.csv\"\n",
        );
        for j in 0..5 {
            text.push_str(&format!(
                "[[indicator]]\nid = \"x{j}\"\nname = \"X{j}\"\nparent = \"i\"\ndirection = \"higher\"\n"
            ));
        }
        crate::framework::check(
            crate::framework::SourceFile::new("f.toml", text),
            std::path::Path::new("."),
        )
        .unwrap()
    }

    /// A batch of the evaluated table: each row's unit, period and values of `x0`…`x4`, of
    /// which it holds the columns `columns` (and the keys).
    fn evaluated(rows: &[Row], columns: Range<usize>) -> RecordBatch {
        let text = |f: fn(&Row) -> &'static str| -> ArrayRef {
            std::sync::Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let mut cols = vec![
            ("code".to_string(), text(|r| r.0)),
            ("month".to_string(), text(|r| r.1)),
        ];
        for j in columns {
            let values: Vec<Option<f64>> = rows.iter().map(|r| r.2[j]).collect();
            cols.push((
                format!("ind.x{j}"),
                std::sync::Arc::new(Float64Array::from(values)) as ArrayRef,
            ));
        }
        RecordBatch::try_from_iter(cols).unwrap()
    }

    /// A row of the evaluated table: unit, period and the values of `x0`…`x4`.
    type Row = (&'static str, &'static str, [Option<f64>; 5]);

    /// Rows of two units in three periods, by unit, in two batches: a null, and non-finite
    /// values in three columns of two cells (`a` 2023-03; `b` 2023-01) when `bad`.
    fn rows(bad: bool) -> Vec<Vec<Row>> {
        let odd = |v: f64| Some(if bad { v } else { 1.0 });
        vec![
            vec![
                (
                    "a",
                    "2023-01",
                    [Some(1.0), Some(2.0), None, Some(4.0), Some(5.0)],
                ),
                (
                    "a",
                    "2023-02",
                    [Some(6.0), Some(7.0), Some(8.0), Some(9.0), Some(10.0)],
                ),
                (
                    "a",
                    "2023-03",
                    [
                        odd(f64::INFINITY),
                        Some(12.0),
                        Some(13.0),
                        Some(14.0),
                        odd(f64::NAN),
                    ],
                ),
            ],
            vec![
                (
                    "b",
                    "2023-01",
                    [
                        Some(16.0),
                        Some(17.0),
                        Some(18.0),
                        odd(f64::NEG_INFINITY),
                        Some(20.0),
                    ],
                ),
                (
                    "b",
                    "2023-02",
                    [Some(21.0), Some(22.0), Some(23.0), Some(24.0), Some(25.0)],
                ),
                (
                    "b",
                    "2023-03",
                    [Some(26.0), Some(27.0), Some(28.0), Some(29.0), Some(30.0)],
                ),
            ],
        ]
    }

    /// The units and periods of [`rows`].
    fn two_units_three_months() -> (Vec<String>, Vec<String>) {
        let listed = |texts: &[&str]| texts.iter().map(|t| t.to_string()).collect();
        (
            listed(&["a", "b"]),
            listed(&["2023-01", "2023-02", "2023-03"]),
        )
    }

    /// The panel, or the error, of binding `rows` with `binder` a pass at a time, each pass
    /// given the batches with its columns only.
    fn bind_in(mut binder: Binder, rows: &[Vec<Row>]) -> String {
        for (pass, range) in binder.passes.ranges.clone().into_iter().enumerate() {
            binder.begin(pass);
            for b in rows {
                binder.push(&evaluated(b, range.clone())).unwrap();
            }
        }
        assert_eq!(binder.rows(), 6);
        match binder.finish() {
            Ok(panel) => format!("{panel:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn indicators_bound_in_passes_give_the_panel_and_errors_of_one_pass() {
        let fw = five_indicators();
        let (units, months) = two_units_three_months();
        assert_eq!(split(5, 3), [0..1, 1..3, 3..5]);
        assert_eq!(split(60, 3), [0..20, 20..40, 40..60]);
        assert_eq!(split(61, 4), [0..15, 15..30, 30..45, 45..61]);
        assert_eq!(split(4, 0), split(4, 1));
        assert_eq!(split(4, 1).len(), 1);
        assert_eq!(split(4, 1)[0], 0..4);
        for bad in [false, true] {
            let rows = rows(bad);
            let one = Binder::new(&fw, units.clone(), months.clone()).unwrap();
            assert_eq!(one.passes.ranges, split(5, 1));
            let one = bind_in(one, &rows);
            let mut three = Binder::new(&fw, units.clone(), months.clone()).unwrap();
            three.passes.ranges = split(5, 3);
            assert_eq!(bind_in(three, &rows), one);
            if bad {
                // In period and unit order, a cell's values in column order, across passes.
                assert!(one.contains("3 indicator value(s)"), "{one}");
                let at = |t: &str| one.find(t).unwrap_or_else(|| panic!("{t} in {one}"));
                assert!(at("`x3` = -inf for unit b, period 2023-01") < at("`x0` = inf for unit a"));
                assert!(at("`x0` = inf for unit a") < at("`x4` = NaN for unit a"));
            } else {
                assert!(one.contains("values: [[[1.0, 2.0, NaN, 4.0, 5.0]"), "{one}");
            }
        }
    }

    #[test]
    fn a_period_binder_in_passes_checks_every_pass_and_binds_every_column() {
        let fw = five_indicators();
        let (units, months) = two_units_three_months();
        let mut layout = Binder::without_values(&fw, units, months).unwrap();
        let rows = rows(false);
        for b in &rows {
            layout.push(&evaluated(b, 0..0)).unwrap();
        }
        let (layout, _) = layout.into_layout();
        let run = |passes: Vec<Range<usize>>, rows: &[Vec<Row>], missing: Option<usize>| {
            let mut binder = PeriodBinder::whole(&fw, &layout);
            binder.passes.ranges = passes.clone();
            for (pass, range) in passes.into_iter().enumerate() {
                binder.begin(pass);
                for b in rows {
                    let mut b: Vec<Row> = b.to_vec();
                    // One pass lacks b's 2023-02 row.
                    if missing == Some(pass) {
                        b.retain(|r| (r.0, r.1) != ("b", "2023-02"));
                    }
                    binder
                        .push(&evaluated(&b, range.clone()), |_, _| {})
                        .unwrap();
                }
            }
            binder.finish().map_err(|e| e.to_string()).map(|b| match b {
                Bound::Whole(values) => values,
                _ => panic!("bound whole"),
            })
        };
        let one = run(split(5, 1), &rows, None).unwrap();
        let three = run(split(5, 3), &rows, None).unwrap();
        assert_eq!(format!("{one:?}"), format!("{three:?}"));
        assert_eq!(one[[2, 1, 4]], 30.0);
        assert!(one[[0, 0, 2]].is_nan());
        // Bound into a temporary file, in one pass: each period read back is the same.
        let spill = Spill::new(3, 2, 5).unwrap();
        let mut spilling = PeriodBinder::spilling(&fw, &layout, spill);
        for b in &rows {
            spilling.push(&evaluated(b, 0..5), |_, _| {}).unwrap();
        }
        let Bound::Spilled(spill) = spilling.finish().unwrap() else {
            panic!("bound into a file");
        };
        for p in 0..3 {
            let back = spill.period(p).unwrap();
            assert_eq!(
                format!("{back:?}"),
                format!("{:?}", one.index_axis(Axis(0), p))
            );
        }
        for pass in 0..3 {
            let e = run(split(5, 3), &rows, Some(pass)).unwrap_err();
            assert!(
                e.contains("period `2023-02` has fewer rows"),
                "pass {pass}: {e}"
            );
        }
    }
}
