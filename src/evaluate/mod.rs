//! The pipeline driver: runs screen → impute → treat → normalise → aggregate → rank on each
//! period of a [`Panel`], and maps the pure stages' index-based errors to the units, periods,
//! indicators and nodes a user can act on.

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis, s};
use rayon::prelude::*;

mod period;
mod scores;
mod stream;

pub use scores::Scores;
pub(crate) use stream::evaluate_bound;
pub use stream::{Merged, evaluate_streaming};

use period::{Pass1, Scored};

use crate::data::Panel;
use crate::error::Error;
use crate::framework::{Framework, Lang};
use crate::messages::Warning;
use crate::pipeline::panel_impute::{self, Filled, PanelFills};
use crate::pipeline::{self, Impute, StageError, TreatReport};
use period::PeriodFills;

/// Why a unit has no score in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Scored.
    Scored,
    /// The unit has no row in this period.
    Absent,
    /// Removed by screening (data availability or `force_out`).
    Screened,
    /// Kept, but its index could not be computed (too few present children).
    Missing,
}

/// What evaluation keeps of the pipeline's values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// Every node's scores, and the indicator values after imputation and after treatment too
    /// (COINr's data sets, the report's profiles, saved bounds): one or two more arrays the
    /// size of the panel.
    #[default]
    Stages,
    /// Every node's scores only: what the results table, rankings and trends need. The run's
    /// [`Results::treatments`] then leave out the columns that are not treated (whose skew
    /// and kurtosis only the audit reads).
    Scores,
    /// The scores of these nodes only (node indices): what writing some nodes' columns needs.
    /// Reading another node's scores or ranks from the results panics (see [`Scores`]).
    Nodes(Vec<usize>),
    /// What a view of one period reads (the report of a period): the indicator values after
    /// imputation and after treatment of that period only ([`Results::treated_at`],
    /// [`Results::imputed_at`]), every node's scores of that period, and the index's and
    /// other aggregates' scores of every period (their rank changes and trends read earlier
    /// periods). A period's arrays rather than the panel's; reading another node's scores
    /// in another period panics (see [`Scores`]).
    Period(usize),
}

impl Keep {
    /// Whether the run records the indicator values after imputation and after treatment
    /// ([`Results::imputed_values`], [`Results::treated`]): [`Keep::Stages`] does, and
    /// [`Keep::Period`] for its period.
    fn records_values(&self) -> bool {
        matches!(self, Keep::Stages | Keep::Period(_))
    }

    /// Per period of `np`: where the run records its indicator values after imputation and
    /// treatment, if it does (see [`Keep::records_values`]).
    fn stage_slots(&self, np: usize) -> Vec<Option<usize>> {
        match self {
            Keep::Period(p) => (0..np).map(|q| (q == *p).then_some(0)).collect(),
            _ => (0..np).map(Some).collect(),
        }
    }

    /// Per node of `fw`: whether its scores are kept in every period.
    fn nodes(&self, fw: &Framework) -> Vec<bool> {
        match self {
            Keep::Nodes(nodes) => (0..fw.nodes.len()).map(|n| nodes.contains(&n)).collect(),
            Keep::Period(_) => {
                let over = crate::trend::Trends::nodes_of(fw);
                (0..fw.nodes.len()).map(|n| over.contains(&n)).collect()
            }
            Keep::Stages | Keep::Scores => vec![true; fw.nodes.len()],
        }
    }

    /// The period in which every node's scores are kept, if any (besides the nodes kept in
    /// every period).
    fn every_node_in(&self) -> Option<usize> {
        match self {
            Keep::Period(p) => Some(*p),
            _ => None,
        }
    }
}

/// How a unit's rank moved between two periods (rank 1 = best).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankChange {
    /// Climbed this many places.
    Up(u32),
    /// Fell this many places.
    Down(u32),
    /// Same rank.
    Same,
    /// Ranked now but not before.
    New,
    /// Not ranked now.
    Unranked,
}

impl RankChange {
    /// The change from rank `before` to rank `now`, where 0 means "no rank".
    pub fn between(before: u32, now: u32) -> Self {
        match (before, now) {
            (_, 0) => Self::Unranked,
            (0, _) => Self::New,
            (b, n) if b > n => Self::Up(b - n),
            (b, n) if b < n => Self::Down(n - b),
            _ => Self::Same,
        }
    }

    /// Places climbed (negative = fallen), or `None` when there is no rank now or before.
    pub fn places(self) -> Option<i64> {
        match self {
            Self::Up(k) => Some(i64::from(k)),
            Self::Down(k) => Some(-i64::from(k)),
            Self::Same => Some(0),
            Self::New | Self::Unranked => None,
        }
    }
}

/// The sort key that orders units best first: rank 1 first, a unit without a rank (0) last.
/// Every ranking kapok shows sorts by it, then by unit key.
pub fn best_first(rank: u32) -> u32 {
    if rank == 0 { u32::MAX } else { rank }
}

/// Orders `units` as kapok shows a ranking of period `p`: best first by the index's rank
/// ([`best_first`]), then by unit key. The keys are compared in place, not cloned for each
/// comparison (at grid scale, a sort cloning them took 50 ms).
pub fn sort_best_first(r: &Results, p: usize, units: &mut [usize]) {
    let key = |u: usize| (best_first(r.rank(p, u, 0)), &r.panel.units[u]);
    units.sort_by(|&a, &b| key(a).cmp(&key(b)));
}

/// Outlier treatment applied to one indicator in one period.
#[derive(Clone, Debug)]
pub struct Treatment {
    /// Period index.
    pub period: usize,
    /// Indicator column (position in [`Panel::indicators`]).
    pub indicator: usize,
    /// What the stage did.
    pub report: TreatReport,
}

/// How imputed cells were filled, kept for the filled cells only (a few per cent of a panel:
/// a dense `periods × units × indicators` array of them took gigabytes at grid scale). Per
/// indicator column, the distinct ways its cells were filled (a method and its source periods:
/// a handful) and the filled cells in (period, unit) order, each naming its way.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// `ways[j]`: the distinct ways the cells of column `j` were filled.
    ways: Vec<Vec<Filled>>,
    /// `cells[j]`: the filled cells of column `j` as ((period, unit), way), sorted.
    cells: Vec<Vec<(Cell, u32)>>,
}

/// A cell of one indicator column: (period, unit).
type Cell = (u32, u32);

/// The compact form of a period and unit index (a panel has far fewer than 2³² of either).
fn cell(p: usize, u: usize) -> Cell {
    let ix = |i: usize| u32::try_from(i).expect("fewer than 2^32 periods and units");
    (ix(p), ix(u))
}

impl Provenance {
    /// How the cell of period `p`, unit `u` and indicator column `j` was filled, if it was.
    pub fn get(&self, p: usize, u: usize, j: usize) -> Option<&Filled> {
        let cells = self.cells.get(j)?;
        let at = cells.binary_search_by_key(&cell(p, u), |c| c.0).ok()?;
        Some(&self.ways[j][cells[at].1 as usize])
    }

    /// Records how a cell was filled.
    pub fn set(&mut self, p: usize, u: usize, j: usize, how: Filled) {
        let way = self.way(j, how);
        self.set_way(p, u, j, way);
    }

