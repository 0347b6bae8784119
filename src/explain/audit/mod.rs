//! The statistical audit of one period, as COINr offers it (`get_stats`, `get_corr`,
//! `get_cronbach`, `get_PCA`, `remove_elements`).
//!
//! - **Indicators** (by default the values as evaluated from the data, after denominators,
//!   units with a row in the period; or the values after any [`Stage`], from screening on over
//!   the units screening kept): n, missing, availability, min, max, mean, median, sd, type-2 skew and kurtosis, share of
//!   zeros, unique share, and COINr's flags: availability < 0.65, non-zero share < 0.5, unique
//!   share < 0.5, outlier when |skew| > 2 and kurtosis > 3.5.
//! - **Availability** of indicator data per unit and (with groups) per group.
//! - **Correlations** (Pearson and Spearman, pairwise-complete) of every node's score
//!   (normalised values for indicators) with its parent's and with the index; between siblings,
//!   flagging Pearson > 0.9 and < 0. A node where lower is better (`direction = "lower"`) is
//!   correlated with its scores negated, so that a positive correlation always means agreement.
//! - **Aggregates**: Cronbach's alpha and the first principal component (correlation matrix,
//!   loadings summing positive) of every aggregate node's children, over complete rows.
//! - **Weights**: nominal, normalised within the parent, effective.
//! - **Benefit of the doubt**: for a node aggregated by `bod`, each unit's share of every
//!   child in its score under its own most favourable weights (Compind's `ci_bod_constr`
//!   weights).
//! - **Removal**: the mean and largest absolute change of the index rank when a node's weight
//!   is set to 0 and the period is evaluated again.

use ndarray::Array2;

use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{Results, Status};
use crate::framework::{Framework, Lang};
use crate::results::{Stage, node_order};
use crate::stats::correlation::{Variable, correlations};
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
    /// The stage whose values [`Audit::indicators`] describe.
    pub stage: Stage,
    /// Per unit with a row in the period (on the data as read, whatever the stage).
    pub availability: Vec<UnitAvailability>,
    /// Per node other than the index, in output order.
    pub correlations: Vec<NodeCorrelation>,
    /// Per pair of siblings.
    pub siblings: Vec<SiblingPair>,
    /// Per aggregate node, in pre-order.
    pub aggregates: Vec<AggregateStats>,
    /// Effective weight of every node.
    pub effective_weights: Vec<f64>,
    /// Per node other than the index, in output order; empty from [`audit_structure`].
    pub removals: Vec<Removal>,
    /// Per node aggregated by benefit of the doubt, unit with a score and child: the child's
    /// share of the unit's score under the unit's own most favourable weights.
    pub bod_shares: Vec<BodShare>,
}

/// One child's share of a unit's benefit-of-the-doubt score (see [`crate::pipeline::bod`]).
#[derive(Clone, Debug)]
pub struct BodShare {
    /// The node aggregated by `bod`.
    pub node: usize,
    /// Unit (position in the panel).
    pub unit: usize,
    /// The child.
    pub child: usize,
    /// `w_j·x_uj / Σ w·x_u` under the unit's optimal weights.
    pub share: f64,
}

/// The shares of [`Audit::bod_shares`] from the period's scores (`results`, one period).
fn bod_shares(fw: &Framework, results: &Results, units: &[usize]) -> Vec<BodShare> {
    let mut out = Vec::new();
    for node in fw.aggregates_preorder() {
        let crate::pipeline::Aggregate::Bod { lower, upper } =
            fw.aggregate_of(&fw.nodes[node]).method
        else {
            continue;
        };
        let children = &fw.nodes[node].children;
        let m = Array2::from_shape_fn((units.len(), children.len()), |(r, c)| {
            results.scores[[0, units[r], children[c]]]
        });
        let w: Vec<f64> = children.iter().map(|&c| fw.nodes[c].weight).collect();
        // The evaluation has already run this aggregation; it cannot fail here.
        let Ok(b) = crate::pipeline::bod::benefit_of_the_doubt(m.view(), &w, lower, upper) else {
            continue;
        };
        for (r, &unit) in units.iter().enumerate() {
            for (c, &child) in children.iter().enumerate() {
                let share = b.shares[[r, c]];
                if share.is_finite() {
                    out.push(BodShare {
                        node,
                        unit,
                        child,
                        share,
                    });
                }
            }
        }
    }
    out
}

