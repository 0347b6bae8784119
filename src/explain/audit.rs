//! The statistical audit of one period, as COINr offers it (`get_stats`, `get_corr`,
//! `get_cronbach`, `get_PCA`, `remove_elements`).
//!
//! - **Indicators** (raw values as evaluated from the data, units with a row in the period):
//!   n, missing, availability, min, max, mean, median, sd, type-2 skew and kurtosis, share of
//!   zeros, unique share, and COINr's flags: availability < 0.65, non-zero share < 0.5, unique
//!   share < 0.5, outlier when |skew| > 2 and kurtosis > 3.5.
//! - **Availability** of indicator data per unit and (with groups) per group.
//! - **Correlations** (Pearson and Spearman, pairwise-complete) of every node's score
//!   (normalised values for indicators) with its parent's and with the index; between siblings,
//!   flagging Pearson > 0.9 and < 0.
//! - **Aggregates**: Cronbach's alpha and the first principal component (correlation matrix,
//!   loadings summing positive) of every aggregate node's children, over complete rows.
//! - **Weights**: nominal, normalised within the parent, effective.
//! - **Removal**: the mean and largest absolute change of the index rank when a node's weight
//!   is set to 0 and the period is evaluated again.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use ndarray::Array2;

use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{Results, Status, evaluate};
use crate::framework::{Framework, Lang};
use crate::results::node_order;
use crate::stats::{self, Pca};

/// Availability below which an indicator or unit is flagged (COINr `t_avail`).
pub const AVAILABILITY_MIN: f64 = 0.65;
/// Share of non-zero values below which an indicator is flagged (COINr `t_zero`).
pub const NONZERO_MIN: f64 = 0.5;
/// Unique share below which an indicator is flagged (COINr `t_unq`).
pub const UNIQUE_MIN: f64 = 0.5;
/// |Skewness| above which (with kurtosis above [`KURT_MAX`]) an indicator is an outlier.
pub const SKEW_MAX: f64 = 2.0;
/// Kurtosis above which (with |skewness| above [`SKEW_MAX`]) an indicator is an outlier.
pub const KURT_MAX: f64 = 3.5;
/// Pearson correlation above which a pair of siblings is flagged as redundant.
pub const HIGH_CORRELATION: f64 = 0.9;

/// Statistics of one indicator's raw values.
#[derive(Clone, Debug)]
pub struct IndicatorStats {
    /// Indicator node.
    pub node: usize,
    /// Present values.
    pub n: usize,
    /// Units of the period without a value.
    pub missing: usize,
    /// `n / units`.
    pub availability: Option<f64>,
    /// Minimum, maximum, mean, median, sd, skew, kurt (in this order).
    pub describe: [Option<f64>; 7],
    /// Share of present values equal to 0.
    pub zero_share: Option<f64>,
    /// Distinct present values / n.
    pub unique_share: Option<f64>,
    /// Flags: low availability, mostly zeros, few unique values, outlier.
    pub flags: [bool; 4],
}

/// Names of [`IndicatorStats::flags`], for tables and the summary.
pub const FLAG_NAMES: [&str; 4] = [
    "flag_availability",
    "flag_zeros",
    "flag_unique",
    "flag_outlier",
];

/// Indicator data availability of one unit.
#[derive(Clone, Debug)]
pub struct UnitAvailability {
    /// Unit (position in the panel).
    pub unit: usize,
    /// Why the unit has, or has no, score.
    pub status: Status,
    /// Indicators with a value.
    pub present: usize,
    /// `present / indicators`.
    pub availability: f64,
}

/// Correlations of a node with its parent and with the index.
#[derive(Clone, Debug)]
pub struct NodeCorrelation {
    /// Node (not the index).
    pub node: usize,
    /// Pearson, Spearman and complete pairs with the parent.
    pub parent: (Option<f64>, Option<f64>, usize),
    /// Pearson, Spearman and complete pairs with the index.
    pub index: (Option<f64>, Option<f64>, usize),
}

