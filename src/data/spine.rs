//! The spine of the joined table: every unit, or every unit-period, that the sources have.
//!
//! When an indicator uses `lag(x, k)`, the spine of a periodic framework is the full calendar
//! grid — every unit in every period from the first to the last — so that the window behind
//! `lag` counts calendar periods: `lag(x, 1)` in 2023-03 is 2023-02's value, and missing when
//! the unit has no 2023-02 row, never the row before. Grid cells that no source has are marked
//! not present and dropped once the expressions are evaluated.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use crate::error::Error;
use crate::framework::{Framework, expr};
use crate::messages::Warning;
use crate::period::Period;

/// The (unit, period) pairs of a table: each distinct unit and period text once, sorted, and
/// the pairs as positions among them, sorted by unit, then period, and distinct. Work on a
/// grid's half a million rows compares numbers, not strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pairs {
    /// Distinct unit keys, sorted.
    pub units: Vec<String>,
    /// Distinct periods (canonical text), sorted.
    pub periods: Vec<String>,
    /// `(unit, period)` positions in `units` and `periods`.
    pub cells: Vec<(u32, u32)>,
}

impl Pairs {
    /// The pairs of `rows` (unit, period), repeats counted once.
    pub fn of<'a>(rows: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        Self::in_order(rows).0
    }

    /// [`Pairs::of`], and the most periods open at once in the rows' order (see
    /// [`super::bind::most_open`]): one for rows sorted by period, every period for rows
    /// sorted by unit.
    pub fn in_order<'a>(rows: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> (Self, usize) {
        let (units, unit_ix) = intern(rows.clone().map(|(k, _)| k));
        let (periods, period_ix) = intern(rows.clone().map(|(_, p)| p));
        let ix = |i: Option<usize>| u32::try_from(i.expect("an interned text")).unwrap_or(u32::MAX);
        let mut unit_of = Finder::new(&units, &unit_ix);
        let mut period_of = Finder::new(&periods, &period_ix);
        let mut cells: Vec<(u32, u32)> = rows
            .map(|(k, p)| (ix(unit_of.find(k)), ix(period_of.find(p))))
            .collect();
        let mut spans = vec![None; periods.len()];
        for (at, &(_, p)) in cells.iter().enumerate() {
            let span: &mut (usize, usize) = spans[p as usize].get_or_insert((at, at));
            span.1 = at;
        }
        cells.sort_unstable();
        cells.dedup();
        let pairs = Self {
            units,
            periods,
            cells,
        };
        (pairs, super::bind::most_open(&spans))
    }

    /// Every pair of any of `all`.
    pub fn union(all: &[&Pairs]) -> Self {
        if let [one] = all {
            return (*one).clone();
        }
        Self::of(
            all.iter()
                .flat_map(|p| p.texts())
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    /// The pairs as texts, in order.
    pub fn texts(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.cells.iter().map(|&(k, p)| {
            (
                self.units[k as usize].as_str(),
                self.periods[p as usize].as_str(),
            )
        })
    }

    /// Whether the pairs hold unit `k` in period `p`.
    pub fn contains(&self, k: &str, p: &str) -> bool {
        let find = |list: &[String], t: &str| list.binary_search_by(|x| x.as_str().cmp(t)).ok();
        match (find(&self.units, k), find(&self.periods, p)) {
            (Some(k), Some(p)) => self.cells.binary_search(&(k as u32, p as u32)).is_ok(),
            _ => false,
        }
    }

    /// The periods each unit has, as a table `has[unit][period]`.
    fn by_unit(&self) -> Vec<Vec<bool>> {
        let mut has = vec![vec![false; self.periods.len()]; self.units.len()];
        for &(k, p) in &self.cells {
            has[k as usize][p as usize] = true;
        }
        has
    }
}

/// The distinct texts of `all`, sorted, and each one's position among them.
pub(super) fn intern<'a>(
    all: impl Iterator<Item = &'a str>,
) -> (Vec<String>, HashMap<&'a str, usize>) {
    let mut ix: HashMap<&str, usize> = HashMap::new();
    let mut last = None;
    for t in all {
        // Rows come grouped by unit or by period: a run of one text is hashed once.
        if last != Some(t) {
            ix.entry(t).or_insert(0);
            last = Some(t);
        }
    }
    let mut sorted: Vec<&str> = ix.keys().copied().collect();
    sorted.sort_unstable();
    for (i, t) in sorted.iter().enumerate() {
        ix.insert(t, i);
    }
    (sorted.into_iter().map(str::to_string).collect(), ix)
}

