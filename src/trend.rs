//! Change and trend over time: changes against the previous period and the same period a year
//! earlier, rolling means and a trend class per unit and node. Pure functions over series, and
//! [`Trends::of`], which applies them to every period, unit and aggregate node of [`Results`].
//!
//! **Periods.** "The previous period" and "a year earlier" are calendar periods: 2023-11 and
//! 2022-12 for 2023-12, 2023-Q3 and 2022-Q4 for 2023-Q4, 2022 for 2023. When the data have no
//! such period (or the unit no score in it) there is no change — never an error, never a
//! change across a gap.
//!
//! **Rolling mean.** The mean of the unit's scores over the `rolling` calendar periods ending
//! with the period. Periods missing inside the window (no data, or no score) are left out of
//! the mean, which is given only when at least half the window (rounded up) has a score;
//! otherwise it is empty. So a 3-month mean needs 2 of the 3 months.
//!
//! **Trend class.** Over the `window` calendar periods ending with the period, the least-squares
//! line through the unit's scores (x = the calendar step, so gaps keep their place in time) has
//! slope `b` with standard error `se(b) = sqrt(Σe² / (n − 2) / Σ(x − x̄)²)`. The trend is
//! *improving* when `t = b / se(b) ≥ t` (default 2) and the fitted change over the window
//! `b × (window − 1)` is at least `min_change` (default 0), *declining* when `t ≤ −t` with the
//! same size condition, and *stable* otherwise. Fewer than `min_periods` scored periods in the
//! window (default half the window, at least 3) give no class. A series on an exact line
//! (`se = 0`) is classed by the sign of its slope; a flat one is stable. For a node where lower
//! is better (`direction = "lower"`) the line is fitted through the negated scores, so a falling
//! score is improving; the change columns keep the scores' own sign.
//!
//! Why this rule: the t-ratio of a least-squares slope is the textbook test of a linear trend
//! (e.g. Wooldridge, *Introductory Econometrics*, ch. 4 and 10.5, trending time series): it
//! compares the rise with the noise around it, so a noisy flat series is stable and a steady
//! small rise is a trend; |t| ≥ 2 is near the two-sided 5% level for a dozen points (and
//! looser for fewer: t(0.975, 4 df) = 2.78). The SDG Index dashboards (Sachs et al.,
//! *Sustainable Development Report*) class trends by the growth rate needed to reach a target
//! instead; composite scores have no target, so kapok uses the noise-relative slope, with
//! `min_change` for offices that want a practical size as well.
//!
//! **Scores that are not comparable across periods.** With per-period normalisation
//! ([`Framework::comparable_across_periods`] false), a score of 60 in December and 55 in
//! January may mean nothing moved. Then no score change, year-on-year score change or rolling
//! mean is given (empty), and the trend class is the trend of the *rank* (the least-squares line
//! through −rank, so climbing is improving; `min_change` then counts places). Rank changes are
//! always given.

use ndarray::{Array2, Array3};
use rayon::prelude::*;

use crate::evaluate::Results;
use crate::framework::trend::TrendRule;
use crate::framework::{Framework, Lang};
use crate::period::Period;

/// Which way a unit's score (or rank) went over the trend window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A significant rise (or climb in rank).
    Improving,
    /// No significant slope.
    Stable,
    /// A significant fall.
    Declining,
}

impl Class {
    /// The arrow shown in tables: ↗ → ↘.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Improving => "↗",
            Self::Stable => "→",
            Self::Declining => "↘",
        }
    }

    /// The value in the `trend.<id>` column: `improving`, `stable`, `declining`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Improving => "improving",
            Self::Stable => "stable",
            Self::Declining => "declining",
        }
    }

    /// The class in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Improving, Lang::Zh) => "向好",
            (Self::Stable, Lang::Zh) => "平稳",
            (Self::Declining, Lang::Zh) => "下滑",
            (Self::Improving, Lang::En) => "improving",
            (Self::Stable, Lang::En) => "stable",
            (Self::Declining, Lang::En) => "declining",
        }
    }
}

