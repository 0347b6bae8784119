//! The headline paragraph at the top of the report: who leads, who rose and fell most against
//! the previous period and the same period a year earlier, which dimension moved most, and how
//! much data was imputed — generated from the results, in Chinese or English, the same words
//! for the same results.
//!
//! Rank changes are always given; a dimension's movement is a mean absolute score change only
//! when scores are comparable across periods ([`Framework::comparable_across_periods`]), else a
//! mean absolute change of rank, and the sentence says so.

use crate::evaluate::Results;
use crate::format::{fmt_fixed, fmt_value};
use crate::framework::{Framework, Lang};
use crate::trend::{self, Trends};

/// English ordinal of a rank: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Chinese numeral of a small rank (第一 … 第十), digits beyond ten.
fn zh_rank(n: u32) -> String {
    const N: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    match n {
        1..=10 => N[n as usize - 1].to_string(),
        _ => n.to_string(),
    }
}

/// Names joined as a list: `A、B和C` / `A, B and C`.
fn join(names: &[String], lang: Lang) -> String {
    match names {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => match lang {
            Lang::Zh => format!("{}和{last}", rest.join("、")),
            Lang::En => format!("{} and {last}", rest.join(", ")),
        },
    }
}

/// The units that moved most in one direction: `(units, places)`, best current rank first;
/// `up` for risers. Empty when nobody moved that way.
fn movers(r: &Results, p: usize, q: usize, up: bool) -> (Vec<usize>, i64) {
    let nu = r.panel.units.len();
    let changes: Vec<(usize, i64)> = (0..nu)
        .filter_map(|u| trend::rank_change(r.rank(p, u, 0), r.rank(q, u, 0)).map(|d| (u, d)))
        .map(|(u, d)| (u, if up { d } else { -d }))
        .filter(|&(_, d)| d > 0)
        .collect();
    let Some(best) = changes.iter().map(|c| c.1).max() else {
        return (Vec::new(), 0);
    };
    let mut units: Vec<usize> = changes
        .into_iter()
        .filter(|c| c.1 == best)
        .map(|c| c.0)
        .collect();
    units.sort_by_key(|&u| (r.rank(p, u, 0), r.panel.units[u].clone()));
    (units, best)
}

/// The sentence on the moves against period `q`; `against` names it (`2023-11`, or "the same
/// period last year (2022-12)").
fn moves(r: &Results, p: usize, q: usize, against: &str, lang: Lang) -> String {
    let name = |u: usize| r.panel.unit_name(u, lang).to_string();
    let (up, k_up) = movers(r, p, q, true);
    let (down, k_down) = movers(r, p, q, false);
    // At most three names; "each" when several share the move.
    let part = |units: &[usize], k: i64, rising: bool| -> String {
        let shown: Vec<String> = units.iter().take(3).map(|&u| name(u)).collect();
        let more = units.len().saturating_sub(3);
        let rank = r.rank(p, units[0], 0);
        match lang {
            Lang::Zh => {
                let who = if more > 0 {
                    format!("{}等 {} 个单位", shown.join("、"), units.len())
                } else {
                    shown.join("、")
                };
                let verb = if rising { "上升" } else { "下降" };
                let most = if rising {
                    "升幅最大"
                } else {
                    "降幅最大"
                };
                if units.len() == 1 {
                    format!("{who}{verb} {k} 位（至第 {rank} 位），{most}")
                } else {
                    format!("{who}均{verb} {k} 位，{most}")
                }
            }
            Lang::En => {
                let who = if more > 0 {
                    format!("{} and {more} more", shown.join(", "))
                } else {
                    join(&shown, lang)
                };
                let places = if k == 1 { "place" } else { "places" };
                let (verb, dir) = if rising {
                    ("rose most", "up")
                } else {
                    ("fell most", "down")
                };
                if units.len() == 1 {
                    format!("{who} {verb} ({dir} {k} {places} to {})", ordinal(rank))
                } else {
                    format!("{who} {verb} ({dir} {k} {places} each)")
                }
            }
        }
    };
    match (lang, up.is_empty(), down.is_empty()) {
        (Lang::Zh, true, true) => format!("与{against}相比，排名没有变化。"),
        (Lang::En, true, true) => format!("Against {against}, the ranking is unchanged."),
        (Lang::Zh, false, false) => format!(
            "与{against}相比，{}；{}。",
            part(&up, k_up, true),
            part(&down, k_down, false)
        ),
        (Lang::En, false, false) => format!(
            "Against {against}, {}, and {}.",
            part(&up, k_up, true),
            part(&down, k_down, false)
        ),
        (Lang::Zh, false, true) => format!("与{against}相比，{}。", part(&up, k_up, true)),
        (Lang::En, false, true) => format!("Against {against}, {}.", part(&up, k_up, true)),
        (Lang::Zh, true, false) => format!("与{against}相比，{}。", part(&down, k_down, false)),
        (Lang::En, true, false) => format!("Against {against}, {}.", part(&down, k_down, false)),
    }
}

