//! Robustness in the report: when the framework declares `[uncertainty]` (or with
//! `kapok report --robustness`), the report runs an uncertainty analysis of the reported
//! period ([`crate::robustness::design::plain`]) for each unit's rank interval, and, with two
//! or more inputs, a Saltelli design of base size [`SALTELLI_N`] for the sensitivity chart.
//! Without a declaration, `--robustness` varies the weights of the index's children by
//! ±[`ASSUMED_NOISE`] over [`DEFAULT_RUNS`] runs with seed [`DEFAULT_SEED`], and the report
//! says so.
//!
//! [`groups`] turns rank intervals into the plain sentence of the ranking section: units are
//! taken in nominal order, and two ranks are "not stable" when some unit at or above the first
//! and some unit at or below the second have overlapping 5–95 % intervals.

use crate::data::Panel;
use crate::error::Error;
use crate::framework::Framework;
use crate::framework::uncertainty::{
    DEFAULT_RUNS, DEFAULT_SEED, Input, InputKind, NoisyWeight, Sampling, Uncertainty,
};
use crate::messages::{RankRange, Robust, Setting};
use crate::robustness::{self, Analysis, Options, RankStats, Sensitivity, design};

/// Base sample size N of the report's Saltelli design: N·(inputs + 2) runs. 256 keeps the
/// report fast (1,280 runs with three inputs); the chart's bootstrap intervals show how
/// precise the indices are (on the district sample, ±0.2 for the largest).
pub const SALTELLI_N: usize = 256;

/// The weight noise `--robustness` assumes when the framework declares none (±25 %).
pub const ASSUMED_NOISE: f64 = 0.25;

/// The robustness of a report's ranking.
#[derive(Clone, Debug)]
pub struct Robustness {
    /// What varied.
    pub unc: Uncertainty,
    /// Whether the framework declared it (`false`: assumed by `--robustness`).
    pub declared: bool,
    /// The uncertainty analysis (rank intervals).
    pub analysis: Analysis,
    /// The sensitivity indices of a Saltelli design of base size `.0` (two or more inputs).
    pub sensitivity: Option<(usize, Vec<Sensitivity>)>,
    /// Runs of the Saltelli design that failed.
    pub sensitivity_failed: usize,
}

/// The uncertainty `--robustness` assumes without a declaration: weights ±25 % on the index's
/// children, 1000 runs, seed 1.
pub fn assumed(fw: &Framework) -> Uncertainty {
    Uncertainty {
        inputs: vec![Input {
            kind: InputKind::Weights(
                fw.index()
                    .children
                    .iter()
                    .map(|&node| NoisyWeight {
                        node,
                        noise: ASSUMED_NOISE,
                    })
                    .collect(),
            ),
            span: 0..0,
        }],
        runs: DEFAULT_RUNS,
        seed: DEFAULT_SEED,
        ..Uncertainty::default()
    }
}

/// A Sobol design draws at most [`design::MAX_SOBOL_DIMS`] numbers per run; beyond that the
/// draws are pseudo-random.
fn sampling_for(unc: &Uncertainty, dims: usize) -> Uncertainty {
    let mut u = unc.clone();
    if u.sampling == Sampling::Sobol && dims > design::MAX_SOBOL_DIMS {
        u.sampling = Sampling::Uniform;
    }
    u
}

/// Runs the analyses of period `p`: `unc` is the framework's declaration, or `None` for the
/// assumed one.
pub fn run(
    fw: &Framework,
    panel: &Panel,
    p: usize,
    unc: Option<&Uncertainty>,
) -> Result<Robustness, Error> {
    let declared = unc.is_some();
    let unc = unc.cloned().unwrap_or_else(|| assumed(fw));
    if unc.inputs.is_empty() {
        return Err(Error::Usage(
            "the robustness analysis has no uncertain inputs".into(),
        ));
    }
    let plain_unc = sampling_for(&unc, unc.dims());
    let plan = design::plain(fw, &plain_unc, unc.runs.max(1));
    let analysis = robustness::analyse(fw, panel, p, plan, &Options::default())?;
    let (sensitivity, sensitivity_failed) = if unc.inputs.len() >= 2 {
        let s_unc = sampling_for(&unc, 2 * unc.dims());
        let plan = design::saltelli(fw, &s_unc, SALTELLI_N);
        let a = robustness::analyse(fw, panel, p, plan, &Options::default())?;
        (a.sensitivity.map(|s| (SALTELLI_N, s)), a.failed.len())
    } else {
        (None, 0)
    };
    Ok(Robustness {
        unc,
        declared,
        analysis,
        sensitivity,
        sensitivity_failed,
    })
}

