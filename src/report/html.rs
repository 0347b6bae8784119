//! `index.html`: one self-contained page (inline CSS, charts as data URIs, no script, no
//! external request) that reads at 1280 px and on a phone, and prints on A4 portrait: every
//! section starts a page, table headers repeat, each unit profile fills one page.
//!
//! The page is written section by section, one function each; charts go to the section they
//! illustrate ([`CHART_SECTIONS`]).

use std::fmt::Write;

use base64::Engine;

use super::{Report, describe};
use crate::chart::Chart;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn rank(v: Option<u32>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

pub(super) fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2}%", v * 100.0)
    } else {
        "–".into()
    }
}

const CSS: &str = include_str!("style.css");

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Which section shows which chart (by file stem); a chart not listed goes to the indicator
/// section. The map is not listed: it stands beside the ranking table.
const CHART_SECTIONS: [(&str, Sec); 12] = [
    ("ranking", Sec::Ranking),
    ("rank-change", Sec::Ranking),
    ("uncertainty", Sec::Robustness),
    ("sensitivity", Sec::Robustness),
    ("heatmap-dimensions", Sec::Dimensions),
    ("contributions", Sec::Dimensions),
    ("radar", Sec::Dimensions),
    ("heatmap-indicators", Sec::Indicators),
    ("distributions", Sec::Indicators),
    ("correlations", Sec::Indicators),
    ("bump", Sec::Time),
    ("trends", Sec::Time),
];

/// The chart that draws the dimension table, shown right under it.
const TABLE_CHART: &str = "heatmap-dimensions";

/// Charts at least this wide (CSS pixels, as drawn) take a row of their own on screen.
const WIDE_PX: u32 = 1000;

/// The sections of the page, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sec {
    Ranking,
    Robustness,
    Dimensions,
    Indicators,
    Time,
    Profiles,
    Method,
    Notes,
}

impl Sec {
    fn id_title(self, rep: &Report) -> (&'static str, &'static str) {
        match self {
            Sec::Ranking => ("ranking", rep.t("排名", "Ranking")),
            Sec::Robustness => (
                "robustness",
                rep.t("排名的稳健性", "How stable the ranks are"),
            ),
            Sec::Dimensions => ("dimensions", rep.t("维度得分", "Dimension scores")),
            Sec::Indicators => ("indicators", rep.t("指标", "Indicators")),
            Sec::Time => ("time", rep.t("历时变化", "Over time")),
            Sec::Profiles => ("profiles", rep.t("单位概况", "Unit profiles")),
            Sec::Method => ("method", rep.t("方法说明", "Methodology")),
            Sec::Notes => ("notes", rep.t("本期说明", "Notes on this period")),
        }
    }
}

fn chart_section(name: &str) -> Sec {
    CHART_SECTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(Sec::Indicators, |&(_, s)| s)
}

/// The page being written: the report, the HTML so far, the sections and the figures.
struct Page<'r, 'a> {
    rep: &'r Report<'a>,
    /// The report's charts, drawn.
    charts: &'r [Chart],
    h: String,
    sections: Vec<Sec>,
    figures: usize,
}

/// Renders the page of `rep` with its `charts`.
pub fn render(rep: &Report, charts: &[Chart]) -> String {
    let mut sections = vec![Sec::Ranking];
    if rep.robustness.is_some() {
        sections.push(Sec::Robustness);
    }
    sections.push(Sec::Dimensions);
    let trends = rep.trends();
    let yoy = trends.as_ref().is_some_and(|t| t.year_ago[rep.p].is_some());
    for s in [Sec::Indicators, Sec::Time] {
        if charts
            .iter()
            .any(|c| c.name != "map" && chart_section(&c.name) == s)
            || (s == Sec::Time && yoy)
        {
            sections.push(s);
        }
    }
    if rep.profiles {
        sections.push(Sec::Profiles);
    }
    sections.extend([Sec::Method, Sec::Notes]);
    let mut pg = Page {
        rep,
        charts,
        h: String::new(),
        sections,
        figures: 0,
    };
    pg.head();
    pg.header();
    pg.headline();
    pg.nav();
    for s in pg.sections.clone() {
        // The robustness section is short: in print it follows the ranking charts on their
        // page instead of starting a page of its own.
        pg.h.push_str(if s == Sec::Robustness {
            "<section class=\"follow\">\n"
        } else {
            "<section>\n"
        });
        pg.heading(s);
        match s {
            Sec::Ranking => pg.ranking(),
            Sec::Robustness => pg.robustness(),
            Sec::Dimensions => pg.dimensions(),
            Sec::Indicators | Sec::Time => pg.figures(s),
            Sec::Profiles => super::profile::profiles(rep, &mut pg.h),
            Sec::Method => pg.method(),
            Sec::Notes => pg.notes(),
        }
        pg.h.push_str("</section>\n");
    }
    pg.footer();
    pg.h
}