/// Finds the places of texts among `sorted` texts (`ix` gives each one's place), for texts
/// that come as a table's rows do: in runs of one text (a unit's periods, a period's units),
/// or in sorted order (each period of a unit after the one before, the first after the last).
/// The last place found, the next and the first are compared before the hash map is asked,
/// so the keys of a table sorted by unit or by period are rarely hashed.
pub(super) struct Finder<'s, K> {
    sorted: &'s [String],
    ix: &'s HashMap<K, usize>,
    last: Option<usize>,
}

impl<'s, K: Borrow<str> + Hash + Eq> Finder<'s, K> {
    /// A finder of places among `sorted`, whose places `ix` gives.
    pub(super) fn new(sorted: &'s [String], ix: &'s HashMap<K, usize>) -> Self {
        Self {
            sorted,
            ix,
            last: None,
        }
    }

    /// The place of `t`, if it is among the texts.
    pub(super) fn find(&mut self, t: &str) -> Option<usize> {
        if let Some(at) = self.last {
            for guess in [at, at + 1, 0] {
                if self.sorted.get(guess).is_some_and(|s| s == t) {
                    self.last = Some(guess);
                    return Some(guess);
                }
            }
        }
        let found = self.ix.get(t).copied();
        self.last = found.or(self.last);
        found
    }
}

/// Units (and periods) of the joined table; `present` is false for calendar fillers.
pub struct Spine {
    units: Vec<String>,
    periods: Option<Vec<String>>,
    present: Vec<bool>,
}

impl Spine {
    /// A cross-sectional spine: one row per unit.
    pub fn units(units: &BTreeSet<String>) -> Self {
        Self {
            units: units.iter().cloned().collect(),
            periods: None,
            present: vec![true; units.len()],
        }
    }

    /// One row per unit-period the sources have; with `grid`, one row per unit and calendar
    /// period from the first period to the last. Periods are canonical text (see
    /// [`crate::data::canon`]).
    pub fn periods(pairs: &Pairs, grid: bool) -> Self {
        let calendar = grid.then(|| calendar(pairs)).flatten();
        let Some(calendar) = calendar else {
            return Self {
                units: pairs.texts().map(|(k, _)| k.to_string()).collect(),
                periods: Some(pairs.texts().map(|(_, p)| p.to_string()).collect()),
                present: vec![true; pairs.cells.len()],
            };
        };
        let has = pairs.by_unit();
        // Where each calendar period sits among the data's periods (a filler is in none).
        let at: Vec<Option<usize>> = calendar
            .iter()
            .map(|c| pairs.periods.iter().position(|p| p == c))
            .collect();
        let mut out = Self {
            units: Vec::new(),
            periods: Some(Vec::new()),
            present: Vec::new(),
        };
        for (k, unit) in pairs.units.iter().enumerate() {
            for (c, p) in calendar.iter().enumerate() {
                out.units.push(unit.clone());
                if let Some(ps) = out.periods.as_mut() {
                    ps.push(p.clone());
                }
                out.present.push(at[c].is_some_and(|q| has[k][q]));
            }
        }
        out
    }

    /// Whether the spine of `pairs` (see [`Spine::periods`]) is `pairs` itself, with no
    /// calendar filler: always without `grid`; with it, when every unit has every period of
    /// the calendar.
    pub fn is_full(pairs: &Pairs, grid: bool) -> bool {
        !grid
            || calendar(pairs).is_some_and(|c| {
                c.len() == pairs.periods.len() && pairs.cells.len() == c.len() * pairs.units.len()
            })
    }

    /// The spine as a table with columns `k`, `p` (periodic) and `present`.
    pub fn table(&self) -> Result<MemTable, Error> {
        let mut fields = vec![Field::new("k", DataType::Utf8, false)];
        let mut cols: Vec<datafusion::arrow::array::ArrayRef> =
            vec![Arc::new(StringArray::from(self.units.clone()))];
        if let Some(p) = &self.periods {
            fields.push(Field::new("p", DataType::Utf8, false));
            cols.push(Arc::new(StringArray::from(p.clone())));
        }
        fields.push(Field::new("present", DataType::Boolean, false));
        cols.push(Arc::new(BooleanArray::from(self.present.clone())));
        let fail = |e: &dyn std::fmt::Display| Error::Data(format!("joining the sources: {e}"));
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| fail(&e))?;
        MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| fail(&e))
    }
}

/// Every calendar period from the first to the last of `pairs`, as canonical text; `None` when
/// the periods do not parse (they always do after canonicalisation).
fn calendar(pairs: &Pairs) -> Option<Vec<String>> {
    let periods: BTreeSet<Period> = pairs
        .periods
        .iter()
        .map(|p| Period::parse(p).ok())
        .collect::<Option<_>>()?;
    let (first, last) = (*periods.first()?, *periods.last()?);
    Some(first.through(last).map(|p| p.to_string()).collect())
}