    /// The number of `how` among column `j`'s ways, added when new.
    fn way(&mut self, j: usize, how: Filled) -> u32 {
        if self.ways.len() <= j {
            self.ways.resize_with(j + 1, Vec::new);
            self.cells.resize_with(j + 1, Vec::new);
        }
        let ways = &mut self.ways[j];
        let at = ways.iter().position(|w| *w == how).unwrap_or_else(|| {
            ways.push(how);
            ways.len() - 1
        });
        u32::try_from(at).expect("fewer than 2^32 ways to fill a cell")
    }

    /// Records that a cell was filled in column `j`'s way number `way`. Cells come in order
    /// when periods are recorded in order (each is then added at the end).
    fn set_way(&mut self, p: usize, u: usize, j: usize, way: u32) {
        let at = cell(p, u);
        let cells = &mut self.cells[j];
        match cells.last() {
            Some(last) if last.0 >= at => match cells.binary_search_by_key(&at, |c| c.0) {
                Ok(i) => cells[i].1 = way,
                Err(i) => cells.insert(i, (at, way)),
            },
            _ => cells.push((at, way)),
        }
    }

    /// The filled cells of column `j` among `rows` ((period, unit) pairs): one entry per row,
    /// found by walking the column once from the first row's cell when the rows are in order
    /// (as output rows are).
    pub fn column(&self, j: usize, rows: &[(usize, usize)]) -> Vec<Option<&Filled>> {
        if !rows.is_sorted() {
            return rows.iter().map(|&(p, u)| self.get(p, u, j)).collect();
        }
        let Some(column) = self.cells.get(j) else {
            return vec![None; rows.len()];
        };
        // The walk starts at the first row's cell (a period's rows start in the middle of a
        // column that holds every period).
        let first = rows.first().map_or((0, 0), |&(p, u)| cell(p, u));
        let mut cells = column[column.partition_point(|(at, _)| *at < first)..]
            .iter()
            .peekable();
        rows.iter()
            .map(|&(p, u)| {
                let row = cell(p, u);
                while cells.next_if(|(at, _)| *at < row).is_some() {}
                cells
                    .next_if(|(at, _)| *at == row)
                    .map(|&(_, w)| &self.ways[j][w as usize])
            })
            .collect()
    }
}

/// Scores and ranks of every node, per period and unit.
#[derive(Clone, Debug)]
pub struct Results {
    /// The panel the results were computed from (raw values, units, periods).
    pub panel: Panel,
    /// `scores[[period, unit, node]]`; NaN = no score. Indicator nodes hold normalised values.
    /// Ranks are computed from these scores when first asked for. A run keeping some nodes
    /// only ([`Keep::Nodes`]) holds theirs.
    pub scores: Scores,
    /// Each node's ranks, computed when first asked for: read with [`Results::rank`] and
    /// [`Results::node_ranks`].
    ranks: Ranks,
    /// Ranks within the unit's group (when the framework has groups).
    pub group_ranks: Option<Array3<u32>>,
    /// Indicator values after imputation, before treatment, when treatment changed any of
    /// them (else they are `treated`, and not held twice); read with
    /// [`Results::imputed_values`].
    imputed_values: Option<Array3<f64>>,
    /// Indicator values after imputation and treatment, before normalisation, when kept
    /// ([`Keep::Stages`]); read with [`Results::treated`].
    treated: Option<Array3<f64>>,
    /// Per period: its place in `treated` and `imputed_values` (every period's but with
    /// [`Keep::Period`]).
    stage_slots: Vec<Option<usize>>,
    /// `status[[period, unit]]`.
    pub status: Array2<Status>,
    /// Cells filled by imputation, per period and indicator column.
    pub imputed: Array2<usize>,
    /// Outlier treatment of every indicator and period: those whose method is not `none`,
    /// and with [`Keep::Stages`] the others too, with their skew and kurtosis measured.
    pub treatments: Vec<Treatment>,
    /// `(indicator node, period)` pairs with no value for any unit: left out of that period's
    /// aggregation.
    pub empty: Vec<(usize, usize)>,
    /// Node ids, for messages.
    pub ids: Vec<String>,
    /// `provenance[[period, unit, indicator]]`: how an imputed cell of a scored or kept unit
    /// was filled (method and source periods); `None` for a value as read or still missing.
    pub provenance: Provenance,
    /// Per indicator column: the bounds its scores were computed against when they are not per
    /// period (panel, base or frozen; see [`crate::bounds`]).
    pub references: Vec<Option<crate::bounds::Reference>>,
    /// Indicator values beyond base or frozen bounds, per indicator and period (see
    /// [`crate::framework::Outside`]).
    pub outside: Vec<OutsideCount>,
}

/// How many values of one indicator in one period lay beyond its base or frozen bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideCount {
    /// Period index.
    pub period: usize,
    /// Indicator column (position in [`Panel::indicators`]).
    pub indicator: usize,
    /// Values worse than the bounds.
    pub below: usize,
    /// Values better than the bounds.
    pub above: usize,
}

/// How to give geometric and harmonic means the positive scores they need.
const POSITIVE_HINT: &str = "hint: geometric and harmonic means need positive scores; normalise to a positive range, e.g. --normalize '{ method = \"minmax\", range = [1, 100] }' or --normalize '{ method = \"zscore\", mean = 100, sd = 10 }'";

fn stage_error(panel: &Panel, rows: &[usize], p: usize, what: &str, e: &StageError) -> Error {
    let unit = |row: usize| {
        rows.get(row)
            .map(|&u| format!("unit {} ({})", panel.units[u], panel.unit_name(u, Lang::Zh)))
            .unwrap_or_else(|| format!("row {row}"))
    };
    let period = if panel.periods[p].is_empty() {
        String::new()
    } else {
        format!(", period {}", panel.periods[p])
    };
    let detail = match e {
        StageError::NonPositive { row, col, value } => format!(
            "{}, child `{col}` = {value}: needs positive values\n{POSITIVE_HINT}",
            unit(*row)
        ),
        StageError::NegativeChild { row, col, value } => format!(
            "{}, child `{col}` = {value}: benefit of the doubt needs scores ≥ 0 (normalise the children with minmax, prank, goalposts or another method whose scores are not negative)",
            unit(*row)
        ),
        StageError::ZeroValue { row, col } => {
            format!("{}, child `{col}` = 0\n{POSITIVE_HINT}", unit(*row))
        }
        StageError::NonFinite { row }
        | StageError::FormulaUndefined { row, .. }
        | StageError::MissingReference { row }
        | StageError::ReferenceAtMinimum { row }
        | StageError::NegativeValue { row, .. }
        | StageError::NonPositiveValue { row, .. }
        | StageError::LogOfNonPositive { row, .. } => format!("{}: {e}", unit(*row)),
        other => other.to_string(),
    };
    Error::Eval(format!("{what}{period}: {detail}"))
}

/// Replaces child column numbers in a node error with the children's ids.
fn child_names(msg: String, fw: &Framework, children: &[usize]) -> String {
    let mut msg = msg;
    for (c, &node) in children.iter().enumerate().rev() {
        msg = msg.replace(
            &format!("child `{c}`"),
            &format!("child `{}`", fw.nodes[node].id),
        );
    }
    msg
}

