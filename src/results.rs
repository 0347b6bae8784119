//! Results as an Arrow table with kapok's column contract: `unit`, `name`, `period`, `group`,
//! then `score.<id>` / `rank.<id>` (and `group_rank.<id>`) per node, `raw.<id>` per indicator,
//! then `imputed.<id>` (and `from.<id>`) per indicator that is imputed.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
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
    ) -> Result<&'a ndarray::Array3<f64>, Error> {
        Ok(match stage {
            Stage::Raw => {
                let raw =
                    raw.ok_or_else(|| Error::Data("the raw stage needs the raw panel".into()))?;
                if raw.values.dim() != self.panel.values.dim() || raw.units != self.panel.units {
                    return Err(Error::Data(
                        "the data read without denominators have other units or periods".into(),
                    ));
                }
                &raw.values
            }
            Stage::Denominated => &self.panel.values,
            Stage::Screened if !fw.defaults.screen.after_impute => &self.panel.values,
            Stage::Imputed | Stage::Screened => &self.imputed_values,
            Stage::Treated => &self.treated,
            Stage::Normalised => &self.scores,
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

    /// The results table, for one period or all.
    pub fn to_batch(&self, fw: &Framework, period: Option<usize>) -> Result<RecordBatch, Error> {
        let rows = self.rows(period);
        let panel = &self.panel;
        let (mut fields, mut cols) = self.key_columns(fw, &rows);
        let score = |node: usize| -> ArrayRef {
            Arc::new(Float64Array::from_iter(rows.iter().map(|&(p, u)| {
                let v = self.scores[[p, u, node]];
                v.is_finite().then_some(v)
            })))
        };
        let rank = |r: &ndarray::Array3<u32>, node: usize| -> ArrayRef {
            Arc::new(UInt32Array::from_iter(rows.iter().map(|&(p, u)| {
                let v = r[[p, u, node]];
                (v > 0).then_some(v)
            })))
        };
        for node in node_order(fw) {
            let id = &fw.nodes[node].id;
            fields.push(Field::new(format!("score.{id}"), DataType::Float64, true));
            cols.push(score(node));
            fields.push(Field::new(format!("rank.{id}"), DataType::UInt32, true));
            cols.push(rank(&self.ranks, node));
            if let Some(gr) = &self.group_ranks
                && fw.nodes[node].indicator().is_none()
            {
                fields.push(Field::new(
                    format!("group_rank.{id}"),
                    DataType::UInt32,
                    true,
                ));
                cols.push(rank(gr, node));
            }
        }
        for (j, &node) in panel.indicators.iter().enumerate() {
            fields.push(Field::new(
                format!("raw.{}", fw.nodes[node].id),
                DataType::Float64,
                true,
            ));
            cols.push(Arc::new(Float64Array::from_iter(rows.iter().map(
                |&(p, u)| {
                    let v = panel.values[[p, u, j]];
                    v.is_finite().then_some(v)
                },
            ))));
        }
        // Provenance of imputed values: `imputed.<id>` (the method that filled the cell) for
        // every indicator whose imputation is not `none`, `from.<id>` (the period(s) the value
        // came from) when the imputation takes values from other periods.
        for (j, &node) in panel.indicators.iter().enumerate() {
            let Some(spec) = fw.nodes[node].indicator() else {
                continue;
            };
            let method = fw.impute_of(spec);
            if method == crate::pipeline::Impute::None {
                continue;
            }
            let id = &fw.nodes[node].id;
            let cell = |p: usize, u: usize| self.provenance.get(p, u, j);
            fields.push(Field::new(format!("imputed.{id}"), DataType::Utf8, true));
            cols.push(Arc::new(StringArray::from_iter(
                rows.iter()
                    .map(|&(p, u)| cell(p, u).map(|f| f.method.name())),
            )));
            if method.needs_periods() {
                fields.push(Field::new(format!("from.{id}"), DataType::Utf8, true));
                cols.push(Arc::new(StringArray::from_iter(rows.iter().map(
                    |&(p, u)| {
                        cell(p, u)
                            .filter(|f| !f.from.is_empty())
                            .map(|f| self.source_periods(f))
                    },
                ))));
            }
        }
        if fw.units.period.is_some() {
            self.trend_columns(fw, &rows, &mut fields, &mut cols);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
            .map_err(|e| Error::Data(format!("building the results table: {e}")))
    }

    /// The change and trend columns (see [`crate::trend`]), appended per aggregate node (the
    /// index and the dimensions, in pre-order): `change.<id>` and `yoy.<id>` (score change
    /// against the previous period and a year earlier), `rank_change.<id>` and `rank_yoy.<id>`
    /// (places climbed), `rolling.<id>` (rolling mean of the score) and `trend.<id>`
    /// (`improving`, `stable`, `declining`). When scores are not comparable across periods the
    /// score columns `change`, `yoy` and `rolling` are present but empty, and `trend` is the
    /// trend of the rank.
    fn trend_columns(
        &self,
        fw: &Framework,
        rows: &[(usize, usize)],
        fields: &mut Vec<Field>,
        cols: &mut Vec<ArrayRef>,
    ) {
        let t = crate::trend::Trends::of(fw, self);
        for (k, &node) in t.nodes.iter().enumerate() {
            let id = &fw.nodes[node].id;
            let num = |a: &ndarray::Array3<f64>| -> ArrayRef {
                Arc::new(Float64Array::from_iter(rows.iter().map(|&(p, u)| {
                    let v = a[[p, u, k]];
                    v.is_finite().then_some(v)
                })))
            };
            let int = |a: &ndarray::Array3<Option<i64>>| -> ArrayRef {
                Arc::new(Int64Array::from_iter(
                    rows.iter().map(|&(p, u)| a[[p, u, k]]),
                ))
            };
            fields.push(Field::new(format!("change.{id}"), DataType::Float64, true));
            cols.push(num(&t.change));
            fields.push(Field::new(
                format!("rank_change.{id}"),
                DataType::Int64,
                true,
            ));
            cols.push(int(&t.rank_change));
            fields.push(Field::new(format!("yoy.{id}"), DataType::Float64, true));
            cols.push(num(&t.yoy));
            fields.push(Field::new(format!("rank_yoy.{id}"), DataType::Int64, true));
            cols.push(int(&t.rank_yoy));
            fields.push(Field::new(format!("rolling.{id}"), DataType::Float64, true));
            cols.push(num(&t.rolling));
            fields.push(Field::new(format!("trend.{id}"), DataType::Utf8, true));
            cols.push(Arc::new(StringArray::from_iter(
                rows.iter()
                    .map(|&(p, u)| t.class[[p, u, k]].map(|c| c.key())),
            )));
        }
    }
}

impl Results {
    /// The periods an imputed value came from, as written in the `from.<id>` column: `2023-11`,
    /// or `2023-10;2024-01` for interpolation between two periods.
    pub fn source_periods(&self, f: &crate::pipeline::panel_impute::Filled) -> String {
        f.from.join(";")
    }
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