/// Opens a titled, sideways-scrolling table with its header row (`(class, heading)` per column);
/// the caller writes the body and closes it.
fn table_start(h: &mut String, title: &str, class: &str, heads: &[(&str, &str)]) {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    let _ = write!(
        h,
        "<h3>{title}</h3>\n<div class=\"scroll\"><table{class}>\n<thead><tr>"
    );
    for (class, head) in heads {
        let _ = write!(h, "<th class=\"{class}\">{head}</th>");
    }
    h.push_str("</tr></thead>\n");
}

impl Page<'_, '_> {
    fn head(&mut self) {
        let rep = self.rep;
        let title = esc(&self.title());
        let period = rep.period_name();
        let title = if period.is_empty() {
            title
        } else {
            format!("{title} {}", esc(period))
        };
        let _ = write!(
            self.h,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"kapok {}\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            if rep.zh() { "zh-CN" } else { "en" },
            env!("CARGO_PKG_VERSION"),
        );
    }

    /// The framework's `[report] title`, or the index's name.
    fn title(&self) -> String {
        let rep = self.rep;
        rep.fw
            .report
            .title_per(rep.fw.rollup.per)
            .map_or(rep.name(0), |t| t.get(rep.lang))
            .to_string()
    }

    fn header(&mut self) {
        let rep = self.rep;
        let (fw, zh) = (rep.fw, rep.zh());
        let _ = writeln!(self.h, "<header>\n<h1>{}</h1>", esc(&self.title()));
        if let Some(issuer) = &fw.report.issuer {
            let _ = writeln!(self.h, "<p class=\"issuer\">{}</p>", rep.text_html(issuer));
        }
        let period = rep.period_name();
        let mut meta = Vec::new();
        if fw.report.title_per(fw.rollup.per).is_some() {
            meta.push(esc(rep.name(0)));
        }
        if !period.is_empty() {
            meta.push(match (zh, rep.prev_name()) {
                (true, Some(q)) => format!("统计期 {}（排名变化与 {} 比较）", esc(period), esc(q)),
                (true, None) => format!("统计期 {}", esc(period)),
                (false, Some(q)) => {
                    format!("Period {} (rank changes against {})", esc(period), esc(q))
                }
                (false, None) => format!("Period {}", esc(period)),
            });
        }
        let (units, dims, n_ind) = (rep.units().len(), rep.dims().len(), fw.indicators().len());
        meta.push(if zh {
            format!("{units} 个单位 · {dims} 个维度 · {n_ind} 项指标")
        } else {
            format!("{units} units · {dims} dimensions · {n_ind} indicators")
        });
        let _ = writeln!(self.h, "<p class=\"meta\">{}</p>", meta.join(" · "));
        if let Some(d) = &fw.description {
            let _ = writeln!(self.h, "<p class=\"desc\">{}</p>", rep.text_html(d));
        }
        if let Some(note) = &fw.report.note {
            let _ = writeln!(self.h, "<p class=\"pubnote\">{}</p>", rep.text_html(note));
        }
        self.h.push_str("</header>\n");
    }

    fn number(&self, s: Sec) -> String {
        let i = self.sections.iter().position(|&x| x == s).unwrap_or(0);
        if self.rep.zh() {
            format!("{}、", NUMERALS[i.min(NUMERALS.len() - 1)])
        } else {
            format!("{}. ", i + 1)
        }
    }

    fn nav(&mut self) {
        self.h.push_str("<nav><ol>");
        for &s in &self.sections {
            let (id, name) = s.id_title(self.rep);
            let _ = write!(
                self.h,
                "<li><a href=\"#{id}\">{}{name}</a></li>",
                self.number(s)
            );
        }
        self.h.push_str("</ol></nav>\n");
    }

    fn heading(&mut self, s: Sec) {
        let (id, name) = s.id_title(self.rep);
        let _ = writeln!(self.h, "<h2 id=\"{id}\">{}{name}</h2>", self.number(s));
    }