/// The legend of the trend arrows, for a window of `window` periods; `ranks` when the trend is
/// of ranks (scores not comparable across periods).
pub fn legend(window: usize, t: f64, ranks: bool, lang: Lang) -> String {
    match (lang, ranks) {
        (Lang::Zh, false) => {
            format!("趋势（近 {window} 期得分的最小二乘斜率，|t| ≥ {t}）：↗ 向好  → 平稳  ↘ 下滑")
        }
        (Lang::Zh, true) => format!(
            "趋势（近 {window} 期名次的最小二乘斜率，|t| ≥ {t}；各期得分不可比，按名次判断）：↗ 向好  → 平稳  ↘ 下滑"
        ),
        (Lang::En, false) => format!(
            "Trend (least-squares slope of the last {window} periods' scores, |t| ≥ {t}): ↗ improving  → stable  ↘ declining"
        ),
        (Lang::En, true) => format!(
            "Trend (least-squares slope of the last {window} periods' ranks, |t| ≥ {t}; scores are not comparable across periods): ↗ improving  → stable  ↘ declining"
        ),
    }
}

/// The same period a year earlier, in canonical text (`2022-12` for `2023-12`, `2022-Q4` for
/// `2023-Q4`, `2022` for `2023`); `None` when `period` is not a calendar period.
pub fn year_earlier(period: &str) -> Option<String> {
    let p = Period::parse(period).ok()?;
    p.offset(-p.granularity().per_year()).map(|q| q.to_string())
}

/// Change of a score: `now − before`, or `None` when either is missing.
pub fn change(now: f64, before: f64) -> Option<f64> {
    let d = now - before;
    (now.is_finite() && before.is_finite()).then_some(d)
}

/// Places climbed from rank `before` to rank `now` (positive = better; 0 = no rank), or `None`
/// when either has no rank.
pub fn rank_change(now: u32, before: u32) -> Option<i64> {
    crate::evaluate::RankChange::between(before, now).places()
}

/// The rolling mean of a window's values (NaN = missing): the mean of the values present when at
/// least half the window (rounded up) has one, else `None`.
pub fn rolling_mean(window: &[f64]) -> Option<f64> {
    let present = || window.iter().copied().filter(|v| v.is_finite());
    let n = present().count();
    (!window.is_empty() && n >= window.len().div_ceil(2)).then(|| present().sum::<f64>() / n as f64)
}

/// A least-squares line `y = a + b x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Points used.
    pub n: usize,
    /// Slope `b`.
    pub slope: f64,
    /// Standard error of the slope, `sqrt(Σe² / (n − 2) / Σ(x − x̄)²)`.
    pub se: f64,
}

impl Fit {
    /// `slope / se` (±∞ on an exact line with a slope, 0 on an exact flat line).
    pub fn t(&self) -> f64 {
        if self.se > 0.0 {
            self.slope / self.se
        } else if self.slope == 0.0 {
            0.0
        } else {
            self.slope.signum() * f64::INFINITY
        }
    }
}

/// The least-squares line through the points with a finite `x` and `y` (at least 3, with
/// distinct `x`), or `None`.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    // This runs for every unit, node and period: the points used are fitted from a slice, the
    // window itself when every point is there, else a copy of the finite ones (on the stack
    // for a window of up to 24 periods).
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    if points.iter().all(|p| finite(&p)) {
        return fit(points);
    }
    let mut stack = [(0.0, 0.0); 24];
    if points.len() <= stack.len() {
        let mut n = 0;
        for p in points.iter().filter(finite) {
            stack[n] = *p;
            n += 1;
        }
        fit(&stack[..n])
    } else {
        fit(&points.iter().filter(finite).copied().collect::<Vec<_>>())
    }
}

/// [`least_squares`] of points that are all finite.
fn fit(pts: &[(f64, f64)]) -> Option<Fit> {
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let a = my - slope * mx;
    let sse: f64 = pts.iter().map(|p| (p.1 - a - slope * p.0).powi(2)).sum();
    // Round-off on an exact line leaves a residual of order ε; treat it as none.
    let scale = pts.iter().map(|p| p.1.abs()).fold(1.0, f64::max);
    let sse = if sse <= (1e-12 * scale).powi(2) * nf {
        0.0
    } else {
        sse
    };
    let se = (sse / (nf - 2.0) / sxx).sqrt();
    Some(Fit { n, slope, se })
}