/// The panel steps of every indicator's imputation, computed once over the raw panel before
/// the periods are evaluated (see [`pipeline::panel_impute`]).
fn panel_prepass(fw: &Framework, panel: &Panel) -> Result<PanelFills, Error> {
    let methods: Vec<Impute> = panel
        .indicators
        .iter()
        .map(|&node| {
            fw.nodes[node]
                .indicator()
                .map_or(Impute::None, |s| fw.impute_of(s))
        })
        .collect();
    let Some(m) = methods.iter().position(Impute::needs_periods) else {
        return Ok(PanelFills::default());
    };
    let time = panel_impute::calendar(&panel.periods).ok_or_else(|| {
        Error::Usage(format!(
            "imputing `{}`: `{}` takes values from other periods, but the data have no calendar periods",
            fw.nodes[panel.indicators[m]].id,
            methods[m].name()
        ))
    })?;
    Ok(PanelFills {
        periods: panel.periods.clone(),
        ..panel_impute::prepass(panel.values.view(), panel.present.view(), &time, &methods)
    })
}

/// What node `node` is ranked on, highest first: its scores, rounded to `[rank] digits`
/// decimals when the framework asks (as publishers rank on published values), negated when
/// lower is better, and `NaN` (no rank) for units outside `[rank] only`.
fn rank_keys(fw: &Framework, node: usize, scores: ArrayView1<f64>, ranked: &[bool]) -> Array1<f64> {
    keys_of(
        fw.rank.digits,
        fw.nodes[node].lower_is_better,
        scores.iter().copied(),
        ranked.iter().copied(),
    )
}

/// [`rank_keys`] from the framework's ranking rule: decimals and direction.
fn keys_of(
    digits: Option<u32>,
    lower_is_better: bool,
    scores: impl Iterator<Item = f64>,
    ranked: impl Iterator<Item = bool>,
) -> Array1<f64> {
    keys_iter(digits, lower_is_better, scores, ranked).collect()
}

/// The keys of [`keys_of`], one at a time.
fn keys_iter(
    digits: Option<u32>,
    lower_is_better: bool,
    scores: impl Iterator<Item = f64>,
    ranked: impl Iterator<Item = bool>,
) -> impl Iterator<Item = f64> {
    let key = rank_key(digits, lower_is_better);
    scores
        .zip(ranked)
        .map(move |(x, keep)| if keep { key(x) } else { f64::NAN })
}

/// A ranked unit's key from its score: the framework's ranking rule, the one place of it.
fn rank_key(digits: Option<u32>, lower_is_better: bool) -> impl Fn(f64) -> f64 + Copy {
    let scale = digits.map(|d| 10f64.powi(d as i32));
    let sign = if lower_is_better { -1.0 } else { 1.0 };
    move |x| match scale {
        // Compared as whole numbers of 10^-digits, so equal published values tie exactly.
        Some(k) => sign * (x * k).round(),
        None => sign * x,
    }
}

/// The ranks of every node, each computed from the results' scores the first time it is
/// asked for: writing the index alone, or printing a ranking, ranks one node, not the whole
/// tree. A node's ranks are those ranking its scores per period would give (see
/// [`rank_scores`]).
#[derive(Clone, Debug)]
struct Ranks {
    /// `[rank] digits` of the framework.
    digits: Option<u32>,
    /// Per node: whether lower scores rank first.
    lower_is_better: Vec<bool>,
    /// Per node: `[[period, unit]]`, 0 = no rank, once computed.
    nodes: Vec<std::sync::OnceLock<Array2<u32>>>,
}

