//! Unit profiles: one printed page per unit — rank and score with their change, the dimension
//! scores against the average and the best unit (bars drawn in HTML, sharp in print), the rank
//! over the last periods, the strongest and weakest indicators, and the values imputed.

use std::fmt::Write;

use super::Report;
use super::html::{change_class, esc, rank};
use crate::format::fmt_value;

/// How many periods the rank history shows (the reported one and those before it).
pub const HISTORY: usize = 12;
/// How many strongest and weakest indicators a profile names.
const EXTREMES: usize = 3;

/// Appends every unit's profile to `h`.
pub(super) fn profiles(rep: &Report, h: &mut String) {
    let _ = writeln!(
        h,
        "<p class=\"muted\">{}</p>",
        rep.t(
            "每个单位一页（打印时）：排名与得分、各维度得分与平均及最佳单位的比较、近期排名、优势与弱项指标、插补值。",
            "One page per unit when printed: rank and score, the dimension scores against the average and the best unit, the recent ranks, the strongest and weakest indicators, and imputed values."
        )
    );
    let scale = Scale::of(rep);
    let trends = rep.trends();
    for &u in rep.units() {
        let _ = writeln!(
            h,
            "<article class=\"profile\" id=\"unit-{}\">",
            esc(&rep.r.panel.units[u])
        );
        head(rep, u, trends, h);
        dimension_bars(rep, u, &scale, h);
        history(rep, u, h);
        extremes(rep, u, h);
        imputed(rep, u, h);
        h.push_str("</article>\n");
    }
}

/// Name, rank, score and their changes.
fn head(rep: &Report, u: usize, trends: Option<&crate::trend::Trends>, h: &mut String) {
    let panel = &rep.r.panel;
    let _ = writeln!(
        h,
        "<h3>{} <span class=\"muted\">{}</span></h3>",
        rep.unit_html(u),
        esc(&panel.units[u])
    );
    let ranked = rep
        .units()
        .iter()
        .filter(|&&v| rep.rank(v, 0).is_some())
        .count();
    let mut kpis = vec![format!(
        "{} <b>{}</b> / {ranked}",
        rep.t("排名", "Rank"),
        rank(rep.rank(u, 0))
    )];
    if let Some(note) = rep.status_note(u) {
        kpis.push(esc(note));
    }
    if let Some(q) = rep.prev {
        let change = rep.change(u);
        let (open, close) = (rep.t("（", " ("), rep.t("）", ")"));
        kpis.push(format!(
            "{} <span class=\"{}\">{}</span>{open}{} {}{close}",
            rep.t("变化", "Change"),
            change_class(&change),
            esc(&change),
            rep.t("上期", "previous"),
            rank(rep.prev_rank(u))
        ));
        let now = rep.score(u, 0);
        let before = Some(rep.r.scores[[q, u, 0]]).filter(|v| v.is_finite());
        let delta = now.zip(before).map_or(String::new(), |(a, b)| {
            let d = a - b;
            let d = format!("{:+.2}", d + 0.0).replace('-', "−");
            format!("{open}{}{d}{close}", rep.t("较上期 ", "vs previous "))
        });
        kpis.push(format!(
            "{} <b>{}</b>{delta}",
            esc(rep.name(0)),
            rep.fmt_score(now)
        ));
    } else {
        kpis.push(format!(
            "{} <b>{}</b>",
            esc(rep.name(0)),
            rep.fmt_score(rep.score(u, 0))
        ));
    }
    // The index's trend class (of scores, or of ranks when scores are per period).
    if let Some(c) = trends.and_then(|t| t.class(rep.p, u, 0)) {
        let of = match trends.is_some_and(|t| t.comparable) {
            true => "",
            false => rep.t("（排名）", " (of the rank)"),
        };
        kpis.push(format!(
            "{}{of} <span class=\"trend {}\">{} {}</span>",
            rep.t("趋势", "Trend"),
            c.key(),
            c.arrow(),
            c.label(rep.lang)
        ));
    }
    if rep.has_groups() {
        let g = panel.group_name(u, rep.lang).unwrap_or("");
        kpis.push(format!(
            "{} {} · {} {}",
            rep.t("所属组", "Group"),
            esc(g),
            rep.t("组内排名", "rank in group"),
            rank(rep.group_rank(u))
        ));
    }
    let kpis: Vec<String> = kpis
        .into_iter()
        .map(|k| format!("<span>{k}</span>"))
        .collect();
    let _ = writeln!(h, "<p class=\"kpis\">{}</p>", kpis.join(""));
}