/// The trend class of a window's points `(calendar step, value)` (NaN = missing) under `rule`;
/// `None` with fewer than `rule.min_periods` values.
pub fn classify(points: &[(f64, f64)], rule: &TrendRule) -> Option<Class> {
    let present = points.iter().filter(|p| p.1.is_finite()).count();
    if present < rule.min_periods.max(3) {
        return None;
    }
    let fit = least_squares(points)?;
    let t = fit.t();
    let size = (fit.slope * (rule.window.max(2) - 1) as f64).abs();
    Some(if t >= rule.t && size >= rule.min_change {
        Class::Improving
    } else if t <= -rule.t && size >= rule.min_change {
        Class::Declining
    } else {
        Class::Stable
    })
}

/// The panel's periods in the `len` calendar periods ending with period `p`, oldest first: the
/// calendar step from the window's start and the panel index when the data have that period.
/// Periods that are not calendar periods count as consecutive.
pub fn window(periods: &[String], p: usize, len: usize) -> Vec<(i64, Option<usize>)> {
    let len = len.max(1);
    match Period::parse(&periods[p]) {
        Ok(end) => (0..len as i64)
            .map(|k| {
                let at = end
                    .offset(k - (len as i64 - 1))
                    .and_then(|q| periods.iter().position(|s| *s == q.to_string()));
                (k, at)
            })
            .collect(),
        Err(_) => (0..len as i64)
            .map(|k| {
                let at = (p as i64 + k - (len as i64 - 1)).try_into().ok();
                (k, at)
            })
            .collect(),
    }
}

/// An array of [`Trends`] as its cells: `len` nodes of a row's unit each, in parallel.
fn per_cell<T: Send>(a: &mut Array3<T>, len: usize) -> rayon::slice::ChunksMut<'_, T> {
    a.as_slice_mut()
        .expect("a new array is contiguous")
        .par_chunks_mut(len)
}

/// What [`Trends::at`] reads for every cell: the scores and ranks of the trend nodes.
struct Series<'a> {
    scores: &'a crate::evaluate::Scores,
    nodes: &'a [usize],
    /// Per node, its ranks `[[period, unit]]`.
    ranks: &'a [&'a Array2<u32>],
    /// Per node, 1 or −1: improving is towards better, down for a node where lower is better.
    better: Vec<f64>,
    comparable: bool,
    rule: &'a TrendRule,
}

/// The period of a row of [`Trends`], its earlier periods and its windows.
struct At {
    p: usize,
    prev: Option<usize>,
    year_ago: Option<usize>,
    roll: Vec<(i64, Option<usize>)>,
    win: Vec<(i64, Option<usize>)>,
}

/// A thread's lists of a window's values, reused from cell to cell.
#[derive(Default)]
struct Buffers {
    vals: Vec<f64>,
    pts: Vec<(f64, f64)>,
}

/// One unit's values of every trend node, in one row of [`Trends`]' arrays.
struct Cell<'c> {
    change: &'c mut [f64],
    yoy: &'c mut [f64],
    rank_change: &'c mut [Option<i64>],
    rank_yoy: &'c mut [Option<i64>],
    rolling: &'c mut [f64],
    class: &'c mut [Option<Class>],
}

impl Series<'_> {
    /// Fills unit `u`'s cell of the row of period `at.p`.
    fn cell(&self, at: &At, u: usize, cell: Cell, buf: &mut Buffers) {
        let p = at.p;
        for (k, &n) in self.nodes.iter().enumerate() {
            let score = |q: usize| self.scores[[q, u, n]];
            let rank = |q: usize| self.ranks[k][[q, u]];
            if let Some(q) = at.prev {
                cell.rank_change[k] = rank_change(rank(p), rank(q));
                if self.comparable {
                    cell.change[k] = change(score(p), score(q)).unwrap_or(f64::NAN);
                }
            }
            if let Some(q) = at.year_ago {
                cell.rank_yoy[k] = rank_change(rank(p), rank(q));
                if self.comparable {
                    cell.yoy[k] = change(score(p), score(q)).unwrap_or(f64::NAN);
                }
            }
            if self.comparable && score(p).is_finite() {
                buf.vals.clear();
                buf.vals
                    .extend(at.roll.iter().map(|&(_, q)| q.map_or(f64::NAN, score)));
                cell.rolling[k] = rolling_mean(&buf.vals).unwrap_or(f64::NAN);
            }
            let value = |q: usize| {
                if self.comparable {
                    self.better[k] * score(q)
                } else {
                    match rank(q) {
                        0 => f64::NAN,
                        k => -f64::from(k),
                    }
                }
            };
            if value(p).is_finite() {
                buf.pts.clear();
                buf.pts.extend(
                    at.win
                        .iter()
                        .map(|&(x, q)| (x as f64, q.map_or(f64::NAN, value))),
                );
                cell.class[k] = classify(&buf.pts, self.rule);
            }
        }
    }
}