impl Ranks {
    fn new(fw: &Framework) -> Self {
        Self {
            digits: fw.rank.digits,
            lower_is_better: fw.nodes.iter().map(|n| n.lower_is_better).collect(),
            nodes: fw
                .nodes
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// Node `node`'s ranks in every period of `scores`, units
    /// outside `ranked` (`[[period, unit]]`, when the framework limits ranking) unranked. Runs
    /// on the calling thread: it is called inside parallel work, and a node's ranks are computed
    /// once, under its lock.
    /// A node kept in some periods only is ranked in those, its ranks held as its scores are
    /// (one row per period kept, see [`Scores::place`]).
    fn of(&self, node: usize, scores: &Scores, ranked: Option<&Array2<bool>>) -> &Array2<u32> {
        self.nodes[node].get_or_init(|| {
            let held = scores.held(node);
            let rows = held.iter().map(|&(_, row)| row + 1).max().unwrap_or(0);
            let mut out = Array2::zeros((rows, scores.dim().1));
            for (p, row) in held {
                self.fill(node, p, scores, ranked, out.row_mut(row));
            }
            out
        })
    }

    /// Node `node`'s ranks in period `p` (one per unit, 0 = no rank): a row of the node's
    /// ranks when they were computed, else ranked for this period alone and not kept (a table
    /// written a period at a time holds one period's ranks, not the panel's).
    fn in_period(
        &self,
        node: usize,
        p: usize,
        scores: &Scores,
        ranked: Option<&Array2<bool>>,
    ) -> Array1<u32> {
        match self.nodes[node].get() {
            Some(all) => all.row(scores.place(p, node)).to_owned(),
            None => {
                let mut out = Array1::zeros(scores.dim().1);
                self.fill(node, p, scores, ranked, out.view_mut());
                out
            }
        }
    }

    /// Writes node `node`'s ranks in period `p` to `out`, one per unit.
    fn fill(
        &self,
        node: usize,
        p: usize,
        scores: &Scores,
        ranked: Option<&Array2<bool>>,
        out: ndarray::ArrayViewMut1<u32>,
    ) {
        let of = scores.of(p, node);
        self.fill_from(node, p, of.iter().copied().enumerate(), ranked, out);
    }

    /// Writes node `node`'s ranks in period `p` to `out` (one per unit), from the scores there
    /// of the units `scores` yields, `(unit, score)`: the others get no rank.
    fn fill_from(
        &self,
        node: usize,
        p: usize,
        scores: impl Iterator<Item = (usize, f64)>,
        ranked: Option<&Array2<bool>>,
        out: ndarray::ArrayViewMut1<u32>,
    ) {
        thread_local! {
            /// Each thread's buffer for sorting a period's scores.
            static PAIRS: std::cell::RefCell<Vec<(u64, u32)>> = const {
                std::cell::RefCell::new(Vec::new())
            };
        }
        let key = rank_key(self.digits, self.lower_is_better[node]);
        let keys = scores
            .filter(|&(u, _)| ranked.is_none_or(|r| r[[p, u]]))
            .map(|(u, x)| (u, key(x)));
        PAIRS.with_borrow_mut(|pairs| pipeline::rank_rows_into(keys, out, pairs));
    }

    /// Takes node `node`'s ranks in every period, computed as [`Ranks::of`] computes them.
    fn set(&self, node: usize, ranks: Array2<u32>) {
        // A node is ranked once: a second value would be the same.
        let _ = self.nodes[node].set(ranks);
    }
}

/// Which units are forced in or out of screening, and each unit's group number.
struct Setup {
    /// What the run keeps besides scores.
    keep: Keep,
    /// Per node: whether the run keeps its scores ([`Keep::nodes`]).
    kept: Vec<bool>,
    group_ids: Option<Vec<usize>>,
    forced_all: Vec<Option<bool>>,
    /// The panel steps' fills, computed once over the raw panel.
    fills: PanelFills,
    /// The periods' arrays, reused from period to period.
    reuse: period::Reuse,
}

impl Setup {
    /// The setup of `panel`; the panel imputation's fills are `fills` when given (a period
    /// taken out of a larger panel), else computed from `panel`.
    fn new(
        fw: &Framework,
        panel: &Panel,
        fills: Option<&PanelFills>,
        keep: Keep,
    ) -> Result<Self, Error> {
        let group_ids: Option<Vec<usize>> = panel.groups.as_ref().map(|g| {
            let mut names: Vec<&String> = g.iter().collect();
            names.sort();
            names.dedup();
            g.iter()
                .map(|x| names.binary_search(&x).unwrap_or(0))
                .collect()
        });
        let screen = &fw.defaults.screen;
        for list in [&screen.force_in, &screen.force_out] {
            if let Some(k) = list.iter().find(|k| !panel.units.contains(k)) {
                return Err(Error::Data(format!(
                    "screening names unit `{k}` in force_in/force_out, but the data have no such unit"
                )));
            }
        }
        let forced_all = panel
            .units
            .iter()
            .map(|u| {
                if screen.force_out.contains(u) {
                    Some(false)
                } else if screen.force_in.contains(u) {
                    Some(true)
                } else {
                    None
                }
            })
            .collect();
        Ok(Self {
            kept: keep.nodes(fw),
            keep,
            group_ids,
            forced_all,
            fills: match fills {
                Some(f) => f.clone(),
                None => panel_prepass(fw, panel)?,
            },
            reuse: period::Reuse::default(),
        })
    }

    /// The group numbers of the panel units `rows`.
    fn groups(&self, rows: &[usize]) -> Option<Vec<usize>> {
        self.group_ids
            .as_ref()
            .map(|g| rows.iter().map(|&u| g[u]).collect())
    }
}

/// One period after pass 1: the units kept by screening and their indicator values after
/// imputation and treatment (one row per kept unit; no column once the period is scored in a
/// run that does not record them, see [`period::Pass1::drop_values`]).
struct Prepared {
    rows: Vec<usize>,
    x: Array2<f64>,
    groups: Option<Vec<usize>>,
}

/// Evaluates the framework's pipeline on every period of the panel: pass 1 screens, imputes and
/// treats every period; then each indicator's normalisation bounds are taken from its declared
/// reference (the period itself, the panel, a base or a frozen file, see [`crate::bounds`]);
/// pass 2 normalises, aggregates and ranks every period.
pub fn evaluate(fw: &Framework, panel: Panel) -> Result<Results, Error> {
    run(fw, panel, None, Keep::Stages, None, Values::Panel)
}

/// [`evaluate`], keeping of the intermediate values only what `keep` says: with
/// [`Keep::Scores`], [`Results::treated`] and [`Results::imputed_values`] are not kept, which
/// saves one or two arrays the size of the panel and the time to fill them.
pub fn evaluate_keeping(fw: &Framework, panel: Panel, keep: Keep) -> Result<Results, Error> {
    run(fw, panel, None, keep, None, Values::Panel)
}

/// What scoring one period taken out of a panel needs from the whole panel to be scored as it
/// is there: each indicator's normalisation bounds (when they come from the panel, a base or a
/// frozen file) and the values panel imputation carries into the period from other periods.
#[derive(Clone, Debug)]
pub struct PanelContext {
    /// Per indicator column: the bounds from the whole panel (`None`: per period).
    pub references: Vec<Option<crate::bounds::Reference>>,
    /// The panel imputation's fills of the period.
    fills: PanelFills,
}

/// The context of period `p` of `panel` (see [`PanelContext`]): pass 1 of [`evaluate`] over
/// every period of `panel` when some indicator's bounds come from other periods, none when
/// every indicator is normalised within its period.
pub fn context(fw: &Framework, panel: &Panel, p: usize) -> Result<PanelContext, Error> {
    let setup = Setup::new(fw, panel, None, Keep::Scores)?;
    // Bounds over other periods need those periods prepared; per-period bounds do not (the
    // grid benchmark's audit prepared all 24 months to use none of them: 90 MB at its peak).
    let references = if per_period(fw, panel) {
        vec![None; panel.indicators.len()]
    } else {
        let prepared = prepare_all(fw, panel, &setup, |_, one| one.prepared)?;
        crate::bounds::references(fw, panel, |q, j| prepared[q].x.column(j))?
    };
    Ok(PanelContext {
        references,
        fills: setup.fills.period(p),
    })
}

/// Evaluates `one`, a period taken out of a panel with [`Panel::select_period`], as it is scored
/// in the whole panel: on the panel's bounds and with the panel imputation's fills of `context`.
/// The audit does this.
pub fn evaluate_against(
    fw: &Framework,
    one: Panel,
    context: &PanelContext,
) -> Result<Results, Error> {
    run(fw, one, Some(context), Keep::Stages, None, Values::Panel)
}

/// How many periods [`in_period_order`] works on at a time: two per thread.
pub(crate) fn in_flight() -> usize {
    2 * rayon::current_num_threads().max(1)
}

/// Runs `work` on every item (the items are periods, in order) in parallel, a few periods per
/// thread at a time, and hands each result to `merge` in period order. The first error in
/// period order is returned, as a sequential run returns it; a period's work depends on
/// nothing but its inputs, so the results are the same on any number of threads.
fn in_period_order<I: Send, T: Send>(
    items: impl IntoIterator<Item = I>,
    work: impl Fn(usize, I) -> Result<T, Error> + Sync,
    mut merge: impl FnMut(usize, T) -> Result<(), Error>,
) -> Result<(), Error> {
    // Small batches bound the memory held by finished periods waiting to be merged.
    let batch = in_flight();
    let mut items = items.into_iter().enumerate().peekable();
    while items.peek().is_some() {
        let some: Vec<(usize, I)> = items.by_ref().take(batch).collect();
        let done: Vec<(usize, Result<T, Error>)> = some
            .into_par_iter()
            .map(|(p, item)| (p, work(p, item)))
            .collect();
        for (p, out) in done {
            merge(p, out?)?;
        }
    }
    Ok(())
}

/// `f`, typed as the work on one period whose values it hands back with its findings (so that
/// the values' lifetime is one, not one per call).
fn period_work<'v, F>(f: F) -> F
where
    F: Fn(usize, PeriodValues<'v>) -> Result<(Pass1, Scored, PeriodValues<'v>), Error>,
{
    f
}

/// [`in_period_order`] for items that come as they are made (periods bound while the ones
/// before are scored): each item's work starts on the thread pool as soon as it comes, with
/// at most [`in_flight`] items started and not yet merged, so that no batch waits for its
/// slowest item before the next items start. Results are merged in period order; the first
/// error in period order is returned, and no item after it is started.
fn as_they_come<I: Send, T: Send>(
    items: impl IntoIterator<Item = I>,
    work: impl Fn(usize, I) -> Result<T, Error> + Sync,
    mut merge: impl FnMut(usize, T) -> Result<(), Error>,
) -> Result<(), Error> {
    let most = in_flight();
    let work = &work;
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<T, Error>)>();
    rayon::in_place_scope(|s| {
        let mut items = items.into_iter();
        let mut done = std::collections::BTreeMap::new();
        let (mut started, mut merged) = (0, 0);
        loop {
            if started - merged < most {
                if let Some(item) = items.next() {
                    let (tx, p) = (tx.clone(), started);
                    s.spawn(move |_| {
                        // The receiver outlives the scope: the send cannot fail.
                        let _ = tx.send((p, work(p, item)));
                    });
                    started += 1;
                    continue;
                }
                if merged == started {
                    return Ok(());
                }
            }
            let (p, out) = rx.recv().expect("every period started reports");
            done.insert(p, out);
            while let Some(out) = done.remove(&merged) {
                merge(merged, out?)?;
                merged += 1;
            }
        }
    })
}

/// Pass 1 over every period, in parallel; `keep` takes each period's findings in period order
/// and returns what pass 2 needs.
fn prepare_all(
    fw: &Framework,
    panel: &Panel,
    setup: &Setup,
    mut keep: impl FnMut(usize, Pass1) -> Prepared,
) -> Result<Vec<Prepared>, Error> {
    let mut prepared = Vec::with_capacity(panel.periods.len());
    in_period_order(
        0..panel.periods.len(),
        |p, _| period::prepare(fw, panel, panel.values.index_axis(Axis(0), p), setup, p),
        |p, one| {
            prepared.push(keep(p, one));
            Ok(())
        },
    )?;
    Ok(prepared)
}

/// Where a run reads each period's indicator values.
pub(crate) enum Values<'v> {
    /// From the panel's [`Panel::values`].
    Panel,
    /// Handed in one period at a time, in period order, as the data are bound (units ×
    /// indicators each); the panel holds none. Only a run whose every step works on one
    /// period at a time takes them (see [`streams_periods`]); the run ends early when they
    /// do.
    Bound(Box<dyn Iterator<Item = Array2<f64>> + 'v>),
}

/// One period's indicator values as the run works on them: a view of the panel's, or the
/// period's own array handed in as it was bound.
enum PeriodValues<'a> {
    Of(ArrayView2<'a, f64>),
    Own(Array2<f64>),
}

impl PeriodValues<'_> {
    fn view(&self) -> ArrayView2<'_, f64> {
        match self {
            PeriodValues::Of(v) => v.view(),
            PeriodValues::Own(a) => a.view(),
        }
    }
}

