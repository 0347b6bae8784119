//! Results as an Arrow table with kapok's column contract: `unit`, `name`, `period`, `group`,
//! then `score.<id>` / `rank.<id>` (and `group_rank.<id>`) per node, `raw.<id>` per indicator,
//! then `imputed.<id>` (and `from.<id>`) per indicator that is imputed.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::error::Error;
use crate::evaluate::{Results, Status};
use crate::framework::{Framework, Lang};

/// Node indices in output column order: the index and dimensions in pre-order, then indicators.
pub fn node_order(fw: &Framework) -> Vec<usize> {
    let mut order = fw.aggregates_preorder();
    order.extend(fw.indicators());
    order
}

impl Results {
    /// `(period, unit)` pairs of the output rows, periods in time order, units by key. Units
    /// with no data row in a period are left out; screened units are kept with empty scores.
    pub fn rows(&self, period: Option<usize>) -> Vec<(usize, usize)> {
        let (np, nu) = self.status.dim();
        (0..np)
            .filter(|&p| period.is_none_or(|q| q == p))
            .flat_map(|p| (0..nu).map(move |u| (p, u)))
            .filter(|&(p, u)| self.status[[p, u]] != Status::Absent)
            .collect()
    }

    /// Each indicator's values after `stage` (COINr's data sets), for one period or all: `unit`,
    /// `name`, `period` and `group` as in [`Results::to_batch`], then one column per indicator
    /// id. From screening on, only the units screening kept are rows. `raw` is the panel read
    /// without denominators ([`crate::read_raw_panel`]), needed for [`Stage::Raw`] only.
    pub fn stage_batch(
        &self,
        fw: &Framework,
        stage: Stage,
        raw: Option<&crate::Panel>,
        period: Option<usize>,
    ) -> Result<RecordBatch, Error> {
        let values = self.stage_values(fw, stage, raw)?;
        let rows: Vec<(usize, usize)> = self
            .rows(period)
            .into_iter()
            .filter(|&(p, u)| self.in_stage(stage, p, u))
            .collect();
        let panel = &self.panel;
        let (mut fields, mut cols) = self.key_columns(fw, &rows);
        for (j, &node) in panel.indicators.iter().enumerate() {
            let col = Self::stage_column(stage, j, node);
            fields.push(Field::new(
                fw.nodes[node].id.as_str(),
                DataType::Float64,
                true,
            ));
            cols.push(Arc::new(Float64Array::from_iter(rows.iter().map(
                |&(p, u)| {
                    let v = values[[p, u, col]];
                    v.is_finite().then_some(v)
                },
            ))));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
            .map_err(|e| Error::Data(format!("building the {} table: {e}", stage.name())))
    }

    /// The values after `stage`, periods × units × columns (the column of an indicator is
    /// [`Results::stage_column`]). `raw` is the panel read without denominators, needed for
    /// [`Stage::Raw`] only.
    pub fn stage_values<'a>(
        &'a self,
        fw: &Framework,
        stage: Stage,
        raw: Option<&'a crate::Panel>,
    ) -> Result<std::borrow::Cow<'a, ndarray::Array3<f64>>, Error> {
        use std::borrow::Cow::{Borrowed, Owned};
        Ok(match stage {
            Stage::Raw => {
                let raw =
                    raw.ok_or_else(|| Error::Data("the raw stage needs the raw panel".into()))?;
                if raw.values.dim() != self.panel.values.dim() || raw.units != self.panel.units {
                    return Err(Error::Data(
                        "the data read without denominators have other units or periods".into(),
                    ));
                }
                Borrowed(&raw.values)
            }
            Stage::Denominated => Borrowed(&self.panel.values),
            Stage::Screened if !fw.defaults.screen.after_impute => Borrowed(&self.panel.values),
            Stage::Imputed | Stage::Screened => Borrowed(self.imputed_values()?),
            Stage::Treated => Borrowed(self.treated()?),
            Stage::Normalised => Owned(self.scores.to_array()),
        })
    }

    /// The column of indicator `j` (panel column; node `node`) in [`Results::stage_values`]:
    /// normalised values sit in the node's column of the scores.
    pub fn stage_column(stage: Stage, j: usize, node: usize) -> usize {
        if stage == Stage::Normalised { node } else { j }
    }

    /// Whether unit `u` of period `p` has values after `stage`: from screening on, only the
    /// units screening kept. (Units without a row in the period are for the caller to skip.)
    pub fn in_stage(&self, stage: Stage, p: usize, u: usize) -> bool {
        stage < Stage::Screened || self.status[[p, u]] != Status::Screened
    }

    /// The columns that say which row is which — `unit`, `name`, `period` (with periods),
    /// `group` (with groups) — for `rows` (period, unit).
    fn key_columns(&self, fw: &Framework, rows: &[(usize, usize)]) -> (Vec<Field>, Vec<ArrayRef>) {
        let panel = &self.panel;
        let mut fields = Vec::new();
        let mut cols: Vec<ArrayRef> = Vec::new();
        let mut text = |name: &str, f: &dyn Fn(usize, usize) -> String| {
            fields.push(Field::new(name, DataType::Utf8, false));
            cols.push(Arc::new(StringArray::from_iter_values(
                rows.iter().map(|&(p, u)| f(p, u)),
            )));
        };
        text("unit", &|_, u| panel.units[u].clone());
        text("name", &|_, u| panel.unit_name(u, Lang::Zh).to_string());
        if fw.units.period.is_some() {
            text("period", &|p, _| panel.periods[p].clone());
        }
        if let Some(g) = &panel.groups {
            text("group", &|_, u| g[u].clone());
        }
        (fields, cols)
    }

    /// The results table, for one period or all: every column (see [`crate::columns`] for a
    /// choice of them).
    pub fn to_batch(&self, fw: &Framework, period: Option<usize>) -> Result<RecordBatch, Error> {
        crate::columns::Table::new(fw, &self.panel, &crate::columns::Selection::all())?
            .batch(self, &self.rows(period))
    }
}

impl Results {
    /// The periods an imputed value came from, as written in the `from.<id>` column: `2023-11`,
    /// or `2023-10;2024-01` for interpolation between two periods.
    pub fn source_periods(&self, f: &crate::pipeline::panel_impute::Filled) -> String {
        source_periods(f)
    }
}

/// The periods an imputed value came from, as written in the `from.<id>` column (see
/// [`Results::source_periods`]).
pub fn source_periods(f: &crate::pipeline::panel_impute::Filled) -> String {
    f.from.join(";")
}

/// A stage of the pipeline whose indicator values `kapok score --stage` writes (COINr's data
/// sets), in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The indicators' expressions, before denominators.
    Raw,
    /// Divided by their denominators (the panel as read).
    Denominated,
    /// After imputation.
    Imputed,
    /// The data screening looked at (imputed or not, as the framework screens), units kept.
    Screened,
    /// After outlier treatment, units kept.
    Treated,
    /// Normalised, units kept.
    Normalised,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 6] = [
        Stage::Raw,
        Stage::Denominated,
        Stage::Imputed,
        Stage::Screened,
        Stage::Treated,
        Stage::Normalised,
    ];

    /// The stage named `name` (as [`Stage::name`] writes it).
    pub fn parse(name: &str) -> Option<Stage> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The name as typed (`--stage treated`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Raw => "raw",
            Stage::Denominated => "denominated",
            Stage::Imputed => "imputed",
            Stage::Screened => "screened",
            Stage::Treated => "treated",
            Stage::Normalised => "normalised",
        }
    }
}
