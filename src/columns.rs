//! Which columns of the results table are written (`kapok score --columns … --nodes …`), and
//! the table built from them, for any set of rows (all periods, or one period at a time).
//!
//! A kind of column is named as its columns are: `score` for every `score.<id>`, `group` for the
//! `group` column. The chosen columns keep the order of the full table, so a chosen table is a
//! projection of the full one, value for value.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, ArrowPrimitiveType, Int64Array, PrimitiveArray, RecordBatch, StringArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef, UInt32Type};

use ndarray::{Array1, Array2, Array3};

use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{Merged, Provenance, Results};
use crate::framework::{Framework, Lang};
use crate::pipeline::Impute;
use crate::trend::Trends;

/// A kind of column of the results table, named as its columns are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `unit`: the unit's key (always written).
    Unit,
    /// `name`: the unit's name.
    Name,
    /// `period` (with periods; always written).
    Period,
    /// `group` (with groups).
    Group,
    /// `score.<id>` for every node.
    Score,
    /// `rank.<id>` for every node.
    Rank,
    /// `group_rank.<id>` for the index and dimensions, with groups.
    GroupRank,
    /// `raw.<id>` for every indicator.
    Raw,
    /// `imputed.<id>` for every imputed indicator.
    Imputed,
    /// `from.<id>` for every indicator imputed from other periods.
    From,
    /// `change.<id>` for the index and dimensions, with periods.
    Change,
    /// `rank_change.<id>`.
    RankChange,
    /// `yoy.<id>`.
    Yoy,
    /// `rank_yoy.<id>`.
    RankYoy,
    /// `rolling.<id>`.
    Rolling,
    /// `trend.<id>`.
    Trend,
}

impl Kind {
    /// Every kind, in the order of the full table's columns (change and trend columns are
    /// interleaved per node there).
    pub const ALL: [Kind; 16] = [
        Kind::Unit,
        Kind::Name,
        Kind::Period,
        Kind::Group,
        Kind::Score,
        Kind::Rank,
        Kind::GroupRank,
        Kind::Raw,
        Kind::Imputed,
        Kind::From,
        Kind::Change,
        Kind::RankChange,
        Kind::Yoy,
        Kind::RankYoy,
        Kind::Rolling,
        Kind::Trend,
    ];

    /// The name as typed and as the columns start.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Unit => "unit",
            Kind::Name => "name",
            Kind::Period => "period",
            Kind::Group => "group",
            Kind::Score => "score",
            Kind::Rank => "rank",
            Kind::GroupRank => "group_rank",
            Kind::Raw => "raw",
            Kind::Imputed => "imputed",
            Kind::From => "from",
            Kind::Change => "change",
            Kind::RankChange => "rank_change",
            Kind::Yoy => "yoy",
            Kind::RankYoy => "rank_yoy",
            Kind::Rolling => "rolling",
            Kind::Trend => "trend",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind has one column per node (`score.<id>`), not one in all (`unit`).
    fn per_node(self) -> bool {
        !matches!(self, Kind::Unit | Kind::Name | Kind::Period | Kind::Group)
    }

    /// The change and trend kinds, in their order within a node.
    const TREND: [Kind; 6] = [
        Kind::Change,
        Kind::RankChange,
        Kind::Yoy,
        Kind::RankYoy,
        Kind::Rolling,
        Kind::Trend,
    ];
}

/// Which columns to write: kinds and nodes (`None` = all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The kinds chosen; `None` = every kind.
    pub kinds: Option<Vec<Kind>>,
    /// The nodes whose per-node columns are written; `None` = every node.
    pub nodes: Option<Vec<usize>>,
}

/// The names `--columns` accepts besides the kinds: every column, or the index's score and rank.
pub const PRESETS: [&str; 2] = ["all", "index"];

impl Selection {
    /// Every column: the full table.
    pub fn all() -> Self {
        Self::default()
    }

