//! The JSON answers of `kapok serve` and the exports built from a scored query.

use serde_json::{Value, json};

use super::model::{Model, Scored, cli_spelling};
use super::query::{BadRequest, Query};
use super::reach::{Intervals, Reach};
use crate::evaluate::{RankChange, Status};
use crate::framework::overrides::MethodKind;
use crate::framework::{Framework, Lang};

/// A score as JSON: `null` when missing.
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

/// The answer of `/api/score`: the period, the ranking best first, and what the page shows
/// beside it (weights, methods, dimension scores, exports).
pub fn score(m: &Model, s: &Scored) -> Value {
    let p = s.period;
    let lang = s.query.lang;
    let fw = &s.fw;
    let dims = &fw.index().children;
    let units: Vec<Value> = m
        .order(s)
        .into_iter()
        .map(|(u, row)| {
            let rank = row.and_then(|k| s.ranks[k]).unwrap_or(0);
            let official = m.official.rank(p, u, 0);
            let status = match (row, m.official.status[[p, u]]) {
                (None, _) | (_, Status::Screened) => "screened",
                (Some(k), _) if s.scores[[k, 0]].is_nan() => "missing",
                _ => "scored",
            };
            json!({
                "unit": m.panel.units[u],
                "name": m.panel.unit_name(u, lang),
                "score": row.map_or(Value::Null, |k| num(s.scores[[k, 0]])),
                "rank": (rank > 0).then_some(rank),
                "official_rank": (official > 0).then_some(official),
                "change": RankChange::between(official, rank).places(),
                "status": status,
                "dims": dims.iter().map(|&d| row.map_or(Value::Null, |k| num(s.scores[[k, d]]))).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "period": m.panel.periods[p],
        "lang": lang_name(lang),
        "query": s.query.to_query_string(),
        "index": { "id": fw.index().id, "name": fw.index().name.get(lang) },
        "dims": dims.iter().map(|&d| fw.nodes[d].id.clone()).collect::<Vec<_>>(),
        "normalize": s.query.normalize.clone().unwrap_or_else(|| m.official_method(MethodKind::Normalize)),
        "aggregate": s.query.aggregate.clone().unwrap_or_else(|| m.official_method(MethodKind::Aggregate)),
        "weights": weights(fw),
        "units": units,
        "export": {
            "options": options(&s.query, &m.panel.periods[p]),
            "command": command(m, &s.query, &m.panel.periods[p]),
            "toml": toml_fragment(m, fw),
        },
    })
}

/// Every node's weight but the index's, by id.
fn weights(fw: &Framework) -> Value {
    Value::Object(
        fw.nodes
            .iter()
            .skip(1)
            .map(|n| (n.id.clone(), json!(n.weight)))
            .collect(),
    )
}

/// The answer of `/api/meta`: the framework's tree, periods and method choices.
pub fn meta(m: &Model, lang: Lang) -> Value {
    let fw = &m.fw;
    let nodes: Vec<Value> = preorder(fw)
        .into_iter()
        .map(|(i, depth)| {
            let n = &fw.nodes[i];
            json!({
                "id": n.id,
                "name": n.name.get(lang),
                "parent": n.parent.map(|p| fw.nodes[p].id.clone()),
                "kind": match (i, n.indicator()) {
                    (0, _) => "index",
                    (_, Some(_)) => "indicator",
                    _ => "dimension",
                },
                "depth": depth,
                "weight": n.weight,
            })
        })
        .collect();
    let uncertainty = fw.uncertainty.as_ref().map(|u| {
        json!({
            "runs": u.runs,
            "reach_points": super::reach::REACH_POINTS,
        })
    });
    json!({
        "framework": file_name(m),
        "index": { "id": fw.index().id, "name": fw.index().name.get(lang) },
        "lang": lang_name(lang),
        "periods": m.panel.periods,
        "latest": m.panel.periods.last(),
        "nodes": nodes,
        "official": {
            "normalize": m.official_method(MethodKind::Normalize),
            "aggregate": m.official_method(MethodKind::Aggregate),
        },
        "choices": { "normalize": m.choices.normalize, "aggregate": m.choices.aggregate },
        "uncertainty": uncertainty,
        "max_weight": super::query::MAX_WEIGHT,
    })
}

/// The nodes in pre-order with their depth (the index 0).
fn preorder(fw: &Framework) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, d)) = stack.pop() {
        out.push((i, d));
        for &c in fw.nodes[i].children.iter().rev() {
            stack.push((c, d + 1));
        }
    }
    out
}

