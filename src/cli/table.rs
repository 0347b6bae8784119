//! Terminal tables: the ranking of one period with rank changes and dimension scores.

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};

use crate::evaluate::{RankChange, Results};
use crate::framework::{Framework, Lang};

/// A score with `digits` decimals, or a dash when there is none.
fn fmt_score(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "–".into()
    }
}

/// Decimals of the period's scores of the nodes a ranking reads ([`nodes_read`]; see
/// [`crate::format::score_decimals`]).
fn score_decimals(fw: &Framework, r: &Results, p: usize) -> usize {
    let scores = read(fw)
        .into_iter()
        .flat_map(|n| r.scores.of(p, n).into_iter().copied());
    crate::format::score_decimals(fw.rank.digits, scores)
}

/// The nodes a ranking or a comparison reads: the aggregates (the index, its dimensions and
/// whatever trends are fitted for) and the index's children.
fn read(fw: &Framework) -> Vec<usize> {
    let mut nodes = fw.aggregates_preorder();
    nodes.extend(&fw.index().children);
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// What an evaluation for a ranking keeps: the scores of the nodes it reads.
pub fn nodes_read(fw: &Framework) -> crate::Keep {
    crate::Keep::Nodes(read(fw))
}

/// Lines above and below the table and under the header; none between rows.
const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// Rank change against the previous period as terminal text: `↑2`, `↓1`, `=`, `new`, or `–`
/// when there is no rank now.
pub fn rank_change(prev: u32, now: u32) -> String {
    change_text(RankChange::between(prev, now))
}

/// Terminal text of a [`RankChange`].
pub fn change_text(c: RankChange) -> String {
    match c {
        RankChange::Unranked => "–".into(),
        RankChange::New => "new".into(),
        RankChange::Up(k) => format!("↑{k}"),
        RankChange::Down(k) => format!("↓{k}"),
        RankChange::Same => "=".into(),
    }
}

/// A column header for a node: its name in `lang`, long names on several lines.
fn short_name(fw: &Framework, node: usize, lang: Lang) -> String {
    wrap(fw.nodes[node].name.get(lang), HEADER_WIDTH)
}

/// Widest line of a column header, in characters.
const HEADER_WIDTH: usize = 16;

/// `s` broken at spaces into lines of at most `width` characters (a longer word stays whole).
fn wrap(s: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in s.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

/// The ranking of period `p`: rank, change against `prev` (when given), unit, name, the index's
/// trend arrow (see [`crate::trend`]; legend under the table when the data have periods), index score
/// and the scores of the index's dimensions, best first; scores with the decimals of
/// [`crate::format::score_decimals`].
pub fn ranking(fw: &Framework, r: &Results, p: usize, prev: Option<usize>, lang: Lang) -> String {
    let panel = &r.panel;
    let zh = lang == Lang::Zh;
    let dims = &fw.index().children;
    let digits = score_decimals(fw, r, p);
    let mut header: Vec<String> = vec![
        if zh { "排名" } else { "rank" }.into(),
        if zh { "变化" } else { "change" }.into(),
        if zh { "代码" } else { "unit" }.into(),
        if zh { "名称" } else { "name" }.into(),
        if zh { "趋势" } else { "trend" }.into(),
        short_name(fw, 0, lang),
    ];
    header.extend(dims.iter().map(|&d| short_name(fw, d, lang)));
    let mut rows: Vec<usize> = (0..panel.units.len())
        .filter(|&u| r.status[[p, u]] != crate::evaluate::Status::Absent)
        .collect();
    crate::evaluate::sort_best_first(r, p, &mut rows);
    let trends = (fw.units.period.is_some()).then(|| crate::trend::Trends::at(fw, r, &[p]));
    let mut t = Table::new();
    t.load_style(STYLE);
    t.set_header(header);
    for u in rows {
        let now = r.rank(p, u, 0);
        let mut line = vec![
            if now == 0 {
                "–".to_string()
            } else {
                now.to_string()
            },
            prev.map_or(String::new(), |q| match r.rank_change(0, q, p, u) {
                RankChange::New if zh => "新".into(),
                c => change_text(c),
            }),
            panel.units[u].clone(),
            panel.unit_name(u, lang).to_string(),
            trends
                .as_ref()
                .and_then(|t| t.class_of(p, u, 0))
                .map_or("", |c| c.arrow())
                .to_string(),
            fmt_score(r.scores[[p, u, 0]], digits),
        ];
        line.extend(dims.iter().map(|&d| fmt_score(r.scores[[p, u, d]], digits)));
        t.add_row(line);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        match i {
            2 | 3 => {}
            4 => col.set_cell_alignment(CellAlignment::Center),
            _ => col.set_cell_alignment(CellAlignment::Right),
        }
    }
    match trends {
        Some(tr) => format!(
            "{t}\n{}\n",
            crate::trend::legend(tr.rule.window, tr.rule.t, !tr.comparable, lang)
        ),
        None => format!("{t}\n"),
    }
}

/// Periods `p` and `q` side by side, best first in `p`: the rank and index score in each and
/// the change from `q` to `p`. Score changes only when scores are comparable across periods
/// (else a note says why they are left out).
pub fn compare(fw: &Framework, r: &Results, p: usize, q: usize, lang: Lang) -> String {
    let panel = &r.panel;
    let zh = lang == Lang::Zh;
    let digits = score_decimals(fw, r, p);
    let comparable = fw.comparable_across_periods();
    let (pn, qn) = (&panel.periods[p], &panel.periods[q]);
    let mut header: Vec<String> = vec![
        if zh { "代码" } else { "unit" }.into(),
        if zh { "名称" } else { "name" }.into(),
        format!("{} {pn}", if zh { "排名" } else { "rank" }),
        format!("{} {qn}", if zh { "排名" } else { "rank" }),
        if zh { "名次变化" } else { "places" }.into(),
        format!("{} {pn}", if zh { "得分" } else { "score" }),
        format!("{} {qn}", if zh { "得分" } else { "score" }),
    ];
    if comparable {
        header.push(if zh { "得分变化" } else { "change" }.into());
    }
    let mut rows: Vec<usize> = (0..panel.units.len())
        .filter(|&u| {
            r.status[[p, u]] != crate::evaluate::Status::Absent
                || r.status[[q, u]] != crate::evaluate::Status::Absent
        })
        .collect();
    crate::evaluate::sort_best_first(r, p, &mut rows);
    let rank = |k: u32| {
        if k == 0 {
            "–".to_string()
        } else {
            k.to_string()
        }
    };
    let mut t = Table::new();
    t.load_style(STYLE);
    t.set_header(header);
    for u in rows {
        let (now, then) = (r.rank(p, u, 0), r.rank(q, u, 0));
        let mut line = vec![
            panel.units[u].clone(),
            panel.unit_name(u, lang).to_string(),
            rank(now),
            rank(then),
            match RankChange::between(then, now) {
                RankChange::New if zh => "新".into(),
                c => change_text(c),
            },
            fmt_score(r.scores[[p, u, 0]], digits),
            fmt_score(r.scores[[q, u, 0]], digits),
        ];
        if comparable {
            line.push(
                crate::trend::change(r.scores[[p, u, 0]], r.scores[[q, u, 0]])
                    .map_or("–".into(), |d| format!("{d:+.digits$}")),
            );
        }
        t.add_row(line);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        if i > 1 {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let title = match lang {
        Lang::Zh => format!("{} — {pn} 与 {qn} 对比\n", fw.index().name.get(lang)),
        Lang::En => format!("{} — {pn} against {qn}\n", fw.index().name.get(lang)),
    };
    let note = if comparable {
        String::new()
    } else if zh {
        "注：各期得分按当期数据分别标准化，不同期的得分不可直接比较，故不列得分变化；请比较名次。\n"
            .into()
    } else {
        "note: scores are normalised within each period, so scores of different periods are not comparable and no score change is shown; compare ranks.\n".into()
    };
    format!("{title}{t}\n{note}")
}

#[cfg(test)]
mod tests {
    use super::{rank_change, wrap};

    #[test]
    fn wraps_headers_at_spaces() {
        assert_eq!(
            wrap("Public order and crime", 16),
            "Public order and\ncrime"
        );
        assert_eq!(wrap("治安秩序", 16), "治安秩序");
        assert_eq!(
            wrap("Community co-policing (Guangzhou Jiefang)", 16),
            "Community\nco-policing\n(Guangzhou\nJiefang)"
        );
    }

    #[test]
    fn changes() {
        assert_eq!(rank_change(5, 3), "↑2");
        assert_eq!(rank_change(3, 4), "↓1");
        assert_eq!(rank_change(2, 2), "=");
        assert_eq!(rank_change(0, 2), "new");
        assert_eq!(rank_change(2, 0), "–");
    }
}
