//! Evaluating the runs of an analysis. A run pays only for what it changes: the runs are
//! grouped by their *upstream* changes (methods and parameters before aggregation, excluded
//! indicators); each group's period is screened, imputed, treated and normalised once
//! ([`evaluate::normalised_period`]); every run then only re-aggregates a copy of it with its
//! own weights and aggregation ([`Scorer`]), in parallel. The results equal a full
//! [`evaluate`](crate::evaluate()) of each run's framework (a property test checks it);
//! [`Options::full`] evaluates every run from scratch instead, as the baseline.

use std::collections::HashMap;

use ndarray::{Array3, Axis};
use rayon::prelude::*;

use super::{Analysis, Failure, Plan, RunSpec, stats};
use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{self, NormalisedPeriod, Scorer};
use crate::framework::Framework;
use crate::framework::overrides::{MethodKind, Overrides};

/// How to run an analysis.
#[derive(Default)]
pub struct Options<'a> {
    /// Nodes whose scores and ranks are recorded besides the index (e.g. the dimensions).
    pub nodes: Vec<usize>,
    /// Evaluate every run from scratch (the whole pipeline) instead of reusing the normalised
    /// values of runs with the same upstream choices: slower, for checking and benchmarks.
    pub full: bool,
    /// Called once per finished run (e.g. to advance a progress bar).
    pub progress: Option<&'a (dyn Fn() + Sync)>,
}

/// What a run recorded: per unit and recorded node, score and rank (0 = none).
type Outcome = Result<(Vec<f64>, Vec<u32>), String>;

/// The overrides of `o` that act before aggregation, and those that act in it (weights
/// excepted).
fn split(o: &Overrides) -> (Overrides, Overrides) {
    let (agg, up): (Vec<_>, Vec<_>) = o
        .methods
        .iter()
        .cloned()
        .partition(|(k, _)| *k == MethodKind::Aggregate);
    let (agg_sets, up_sets): (Vec<_>, Vec<_>) = o
        .sets
        .iter()
        .cloned()
        .partition(|s| s.kind == MethodKind::Aggregate);
    let mut exclude = o.exclude.clone();
    exclude.sort();
    exclude.dedup();
    (
        Overrides {
            methods: up,
            sets: up_sets,
            weights: Vec::new(),
            exclude,
        },
        Overrides {
            methods: agg,
            sets: agg_sets,
            ..Overrides::default()
        },
    )
}

/// A key telling overrides apart.
fn key(o: &Overrides) -> String {
    format!("{:?}", (&o.methods, &o.sets, &o.exclude))
}

/// The panel without the columns of indicators `fw` excludes.
fn without_excluded(fw: &Framework, panel: &Panel) -> Panel {
    let keep: Vec<usize> = (0..panel.indicators.len())
        .filter(|&j| !fw.is_excluded(panel.indicators[j]))
        .collect();
    if keep.len() == panel.indicators.len() {
        return panel.clone();
    }
    Panel {
        indicators: keep.iter().map(|&j| panel.indicators[j]).collect(),
        values: panel.values.select(Axis(2), &keep),
        ..panel.clone()
    }
}

/// The framework of a run: `fw` with `o` applied.
fn applied(fw: &Framework, o: &Overrides) -> Result<Framework, Error> {
    let mut f = fw.clone();
    f.apply(o)?;
    Ok(f)
}

/// One group of runs sharing their upstream choices: its framework and normalised period.
struct Upstream {
    fw: Framework,
    period: NormalisedPeriod,
    ids: HashMap<String, usize>,
}

fn upstream(fw: &Framework, panel: &Panel, p: usize, up: &Overrides) -> Result<Upstream, String> {
    let f = applied(fw, up).map_err(|e| e.to_string())?;
    let period = evaluate::normalised_period(&f, &without_excluded(&f, panel), p)
        .map_err(|e| e.to_string())?;
    let ids = f
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    Ok(Upstream { fw: f, period, ids })
}

/// The node weights of the group's framework with a run's `weights` set, checked as
/// [`Framework::set_weight_in`] checks every weight.
fn weights(up: &Upstream, given: &[(String, f64)]) -> Result<Vec<f64>, String> {
    let fw = &up.fw;
    let mut w: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
    for (id, v) in given {
        let i = match up.ids.get(id) {
            Some(&i) => i,
            None => fw.node_named(id)?,
        };
        fw.set_weight_in(&mut w, i, *v)
            .map_err(|m| format!("--weight {id}={v}: {m}"))?;
    }
    Ok(w)
}