/// Changes, rolling means and trend classes of every period, unit and aggregate node.
#[derive(Clone, Debug)]
pub struct Trends {
    /// Whether scores are comparable across periods (else score changes are empty and the
    /// trend class is of ranks).
    pub comparable: bool,
    /// The settings in effect.
    pub rule: TrendRule,
    /// The nodes covered: the index and the dimensions, in pre-order.
    pub nodes: Vec<usize>,
    /// The previous calendar period of each period, when the data have it.
    pub prev: Vec<Option<usize>>,
    /// The same period a year earlier, when the data have it.
    pub year_ago: Vec<Option<usize>>,
    /// Per period, its row in the arrays below (`None`: not computed).
    rows: Vec<Option<usize>>,
    /// `change[[row, unit, k]]` for node `nodes[k]`; read with [`Trends::change`].
    change: Array3<f64>,
    yoy: Array3<f64>,
    rank_change: Array3<Option<i64>>,
    rank_yoy: Array3<Option<i64>>,
    rolling: Array3<f64>,
    class: Array3<Option<Class>>,
}

impl Trends {
    /// Computes every change and class from the results, with the framework's `[trend]`
    /// settings for the data's granularity.
    pub fn of(fw: &Framework, r: &Results) -> Self {
        let every: Vec<usize> = (0..r.panel.periods.len()).collect();
        Self::at(fw, r, &every)
    }

    /// [`Trends::of`] for the periods `periods` only (a ranking of one period needs no more,
    /// and its arrays hold that period only); other periods have no changes or classes.
    pub fn at(fw: &Framework, r: &Results, periods: &[usize]) -> Self {
        // Ranked only when a cell reads them.
        let ranks: Vec<&Array2<u32>> = if periods.is_empty() || r.panel.units.is_empty() {
            Vec::new()
        } else {
            Self::nodes_of(fw)
                .par_iter()
                .map(|&n| r.node_ranks(n))
                .collect()
        };
        Self::at_with(fw, &r.panel, &r.scores, &ranks, periods)
    }