/// Correlation of two children of the same node.
#[derive(Clone, Debug)]
pub struct SiblingPair {
    /// The common parent.
    pub parent: usize,
    /// The two children, in file order.
    pub pair: (usize, usize),
    /// Pearson correlation.
    pub pearson: Option<f64>,
    /// Spearman correlation.
    pub spearman: Option<f64>,
    /// Complete pairs.
    pub n: usize,
}

/// Reliability and first principal component of an aggregate node's children.
#[derive(Clone, Debug)]
pub struct AggregateStats {
    /// Aggregate node.
    pub node: usize,
    /// Units with every child present.
    pub complete: usize,
    /// Cronbach's alpha.
    pub alpha: Option<f64>,
    /// First principal component.
    pub pca: Option<Pca>,
    /// Why a statistic is missing.
    pub note: Option<String>,
}

/// Effect on the index ranks of removing one node.
#[derive(Clone, Debug)]
pub struct Removal {
    /// The removed node.
    pub node: usize,
    /// Mean |rank change| of the index over units ranked both times.
    pub mean_abs_change: Option<f64>,
    /// Largest |rank change|.
    pub max_abs_change: Option<u32>,
    /// Units ranked both times.
    pub units: usize,
    /// Why the removal was skipped, or what to know about it.
    pub note: Option<String>,
}