/// Scores and ranks of the recorded `nodes` from an aggregated period `s`.
fn record(
    fw: &Framework,
    nu: usize,
    period: &NormalisedPeriod,
    s: &ndarray::Array2<f64>,
    nodes: &[usize],
) -> (Vec<f64>, Vec<u32>) {
    let mut scores = vec![f64::NAN; nu * nodes.len()];
    let mut ranks = vec![0u32; nu * nodes.len()];
    for (k, &node) in nodes.iter().enumerate() {
        let r = evaluate::rank_scores(fw, node, s.column(node), &period.ranked);
        for (row, &u) in period.rows.iter().enumerate() {
            scores[u * nodes.len() + k] = crate::format::no_negative_zero(s[[row, node]]);
            ranks[u * nodes.len() + k] = r[row].unwrap_or(0);
        }
    }
    (scores, ranks)
}

/// A run evaluated from scratch: the whole pipeline on its framework.
fn full_run(fw: &Framework, panel: &Panel, p: usize, o: &Overrides, nodes: &[usize]) -> Outcome {
    let f = applied(fw, o).map_err(|e| e.to_string())?;
    let res = crate::evaluate(&f, without_excluded(&f, panel)).map_err(|e| e.to_string())?;
    let nu = panel.units.len();
    let mut scores = vec![f64::NAN; nu * nodes.len()];
    let mut ranks = vec![0u32; nu * nodes.len()];
    for u in 0..nu {
        for (k, &node) in nodes.iter().enumerate() {
            scores[u * nodes.len() + k] = res.scores[[p, u, node]];
            ranks[u * nodes.len() + k] = res.rank(p, u, node);
        }
    }
    Ok((scores, ranks))
}

/// Runs `plan` on period `p` of `panel` with the nominal framework `fw`, and summarises the
/// runs: rank statistics per unit and, for a Saltelli design, sensitivity indices per input.
/// A run that fails is recorded in [`Analysis::failed`]; the nominal framework failing is an
/// error.
pub fn analyse(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    plan: Plan,
    opts: &Options,
) -> Result<Analysis, Error> {
    let mut nodes = vec![0];
    nodes.extend(opts.nodes.iter().copied().filter(|&n| n != 0));
    let nu = panel.units.len();
    let nominal = evaluate::normalised_period(fw, panel, p)?;
    let mut s = nominal.scores.clone();
    let w: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
    Scorer::new(fw)
        .aggregate(&mut s, &w)
        .map_err(|(node, e)| evaluate::aggregation_error(fw, panel, &nominal.rows, p, node, &e))?;
    let (nominal_scores, nominal_ranks) = record(fw, nu, &nominal, &s, &[0]);

    let outcomes: Vec<Outcome> = if opts.full {
        plan.runs
            .par_iter()
            .map(|r| {
                let out = full_run(fw, panel, p, &r.overrides, &nodes);
                if let Some(f) = opts.progress {
                    f();
                }
                out
            })
            .collect()
    } else {
        fast_runs(fw, panel, p, &plan.runs, &nodes, opts)
    };

    let nr = plan.runs.len();
    let nk = nodes.len();
    let mut scores = Array3::from_elem((nr, nu, nk), f64::NAN);
    let mut ranks = Array3::zeros((nr, nu, nk));
    let mut failed = Vec::new();
    for (i, out) in outcomes.into_iter().enumerate() {
        match out {
            Ok((sc, rk)) => {
                for u in 0..nu {
                    for k in 0..nk {
                        scores[[i, u, k]] = sc[u * nk + k];
                        ranks[[i, u, k]] = rk[u * nk + k];
                    }
                }
            }
            Err(message) => failed.push(Failure {
                run: plan.runs[i].run,
                message,
            }),
        }
    }
    summarise(
        plan,
        panel,
        p,
        nodes,
        scores,
        ranks,
        nominal_scores,
        nominal_ranks,
        failed,
    )
}