    /// Reads `--columns` (kinds, `all` or `index`; empty = all) and `--nodes` (node ids; empty
    /// = all). `index` is the index's score and rank (`--columns score,rank --nodes <index>`)
    /// and cannot be combined with `--nodes`. Unknown names are usage errors with a hint.
    pub fn parse(fw: &Framework, columns: &[String], nodes: &[String]) -> Result<Self, Error> {
        let mut kinds = Vec::new();
        let mut all = columns.is_empty();
        let mut index = false;
        for c in columns.iter().map(|c| c.trim()) {
            match c {
                "all" => all = true,
                "index" => {
                    index = true;
                    kinds.extend([Kind::Score, Kind::Rank]);
                }
                _ => kinds.push(Kind::parse(c).ok_or_else(|| {
                    let names = Kind::ALL.map(Kind::name);
                    let hint = crate::framework::diag::did_you_mean(
                        c,
                        names.iter().copied().chain(PRESETS),
                    )
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                    Error::Usage(format!(
                        "--columns {c}: no such kind of column{hint}; use all, index, or some of {}",
                        names.join(", ")
                    ))
                })?),
            }
        }
        let mut chosen = Vec::new();
        for id in nodes.iter().map(|n| n.trim()) {
            let node = fw.node_by_id(id).ok_or_else(|| {
                let hint = crate::framework::diag::did_you_mean(
                    id,
                    fw.nodes.iter().map(|n| n.id.as_str()),
                )
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
                let ids: Vec<&str> = fw
                    .aggregates_preorder()
                    .into_iter()
                    .map(|n| fw.nodes[n].id.as_str())
                    .collect();
                Error::Usage(format!(
                    "--nodes {id}: no node has the id `{id}`{hint}; the index and dimensions are {} (and any indicator's id)",
                    crate::data::list(&ids)
                ))
            })?;
            if !chosen.contains(&node) {
                chosen.push(node);
            }
        }
        if index && !chosen.is_empty() {
            return Err(Error::Usage(
                "--columns index is the index's score and rank; to choose the nodes, use --columns score,rank --nodes ID,…".into(),
            ));
        }
        if index {
            chosen.push(0);
        }
        let sel = Self {
            kinds: (!all).then_some(kinds),
            nodes: (!chosen.is_empty()).then_some(chosen),
        };
        // Before the data are read: a kind the framework gives no column of is refused now.
        for &kind in sel.kinds.iter().flatten() {
            if !sel.has_column(fw, kind) {
                return Err(no_column(fw, &sel, kind));
            }
        }
        Ok(sel)
    }

    /// Whether the framework gives `kind` a column among the nodes chosen.
    fn has_column(&self, fw: &Framework, kind: Kind) -> bool {
        let chosen =
            |f: &dyn Fn(usize) -> bool| (0..fw.nodes.len()).any(|n| self.wants_node(n) && f(n));
        let aggregate = |n: usize| fw.nodes[n].indicator().is_none();
        let imputed = |n: usize, from: bool| {
            fw.nodes[n].indicator().is_some_and(|spec| {
                let m = fw.impute_of(spec);
                m != Impute::None && (!from || m.needs_periods())
            })
        };
        let periods = fw.units.period.is_some();
        match kind {
            Kind::Unit | Kind::Name | Kind::Score | Kind::Rank => true,
            Kind::Period => periods,
            Kind::Group => fw.units.group.is_some(),
            Kind::GroupRank => fw.units.group.is_some() && chosen(&aggregate),
            Kind::Raw => chosen(&|n| !aggregate(n)),
            Kind::Imputed => chosen(&|n| imputed(n, false)),
            Kind::From => chosen(&|n| imputed(n, true)),
            _ => periods && chosen(&aggregate),
        }
    }

    /// Whether columns of `kind` are chosen.
    pub fn wants(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Unit | Kind::Period)
            || self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }

    /// Whether the per-node columns of `node` are chosen.
    pub fn wants_node(&self, node: usize) -> bool {
        self.nodes.as_ref().is_none_or(|n| n.contains(&node))
    }

    /// The nodes whose scores and ranks the table reads (`None`: every node): the chosen
    /// nodes, unless change or trend columns are chosen (trends are fitted for every
    /// aggregate). What an evaluation writing this table keeps ([`crate::Keep::Nodes`]).
    pub fn score_nodes(&self) -> Option<Vec<usize>> {
        if Kind::TREND.iter().any(|&k| self.wants(k)) {
            return None;
        }
        self.nodes.clone()
    }
}

impl Selection {
    /// The nodes a run writing this table as it goes ([`crate::evaluate_streaming`]) keeps
    /// over the whole panel: the index and dimensions when change or trend columns are chosen
    /// (their trends read earlier periods), else none. Every other column is read from the
    /// period being written.
    pub fn streamed_nodes(&self, fw: &Framework) -> Vec<usize> {
        if Kind::TREND.iter().any(|&k| self.wants(k)) {
            Trends::nodes_of(fw)
        } else {
            Vec::new()
        }
    }