/// The declared inputs as readers are told about them.
pub fn settings(unc: &Uncertainty) -> Vec<Setting> {
    unc.inputs
        .iter()
        .map(|i| match &i.kind {
            InputKind::Weights(ws) => Setting::Weights {
                lo: ws.iter().map(|w| w.noise).fold(f64::INFINITY, f64::min),
                hi: ws.iter().map(|w| w.noise).fold(0.0, f64::max),
            },
            InputKind::Method { kind, alternatives } => Setting::Method {
                kind: kind.name().to_string(),
                count: alternatives.len(),
            },
            InputKind::Set { param, values } => Setting::Set {
                param: param.name(),
                count: values.len(),
            },
            InputKind::Exclude(ids) => Setting::Exclude { count: ids.len() },
        })
        .collect()
}

/// The reader's setting of the input named `name` (see [`Input::name`]).
pub fn setting_of(unc: &Uncertainty, name: &str) -> Option<Setting> {
    unc.inputs
        .iter()
        .position(|i| i.name() == name)
        .map(|k| settings(unc).swap_remove(k))
}

/// A unit's 5–95 % rank interval as shown: both ends rounded to whole ranks.
pub fn interval(s: &RankStats) -> (u32, u32) {
    (s.q5.round() as u32, s.q95.round() as u32)
}

/// The ranks whose order is not stable and those that are, from `(nominal rank, interval)` of
/// the ranked units in nominal order (see [`interval`]). Two units' intervals overlap when
/// each starts no later than the other ends; every rank between two overlapping units belongs
/// to the same group. Returns the groups as ranges of nominal ranks, and the ranks of the
/// units in no group.
pub fn groups(units: &[(u32, (u32, u32))]) -> (Vec<RankRange>, Vec<u32>) {
    let n = units.len();
    // linked[k]: the order of units k and k + 1 is in doubt.
    let mut linked = vec![false; n.saturating_sub(1)];
    for a in 0..n {
        for b in a + 1..n {
            let ((_, (lo_a, hi_a)), (_, (lo_b, hi_b))) = (units[a], units[b]);
            if lo_a <= hi_b && lo_b <= hi_a {
                linked[a..b].iter_mut().for_each(|l| *l = true);
            }
        }
    }
    let (mut out, mut stable) = (Vec::new(), Vec::new());
    let mut k = 0;
    while k < n {
        let start = k;
        while k + 1 < n && linked[k] {
            k += 1;
        }
        if k > start {
            out.push((units[start].0, units[k].0));
        } else {
            stable.push(units[k].0);
        }
        k += 1;
    }
    (out, stable)
}

impl Robustness {
    /// `(unit, nominal rank, interval)` of the nominally ranked units with statistics, in
    /// nominal order.
    pub fn ranked(&self) -> Vec<(usize, u32, (u32, u32))> {
        let a = &self.analysis;
        let mut v: Vec<(usize, u32, (u32, u32))> = (0..a.units.len())
            .filter_map(|u| {
                let s = a.rank_stats[u].as_ref()?;
                (s.nominal > 0 && s.runs > 0).then(|| (u, s.nominal, interval(s)))
            })
            .collect();
        v.sort_by_key(|&(u, k, _)| (k, u));
        v
    }

    /// The sentences of the ranking section: the assumption (without a declaration), the
    /// failed runs (if any), and which rank differences are not stable.
    pub fn messages(&self) -> Vec<Robust> {
        let mut out = Vec::new();
        if !self.declared {
            out.push(Robust::Assumed {
                noise: ASSUMED_NOISE,
                runs: self.unc.runs,
                seed: self.unc.seed,
            });
        }
        let ranked: Vec<(u32, (u32, u32))> =
            self.ranked().into_iter().map(|(_, k, i)| (k, i)).collect();
        if ranked.is_empty() {
            // Every run failed: nothing to say about stability (the failures are said below).
            if !self.analysis.failed.is_empty() {
                out.push(Robust::Failed {
                    failed: self.analysis.failed.len(),
                    runs: self.analysis.plan.runs.len(),
                });
            }
            return out;
        }
        let (groups, stable) = groups(&ranked);
        let mut widths: Vec<f64> = ranked
            .iter()
            .map(|&(_, (lo, hi))| f64::from(hi - lo))
            .collect();
        widths.sort_by(f64::total_cmp);
        out.push(Robust::Stability {
            settings: settings(&self.unc),
            runs: self.analysis.plan.runs.len(),
            groups,
            stable,
            spread: robustness::stats::quantile7(&widths, 0.5),
        });
        if !self.analysis.failed.is_empty() {
            out.push(Robust::Failed {
                failed: self.analysis.failed.len(),
                runs: self.analysis.plan.runs.len(),
            });
        }
        out
    }