/// The runs evaluated on the normalised values of their upstream group.
fn fast_runs(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    runs: &[RunSpec],
    nodes: &[usize],
    opts: &Options,
) -> Vec<Outcome> {
    // Each distinct upstream configuration once, in parallel.
    let mut up_keys: Vec<(String, Overrides)> = Vec::new();
    let mut agg_keys: Vec<(usize, String, Overrides)> = Vec::new();
    let mut of_run = Vec::with_capacity(runs.len());
    let mut up_index: HashMap<String, usize> = HashMap::new();
    let mut agg_index: HashMap<(usize, String), usize> = HashMap::new();
    for r in runs {
        let (up, agg) = split(&r.overrides);
        let k = key(&up);
        let u = *up_index.entry(k.clone()).or_insert_with(|| {
            up_keys.push((k, up));
            up_keys.len() - 1
        });
        let ak = key(&agg);
        let a = *agg_index.entry((u, ak.clone())).or_insert_with(|| {
            agg_keys.push((u, ak, agg));
            agg_keys.len() - 1
        });
        of_run.push((u, a));
    }
    let ups: Vec<Result<Upstream, String>> = up_keys
        .par_iter()
        .map(|(_, o)| upstream(fw, panel, p, o))
        .collect();
    let scorers: Vec<Result<Scorer, String>> = agg_keys
        .iter()
        .map(|(u, _, o)| match &ups[*u] {
            Ok(up) => applied(&up.fw, o)
                .map(|f| Scorer::new(&f))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        })
        .collect();
    let nu = panel.units.len();
    runs.par_iter()
        .zip(of_run.par_iter())
        .map(|(r, &(u, a))| {
            let out = (|| {
                let up = ups[u].as_ref().map_err(Clone::clone)?;
                let scorer = scorers[a].as_ref().map_err(Clone::clone)?;
                let w = weights(up, &r.overrides.weights)?;
                let mut s = up.period.scores.clone();
                scorer.aggregate(&mut s, &w).map_err(|(node, e)| {
                    evaluate::aggregation_error(&up.fw, panel, &up.period.rows, p, node, &e)
                        .to_string()
                })?;
                Ok(record(&up.fw, nu, &up.period, &s, nodes))
            })();
            if let Some(f) = opts.progress {
                f();
            }
            out
        })
        .collect()
}

/// Rank statistics and sensitivity indices of the runs.
#[allow(clippy::too_many_arguments)]
fn summarise(
    plan: Plan,
    panel: &Panel,
    p: usize,
    nodes: Vec<usize>,
    scores: Array3<f64>,
    ranks: Array3<u32>,
    nominal_scores: Vec<f64>,
    nominal_ranks: Vec<u32>,
    failed: Vec<Failure>,
) -> Result<Analysis, Error> {
    let nr = plan.runs.len();
    if let Some(n) = plan.saltelli
        && nr != n * (plan.inputs.len() + 2)
    {
        return Err(Error::Usage(format!(
            "a Saltelli design of N = {n} over {} input(s) has {} runs, not {nr}",
            plan.inputs.len(),
            n * (plan.inputs.len() + 2)
        )));
    }
    let shifts: Vec<f64> = (0..nr)
        .map(|i| {
            let run: Vec<u32> = ranks.slice(ndarray::s![i, .., 0]).to_vec();
            if failed.iter().any(|f| f.run == plan.runs[i].run) {
                f64::NAN
            } else {
                stats::mean_rank_shift(&nominal_ranks, &run)
            }
        })
        .collect();
    // In a Saltelli design only the A and B runs are a sample of the inputs.
    let counted: Vec<usize> = (0..nr)
        .filter(|&i| {
            plan.saltelli.is_none()
                || matches!(plan.runs[i].block, Some(super::Block::A | super::Block::B))
        })
        .collect();
    let rank_stats = (0..panel.units.len())
        .map(|u| stats::rank_stats(nominal_ranks[u], counted.iter().map(|&i| ranks[[i, u, 0]])))
        .collect();
    let sensitivity = plan
        .saltelli
        .map(|n| stats::sensitivity(&shifts, n, &plan.inputs, plan.bootstrap, plan.seed));
    Ok(Analysis {
        period: panel.periods[p].clone(),
        units: panel.units.clone(),
        plan,
        nodes,
        scores,
        ranks,
        nominal_scores,
        nominal_ranks,
        failed,
        rank_stats,
        sensitivity,
        shifts,
    })
}