/// Whether a run of `fw` can take each period's values as they are bound (`Values::Bound`):
/// every indicator is normalised against its own period and imputed within it, so no step
/// reads another period's values.
pub fn streams_periods(fw: &Framework) -> bool {
    fw.indicators().iter().all(|&node| {
        bounds_within_period(fw, node)
            && fw.nodes[node]
                .indicator()
                .is_none_or(|spec| !fw.impute_of(spec).needs_periods())
    })
}

fn run(
    fw: &Framework,
    panel: Panel,
    given: Option<&PanelContext>,
    keep: Keep,
    mut stream: Option<stream::Stream<'_>>,
    values: Values<'_>,
) -> Result<Results, Error> {
    let mut record = Record::new(fw, &panel, &keep);
    let mut setup = Setup::new(fw, &panel, given.map(|c| &c.fills), keep)?;
    if let Some(stream) = &stream {
        // Each period keeps the nodes it hands on and those the record keeps.
        for (kept, handed) in setup.kept.iter_mut().zip(&stream.handed) {
            *kept |= handed;
        }
    }
    let scorer = Scorer::new(fw);
    let mut merge = |p: usize,
                     scored: Scored,
                     values: ArrayView2<f64>,
                     record: &mut Record|
     -> Result<(), Error> {
        record.scored(p, &scored);
        if let Some(stream) = stream.as_mut() {
            stream.merged(&panel, p, record, &scored, values)?;
        }
        setup.reuse.give_merged(scored.s);
        Ok(())
    };
    let bound = matches!(values, Values::Bound(_));
    if given.is_none() && (bound || per_period(fw, &panel)) {
        // Every bound is the period's own: each period is scored as soon as it is prepared,
        // and its prepared values are not kept for the others.
        let references = vec![None; panel.indicators.len()];
        let work = period_work(|p, values| {
            let mut one = period::prepare(fw, &panel, values.view(), &setup, p)?;
            let scored = period::score(fw, &panel, &references, p, &one.prepared, &scorer, &setup)?;
            if !setup.keep.records_values() {
                one.drop_values(&setup.reuse);
            }
            Ok((one, scored, values))
        });
        let merged = |p, (one, scored, values): (Pass1, Scored, PeriodValues)| {
            record.prepared(p, one);
            merge(p, scored, values.view(), &mut record)
        };
        match values {
            Values::Panel => {
                let periods = panel.values.outer_iter().map(PeriodValues::Of);
                in_period_order(periods, work, merged)?;
            }
            Values::Bound(each) => as_they_come(each.map(PeriodValues::Own), work, merged)?,
        }
        let ranks = stream.map(stream::Stream::into_ranks);
        return Ok(record.into_results(fw, panel, references, ranks));
    }
    if bound {
        return Err(Error::Usage(
            "bound periods are taken only by a run that works on one period at a time".into(),
        ));
    }
    let prepared = prepare_all(fw, &panel, &setup, |p, one| record.prepared(p, one))?;
    let references = match given {
        Some(c) => c.references.clone(),
        None => crate::bounds::references(fw, &panel, |p, j| prepared[p].x.column(j))?,
    };
    in_period_order(
        prepared,
        |p, prep| period::score(fw, &panel, &references, p, &prep, &scorer, &setup),
        |p, one| merge(p, one, panel.values.index_axis(Axis(0), p), &mut record),
    )?;
    let ranks = stream.map(stream::Stream::into_ranks);
    Ok(record.into_results(fw, panel, references, ranks))
}

/// What evaluation records per period, in the results' arrays (see [`Results`]).
struct Record {
    scores: Scores,
    group_ranks: Option<Array3<u32>>,
    imputed_values: Option<Array3<f64>>,
    /// `None` when the run keeps scores only.
    treated: Option<Array3<f64>>,
    /// See [`Results::stage_slots`].
    stage_slots: Vec<Option<usize>>,
    status: Array2<Status>,
    imputed: Array2<usize>,
    treatments: Vec<Treatment>,
    empty: Vec<(usize, usize)>,
    provenance: Provenance,
    outside: Vec<OutsideCount>,
}

impl Record {
    /// Nothing recorded yet: every score `NaN`, every unit absent.
    fn new(fw: &Framework, panel: &Panel, keep: &Keep) -> Self {
        let (np, nu, ni) = (
            panel.periods.len(),
            panel.units.len(),
            panel.indicators.len(),
        );
        let nn = fw.nodes.len();
        Self {
            scores: Scores::keeping(np, nu, &keep.nodes(fw), keep.every_node_in().as_slice()),
            group_ranks: panel.groups.as_ref().map(|_| Array3::zeros((np, nu, nn))),
            treated: keep.records_values().then(|| {
                let kept = keep.stage_slots(np).iter().flatten().count();
                Array3::from_elem((kept, nu, ni), f64::NAN)
            }),
            stage_slots: keep.stage_slots(np),
            status: Array2::from_elem((np, nu), Status::Absent),
            imputed: Array2::zeros((np, ni)),
            imputed_values: None,
            provenance: Provenance::default(),
            treatments: Vec::new(),
            empty: Vec::new(),
            outside: Vec::new(),
        }
    }