/// The headline sentences for period `p` in `lang`.
pub fn sentences(fw: &Framework, r: &Results, p: usize, lang: Lang) -> Vec<String> {
    let trends = fw.units.period.is_some().then(|| Trends::at(fw, r, &[p]));
    sentences_with(fw, r, p, lang, trends.as_ref())
}

/// [`sentences`] with the results' changes already computed (`None` without periods).
fn sentences_with(
    fw: &Framework,
    r: &Results,
    p: usize,
    lang: Lang,
    trends: Option<&Trends>,
) -> Vec<String> {
    let panel = &r.panel;
    let zh = lang == Lang::Zh;
    let name = |u: usize| panel.unit_name(u, lang).to_string();
    let index = fw.index().name.get(lang);
    let period = panel.periods[p].as_str();
    let mut out = Vec::new();

    // Leaders.
    let mut ranked: Vec<usize> = (0..panel.units.len())
        .filter(|&u| r.rank(p, u, 0) > 0)
        .collect();
    ranked.sort_by_key(|&u| (r.rank(p, u, 0), panel.units[u].clone()));
    if let Some(&first) = ranked.first() {
        let score = fmt_value(r.scores[[p, first, 0]]);
        let next: Vec<usize> = ranked.iter().skip(1).take(2).copied().collect();
        let names: Vec<String> = next.iter().map(|&u| name(u)).collect();
        out.push(if zh {
            let when = if period.is_empty() {
                String::new()
            } else {
                format!("{period}，")
            };
            let rest = match next.len() {
                0 => String::new(),
                1 => format!("，{}位列第{}", names[0], zh_rank(r.rank(p, next[0], 0))),
                _ => format!(
                    "，{}分列第{}、{}位",
                    names.join("、"),
                    zh_rank(r.rank(p, next[0], 0)),
                    zh_rank(r.rank(p, next[1], 0))
                ),
            };
            format!(
                "{when}{}以 {score} 的得分位列{index}第{}{rest}。",
                name(first),
                zh_rank(r.rank(p, first, 0))
            )
        } else {
            let when = if period.is_empty() {
                String::new()
            } else {
                format!("In {period}, ")
            };
            let lead = if r.rank(p, first, 0) == 1 {
                "leads"
            } else {
                "ranks first in"
            };
            let rest = if names.is_empty() {
                String::new()
            } else {
                format!(", followed by {}", join(&names, lang))
            };
            let s = format!(
                "{when}{} {lead} the {index} with a score of {score}{rest}.",
                name(first)
            );
            // A sentence starts with a capital letter even when the unit's name does not.
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        });
    }

    let Some(t) = trends else {
        return out;
    };
    // Rank moves against the previous period and a year earlier.
    if let Some(q) = t.prev[p] {
        let against = if zh {
            format!(" {} ", panel.periods[q])
        } else {
            panel.periods[q].clone()
        };
        out.push(moves(r, p, q, &against, lang));
    }
    if let Some(q) = t.year_ago[p] {
        let against = if zh {
            format!("去年同期（{}）", panel.periods[q])
        } else {
            format!("the same period last year ({})", panel.periods[q])
        };
        out.push(moves(r, p, q, &against, lang));
    }
    // The dimensions that moved most since the previous period.
    if let Some(q) = t.prev[p] {
        let mut moved: Vec<(f64, usize)> = fw
            .index()
            .children
            .iter()
            .filter(|&&d| fw.nodes[d].indicator().is_none())
            .filter_map(|&d| {
                let k = t.slot(d)?;
                let v: Vec<f64> = (0..panel.units.len())
                    .filter_map(|u| {
                        if t.comparable {
                            Some(t.change(p, u, k)).filter(|v| v.is_finite())
                        } else {
                            t.rank_change(p, u, k).map(|x| x as f64)
                        }
                    })
                    .map(f64::abs)
                    .collect();
                (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64, d))
            })
            .collect();
        moved.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if let Some(&(m, d)) = moved.first()
            && m > 0.0
        {
            let dim = fw.nodes[d].name.get(lang);
            let qn = &panel.periods[q];
            let next = moved
                .get(1)
                .filter(|x| x.0 > 0.0)
                .map(|&(m2, d2)| (fw.nodes[d2].name.get(lang), m2));
            out.push(match (zh, t.comparable) {
                (true, true) => format!(
                    "各维度中，“{dim}”变动最大，各单位得分较 {qn} 平均变动 {}{}。",
                    fmt_value(m),
                    next.map_or(String::new(), |(n2, m2)| format!(
                        "；其次是“{n2}”（{}）",
                        fmt_value(m2)
                    ))
                ),
                (true, false) => format!(
                    "各期得分分别标准化、不可跨期比较，按名次看，“{dim}”变动最大，各单位名次较 {qn} 平均变动 {} 位{}。",
                    fmt_fixed(m, 1),
                    next.map_or(String::new(), |(n2, m2)| format!(
                        "，其次是“{n2}”（{} 位）",
                        fmt_fixed(m2, 1)
                    ))
                ),
                (false, true) => format!(
                    "Of the dimensions, {dim} moved most: units' scores changed by {} on average since {qn}{}.",
                    fmt_value(m),
                    next.map_or(String::new(), |(n2, m2)| format!(
                        ", followed by {n2} ({})",
                        fmt_value(m2)
                    ))
                ),
                (false, false) => format!(
                    "Comparing ranks (scores are normalised within each period and are not comparable across periods), {dim} moved most among the dimensions: units moved {} places on average since {qn}{}.",
                    fmt_fixed(m, 1),
                    next.map_or(String::new(), |(n2, m2)| format!(
                        ", followed by {n2} ({} places)",
                        fmt_fixed(m2, 1)
                    ))
                ),
            });
        }
    }
    out.push(imputed_sentence(r, p, lang));
    out
}

