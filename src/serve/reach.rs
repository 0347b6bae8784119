//! What a rank means on the page, when the framework declares `[uncertainty]`: each unit's
//! rank interval under the declared analysis, and how far a unit can move within the declared
//! weight ranges.

use std::sync::Arc;

use super::model::{Model, Once};
use super::query::{BadRequest, Query};
use crate::framework::Framework;
use crate::framework::uncertainty::{InputKind, NoisyWeight, Uncertainty};
use crate::robustness::{Options as AnalysisOptions, Plan, RankStats, RunSpec, analyse, design};

/// Weightings searched besides the corners of the weight ranges.
pub const REACH_POINTS: usize = 1024;
/// Most noisy weights whose ranges' corners are all tried (2^k corners).
const MAX_CORNER_DIMS: usize = 10;

/// The declared uncertainty analysis of one period, run on the official framework.
#[derive(Clone, Debug)]
pub struct Intervals {
    /// Runs made.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Rank statistics per panel unit.
    pub stats: Vec<Option<RankStats>>,
}

/// Weights of some nodes: (node, weight).
pub type Weighting = Vec<(usize, f64)>;

/// The best and worst rank of each unit over weightings within the declared ranges.
#[derive(Clone, Debug)]
pub struct Reach {
    /// Weightings tried (the corners of the ranges, then quasi-random points).
    pub weightings: usize,
    /// Corners among them.
    pub corners: usize,
    /// Best and worst rank per panel unit (`None`: never ranked).
    pub ranks: Vec<Option<(u32, u32)>>,
    /// Per panel unit, the weightings that gave its best and its worst rank: the noisy
    /// weights as (node, weight), in the order of `ranges` (the official weights when they
    /// did as well as any weighting tried).
    pub extremes: Vec<Option<(Weighting, Weighting)>>,
    /// The noisy weights: node and its lowest and highest weight.
    pub ranges: Vec<(usize, f64, f64)>,
}

/// The declared `[uncertainty]`, or why the page cannot show intervals.
fn declared(fw: &Framework) -> Result<&Uncertainty, BadRequest> {
    fw.uncertainty.as_ref().ok_or_else(|| {
        BadRequest::query("the framework declares no [uncertainty]: there are no rank intervals")
    })
}

