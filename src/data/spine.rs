//! The spine of the joined table: every unit, or every unit-period, that the sources have.
//!
//! When an indicator uses `lag(x, k)`, the spine of a periodic framework is the full calendar
//! grid — every unit in every period from the first to the last — so that the window behind
//! `lag` counts calendar periods: `lag(x, 1)` in 2023-03 is 2023-02's value, and missing when
//! the unit has no 2023-02 row, never the row before. Grid cells that no source has are marked
//! not present and dropped once the expressions are evaluated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use crate::error::Error;
use crate::framework::{Framework, expr};
use crate::messages::Warning;
use crate::period::Period;

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
    pub fn periods(pairs: &BTreeSet<(String, String)>, grid: bool) -> Self {
        let calendar = grid.then(|| calendar(pairs)).flatten();
        let Some(calendar) = calendar else {
            return Self {
                units: pairs.iter().map(|(k, _)| k.clone()).collect(),
                periods: Some(pairs.iter().map(|(_, p)| p.clone()).collect()),
                present: vec![true; pairs.len()],
            };
        };
        let units: BTreeSet<&String> = pairs.iter().map(|(k, _)| k).collect();
        let mut out = Self {
            units: Vec::new(),
            periods: Some(Vec::new()),
            present: Vec::new(),
        };
        for k in units {
            for p in &calendar {
                out.units.push(k.clone());
                if let Some(ps) = out.periods.as_mut() {
                    ps.push(p.clone());
                }
                out.present.push(pairs.contains(&(k.clone(), p.clone())));
            }
        }
        out
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
fn calendar(pairs: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let periods: BTreeSet<Period> = pairs
        .iter()
        .map(|(_, p)| Period::parse(p).ok())
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
pub fn gaps(pairs: &BTreeSet<(String, String)>) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut by_unit: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    for (k, p) in pairs {
        by_unit.entry(k).or_default().insert(p);
    }
    let seen: BTreeSet<&String> = pairs.iter().map(|(_, p)| p).collect();
    if let Some(all) = calendar(pairs) {
        let missing: Vec<&String> = all.iter().filter(|p| !seen.contains(p)).collect();
        if !missing.is_empty() {
            out.push(Warning::PeriodGap {
                from: all.first().cloned().unwrap_or_default(),
                to: all.last().cloned().unwrap_or_default(),
                missing: missing.into_iter().cloned().collect(),
            });
        }
    }
    let mut holes: Vec<String> = Vec::new();
    for (k, ps) in &by_unit {
        let lacks: Vec<&&String> = seen.iter().filter(|p| !ps.contains(*p)).collect();
        if !lacks.is_empty() {
            holes.push(format!(
                "{k} ({})",
                lacks
                    .iter()
                    .take(3)
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
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

    fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        items
            .iter()
            .map(|(k, p)| (k.to_string(), p.to_string()))
            .collect()
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