    /// [`Trends::at`] from the scores of `panel`'s aggregate nodes and their ranks (one array
    /// per node of [`Trends::nodes_of`]): the periods asked for and the earlier ones must be
    /// there, as a run merging periods in order has them.
    pub fn at_with(
        fw: &Framework,
        panel: &crate::data::Panel,
        scores: &crate::evaluate::Scores,
        ranks: &[&Array2<u32>],
        periods: &[usize],
    ) -> Self {
        let g = panel
            .periods
            .first()
            .and_then(|s| Period::parse(s).ok())
            .map(|p| p.granularity());
        let rule = fw.trend.rule(g);
        let comparable = fw.comparable_across_periods();
        let nodes = Self::nodes_of(fw);
        let np = panel.periods.len();
        let nu = panel.units.len();
        let nk = nodes.len();
        let prev: Vec<Option<usize>> = (0..np).map(|p| panel.previous_period(p)).collect();
        let year_ago: Vec<Option<usize>> = (0..np)
            .map(|p| year_earlier(&panel.periods[p]).and_then(|s| panel.period_index(&s)))
            .collect();
        // Arrays for the asked periods only: a ranking of one period needs one row, not the
        // panel's.
        let mut rows = vec![None; np];
        let mut nr = 0;
        for &p in periods {
            if rows[p].is_none() {
                rows[p] = Some(nr);
                nr += 1;
            }
        }
        let mut t = Self {
            comparable,
            rule,
            nodes: nodes.clone(),
            prev: prev.clone(),
            year_ago: year_ago.clone(),
            rows: rows.clone(),
            change: Array3::from_elem((nr, nu, nk), f64::NAN),
            yoy: Array3::from_elem((nr, nu, nk), f64::NAN),
            rank_change: Array3::from_elem((nr, nu, nk), None),
            rank_yoy: Array3::from_elem((nr, nu, nk), None),
            rolling: Array3::from_elem((nr, nu, nk), f64::NAN),
            class: Array3::from_elem((nr, nu, nk), None),
        };
        if nr == 0 || nu == 0 || nk == 0 {
            return t;
        }
        // Each row's period and windows, and each node's ranks and direction, found once: the
        // ranks computed in parallel, before the cells that read them.
        let mut plan: Vec<Option<At>> = (0..nr).map(|_| None).collect();
        for (p, i) in rows
            .iter()
            .enumerate()
            .filter_map(|(p, i)| Some((p, (*i)?)))
        {
            plan[i] = Some(At {
                p,
                prev: prev[p],
                year_ago: year_ago[p],
                roll: window(&panel.periods, p, rule.rolling),
                win: window(&panel.periods, p, rule.window),
            });
        }
        let plan: Vec<At> = plan.into_iter().flatten().collect();
        let series = Series {
            scores,
            nodes: &nodes,
            ranks,
            better: nodes
                .iter()
                .map(|&n| {
                    if fw.nodes[n].lower_is_better {
                        -1.0
                    } else {
                        1.0
                    }
                })
                .collect(),
            comparable,
            rule: &t.rule,
        };
        // One cell is a row's unit, with its nodes side by side in every array.
        (
            per_cell(&mut t.change, nk),
            per_cell(&mut t.yoy, nk),
            per_cell(&mut t.rank_change, nk),
            per_cell(&mut t.rank_yoy, nk),
            per_cell(&mut t.rolling, nk),
            per_cell(&mut t.class, nk),
        )
            .into_par_iter()
            .enumerate()
            .with_min_len(256)
            .for_each_init(Buffers::default, |buf, (c, arrays)| {
                let (change, yoy, rank_change, rank_yoy, rolling, class) = arrays;
                let cell = Cell {
                    change,
                    yoy,
                    rank_change,
                    rank_yoy,
                    rolling,
                    class,
                };
                series.cell(&plan[c / nu], c % nu, cell, buf);
            });
        t
    }

    /// The nodes trends are computed for ([`Trends::nodes`]): the index and the dimensions, in
    /// pre-order.
    pub fn nodes_of(fw: &Framework) -> Vec<usize> {
        fw.aggregates_preorder()
    }

    /// Position of node `node` in [`Trends::nodes`].
    pub fn slot(&self, node: usize) -> Option<usize> {
        self.nodes.iter().position(|&n| n == node)
    }

    /// The trend class of unit `u`'s node `node` in period `p`.
    pub fn class_of(&self, p: usize, u: usize, node: usize) -> Option<Class> {
        self.slot(node).and_then(|k| self.class(p, u, k))
    }

    /// Unit `u`'s score change in node `nodes[k]` against the previous period, at period `p`
    /// (NaN = none, scores not comparable, or `p` not computed).
    pub fn change(&self, p: usize, u: usize, k: usize) -> f64 {
        self.rows[p].map_or(f64::NAN, |i| self.change[[i, u, k]])
    }

    /// The score change against a year earlier (NaN as for [`Trends::change`]).
    pub fn yoy(&self, p: usize, u: usize, k: usize) -> f64 {
        self.rows[p].map_or(f64::NAN, |i| self.yoy[[i, u, k]])
    }

    /// Places climbed since the previous period.
    pub fn rank_change(&self, p: usize, u: usize, k: usize) -> Option<i64> {
        self.rows[p].and_then(|i| self.rank_change[[i, u, k]])
    }

    /// Places climbed since a year earlier.
    pub fn rank_yoy(&self, p: usize, u: usize, k: usize) -> Option<i64> {
        self.rows[p].and_then(|i| self.rank_yoy[[i, u, k]])
    }

    /// The rolling mean of the score (NaN = none, scores not comparable, or `p` not
    /// computed).
    pub fn rolling(&self, p: usize, u: usize, k: usize) -> f64 {
        self.rows[p].map_or(f64::NAN, |i| self.rolling[[i, u, k]])
    }

