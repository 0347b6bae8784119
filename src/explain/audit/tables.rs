//! The audit as named tables (Arrow record batches) and as a terminal summary.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::*;

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

    /// What the indicator statistics describe, in words (`--stage`).
    pub fn stage_note(&self) -> String {
        let what = match self.stage {
            Stage::Raw => "the raw values of the indicators' expressions, before denominators",
            Stage::Denominated => {
                "the values as evaluated from the data (after denominators), before imputation and treatment"
            }
            Stage::Imputed => "the values after imputation",
            Stage::Screened => "the values screening looked at",
            Stage::Treated => "the values after outlier treatment",
            Stage::Normalised => "the normalised values (the indicators' scores)",
        };
        let units = if self.stage >= Stage::Screened {
            "the units with a row in the period that screening kept"
        } else {
            "the units with a row in the period"
        };
        format!(
            "indicator statistics (stage `{}`) use {what}, over {units}",
            self.stage.name()
        )
    }

    /// Every table of the audit, in a fixed order, with its name: `about`, `indicators`,
    /// `availability_units`, `availability_groups` (with groups), `correlations`,
    /// `sibling_correlations`, `aggregates`, `pca_loadings`, `weights`, `treatment`, `bod_shares`
    /// (with a node aggregated by `bod`), `removal`.
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
            ("indicator values", self.stage_note()),
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
            .text(
                "name",
                av.iter()
                    .map(|a| Some(panel.unit_name(a.unit, Lang::Zh).to_string())),
            );
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
                .text(
                    "computed_as",
                    ag.iter().map(|a| {
                        Some(crate::report::describe::node_score(
                            fw,
                            a.node,
                            crate::framework::Lang::En,
                        ))
                    }),
                )
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
            let under = |c: usize| fw.nodes[c].weight_under(p, fw.nodes[c].weight);
            let total: f64 = fw.nodes[p].children.iter().map(|&c| under(c)).sum();
            (total > 0.0).then(|| fw.nodes[n].weight / total)
        };
        // A shared node's further parents with its weight there: `d2 (3); d3 (1)`.
        let also_under = |n: usize| {
            let e = &fw.nodes[n].shared;
            (!e.is_empty()).then(|| {
                e.iter()
                    .map(|e| format!("{} ({})", fw.nodes[e.parent].id, e.weight))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
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
                .text("also_under", order.iter().map(|&n| also_under(n)))
                .num(
                    "effective_weight",
                    order
                        .iter()
                        .map(|&n| Some(self.effective_weights[n]).filter(|w| w.is_finite())),
                )
                .build("weights")?,
        ));

        let tr = &self.results.treatments;
        let outcome = |o: crate::pipeline::TreatOutcome| -> &'static str {
            use crate::pipeline::TreatOutcome as T;
            match o {
                T::Untouched => "untouched",
                T::Passed => "passed",
                T::Winsorised => "winsorised",
                T::Log => "log",
            }
        };
        let flagged = |t: &crate::evaluate::Treatment, f: crate::pipeline::TreatFlag| {
            Some(t.report.points.iter().filter(|(_, g)| *g == f).count() as u32)
        };
        out.push((
            "treatment",
            Table::default()
                .text("id", tr.iter().map(|t| id(panel.indicators[t.indicator])))
                .text(
                    "outcome",
                    tr.iter().map(|t| Some(outcome(t.report.outcome).into())),
                )
                .int("nwin", tr.iter().map(|t| Some(t.report.nwin as u32)))
                .int(
                    "winsorised_high",
                    tr.iter()
                        .map(|t| flagged(t, crate::pipeline::TreatFlag::WinHi)),
                )
                .int(
                    "winsorised_low",
                    tr.iter()
                        .map(|t| flagged(t, crate::pipeline::TreatFlag::WinLo)),
                )
                .int(
                    "log_transformed",
                    tr.iter()
                        .map(|t| flagged(t, crate::pipeline::TreatFlag::Log)),
                )
                .num("skew_before", tr.iter().map(|t| t.report.skew_before))
                .num("kurt_before", tr.iter().map(|t| t.report.kurt_before))
                .num("skew_after", tr.iter().map(|t| t.report.skew_after))
                .num("kurt_after", tr.iter().map(|t| t.report.kurt_after))
                .build("treatment")?,
        ));

        let bs = &self.bod_shares;
        if !bs.is_empty() {
            out.push((
                "bod_shares",
                Table::default()
                    .text("id", bs.iter().map(|b| id(b.node)))
                    .text("unit", bs.iter().map(|b| Some(panel.units[b.unit].clone())))
                    .text("child", bs.iter().map(|b| id(b.child)))
                    .num("share", bs.iter().map(|b| Some(b.share)))
                    .build("bod_shares")?,
            ));
        }

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

        let on = match self.stage {
            Stage::Denominated => String::new(),
            stage => format!(" on the {} values", stage.name()),
        };
        let _ = writeln!(
            t,
            "\nIndicator flags{on} (availability < {AVAILABILITY_MIN}, non-zero share < {NONZERO_MIN}, unique share < {UNIQUE_MIN}, outlier: |skew| > {SKEW_MAX} and kurtosis > {KURT_MAX}):"
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
        let lower: Vec<&str> = fw
            .nodes
            .iter()
            .filter(|n| n.lower_is_better)
            .map(|n| n.id.as_str())
            .collect();
        if !lower.is_empty() {
            let _ = writeln!(
                t,
                "Lower is better for {}: correlated with the scores negated, so a positive correlation means agreement.",
                lower.join(", ")
            );
        }
        t
    }
}