    /// The nodes whose scores a run writing this table as it goes hands on from each period
    /// (`None`: every node): the nodes whose per-node columns are chosen.
    pub fn handed_nodes(&self) -> Option<Vec<usize>> {
        self.nodes.clone()
    }
}

/// One column of the table and where its values come from.
#[derive(Clone, Copy, Debug)]
enum Source {
    Unit,
    Name,
    Period,
    Group,
    Score(usize),
    Rank(usize),
    GroupRank(usize),
    /// Panel column, as read.
    Raw(usize),
    /// Panel column: the imputation method of each filled cell.
    Imputed(usize),
    /// Panel column: the periods a filled cell's value came from.
    From(usize),
    /// A change or trend kind of the `k`-th node of [`Trends::nodes`].
    Trend(Kind, usize),
}

/// The results table's chosen columns: its schema, and its rows built from the results of a
/// run for any `(period, unit)` pairs ([`Results::rows`]), all at once or a period at a time,
/// or from each period as a run merges it ([`Table::merged_batch`]).
pub struct Table<'a> {
    fw: &'a Framework,
    schema: SchemaRef,
    sources: Vec<Source>,
}

impl<'a> Table<'a> {
    /// The columns `sel` chooses for the results of `panel`, in the full table's order (see
    /// [`crate::results`]). A kind asked for by name that gives no column here (`group`
    /// without groups, `raw` of a dimension) is a usage error saying why.
    pub fn new(fw: &'a Framework, panel: &Panel, sel: &Selection) -> Result<Self, Error> {
        let periods = fw.units.period.is_some();
        let mut cols: Vec<(Field, Source)> = Vec::new();
        let mut push = |name: String, dt: DataType, nullable: bool, s: Source| {
            cols.push((Field::new(name, dt, nullable), s));
        };
        push("unit".into(), DataType::Utf8, false, Source::Unit);
        if sel.wants(Kind::Name) {
            push("name".into(), DataType::Utf8, false, Source::Name);
        }
        if periods {
            push("period".into(), DataType::Utf8, false, Source::Period);
        }
        if panel.groups.is_some() && sel.wants(Kind::Group) {
            push("group".into(), DataType::Utf8, false, Source::Group);
        }
        for node in crate::results::node_order(fw) {
            if !sel.wants_node(node) {
                continue;
            }
            let id = &fw.nodes[node].id;
            if sel.wants(Kind::Score) {
                push(
                    format!("score.{id}"),
                    DataType::Float64,
                    true,
                    Source::Score(node),
                );
            }
            if sel.wants(Kind::Rank) {
                push(
                    format!("rank.{id}"),
                    DataType::UInt32,
                    true,
                    Source::Rank(node),
                );
            }
            // Results have group ranks when the panel has groups.
            if panel.groups.is_some()
                && fw.nodes[node].indicator().is_none()
                && sel.wants(Kind::GroupRank)
            {
                push(
                    format!("group_rank.{id}"),
                    DataType::UInt32,
                    true,
                    Source::GroupRank(node),
                );
            }
        }
        if sel.wants(Kind::Raw) {
            for (j, &node) in panel.indicators.iter().enumerate() {
                if sel.wants_node(node) {
                    let id = &fw.nodes[node].id;
                    push(format!("raw.{id}"), DataType::Float64, true, Source::Raw(j));
                }
            }
        }
        for (j, &node) in panel.indicators.iter().enumerate() {
            let Some(spec) = fw.nodes[node].indicator() else {
                continue;
            };
            let method = fw.impute_of(spec);
            if method == Impute::None || !sel.wants_node(node) {
                continue;
            }
            let id = &fw.nodes[node].id;
            if sel.wants(Kind::Imputed) {
                push(
                    format!("imputed.{id}"),
                    DataType::Utf8,
                    true,
                    Source::Imputed(j),
                );
            }
            if method.needs_periods() && sel.wants(Kind::From) {
                push(format!("from.{id}"), DataType::Utf8, true, Source::From(j));
            }
        }
        if periods && Kind::TREND.iter().any(|&k| sel.wants(k)) {
            for (k, node) in Trends::nodes_of(fw).into_iter().enumerate() {
                if !sel.wants_node(node) {
                    continue;
                }
                let id = &fw.nodes[node].id;
                for kind in Kind::TREND.into_iter().filter(|&kind| sel.wants(kind)) {
                    let dt = match kind {
                        Kind::RankChange | Kind::RankYoy => DataType::Int64,
                        Kind::Trend => DataType::Utf8,
                        _ => DataType::Float64,
                    };
                    push(
                        format!("{}.{id}", kind.name()),
                        dt,
                        true,
                        Source::Trend(kind, k),
                    );
                }
            }
        }
        if let Some(kinds) = &sel.kinds {
            for &kind in kinds {
                let has = |c: &(Field, Source)| {
                    let name = c.0.name();
                    if kind.per_node() {
                        name.starts_with(&format!("{}.", kind.name()))
                    } else {
                        name == kind.name()
                    }
                };
                if !cols.iter().any(has) {
                    return Err(no_column(fw, sel, kind));
                }
            }
        }
        let (fields, sources): (Vec<Field>, Vec<Source>) = cols.into_iter().unzip();
        Ok(Self {
            fw,
            schema: Arc::new(Schema::new(fields)),
            sources,
        })
    }

