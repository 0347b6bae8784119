//! Profiles of units: radar of dimensions, small-multiple trends, indicator distributions.

use std::f64::consts::PI;

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::bars::{Axis, nice_ticks, tick_labels};
use super::theme::{self, BODY, INK, MUTED, SMALL};
use super::{Chart, ChartOptions, Ctx, anchored, de, header, render, text_at};
use crate::Results;
use crate::error::Error;
use crate::framework::{Framework, Lang};

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Radar of one unit's dimension scores (default: the best unit) against the average of the
/// scored units and the best unit (the runner-up when the unit is the best).
pub fn radar(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let dims = ctx.dimensions();
    let order = ctx.ordered_units(p);
    let unit = ctx
        .highlighted()
        .ok_or_else(|| Error::Eval("no unit has an index score in this period".into()))?;
    let other = order.iter().copied().find(|&u| u != unit);
    let other_label = |u: usize| {
        let r = ctx.rank(p, u).unwrap_or(0);
        match opts.lang {
            Lang::Zh if r == 1 => format!("最佳：{}", ctx.unit_long(u)),
            Lang::Zh => format!("第{r}名：{}", ctx.unit_long(u)),
            Lang::En if r == 1 => format!("Best: {}", ctx.unit_long(u)),
            Lang::En => format!("No. {r}: {}", ctx.unit_long(u)),
        }
    };
    let scored: Vec<usize> = order.clone();
    let avg: Vec<f64> = dims
        .iter()
        .map(|&d| mean(scored.iter().map(|&u| ctx.score(p, u, d))))
        .collect();
    let profile = |u: usize| -> Vec<f64> { dims.iter().map(|&d| ctx.score(p, u, d)).collect() };
    let mut lo = 0f64;
    let mut hi = f64::NEG_INFINITY;
    for &u in &scored {
        for &d in &dims {
            let v = ctx.score(p, u, d);
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        hi = lo + 1.0;
    }
    let mut ticks = nice_ticks(lo, hi, 4);
    if let [.., a, b] = ticks[..]
        && b < hi
    {
        ticks.push(b + (b - a));
    }
    let hi = ticks.last().copied().unwrap_or(hi).max(hi);
    let rank = ctx
        .rank(p, unit)
        .map(|r| r.to_string())
        .unwrap_or("–".into());
    let title = ctx.title(&match opts.lang {
        Lang::Zh => format!("{}（第{rank}名）各维度得分", ctx.unit_long(unit)),
        Lang::En => format!("{} (rank {rank}) by dimension", ctx.unit_long(unit)),
    });
    // Says what is plotted: the best unit, or the runner-up when the unit is the best.
    let subtitle = match (opts.lang, other.and_then(|o| ctx.rank(p, o))) {
        (Lang::Zh, Some(1)) => "与所有单位的平均值及最佳单位比较".to_string(),
        (Lang::Zh, Some(r)) => format!("与所有单位的平均值及第{r}名比较"),
        (Lang::Zh, None) => "与所有单位的平均值比较".to_string(),
        (Lang::En, Some(1)) => "Compared with the average of all units and the best unit".into(),
        (Lang::En, Some(2)) => {
            "Compared with the average of all units and the runner-up (No. 2)".into()
        }
        (Lang::En, Some(r)) => format!("Compared with the average of all units and No. {r}"),
        (Lang::En, None) => "Compared with the average of all units".into(),
    };
    let label_w = ctx.max_width(dims.iter().map(|&d| ctx.name(d)), BODY) + 16;
    let radius = 250;
    let w = (2 * (radius + label_w + theme::PAD + 10)).max(ctx.width(&title, theme::TITLE) + 60);
    let h = 100 + 2 * radius + 60 + 70;
    let series: Vec<(String, Vec<f64>, RGBColor, bool)> = {
        let mut s = vec![(ctx.tr("平均", "Average").to_string(), avg, MUTED, false)];
        if let Some(o) = other {
            s.push((other_label(o), profile(o), theme::ACCENT, false));
        }
        s.push((ctx.unit_long(unit), profile(unit), theme::HIGHLIGHT, true));
        s
    };
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            let (cx, cy) = (w / 2, radius + 40);
            let k = dims.len().max(1);
            let angle = |i: usize| -PI / 2.0 + 2.0 * PI * i as f64 / k as f64;
            let pt = |i: usize, v: f64| {
                let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0) * radius as f64;
                (
                    cx + (t * angle(i).cos()).round() as i32,
                    cy + (t * angle(i).sin()).round() as i32,
                )
            };
            for (&t, label) in ticks.iter().zip(tick_labels(&ticks)) {
                let ring: Vec<(i32, i32)> = (0..=k).map(|i| pt(i % k, t)).collect();
                area.draw(&PathElement::new(ring, theme::GRID))
                    .map_err(de)?;
                let s = anchored(ctx.text(SMALL, MUTED), HPos::Left, VPos::Bottom);
                let (x, y) = pt(0, t);
                area.draw(&text_at(label, (x + 4, y - 1), s)).map_err(de)?;
            }
            for (i, &d) in dims.iter().enumerate() {
                let end = pt(i, hi);
                area.draw(&PathElement::new(vec![(cx, cy), end], theme::GRID))
                    .map_err(de)?;
                let (c, s) = (angle(i).cos(), angle(i).sin());
                let hpos = if c > 0.2 {
                    HPos::Left
                } else if c < -0.2 {
                    HPos::Right
                } else {
                    HPos::Center
                };
                let vpos = if s > 0.2 {
                    VPos::Top
                } else if s < -0.2 {
                    VPos::Bottom
                } else {
                    VPos::Center
                };
                let lx = cx + ((radius + 12) as f64 * c).round() as i32;
                let ly = cy + ((radius + 12) as f64 * s).round() as i32;
                let st = anchored(ctx.text(BODY, INK), hpos, vpos);
                area.draw(&text_at(ctx.name(d), (lx, ly), st)).map_err(de)?;
            }
            for (_, values, color, fill) in &series {
                let pts: Vec<(i32, i32)> = values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| pt(i, if v.is_finite() { v } else { lo }))
                    .collect();
                if *fill {
                    area.draw(&Polygon::new(pts.clone(), color.mix(0.18).filled()))
                        .map_err(de)?;
                }
                let mut ring = pts.clone();
                ring.push(pts[0]);
                area.draw(&PathElement::new(ring, color.stroke_width(3)))
                    .map_err(de)?;
                for &q in &pts {
                    area.draw(&Circle::new(q, 4, color.filled())).map_err(de)?;
                }
            }
            // Legend below the radar.
            let mut x = theme::PAD;
            let y = cy + radius + 60;
            for (label, _, color, _) in &series {
                area.draw(&Rectangle::new(
                    [(x, y - 7), (x + 22, y + 7)],
                    color.filled(),
                ))
                .map_err(de)?;
                let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                area.draw(&text_at(label.clone(), (x + 30, y), s))
                    .map_err(de)?;
                x += 30 + ctx.width(label, BODY) + 30;
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("radar", title, bytes))
}

