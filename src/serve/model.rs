//! The data behind `kapok serve`, read once, and the cheap re-scoring of a [`Query`]: the
//! normalised values of every period are kept per normalisation, so that a change of weights
//! or aggregation only re-aggregates one period (see [`crate::evaluate::Scorer`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use ndarray::Array2;

use super::query::{BadRequest, Query};
use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{self, NormalisedPeriod, Results, Scorer, Status};
use crate::framework::overrides::{MethodKind, Overrides};
use crate::framework::{Framework, Over};
use crate::messages::Warning;

/// Most normalisations whose values are kept at once (each holds every period).
const KEPT_NORMALISATIONS: usize = 16;

/// The framework, its data and the official results, read once when the server starts.
pub struct Model {
    /// The framework as published (official weights and methods).
    pub fw: Framework,
    /// The framework's file, as given on the command line (for exported commands).
    pub path: PathBuf,
    /// The data.
    pub panel: Panel,
    /// Warnings of reading and evaluating the data.
    pub warnings: Vec<Warning>,
    /// The official results of every period.
    pub official: Results,
    /// The normalisation and aggregation choices the page offers.
    pub choices: Choices,
    /// Normalised values of every period, per normalisation given (`None`: the framework's).
    normalised: Mutex<HashMap<Option<String>, Arc<Vec<NormalisedPeriod>>>>,
    /// Per period, the declared uncertainty analysis of the official framework, once run.
    pub(super) intervals: Mutex<HashMap<usize, Once<super::reach::Intervals>>>,
    /// Per period and methods, how far each unit's rank moves within the declared weight
    /// ranges, once searched.
    pub(super) reach: Mutex<ReachCache>,
}

/// A result computed once and shared: concurrent askers wait for the first.
pub(super) type Once<T> = Arc<OnceLock<Result<Arc<T>, String>>>;

/// The kept searches of [`super::reach`]: key = (period, normalize, aggregate).
pub(super) type ReachCache =
    HashMap<(usize, Option<String>, Option<String>), Once<super::reach::Reach>>;

/// The methods a user may choose on the page, each as `--normalize`/`--aggregate` spell it;
/// the framework's own first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Choices {
    /// Normalisations.
    pub normalize: Vec<String>,
    /// Aggregations.
    pub aggregate: Vec<String>,
}

/// A query scored: one period's index scores and ranks under the query's weights and methods.
pub struct Scored {
    /// The query, as read.
    pub query: Query,
    /// The period scored.
    pub period: usize,
    /// The framework with the query's methods and weights.
    pub fw: Framework,
    /// The panel units scored (rows of `scores`).
    pub rows: Vec<usize>,
    /// `scores[[row, node]]` of every node.
    pub scores: Array2<f64>,
    /// Index rank per row (`None`: no rank).
    pub ranks: Vec<Option<u32>>,
}

/// A method as the command line spells it: `"arithmetic"` → `arithmetic`.
pub fn cli_spelling(text: &str) -> String {
    let t = text.trim();
    match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => inner.to_string(),
        _ => t.to_string(),
    }
}

impl Model {
    /// Reads the framework's data, evaluates it as published (every period, so that a data
    /// problem stops the server before it starts), and prepares the normalised values.
    pub fn load(
        fw: Framework,
        path: PathBuf,
        data: Option<&std::path::Path>,
    ) -> Result<Self, Error> {
        let (panel, mut warnings) = crate::read_panel(&fw, data)?;
        let official = evaluate::evaluate(&fw, panel.clone())?;
        warnings.extend(official.warnings());
        let nominal = evaluate::normalised_periods(&fw, panel.clone())?;
        let mut model = Model {
            fw,
            path,
            panel,
            warnings,
            official,
            choices: Choices::default(),
            normalised: Mutex::new(HashMap::from([(None, Arc::new(nominal))])),
            intervals: Mutex::new(HashMap::new()),
            reach: Mutex::new(HashMap::new()),
        };
        model.choices = model.offered();
        Ok(model)
    }