    /// The table's schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The table of one period's rows of `r`, for `period` or each period in turn: one batch
    /// each, built when asked for (a period of the full table's rows in [`Results::rows`]
    /// order).
    pub fn batches<'b>(
        &'b self,
        r: &'b Results,
        period: Option<usize>,
    ) -> impl Iterator<Item = Result<RecordBatch, Error>> + 'b {
        let periods = match period {
            Some(p) => p..p + 1,
            None => 0..r.panel.periods.len(),
        };
        periods.map(move |p| self.batch(r, &r.rows(Some(p))))
    }

    /// The table of `rows` (period, unit) of `r`.
    pub fn batch(&self, r: &Results, rows: &[(usize, usize)]) -> Result<RecordBatch, Error> {
        self.build(r, rows)
    }

    /// The table of a period's rows as a run merges it ([`crate::evaluate_streaming`]): the
    /// rows [`Table::batch`] gives for that period of the run's results. The run keeps the
    /// scores of the index and the dimensions when change or trend columns are written.
    pub fn merged_batch(&self, m: &Merged) -> Result<RecordBatch, Error> {
        self.build(m, &m.rows())
    }

    /// The columns of [`Table::merged_batch`], each made when asked for
    /// ([`Columns::column`]), so that a writer can make, encode and drop them a few at a time.
    pub fn merged_columns<'t>(&'t self, m: &'t Merged) -> Columns<'t> {
        self.columns(m, m.rows())
    }

    /// The table of `rows`, its values read from `from`.
    fn build(&self, from: &impl Origin, rows: &[(usize, usize)]) -> Result<RecordBatch, Error> {
        self.columns(from, rows.to_vec()).batch()
    }

    /// The columns of `rows`, read from `from`.
    fn columns<'t>(&'t self, from: &'t dyn Origin, rows: Vec<(usize, usize)>) -> Columns<'t> {
        let mut periods: Vec<usize> = rows.iter().map(|&(p, _)| p).collect();
        periods.sort_unstable();
        periods.dedup();
        // The trends of the rows' periods only: a table written a period at a time holds one
        // period's changes and classes, not the panel's.
        let trends = self
            .sources
            .iter()
            .any(|s| matches!(s, Source::Trend(..)))
            .then(|| from.trends(self.fw, &periods));
        Columns {
            table: self,
            from,
            rows,
            periods,
            trends,
        }
    }
}

/// Some rows of a [`Table`] and what their columns read (see [`Table::merged_columns`]): each
/// column is made when asked for.
pub struct Columns<'t> {
    table: &'t Table<'t>,
    from: &'t dyn Origin,
    rows: Vec<(usize, usize)>,
    /// The rows' periods, in order.
    periods: Vec<usize>,
    /// The changes and trends of `periods`, when the table has such columns.
    trends: Option<Trends>,
}