    /// One `<figure>`: `class` is `wide`, `solo` or `half`.
    fn figure(&mut self, c: &Chart, class: &str) {
        let rep = self.rep;
        self.figures += 1;
        let mime = match c.ext {
            "svg" => "image/svg+xml",
            "jpg" | "jpeg" => "image/jpeg",
            _ => "image/png",
        };
        let data = base64::engine::general_purpose::STANDARD.encode(&c.bytes);
        let caption = if rep.zh() {
            format!("图 {} {}", self.figures, esc(&c.title))
        } else {
            format!("Figure {}. {}", self.figures, esc(&c.title))
        };
        let _ = writeln!(
            self.h,
            "<figure id=\"chart-{}\" class=\"{class}\" style=\"--w:{}px\"><img src=\"data:{mime};base64,{data}\" width=\"{}\" height=\"{}\" alt=\"{}\"><figcaption>{caption}</figcaption></figure>",
            esc(&c.name),
            c.width,
            c.width,
            c.height,
            esc(&c.title)
        );
    }

    /// The charts of section `s` (the map aside) as a grid: wide charts on a row of their own,
    /// the others two by two; when they are odd in number, the widest takes a row alone.
    fn figures(&mut self, s: Sec) {
        self.figures_where(s, |_| true);
    }

    /// [`Self::figures`] for the charts of `s` that `keep` keeps.
    fn figures_where(&mut self, s: Sec, keep: impl Fn(&Chart) -> bool) {
        let mut charts: Vec<&Chart> = self
            .charts
            .iter()
            .filter(|c| c.name != "map" && chart_section(&c.name) == s && keep(c))
            .collect();
        // The listed order (a table's own chart first), then any other chart as drawn.
        charts.sort_by_key(|c| {
            CHART_SECTIONS
                .iter()
                .position(|(n, _)| *n == c.name)
                .unwrap_or(CHART_SECTIONS.len())
        });
        if charts.is_empty() {
            return;
        }
        let halves: Vec<usize> = (0..charts.len())
            .filter(|&i| charts[i].width < WIDE_PX)
            .collect();
        let solo = (halves.len() % 2 == 1)
            .then(|| halves.iter().copied().max_by_key(|&i| charts[i].width))
            .flatten();
        self.h.push_str("<div class=\"figs\">\n");
        for (i, c) in charts.iter().enumerate() {
            let class = if Some(i) == solo {
                "solo"
            } else if halves.contains(&i) {
                "half"
            } else {
                "wide"
            };
            self.figure(c, class);
        }
        self.h.push_str("</div>\n");
    }
}

impl Page<'_, '_> {
    /// The ranking table (with the map beside it when there is one) and the ranking charts.
    fn ranking(&mut self) {
        let rep = self.rep;
        let map = self.charts.iter().find(|c| c.name == "map");
        if map.is_some() {
            self.h.push_str("<div class=\"with-map\">\n");
        }
        self.ranking_table();
        if let Some(m) = map {
            self.figure(m, "map");
            self.h.push_str("</div>\n");
        }
        if let Some(rb) = &rep.robustness {
            for m in rb.messages() {
                let _ = writeln!(self.h, "<p class=\"robust\">{}</p>", esc(&m.text(rep.lang)));
            }
        }
        self.figures(Sec::Ranking);
    }

