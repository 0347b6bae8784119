//! Robustness charts: each unit's rank interval over the runs of an uncertainty analysis,
//! and the sensitivity of the ranking to each uncertain input (see [`crate::robustness`]).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::bars::Axis;
use super::theme::{self, BODY, INK, MUTED, SMALL};
use super::{Chart, ChartOptions, Ctx, anchored, de, header, render, text_at};
use crate::Results;
use crate::error::Error;
use crate::framework::{Framework, Lang};
use crate::robustness::{Analysis, Sensitivity};

const ROW: i32 = 21;

/// The interval's colour (a light shade of the accent).
const BAND: RGBColor = RGBColor(158, 193, 227);
/// The interaction share's colour.
const INTERACTION: RGBColor = RGBColor(242, 142, 43);

/// The panels of a long list: `[(heading, units)]`, the top and bottom `top_n` side by side.
fn panels(ctx: &Ctx, units: &[usize]) -> Vec<(String, Vec<usize>)> {
    let (top, bottom) = ctx.top_bottom(units);
    if bottom.is_empty() {
        return vec![(String::new(), top)];
    }
    let (n, total) = (top.len(), units.len());
    vec![
        (
            match ctx.opts.lang {
                Lang::Zh => format!("前{n}名（共{total}个）"),
                Lang::En => format!("Top {n} of {total}"),
            },
            top,
        ),
        (
            match ctx.opts.lang {
                Lang::Zh => format!("后{n}名"),
                Lang::En => format!("Bottom {n}"),
            },
            bottom,
        ),
    ]
}

/// Vertical grid lines at whole ranks (multiples of a round step, about ten of them, and
/// rank 1 when it does not crowd the next) with labels below `y1`.
fn rank_grid<DB: DrawingBackend>(
    axis: &Axis,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    ctx: &Ctx,
    y0: i32,
    y1: i32,
) -> Result<(), Error> {
    let ticks = super::bars::nice_ticks(axis.lo, axis.hi, 10);
    let raw = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    // The smallest whole step of 1, 2 or 5 times a power of ten at least as large.
    let step = (0..10)
        .flat_map(|e| [1, 2, 5].map(|m| m * 10u32.pow(e)))
        .find(|&s| f64::from(s) >= raw - 1e-9)
        .unwrap_or(1);
    let (lo, hi) = (axis.lo.ceil() as u32, axis.hi.floor() as u32);
    let room = axis.px(f64::from(step)) - axis.px(1.0) >= 28;
    for k in (lo..=hi).filter(|&k| k % step == 0 || (k == 1 && room)) {
        let x = axis.px(f64::from(k));
        area.draw(&PathElement::new(vec![(x, y0), (x, y1)], theme::GRID))
            .map_err(de)?;
        let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
        area.draw(&text_at(k.to_string(), (x, y1 + 4), s))
            .map_err(de)?;
    }
    Ok(())
}