    /// What the manifest records: the inputs, runs, seed and sampling of each design.
    pub fn manifest(&self) -> serde_json::Value {
        let a = &self.analysis;
        serde_json::json!({
            "declared": self.declared,
            "inputs": self.unc.inputs.iter().map(|i| serde_json::json!({
                "name": i.name(),
                "choices": i.choices(),
                "dims": i.dims(),
            })).collect::<Vec<_>>(),
            "runs": a.plan.runs.len(),
            "failed": a.failed.len(),
            "seed": a.plan.seed,
            "sampling": a.plan.sampling.map(Sampling::name),
            "saltelli_n": self.sensitivity.as_ref().map(|(n, _)| n),
            "saltelli_runs": self.sensitivity.as_ref().map(|(n, _)| n * (self.unc.inputs.len() + 2)),
            "saltelli_failed": self.sensitivity_failed,
            "bootstrap": a.plan.bootstrap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Lang;

    #[test]
    fn overlapping_neighbours_form_groups_and_the_rest_are_stable() {
        // Rank 1 alone; 2–4 overlap in a chain; 5 alone; 6 and 7 touch at 7.
        let units = [
            (1, (1, 1)),
            (2, (2, 3)),
            (3, (3, 4)),
            (4, (4, 4)),
            (5, (5, 5)),
            (6, (6, 7)),
            (7, (7, 8)),
        ];
        assert_eq!(groups(&units), (vec![(2, 4), (6, 7)], vec![1, 5]));
        // A wide interval reaches over stable-looking neighbours: 1 to 4 is one group.
        let units = [(1, (1, 1)), (2, (2, 2)), (3, (3, 3)), (4, (1, 5))];
        assert_eq!(groups(&units), (vec![(1, 4)], vec![]));
        // Nothing overlaps; and an empty ranking.
        let units = [(1, (1, 1)), (2, (2, 2)), (3, (3, 3))];
        assert_eq!(groups(&units), (vec![], vec![1, 2, 3]));
        assert_eq!(groups(&[]), (vec![], vec![]));
        // Ties: two units at rank 2 whose intervals overlap.
        let units = [(1, (1, 1)), (2, (2, 3)), (2, (2, 3))];
        assert_eq!(groups(&units), (vec![(2, 2)], vec![1]));
    }

    /// Rank statistics of a unit: nominal rank and the 5–95 % quantiles.
    fn stats(nominal: u32, q5: f64, q95: f64) -> Option<RankStats> {
        Some(RankStats {
            nominal,
            mean: f64::from(nominal),
            median: f64::from(nominal),
            q5,
            q95,
            min: q5.floor() as u32,
            max: q95.ceil() as u32,
            runs: 100,
        })
    }

    fn robustness(rank_stats: Vec<Option<RankStats>>, failed: usize, declared: bool) -> Robustness {
        let n = rank_stats.len();
        let unc = Uncertainty {
            inputs: vec![Input {
                kind: InputKind::Weights(vec![NoisyWeight {
                    node: 1,
                    noise: 0.1,
                }]),
                span: 0..0,
            }],
            runs: 100,
            ..Uncertainty::default()
        };
        Robustness {
            unc,
            declared,
            analysis: Analysis {
                plan: crate::robustness::Plan {
                    runs: vec![crate::robustness::RunSpec::default(); 100],
                    ..Default::default()
                },
                period: String::new(),
                units: (0..n).map(|u| format!("u{u}")).collect(),
                nodes: vec![0],
                scores: ndarray::Array3::zeros((0, n, 1)),
                ranks: ndarray::Array3::zeros((0, n, 1)),
                nominal_scores: vec![0.0; n],
                nominal_ranks: rank_stats
                    .iter()
                    .map(|s| s.map_or(0, |s| s.nominal))
                    .collect(),
                failed: (0..failed)
                    .map(|run| crate::robustness::Failure {
                        run,
                        message: String::new(),
                    })
                    .collect(),
                rank_stats,
                sensitivity: None,
                shifts: Vec::new(),
            },
            sensitivity: None,
            sensitivity_failed: 0,
        }
    }

    #[test]
    fn the_messages_follow_the_units_in_nominal_order() {
        // Units listed out of order; one without a rank. Intervals 1–1, 2–3 (2.4 → 2), 2–3,
        // 4–4 (3.6 → 4, touching nobody), 5–6, 5–6.
        let rb = robustness(
            vec![
                stats(3, 2.0, 3.0),
                stats(1, 1.0, 1.0),
                None,
                stats(2, 2.4, 3.4),
                stats(4, 3.6, 4.4),
                stats(6, 5.0, 6.0),
                stats(5, 5.0, 5.5),
            ],
            0,
            true,
        );
        let order: Vec<u32> = rb.ranked().iter().map(|x| x.1).collect();
        assert_eq!(order, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            rb.messages(),
            [Robust::Stability {
                settings: vec![Setting::Weights { lo: 0.1, hi: 0.1 }],
                runs: 100,
                groups: vec![(2, 3), (5, 6)],
                stable: vec![1, 4],
                // Widths 0, 1, 1, 0, 1, 1: the median is 1.
                spread: 1.0,
            }]
        );
        // Not declared: the assumption first; failed runs last; all failed: no stability.
        let rb = robustness(vec![stats(1, 1.0, 1.0)], 3, false);
        let m = rb.messages();
        assert!(matches!(m[0], Robust::Assumed { runs: 100, .. }));
        assert_eq!(
            m[2],
            Robust::Failed {
                failed: 3,
                runs: 100
            }
        );
        let mut rb = robustness(vec![stats(1, 1.0, 1.0)], 100, true);
        rb.analysis.rank_stats[0].as_mut().unwrap().runs = 0;
        assert_eq!(
            rb.messages(),
            [Robust::Failed {
                failed: 100,
                runs: 100
            }]
        );
    }

    #[test]
    fn intervals_are_rounded_to_whole_ranks() {
        let s = RankStats {
            nominal: 3,
            mean: 3.0,
            median: 3.0,
            q5: 2.45,
            q95: 4.5,
            min: 2,
            max: 5,
            runs: 100,
        };
        assert_eq!(interval(&s), (2, 5));
    }

    #[test]
    fn the_sentence_names_the_groups_in_both_languages() {
        let m = Robust::Stability {
            settings: vec![
                Setting::Weights { lo: 0.25, hi: 0.25 },
                Setting::Method {
                    kind: "aggregate".into(),
                    count: 2,
                },
            ],
            runs: 1000,
            groups: vec![(2, 4), (6, 7)],
            stable: vec![1, 5],
            spread: 1.0,
        };
        let zh = m.text(Lang::Zh);
        assert!(
            zh.starts_with("在权重±25%、聚合方法（2 种）的设定下（模拟 1000 次），第2至第4名、第6与第7名之间的差异并不稳定；第1、5名的名次稳定。"),
            "{zh}"
        );
        let en = m.text(Lang::En);
        assert!(
            en.starts_with("Under weights ±25% and aggregation (2 alternatives) (1000 runs), the differences between ranks 2 to 4, ranks 6 and 7 are not stable; ranks 1, 5 are stable."),
            "{en}"
        );
        let all_stable = Robust::Stability {
            settings: vec![Setting::Weights { lo: 0.1, hi: 0.25 }],
            runs: 10,
            groups: vec![],
            stable: vec![1, 2],
            spread: 0.0,
        };
        assert!(all_stable.text(Lang::Zh).contains("权重±10%–25%"));
        assert!(
            all_stable
                .text(Lang::En)
                .contains("every difference in rank is stable")
        );
        let none_stable = Robust::Stability {
            settings: vec![Setting::Exclude { count: 3 }],
            runs: 10,
            groups: vec![(1, 5)],
            stable: vec![],
            spread: 3.5,
        };
        assert!(
            none_stable
                .text(Lang::Zh)
                .contains("第1至第5名之间的差异并不稳定，没有哪个名次是完全确定的")
        );
        let many = Robust::Stability {
            settings: vec![Setting::Weights { lo: 0.25, hi: 0.25 }],
            runs: 10,
            groups: vec![(3, 4)],
            stable: (5..30).collect(),
            spread: 0.0,
        };
        assert!(many.text(Lang::Zh).contains("其余 25 个名次稳定"));
        assert!(
            many.text(Lang::En)
                .contains("the other 25 ranks are stable")
        );
    }
}