/// The audit of one period.
#[derive(Clone, Debug)]
pub struct Audit {
    /// The evaluated period alone (the panel holds that one period).
    pub results: Results,
    /// Units with a row in the period.
    pub units: Vec<usize>,
    /// Per indicator, in panel column order.
    pub indicators: Vec<IndicatorStats>,
    /// Per unit with a row in the period.
    pub availability: Vec<UnitAvailability>,
    /// Per node other than the index, in output order.
    pub correlations: Vec<NodeCorrelation>,
    /// Per pair of siblings.
    pub siblings: Vec<SiblingPair>,
    /// Per aggregate node, in pre-order.
    pub aggregates: Vec<AggregateStats>,
    /// Effective weight of every node.
    pub effective_weights: Vec<f64>,
    /// Per node other than the index, in output order.
    pub removals: Vec<Removal>,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Audits period `p` of `panel` under framework `fw`. Returns the audit and the evaluation's
/// warnings for that period.
pub fn audit(fw: &Framework, panel: &Panel, p: usize) -> Result<(Audit, Vec<String>), Error> {
    if p >= panel.periods.len() {
        return Err(Error::Usage(format!("no period number {p} in the data")));
    }
    let one = panel.select_period(p);
    let results = evaluate(fw, one.clone())?;
    let warnings = results.warnings();
    let units: Vec<usize> = (0..one.units.len())
        .filter(|&u| one.present[[0, u]])
        .collect();
    let nu = units.len();
    let ni = one.indicators.len();

    let indicators = one
        .indicators
        .iter()
        .enumerate()
        .map(|(j, &node)| {
            let x: Vec<f64> = units.iter().map(|&u| one.values[[0, u, j]]).collect();
            let n = x.iter().filter(|v| !v.is_nan()).count();
            let (min, max) = stats::min_max(&x).unzip();
            let describe = [
                min,
                max,
                stats::mean(&x),
                stats::median(&x),
                stats::sd(&x),
                stats::skew(&x),
                stats::kurt(&x),
            ]
            .map(finite);
            let availability = (nu > 0).then(|| n as f64 / nu as f64);
            let zero_share = stats::zero_share(&x);
            let unique_share = stats::unique_share(&x);
            let flags = [
                availability.is_some_and(|a| a < AVAILABILITY_MIN),
                zero_share.is_some_and(|z| 1.0 - z < NONZERO_MIN),
                unique_share.is_some_and(|u| u < UNIQUE_MIN),
                matches!((describe[5], describe[6]), (Some(sk), Some(ku)) if sk.abs() > SKEW_MAX && ku > KURT_MAX),
            ];
            IndicatorStats {
                node,
                n,
                missing: nu - n,
                availability,
                describe,
                zero_share,
                unique_share,
                flags,
            }
        })
        .collect();

    let availability = units
        .iter()
        .map(|&u| {
            let present = (0..ni).filter(|&j| !one.values[[0, u, j]].is_nan()).count();
            UnitAvailability {
                unit: u,
                status: results.status[[0, u]],
                present,
                availability: if ni > 0 {
                    present as f64 / ni as f64
                } else {
                    0.0
                },
            }
        })
        .collect();

    let score = |node: usize| -> Vec<f64> {
        units
            .iter()
            .map(|&u| results.scores[[0, u, node]])
            .collect()
    };
    let corr = |a: &[f64], b: &[f64]| {
        let n = stats::correlation::complete_pairs(a, b).0.len();
        (stats::pearson(a, b), stats::spearman(a, b), n)
    };
    let index_scores = score(0);
    let order = node_order(fw);
    let correlations = order
        .iter()
        .filter_map(|&node| {
            let parent = fw.nodes[node].parent?;
            let x = score(node);
            Some(NodeCorrelation {
                node,
                parent: corr(&x, &score(parent)),
                index: corr(&x, &index_scores),
            })
        })
        .collect();

    let mut siblings = Vec::new();
    let mut aggregates = Vec::new();
    for node in fw.aggregates_preorder() {
        let children = &fw.nodes[node].children;
        let cols: Vec<Vec<f64>> = children.iter().map(|&c| score(c)).collect();
        for a in 0..children.len() {
            for b in a + 1..children.len() {
                let (pearson, spearman, n) = corr(&cols[a], &cols[b]);
                siblings.push(SiblingPair {
                    parent: node,
                    pair: (children[a], children[b]),
                    pearson,
                    spearman,
                    n,
                });
            }
        }
        let m = Array2::from_shape_fn((nu, children.len()), |(r, c)| cols[c][r]);
        let complete = stats::complete_rows(m.view()).nrows();
        let (alpha, pca, note) = if children.len() < 2 {
            (
                None,
                None,
                Some(format!(
                    "`{}` has {} child; alpha and PCA need at least 2",
                    fw.nodes[node].id,
                    children.len()
                )),
            )
        } else {
            let alpha = stats::cronbach_alpha(m.view()).filter(|a| a.is_finite());
            let pca = stats::first_component(m.view());
            let note = (alpha.is_none() || pca.is_none()).then(|| {
                format!(
                    "{} complete unit(s); alpha needs 2 and a non-zero total variance, PCA needs 3 and no constant child",
                    complete
                )
            });
            (alpha, pca, note)
        };
        aggregates.push(AggregateStats {
            node,
            complete,
            alpha,
            pca,
            note,
        });
    }

    let removals = order
        .iter()
        .filter(|&&node| node != 0)
        .map(|&node| removal(fw, &one, &results, &units, node))
        .collect();

    Ok((
        Audit {
            effective_weights: fw.effective_weights(),
            results,
            units,
            indicators,
            availability,
            correlations,
            siblings,
            aggregates,
            removals,
        },
        warnings,
    ))
}

fn removal(
    fw: &Framework,
    one: &Panel,
    nominal: &Results,
    units: &[usize],
    node: usize,
) -> Removal {
    let skip = |note: String| Removal {
        node,
        mean_abs_change: None,
        max_abs_change: None,
        units: 0,
        note: Some(note),
    };
    let parent = fw.nodes[node].parent.unwrap_or(0);
    let siblings = &fw.nodes[parent].children;
    let pid = &fw.nodes[parent].id;
    if siblings.len() < 2 {
        return skip(format!(
            "only child of `{pid}`: removing it would leave `{pid}` empty"
        ));
    }
    if siblings
        .iter()
        .all(|&c| c == node || fw.nodes[c].weight == 0.0)
    {
        return skip(format!(
            "the other children of `{pid}` all have weight 0: removing it would leave `{pid}` empty"
        ));
    }
    let mut changed = fw.clone();
    changed.nodes[node].weight = 0.0;
    let note = (fw.nodes[node].weight == 0.0).then(|| "weight is already 0".to_string());
    let r = match evaluate(&changed, one.clone()) {
        Ok(r) => r,
        Err(e) => return skip(format!("evaluation without it failed: {e}")),
    };
    let diffs: Vec<u32> = units
        .iter()
        .filter_map(|&u| {
            let (a, b) = (nominal.ranks[[0, u, 0]], r.ranks[[0, u, 0]]);
            (a > 0 && b > 0).then(|| a.abs_diff(b))
        })
        .collect();
    if diffs.is_empty() {
        return skip("no unit has an index rank both with and without it".into());
    }
    Removal {
        node,
        mean_abs_change: Some(diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64),
        max_abs_change: diffs.iter().copied().max(),
        units: diffs.len(),
        note,
    }
}

/// Builds an Arrow table column by column.
#[derive(Default)]
struct Table {
    fields: Vec<Field>,
    cols: Vec<ArrayRef>,
}

impl Table {
    fn text(mut self, name: &str, v: impl IntoIterator<Item = Option<String>>) -> Self {
        self.fields.push(Field::new(name, DataType::Utf8, true));
        self.cols
            .push(Arc::new(v.into_iter().collect::<StringArray>()));
        self
    }
    fn num(mut self, name: &str, v: impl IntoIterator<Item = Option<f64>>) -> Self {
        self.fields.push(Field::new(name, DataType::Float64, true));
        self.cols.push(Arc::new(
            v.into_iter().map(finite).collect::<Float64Array>(),
        ));
        self
    }
    fn int(mut self, name: &str, v: impl IntoIterator<Item = Option<u32>>) -> Self {
        self.fields.push(Field::new(name, DataType::UInt32, true));
        self.cols
            .push(Arc::new(v.into_iter().collect::<UInt32Array>()));
        self
    }
    fn flag(mut self, name: &str, v: impl IntoIterator<Item = Option<bool>>) -> Self {
        self.fields.push(Field::new(name, DataType::Boolean, true));
        self.cols
            .push(Arc::new(v.into_iter().collect::<BooleanArray>()));
        self
    }
    fn build(self, what: &str) -> Result<RecordBatch, Error> {
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.cols)
            .map_err(|e| Error::Data(format!("building the audit table `{what}`: {e}")))
    }
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Scored => "scored",
        Status::Absent => "absent",
        Status::Screened => "screened",
        Status::Missing => "no index score",
    }
}