/// Each unit's median rank over the runs as a dot on its 5–95 % interval, its nominal rank
/// marked, units in nominal order (rank 1 on the left of the axis). Long lists show the top
/// and the bottom units.
pub fn uncertainty(
    fw: &Framework,
    r: &Results,
    a: &Analysis,
    opts: &ChartOptions,
) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    // Units of the analysis by their key in the results' panel.
    let mut units: Vec<(usize, crate::robustness::RankStats)> = a
        .units
        .iter()
        .enumerate()
        .filter_map(|(i, key)| {
            let s = a.rank_stats[i].filter(|s| s.nominal > 0 && s.runs > 0)?;
            let u = r.panel.units.iter().position(|k| k == key)?;
            Some((u, s))
        })
        .collect();
    units.sort_by_key(|&(u, s)| (s.nominal, u));
    let stats = |u: usize| units.iter().find(|x| x.0 == u).map(|x| x.1);
    let order: Vec<usize> = units.iter().map(|x| x.0).collect();
    let panels = panels(&ctx, &order);
    let n = units
        .iter()
        .map(|x| x.1.max.max(x.1.nominal))
        .max()
        .unwrap_or(1);
    let title = ctx.title(ctx.tr("名次的不确定性", "uncertainty of the ranks"));
    let runs = a.plan.runs.len() - a.failed.len();
    let subtitle = match opts.lang {
        Lang::Zh => format!(
            "{runs} 次模拟：线段为 90% 模拟结果的名次区间（5%–95%），圆点为中位名次，红色竖线为实际名次"
        ),
        Lang::En => format!(
            "{runs} runs: the bar spans 90% of the simulated ranks (5%–95%), the dot is the median rank, the red mark the actual rank"
        ),
    };
    let name_w = ctx.max_width(order.iter().map(|&u| ctx.unit_long(u)), BODY) + 12;
    let rank_w = ctx.width("000", BODY) + 10;
    let plot_w = 380;
    let panel_w = rank_w + name_w + plot_w + 24;
    let rows = panels.iter().map(|(_, u)| u.len()).max().unwrap_or(0) as i32;
    let head = if panels.len() > 1 { 30 } else { 0 };
    let w = (panel_w * panels.len() as i32 + 2 * theme::PAD).max(720);
    let sub_w = ctx.width(&subtitle, SMALL) + 2 * theme::PAD;
    let w = w.max(sub_w);
    // A subtitle wider than the panels widens the plots, not the blank margin.
    let panel_w = (w - 2 * theme::PAD) / panels.len().max(1) as i32;
    let plot_w = panel_w - rank_w - name_w - 24;
    let h = 104 + head + rows.max(1) * ROW + 36;
    let axis_label = ctx.tr("名次（1 = 最好）", "rank (1 = best)");
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            for (k, (heading, list)) in panels.iter().enumerate() {
                let x = theme::PAD + k as i32 * panel_w;
                if !heading.is_empty() {
                    area.draw(&text_at(heading.clone(), (x, 0), ctx.text(BODY, INK)))
                        .map_err(de)?;
                }
                let y0 = head;
                let y1 = y0 + list.len() as i32 * ROW;
                // The ranks this panel's units reach, with half a rank to spare each side.
                let reach = list
                    .iter()
                    .filter_map(|&u| stats(u))
                    .flat_map(|s| [s.q5, s.q95, f64::from(s.nominal), s.median]);
                let (lo, hi) = reach.fold((f64::from(n), 1f64), |(a, b), v| (a.min(v), b.max(v)));
                let axis = Axis {
                    lo: (lo - 0.5).max(0.5),
                    hi: (hi + 0.5).max(lo + 1.5),
                    x0: x + rank_w + name_w + 8,
                    x1: x + rank_w + name_w + plot_w,
                };
                rank_grid(&axis, &area, &ctx, y0, y1)?;
                let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
                area.draw(&text_at(axis_label, ((axis.x0 + axis.x1) / 2, y1 + 20), s))
                    .map_err(de)?;
                for (i, &u) in list.iter().enumerate() {
                    let Some(st) = stats(u) else { continue };
                    let yc = y0 + i as i32 * ROW + ROW / 2;
                    let s = anchored(ctx.text(BODY, MUTED), HPos::Right, VPos::Center);
                    area.draw(&text_at(st.nominal.to_string(), (x + rank_w - 8, yc), s))
                        .map_err(de)?;
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.unit_long(u), (x + rank_w, yc), s))
                        .map_err(de)?;
                    let (a, b) = (axis.px(st.q5), axis.px(st.q95));
                    area.draw(&Rectangle::new(
                        [(a - 2, yc - 5), (b + 2, yc + 5)],
                        BAND.filled(),
                    ))
                    .map_err(de)?;
                    let xn = axis.px(f64::from(st.nominal));
                    area.draw(&Rectangle::new(
                        [(xn - 1, yc - 9), (xn + 1, yc + 9)],
                        theme::HIGHLIGHT.filled(),
                    ))
                    .map_err(de)?;
                    area.draw(&Circle::new(
                        (axis.px(st.median), yc),
                        4,
                        theme::ACCENT.filled(),
                    ))
                    .map_err(de)?;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("uncertainty", title, bytes))
}