    /// The trend class.
    pub fn class(&self, p: usize, u: usize, k: usize) -> Option<Class> {
        self.rows[p].and_then(|i| self.class[[i, u, k]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(window: usize, min_periods: usize) -> TrendRule {
        TrendRule {
            window,
            rolling: 3,
            t: 2.0,
            min_change: 0.0,
            min_periods,
        }
    }

    fn pts(ys: &[f64]) -> Vec<(f64, f64)> {
        ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
    }

    #[test]
    fn year_earlier_by_calendar() {
        assert_eq!(year_earlier("2023-12").as_deref(), Some("2022-12"));
        assert_eq!(year_earlier("2023-01").as_deref(), Some("2022-01"));
        assert_eq!(year_earlier("2023-Q4").as_deref(), Some("2022-Q4"));
        assert_eq!(year_earlier("2023").as_deref(), Some("2022"));
        assert_eq!(year_earlier(""), None);
    }

    #[test]
    fn changes_and_rank_changes() {
        assert_eq!(change(62.5, 60.0), Some(2.5));
        assert_eq!(change(62.5, f64::NAN), None);
        assert_eq!(change(f64::NAN, 1.0), None);
        // 5th → 3rd: climbed 2 places.
        assert_eq!(rank_change(3, 5), Some(2));
        assert_eq!(rank_change(4, 3), Some(-1));
        assert_eq!(rank_change(0, 3), None);
        assert_eq!(rank_change(3, 0), None);
    }

    #[test]
    fn rolling_mean_skips_missing_but_needs_half() {
        assert_eq!(rolling_mean(&[1.0, 2.0, 6.0]), Some(3.0));
        // One of three missing: the mean of the other two.
        assert_eq!(rolling_mean(&[1.0, f64::NAN, 6.0]), Some(3.5));
        // Two of three missing: less than half the window.
        assert_eq!(rolling_mean(&[f64::NAN, f64::NAN, 6.0]), None);
        // Two of four present is half.
        assert_eq!(rolling_mean(&[f64::NAN, 2.0, f64::NAN, 4.0]), Some(3.0));
        assert_eq!(rolling_mean(&[5.0]), Some(5.0));
        assert_eq!(rolling_mean(&[]), None);
    }

    proptest::proptest! {
        /// The fit skips missing points, on the stack or not, exactly as a fit of the points
        /// present alone; and it is the textbook fit, summed point by point in order, equal
        /// to the last bit.
        #[test]
        fn least_squares_skips_missing_points_to_the_bit(
            cells in proptest::collection::vec((-1e3f64..1e3, proptest::bool::weighted(0.2)), 0..40)
        ) {
            let points: Vec<(f64, f64)> = cells
                .iter()
                .enumerate()
                .map(|(i, &(y, missing))| (i as f64, if missing { f64::NAN } else { y }))
                .collect();
            let present: Vec<(f64, f64)> =
                points.iter().copied().filter(|p| p.1.is_finite()).collect();
            let textbook = || -> Option<(usize, f64, f64)> {
                let n = present.len();
                if n < 3 {
                    return None;
                }
                let nf = n as f64;
                let (mut sx, mut sy) = (0.0, 0.0);
                for p in &present {
                    sx += p.0;
                    sy += p.1;
                }
                let (mx, my) = (sx / nf, sy / nf);
                let (mut sxx, mut sxy) = (0.0, 0.0);
                for p in &present {
                    sxx += (p.0 - mx) * (p.0 - mx);
                    sxy += (p.0 - mx) * (p.1 - my);
                }
                let slope = sxy / sxx;
                let a = my - slope * mx;
                let mut sse = 0.0;
                let mut scale = 1.0f64;
                for p in &present {
                    sse += (p.1 - a - slope * p.0) * (p.1 - a - slope * p.0);
                    scale = scale.max(p.1.abs());
                }
                let sse = if sse <= (1e-12 * scale).powi(2) * nf { 0.0 } else { sse };
                Some((n, slope, (sse / (nf - 2.0) / sxx).sqrt()))
            };
            // Equal as numbers: exactly, 0 and −0 alike.
            let bits = |f: Option<Fit>| f.map(|f| (f.n, f.slope, f.se));
            proptest::prop_assert_eq!(bits(least_squares(&points)), textbook());
            proptest::prop_assert_eq!(bits(least_squares(&present)), textbook());
        }
    }

    #[test]
    fn least_squares_by_hand() {
        // y = 1, 3, 2, 5 at x = 0..3: x̄ = 1.5, ȳ = 2.75, Sxx = 5, Sxy = 5.5, b = 1.1,
        // a = 2.75 − 1.65 = 1.1; fitted 1.1, 2.2, 3.3, 4.4; residuals −0.1, 0.8, −1.3, 0.6;
        // SSE = 0.01 + 0.64 + 1.69 + 0.36 = 2.7; se = sqrt(2.7 / 2 / 5) = sqrt(0.27).
        let f = least_squares(&pts(&[1.0, 3.0, 2.0, 5.0])).unwrap();
        assert_eq!(f.n, 4);
        assert!((f.slope - 1.1).abs() < 1e-12);
        assert!((f.se - 0.27f64.sqrt()).abs() < 1e-12);
        // t = 1.1 / 0.5196 = 2.117.
        assert!((f.t() - 1.1 / 0.27f64.sqrt()).abs() < 1e-9);
        assert!(least_squares(&pts(&[1.0, 2.0])).is_none());
        assert!(least_squares(&pts(&[1.0, f64::NAN, 2.0])).is_none());
    }

    #[test]
    fn classes() {
        let r = rule(6, 3);
        // A clear rise: 50, 52, 53, 55, 57, 58 (b = 1.6, residuals small) → improving.
        assert_eq!(
            classify(&pts(&[50.0, 52.0, 53.0, 55.0, 57.0, 58.0]), &r),
            Some(Class::Improving)
        );
        assert_eq!(
            classify(&pts(&[58.0, 57.0, 55.0, 53.0, 52.0, 50.0]), &r),
            Some(Class::Declining)
        );
        // Flat and noisy: 50, 53, 49, 52, 48, 51. x̄ = 2.5, ȳ = 50.5, Sxx = 17.5,
        // Sxy = −2.5·(−0.5) − 1.5·2.5 − 0.5·(−1.5) + 0.5·1.5 + 1.5·(−2.5) + 2.5·0.5
        //     = 1.25 − 3.75 + 0.75 + 0.75 − 3.75 + 1.25 = −3.5, b = −0.2: |t| < 1 → stable.
        let noisy = pts(&[50.0, 53.0, 49.0, 52.0, 48.0, 51.0]);
        let f = least_squares(&noisy).unwrap();
        assert!((f.slope + 0.2).abs() < 1e-12);
        assert!(f.t().abs() < 1.0);
        assert_eq!(classify(&noisy, &r), Some(Class::Stable));
        // A perfectly flat series is stable; an exact line is classed by its sign.
        assert_eq!(classify(&pts(&[4.0; 5]), &r), Some(Class::Stable));
        assert_eq!(classify(&pts(&[1.0, 2.0, 3.0]), &r), Some(Class::Improving));
        // Too few periods: no class.
        assert_eq!(classify(&pts(&[1.0, 2.0]), &r), None);
        assert_eq!(
            classify(
                &pts(&[f64::NAN, f64::NAN, f64::NAN, 1.0, 2.0, 3.0]),
                &rule(6, 4)
            ),
            None
        );
        // The hand-computed series above has t = 2.117: improving at t = 2, stable at t = 2.5.
        let s = pts(&[1.0, 3.0, 2.0, 5.0]);
        assert_eq!(classify(&s, &rule(4, 3)), Some(Class::Improving));
        let strict = TrendRule {
            t: 2.5,
            ..rule(4, 3)
        };
        assert_eq!(classify(&s, &strict), Some(Class::Stable));
        // min_change: the fitted change over the window is 1.1 × 3 = 3.3 < 4 → stable.
        let big = TrendRule {
            min_change: 4.0,
            ..rule(4, 3)
        };
        assert_eq!(classify(&s, &big), Some(Class::Stable));
    }

    #[test]
    fn windows_follow_the_calendar() {
        let periods: Vec<String> = ["2023-01", "2023-02", "2023-04"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // 2023-04 with a window of 3: 2023-02 (index 1), 2023-03 (absent), 2023-04 (index 2).
        assert_eq!(
            window(&periods, 2, 3),
            vec![(0, Some(1)), (1, None), (2, Some(2))]
        );
        assert_eq!(window(&periods, 0, 2), vec![(0, None), (1, Some(0))]);
    }
}