    fn ranking_table(&mut self) {
        let rep = self.rep;
        let panel = &rep.r.panel;
        let units = rep.units();
        let groups = rep.has_groups();
        let any_note = units.iter().any(|&u| rep.status_note(u).is_some());
        let trends = rep.trends();
        let year_ago = trends.as_ref().and_then(|t| t.year_ago[rep.p]);
        let h = &mut self.h;
        cut_note(rep, h);
        let start = h.len();
        h.push_str("<div class=\"scroll\"><table class=\"compact\">\n<thead><tr>");
        let _ = write!(h, "<th class=\"n\">{}</th>", rep.t("排名", "Rank"));
        // Each unit's rank interval over the robustness runs (5–95 %, whole ranks).
        let intervals: Option<Vec<Option<(u32, u32)>>> = rep.robustness.as_ref().map(|rb| {
            let a = &rb.analysis;
            (0..panel.units.len())
                .map(|u| {
                    let i = a.units.iter().position(|k| *k == panel.units[u])?;
                    a.rank_stats[i]
                        .filter(|s| s.runs > 0)
                        .map(|s| super::robustness::interval(&s))
                })
                .collect()
        });
        if intervals.is_some() {
            let _ = write!(
                h,
                "<th class=\"c\" title=\"{}\">{}</th>",
                rep.t(
                    "90% 的模拟结果落在此名次区间内（5%–95%）",
                    "90% of the simulated ranks lie in this interval (5%–95%)"
                ),
                rep.t("名次区间", "Rank interval"),
            );
        }
        if rep.prev.is_some() {
            let _ = write!(
                h,
                "<th class=\"c\">{}</th><th class=\"n\">{}</th>",
                rep.t("变化", "Change"),
                rep.t("上期", "Previous")
            );
        }
        // Year on year: the places climbed since the same period a year earlier (whose rank
        // the cell's tooltip gives).
        if let Some(q) = year_ago {
            let _ = write!(
                h,
                "<th class=\"c\" title=\"{}\">{}</th>",
                esc(&format!(
                    "{} {}",
                    rep.t("与去年同期比较：", "against"),
                    panel.periods[q]
                )),
                rep.t("同比", "YoY"),
            );
        }
        let _ = write!(
            h,
            "<th>{}</th><th>{}</th>",
            rep.t("代码", "Code"),
            rep.t("名称", "Name")
        );
        if groups {
            let _ = write!(
                h,
                "<th>{}</th><th class=\"n\">{}</th>",
                rep.t("所属组", "Group"),
                rep.t("组内排名", "Rank in group")
            );
        }
        let _ = write!(h, "<th class=\"n\">{}</th>", esc(rep.name(0)));
        // Score change over the year, only when scores are comparable across periods.
        let yoy_score = year_ago.is_some() && trends.as_ref().is_some_and(|t| t.comparable);
        if yoy_score {
            let _ = write!(h, "<th class=\"n\">{}</th>", rep.t("得分同比", "Score YoY"));
        }
        if trends.is_some() {
            let _ = write!(h, "<th class=\"c\">{}</th>", rep.t("趋势", "Trend"));
        }
        if any_note {
            let _ = write!(h, "<th>{}</th>", rep.t("说明", "Note"));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        each_unit_row(rep, h, start, |h, u| {
            let _ = write!(h, "<tr><td class=\"n\">{}</td>", rank(rep.rank(u, 0)));
            if let Some(iv) = &intervals {
                let text = match iv[u] {
                    Some((a, b)) if a == b => a.to_string(),
                    Some((a, b)) => format!("{a}–{b}"),
                    None => "–".into(),
                };
                let _ = write!(h, "<td class=\"c nw\">{text}</td>");
            }
            if rep.prev.is_some() {
                let change = rep.change(u);
                let class = change_class(&change);
                let _ = write!(
                    h,
                    "<td class=\"{class}\">{}</td><td class=\"n\">{}</td>",
                    esc(&change),
                    rank(rep.prev_rank(u))
                );
            }
            if let (Some(q), Some(t)) = (year_ago, &trends) {
                let places = match t.rank_yoy(rep.p, u, 0) {
                    Some(d) if d > 0 => format!("↑{d}"),
                    Some(d) if d < 0 => format!("↓{}", -d),
                    Some(_) => "=".into(),
                    None if rep.rank(u, 0).is_some() => rep.t("新", "new").into(),
                    None => "–".into(),
                };
                let before = rep.r.rank(q, u, 0);
                let tip = if before > 0 {
                    format!("{}: {before}", panel.periods[q])
                } else {
                    String::new()
                };
                let _ = write!(
                    h,
                    "<td class=\"{}\" title=\"{}\">{}</td>",
                    change_class(&places),
                    esc(&tip),
                    esc(&places),
                );
            }
            let _ = write!(
                h,
                "<td class=\"nw\">{}</td><td class=\"nw\">{}</td>",
                esc(&panel.units[u]),
                rep.unit_html(u)
            );
            if groups {
                let g = panel.group_name(u, rep.lang).unwrap_or("");
                let _ = write!(
                    h,
                    "<td>{}</td><td class=\"n\">{}</td>",
                    esc(g),
                    rank(rep.group_rank(u))
                );
            }
            let _ = write!(
                h,
                "<td class=\"n\"><b>{}</b></td>",
                rep.fmt_score(rep.score(u, 0))
            );
            if yoy_score && let Some(t) = &trends {
                let d = t.yoy(rep.p, u, 0);
                let text = if d.is_finite() {
                    let s = crate::format::fmt_fixed(d, rep.decimals);
                    if s.starts_with('-') || s.trim_start_matches(['0', '.']).is_empty() {
                        s
                    } else {
                        format!("+{s}")
                    }
                } else {
                    "–".into()
                };
                let _ = write!(h, "<td class=\"n\">{text}</td>");
            }
            if let Some(t) = &trends {
                let _ = match t.class_of(rep.p, u, 0) {
                    Some(c) => write!(
                        h,
                        "<td class=\"c trend {}\" title=\"{}\">{}</td>",
                        c.key(),
                        c.label(rep.lang),
                        c.arrow()
                    ),
                    None => write!(h, "<td class=\"c\"></td>"),
                };
            }
            if any_note {
                let _ = write!(h, "<td>{}</td>", esc(rep.status_note(u).unwrap_or("")));
            }
            h.push_str("</tr>\n");
        });
        h.push_str("</tbody>\n</table>");
        // The legend inside the table's box, so that the map beside it stays in place.
        if let Some(t) = &trends {
            let mut legend = crate::trend::legend(t.rule.window, t.rule.t, !t.comparable, rep.lang);
            if let Some(q) = year_ago {
                legend.push_str(&match rep.lang {
                    crate::framework::Lang::Zh => {
                        format!("。同比：与 {} 相比的名次变化", panel.periods[q])
                    }
                    crate::framework::Lang::En => {
                        format!(". YoY: places climbed since {}", panel.periods[q])
                    }
                });
            }
            let _ = write!(h, "<p class=\"legend\">{}</p>", esc(&legend));
        }
        h.push_str("</div>\n");
    }

    /// What varied in the robustness analysis, and its charts.
    fn robustness(&mut self) {
        let rep = self.rep;
        let Some(rb) = &rep.robustness else { return };
        let a = &rb.analysis;
        let settings: Vec<String> = super::robustness::settings(&rb.unc)
            .iter()
            .map(|s| s.text(rep.lang))
            .collect();
        let sampling = match (a.plan.sampling, rep.zh()) {
            (Some(crate::framework::uncertainty::Sampling::Sobol), true) => "Sobol 序列准随机",
            (Some(crate::framework::uncertainty::Sampling::Sobol), false) => {
                "quasi-random (Sobol sequence)"
            }
            (_, true) => "伪随机",
            (_, false) => "pseudo-random",
        };
        let runs = a.plan.runs.len();
        let seed = a.plan.seed;
        let text = if rep.zh() {
            format!(
                "本节检验：若以下设定在合理范围内变化——{}——各单位的名次会如何变化。共模拟 {runs} 次（{sampling}抽样，随机种子 {seed}），每次随机选取一组设定重新计算指数并排名。",
                settings.join("；")
            )
        } else {
            format!(
                "This section asks how the ranks would change if these choices were made differently, within reason: {}. The index was recomputed and ranked {runs} times ({sampling} draws, seed {seed}), each time with choices drawn at random.",
                settings.join("; ")
            )
        };
        let _ = writeln!(self.h, "<p>{}</p>", esc(&text));
        if rb.sensitivity.is_some() {
            let _ = writeln!(
                self.h,
                "<p>{}</p>",
                rep.t(
                    "敏感度图回答“哪项设定对名次影响最大”：条形越长，该设定引起的名次变动越大；蓝色为该设定单独的作用，橙色为它与其他设定共同作用的部分。",
                    "The sensitivity chart answers “which choice moves the ranks most”: the longer the bar, the more that choice moves the ranks; blue is its effect alone, orange its effect together with other choices."
                )
            );
        }
        self.figures(Sec::Robustness);
    }

    /// The headline paragraph under the header (see [`super::headline`]).
    fn headline(&mut self) {
        let rep = self.rep;
        let text = rep.headline();
        if !text.is_empty() {
            let _ = writeln!(
                self.h,
                "<p class=\"headline\">{}</p>",
                unbroken_periods(&esc(&text))
            );
        }
    }

    /// The dimension table, what drives the index, and the dimension charts.
    fn dimensions(&mut self) {
        let rep = self.rep;
        let eff = rep.fw.effective_weights();
        let dims = rep.dims();
        let h = &mut self.h;
        let _ = writeln!(
            h,
            "<p class=\"muted\">{}</p>",
            rep.t(
                "单元格为维度得分，右上角小字为该维度排名；表头下方为维度在指数中的有效权重。",
                "Cells are dimension scores with the unit's rank in that dimension in small type; under each heading, the dimension's effective weight in the index."
            )
        );
        cut_note(rep, h);
        let start = h.len();
        h.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
        let _ = write!(
            h,
            "<th class=\"n\">{}</th><th>{}</th>",
            rep.t("排名", "Rank"),
            rep.t("名称", "Name")
        );
        for &d in &dims {
            let _ = write!(
                h,
                "<th class=\"n\">{}<br><small>{}</small></th>",
                esc(rep.name(d)),
                pct(eff[d])
            );
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        each_unit_row(rep, h, start, |h, u| {
            let _ = write!(
                h,
                "<tr><td class=\"n\">{}</td><td class=\"nw\">{}</td>",
                rank(rep.rank(u, 0)),
                rep.unit_html(u)
            );
            for &d in &dims {
                let r = rep
                    .rank(u, d)
                    .map_or(String::new(), |k| format!("<sup class=\"r\">{k}</sup>"));
                let _ = write!(
                    h,
                    "<td class=\"n\">{}{r}</td>",
                    rep.fmt_score(rep.score(u, d))
                );
            }
            h.push_str("</tr>\n");
        });
        h.push_str("</tbody>\n</table></div>\n");
        // The table's own chart, then what drives the index, then the other charts.
        let own = |c: &Chart| c.name == TABLE_CHART;
        self.figures_where(Sec::Dimensions, own);
        super::drivers::drivers(rep, &mut self.h);
        self.figures_where(Sec::Dimensions, |c| !own(c));
    }

    fn method(&mut self) {
        let rep = self.rep;
        let zh = rep.zh();
        let (dims, n_ind) = (rep.dims().len(), rep.fw.indicators().len());
        let _ = writeln!(
            self.h,
            "<p>{}</p>",
            if zh {
                format!(
                    "本指数由 {dims} 个维度、{n_ind} 项指标构成。各指标按计算公式由部门数据算得原始值，经缺失值插补与异常值处理后标准化为可比得分，再按权重逐级聚合为维度得分与指数得分。有效权重为各级权重归一化后沿树相乘所得，即该项在指数中的实际分量。"
                )
            } else {
                format!(
                    "The index combines {dims} dimensions and {n_ind} indicators. Each indicator's raw value is computed from the departments' data by its formula, missing values are imputed and outliers treated, values are normalised to comparable scores and aggregated with the weights into dimension scores and the index. An effective weight is the product of the normalised weights down the tree: the share of the index that rests on that item."
                )
            }
        );
        let rows = rep.node_rows();
        let uniform = Uniform::of(rep, &rows);
        self.method_rules(&uniform);
        self.method_aggregates(&rows);
        self.method_indicators(&rows, &uniform);
    }

    /// The rules that hold for every indicator, the ranking rule, the sources and periods.
    fn method_rules(&mut self, uniform: &Uniform) {
        let rep = self.rep;
        let (fw, panel) = (rep.fw, &rep.r.panel);
        let mut items: Vec<(&str, String)> = vec![(
            rep.t("单位筛选", "Screening"),
            describe::screen(&fw.defaults.screen, rep.lang),
        )];
        let labels = [
            rep.t("缺失值插补（全部指标）", "Imputation (all indicators)"),
            rep.t(
                "异常值处理（全部指标）",
                "Outlier treatment (all indicators)",
            ),
            rep.t("标准化（全部指标）", "Normalisation (all indicators)"),
        ];
        for (label, m) in labels.into_iter().zip(&uniform.all) {
            if let Some(m) = m {
                items.push((label, m.clone()));
            }
        }
        items.push((rep.t("排名规则", "Ranking"), rep.rank_rule()));
        let sources: Vec<String> = fw
            .sources
            .iter()
            .map(|s| format!("{} ({})", s.name, s.path))
            .collect();
        if !sources.is_empty() {
            items.push((
                rep.t("数据来源", "Data sources"),
                sources.join(rep.t("；", "; ")),
            ));
        }
        if !rep.period_name().is_empty() {
            let first = panel.periods.first().map_or("", String::as_str);
            let last = panel.periods.last().map_or("", String::as_str);
            items.push((
                rep.t("数据期间", "Periods in the data"),
                format!("{first} … {last} ({})", panel.periods.len()),
            ));
        }
        self.h.push_str("<dl>\n");
        for (k, v) in items {
            let _ = writeln!(self.h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
        }
        self.h.push_str("</dl>\n");
    }

    /// The index and its dimensions: weights and aggregation.
    fn method_aggregates(&mut self, rows: &[super::NodeRow]) {
        let rep = self.rep;
        let h = &mut self.h;
        table_start(
            h,
            rep.t("指数与维度", "Index and dimensions"),
            "compact",
            &[
                ("", rep.t("名称", "Name")),
                ("", rep.t("代码", "ID")),
                ("n", rep.t("权重", "Weight")),
                ("n", rep.t("有效权重", "Effective weight")),
                ("", rep.t("聚合方法", "Aggregation")),
            ],
        );
        h.push_str("<tbody>\n");
        for row in rows
            .iter()
            .filter(|r| rep.fw.nodes[r.node].indicator().is_none())
        {
            let n = &rep.fw.nodes[row.node];
            let weight = if row.node == 0 {
                "–".into()
            } else {
                describe::num(n.weight)
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"ind{}\">{}</td><td><code class=\"id\">{}</code></td><td class=\"n\">{weight}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                row.depth.min(3),
                esc(rep.name(row.node)),
                esc(&n.id),
                pct(row.effective),
                esc(&row.aggregate)
            );
        }
        h.push_str("</tbody>\n</table></div>\n");
    }

    /// Every indicator under its dimension: a row of short columns, and under it a row across
    /// the table with the formula and the methods that differ between indicators — so no
    /// column is ever squeezed to a character's width.
    fn method_indicators(&mut self, rows: &[super::NodeRow], uniform: &Uniform) {
        let rep = self.rep;
        let fw = rep.fw;
        let h = &mut self.h;
        table_start(
            h,
            rep.t("指标", "Indicators"),
            "",
            &[
                ("", rep.t("指标", "Indicator")),
                ("", rep.t("单位", "Unit")),
                ("", rep.t("方向", "Direction")),
                ("n", rep.t("权重", "Weight")),
                ("n", rep.t("有效权重", "Effective weight")),
            ],
        );
        let method_labels = [
            rep.t("缺失值插补", "Imputation"),
            rep.t("异常值处理", "Outlier treatment"),
            rep.t("标准化", "Normalisation"),
        ];
        for row in rows.iter().filter(|r| r.node != 0) {
            let n = &fw.nodes[row.node];
            if n.indicator().is_none() {
                let _ = writeln!(
                    h,
                    "<tbody><tr class=\"agg\"><td colspan=\"5\">{}</td></tr></tbody>",
                    esc(rep.name(row.node))
                );
                continue;
            }
            let _ = writeln!(
                h,
                "<tbody class=\"ind\"><tr><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(rep.name(row.node)),
                esc(&row.unit),
                esc(&row.direction),
                describe::num(n.weight),
                pct(row.effective),
            );
            let mut parts = vec![format!(
                "{}{} <code>{} = {}</code>",
                rep.t("计算公式", "Formula"),
                rep.t("：", ":"),
                esc(&n.id),
                esc(row.expr.trim())
            )];
            let texts = [&row.impute, &row.treat, &row.normalise];
            for ((label, all), text) in method_labels.iter().zip(&uniform.all).zip(texts) {
                if all.is_none() {
                    parts.push(format!("{label}{}{}", rep.t("：", ": "), esc(text)));
                }
            }
            let _ = writeln!(
                h,
                "<tr class=\"formula\"><td colspan=\"5\">{}</td></tr></tbody>",
                parts.join(" · ")
            );
        }
        h.push_str("</table></div>\n");
    }

    fn notes(&mut self) {
        let rep = self.rep;
        let h = &mut self.h;
        let notes = rep.period_notes();
        if notes.is_empty() {
            let _ = writeln!(
                h,
                "<p>{}</p>",
                rep.t(
                    "本期数据完整：没有缺失值，没有异常值处理，全部单位参与排名。",
                    "The period's data are complete: no missing value, no outlier treated, every unit ranked."
                )
            );
        } else {
            h.push_str("<ul class=\"notes\">\n");
            for n in &notes {
                let _ = writeln!(h, "<li>{}</li>", esc(n));
            }
            h.push_str("</ul>\n");
        }
        if !rep.warnings.is_empty() {
            let _ = writeln!(
                h,
                "<h3>{}</h3>\n<ul class=\"notes\">",
                rep.t(
                    "计算过程提示（全部期间）",
                    "Warnings of the run (all periods)"
                )
            );
            for w in rep.warnings {
                let _ = writeln!(h, "<li>{}</li>", esc(w));
            }
            h.push_str("</ul>\n");
        }
    }

    fn footer(&mut self) {
        let rep = self.rep;
        let sha = &rep.framework_sha[..12];
        let fw_path = esc(&rep.framework_path);
        let version = env!("CARGO_PKG_VERSION");
        let _ = writeln!(
            self.h,
            "<footer>{}</footer>\n</body>\n</html>",
            if rep.zh() {
                format!(
                    "kapok {version} 生成 · 框架 <code>{fw_path}</code>（sha256 {sha}…）· 全部输入与输出文件的校验值见 manifest.json"
                )
            } else {
                format!(
                    "Generated by kapok {version} · framework <code>{fw_path}</code> (sha256 {sha}…) · checksums of every input and output file are in manifest.json"
                )
            }
        );
    }
}

/// CSS class of a change of rank: green up, red down.
pub(super) fn change_class(change: &str) -> &'static str {
    if change.starts_with('↑') {
        "c up"
    } else if change.starts_with('↓') {
        "c down"
    } else {
        "c"
    }
}

/// The imputation, outlier treatment and normalisation, in words, when every indicator has
/// the same one (then it is said once, not per indicator).
struct Uniform {
    all: [Option<String>; 3],
}

impl Uniform {
    fn of(rep: &Report, rows: &[super::NodeRow]) -> Self {
        let inds: Vec<&super::NodeRow> = rows
            .iter()
            .filter(|r| rep.fw.nodes[r.node].indicator().is_some())
            .collect();
        let same = |f: fn(&super::NodeRow) -> &String| -> Option<String> {
            let first = f(inds.first()?);
            inds.iter().all(|r| f(r) == first).then(|| first.clone())
        };
        Self {
            all: [
                same(|r| &r.impute),
                same(|r| &r.treat),
                same(|r| &r.normalise),
            ],
        }
    }
}

/// `html` with every period (`2023-11`, `2023-Q4`) in a span that does not break at its hyphen,
/// so that a line never ends in "2023-" with "11" on the next.
fn unbroken_periods(html: &str) -> String {
    let b = html.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        let starts = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let month = digits(i + 5..i + 7);
        let quarter = b.get(i + 5) == Some(&b'Q') && digits(i + 6..i + 7);
        let ends = !b.get(i + 7).is_some_and(u8::is_ascii_alphanumeric);
        if starts && digits(i..i + 4) && b.get(i + 4) == Some(&b'-') && (month || quarter) && ends {
            out.push_str(&html[last..i]);
            out.push_str("<span class=\"nw\">");
            out.push_str(&html[i..i + 7]);
            out.push_str("</span>");
            i += 7;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&html[last..]);
    out
}

/// The number of columns of a table whose header row is `head` (from `<table` to its `</tr>`).
fn columns_of(head: &str) -> usize {
    head.matches("<th>").count() + head.matches("<th ").count()
}

/// Each row of a unit table after its header (which starts at `start` in `h`): `row` writes a
/// unit's, in [`super::Report::table_rows`] order; a table cut short has its gap row between
/// its top and its bottom.
fn each_unit_row(
    rep: &super::Report,
    h: &mut String,
    start: usize,
    mut row: impl FnMut(&mut String, usize),
) {
    let cols = columns_of(&h[start..]);
    for r in rep.table_rows() {
        match r {
            Ok(u) => row(h, u),
            Err(left_out) => gap(rep, h, cols, left_out),
        }
    }
}

/// Above a unit table cut short ([`super::Report::table_rows`]): which units it lists, and
/// where every unit is. Nothing above a whole table.
fn cut_note(rep: &super::Report, h: &mut String) {
    let rows = rep.table_rows();
    let Some(&Err(left_out)) = rows.iter().find(|r| r.is_err()) else {
        return;
    };
    let (shown, total) = (rows.len() - 1, rows.len() - 1 + left_out);
    let (n, [sheet, ..]) = (shown / 2, super::xlsx::sheet_names(rep.zh()));
    let text = if rep.zh() {
        format!(
            "共 {total} 个单位，下表列出前 {n} 名与后 {n} 名；全部排名见 results.xlsx 的“{sheet}”表。"
        )
    } else {
        format!(
            "Of {total} units, the table lists the top {n} and the bottom {n}; every unit is in results.xlsx (sheet “{sheet}”)."
        )
    };
    let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(&text));
}

/// The row of a unit table cut short ([`super::Report::table_rows`]) that stands for the
/// `left_out` units between its top and its bottom, and says where they are.
fn gap(rep: &super::Report, h: &mut String, cols: usize, left_out: usize) {
    let [sheet, ..] = super::xlsx::sheet_names(rep.zh());
    let text = if rep.zh() {
        format!(
            "…… 中间 {left_out} 个单位从略；全部排名见 results.xlsx 的“{sheet}”表和 results.parquet"
        )
    } else {
        format!(
            "… {left_out} units in between left out; every unit is in results.xlsx (sheet “{sheet}”) and results.parquet"
        )
    };
    let _ = writeln!(
        h,
        "<tr class=\"gap\"><td colspan=\"{cols}\">{}</td></tr>",
        esc(&text)
    );
}

#[cfg(test)]
mod tests {
    use super::{esc, unbroken_periods};

    #[test]
    fn periods_do_not_break_at_their_hyphen() {
        assert_eq!(
            unbroken_periods("与 2023-11 相比；2022-Q4（同期）"),
            "与 <span class=\"nw\">2023-11</span> 相比；<span class=\"nw\">2022-Q4</span>（同期）"
        );
        // Not periods: a longer number, a date's month inside it, a range's text kept whole.
        for s in [
            "12023-11", "2023-115", "x2023-11", "2023-1", "2023-Q", "2023",
        ] {
            assert_eq!(unbroken_periods(s), s);
        }
        assert_eq!(
            unbroken_periods("2023-12"),
            "<span class=\"nw\">2023-12</span>"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("a < b & \"c\" 'd'"),
            "a &lt; b &amp; &quot;c&quot; &#39;d&#39;"
        );
    }
}