    /// The framework's own method of `kind`, as the command line spells it.
    pub fn official_method(&self, kind: MethodKind) -> String {
        cli_spelling(self.fw.defaults.source.get(kind.name()).map_or_else(
            || crate::framework::methods::builtin_default(kind.name()),
            String::as_str,
        ))
    }

    /// The methods offered: the framework's own, the alternatives its `[uncertainty]` declares,
    /// then common ones; each kept only if every period scores with it.
    fn offered(&self) -> Choices {
        let mut out = Choices::default();
        for (kind, common, list) in [
            (
                MethodKind::Normalize,
                &[
                    "{ method = \"minmax\", range = [0, 100] }",
                    "zscore",
                    "rank",
                ][..],
                &mut out.normalize,
            ),
            (
                MethodKind::Aggregate,
                &["arithmetic", "geometric", "harmonic"][..],
                &mut out.aggregate,
            ),
        ] {
            let declared =
                self.fw
                    .uncertainty
                    .iter()
                    .flat_map(|u| &u.inputs)
                    .flat_map(|i| match &i.kind {
                        crate::framework::uncertainty::InputKind::Method {
                            kind: k,
                            alternatives,
                        } if *k == kind => alternatives.clone(),
                        _ => Vec::new(),
                    });
            let official = self.official_method(kind);
            let mut candidates = vec![official.clone()];
            candidates.extend(declared.map(|t| cli_spelling(&t)));
            candidates.extend(common.iter().map(|s| s.to_string()));
            for c in candidates {
                if list.contains(&c) {
                    continue;
                }
                let mut q = Query::default();
                match kind {
                    MethodKind::Normalize => q.normalize = (c != official).then(|| c.clone()),
                    _ => q.aggregate = (c != official).then(|| c.clone()),
                }
                // A method other than the framework's is scored only if every period scores.
                if self.score(&q).is_ok() {
                    list.push(c);
                }
            }
        }
        out
    }

    /// The period a query names, or the latest.
    pub fn period(&self, q: &Query) -> Result<usize, BadRequest> {
        match &q.period {
            None => Ok(self.panel.periods.len().saturating_sub(1)),
            Some(text) => crate::cli::find_period(&self.panel, "period", text, &self.warnings)
                .map_err(|e| BadRequest::param("period", strip(&e.to_string(), "period ", text))),
        }
    }

    /// The framework with the query's methods and weights, checked as `--normalize`,
    /// `--aggregate` and `--weight` are.
    pub fn framework(&self, q: &Query) -> Result<Framework, BadRequest> {
        let mut fw = self.fw.clone();
        for (kind, given) in [
            (MethodKind::Normalize, &q.normalize),
            (MethodKind::Aggregate, &q.aggregate),
        ] {
            let Some(text) = given else { continue };
            let name = kind.name();
            let o = Overrides {
                methods: vec![(kind, text.clone())],
                ..Overrides::default()
            };
            fw.apply(&o).map_err(|e| {
                BadRequest::param(name, strip(&e.to_string(), &format!("--{name} "), text))
            })?;
            if kind == MethodKind::Normalize && self.reads_new_file(&fw) {
                return Err(BadRequest::param(
                    name,
                    "bounds from a file cannot be asked for: the server reads only the files the framework declares",
                ));
            }
        }
        let mut weights: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
        // Non-zero weights first: a node's last non-zero weight is refused only if it ends so.
        let mut order: Vec<&(String, f64)> = q.weights.iter().collect();
        order.sort_by_key(|(_, w)| *w == 0.0);
        for (id, w) in order {
            let param = format!("w.{id}");
            let i = fw
                .node_named(id)
                .map_err(|m| BadRequest::param(&param, m))?;
            fw.set_weight_in(&mut weights, i, *w)
                .map_err(|m| BadRequest::param(&param, m))?;
        }
        for (node, w) in fw.nodes.iter_mut().zip(weights) {
            node.weight = w;
        }
        Ok(fw)
    }