impl Columns<'_> {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The column `c` of the table's schema, of these rows.
    pub fn column(&self, c: usize) -> ArrayRef {
        let (rows, panel) = (&self.rows[..], self.from.panel());
        let periods = &self.periods;
        let provenance = self.from.provenance();
        match self.table.sources[c] {
            Source::Unit => text(rows, |_, u| &panel.units[u]),
            Source::Name => text(rows, |_, u| panel.unit_name(u, Lang::Zh)),
            Source::Period => text(rows, |p, _| &panel.periods[p]),
            Source::Group => {
                let g = panel.groups.as_ref().expect("a group column has groups");
                text(rows, |_, u| &g[u])
            }
            Source::Score(node) => self.from.scores(node, rows),
            Source::Rank(node) => {
                // The rows' periods ranked one at a time, kept no longer than the column.
                let mut of = vec![None; panel.periods.len()];
                for &p in periods {
                    of[p] = Some(self.from.ranks(node, p));
                }
                rank(rows, |p, u| of[p].as_ref().map_or(0, |a| a[u]))
            }
            Source::GroupRank(node) => {
                let a = self.from.group_ranks().expect("group ranks");
                rank(rows, |p, u| a[[p, u, node]])
            }
            Source::Raw(j) => self.from.raw(j, rows),
            Source::Imputed(j) => Arc::new(StringArray::from_iter(
                provenance
                    .column(j, rows)
                    .into_iter()
                    .map(|f| f.map(|f| f.method.name())),
            )),
            Source::From(j) => Arc::new(StringArray::from_iter(
                provenance.column(j, rows).into_iter().map(|f| {
                    f.filter(|f| !f.from.is_empty())
                        .map(crate::results::source_periods)
                }),
            )),
            Source::Trend(kind, k) => {
                let t = self.trends.as_ref().expect("trend columns have trends");
                match kind {
                    Kind::Change => num(rows, |p, u| t.change(p, u, k)),
                    Kind::RankChange => int(rows, |p, u| t.rank_change(p, u, k)),
                    Kind::Yoy => num(rows, |p, u| t.yoy(p, u, k)),
                    Kind::RankYoy => int(rows, |p, u| t.rank_yoy(p, u, k)),
                    Kind::Rolling => num(rows, |p, u| t.rolling(p, u, k)),
                    _ => Arc::new(StringArray::from_iter(
                        rows.iter()
                            .map(|&(p, u)| t.class(p, u, k).map(|class| class.key())),
                    )),
                }
            }
        }
    }

    /// The rows as a batch, its columns made in parallel.
    pub fn batch(&self) -> Result<RecordBatch, Error> {
        crate::io::columns_batch(&self.table.schema, self.rows(), &|c| self.column(c))
            .map_err(|e| Error::Data(format!("building the results table: {e}")))
    }
}

/// Where a batch of the table reads its values: the results of a run, or a period as a run
/// merges it.
trait Origin: Sync {
    /// The panel evaluated.
    fn panel(&self) -> &Panel;
    /// How imputed cells were filled.
    fn provenance(&self) -> &Provenance;
    /// Ranks within groups, `[[period, unit, node]]`, with groups.
    fn group_ranks(&self) -> Option<&Array3<u32>>;
    /// Node `node`'s score column of `rows`.
    fn scores(&self, node: usize, rows: &[(usize, usize)]) -> ArrayRef;
    /// Indicator column `j`'s values as read, of `rows`.
    fn raw(&self, j: usize, rows: &[(usize, usize)]) -> ArrayRef;
    /// Node `node`'s ranks in period `p`, one per unit (0 = no rank).
    fn ranks(&self, node: usize, p: usize) -> Array1<u32>;
    /// The changes and trends of `periods`.
    fn trends(&self, fw: &Framework, periods: &[usize]) -> Trends;
}

impl Origin for Results {
    fn panel(&self) -> &Panel {
        &self.panel
    }
    fn provenance(&self) -> &Provenance {
        &self.provenance
    }
    fn group_ranks(&self) -> Option<&Array3<u32>> {
        self.group_ranks.as_ref()
    }
    fn scores(&self, node: usize, rows: &[(usize, usize)]) -> ArrayRef {
        let a = self.scores.node(node);
        num(rows, |p, u| a[[p, u]])
    }
    fn raw(&self, j: usize, rows: &[(usize, usize)]) -> ArrayRef {
        num(rows, |p, u| self.panel.values[[p, u, j]])
    }
    fn ranks(&self, node: usize, p: usize) -> Array1<u32> {
        self.period_ranks(node, p)
    }
    fn trends(&self, fw: &Framework, periods: &[usize]) -> Trends {
        Trends::at(fw, self, periods)
    }
}