/// Small multiples of the index across the periods up to the chosen one: one panel per unit
/// (best first) with the average of all units for reference, or, when the framework has
/// groups, one panel per group with its units as thin lines and the group's mean in bold.
/// When scores are not comparable across periods (normalised within each period) the panels
/// draw ranks instead (1st at the top, no average line), and the title and subtitle say so.
pub fn trends(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let periods: Vec<usize> = (0..=p).collect();
    if periods.len() < 2 {
        return Err(Error::Usage(
            "the trend chart needs at least two periods up to the chosen one".into(),
        ));
    }
    let nu = r.panel.units.len();
    // Scores normalised within each period are not comparable across periods: draw ranks
    // (rank 1 at the top) and say so.
    let ranks = !fw.comparable_across_periods();
    let value = |q: usize, u: usize| -> f64 {
        if ranks {
            ctx.rank(q, u).map_or(f64::NAN, f64::from)
        } else {
            ctx.score(q, u, 0)
        }
    };
    let series = |u: usize| -> Vec<f64> { periods.iter().map(|&q| value(q, u)).collect() };
    let avg_of = |units: &[usize]| -> Vec<f64> {
        periods
            .iter()
            .map(|&q| mean(units.iter().map(|&u| value(q, u))))
            .collect()
    };
    let all: Vec<usize> = (0..nu).collect();
    // The average rank of all units says nothing: no reference line for ranks.
    let city = if ranks { Vec::new() } else { avg_of(&all) };
    // Units without groups, a panel each: with many, the current top and bottom (as the other
    // charts of a row or a panel per unit show them); `cut` is then (top shown, of how many).
    let order = ctx.ordered_units(p);
    let (top, bottom) = ctx.top_bottom(&order);
    let cut = (r.panel.groups.is_none() && !bottom.is_empty()).then_some((top.len(), order.len()));
    let shown: Vec<usize> = top.into_iter().chain(bottom).collect();
    // Panels: (heading, thin lines, bold line, reference line).
    type Panel = (String, Vec<Vec<f64>>, Vec<f64>, Vec<f64>);
    let panels: Vec<Panel> = match &r.panel.groups {
        Some(groups) => {
            let mut names: Vec<&String> = groups.iter().collect();
            names.sort();
            names.dedup();
            let mut ps: Vec<(f64, Panel)> = names
                .into_iter()
                .map(|g| {
                    let members: Vec<usize> = (0..nu).filter(|&u| &groups[u] == g).collect();
                    let m = avg_of(&members);
                    let last = m.last().copied().unwrap_or(f64::NAN);
                    let g = ctx.group(members[0]);
                    let heading = match opts.lang {
                        Lang::Zh => format!("{g}（{}个）", members.len()),
                        Lang::En => format!("{g} ({})", members.len()),
                    };
                    (
                        last,
                        (
                            heading,
                            members.iter().map(|&u| series(u)).collect(),
                            m,
                            city.clone(),
                        ),
                    )
                })
                .collect();
            // Best group first: the highest mean score, or the lowest mean rank.
            if ranks {
                ps.sort_by(|a, b| a.0.total_cmp(&b.0));
            } else {
                ps.sort_by(|a, b| b.0.total_cmp(&a.0));
            }
            ps.into_iter().map(|x| x.1).collect()
        }
        None => shown
            .iter()
            .map(|&u| {
                let rank = ctx.rank(p, u).map(|r| r.to_string()).unwrap_or("–".into());
                (
                    format!("{rank}. {}", ctx.unit(u)),
                    Vec::new(),
                    series(u),
                    city.clone(),
                )
            })
            .collect(),
    };
    // The value axis of some panels: ranks from the first (the top panels) or from the
    // panels' best rank (the bottom ones, whose ranks run in the thousands for many units).
    let axis = |ps: &[Panel], from_top: bool| -> (f64, f64, Vec<f64>) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (_, thin, bold, _) in ps {
            for v in thin
                .iter()
                .flatten()
                .chain(bold.iter())
                .filter(|v| v.is_finite())
            {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if ranks {
            lo = if from_top { 1.0 } else { lo.floor() };
            hi = hi.max(lo + 1.0);
        }
        let mut ticks = nice_ticks(lo, hi, 3);
        if ranks {
            ticks.retain(|t| (lo..=hi).contains(t) && t.fract() == 0.0);
            if !from_top {
                // The best and the worst rank shown, and the round ranks well between them.
                let room = (hi - lo) * 0.15;
                ticks.retain(|t| t - lo >= room && hi - t >= room);
                ticks.push(hi);
            }
            if !ticks.contains(&lo) {
                ticks.insert(0, lo);
            }
        }
        (lo, hi, ticks)
    };
    // Ranks cut to the top and the bottom: each has its own axis; else one axis for every
    // panel (scores comparable across periods share theirs, top and bottom alike).
    let top_panels = match cut {
        Some((n, _)) if ranks => n,
        _ => panels.len(),
    };
    let axes = [
        axis(&panels[..top_panels], true),
        axis(&panels[top_panels..], false),
    ];
    let title = ctx.title(if ranks {
        ctx.tr("指数名次走势", "index rank over time")
    } else {
        ctx.tr("指数走势", "index over time")
    });
    let subtitle = match cut {
        Some(cut) => cut_subtitle(&ctx, ranks, cut),
        None => uncut_subtitle(&ctx, ranks, r.panel.groups.is_some()).to_string(),
    };
    let cols = 4usize;
    let (pw, ph) = (300, 190);
    let rows = panels.len().div_ceil(cols);
    let w = theme::PAD * 2 + cols as i32 * pw;
    let h = 100 + rows as i32 * ph + 20;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            for (k, (heading, thin, bold, reference)) in panels.iter().enumerate() {
                let (lo, hi, ticks) = &axes[usize::from(k >= top_panels)];
                let (lo, hi) = (*lo, *hi);
                let (col, row) = ((k % cols) as i32, (k / cols) as i32);
                let (x0, y0) = (theme::PAD + col * pw, row * ph);
                let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Top);
                // The heading fits its panel (a long name must not run into the next one).
                let heading = ctx.short(heading, f64::from(pw - 36 - 18) / BODY);
                area.draw(&text_at(heading, (x0 + 36, y0), s)).map_err(de)?;
                let (px0, px1) = (x0 + 36, x0 + pw - 18);
                let (py0, py1) = (y0 + 28, y0 + ph - 34);
                let x = |i: usize| {
                    px0 + ((px1 - px0) as f64 * i as f64 / (periods.len() - 1) as f64).round()
                        as i32
                };
                let yv = |v: f64| {
                    let f = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
                    // Ranks run downwards: 1st at the top.
                    let f = if ranks { 1.0 - f } else { f };
                    py1 - (f * (py1 - py0) as f64).round() as i32
                };
                for (&t, label) in ticks.iter().zip(tick_labels(ticks)) {
                    area.draw(&PathElement::new(
                        vec![(px0, yv(t)), (px1, yv(t))],
                        theme::GRID,
                    ))
                    .map_err(de)?;
                    let s = anchored(ctx.text(theme::TINY, MUTED), HPos::Right, VPos::Center);
                    area.draw(&text_at(label, (px0 - 4, yv(t)), s))
                        .map_err(de)?;
                }
                for (i, q) in [(0, periods[0]), (periods.len() - 1, p)] {
                    let hp = if i == 0 { HPos::Left } else { HPos::Right };
                    let s = anchored(ctx.text(theme::TINY, MUTED), hp, VPos::Top);
                    area.draw(&text_at(ctx.period(q), (x(i), py1 + 6), s))
                        .map_err(de)?;
                }
                let line = |v: &[f64]| -> Vec<Vec<(i32, i32)>> {
                    let pts: Vec<Option<(i32, i32)>> = v
                        .iter()
                        .enumerate()
                        .map(|(i, &y)| y.is_finite().then(|| (x(i), yv(y))))
                        .collect();
                    pts.split(|p| p.is_none())
                        .map(|s| s.iter().flatten().copied().collect::<Vec<_>>())
                        .filter(|s| s.len() > 1)
                        .collect()
                };
                for seg in line(reference) {
                    area.draw(&DashedPathElement::new(seg, 5, 4, MUTED.stroke_width(1)))
                        .map_err(de)?;
                }
                for t in thin {
                    for seg in line(t) {
                        area.draw(&PathElement::new(seg, theme::ACCENT.mix(0.25)))
                            .map_err(de)?;
                    }
                }
                for seg in line(bold) {
                    area.draw(&PathElement::new(seg, theme::ACCENT.stroke_width(3)))
                        .map_err(de)?;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("trends", title, bytes))
}

/// The trend chart's subtitle when it has a panel per group, or per unit for every unit.
fn uncut_subtitle<'a>(ctx: &'a Ctx, ranks: bool, groups: bool) -> &'a str {
    if ranks && groups {
        ctx.tr(
            "各期得分分别标准化、不可跨期比较，故画名次（第 1 名在上）：每组一格，细线为组内各单位，粗线为组内平均名次",
            "Scores are normalised within each period and not comparable across periods, so ranks are drawn (1st at the top): one panel per group, thin lines its units, bold their mean rank",
        )
    } else if ranks {
        ctx.tr(
            "各期得分分别标准化、不可跨期比较，故画名次（第 1 名在上）；每个单位一格，按本期名次排序",
            "Scores are normalised within each period and not comparable across periods, so ranks are drawn (1st at the top); one panel per unit, ordered by current rank",
        )
    } else if groups {
        ctx.tr(
            "每组一格：细线为组内各单位，粗线为组平均，虚线为全市平均；按本期组平均排序",
            "One panel per group: thin lines its units, bold its mean, dashed the overall mean; ordered by the group mean",
        )
    } else {
        ctx.tr(
            "每个单位一格，按本期名次排序；虚线为所有单位平均",
            "One panel per unit, ordered by current rank; dashed: the average of all units",
        )
    }
}