    /// Whether `fw` normalises some indicator against a bounds file the framework as published
    /// does not name for it (a request may not make the server read a file).
    fn reads_new_file(&self, fw: &Framework) -> bool {
        fw.nodes.iter().zip(&self.fw.nodes).any(|(now, was)| {
            let (Some(a), Some(b)) = (now.indicator(), was.indicator()) else {
                return false;
            };
            let over = fw.normalise_of(a).over;
            matches!(over, Over::Frozen(_)) && over != self.fw.normalise_of(b).over
        })
    }

    /// The normalised values of every period under the query's normalisation.
    fn normalised(
        &self,
        fw: &Framework,
        q: &Query,
    ) -> Result<Arc<Vec<NormalisedPeriod>>, BadRequest> {
        let key = q.normalize.clone();
        if let Some(v) = self.normalised.lock().expect("cache lock").get(&key) {
            return Ok(v.clone());
        }
        let v = evaluate::normalised_periods(fw, self.panel.clone())
            .map_err(|e| BadRequest::param("normalize", e.to_string()))?;
        let v = Arc::new(v);
        let mut cache = self.normalised.lock().expect("cache lock");
        if cache.len() >= KEPT_NORMALISATIONS {
            cache.retain(|k, _| k.is_none());
        }
        cache.insert(key, v.clone());
        Ok(v)
    }

    /// Scores a query: its period re-aggregated with its weights and methods.
    pub fn score(&self, q: &Query) -> Result<Scored, BadRequest> {
        let p = self.period(q)?;
        let fw = self.framework(q)?;
        let all = self.normalised(&fw, q)?;
        let np = &all[p];
        let weights: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
        let scorer = Scorer::new(&fw);
        let fail = |period: usize, rows: &[usize], (node, e)| {
            let e = evaluate::aggregation_error(&fw, &self.panel, rows, period, node, &e);
            let param = if q.aggregate.is_some() {
                "aggregate"
            } else {
                "normalize"
            };
            BadRequest::param(param, e.to_string())
        };
        // Methods other than the framework's are refused, as `kapok score --period P` refuses
        // them, when they cannot score some period: the command line evaluates every period.
        // (The framework's own methods score every period: the model was loaded so.)
        let every_period = q.normalize.is_some() || q.aggregate.is_some();
        let mut scores = None;
        for (o, npo) in all.iter().enumerate() {
            if o == p || every_period {
                let mut s = npo.scores.clone();
                scorer
                    .aggregate(&mut s, &weights)
                    .map_err(|x| fail(o, &npo.rows, x))?;
                if o == p {
                    scores = Some(s);
                }
            }
        }
        let mut scores = scores.expect("the query's period is scored");
        scores.mapv_inplace(crate::format::no_negative_zero);
        let ranks = evaluate::rank_scores(&fw, 0, scores.column(0), &np.ranked);
        Ok(Scored {
            query: q.clone(),
            period: p,
            fw,
            rows: np.rows.clone(),
            scores,
            ranks,
        })
    }

    /// The units present in period `p` best first under `scored` (unranked and screened-out
    /// units last), each with its row in `scored` if it was scored.
    pub fn order(&self, scored: &Scored) -> Vec<(usize, Option<usize>)> {
        let p = scored.period;
        let mut row_of = vec![None; self.panel.units.len()];
        for (k, &u) in scored.rows.iter().enumerate() {
            row_of[u] = Some(k);
        }
        let mut v: Vec<(usize, Option<usize>)> = (0..self.panel.units.len())
            .filter(|&u| self.official.status[[p, u]] != Status::Absent)
            .map(|u| (u, row_of[u]))
            .collect();
        let key = |&(u, k): &(usize, Option<usize>)| {
            let rank = k.and_then(|k| scored.ranks[k]).unwrap_or(0);
            (evaluate::best_first(rank), self.panel.units[u].as_str())
        };
        v.sort_by(|a, b| key(a).cmp(&key(b)));
        v
    }
}

/// An error's message without the option prefix the command line puts before it
/// (`--normalize x: …` → `…`).
fn strip(message: &str, flag: &str, text: &str) -> String {
    let prefix = format!("{flag}{text}: ");
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}