/// How many indicator values of period `p` were imputed, and in how many indicators.
fn imputed_sentence(r: &Results, p: usize, lang: Lang) -> String {
    let row = r.imputed.row(p);
    let n: usize = row.sum();
    let k = row.iter().filter(|&&c| c > 0).count();
    match (lang, n) {
        (Lang::Zh, 0) => "本期没有缺失数据需要填补。".into(),
        (Lang::Zh, _) => {
            format!("本期有 {n} 个指标值缺失，已按框架规定的方法填补（涉及 {k} 项指标）。")
        }
        (Lang::En, 0) => "No indicator value had to be imputed in this period.".into(),
        (Lang::En, _) => format!(
            "{n} indicator {} missing in this period and {} imputed by the framework's methods ({k} {}).",
            if n == 1 { "value was" } else { "values were" },
            if n == 1 { "was" } else { "were" },
            if k == 1 { "indicator" } else { "indicators" }
        ),
    }
}

impl super::Report<'_> {
    /// Changes and trend classes of the results (`None` without periods), computed once per
    /// report.
    pub fn trends(&self) -> Option<&Trends> {
        self.trends.as_ref()
    }

    /// The headline of the reported period, as one paragraph of text.
    pub fn headline(&self) -> String {
        paragraph(
            sentences_with(self.fw, self.r, self.p, self.lang, self.trends()),
            self.lang,
        )
    }
}

/// Sentences as one paragraph of text.
fn paragraph(s: Vec<String>, lang: Lang) -> String {
    match lang {
        Lang::Zh => s.concat(),
        Lang::En => s.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .iter()
            .map(|&n| ordinal(n))
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }

    #[test]
    fn lists() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join(&v(&["A", "B", "C"]), Lang::En), "A, B and C");
        assert_eq!(join(&v(&["甲", "乙", "丙"]), Lang::Zh), "甲、乙和丙");
        assert_eq!(join(&v(&["A"]), Lang::En), "A");
        assert_eq!(zh_rank(3), "三");
        assert_eq!(zh_rank(12), "12");
    }
}