/// The trend chart's subtitle when it shows the current top and bottom `n` of `total` units, a
/// panel each.
fn cut_subtitle(ctx: &Ctx, ranks: bool, (n, total): (usize, usize)) -> String {
    match (ctx.opts.lang, ranks) {
        (Lang::Zh, true) => format!(
            "各期得分分别标准化、不可跨期比较，故画名次（第 1 名在上）；本期前{n}名与后{n}名（共{total}个）各一格"
        ),
        (Lang::Zh, false) => {
            format!("本期前{n}名与后{n}名（共{total}个）各一格，按本期名次排序；虚线为所有单位平均")
        }
        (Lang::En, true) => format!(
            "Scores are normalised within each period and not comparable across periods, so ranks are drawn (1st at the top); the current top {n} and bottom {n} of {total}"
        ),
        (Lang::En, false) => format!(
            "The current top {n} and bottom {n} of {total}, a panel each, ordered by current rank; dashed: the average of all units"
        ),
    }
}

/// Quantile of sorted values (linear interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let x = q * (sorted.len() - 1) as f64;
    let i = x.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (x - i as f64)
}

/// Units above which the distribution chart draws no dot per unit.
const STRIP_MOST: usize = 1000;

/// Distribution of every indicator's normalised scores in the period (box: quartiles, whiskers:
/// range, dots: units), grouped by dimension, with one unit (default: the best) highlighted.
pub fn distributions(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let unit = ctx
        .highlighted()
        .ok_or_else(|| Error::Eval("no unit has an index score in this period".into()))?;
    let units = ctx.ordered_units(p);
    // Rows: a heading per parent node, then its indicators.
    let mut rows: Vec<(Option<usize>, usize)> = Vec::new();
    for node in fw.aggregates_preorder() {
        let inds: Vec<usize> = fw.nodes[node]
            .children
            .iter()
            .copied()
            .filter(|&c| fw.nodes[c].indicator().is_some())
            .collect();
        if !inds.is_empty() {
            rows.push((None, node));
            rows.extend(inds.into_iter().map(|i| (Some(i), node)));
        }
    }
    let (mut lo, mut hi) = (0f64, f64::NEG_INFINITY);
    for &(ind, _) in &rows {
        if let Some(i) = ind {
            for &u in &units {
                let v = ctx.score(p, u, i);
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        hi = lo + 1.0;
    }
    let rank = ctx
        .rank(p, unit)
        .map(|r| r.to_string())
        .unwrap_or("–".into());
    let title = ctx.title(ctx.tr("指标分布", "indicator distributions"));
    // More dots than this in a row of 560 pixels are a smear, and each is a node of the
    // drawing: the box and whiskers alone then.
    let dots = units.len() <= STRIP_MOST;
    let subtitle = match (opts.lang, dots) {
        (Lang::Zh, true) => format!(
            "各指标标准化得分：箱为四分位，须为最小至最大，点为各单位（{}个）；◆为{}（第{rank}名），右列为其得分与名次",
            units.len(),
            ctx.unit_long(unit)
        ),
        (Lang::Zh, false) => format!(
            "各指标标准化得分：箱为四分位，须为最小至最大（{}个单位，不逐一画点）；◆为{}（第{rank}名），右列为其得分与名次",
            units.len(),
            ctx.unit_long(unit)
        ),
        (Lang::En, true) => format!(
            "Normalised indicator scores: box quartiles, whiskers range, dots the {} units; ◆ {} (rank {rank}), its score and rank on the right",
            units.len(),
            ctx.unit_long(unit)
        ),
        (Lang::En, false) => format!(
            "Normalised indicator scores: box quartiles, whiskers range (of {} units, too many to dot); ◆ {} (rank {rank}), its score and rank on the right",
            units.len(),
            ctx.unit_long(unit)
        ),
    };
    let row_h = 26;
    let label_w = ctx.max_width(
        rows.iter()
            .map(|&(i, n)| ctx.name(i.unwrap_or(n)).to_string()),
        SMALL,
    ) + 30;
    let plot_w = 560;
    let tail_w = ctx.width("100.0  #176", SMALL) + 20;
    let w = (theme::PAD * 2 + label_w + plot_w + tail_w).max(ctx.width(&subtitle, SMALL) + 60);
    let h = 110 + rows.len() as i32 * row_h + 50;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            let axis = Axis {
                lo,
                hi,
                x0: theme::PAD + label_w,
                x1: theme::PAD + label_w + plot_w,
            };
            let y1 = rows.len() as i32 * row_h;
            axis.grid(&area, &ctx, 0, y1)?;
            for (k, &(ind, node)) in rows.iter().enumerate() {
                let yc = k as i32 * row_h + row_h / 2;
                let Some(i) = ind else {
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.name(node), (theme::PAD, yc), s))
                        .map_err(de)?;
                    continue;
                };
                let s = anchored(ctx.text(SMALL, INK), HPos::Right, VPos::Center);
                area.draw(&text_at(ctx.name(i), (axis.x0 - 10, yc), s))
                    .map_err(de)?;
                let mut v: Vec<f64> = units
                    .iter()
                    .map(|&u| ctx.score(p, u, i))
                    .filter(|v| v.is_finite())
                    .collect();
                v.sort_by(f64::total_cmp);
                if v.is_empty() {
                    continue;
                }
                let (q1, q2, q3) = (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75));
                let (mn, mx) = (v[0], v[v.len() - 1]);
                area.draw(&PathElement::new(
                    vec![(axis.px(mn), yc), (axis.px(mx), yc)],
                    MUTED,
                ))
                .map_err(de)?;
                area.draw(&Rectangle::new(
                    [
                        (axis.px(q1), yc - 8),
                        (axis.px(q3).max(axis.px(q1) + 1), yc + 8),
                    ],
                    theme::ACCENT.mix(0.15).filled(),
                ))
                .map_err(de)?;
                area.draw(&Rectangle::new(
                    [
                        (axis.px(q1), yc - 8),
                        (axis.px(q3).max(axis.px(q1) + 1), yc + 8),
                    ],
                    theme::ACCENT.mix(0.6),
                ))
                .map_err(de)?;
                area.draw(&PathElement::new(
                    vec![(axis.px(q2), yc - 8), (axis.px(q2), yc + 8)],
                    theme::ACCENT.stroke_width(2),
                ))
                .map_err(de)?;
                for (n, &u) in units.iter().enumerate().filter(|_| dots) {
                    let x = ctx.score(p, u, i);
                    if x.is_finite() && u != unit {
                        // A fixed jitter by position, so the picture is the same every time.
                        let j = ((n * 7919) % 13) as i32 - 6;
                        area.draw(&Circle::new(
                            (axis.px(x), yc + j),
                            2,
                            INK.mix(0.45).filled(),
                        ))
                        .map_err(de)?;
                    }
                }
                let x = ctx.score(p, unit, i);
                if x.is_finite() {
                    let c = axis.px(x);
                    area.draw(&Polygon::new(
                        vec![(c, yc - 8), (c + 7, yc), (c, yc + 8), (c - 7, yc)],
                        theme::HIGHLIGHT.filled(),
                    ))
                    .map_err(de)?;
                }
                let rank = r.rank(p, unit, i);
                let label = if x.is_finite() {
                    format!("{}  #{rank}", ctx.fmt(x))
                } else {
                    "–".into()
                };
                let s = anchored(ctx.text(SMALL, theme::HIGHLIGHT), HPos::Left, VPos::Center);
                area.draw(&text_at(label, (axis.x1 + 14, yc), s))
                    .map_err(de)?;
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("distributions", title, bytes))
}