pub(super) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Audits period `p` of `panel` under framework `fw`, the indicator statistics on the data as
/// read ([`Stage::Denominated`]). Returns the audit and the evaluation's warnings for that
/// period.
pub fn audit(fw: &Framework, panel: &Panel, p: usize) -> Result<(Audit, Vec<String>), Error> {
    audit_stage(fw, panel, p, Stage::Denominated, None)
}

/// [`audit`] without [`Audit::removals`], which aggregate the period again once per node: the
/// period's structure (correlations, alpha, PCA, effective weights) for a reader that needs no
/// more, such as the report's "what drives the index" box.
pub fn audit_structure(
    fw: &Framework,
    panel: &Panel,
    p: usize,
) -> Result<(Audit, Vec<String>), Error> {
    audit_with(fw, panel, p, Stage::Denominated, None, false)
}

/// [`audit`] with the indicator statistics on the values after `stage`, over the units that
/// have them (from screening on, the units screening kept). `raw` is the whole panel read
/// without denominators ([`crate::read_raw_panel`]), needed for [`Stage::Raw`] only.
pub fn audit_stage(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    stage: Stage,
    raw: Option<&Panel>,
) -> Result<(Audit, Vec<String>), Error> {
    audit_with(fw, panel, p, stage, raw, true)
}

