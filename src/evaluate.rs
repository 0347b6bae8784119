//! The pipeline driver: runs screen → impute → treat → normalise → aggregate → rank on each
//! period of a [`Panel`], and maps the pure stages' index-based errors to the units, periods,
//! indicators and nodes a user can act on.

use ndarray::{Array1, Array2, Array3, ArrayView1, Axis};

use crate::data::Panel;
use crate::error::Error;
use crate::framework::{Framework, Lang, NodeKind};
use crate::messages::Warning;
use crate::pipeline::panel_impute::{self, Filled, PanelFills};
use crate::pipeline::{self, Impute, Normalise, StageError, TreatReport};

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
/// a dense `periods × units × indicators` array of them took gigabytes at grid scale). Keyed
/// by indicator column first, so that one column's cells come out in (period, unit) order.
#[derive(Clone, Debug, Default)]
pub struct Provenance(std::collections::BTreeMap<(usize, usize, usize), Filled>);

impl Provenance {
    /// How the cell of period `p`, unit `u` and indicator column `j` was filled, if it was.
    pub fn get(&self, p: usize, u: usize, j: usize) -> Option<&Filled> {
        self.0.get(&(j, p, u))
    }

    /// Records how a cell was filled.
    pub fn set(&mut self, p: usize, u: usize, j: usize, how: Filled) {
        self.0.insert((j, p, u), how);
    }

    /// Forgets every filled cell of unit `u` in period `p` among `columns` indicator columns
    /// (a unit screening dropped): one lookup per column, not a scan of every filled cell.
    pub fn clear_unit(&mut self, p: usize, u: usize, columns: usize) {
        for j in 0..columns {
            self.0.remove(&(j, p, u));
        }
    }