/// The framework file's name (without its directory).
fn file_name(m: &Model) -> String {
    m.path.file_name().map_or_else(
        || m.path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

/// The answer of `/api/intervals`.
pub fn intervals(m: &Model, p: usize, iv: &Intervals) -> Value {
    let units: Vec<Value> = (0..m.panel.units.len())
        .filter_map(|u| {
            let s = iv.stats[u]?;
            Some(json!({
                "unit": m.panel.units[u],
                "nominal": (s.nominal > 0).then_some(s.nominal),
                "median": s.median, "q5": s.q5, "q95": s.q95,
                "best": s.min, "worst": s.max,
            }))
        })
        .collect();
    json!({ "period": m.panel.periods[p], "runs": iv.runs, "failed": iv.failed, "units": units })
}

/// The answer of `/api/reach`.
pub fn reach(m: &Model, p: usize, r: &Reach) -> Value {
    let units: Vec<Value> = (0..m.panel.units.len())
        .filter_map(|u| {
            let (best, worst) = r.ranks[u]?;
            let as_map = |w: &[(usize, f64)]| -> Value {
                Value::Object(
                    w.iter()
                        .map(|&(n, w)| (m.fw.nodes[n].id.clone(), json!(w)))
                        .collect(),
                )
            };
            let (bw, ww) = r.extremes[u].as_ref()?;
            Some(json!({
                "unit": m.panel.units[u], "best": best, "worst": worst,
                "best_weights": as_map(bw), "worst_weights": as_map(ww),
            }))
        })
        .collect();
    let ranges: Vec<Value> = r
        .ranges
        .iter()
        .map(|&(node, lo, hi)| json!({ "id": m.fw.nodes[node].id, "low": lo, "high": hi }))
        .collect();
    json!({
        "period": m.panel.periods[p],
        "weightings": r.weightings,
        "corners": r.corners,
        "ranges": ranges,
        "units": units,
    })
}

/// A word for a shell: quoted when it holds anything but letters, digits and `_-.,:=/+`.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:=/+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The query as command-line options: `--period 2023-12 --weight safety=3`.
pub fn options(q: &Query, period: &str) -> String {
    let mut v: Vec<String> = Vec::new();
    if !period.is_empty() {
        v.push(format!("--period {}", shell_word(period)));
    }
    if let Some(n) = &q.normalize {
        v.push(format!("--normalize {}", shell_word(n)));
    }
    if let Some(a) = &q.aggregate {
        v.push(format!("--aggregate {}", shell_word(a)));
    }
    for (id, w) in &q.weights {
        v.push(format!("--weight {}", shell_word(&format!("{id}={w}"))));
    }
    v.join(" ")
}

/// The command that prints the same ranking.
fn command(m: &Model, q: &Query, period: &str) -> String {
    let opts = options(q, period);
    let lang = if q.lang == Lang::En { " --lang en" } else { "" };
    format!(
        "kapok rank {}{}{lang}",
        shell_word(&m.path.display().to_string()),
        if opts.is_empty() {
            String::new()
        } else {
            format!(" {opts}")
        }
    )
}

/// The weights and methods that differ from the framework's, as TOML for the framework: a
/// `[weights]` table to append, and the `[defaults]` lines to change.
pub fn toml_fragment(m: &Model, fw: &Framework) -> String {
    let mut out = format!(
        "# Weights chosen in kapok serve: append to {} to make them the framework's own.\n",
        file_name(m)
    );
    let changed: Vec<(&str, f64)> = fw
        .nodes
        .iter()
        .zip(&m.fw.nodes)
        .skip(1)
        .filter(|(a, b)| a.weight != b.weight)
        .map(|(a, _)| (a.id.as_str(), a.weight))
        .collect();
    if changed.is_empty() {
        out.push_str("# (every weight is the framework's own)\n");
    } else {
        out.push_str("[weights]\n");
        for (id, w) in changed {
            out.push_str(&format!("{id} = {}\n", w));
        }
    }
    for kind in [MethodKind::Normalize, MethodKind::Aggregate] {
        let now = fw.defaults.source.get(kind.name()).map(|t| cli_spelling(t));
        if now.is_some_and(|t| t != m.official_method(kind)) {
            let text = &fw.defaults.source[kind.name()];
            let value = if text.trim_start().starts_with(['{', '[', '"']) {
                text.clone()
            } else {
                format!("{text:?}")
            };
            out.push_str(&format!("# in [defaults]: {} = {value}\n", kind.name()));
        }
    }
    out
}

/// The query's period as `kapok score --period P -o FILE` writes it: the whole panel evaluated
/// with the query's weights and methods.
pub fn ranking_batch(
    m: &Model,
    s: &Scored,
) -> Result<datafusion::arrow::array::RecordBatch, BadRequest> {
    let res =
        crate::evaluate(&s.fw, m.panel.clone()).map_err(|e| BadRequest::query(e.to_string()))?;
    res.to_batch(&s.fw, Some(s.period))
        .map_err(|e| BadRequest::query(e.to_string()))
}

/// A download's file name: `hongmian-2023-12.csv`.
pub fn download_name(m: &Model, s: &Scored, ext: &str) -> String {
    let period = &m.panel.periods[s.period];
    let safe = |t: &str| -> String {
        t.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    if period.is_empty() {
        format!("{}.{ext}", safe(&m.fw.index().id))
    } else {
        format!("{}-{}.{ext}", safe(&m.fw.index().id), safe(period))
    }
}