/// Every noisy weight the framework declares.
fn noisy(unc: &Uncertainty) -> Vec<NoisyWeight> {
    unc.inputs
        .iter()
        .flat_map(|i| match &i.kind {
            InputKind::Weights(w) => w.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// Runs `f` once per key: concurrent callers of the same key wait for the first.
fn once<T>(cell: Once<T>, f: impl FnOnce() -> Result<T, String>) -> Result<Arc<T>, String> {
    cell.get_or_init(|| f().map(Arc::new)).clone()
}

impl Model {
    /// The rank intervals of the query's period under the declared analysis (run once per
    /// period, on the official framework: the query's weights and methods do not enter).
    pub fn intervals(&self, q: &Query) -> Result<Arc<Intervals>, BadRequest> {
        let unc = declared(&self.fw)?;
        let p = self.period(q)?;
        let cell = self
            .intervals
            .lock()
            .expect("cache lock")
            .entry(p)
            .or_default()
            .clone();
        once(cell, || {
            let plan = design::plain(&self.fw, unc, unc.runs);
            let a = analyse(&self.fw, &self.panel, p, plan, &AnalysisOptions::default())
                .map_err(|e| e.to_string())?;
            Ok(Intervals {
                runs: a.plan.runs.len(),
                failed: a.failed.len(),
                stats: a.rank_stats,
            })
        })
        .map_err(BadRequest::query)
    }

    /// How far each unit's rank moves when the declared noisy weights vary within their
    /// ranges around the official weights, with the query's period and methods: the best and
    /// worst rank over every corner of the ranges (up to 2^10) and [`REACH_POINTS`] Sobol
    /// points inside them.
    pub fn reach(&self, q: &Query) -> Result<Arc<Reach>, BadRequest> {
        let unc = declared(&self.fw)?;
        let noisy = noisy(unc);
        if noisy.is_empty() {
            return Err(BadRequest::query(
                "the framework's [uncertainty] declares no weight ranges",
            ));
        }
        let p = self.period(q)?;
        let methods_only = Query {
            period: q.period.clone(),
            normalize: q.normalize.clone(),
            aggregate: q.aggregate.clone(),
            ..Query::default()
        };
        let fw = self.framework(&methods_only)?;
        let key = (p, q.normalize.clone(), q.aggregate.clone());
        let cell = {
            let mut cache = self.reach.lock().expect("cache lock");
            if cache.len() >= 64 && !cache.contains_key(&key) {
                cache.clear();
            }
            cache.entry(key).or_default().clone()
        };
        once(cell, || search(&fw, &self.panel, p, unc.seed, &noisy)).map_err(BadRequest::query)
    }
}

/// The search of [`Model::reach`].
fn search(
    fw: &Framework,
    panel: &crate::Panel,
    p: usize,
    seed: u64,
    noisy: &[NoisyWeight],
) -> Result<Reach, String> {
    let k = noisy.len();
    let mut points: Vec<Vec<f64>> = Vec::new();
    if k <= MAX_CORNER_DIMS {
        for c in 0..1usize << k {
            points.push((0..k).map(|d| ((c >> d) & 1) as f64).collect());
        }
    }
    let corners = points.len();
    points.extend(design::uniforms(
        crate::framework::uncertainty::Sampling::Sobol,
        seed,
        REACH_POINTS,
        k,
    ));
    let ranges: Vec<(usize, f64, f64)> = noisy
        .iter()
        .map(|n| {
            let w = fw.nodes[n.node].weight;
            (n.node, w * (1.0 - n.noise), w * (1.0 + n.noise))
        })
        .collect();
    let runs = points
        .iter()
        .enumerate()
        .map(|(r, u)| {
            let mut spec = RunSpec {
                run: r + 1,
                ..RunSpec::default()
            };
            spec.overrides.weights = ranges
                .iter()
                .zip(u)
                .map(|(&(node, lo, hi), &u)| (fw.nodes[node].id.clone(), lo + (hi - lo) * u))
                .collect();
            spec
        })
        .collect();
    let plan = Plan {
        runs,
        seed,
        ..Plan::default()
    };
    let weights_of: Vec<Vec<(usize, f64)>> = plan
        .runs
        .iter()
        .map(|r| {
            ranges
                .iter()
                .zip(&r.overrides.weights)
                .map(|(&(node, _, _), &(_, w))| (node, w))
                .collect()
        })
        .collect();
    let official: Vec<(usize, f64)> = ranges
        .iter()
        .map(|&(n, _, _)| (n, fw.nodes[n].weight))
        .collect();
    let a = analyse(fw, panel, p, plan, &AnalysisOptions::default()).map_err(|e| e.to_string())?;
    if let Some(f) = a.failed.first() {
        return Err(format!("run {}: {}", f.run, f.message));
    }
    let runs = a.index_ranks();
    let mut ranks = Vec::with_capacity(a.units.len());
    let mut extremes = Vec::with_capacity(a.units.len());
    for u in 0..a.units.len() {
        // The official weights are inside the ranges: their rank counts too, and wins ties.
        let mut best: Option<(u32, Option<usize>)> = None;
        let mut worst: Option<(u32, Option<usize>)> = None;
        let column = runs.column(u);
        let candidates = std::iter::once((a.nominal_ranks[u], None))
            .chain(column.iter().enumerate().map(|(r, &k)| (k, Some(r))));
        for (k, r) in candidates.filter(|&(k, _)| k > 0) {
            if best.is_none_or(|(b, _)| k < b) {
                best = Some((k, r));
            }
            if worst.is_none_or(|(w, _)| k > w) {
                worst = Some((k, r));
            }
        }
        let weights =
            |r: Option<usize>| r.map_or_else(|| official.clone(), |r| weights_of[r].clone());
        match (best, worst) {
            (Some((b, rb)), Some((w, rw))) => {
                ranks.push(Some((b, w)));
                extremes.push(Some((weights(rb), weights(rw))));
            }
            _ => {
                ranks.push(None);
                extremes.push(None);
            }
        }
    }
    Ok(Reach {
        weightings: points.len(),
        corners,
        ranks,
        extremes,
        ranges,
    })
}