    /// The filled cells of column `j` among `rows` ((period, unit) pairs): one entry per row,
    /// found by walking the column once when the rows are in order (as output rows are).
    pub fn column(&self, j: usize, rows: &[(usize, usize)]) -> Vec<Option<&Filled>> {
        if !rows.is_sorted() {
            return rows.iter().map(|&(p, u)| self.get(p, u, j)).collect();
        }
        let mut cells = self
            .0
            .range((j, 0, 0)..=(j, usize::MAX, usize::MAX))
            .map(|(k, f)| ((k.1, k.2), f))
            .peekable();
        rows.iter()
            .map(|&row| {
                while cells.next_if(|(at, _)| *at < row).is_some() {}
                cells.next_if(|(at, _)| *at == row).map(|(_, f)| f)
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
    pub scores: Array3<f64>,
    /// `ranks[[period, unit, node]]`; 0 = no rank.
    pub ranks: Array3<u32>,
    /// Ranks within the unit's group (when the framework has groups).
    pub group_ranks: Option<Array3<u32>>,
    /// Indicator values after imputation, before treatment.
    pub imputed_values: Array3<f64>,
    /// Indicator values after imputation and treatment, before normalisation.
    pub treated: Array3<f64>,
    /// `status[[period, unit]]`.
    pub status: Array2<Status>,
    /// Cells filled by imputation, per period and indicator column.
    pub imputed: Array2<usize>,
    /// Outlier treatment of every indicator and period whose method is not `none`.
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

/// Imputes every indicator column of `x` (rows are the panel units `rows`) in place: each
/// missing cell takes the first value the imputation's steps offer, in order — a panel step's
/// from `fills`, a cross-section step's from the period's observed values — and its provenance
/// is recorded.
#[allow(clippy::too_many_arguments)]
fn impute_all(
    fw: &Framework,
    panel: &Panel,
    x: &mut Array2<f64>,
    rows: &[usize],
    groups: Option<&[usize]>,
    p: usize,
    imputed: &mut Array2<usize>,
    fills: &PanelFills,
    provenance: &mut Provenance,
) -> Result<(), Error> {
    for (j, &node) in panel.indicators.iter().enumerate() {
        let NodeKind::Indicator(spec) = &fw.nodes[node].kind else {
            continue;
        };
        let what = format!("imputing `{}`", fw.nodes[node].id);
        let method = fw.impute_of(spec);
        let observed = x.column(j).to_owned();
        let mut filled = 0;
        for (s, step) in method.steps().iter().enumerate() {
            let mut found = observed.clone();
            if !step.is_panel() {
                pipeline::impute(found.view_mut(), step, groups)
                    .map_err(|e| stage_error(panel, rows, p, &what, &e))?;
            }
            for (k, &u) in rows.iter().enumerate() {
                if !x[[k, j]].is_nan() {
                    continue;
                }
                let (value, how) = match fills.get(j, s, p, u) {
                    Some(d) => (d.value, Filled::panel(step, d, &fills.periods)),
                    None if !found[k].is_nan() => (found[k], Filled::cross_section(step)),
                    None => continue,
                };
                x[[k, j]] = value;
                provenance.set(p, u, j, how);
                filled += 1;
            }
        }
        imputed[[p, j]] = filled;
    }
    Ok(())
}

/// What node `node` is ranked on, highest first: its scores, rounded to `[rank] digits`
/// decimals when the framework asks (as publishers rank on published values), negated when
/// lower is better, and `NaN` (no rank) for units outside `[rank] only`.
fn rank_keys(fw: &Framework, node: usize, scores: ArrayView1<f64>, ranked: &[bool]) -> Array1<f64> {
    let scale = fw.rank.digits.map(|d| 10f64.powi(d as i32));
    let sign = if fw.nodes[node].lower_is_better {
        -1.0
    } else {
        1.0
    };
    scores
        .iter()
        .zip(ranked)
        .map(|(&x, &keep)| match (keep, scale) {
            (false, _) => f64::NAN,
            // Compared as whole numbers of 10^-digits, so equal published values tie exactly.
            (true, Some(k)) => sign * (x * k).round(),
            (true, None) => sign * x,
        })
        .collect()
}

/// Which units are forced in or out of screening, and each unit's group number.
struct Setup {
    group_ids: Option<Vec<usize>>,
    forced_all: Vec<Option<bool>>,
    /// The panel steps' fills, computed once over the raw panel.
    fills: PanelFills,
}

impl Setup {
    /// The setup of `panel`; the panel imputation's fills are `fills` when given (a period
    /// taken out of a larger panel), else computed from `panel`.
    fn new(fw: &Framework, panel: &Panel, fills: Option<&PanelFills>) -> Result<Self, Error> {
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
            group_ids,
            forced_all,
            fills: match fills {
                Some(f) => f.clone(),
                None => panel_prepass(fw, panel)?,
            },
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
/// imputation and treatment (one row per kept unit).
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
    run(fw, panel, None)
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
/// every period of `panel`.
pub fn context(fw: &Framework, panel: &Panel, p: usize) -> Result<PanelContext, Error> {
    let mut res = Results::empty(fw, panel.clone());
    let setup = Setup::new(fw, &res.panel, None)?;
    let prepared = prepare_all(fw, &mut res, &setup)?;
    Ok(PanelContext {
        references: crate::bounds::references(fw, &res.panel, |q, j| prepared[q].x.column(j))?,
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
    run(fw, one, Some(context))
}

/// Pass 1 over every period.
fn prepare_all(fw: &Framework, res: &mut Results, setup: &Setup) -> Result<Vec<Prepared>, Error> {
    (0..res.panel.periods.len())
        .map(|p| prepare(fw, res, setup, p))
        .collect()
}

fn run(fw: &Framework, panel: Panel, given: Option<&PanelContext>) -> Result<Results, Error> {
    let mut res = Results::empty(fw, panel);
    let setup = Setup::new(fw, &res.panel, given.map(|c| &c.fills))?;
    let prepared = prepare_all(fw, &mut res, &setup)?;
    res.references = match given {
        Some(c) => c.references.clone(),
        None => crate::bounds::references(fw, &res.panel, |p, j| prepared[p].x.column(j))?,
    };
    let scorer = Scorer::new(fw);
    for (p, prep) in prepared.iter().enumerate() {
        let s = normalise_period(fw, &mut res, p, prep)?;
        aggregate_and_rank(fw, &mut res, p, prep, s, &scorer)?;
    }
    Ok(res)
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
    panel: Panel,
    p: usize,
) -> Result<NormalisedPeriod, Error> {
    let mut res = Results::empty(fw, panel);
    let setup = Setup::new(fw, &res.panel, None)?;
    let per_period = res.panel.indicators.iter().all(|&node| {
        fw.nodes[node]
            .indicator()
            .is_none_or(|spec| fw.normalise_of(spec).over == crate::framework::Over::Period)
    });
    // Bounds over other periods need those periods prepared; per-period bounds do not.
    let prep = if per_period {
        prepare(fw, &mut res, &setup, p)?
    } else {
        let mut all = prepare_all(fw, &mut res, &setup)?;
        res.references = crate::bounds::references(fw, &res.panel, |q, j| all[q].x.column(j))?;
        all.swap_remove(p)
    };
    finish_normalised(fw, &mut res, p, prep)
}

/// Every period of `panel` screened, imputed, treated and normalised as [`evaluate`] does it,
/// without aggregating: [`normalised_period`] for each period, with pass 1 run once.
pub fn normalised_periods(fw: &Framework, panel: Panel) -> Result<Vec<NormalisedPeriod>, Error> {
    let mut res = Results::empty(fw, panel);
    let setup = Setup::new(fw, &res.panel, None)?;
    let prepared = prepare_all(fw, &mut res, &setup)?;
    res.references = crate::bounds::references(fw, &res.panel, |q, j| prepared[q].x.column(j))?;
    prepared
        .into_iter()
        .enumerate()
        .map(|(p, prep)| finish_normalised(fw, &mut res, p, prep))
        .collect()
}

/// Pass 2 of period `p` up to normalisation.
fn finish_normalised(
    fw: &Framework,
    res: &mut Results,
    p: usize,
    prep: Prepared,
) -> Result<NormalisedPeriod, Error> {
    let scores = normalise_period(fw, res, p, &prep)?;
    let ranked = prep
        .rows
        .iter()
        .map(|&u| res.panel.ranked.as_ref().is_none_or(|r| r[[p, u]]))
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
            let mat = s.select(Axis(1), &step.children);
            w.clear();
            w.extend(
                step.children
                    .iter()
                    .zip(&step.shared)
                    .map(|(&c, fixed)| fixed.unwrap_or(weights[c])),
            );
            let col = pipeline::aggregate(mat.view(), &w, &step.agg.method, step.agg.min_share)
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

/// Pass 1 for period `p`: screen → impute → treat (imputation first when the framework screens
/// the imputed data). Records screening, imputation and treatment in `res`.
fn prepare(fw: &Framework, res: &mut Results, setup: &Setup, p: usize) -> Result<Prepared, Error> {
    let panel = &res.panel;
    let nu = panel.units.len();
    let ni = panel.indicators.len();
    let screen = &fw.defaults.screen;
    let present: Vec<usize> = (0..nu).filter(|&u| panel.present[[p, u]]).collect();
    let mut x_present = panel
        .values
        .index_axis(Axis(0), p)
        .select(Axis(0), &present);
    // Imputation runs before screening when the framework screens the imputed data.
    if screen.after_impute {
        let groups = setup.groups(&present);
        impute_all(
            fw,
            panel,
            &mut x_present,
            &present,
            groups.as_deref(),
            p,
            &mut res.imputed,
            &setup.fills,
            &mut res.provenance,
        )?;
    }
    let forced: Vec<Option<bool>> = present.iter().map(|&u| setup.forced_all[u]).collect();
    let outcome = pipeline::screen(x_present.view(), &screen.method, &forced);
    let kept: Vec<usize> = (0..present.len()).filter(|&k| outcome.kept[k]).collect();
    let rows: Vec<usize> = kept.iter().map(|&k| present[k]).collect();
    for (k, &u) in present.iter().enumerate() {
        res.status[[p, u]] = Status::Screened;
        if !outcome.kept[k] {
            res.provenance.clear_unit(p, u, ni);
        }
    }
    if rows.is_empty() {
        return Err(Error::Eval(format!(
            "period {}: no unit is left after screening ({} present)",
            panel.periods[p],
            present.len()
        )));
    }
    let mut x = x_present.select(Axis(0), &kept);
    let groups = setup.groups(&rows);
    if !screen.after_impute {
        impute_all(
            fw,
            panel,
            &mut x,
            &rows,
            groups.as_deref(),
            p,
            &mut res.imputed,
            &setup.fills,
            &mut res.provenance,
        )?;
    }
    for (k, &u) in rows.iter().enumerate() {
        for j in 0..ni {
            res.imputed_values[[p, u, j]] = x[[k, j]];
        }
    }
    treat_period(fw, res, p, &rows, &mut x)?;
    Ok(Prepared { rows, x, groups })
}

/// Outlier treatment of every indicator column of period `p` (rows are the kept units `rows`),
/// recorded in `res` with the treated values.
fn treat_period(
    fw: &Framework,
    res: &mut Results,
    p: usize,
    rows: &[usize],
    x: &mut Array2<f64>,
) -> Result<(), Error> {
    let panel = &res.panel;
    for (j, &node) in panel.indicators.iter().enumerate() {
        let NodeKind::Indicator(spec) = &fw.nodes[node].kind else {
            continue;
        };
        let what = format!("indicator `{}`", fw.nodes[node].id);
        let report = pipeline::treat(x.column_mut(j), &fw.treat_of(spec))
            .map_err(|e| stage_error(panel, rows, p, &what, &e))?;
        if report.outcome != pipeline::TreatOutcome::Untouched || report.skew_before.is_some() {
            res.treatments.push(Treatment {
                period: p,
                indicator: j,
                report,
            });
        }
    }
    for (k, &u) in rows.iter().enumerate() {
        for j in 0..panel.indicators.len() {
            res.treated[[p, u, j]] = crate::format::no_negative_zero(x[[k, j]]);
        }
    }
    Ok(())
}

/// Pass 2, first step: the normalised indicator columns of period `p` (one row per kept unit,
/// one column per node; aggregate columns still `NaN`), against each indicator's reference.
fn normalise_period(
    fw: &Framework,
    res: &mut Results,
    p: usize,
    prep: &Prepared,
) -> Result<Array2<f64>, Error> {
    let (rows, x) = (&prep.rows, &prep.x);
    let mut s = Array2::from_elem((rows.len(), fw.nodes.len()), f64::NAN);
    for (j, &node) in res.panel.indicators.iter().enumerate() {
        if fw.nodes[node].indicator().is_none() {
            continue;
        }
        if x.column(j).iter().all(|v| v.is_nan()) {
            // Declared outcome: an indicator with no value in a period (e.g. a lag in the
            // first period) is left out of that period's aggregation, with a note.
            res.empty.push((node, p));
            continue;
        }
        let (col, outside) = normalise_column(fw, res, p, j, rows, x.column(j))?;
        res.outside.extend(outside);
        s.column_mut(node).assign(&col);
    }
    Ok(s)
}

/// Normalises indicator column `j` of period `p` (values `col` of the kept units `rows`)
/// against its reference, or against the period itself; with how many values lay beyond base
/// or frozen bounds.
fn normalise_column(
    fw: &Framework,
    res: &Results,
    p: usize,
    j: usize,
    rows: &[usize],
    col: ArrayView1<f64>,
) -> Result<(Array1<f64>, Option<OutsideCount>), Error> {
    let panel = &res.panel;
    let node = &fw.nodes[panel.indicators[j]];
    let Some(spec) = node.indicator() else {
        return Ok((Array1::from_elem(col.len(), f64::NAN), None));
    };
    let what = format!("indicator `{}`", node.id);
    let err = |e: StageError| stage_error(panel, rows, p, &what, &e);
    let norm = fw.normalise_of(spec);
    if let Some(r) = res.references.get(j).and_then(Option::as_ref) {
        let n = pipeline::normalise::normalise_against(
            col,
            spec.direction,
            &norm.method,
            &r.bounds,
            r.outside,
        )
        .map_err(|e| {
            let Error::Eval(m) = err(e) else {
                unreachable!("stage errors are evaluation errors")
            };
            Error::Eval(format!("{m} (bounds over {})", r.periods))
        })?;
        let outside = (n.below + n.above > 0).then_some(OutsideCount {
            period: p,
            indicator: j,
            below: n.below,
            above: n.above,
        });
        return Ok((n.scores, outside));
    }
    let method = match (&norm.method, &norm.reference) {
        (Normalise::Dist2Ref { .. }, Some(r)) => {
            let row = rows
                .iter()
                .position(|&u| &panel.units[u] == r)
                .ok_or_else(|| {
                    Error::Eval(format!(
                        "{what}, period {}: reference unit `{r}` is not among the scored units",
                        panel.periods[p]
                    ))
                })?;
            Normalise::Dist2Ref { row }
        }
        (m, _) => m.clone(),
    };
    let scores = pipeline::normalise(col, spec.direction, &method).map_err(err)?;
    Ok((scores, None))
}

/// Pass 2, second step: aggregates the normalised columns `s` of period `p` up the tree, ranks
/// every node, and stores scores, ranks and status in `res`.
fn aggregate_and_rank(
    fw: &Framework,
    res: &mut Results,
    p: usize,
    prep: &Prepared,
    mut s: Array2<f64>,
    scorer: &Scorer,
) -> Result<(), Error> {
    let rows = &prep.rows;
    let panel = &res.panel;
    let weights: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
    scorer
        .aggregate(&mut s, &weights)
        .map_err(|(node, e)| aggregation_error(fw, panel, rows, p, node, &e))?;
    let ranked: Vec<bool> = rows
        .iter()
        .map(|&u| panel.ranked.as_ref().is_none_or(|r| r[[p, u]]))
        .collect();
    for node in 0..fw.nodes.len() {
        let keys = rank_keys(fw, node, s.column(node), &ranked);
        let r = pipeline::rank_desc(keys.view());
        let gr = prep
            .groups
            .as_ref()
            .map(|g| pipeline::rank_desc_within(keys.view(), g));
        for (k, &u) in rows.iter().enumerate() {
            res.scores[[p, u, node]] = crate::format::no_negative_zero(s[[k, node]]);
            res.ranks[[p, u, node]] = r[k].unwrap_or(0);
            if let (Some(gr), Some(out)) = (&gr, res.group_ranks.as_mut()) {
                out[[p, u, node]] = gr[k].unwrap_or(0);
            }
        }
    }
    for (k, &u) in rows.iter().enumerate() {
        res.status[[p, u]] = if s[[k, 0]].is_nan() {
            Status::Missing
        } else {
            Status::Scored
        };
    }
    Ok(())
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

    /// Results of `panel` with nothing computed yet: every score `NaN`, every unit absent.
    fn empty(fw: &Framework, panel: Panel) -> Self {
        let (np, nu, ni) = panel.values.dim();
        let nn = fw.nodes.len();
        Self {
            scores: Array3::from_elem((np, nu, nn), f64::NAN),
            ranks: Array3::zeros((np, nu, nn)),
            group_ranks: panel.groups.as_ref().map(|_| Array3::zeros((np, nu, nn))),
            treated: Array3::from_elem((np, nu, ni), f64::NAN),
            status: Array2::from_elem((np, nu), Status::Absent),
            imputed: Array2::zeros((np, ni)),
            imputed_values: Array3::from_elem((np, nu, ni), f64::NAN),
            provenance: Provenance::default(),
            treatments: Vec::new(),
            empty: Vec::new(),
            references: vec![None; ni],
            outside: Vec::new(),
            ids: fw.nodes.iter().map(|n| n.id.clone()).collect(),
            panel,
        }
    }

    /// How unit `u`'s rank in `node` moved from period `before` to period `now`.
    pub fn rank_change(&self, node: usize, before: usize, now: usize, u: usize) -> RankChange {
        RankChange::between(self.ranks[[before, u, node]], self.ranks[[now, u, node]])
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
        // A unit screening dropped loses its cells in every column.
        prov.clear_unit(1, 0, 2);
        assert_eq!(prov.get(1, 0, 0), None);
        assert_eq!(prov.get(1, 0, 1), None);
        assert_eq!(prov.get(1, 3, 1), Some(&mean));
    }
}