    /// Records pass 1 of period `p` (screening, imputation, treatment) and returns what pass 2
    /// needs.
    fn prepared(&mut self, p: usize, one: Pass1) -> Prepared {
        for &u in &one.present {
            self.status[[p, u]] = Status::Screened;
        }
        self.imputed
            .row_mut(p)
            .assign(&ArrayView1::from(&one.imputed));
        let PeriodFills { ways, mut cells } = one.filled;
        // Each column's ways numbered as the whole run numbers them; cells in order.
        let ways: Vec<Vec<u32>> = ways
            .into_iter()
            .enumerate()
            .map(|(j, w)| {
                w.into_iter()
                    .map(|how| self.provenance.way(j, how))
                    .collect()
            })
            .collect();
        cells.sort_unstable_by_key(|&(u, j, _)| (j, u));
        for (u, j, way) in cells {
            self.provenance.set_way(p, u, j, ways[j][way]);
        }
        self.treatments.extend(one.treatments);
        if let (Some(all), Some(imputed_x), Some(slot)) =
            (self.treated.as_mut(), one.imputed_x, self.stage_slots[p])
        {
            let prep = &one.prepared;
            let treated = |v: &f64| crate::format::no_negative_zero(*v);
            // The values after imputation are held apart from the treated values from the
            // first period where they differ (to the bit); until then they are the same array.
            let differs = self.imputed_values.is_none()
                && imputed_x
                    .iter()
                    .zip(&prep.x)
                    .any(|(a, b)| a.to_bits() != treated(b).to_bits());
            if differs {
                self.imputed_values = Some(all.clone());
            }
            for (k, &u) in prep.rows.iter().enumerate() {
                all.slice_mut(s![slot, u, ..])
                    .zip_mut_with(&prep.x.row(k), |out, v| *out = treated(v));
                if let Some(imputed) = self.imputed_values.as_mut() {
                    imputed.slice_mut(s![slot, u, ..]).assign(&imputed_x.row(k));
                }
            }
        }
        one.prepared
    }

    /// Records pass 2 of period `p`: scores, ranks and status.
    fn scored(&mut self, p: usize, one: &Scored) {
        self.scores.record(p, &one.rows, |node| one.column(node));
        let index = one.column(0);
        for (k, &u) in one.rows.iter().enumerate() {
            if let (Some(out), Some(g)) = (self.group_ranks.as_mut(), one.group_ranks.as_ref()) {
                out.slice_mut(s![p, u, ..]).assign(&g.row(k));
            }
            self.status[[p, u]] = if index[k].is_nan() {
                Status::Missing
            } else {
                Status::Scored
            };
        }
        self.empty.extend(one.empty.iter().map(|&node| (node, p)));
        self.outside.extend(one.outside.iter().cloned());
    }

    /// The results of `panel`, scored against `references`, with the ranks a stream computed
    /// as it went, if any.
    fn into_results(
        self,
        fw: &Framework,
        panel: Panel,
        references: Vec<Option<crate::bounds::Reference>>,
        ranks: Option<Ranks>,
    ) -> Results {
        Results {
            scores: self.scores,
            ranks: ranks.unwrap_or_else(|| Ranks::new(fw)),
            group_ranks: self.group_ranks,
            imputed_values: self.imputed_values,
            treated: self.treated,
            stage_slots: self.stage_slots,
            status: self.status,
            imputed: self.imputed,
            treatments: self.treatments,
            empty: self.empty,
            ids: fw.nodes.iter().map(|n| n.id.clone()).collect(),
            provenance: self.provenance,
            references,
            outside: self.outside,
            panel,
        }
    }
}

/// Whether every indicator of `panel` is normalised against its own period's values (no
/// bounds over the panel, a base or a frozen file).
fn per_period(fw: &Framework, panel: &Panel) -> bool {
    panel
        .indicators
        .iter()
        .all(|&node| bounds_within_period(fw, node))
}

/// Whether indicator node `node` is normalised against its own period's values.
fn bounds_within_period(fw: &Framework, node: usize) -> bool {
    fw.nodes[node]
        .indicator()
        .is_none_or(|spec| fw.normalise_of(spec).over == crate::framework::Over::Period)
}

/// One period screened, imputed, treated and normalised, as [`evaluate`] computes it: what
/// re-weighting and re-aggregating reuse (see [`Scorer`]).
#[derive(Clone, Debug)]
pub struct NormalisedPeriod {
    /// The panel units kept by screening, one per row of `scores`.
    pub rows: Vec<usize>,
    /// `scores[[row, node]]`: indicator columns hold normalised values, aggregate columns NaN.
    pub scores: Array2<f64>,
    /// Whether each row takes part in the ranking (`[rank] only`).
    pub ranked: Vec<bool>,
}

/// Period `p` of `panel` screened, imputed, treated and normalised as [`evaluate`] does it
/// (bounds taken over other periods when the framework says so), without aggregating.
pub fn normalised_period(
    fw: &Framework,
    panel: &Panel,
    p: usize,
) -> Result<NormalisedPeriod, Error> {
    let setup = Setup::new(fw, panel, None, Keep::Scores)?;
    // Bounds over other periods need those periods prepared; per-period bounds do not.
    let (prep, references) = if per_period(fw, panel) {
        let values = panel.values.index_axis(Axis(0), p);
        let prep = period::prepare(fw, panel, values, &setup, p)?.prepared;
        (prep, vec![None; panel.indicators.len()])
    } else {
        let mut all = prepare_all(fw, panel, &setup, |_, one| one.prepared)?;
        let references = crate::bounds::references(fw, panel, |q, j| all[q].x.column(j))?;
        (all.swap_remove(p), references)
    };
    finish_normalised(fw, panel, &references, p, prep)
}