fn kind(fw: &Framework, node: usize) -> &'static str {
    if node == 0 {
        "index"
    } else if fw.nodes[node].indicator().is_some() {
        "indicator"
    } else {
        "dimension"
    }
}

impl Audit {
    /// The period's name (empty for a framework without periods).
    pub fn period(&self) -> &str {
        &self.results.panel.periods[0]
    }

    /// Every table of the audit, in a fixed order, with its name: `about`, `indicators`,
    /// `availability_units`, `availability_groups` (with groups), `correlations`,
    /// `sibling_correlations`, `aggregates`, `pca_loadings`, `weights`, `removal`.
    /// Undefined values are empty (null) cells.
    pub fn tables(
        &self,
        fw: &Framework,
        lang: Lang,
    ) -> Result<Vec<(&'static str, RecordBatch)>, Error> {
        let id = |n: usize| Some(fw.nodes[n].id.clone());
        let name = |n: usize| Some(fw.nodes[n].name.get(lang).to_string());
        let parent_id = |n: usize| fw.nodes[n].parent.map(|p| fw.nodes[p].id.clone());
        let panel = &self.results.panel;
        let mut out = Vec::new();

        let about: Vec<(&str, String)> = vec![
            ("framework", fw.index().id.clone()),
            ("period", self.period().to_string()),
            ("units", self.units.len().to_string()),
            ("indicators", panel.indicators.len().to_string()),
            (
                "raw values",
                "indicator statistics use the raw values as evaluated from the data, before imputation and treatment, over the units with a row in the period".into(),
            ),
            (
                "scores",
                "correlations, alpha and PCA use node scores: normalised values for indicators, aggregated scores for the index and dimensions".into(),
            ),
            (
                "missing values",
                "correlations use pairwise-complete units; Cronbach's alpha and PCA use complete units (every child present)".into(),
            ),
            (
                "flags",
                format!("availability < {AVAILABILITY_MIN}; non-zero share < {NONZERO_MIN}; unique share < {UNIQUE_MIN}; outlier if |skew| > {SKEW_MAX} and kurtosis > {KURT_MAX} (type-2 estimators); sibling pairs with Pearson > {HIGH_CORRELATION} or < 0"),
            ),
            (
                "alpha",
                "Cronbach's alpha = k² · mean(off-diagonal covariance) / Σ covariance = k/(k−1) · (1 − Σσᵢ²/σ²_total)".into(),
            ),
            (
                "pca",
                "first principal component of the children's correlation matrix; loadings = unit-length eigenvector, signed so that they sum to a positive number (else the first non-zero loading is positive); variance share = λ₁ / k".into(),
            ),
            (
                "removal",
                "the node's weight is set to 0 and the period evaluated again; rank change = |index rank − nominal index rank| over units ranked both times".into(),
            ),
        ];
        out.push((
            "about",
            Table::default()
                .text("key", about.iter().map(|(k, _)| Some(k.to_string())))
                .text("value", about.iter().map(|(_, v)| Some(v.clone())))
                .build("about")?,
        ));

        let ind = &self.indicators;
        let mut t = Table::default()
            .text("id", ind.iter().map(|s| id(s.node)))
            .text("name", ind.iter().map(|s| name(s.node)))
            .text("parent", ind.iter().map(|s| parent_id(s.node)))
            .int("n", ind.iter().map(|s| Some(s.n as u32)))
            .int("missing", ind.iter().map(|s| Some(s.missing as u32)))
            .num("availability", ind.iter().map(|s| s.availability));
        for (k, col) in ["min", "max", "mean", "median", "sd", "skew", "kurt"]
            .iter()
            .enumerate()
        {
            t = t.num(col, ind.iter().map(|s| s.describe[k]));
        }
        t = t
            .num("zero_share", ind.iter().map(|s| s.zero_share))
            .num("unique_share", ind.iter().map(|s| s.unique_share));
        for (k, col) in FLAG_NAMES.iter().enumerate() {
            t = t.flag(col, ind.iter().map(|s| Some(s.flags[k])));
        }
        out.push(("indicators", t.build("indicators")?));

        let av = &self.availability;
        let mut t = Table::default()
            .text("unit", av.iter().map(|a| Some(panel.units[a.unit].clone())))
            .text("name", av.iter().map(|a| Some(panel.names[a.unit].clone())));
        if let Some(g) = &panel.groups {
            t = t.text("group", av.iter().map(|a| Some(g[a.unit].clone())));
        }
        t = t
            .text(
                "status",
                av.iter().map(|a| Some(status_text(a.status).into())),
            )
            .int(
                "indicators_present",
                av.iter().map(|a| Some(a.present as u32)),
            )
            .num("availability", av.iter().map(|a| Some(a.availability)))
            .flag(
                "flag_availability",
                av.iter().map(|a| Some(a.availability < AVAILABILITY_MIN)),
            );
        out.push(("availability_units", t.build("availability_units")?));

        if let Some(groups) = self.group_availability() {
            out.push((
                "availability_groups",
                Table::default()
                    .text("group", groups.iter().map(|g| Some(g.0.clone())))
                    .int("units", groups.iter().map(|g| Some(g.1 as u32)))
                    .num("mean_availability", groups.iter().map(|g| Some(g.2)))
                    .num("min_availability", groups.iter().map(|g| Some(g.3)))
                    .build("availability_groups")?,
            ));
        }

        let c = &self.correlations;
        out.push((
            "correlations",
            Table::default()
                .text("id", c.iter().map(|r| id(r.node)))
                .text("kind", c.iter().map(|r| Some(kind(fw, r.node).into())))
                .text("parent", c.iter().map(|r| parent_id(r.node)))
                .num("pearson_parent", c.iter().map(|r| r.parent.0))
                .num("spearman_parent", c.iter().map(|r| r.parent.1))
                .int("n_parent", c.iter().map(|r| Some(r.parent.2 as u32)))
                .num("pearson_index", c.iter().map(|r| r.index.0))
                .num("spearman_index", c.iter().map(|r| r.index.1))
                .int("n_index", c.iter().map(|r| Some(r.index.2 as u32)))
                .build("correlations")?,
        ));

        let sp = &self.siblings;
        out.push((
            "sibling_correlations",
            Table::default()
                .text("parent", sp.iter().map(|r| id(r.parent)))
                .text("a", sp.iter().map(|r| id(r.pair.0)))
                .text("b", sp.iter().map(|r| id(r.pair.1)))
                .num("pearson", sp.iter().map(|r| r.pearson))
                .num("spearman", sp.iter().map(|r| r.spearman))
                .int("n", sp.iter().map(|r| Some(r.n as u32)))
                .flag(
                    "flag_high",
                    sp.iter().map(|r| r.pearson.map(|v| v > HIGH_CORRELATION)),
                )
                .flag(
                    "flag_negative",
                    sp.iter().map(|r| r.pearson.map(|v| v < 0.0)),
                )
                .build("sibling_correlations")?,
        ));

        let ag = &self.aggregates;
        out.push((
            "aggregates",
            Table::default()
                .text("id", ag.iter().map(|a| id(a.node)))
                .text("name", ag.iter().map(|a| name(a.node)))
                .int(
                    "children",
                    ag.iter()
                        .map(|a| Some(fw.nodes[a.node].children.len() as u32)),
                )
                .int("complete_units", ag.iter().map(|a| Some(a.complete as u32)))
                .num("cronbach_alpha", ag.iter().map(|a| a.alpha))
                .num(
                    "pc1_eigenvalue",
                    ag.iter().map(|a| a.pca.as_ref().map(|p| p.eigenvalue)),
                )
                .num(
                    "pc1_variance_share",
                    ag.iter().map(|a| a.pca.as_ref().map(|p| p.variance_share)),
                )
                .text("note", ag.iter().map(|a| a.note.clone()))
                .build("aggregates")?,
        ));

        let loadings: Vec<(usize, usize, f64)> = ag
            .iter()
            .filter_map(|a| a.pca.as_ref().map(|p| (a.node, p)))
            .flat_map(|(node, p)| {
                fw.nodes[node]
                    .children
                    .iter()
                    .zip(&p.loadings)
                    .map(move |(&c, &l)| (node, c, l))
            })
            .collect();
        out.push((
            "pca_loadings",
            Table::default()
                .text("parent", loadings.iter().map(|l| id(l.0)))
                .text("id", loadings.iter().map(|l| id(l.1)))
                .num("loading", loadings.iter().map(|l| Some(l.2)))
                .build("pca_loadings")?,
        ));

        let order = node_order(fw);
        let in_parent = |n: usize| {
            let p = fw.nodes[n].parent?;
            let total: f64 = fw.nodes[p]
                .children
                .iter()
                .map(|&c| fw.nodes[c].weight)
                .sum();
            (total > 0.0).then(|| fw.nodes[n].weight / total)
        };
        out.push((
            "weights",
            Table::default()
                .text("id", order.iter().map(|&n| id(n)))
                .text("kind", order.iter().map(|&n| Some(kind(fw, n).into())))
                .text("parent", order.iter().map(|&n| parent_id(n)))
                .num(
                    "weight",
                    order
                        .iter()
                        .map(|&n| fw.nodes[n].parent.map(|_| fw.nodes[n].weight)),
                )
                .num("weight_in_parent", order.iter().map(|&n| in_parent(n)))
                .num(
                    "effective_weight",
                    order.iter().map(|&n| Some(self.effective_weights[n])),
                )
                .build("weights")?,
        ));

        let rm = &self.removals;
        out.push((
            "removal",
            Table::default()
                .text("id", rm.iter().map(|r| id(r.node)))
                .text("kind", rm.iter().map(|r| Some(kind(fw, r.node).into())))
                .text("parent", rm.iter().map(|r| parent_id(r.node)))
                .num("mean_abs_rank_change", rm.iter().map(|r| r.mean_abs_change))
                .int("max_abs_rank_change", rm.iter().map(|r| r.max_abs_change))
                .int("units", rm.iter().map(|r| Some(r.units as u32)))
                .text("note", rm.iter().map(|r| r.note.clone()))
                .build("removal")?,
        ));
        Ok(out)
    }