/// Whether any indicator expression (or `[rank] only`) reads an earlier period.
pub fn uses_lag(fw: &Framework) -> bool {
    let exprs = fw
        .indicators()
        .into_iter()
        .filter_map(|i| fw.nodes[i].indicator().map(|s| s.expr.as_str()))
        .chain(fw.rank.only.as_deref());
    exprs
        .filter_map(|e| expr::analyse(e).ok())
        .any(|info| info.uses_lag)
}

/// Warnings about holes in the data: calendar periods inside the data's range that no source
/// has, and units without a row in a period that other units have.
pub fn gaps(pairs: &Pairs) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(all) = calendar(pairs) {
        let missing: Vec<&String> = all
            .iter()
            .filter(|p| pairs.periods.binary_search(p).is_err())
            .collect();
        if !missing.is_empty() {
            out.push(Warning::PeriodGap {
                from: all.first().cloned().unwrap_or_default(),
                to: all.last().cloned().unwrap_or_default(),
                missing: missing.into_iter().cloned().collect(),
            });
        }
    }
    let mut holes: Vec<String> = Vec::new();
    for (k, has) in pairs.by_unit().iter().enumerate() {
        let lacks: Vec<&str> = pairs
            .periods
            .iter()
            .zip(has)
            .filter(|(_, h)| !**h)
            .map(|(p, _)| p.as_str())
            .collect();
        if !lacks.is_empty() {
            holes.push(format!(
                "{} ({})",
                pairs.units[k],
                lacks.iter().take(3).copied().collect::<Vec<_>>().join(", ")
                    + if lacks.len() > 3 { ", …" } else { "" }
            ));
        }
    }
    if !holes.is_empty() {
        out.push(Warning::UnitHoles(holes));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        Pairs::of(items.iter().copied())
    }

    #[test]
    fn a_finder_gives_each_text_its_place_in_any_order() {
        let sorted: Vec<String> = ["2023-01", "2023-02", "2023-03", "2023-10"]
            .map(String::from)
            .to_vec();
        let ix: HashMap<String, usize> = sorted.iter().cloned().zip(0..).collect();
        // Runs, sorted order with wrap-around, jumps back and forth, and texts not listed.
        let texts = [
            "2023-01", "2023-01", "2023-02", "2023-03", "2023-10", "2023-01", "2023-10", "2023-02",
            "2023-1", "2023-02", "", "2023-03", "2023-03", "2023-01",
        ];
        let mut finder = Finder::new(&sorted, &ix);
        for t in texts {
            let expected = sorted.iter().position(|s| s == t);
            assert_eq!(finder.find(t), expected, "{t:?}");
        }
        // No texts at all.
        let none: HashMap<String, usize> = HashMap::new();
        assert_eq!(Finder::new(&[], &none).find("a"), None);
    }

    #[test]
    fn the_grid_fills_calendar_holes() {
        let ps = pairs(&[("a", "2023-01"), ("a", "2023-03"), ("b", "2023-01")]);
        let s = Spine::periods(&ps, true);
        assert_eq!(s.units, ["a", "a", "a", "b", "b", "b"]);
        assert_eq!(
            s.periods.as_deref().unwrap(),
            [
                "2023-01", "2023-02", "2023-03", "2023-01", "2023-02", "2023-03"
            ]
        );
        assert_eq!(s.present, [true, false, true, true, false, false]);
        let s = Spine::periods(&ps, false);
        assert_eq!(s.present, [true, true, true]);
        // With holes the grid has fillers; without a grid, or with every period, it has none.
        assert!(!Spine::is_full(&ps, true) && Spine::is_full(&ps, false));
        let full = pairs(&[
            ("a", "2023-01"),
            ("a", "2023-02"),
            ("b", "2023-01"),
            ("b", "2023-02"),
        ]);
        assert!(Spine::is_full(&full, true));
        assert!(Spine::periods(&full, true).present.iter().all(|&p| p));
        assert_eq!(s.units, ["a", "a", "b"]);
    }

    #[test]
    fn gaps_are_named() {
        let ps = pairs(&[("a", "2023-01"), ("a", "2023-03"), ("b", "2023-01")]);
        let g: Vec<String> = gaps(&ps).iter().map(ToString::to_string).collect();
        assert_eq!(g.len(), 2, "{g:?}");
        assert!(
            g[0].contains(
                "1 period(s) between 2023-01 and 2023-03 have no data in any source: 2023-02"
            ),
            "{}",
            g[0]
        );
        assert!(
            g[1].contains("1 unit(s)") && g[1].contains("b (2023-03)"),
            "{}",
            g[1]
        );
        assert!(
            gaps(&pairs(&[
                ("a", "2023"),
                ("b", "2023"),
                ("a", "2024"),
                ("b", "2024")
            ]))
            .is_empty()
        );
    }
}