impl Origin for Merged<'_> {
    fn panel(&self) -> &Panel {
        self.panel
    }
    fn provenance(&self) -> &Provenance {
        self.provenance
    }
    fn group_ranks(&self) -> Option<&Array3<u32>> {
        self.group_ranks
    }
    fn scores(&self, node: usize, rows: &[(usize, usize)]) -> ArrayRef {
        let score = self.node_scores(node);
        num(rows, |_, u| score(u))
    }
    fn raw(&self, j: usize, rows: &[(usize, usize)]) -> ArrayRef {
        num(rows, |_, u| self.values[[u, j]])
    }
    fn ranks(&self, node: usize, _p: usize) -> Array1<u32> {
        Merged::ranks(self, node)
    }
    fn trends(&self, fw: &Framework, periods: &[usize]) -> Trends {
        let ranks: Vec<&Array2<u32>> = Trends::nodes_of(fw)
            .into_iter()
            .map(|n| {
                self.node_ranks(n)
                    .expect("a run writing trends keeps the index and the dimensions")
            })
            .collect();
        Trends::at_with(fw, self.panel, self.scores, &ranks, periods)
    }
}

// The column builders of [`Table::batch`], one value per row `(period, unit)`; generic, so that
// each column's reading is compiled into its loop.

/// A text column.
fn text<'s>(rows: &[(usize, usize)], f: impl Fn(usize, usize) -> &'s str) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(
        rows.iter().map(|&(p, u)| f(p, u)),
    ))
}

/// A float column; a value that is not finite (no score) is empty.
fn num(rows: &[(usize, usize)], f: impl Fn(usize, usize) -> f64) -> ArrayRef {
    let values: Vec<f64> = rows.iter().map(|&(p, u)| f(p, u)).collect();
    Arc::new(with_empty::<Float64Type>(values, |v| v.is_finite()))
}

/// A rank column; rank 0 (no rank) is empty.
fn rank(rows: &[(usize, usize)], f: impl Fn(usize, usize) -> u32) -> ArrayRef {
    let values: Vec<u32> = rows.iter().map(|&(p, u)| f(p, u)).collect();
    Arc::new(with_empty::<UInt32Type>(values, |&v| v > 0))
}

/// `values` as a column, the values that are not `present` empty (with the type's default
/// beneath, as a builder leaves): the values are gathered in one plain pass, and the empty
/// cells marked after, only when there are any.
fn with_empty<T: ArrowPrimitiveType>(
    mut values: Vec<T::Native>,
    present: impl Fn(&T::Native) -> bool,
) -> PrimitiveArray<T> {
    let nulls = values
        .iter()
        .any(|v| !present(v))
        .then(|| NullBuffer::from_iter(values.iter().map(&present)));
    if nulls.is_some() {
        for v in values.iter_mut().filter(|v| !present(v)) {
            *v = T::Native::default();
        }
    }
    PrimitiveArray::new(values.into(), nulls)
}

/// A whole-number column.
fn int(rows: &[(usize, usize)], f: impl Fn(usize, usize) -> Option<i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter(rows.iter().map(|&(p, u)| f(p, u))))
}

/// The usage error of a kind that gives no column for the selection `sel`.
fn no_column(fw: &Framework, sel: &Selection, kind: Kind) -> Error {
    Error::Usage(format!(
        "--columns {}: writes no column here: {}",
        kind.name(),
        why_none(fw, sel, kind)
    ))
}

/// Why `kind` gives no column for the selection `sel`.
fn why_none(fw: &Framework, sel: &Selection, kind: Kind) -> String {
    let no_periods = "the framework has no periods ([units] names no period column)";
    let no_groups = "the framework has no groups ([units] names no group column)";
    match kind {
        Kind::Period => return no_periods.into(),
        Kind::Group => return no_groups.into(),
        Kind::GroupRank if fw.units.group.is_none() => return no_groups.into(),
        k if Kind::TREND.contains(&k) && fw.units.period.is_none() => return no_periods.into(),
        _ => {}
    }
    let of = match kind {
        Kind::GroupRank => "the index and the dimensions",
        Kind::Raw => "indicators",
        Kind::Imputed => "imputed indicators (an imputation other than none)",
        Kind::From => "indicators imputed from other periods (carry_forward, interpolate, …)",
        _ => "the index and the dimensions",
    };
    match &sel.nodes {
        Some(nodes) => {
            let ids: Vec<&str> = nodes.iter().map(|&n| fw.nodes[n].id.as_str()).collect();
            format!(
                "{}.<id> is written for {of}, and the nodes chosen ({}) have none",
                kind.name(),
                ids.join(", ")
            )
        }
        None => format!(
            "{}.<id> is written for {of}, and there are none",
            kind.name()
        ),
    }
}
