//! `index.html`: one self-contained page (inline CSS, charts as data URIs, no script, no
//! external request) that prints cleanly on A4.

use std::fmt::Write;

use base64::Engine;

use super::{Report, describe};

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

fn score(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

fn rank(v: Option<u32>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --head: #f3f4f6; --accent: #b4232a; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 28px 36px 40px; color: var(--ink);
  font: 14px/1.6 "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
  "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 10px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: .02em; }
.meta { color: var(--muted); margin: 0; }
.desc { margin: 6px 0 0; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-left: 10px; border-left: 4px solid var(--accent); }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 10px 0 0; padding: 0; list-style: none; }
nav a { color: var(--muted); text-decoration: none; } nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
table.compact { width: auto; min-width: 55%; }
td.ind-name { min-width: 10em; }
td.method { min-width: 10em; }
code.id { white-space: nowrap; }
th, td { padding: 4px 8px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
thead th { background: var(--head); border-top: 1.5px solid var(--ink); border-bottom: 1px solid var(--ink);
  font-weight: 600; vertical-align: bottom; }
tbody tr:last-child td { border-bottom: 1.5px solid var(--ink); }
.n { text-align: right; font-variant-numeric: tabular-nums; } td.n { white-space: nowrap; }
.c { text-align: center; white-space: nowrap; }
.nw { white-space: nowrap; }
.up { color: #1a7f37; } .down { color: #b4232a; }
sup.r { color: var(--muted); font-size: 10px; margin-left: 2px; }
th small, .muted { color: var(--muted); font-weight: normal; }
.ind1 { padding-left: 22px; } .ind2 { padding-left: 38px; } .ind3 { padding-left: 54px; }
tr.agg td { background: #fafbfc; font-weight: 600; }
code { font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre-wrap;
  word-break: break-word; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0 12px; }
dt { color: var(--muted); } dd { margin: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
ul.notes { padding-left: 20px; margin: 6px 0; }
footer { margin-top: 36px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
  .charts { display: block; } figure { margin: 0 0 12px; }
  thead th, tr.agg td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Renders the page.
pub fn render(rep: &Report) -> String {
    let fw = rep.fw;
    let panel = &rep.r.panel;
    let zh = rep.zh();
    let mut h = String::new();
    let index_name = esc(rep.name(0));
    let period = rep.period_name();
    let title = if period.is_empty() {
        index_name.clone()
    } else {
        format!("{index_name} {}", esc(period))
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"kapok {}\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        if zh { "zh-CN" } else { "en" },
        env!("CARGO_PKG_VERSION"),
    );

    // Header.
    let units = rep.units();
    let dims = rep.dims();
    let n_ind = fw.indicators().len();
    let _ = write!(h, "<header>\n<h1>{index_name}</h1>\n<p class=\"meta\">");
    let mut meta = Vec::new();
    if !period.is_empty() {
        meta.push(match (zh, rep.prev_name()) {
            (true, Some(q)) => format!("统计期 {}（排名变化与 {} 比较）", esc(period), esc(q)),
            (true, None) => format!("统计期 {}", esc(period)),
            (false, Some(q)) => format!("Period {} (rank changes against {})", esc(period), esc(q)),
            (false, None) => format!("Period {}", esc(period)),
        });
    }
    meta.push(if zh {
        format!(
            "{} 个单位 · {} 个维度 · {} 项指标",
            units.len(),
            dims.len(),
            n_ind
        )
    } else {
        format!(
            "{} units · {} dimensions · {} indicators",
            units.len(),
            dims.len(),
            n_ind
        )
    });
    h.push_str(&meta.join(" · "));
    h.push_str("</p>\n");
    if let Some(d) = &fw.description {
        let _ = writeln!(h, "<p class=\"desc\">{}</p>", rep.text_html(d));
    }
    h.push_str("</header>\n");

    let sections: Vec<(&str, &str)> = vec![
        ("ranking", rep.t("排名", "Ranking")),
        ("dimensions", rep.t("维度得分", "Dimension scores")),
        ("charts", rep.t("图表", "Charts")),
        ("method", rep.t("方法说明", "Methodology")),
        ("notes", rep.t("本期说明", "Notes on this period")),
    ];
    let heading = |i: usize| -> String {
        let (id, name) = sections[i];
        if zh {
            format!("<h2 id=\"{id}\">{}、{name}</h2>\n", NUMERALS[i])
        } else {
            format!("<h2 id=\"{id}\">{}. {name}</h2>\n", i + 1)
        }
    };
    h.push_str("<nav><ol>");
    for (i, (id, name)) in sections.iter().enumerate() {
        let number = if zh {
            format!("{}、", NUMERALS[i])
        } else {
            format!("{}. ", i + 1)
        };
        let _ = write!(h, "<li><a href=\"#{id}\">{number}{name}</a></li>");
    }
    h.push_str("</ol></nav>\n");

    // 1. Ranking.
    h.push_str("<section>\n");
    h.push_str(&heading(0));
    let groups = rep.has_groups();
    let any_note = units.iter().any(|&u| rep.status_note(u).is_some());
    h.push_str("<table class=\"compact\">\n<thead><tr>");
    let _ = write!(h, "<th class=\"n\">{}</th>", rep.t("排名", "Rank"));
    if rep.prev.is_some() {
        let _ = write!(
            h,
            "<th class=\"c\">{}</th><th class=\"n\">{}</th>",
            rep.t("变化", "Change"),
            rep.t("上期", "Previous")
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
    let _ = write!(h, "<th class=\"n\">{index_name}</th>");
    if any_note {
        let _ = write!(h, "<th>{}</th>", rep.t("说明", "Note"));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for &u in &units {
        let _ = write!(h, "<tr><td class=\"n\">{}</td>", rank(rep.rank(u, 0)));
        if rep.prev.is_some() {
            let change = rep.change(u);
            let class = if change.starts_with('↑') {
                "c up"
            } else if change.starts_with('↓') {
                "c down"
            } else {
                "c"
            };
            let _ = write!(
                h,
                "<td class=\"{class}\">{}</td><td class=\"n\">{}</td>",
                esc(&change),
                rank(rep.prev_rank(u))
            );
        }
        let _ = write!(
            h,
            "<td class=\"nw\">{}</td><td>{}</td>",
            esc(&panel.units[u]),
            rep.unit_html(u)
        );
        if groups {
            let g = panel.groups.as_ref().map_or("", |g| g[u].as_str());
            let _ = write!(
                h,
                "<td>{}</td><td class=\"n\">{}</td>",
                esc(g),
                rank(rep.group_rank(u))
            );
        }
        let _ = write!(h, "<td class=\"n\"><b>{}</b></td>", score(rep.score(u, 0)));
        if any_note {
            let _ = write!(h, "<td>{}</td>", esc(rep.status_note(u).unwrap_or("")));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    // 2. Dimension scores.
    let eff = fw.effective_weights();
    h.push_str("<section>\n");
    h.push_str(&heading(1));
    let _ = writeln!(
        h,
        "<p class=\"muted\">{}</p>",
        rep.t(
            "单元格为维度得分，右上角小字为该维度排名；表头下方为维度在指数中的有效权重。",
            "Cells are dimension scores with the unit's rank in that dimension in small type; under each heading, the dimension's effective weight in the index."
        )
    );
    h.push_str("<table>\n<thead><tr>");
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
    for &u in &units {
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
            let _ = write!(h, "<td class=\"n\">{}{r}</td>", score(rep.score(u, d)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    // 3. Charts.
    h.push_str("<section>\n");
    h.push_str(&heading(2));
    h.push_str("<div class=\"charts\">\n");
    for (i, c) in rep.charts.iter().enumerate() {
        let mime = match c.ext {
            "svg" => "image/svg+xml",
            "jpg" | "jpeg" => "image/jpeg",
            _ => "image/png",
        };
        let data = base64::engine::general_purpose::STANDARD.encode(&c.bytes);
        let caption = if zh {
            format!("图 {} {}", i + 1, esc(&c.title))
        } else {
            format!("Figure {}. {}", i + 1, esc(&c.title))
        };
        let _ = writeln!(
            h,
            "<figure id=\"chart-{}\"><img src=\"data:{mime};base64,{data}\" alt=\"{}\"><figcaption>{caption}</figcaption></figure>",
            esc(&c.name),
            esc(&c.title)
        );
    }
    h.push_str("</div>\n</section>\n");

    // 4. Methodology.
    h.push_str("<section>\n");
    h.push_str(&heading(3));
    let _ = writeln!(
        h,
        "<p>{}</p>",
        if zh {
            format!(
                "本指数由 {} 个维度、{} 项指标构成。各指标按计算公式由部门数据算得原始值，经缺失值插补与异常值处理后标准化为可比得分，再按权重逐级聚合为维度得分与指数得分。有效权重为各级权重归一化后沿树相乘所得，即该项在指数中的实际分量。",
                dims.len(),
                n_ind
            )
        } else {
            format!(
                "The index combines {} dimensions and {} indicators. Each indicator's raw value is computed from the departments' data by its formula, missing values are imputed and outliers treated, values are normalised to comparable scores and aggregated with the weights into dimension scores and the index. An effective weight is the product of the normalised weights down the tree: the share of the index that rests on that item.",
                dims.len(),
                n_ind
            )
        }
    );
    let rows = rep.node_rows();
    let inds: Vec<&super::NodeRow> = rows
        .iter()
        .filter(|r| fw.nodes[r.node].indicator().is_some())
        .collect();
    let uniform = |f: fn(&super::NodeRow) -> &String| -> Option<String> {
        let first = inds.first().map(|r| f(r))?;
        inds.iter().all(|r| f(r) == first).then(|| first.clone())
    };
    let impute_all = uniform(|r| &r.impute);
    let treat_all = uniform(|r| &r.treat);
    let norm_all = uniform(|r| &r.normalise);
    h.push_str("<dl>\n");
    let mut item = |k: &str, v: &str| {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    };
    item(
        rep.t("单位筛选", "Screening"),
        &describe::screen(&fw.defaults.screen, rep.lang),
    );
    if let Some(m) = &impute_all {
        item(
            rep.t("缺失值插补（全部指标）", "Imputation (all indicators)"),
            m,
        );
    }
    if let Some(m) = &treat_all {
        item(
            rep.t(
                "异常值处理（全部指标）",
                "Outlier treatment (all indicators)",
            ),
            m,
        );
    }
    if let Some(m) = &norm_all {
        item(
            rep.t("标准化（全部指标）", "Normalisation (all indicators)"),
            m,
        );
    }
    item(rep.t("排名规则", "Ranking"), &rep.rank_rule());
    let sources: Vec<String> = fw
        .sources
        .iter()
        .map(|s| format!("{} ({})", s.name, s.path))
        .collect();
    if !sources.is_empty() {
        item(
            rep.t("数据来源", "Data sources"),
            &sources.join(rep.t("；", "; ")),
        );
    }
    if !period.is_empty() {
        let first = panel.periods.first().map_or("", String::as_str);
        let last = panel.periods.last().map_or("", String::as_str);
        item(
            rep.t("数据期间", "Periods in the data"),
            &format!("{first} … {last} ({})", panel.periods.len()),
        );
    }
    h.push_str("</dl>\n");

    let _ = write!(
        h,
        "<h3>{}</h3>\n<table class=\"compact\">\n<thead><tr>",
        rep.t("指数与维度", "Index and dimensions")
    );
    for (class, head) in [
        ("", rep.t("名称", "Name")),
        ("", rep.t("代码", "ID")),
        ("n", rep.t("权重", "Weight")),
        ("n", rep.t("有效权重", "Effective weight")),
        ("", rep.t("聚合方法", "Aggregation")),
    ] {
        let _ = write!(h, "<th class=\"{class}\">{head}</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows
        .iter()
        .filter(|r| fw.nodes[r.node].indicator().is_none())
    {
        let n = &fw.nodes[row.node];
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
    h.push_str("</tbody>\n</table>\n");

    let _ = write!(
        h,
        "<h3>{}</h3>\n<table>\n<thead><tr>",
        rep.t("指标", "Indicators")
    );
    let mut heads: Vec<(&str, &str)> = vec![
        ("", rep.t("指标", "Indicator")),
        ("", rep.t("单位", "Unit")),
        ("", rep.t("方向", "Direction")),
        ("n", rep.t("权重", "Weight")),
        ("n", rep.t("有效权重", "Effective weight")),
        ("", rep.t("计算公式", "Formula")),
    ];
    if impute_all.is_none() {
        heads.push(("", rep.t("缺失值插补", "Imputation")));
    }
    if treat_all.is_none() {
        heads.push(("", rep.t("异常值处理", "Outlier treatment")));
    }
    if norm_all.is_none() {
        heads.push(("", rep.t("标准化", "Normalisation")));
    }
    for (class, head) in heads {
        let _ = write!(h, "<th class=\"{class}\">{head}</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let cols = 6 + [&impute_all, &treat_all, &norm_all]
        .iter()
        .filter(|m| m.is_none())
        .count();
    for row in &rows {
        let n = &fw.nodes[row.node];
        if row.node == 0 {
            continue;
        }
        if n.indicator().is_none() {
            let _ = writeln!(
                h,
                "<tr class=\"agg\"><td colspan=\"{cols}\">{}</td></tr>",
                esc(rep.name(row.node))
            );
            continue;
        }
        let _ = write!(
            h,
            "<tr><td class=\"ind-name\">{}<br><code class=\"id muted\">{}</code></td><td>{}</td><td class=\"nw\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td>",
            esc(rep.name(row.node)),
            esc(&n.id),
            esc(&row.unit),
            esc(&row.direction),
            describe::num(n.weight),
            pct(row.effective),
            esc(row.expr.trim())
        );
        for (all, text) in [
            (&impute_all, &row.impute),
            (&treat_all, &row.treat),
            (&norm_all, &row.normalise),
        ] {
            if all.is_none() {
                let _ = write!(h, "<td class=\"method\">{}</td>", esc(text));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    // 5. Notes.
    h.push_str("<section>\n");
    h.push_str(&heading(4));
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
    }
    if !notes.is_empty() {
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
    h.push_str("</section>\n");

    let sha = &rep.framework_sha[..12];
    let fw_path = esc(&rep.framework_path);
    let version = env!("CARGO_PKG_VERSION");
    let _ = writeln!(
        h,
        "<footer>{}</footer>\n</body>\n</html>",
        if zh {
            format!(
                "kapok {version} 生成 · 框架 <code>{fw_path}</code>（sha256 {sha}…）· 全部输入与输出文件的校验值见 manifest.json"
            )
        } else {
            format!(
                "Generated by kapok {version} · framework <code>{fw_path}</code> (sha256 {sha}…) · checksums of every input and output file are in manifest.json"
            )
        }
    );
    h
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("a < b & \"c\" 'd'"),
            "a &lt; b &amp; &quot;c&quot; &#39;d&#39;"
        );
    }
}