/// The range the dimension bars share, and per dimension the average and the best unit.
struct Scale {
    lo: f64,
    hi: f64,
    /// Per dimension (in `Report::dims` order): mean score and best unit.
    dims: Vec<(usize, Option<f64>, Option<usize>)>,
}

impl Scale {
    fn of(rep: &Report) -> Self {
        let units = rep.units();
        let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
        let mut dims = Vec::new();
        for d in rep.dims() {
            let vals: Vec<(usize, f64)> = units
                .iter()
                .filter_map(|&u| rep.score(u, d).map(|v| (u, v)))
                .collect();
            for &(_, v) in &vals {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            let mean = (!vals.is_empty())
                .then(|| vals.iter().map(|x| x.1).sum::<f64>() / vals.len() as f64);
            let best = vals.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|x| x.0);
            dims.push((d, mean, best));
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        Self { lo, hi, dims }
    }

    /// Position of `v` on the bar, in percent.
    fn at(&self, v: f64) -> String {
        format!(
            "{:.1}",
            ((v - self.lo) / (self.hi - self.lo) * 100.0).clamp(0.0, 100.0)
        )
    }
}

/// Each dimension's score as a bar, the average and the best unit as ticks, with the numbers.
fn dimension_bars(rep: &Report, u: usize, s: &Scale, h: &mut String) {
    let _ = writeln!(
        h,
        "<h4>{}</h4>\n<p class=\"key muted\"><i class=\"v\"></i>{}<i class=\"avg\"></i>{}<i class=\"best\"></i>{}</p>",
        rep.t("维度得分", "Dimension scores"),
        rep.t("本单位", "this unit"),
        rep.t("平均", "average"),
        rep.t("最佳单位", "best unit"),
    );
    let _ = writeln!(
        h,
        "<div class=\"scroll\"><table class=\"bars\">\n<thead><tr><th>{}</th><th></th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead>\n<tbody>",
        rep.t("维度", "Dimension"),
        rep.t("得分", "Score"),
        rep.t("排名", "Rank"),
        rep.t("平均", "Average"),
        rep.t("最佳单位", "Best unit"),
    );
    for &(d, mean, best) in &s.dims {
        let v = rep.score(u, d);
        let mut bar = String::new();
        if let Some(v) = v {
            let _ = write!(bar, "<span style=\"width:{}%\"></span>", s.at(v));
        }
        if let Some(m) = mean {
            let _ = write!(bar, "<i class=\"avg\" style=\"left:{}%\"></i>", s.at(m));
        }
        let best_text = best.map_or("–".to_string(), |b| {
            if let Some(bv) = rep.score(b, d) {
                let _ = write!(bar, "<i class=\"best\" style=\"left:{}%\"></i>", s.at(bv));
            }
            format!("{} {}", rep.fmt_score(rep.score(b, d)), rep.unit_html(b))
        });
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"bar\"><div class=\"bar\">{bar}</div></td><td class=\"n\"><b>{}</b></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"nw\">{best_text}</td></tr>",
            esc(rep.name(d)),
            rep.fmt_score(v),
            rank(rep.rank(u, d)),
            rep.fmt_score(mean),
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
}

/// The index rank in the last [`HISTORY`] periods up to the reported one.
fn history(rep: &Report, u: usize, h: &mut String) {
    let panel = &rep.r.panel;
    if rep.period_name().is_empty() {
        return;
    }
    let from = (rep.p + 1).saturating_sub(HISTORY);
    let periods: Vec<usize> = (from..=rep.p).collect();
    let _ = write!(
        h,
        "<h4>{}</h4>\n<div class=\"scroll\"><table class=\"compact\">\n<thead><tr><th></th>",
        if rep.zh() {
            format!("近 {} 期排名", periods.len())
        } else {
            format!("Rank in the last {} periods", periods.len())
        }
    );
    for &q in &periods {
        let _ = write!(h, "<th class=\"n nw\">{}</th>", esc(&panel.periods[q]));
    }
    let _ = write!(
        h,
        "</tr></thead>\n<tbody><tr><td class=\"nw\">{}</td>",
        rep.t("排名", "Rank")
    );
    for &q in &periods {
        let k = Some(rep.r.rank(q, u, 0)).filter(|&k| k > 0);
        let _ = write!(h, "<td class=\"n\">{}</td>", rank(k));
    }
    h.push_str("</tr></tbody>\n</table></div>\n");
}

/// The indicators the unit ranks best and worst on.
fn extremes(rep: &Report, u: usize, h: &mut String) {
    let fw = rep.fw;
    let panel = &rep.r.panel;
    let mut ranked: Vec<(u32, usize, usize)> = panel
        .indicators
        .iter()
        .enumerate()
        .filter_map(|(j, &node)| rep.rank(u, node).map(|k| (k, node, j)))
        .collect();
    ranked.sort_by_key(|&(k, node, _)| (k, node));
    if ranked.is_empty() {
        return;
    }
    let n = EXTREMES.min(ranked.len() / 2).max(1);
    let best = &ranked[..n];
    let worst: Vec<(u32, usize, usize)> = ranked.iter().rev().take(n).copied().collect();
    let table = |title: &str, rows: &[(u32, usize, usize)]| -> String {
        let mut t = format!(
            "<div class=\"scroll\"><h4>{title}</h4><table>\n<thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>",
            rep.t("指标", "Indicator"),
            rep.t("原始值", "Value"),
            rep.t("排名", "Rank"),
        );
        for &(k, node, j) in rows {
            let unit = fw.nodes[node]
                .indicator()
                .map_or("", |s| s.unit.get(rep.lang));
            let value = rep.raw(u, j).map_or("–".to_string(), fmt_value);
            let _ = write!(
                t,
                "<tr><td>{}</td><td class=\"n\">{value} <span class=\"muted\">{}</span></td><td class=\"n\">{k}</td></tr>",
                esc(rep.name(node)),
                esc(unit)
            );
        }
        t.push_str("</tbody></table></div>");
        t
    };
    let _ = writeln!(
        h,
        "<div class=\"pair\">{}{}</div>",
        table(
            rep.t("优势指标（排名最前）", "Strongest indicators (best ranks)"),
            best
        ),
        table(
            rep.t("弱项指标（排名最后）", "Weakest indicators (worst ranks)"),
            &worst
        )
    );
}

/// The indicator values of the unit that were missing in the period: imputed (with the value
/// used) or left out.
fn imputed(rep: &Report, u: usize, h: &mut String) {
    let r = rep.r;
    let mut items = Vec::new();
    for (j, &node) in r.panel.indicators.iter().enumerate() {
        if !r.panel.values[[rep.p, u, j]].is_nan() {
            continue;
        }
        let filled = rep.imputed[[u, j]];
        let name = esc(rep.name(node));
        // The period(s) a value carried or interpolated from other periods came from.
        let from = r
            .provenance
            .get(rep.p, u, j)
            .filter(|f| !f.from.is_empty())
            .map(|f| esc(&r.source_periods(f).replace(';', rep.t("、", ", "))));
        items.push(match (rep.zh(), filled.is_finite(), from) {
            (true, true, Some(q)) => {
                format!("“{name}”缺失，插补为 {}（取自 {q}）", fmt_value(filled))
            }
            (false, true, Some(q)) => {
                format!(
                    "“{name}” missing, imputed as {} (from {q})",
                    fmt_value(filled)
                )
            }
            (true, true, None) => format!("“{name}”缺失，插补为 {}", fmt_value(filled)),
            (true, false, _) => format!("“{name}”缺失，未插补"),
            (false, true, None) => format!("“{name}” missing, imputed as {}", fmt_value(filled)),
            (false, false, _) => format!("“{name}” missing, not imputed"),
        });
    }
    let text = if items.is_empty() {
        rep.t(
            "本期各项指标均有实际数据，没有插补值。",
            "Every indicator has a reported value this period; nothing was imputed.",
        )
        .to_string()
    } else {
        format!(
            "{}{}",
            rep.t("缺失与插补：", "Missing and imputed: "),
            items.join(rep.t("；", "; "))
        )
    };
    let _ = writeln!(h, "<p class=\"muted\">{text}</p>");
}