/// [`audit_stage`], measuring the removals or not.
fn audit_with(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    stage: Stage,
    raw: Option<&Panel>,
    removals: bool,
) -> Result<(Audit, Vec<String>), Error> {
    if p >= panel.periods.len() {
        return Err(Error::Usage(format!("no period number {p} in the data")));
    }
    let one = panel.select_period(p);
    // Scored as in the whole panel: on its bounds when the framework's bounds come from it, with
    // the values panel imputation carries in from other periods.
    let context = crate::evaluate::context(fw, panel, p)?;
    let results = crate::evaluate::evaluate_against(fw, one.clone(), &context)?;
    let warnings: Vec<String> = results.warnings().iter().map(ToString::to_string).collect();
    let units: Vec<usize> = (0..one.units.len())
        .filter(|&u| one.present[[0, u]])
        .collect();
    let nu = units.len();
    let ni = one.indicators.len();
    let indicators = indicator_stats(&results, fw, &units, stage, raw.map(|r| r.select_period(p)))?;

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

    // Oriented so that higher is better: a node where lower is better is negated, and a
    // positive correlation means agreement whichever way its scores run.
    let score = |node: usize| -> Vec<f64> {
        let sign = if fw.nodes[node].lower_is_better {
            -1.0
        } else {
            1.0
        };
        units
            .iter()
            .map(|&u| sign * results.scores[[0, u, node]])
            .collect()
    };
    // Every node's oriented scores, ranked once for Spearman's coefficients of its pairs.
    let variables: Vec<Variable> = (0..fw.nodes.len())
        .map(|node| Variable::new(score(node)))
        .collect();
    let corr = |a: usize, b: usize| correlations(&variables[a], &variables[b]);
    let order = node_order(fw);
    let correlations = order
        .iter()
        .filter_map(|&node| {
            let parent = fw.nodes[node].parent?;
            Some(NodeCorrelation {
                node,
                parent: corr(node, parent),
                index: corr(node, 0),
            })
        })
        .collect();

    let mut siblings = Vec::new();
    let mut aggregates = Vec::new();
    for node in fw.aggregates_preorder() {
        let children = &fw.nodes[node].children;
        for a in 0..children.len() {
            for b in a + 1..children.len() {
                let (pearson, spearman, n) = corr(children[a], children[b]);
                siblings.push(SiblingPair {
                    parent: node,
                    pair: (children[a], children[b]),
                    pearson,
                    spearman,
                    n,
                });
            }
        }
        let m = Array2::from_shape_fn((nu, children.len()), |(r, c)| {
            variables[children[c]].values()[r]
        });
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

    // Removing a node changes weights only: the period is normalised once and aggregated
    // again for each removal, as a robustness run re-weights, not evaluated from the start.
    let removals = if removals {
        let period = crate::evaluate::normalised_period(fw, panel, p)?;
        order
            .iter()
            .filter(|&&node| node != 0)
            .map(|&node| removal(fw, panel, p, &period, &results, &units, node))
            .collect()
    } else {
        Vec::new()
    };

    Ok((
        Audit {
            effective_weights: fw.effective_weights(),
            bod_shares: bod_shares(fw, &results, &units),
            results,
            units,
            indicators,
            stage,
            availability,
            correlations,
            siblings,
            aggregates,
            removals,
        },
        warnings,
    ))
}

/// Statistics of every indicator's values after `stage` over the units of `units` that have
/// them; `raw` is the period's panel read without denominators (for [`Stage::Raw`]).
fn indicator_stats(
    results: &Results,
    fw: &Framework,
    units: &[usize],
    stage: Stage,
    raw: Option<Panel>,
) -> Result<Vec<IndicatorStats>, Error> {
    let values = results.stage_values(fw, stage, raw.as_ref())?;
    let units: Vec<usize> = units
        .iter()
        .copied()
        .filter(|&u| results.in_stage(stage, 0, u))
        .collect();
    let nu = units.len();
    Ok(results
        .panel
        .indicators
        .iter()
        .enumerate()
        .map(|(j, &node)| {
            let col = Results::stage_column(stage, j, node);
            let x: Vec<f64> = units.iter().map(|&u| values[[0, u, col]]).collect();
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
        .collect())
}

/// The index's rank changes when `node` is removed: its weight 0 under every parent, `period`
/// (period `p` of `panel`, normalised) aggregated again; `nominal` holds the ranks with it.
fn removal(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    period: &crate::evaluate::NormalisedPeriod,
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
    // Removed from every parent it has: a shared node counts under each.
    for (parent, _) in fw.parents_of(node) {
        let siblings = &fw.nodes[parent].children;
        let pid = &fw.nodes[parent].id;
        if fw.nodes[parent].formula().is_some() {
            return skip(format!(
                "used by the formula of `{pid}`: without it the formula has no meaning"
            ));
        }
        if siblings.len() < 2 {
            return skip(format!(
                "only child of `{pid}`: removing it would leave `{pid}` empty"
            ));
        }
        if siblings
            .iter()
            .all(|&c| c == node || fw.nodes[c].weight_under(parent, fw.nodes[c].weight) == 0.0)
        {
            return skip(format!(
                "the other children of `{pid}` all have weight 0: removing it would leave `{pid}` empty"
            ));
        }
    }
    let mut changed = fw.clone();
    changed.nodes[node].weight = 0.0;
    for e in &mut changed.nodes[node].shared {
        e.weight = 0.0;
    }
    let note = fw
        .parents_of(node)
        .iter()
        .all(|&(_, w)| w == 0.0)
        .then(|| "weight is already 0".to_string());
    let mut s = period.scores.clone();
    let weights: Vec<f64> = changed.nodes.iter().map(|n| n.weight).collect();
    if let Err((at, e)) = crate::evaluate::Scorer::new(&changed).aggregate(&mut s, &weights) {
        let e = crate::evaluate::aggregation_error(&changed, panel, &period.rows, p, at, &e);
        return skip(format!("evaluation without it failed: {e}"));
    }
    let mut ranks = vec![0u32; panel.units.len()];
    let index = crate::evaluate::rank_scores(&changed, 0, s.column(0), &period.ranked);
    for (&u, r) in period.rows.iter().zip(index) {
        ranks[u] = r.unwrap_or(0);
    }
    let diffs: Vec<u32> = units
        .iter()
        .filter_map(|&u| {
            let (a, b) = (nominal.rank(0, u, 0), ranks[u]);
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

mod tables;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Text;
    use ndarray::Axis;

    #[test]
    fn period_panel_keeps_one_period() {
        let panel = Panel {
            units: vec!["a".into(), "b".into()],
            names: vec![Text::same("A"), Text::same("B")],
            groups: None,
            group_names: None,
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