/// Every period of `panel` screened, imputed, treated and normalised as [`evaluate`] does it,
/// without aggregating: [`normalised_period`] for each period, with pass 1 run once.
pub fn normalised_periods(fw: &Framework, panel: Panel) -> Result<Vec<NormalisedPeriod>, Error> {
    let setup = Setup::new(fw, &panel, None, Keep::Scores)?;
    let prepared = prepare_all(fw, &panel, &setup, |_, one| one.prepared)?;
    let references = crate::bounds::references(fw, &panel, |q, j| prepared[q].x.column(j))?;
    let mut out = Vec::with_capacity(prepared.len());
    in_period_order(
        prepared,
        |p, prep| finish_normalised(fw, &panel, &references, p, prep),
        |_, one| {
            out.push(one);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Pass 2 of period `p` up to normalisation.
fn finish_normalised(
    fw: &Framework,
    panel: &Panel,
    references: &[Option<crate::bounds::Reference>],
    p: usize,
    prep: Prepared,
) -> Result<NormalisedPeriod, Error> {
    // Kept by the caller: not a reused array (its capacity may be larger than it).
    let fresh = period::Reuse::default();
    let scores = period::normalise(fw, panel, references, p, &prep, &fresh)?.s;
    let ranked = prep
        .rows
        .iter()
        .map(|&u| panel.ranked.as_ref().is_none_or(|r| r[[p, u]]))
        .collect();
    Ok(NormalisedPeriod {
        rows: prep.rows,
        scores,
        ranked,
    })
}

/// The aggregation of a framework compiled for repeated scoring: its aggregate nodes
/// bottom-up, each with its children and method. [`evaluate`] scores through it, and so does
/// a robustness analysis, once per run, on a [`NormalisedPeriod`].
#[derive(Clone, Debug)]
pub struct Scorer {
    steps: Vec<Step>,
}

/// One aggregate node of a [`Scorer`].
#[derive(Clone, Debug)]
struct Step {
    node: usize,
    children: Vec<usize>,
    /// Per child: `None` when its weight here is its own weight (this node is its first
    /// parent), else its fixed weight under this further parent.
    shared: Vec<Option<f64>>,
    agg: crate::framework::AggSpec,
}

impl Scorer {
    /// The scorer of `fw`'s tree (or DAG) and aggregation methods.
    pub fn new(fw: &Framework) -> Self {
        let steps = fw
            .aggregates_bottom_up()
            .into_iter()
            .map(|node| {
                let children = fw.nodes[node].children.clone();
                let shared = children
                    .iter()
                    .map(|&c| {
                        let n = &fw.nodes[c];
                        (n.parent != Some(node)).then(|| n.weight_under(node, n.weight))
                    })
                    .collect();
                Step {
                    node,
                    children,
                    shared,
                    agg: fw.aggregate_of(&fw.nodes[node]),
                }
            })
            .collect();
        Self { steps }
    }

    /// Fills the aggregate columns of `s` (rows × nodes, indicator columns filled) bottom-up,
    /// with `weights[node]` the weight of every node under its first parent. On failure, the
    /// node being aggregated and the stage's error (child numbers count the node's children).
    pub fn aggregate(
        &self,
        s: &mut Array2<f64>,
        weights: &[f64],
    ) -> Result<(), (usize, StageError)> {
        let mut w = Vec::new();
        for step in &self.steps {
            w.clear();
            w.extend(
                step.children
                    .iter()
                    .zip(&step.shared)
                    .map(|(&c, fixed)| fixed.unwrap_or(weights[c])),
            );
            let col = pipeline::aggregate::aggregate_columns(
                s.view(),
                &step.children,
                &w,
                &step.agg.method,
                step.agg.min_share,
            )
            .map_err(|e| (step.node, e))?;
            s.column_mut(step.node).assign(&col);
        }
        Ok(())
    }
}

/// The ranks of a node's scores `scores` (`ranked` rows only; rounded first when the framework
/// says so): 1 = best, ties share the lower rank, `None` = no rank.
pub fn rank_scores(
    fw: &Framework,
    node: usize,
    scores: ArrayView1<f64>,
    ranked: &[bool],
) -> Vec<Option<u32>> {
    let keys = rank_keys(fw, node, scores, ranked);
    pipeline::rank_desc(keys.view())
}

/// An aggregation error of `node` for the user: unit, period and the child's id.
pub fn aggregation_error(
    fw: &Framework,
    panel: &Panel,
    rows: &[usize],
    p: usize,
    node: usize,
    e: &StageError,
) -> Error {
    let what = format!("aggregating `{}`", fw.nodes[node].id);
    let Error::Eval(m) = stage_error(panel, rows, p, &what, e) else {
        unreachable!("stage errors are evaluation errors")
    };
    Error::Eval(child_names(m, fw, &fw.nodes[node].children))
}

impl Results {
    /// One warning listing every indicator with values beyond its base or frozen bounds.
    fn outside_warnings(&self) -> Vec<Warning> {
        let mut beyond = Vec::new();
        for (j, r) in self.references.iter().enumerate() {
            let hits: Vec<&OutsideCount> =
                self.outside.iter().filter(|o| o.indicator == j).collect();
            let (Some(r), false) = (r, hits.is_empty()) else {
                continue;
            };
            let node = self.panel.indicators[j];
            beyond.push(crate::messages::Beyond {
                node,
                id: self.ids[node].clone(),
                values: hits.iter().map(|o| o.below + o.above).sum(),
                periods: hits
                    .iter()
                    .map(|o| self.panel.periods[o.period].clone())
                    .collect(),
                capped: r.outside == crate::framework::Outside::Cap,
            });
        }
        if beyond.is_empty() {
            Vec::new()
        } else {
            vec![Warning::OutsideBounds(beyond)]
        }
    }

    /// Indicator values after imputation, before treatment, `[[period, unit, indicator]]`
    /// (NaN where a unit has no row or was screened out). An error when the results were
    /// evaluated keeping scores only ([`Keep::Scores`]).
    pub fn imputed_values(&self) -> Result<&Array3<f64>, Error> {
        self.treated()?;
        Ok(self
            .imputed_values
            .as_ref()
            .or(self.treated.as_ref())
            .expect("kept"))
    }

    /// [`Results::imputed_values`] of period `p`, `[[unit, indicator]]`: also from a run
    /// that kept them for that period only ([`Keep::Period`]).
    pub fn imputed_at(&self, p: usize) -> Result<ArrayView2<'_, f64>, Error> {
        let slot = self.stage_slot(p)?;
        let all = self.imputed_values.as_ref().or(self.treated.as_ref());
        Ok(all.expect("kept").index_axis(Axis(0), slot))
    }

    /// [`Results::treated`] of period `p`, `[[unit, indicator]]`: also from a run that kept
    /// them for that period only ([`Keep::Period`]).
    pub fn treated_at(&self, p: usize) -> Result<ArrayView2<'_, f64>, Error> {
        let slot = self.stage_slot(p)?;
        Ok(self
            .treated
            .as_ref()
            .expect("kept")
            .index_axis(Axis(0), slot))
    }

    /// Where period `p`'s values after imputation and treatment are kept, or why they are not.
    fn stage_slot(&self, p: usize) -> Result<usize, Error> {
        match (&self.treated, self.stage_slots.get(p)) {
            (Some(_), Some(Some(slot))) => Ok(*slot),
            _ => Err(self.not_kept()),
        }
    }

    /// The error of a run that did not keep the values a reader asks for.
    fn not_kept(&self) -> Error {
        let kept: Vec<&str> = (self.treated.is_some())
            .then(|| self.stage_slots.iter().zip(&self.panel.periods))
            .into_iter()
            .flatten()
            .filter_map(|(slot, name)| slot.map(|_| name.as_str()))
            .collect();
        Error::Usage(match kept.as_slice() {
            [] => "the indicator values before normalisation were not kept: evaluate with Keep::Stages".into(),
            periods => format!(
                "the indicator values before normalisation were kept for {} only: evaluate with Keep::Stages",
                crate::data::list(periods)
            ),
        })
    }

    /// Indicator values after imputation and treatment, before normalisation,
    /// `[[period, unit, indicator]]` (NaN where a unit has no row or was screened out). An
    /// error when the results were evaluated keeping scores only ([`Keep::Scores`]).
    pub fn treated(&self) -> Result<&Array3<f64>, Error> {
        match &self.treated {
            Some(all) if all.len_of(Axis(0)) == self.panel.periods.len() => Ok(all),
            _ => Err(self.not_kept()),
        }
    }

    /// How unit `u`'s rank in `node` moved from period `before` to period `now`.
    pub fn rank_change(&self, node: usize, before: usize, now: usize, u: usize) -> RankChange {
        RankChange::between(self.rank(before, u, node), self.rank(now, u, node))
    }

    /// Unit `u`'s rank in `node` in period `p`: 1 = best, ties share the lower rank, 0 = no
    /// rank (no score, or outside `[rank] only`).
    pub fn rank(&self, p: usize, u: usize, node: usize) -> u32 {
        let row = self.scores.place(p, node);
        self.ranks
            .of(node, &self.scores, self.panel.ranked.as_ref())[[row, u]]
    }

    /// Node `node`'s ranks, `[[period, unit]]` (0 = no rank), computed on first use.
    ///
    /// # Panics
    /// When the run did not keep the node's scores in every period (see [`Keep`]).
    pub fn node_ranks(&self, node: usize) -> &Array2<u32> {
        self.scores.node(node);
        self.ranks
            .of(node, &self.scores, self.panel.ranked.as_ref())
    }

    /// Node `node`'s ranks in period `p`, one per unit (0 = no rank), as
    /// [`Results::node_ranks`] has them, without computing and keeping every period's.
    pub fn period_ranks(&self, node: usize, p: usize) -> Array1<u32> {
        self.ranks
            .in_period(node, p, &self.scores, self.panel.ranked.as_ref())
    }

    /// Warnings of the evaluation: indicators empty in whole periods, units without a score.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        let mut by_node: Vec<(usize, Vec<usize>)> = Vec::new();
        for &(node, p) in &self.empty {
            match by_node.iter_mut().find(|(n, _)| *n == node) {
                Some((_, ps)) => ps.push(p),
                None => by_node.push((node, vec![p])),
            }
        }
        for (node, ps) in by_node {
            out.push(Warning::EmptyIndicator {
                node,
                id: self.ids[node].clone(),
                periods: ps.iter().map(|&p| self.panel.periods[p].clone()).collect(),
            });
        }
        out.extend(self.outside_warnings());
        for st in [Status::Screened, Status::Missing] {
            let hits: Vec<String> = self
                .status
                .indexed_iter()
                .filter(|(_, s)| **s == st)
                .map(|((p, u), _)| {
                    let period = &self.panel.periods[p];
                    if period.is_empty() {
                        self.panel.units[u].clone()
                    } else {
                        format!("{} {period}", self.panel.units[u])
                    }
                })
                .collect();
            if !hits.is_empty() {
                out.push(if st == Status::Screened {
                    Warning::Screened(hits)
                } else {
                    Warning::NoIndexScore(hits)
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_started_as_items_come_is_merged_in_order_up_to_the_first_error() {
        // Later items finish first (the work of item p takes longer the smaller p is).
        let work = |p: usize, x: u64| -> Result<u64, Error> {
            std::thread::sleep(std::time::Duration::from_millis(3 * (10 - p as u64)));
            if x == 6 || x == 8 {
                Err(Error::Eval(format!("item {p}")))
            } else {
                Ok(x * 10)
            }
        };
        let mut merged = Vec::new();
        let all = as_they_come(0..6u64, work, |p, v| {
            merged.push((p, v));
            Ok(())
        });
        assert!(all.is_ok());
        assert_eq!(
            merged,
            (0..6).map(|p| (p, p as u64 * 10)).collect::<Vec<_>>()
        );
        // Items 6 and 8 fail: the first in order is the one returned, after every item before
        // it was merged.
        let mut merged = Vec::new();
        let failed = as_they_come(0..10u64, work, |p, v| {
            merged.push((p, v));
            Ok(())
        });
        assert_eq!(
            failed.unwrap_err().to_string(),
            Error::Eval("item 6".into()).to_string()
        );
        assert_eq!(
            merged,
            (0..6).map(|p| (p, p as u64 * 10)).collect::<Vec<_>>()
        );
        // A merge that fails stops the run at its item.
        let mut merged = Vec::new();
        let stopped = as_they_come(0..6u64, work, |p, v| {
            if p == 2 {
                return Err(Error::Data("merge 2".into()));
            }
            merged.push((p, v));
            Ok(())
        });
        assert!(stopped.is_err());
        assert_eq!(merged, [(0, 0), (1, 10)]);
    }

    #[test]
    fn provenance_finds_a_columns_cells_by_walking_or_looking_up() {
        let mut prov = Provenance::default();
        let mean = Filled::cross_section(&Impute::Mean);
        let median = Filled::cross_section(&Impute::Median);
        prov.set(0, 2, 1, mean.clone());
        prov.set(1, 0, 1, median.clone());
        prov.set(1, 0, 0, mean.clone());
        prov.set(1, 3, 1, mean.clone());
        let rows = [(0, 0), (0, 2), (1, 0), (1, 1), (1, 3)];
        let want = [None, Some(&mean), Some(&median), None, Some(&mean)];
        assert_eq!(prov.column(1, &rows), want);
        // Rows out of order are looked up one by one, with the same answers.
        let shuffled = [(1, 3), (0, 0), (1, 1), (1, 0), (0, 2)];
        let got = prov.column(1, &shuffled);
        assert_eq!(got, [Some(&mean), None, None, Some(&median), Some(&mean)]);
        assert_eq!(prov.column(0, &rows), [None, None, Some(&mean), None, None]);
        // One period's rows, as a table written a period at a time asks: the walk starts at
        // the period's first row, past the cells of the periods before.
        let later = [(1, 0), (1, 2), (1, 3)];
        assert_eq!(prov.column(1, &later), [Some(&median), None, Some(&mean)]);
        assert_eq!(prov.column(1, &[(0, 1), (0, 2)]), [None, Some(&mean)]);
        assert_eq!(prov.column(1, &[(2, 0)]), [None]);
    }

    #[test]
    fn a_periods_ranks_are_its_row_of_the_nodes_ranks_and_are_not_kept() {
        // Node 0 higher is better, node 1 lower is better; 2 periods × 4 units, unit 3 of
        // period 1 outside `[rank] only`, unit 2 of period 0 without a score.
        let mut scores = Scores::new(2, 4, &[true, true]);
        let p0 = [[3.0, 5.0, f64::NAN, 3.0], [1.0, 2.0, 3.0, 4.0]];
        let p1 = [[1.0, 2.0, 3.0, 4.0], [9.0, 9.0, 8.0, 1.0]];
        for (p, cols) in [p0, p1].iter().enumerate() {
            scores.record(p, &[0, 1, 2, 3], |node| ArrayView1::from(&cols[node]));
        }
        let mut ranked = Array2::from_elem((2, 4), true);
        ranked[[1, 3]] = false;
        let ranks = Ranks {
            digits: None,
            lower_is_better: vec![false, true],
            nodes: vec![std::sync::OnceLock::new(), std::sync::OnceLock::new()],
        };
        // Per node, per period.
        let by_hand = [[[2, 1, 0, 2], [3, 2, 1, 0]], [[1, 2, 3, 4], [2, 2, 1, 0]]];
        for (node, want) in by_hand.iter().enumerate() {
            for (p, want) in want.iter().enumerate() {
                let one = ranks.in_period(node, p, &scores, Some(&ranked));
                assert_eq!(one.to_vec(), want, "node {node}, period {p}");
            }
            // Ranked a period at a time, nothing is kept.
            assert!(ranks.nodes[node].get().is_none());
            let all = ranks.of(node, &scores, Some(&ranked));
            for (p, want) in want.iter().enumerate() {
                assert_eq!(all.row(p).to_vec(), want);
                // Once every period is ranked, a period's ranks are read from them.
                assert_eq!(ranks.in_period(node, p, &scores, Some(&ranked)), all.row(p));
            }
        }
    }
}