/// How much of the ranking's variation each uncertain input explains: its first-order share
/// (Si, the input alone) and its interaction share (STi − Si, together with other inputs) as
/// stacked bars, with the bootstrap 5–95 % intervals of Si (above) and STi (below) as
/// whiskers. `labels` names the inputs in the chart's language; `n` is the design's base size.
pub fn sensitivity(
    fw: &Framework,
    r: &Results,
    sens: &[Sensitivity],
    labels: &[String],
    n: usize,
    opts: &ChartOptions,
) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let title = ctx.title(ctx.tr("名次对各项设定的敏感度", "what moves the ranks"));
    let runs = n * (sens.len() + 2);
    let subtitle = match opts.lang {
        Lang::Zh => format!(
            "名次平均变动幅度的方差分解（Sobol 指数，{runs} 次模拟）；细线为自助法 90% 区间（上：单独作用，下：总效应）"
        ),
        Lang::En => format!(
            "Share of the variance of the mean rank shift (Sobol indices, {runs} runs); thin lines: bootstrap 90% intervals (above: alone, below: in total)"
        ),
    };
    let first = ctx.tr("单独作用", "alone (first order)");
    let inter = ctx.tr("与其他设定交互", "with other inputs (interaction)");
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let lo = sens
        .iter()
        .flat_map(|s| [s.si, s.si_q5, s.sti_q5])
        .map(finite)
        .fold(0.0, f64::min);
    let hi = sens
        .iter()
        .flat_map(|s| [s.sti, s.si_q95, s.sti_q95])
        .map(finite)
        .fold(0.5, f64::max);
    let ticks = super::bars::nice_ticks(lo, hi, 8);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        0.1
    };
    let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    let name_w = ctx.max_width(labels, BODY) + 16;
    let plot_w = 420;
    let values: Vec<String> = sens
        .iter()
        .map(|s| {
            format!(
                "{} + {}",
                crate::format::fmt_fixed(finite(s.si), 2),
                crate::format::fmt_fixed(finite(s.sti - s.si).max(0.0), 2)
            )
        })
        .collect();
    let tail_w = ctx.max_width(&values, SMALL) + 24;
    let row = 36;
    let legend_h = 28;
    let w = (name_w + plot_w + tail_w + 2 * theme::PAD)
        .max(ctx.width(&subtitle, SMALL) + 2 * theme::PAD)
        .max(640);
    let h = 100 + legend_h + sens.len().max(1) as i32 * row + 40;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            let mut lx = theme::PAD;
            for (label, color) in [(first, theme::ACCENT), (inter, INTERACTION)] {
                area.draw(&Rectangle::new([(lx, 2), (lx + 13, 15)], color.filled()))
                    .map_err(de)?;
                let s = anchored(ctx.text(SMALL, INK), HPos::Left, VPos::Center);
                area.draw(&text_at(label, (lx + 18, 8), s)).map_err(de)?;
                lx += 18 + ctx.width(label, SMALL) + 24;
            }
            let y0 = legend_h;
            let y1 = y0 + sens.len() as i32 * row;
            let axis = Axis {
                lo,
                hi,
                x0: theme::PAD + name_w,
                x1: theme::PAD + name_w + plot_w,
            };
            axis.grid(&area, &ctx, y0, y1)?;
            let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
            area.draw(&text_at(
                ctx.tr("方差占比", "share of variance"),
                ((axis.x0 + axis.x1) / 2, y1 + 20),
                s,
            ))
            .map_err(de)?;
            for (i, s) in sens.iter().enumerate() {
                let yc = y0 + i as i32 * row + row / 2;
                let st = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                area.draw(&text_at(&labels[i], (theme::PAD, yc), st))
                    .map_err(de)?;
                let (si, sti) = (finite(s.si).max(0.0), finite(s.sti).max(0.0));
                let (x0, xs, xt) = (axis.px(0.0), axis.px(si), axis.px(sti.max(si)));
                area.draw(&Rectangle::new(
                    [(x0, yc - 9), (xs, yc + 9)],
                    theme::ACCENT.filled(),
                ))
                .map_err(de)?;
                if xt > xs {
                    area.draw(&Rectangle::new(
                        [(xs, yc - 9), (xt, yc + 9)],
                        INTERACTION.filled(),
                    ))
                    .map_err(de)?;
                }
                for (q5, q95, y) in [(s.si_q5, s.si_q95, yc - 13), (s.sti_q5, s.sti_q95, yc + 13)] {
                    if !(q5.is_finite() && q95.is_finite()) {
                        continue;
                    }
                    let (a, b) = (axis.px(q5.max(lo)), axis.px(q95.min(hi)));
                    area.draw(&PathElement::new(vec![(a, y), (b, y)], INK))
                        .map_err(de)?;
                    for x in [a, b] {
                        area.draw(&PathElement::new(vec![(x, y - 3), (x, y + 3)], INK))
                            .map_err(de)?;
                    }
                }
                let st = anchored(ctx.text(SMALL, MUTED), HPos::Left, VPos::Center);
                area.draw(&text_at(&values[i], (axis.x1 + 12, yc), st))
                    .map_err(de)?;
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("sensitivity", title, bytes))
}