    /// Per group (sorted): name, units, mean and minimum availability; `None` without groups.
    pub fn group_availability(&self) -> Option<Vec<(String, usize, f64, f64)>> {
        let groups = self.results.panel.groups.as_ref()?;
        let mut names: Vec<&String> = self.availability.iter().map(|a| &groups[a.unit]).collect();
        names.sort();
        names.dedup();
        Some(
            names
                .into_iter()
                .map(|g| {
                    let v: Vec<f64> = self
                        .availability
                        .iter()
                        .filter(|a| &groups[a.unit] == g)
                        .map(|a| a.availability)
                        .collect();
                    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                    (
                        g.clone(),
                        v.len(),
                        v.iter().sum::<f64>() / v.len() as f64,
                        min,
                    )
                })
                .collect(),
        )
    }

    /// A readable summary for the terminal: flags, notable correlations, alpha and PCA per
    /// node, and the nodes whose removal moves the index ranks most.
    pub fn summary(&self, fw: &Framework, lang: Lang) -> String {
        use std::fmt::Write;
        let f = |v: Option<f64>| v.map_or("–".to_string(), |x| format!("{x:.2}"));
        let id = |n: usize| fw.nodes[n].id.as_str();
        let name = |n: usize| fw.nodes[n].name.get(lang);
        let w = fw
            .nodes
            .iter()
            .map(|n| n.id.chars().count())
            .max()
            .unwrap_or(8);
        let mut t = String::new();
        let period = if self.period().is_empty() {
            String::new()
        } else {
            format!(" — period {}", self.period())
        };
        let dims = fw.aggregates_preorder().len() - 1;
        let _ = writeln!(
            t,
            "Audit of {} ({}){period}: {} units, {} indicators, {} dimension(s)",
            name(0),
            id(0),
            self.units.len(),
            self.indicators.len(),
            dims
        );

        let _ = writeln!(
            t,
            "\nIndicator flags (availability < {AVAILABILITY_MIN}, non-zero share < {NONZERO_MIN}, unique share < {UNIQUE_MIN}, outlier: |skew| > {SKEW_MAX} and kurtosis > {KURT_MAX}):"
        );
        let flagged: Vec<&IndicatorStats> = self
            .indicators
            .iter()
            .filter(|s| s.flags.iter().any(|&f| f))
            .collect();
        if flagged.is_empty() {
            let _ = writeln!(t, "  none");
        }
        for s in flagged {
            let mut what = Vec::new();
            if s.flags[0] {
                what.push(format!("availability {}", f(s.availability)));
            }
            if s.flags[1] {
                what.push(format!("zero share {}", f(s.zero_share)));
            }
            if s.flags[2] {
                what.push(format!("unique share {}", f(s.unique_share)));
            }
            if s.flags[3] {
                what.push(format!(
                    "outlier (skew {}, kurtosis {})",
                    f(s.describe[5]),
                    f(s.describe[6])
                ));
            }
            let _ = writeln!(
                t,
                "  {:<24} {}  {}",
                id(s.node),
                what.join("; "),
                name(s.node)
            );
        }

        let high: Vec<&SiblingPair> = self
            .siblings
            .iter()
            .filter(|p| p.pearson.is_some_and(|v| v > HIGH_CORRELATION))
            .collect();
        let mut negative: Vec<&SiblingPair> = self
            .siblings
            .iter()
            .filter(|p| p.pearson.is_some_and(|v| v < 0.0))
            .collect();
        negative.sort_by(|a, b| {
            a.pearson
                .unwrap_or(0.0)
                .total_cmp(&b.pearson.unwrap_or(0.0))
        });
        let pair_line = |t: &mut String, p: &SiblingPair| {
            let _ = writeln!(
                t,
                "  {:<w$} {:<w$} {:<w$} pearson {:>5}  spearman {:>5}",
                id(p.parent),
                id(p.pair.0),
                id(p.pair.1),
                f(p.pearson),
                f(p.spearman)
            );
        };
        let _ = writeln!(
            t,
            "\nSibling pairs with Pearson > {HIGH_CORRELATION} ({} of {}):",
            high.len(),
            self.siblings.len()
        );
        for p in &high {
            pair_line(&mut t, p);
        }
        let _ = writeln!(
            t,
            "\nNegatively correlated sibling pairs ({}){}:",
            negative.len(),
            if negative.len() > 8 {
                ", 8 most negative"
            } else {
                ""
            }
        );
        for p in negative.iter().take(8) {
            pair_line(&mut t, p);
        }

        let mut weakest: Vec<&NodeCorrelation> = self
            .correlations
            .iter()
            .filter(|c| c.parent.0.is_some())
            .collect();
        weakest.sort_by(|a, b| {
            a.parent
                .0
                .unwrap_or(0.0)
                .total_cmp(&b.parent.0.unwrap_or(0.0))
        });
        let _ = writeln!(
            t,
            "\nWeakest correlations with the parent (Pearson, 5 lowest):"
        );
        for c in weakest.iter().take(5) {
            let parent = fw.nodes[c.node].parent.unwrap_or(0);
            let _ = writeln!(
                t,
                "  {:<w$} with {:<w$} pearson {:>5}  spearman {:>5}  with the index {:>5}",
                id(c.node),
                id(parent),
                f(c.parent.0),
                f(c.parent.1),
                f(c.index.0)
            );
        }

        let _ = writeln!(
            t,
            "\nAggregates (children's scores, complete units): Cronbach's alpha, first principal component"
        );
        let _ = writeln!(
            t,
            "  {:<w$} {:>8} {:>8} {:>6} {:>10}  largest loading",
            "node", "children", "complete", "alpha", "PC1 share"
        );
        for a in &self.aggregates {
            let top = a.pca.as_ref().and_then(|p| {
                let children = &fw.nodes[a.node].children;
                p.loadings
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
                    .map(|(k, l)| format!("{} {l:.2}", id(children[k])))
            });
            let _ = writeln!(
                t,
                "  {:<w$} {:>8} {:>8} {:>6} {:>10}  {}",
                id(a.node),
                fw.nodes[a.node].children.len(),
                a.complete,
                f(a.alpha),
                f(a.pca.as_ref().map(|p| p.variance_share)),
                top.or(a.note.clone()).unwrap_or_default()
            );
        }

        let mut movers: Vec<&Removal> = self
            .removals
            .iter()
            .filter(|r| r.mean_abs_change.is_some())
            .collect();
        movers.sort_by(|a, b| {
            b.mean_abs_change
                .unwrap_or(0.0)
                .total_cmp(&a.mean_abs_change.unwrap_or(0.0))
        });
        let _ = writeln!(
            t,
            "\nBiggest rank movers: mean |change of index rank| when the node is removed (weight 0), 8 largest"
        );
        for r in movers.iter().take(8) {
            let _ = writeln!(
                t,
                "  {:<w$} {:<10} mean {:>5}  max {:>3}  {}",
                id(r.node),
                kind(fw, r.node),
                f(r.mean_abs_change),
                r.max_abs_change.map_or("–".into(), |m| m.to_string()),
                name(r.node)
            );
        }
        let skipped: Vec<&Removal> = self
            .removals
            .iter()
            .filter(|r| r.mean_abs_change.is_none())
            .collect();
        for r in skipped {
            let _ = writeln!(
                t,
                "  {:<w$} skipped: {}",
                id(r.node),
                r.note.as_deref().unwrap_or("")
            );
        }
        let _ = writeln!(
            t,
            "\nMissing values: correlations are pairwise-complete; alpha and PCA use complete units. PCA loadings are signed to sum positive."
        );
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Axis;

    #[test]
    fn period_panel_keeps_one_period() {
        let panel = Panel {
            units: vec!["a".into(), "b".into()],
            names: vec!["A".into(), "B".into()],
            groups: None,
            periods: vec!["p1".into(), "p2".into()],
            indicators: vec![1],
            values: ndarray::Array3::from_shape_vec((2, 2, 1), vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
            present: ndarray::Array2::from_elem((2, 2), true),
            ranked: None,
        };
        let one = panel.select_period(1);
        assert_eq!(one.periods, vec!["p2".to_string()]);
        assert_eq!(
            one.values.index_axis(Axis(0), 0).column(0).to_vec(),
            vec![3.0, 4.0]
        );
    }
}
