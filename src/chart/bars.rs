//! Bar charts of the index: ranking, dimension contributions, rank change; and the bump chart.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::theme::{self, BODY, INK, MUTED, SMALL};
use super::{Chart, ChartOptions, Ctx, anchored, change_label, de, header, render, text_at};
use crate::Results;
use crate::error::Error;
use crate::framework::Framework;
use crate::pipeline::methods::Aggregate;

const ROW: i32 = 28;

/// Round tick values covering `lo..hi`, about `n` of them.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Labels of round tick values, all with the fewest decimals that show every one exactly
/// (`0`, `0.25`, `0.5` → `0.00`, `0.25`, `0.50`), never `-0`.
pub(crate) fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let exact = |d: i32| {
        ticks.iter().all(|t| {
            let x = t * 10f64.powi(d);
            (x - x.round()).abs() < 1e-6 * x.abs().max(1.0)
        })
    };
    let d = (0..=6).find(|&d| exact(d)).unwrap_or(6);
    ticks
        .iter()
        .map(|&t| crate::format::fmt_fixed(t, d as usize))
        .collect()
}

/// A horizontal value axis in pixels: `lo..hi` → `x0..x1`.
#[derive(Clone, Copy)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub x0: i32,
    pub x1: i32,
}

impl Axis {
    pub fn px(&self, v: f64) -> i32 {
        let t = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        self.x0 + (t * (self.x1 - self.x0) as f64).round() as i32
    }

    /// Vertical grid lines with labels below `y1`.
    pub fn grid<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        ctx: &Ctx,
        y0: i32,
        y1: i32,
    ) -> Result<(), Error> {
        let ticks = nice_ticks(self.lo, self.hi, 5);
        for (t, label) in ticks.iter().copied().zip(tick_labels(&ticks)) {
            let x = self.px(t);
            let style = if t == 0.0 { MUTED } else { theme::GRID };
            area.draw(&PathElement::new(vec![(x, y0), (x, y1)], style))
                .map_err(de)?;
            let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
            area.draw(&text_at(label, (x, y1 + 4), s)).map_err(de)?;
        }
        Ok(())
    }
}

/// Index values of `units`, with 0 included and room on the right for labels.
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0f64, 0f64);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let ticks = nice_ticks(lo, hi, 5);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let lo = if lo < 0.0 {
        (lo / step).floor() * step
    } else {
        lo
    };
    ((lo), (hi / step).ceil() * step)
}

/// The panels of a long list: `[(heading, units)]`.
fn panels(ctx: &Ctx, units: &[usize]) -> Vec<(String, Vec<usize>)> {
    let (top, bottom) = ctx.top_bottom(units);
    if bottom.is_empty() {
        vec![(String::new(), top)]
    } else {
        let n = top.len();
        let total = units.len();
        vec![
            (
                match ctx.opts.lang {
                    crate::framework::Lang::Zh => format!("前{n}名（共{total}个）"),
                    crate::framework::Lang::En => format!("Top {n} of {total}"),
                },
                top,
            ),
            (
                match ctx.opts.lang {
                    crate::framework::Lang::Zh => format!("后{n}名"),
                    crate::framework::Lang::En => format!("Bottom {n}"),
                },
                bottom,
            ),
        ]
    }
}

/// Ranking of the index in the chosen period: bars sorted by score, each labelled with its
/// rank, score and change of rank against the previous period.
pub fn ranking(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let units = ctx.ordered_units(p);
    let panels = panels(&ctx, &units);
    let title = ctx.title(ctx.tr("排名", "ranking"));
    let subtitle = if let Some(q) = ctx.prev {
        match opts.lang {
            crate::framework::Lang::Zh => {
                format!("条形为指数得分；▲▼为与{}相比的名次变化", ctx.period(q))
            }
            crate::framework::Lang::En => format!(
                "Bars: index score; ▲▼ change of rank since {}",
                ctx.period(q)
            ),
        }
    } else {
        ctx.tr("条形为指数得分", "Bars: index score").to_string()
    };
    let subtitle = if fw.nodes[0].lower_is_better {
        subtitle
            + ctx.tr(
                "（越低越好，由低到高排名）",
                " (lower is better, ranked lowest first)",
            )
    } else {
        subtitle
    };
    let (lo, hi) = value_range(units.iter().map(|&u| ctx.score(p, u, 0)));
    let name_w = ctx.max_width(units.iter().map(|&u| ctx.unit_long(u)), BODY) + 12;
    let rank_w = ctx.width("000", BODY) + 10;
    let bar_w = 420;
    let tail_w = ctx.width("100.0  ▼100", BODY) + 16;
    let panel_w = rank_w + name_w + bar_w + tail_w;
    let rows = panels.iter().map(|(_, u)| u.len()).max().unwrap_or(0) as i32;
    let head = if panels.len() > 1 { 30 } else { 0 };
    let w = (panel_w * panels.len() as i32 + 2 * theme::PAD).max(720);
    let h = 110 + head + rows * ROW + 40;
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
                let axis = Axis {
                    lo,
                    hi,
                    x0: x + rank_w + name_w,
                    x1: x + rank_w + name_w + bar_w,
                };
                axis.grid(&area, &ctx, y0, y0 + list.len() as i32 * ROW)?;
                for (i, &u) in list.iter().enumerate() {
                    let yc = y0 + i as i32 * ROW + ROW / 2;
                    let v = ctx.score(p, u, 0);
                    let rank = ctx
                        .rank(p, u)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "–".into());
                    let s = anchored(ctx.text(BODY, MUTED), HPos::Right, VPos::Center);
                    area.draw(&text_at(rank, (x + rank_w - 8, yc), s))
                        .map_err(de)?;
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.unit_long(u), (x + rank_w, yc), s))
                        .map_err(de)?;
                    let (a, b) = (axis.px(0f64.max(lo)), axis.px(v));
                    area.draw(&Rectangle::new(
                        [(a.min(b), yc - 9), (a.max(b), yc + 9)],
                        theme::ACCENT.filled(),
                    ))
                    .map_err(de)?;
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    let end = a.max(b) + 6;
                    area.draw(&text_at(ctx.fmt(v), (end, yc), s)).map_err(de)?;
                    if let Some(q) = ctx.prev {
                        let (label, color) = change_label(&ctx, ctx.r.rank_change(0, q, p, u));
                        let s = anchored(ctx.text(BODY, color), HPos::Left, VPos::Center);
                        let x2 = end + ctx.width(&ctx.fmt(v), BODY) + 10;
                        area.draw(&text_at(label, (x2, yc), s)).map_err(de)?;
                    }
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("ranking", title, bytes))
}

/// Each unit's weighted dimension contributions. For an arithmetic index a dimension
/// contributes its weight share (renormalised over the dimensions present) times its score,
/// and the segments add up to the index. For other aggregations the same weighted scores are
/// shown, the subtitle says they do not add up to the index, and a mark shows the index.
pub fn contributions(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let dims = ctx.dimensions();
    let arithmetic = matches!(fw.aggregate_of(&fw.nodes[0]).method, Aggregate::Arithmetic);
    let units = ctx.ordered_units(p);
    let parts = |u: usize| -> Vec<f64> {
        let present: f64 = dims
            .iter()
            .filter(|&&d| !ctx.score(p, u, d).is_nan())
            .map(|&d| fw.nodes[d].weight)
            .sum();
        dims.iter()
            .map(|&d| {
                let s = ctx.score(p, u, d);
                if s.is_nan() || present <= 0.0 {
                    0.0
                } else {
                    fw.nodes[d].weight / present * s
                }
            })
            .collect()
    };
    let (mut lo, mut hi) = (0f64, 0f64);
    for &u in &units {
        let c = parts(u);
        hi = hi.max(c.iter().filter(|v| **v > 0.0).sum::<f64>());
        lo = lo.min(c.iter().filter(|v| **v < 0.0).sum::<f64>());
        let v = ctx.score(p, u, 0);
        if v.is_finite() {
            hi = hi.max(v);
            lo = lo.min(v);
        }
    }
    let (lo, hi) = value_range([lo, hi].into_iter());
    let panels = panels(&ctx, &units);
    let title = ctx.title(ctx.tr("各维度贡献", "dimension contributions"));
    // The index's formula with the dimensions' names: the segments are not its parts.
    let formula = fw.nodes[0].formula().map(|f| {
        let how = f.render(&|k| ctx.name(fw.nodes[0].children[k]));
        match opts.lang {
            crate::framework::Lang::Zh => format!(
                "指数 = {how}；各段为权重占比 × 维度得分，之和不等于指数；◆为指数"
            ),
            crate::framework::Lang::En => format!(
                "Index = {how}; segments are weight share × score and do not add up to it; ◆ marks the index"
            ),
        }
    });
    let subtitle = if let Some(f) = &formula {
        f.as_str()
    } else if arithmetic {
        ctx.tr(
            "贡献 = 维度权重占比 × 维度得分，各段之和即指数",
            "Contribution = dimension's weight share × its score; the segments add up to the index",
        )
    } else {
        ctx.tr(
            "指数非算术平均：各段为权重占比 × 维度得分，之和不等于指数；◆为指数",
            "The index is not an arithmetic mean: segments are weight share × score and do not add up to it; ◆ marks the index",
        )
    };
    let name_w = ctx.max_width(units.iter().map(|&u| ctx.unit_long(u)), BODY) + 12;
    let rank_w = ctx.width("000", BODY) + 10;
    let bar_w = 460;
    let tail_w = ctx.width("100.0", BODY) + 24;
    let panel_w = rank_w + name_w + bar_w + tail_w;
    // Legend: one swatch per dimension, wrapped to the chart width.
    let w = (panel_w * panels.len() as i32 + 2 * theme::PAD).max(900);
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (0, 0);
    for (i, &d) in dims.iter().enumerate() {
        let iw = 18 + ctx.width(&ctx.name(d), SMALL) + 18;
        if lx + iw > w - 2 * theme::PAD && lx > 0 {
            lx = 0;
            ly += 22;
        }
        legend.push((i, d, lx, ly));
        lx += iw;
    }
    let legend_h = ly + 30;
    let rows = panels.iter().map(|(_, u)| u.len()).max().unwrap_or(0) as i32;
    let head = if panels.len() > 1 { 30 } else { 0 };
    let h = 110 + legend_h + head + rows * ROW + 40;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, subtitle)?;
            for &(i, d, lx, ly) in &legend {
                let (x, y) = (theme::PAD + lx, ly);
                area.draw(&Rectangle::new(
                    [(x, y + 2), (x + 13, y + 15)],
                    theme::category(i).filled(),
                ))
                .map_err(de)?;
                area.draw(&text_at(
                    ctx.name(d),
                    (x + 18, y + 8),
                    anchored(ctx.text(SMALL, INK), HPos::Left, VPos::Center),
                ))
                .map_err(de)?;
            }
            let area = area.split_vertically(legend_h).1;
            for (k, (heading, list)) in panels.iter().enumerate() {
                let x = theme::PAD + k as i32 * panel_w;
                if !heading.is_empty() {
                    area.draw(&text_at(heading.clone(), (x, 0), ctx.text(BODY, INK)))
                        .map_err(de)?;
                }
                let axis = Axis {
                    lo,
                    hi,
                    x0: x + rank_w + name_w,
                    x1: x + rank_w + name_w + bar_w,
                };
                axis.grid(&area, &ctx, head, head + list.len() as i32 * ROW)?;
                for (i, &u) in list.iter().enumerate() {
                    let yc = head + i as i32 * ROW + ROW / 2;
                    let rank = ctx
                        .rank(p, u)
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "–".into());
                    let s = anchored(ctx.text(BODY, MUTED), HPos::Right, VPos::Center);
                    area.draw(&text_at(rank, (x + rank_w - 8, yc), s))
                        .map_err(de)?;
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.unit_long(u), (x + rank_w, yc), s))
                        .map_err(de)?;
                    let (mut pos, mut neg) = (0f64, 0f64);
                    for (j, c) in parts(u).into_iter().enumerate() {
                        let (a, b) = if c >= 0.0 {
                            pos += c;
                            (pos - c, pos)
                        } else {
                            neg += c;
                            (neg, neg - c)
                        };
                        let (pa, pb) = (axis.px(a), axis.px(b));
                        if pb > pa {
                            area.draw(&Rectangle::new(
                                [(pa, yc - 9), (pb, yc + 9)],
                                theme::category(j).filled(),
                            ))
                            .map_err(de)?;
                        }
                    }
                    let v = ctx.score(p, u, 0);
                    let end = axis.px(pos.max(if v.is_finite() { v } else { 0.0 }));
                    if !arithmetic && v.is_finite() {
                        let xv = axis.px(v);
                        area.draw(&Polygon::new(
                            vec![(xv, yc - 7), (xv + 6, yc), (xv, yc + 7), (xv - 6, yc)],
                            INK.filled(),
                        ))
                        .map_err(de)?;
                    }
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.fmt(v), (end + 8, yc), s))
                        .map_err(de)?;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("contributions", title, bytes))
}

/// Change of index rank from the previous period to the chosen one: a diverging bar per unit,
/// risers first; with many units the largest risers and fallers.
pub fn rank_change(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let Some(q) = ctx.prev else {
        return Err(Error::Usage(format!(
            "the rank-change chart needs the period before {} in the data",
            ctx.period(p)
        )));
    };
    let mut moves: Vec<(usize, u32, u32, i64)> = ctx
        .ordered_units(p)
        .into_iter()
        .filter_map(|u| {
            let (b, n) = (ctx.rank(q, u)?, ctx.rank(p, u)?);
            Some((u, b, n, b as i64 - n as i64))
        })
        .collect();
    moves.sort_by(|a, b| b.3.cmp(&a.3).then(a.2.cmp(&b.2)));
    let idx: Vec<usize> = (0..moves.len()).collect();
    let panels = panels(&ctx, &idx);
    let max = moves.iter().map(|m| m.3.abs()).max().unwrap_or(1).max(1) as f64;
    let title = ctx.title(ctx.tr("名次变化", "change of rank"));
    let subtitle = match opts.lang {
        crate::framework::Lang::Zh => format!("与{}相比；右为上升，左为下降", ctx.period(q)),
        crate::framework::Lang::En => format!(
            "Since {}; right: rank gained, left: rank lost",
            ctx.period(q)
        ),
    };
    let name_w = ctx.max_width(moves.iter().map(|m| ctx.unit_long(m.0)), BODY) + 12;
    let half = 220;
    // Room for the widest label (five-digit ranks of many units), at least three digits'.
    let shown = panels
        .iter()
        .flat_map(|(_, list)| list.iter().map(|&i| &moves[i]));
    let widest = ctx.max_width(shown.map(|m| format!("{} → {}", m.1, m.2)), SMALL);
    let tail_w = widest.max(ctx.width("100 → 100", SMALL)) + 20;
    let panel_w = name_w + tail_w + 2 * half + tail_w;
    let rows = panels.iter().map(|(_, u)| u.len()).max().unwrap_or(0) as i32;
    let head = if panels.len() > 1 { 30 } else { 0 };
    let w = (panel_w * panels.len() as i32 + 2 * theme::PAD).max(720);
    let h = 110 + head + rows * ROW + 40;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            for (k, (heading, list)) in panels.iter().enumerate() {
                let x = theme::PAD + k as i32 * panel_w;
                if !heading.is_empty() {
                    let heading = if k == 0 {
                        ctx.tr("上升最多", "Largest gains")
                    } else {
                        ctx.tr("下降最多", "Largest losses")
                    };
                    area.draw(&text_at(heading, (x, 0), ctx.text(BODY, INK)))
                        .map_err(de)?;
                }
                let axis = Axis {
                    lo: -max,
                    hi: max,
                    x0: x + name_w + tail_w,
                    x1: x + name_w + tail_w + 2 * half,
                };
                let y1 = head + list.len() as i32 * ROW;
                axis.grid(&area, &ctx, head, y1)?;
                for (i, &m) in list.iter().enumerate() {
                    let (u, before, now, d) = moves[m];
                    let yc = head + i as i32 * ROW + ROW / 2;
                    let s = anchored(ctx.text(BODY, INK), HPos::Left, VPos::Center);
                    area.draw(&text_at(ctx.unit_long(u), (x, yc), s))
                        .map_err(de)?;
                    let (a, b) = (axis.px(0.0), axis.px(d as f64));
                    let color = if d > 0 {
                        theme::UP
                    } else if d < 0 {
                        theme::DOWN
                    } else {
                        MUTED
                    };
                    if a != b {
                        area.draw(&Rectangle::new(
                            [(a.min(b), yc - 9), (a.max(b), yc + 9)],
                            color.filled(),
                        ))
                        .map_err(de)?;
                    }
                    let label = format!("{before} → {now}");
                    let (px, hp) = if d >= 0 {
                        (a.max(b) + 6, HPos::Left)
                    } else {
                        (a.min(b) - 6, HPos::Right)
                    };
                    let s = anchored(ctx.text(SMALL, color), hp, VPos::Center);
                    area.draw(&text_at(label, (px, yc), s)).map_err(de)?;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("rank-change", title, bytes))
}

/// Bump chart: index ranks over the last (up to 12) periods to the chosen one. With many units,
/// the current top ten.
pub fn bump(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    if p == 0 {
        return Err(Error::Usage(
            "the bump chart needs a period before the chosen one".into(),
        ));
    }
    let first = p.saturating_sub(11);
    let periods: Vec<usize> = (first..=p).collect();
    let all = ctx.ordered_units(p);
    let many = all.len() > ctx.opts.top_n.max(1) * 3 / 2;
    let shown: Vec<usize> = if many {
        all.iter().copied().take(10).collect()
    } else {
        all.clone()
    };
    let c = &ctx;
    let max_rank = shown
        .iter()
        .flat_map(|&u| periods.iter().filter_map(move |&q| c.rank(q, u)))
        .max()
        .unwrap_or(1)
        .max(shown.len() as u32);
    let title = ctx.title(ctx.tr("名次走势", "ranks over time"));
    let subtitle = if many {
        match opts.lang {
            crate::framework::Lang::Zh => {
                format!("本期前{}名在近{}期的名次", shown.len(), periods.len())
            }
            crate::framework::Lang::En => format!(
                "Ranks of the current top {} over the last {} periods",
                shown.len(),
                periods.len()
            ),
        }
    } else {
        match opts.lang {
            crate::framework::Lang::Zh => format!("近{}期名次", periods.len()),
            crate::framework::Lang::En => format!("Ranks over the last {} periods", periods.len()),
        }
    };
    let label_w = ctx.max_width(shown.iter().map(|&u| ctx.unit_long(u)), SMALL) + 50;
    // With many units the ranks do not run 1, 2, 3…: a rank axis on the left says which.
    let axis_w = if many {
        ctx.width("000", SMALL) + 12
    } else {
        0
    };
    let plot_w = (periods.len() as i32 * 90).max(500);
    let w = theme::PAD * 2 + label_w * 2 + axis_w + plot_w;
    let plot_h = if max_rank <= 20 {
        (max_rank as i32 - 1).max(1) * 34
    } else {
        720
    };
    let h = 110 + plot_h + 70;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, &ctx, &title, &subtitle)?;
            let x0 = theme::PAD + label_w + axis_w;
            let step = plot_w as f64 / (periods.len().max(2) - 1) as f64;
            let px = |i: usize| x0 + (i as f64 * step).round() as i32;
            let py = |rank: u32| {
                10 + ((rank as f64 - 1.0) / (max_rank as f64 - 1.0).max(1.0) * plot_h as f64)
                    .round() as i32
            };
            for (i, &q) in periods.iter().enumerate() {
                let x = px(i);
                area.draw(&PathElement::new(
                    vec![(x, 10), (x, 10 + plot_h)],
                    theme::GRID,
                ))
                .map_err(de)?;
                let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
                area.draw(&text_at(ctx.period(q), (x, plot_h + 22), s))
                    .map_err(de)?;
            }
            if many {
                let mut ticks = nice_ticks(0.0, max_rank as f64, 6);
                ticks[0] = 1.0;
                for t in ticks {
                    let y = py(t as u32);
                    area.draw(&PathElement::new(
                        vec![(x0, y), (px(periods.len() - 1), y)],
                        theme::GRID,
                    ))
                    .map_err(de)?;
                    let s = anchored(ctx.text(SMALL, MUTED), HPos::Right, VPos::Center);
                    area.draw(&text_at(format!("{t:.0}"), (x0 - 8, y), s))
                        .map_err(de)?;
                }
                let s = anchored(ctx.text(SMALL, MUTED), HPos::Right, VPos::Bottom);
                area.draw(&text_at(ctx.tr("名次", "Rank"), (x0 - 8, 0), s))
                    .map_err(de)?;
            }
            type Label = ((i32, i32), String, RGBColor);
            let (mut right, mut left): (Vec<Label>, Vec<Label>) = (Vec::new(), Vec::new());
            for (k, &u) in shown.iter().enumerate() {
                let (color, dash) = theme::line_style(k);
                let pts: Vec<Option<(i32, i32)>> = periods
                    .iter()
                    .enumerate()
                    .map(|(i, &q)| ctx.rank(q, u).map(|r| (px(i), py(r))))
                    .collect();
                for seg in pts.split(|x| x.is_none()) {
                    let seg: Vec<(i32, i32)> = seg.iter().flatten().copied().collect();
                    match dash {
                        _ if seg.len() < 2 => {}
                        None => area
                            .draw(&PathElement::new(seg.clone(), color.stroke_width(3)))
                            .map_err(de)?,
                        Some((d, g)) => area
                            .draw(&DashedPathElement::new(
                                seg.clone(),
                                d,
                                g,
                                color.stroke_width(3),
                            ))
                            .map_err(de)?,
                    }
                    for &pt in &seg {
                        area.draw(&Circle::new(pt, 5, color.filled())).map_err(de)?;
                    }
                }
                let name = ctx.unit_long(u);
                if let Some(Some(pt)) = pts.last() {
                    let r = ctx.rank(p, u).unwrap_or(0);
                    right.push((*pt, format!("{r} {name}"), color));
                }
                if let Some((i, Some(pt))) = pts.iter().enumerate().find(|(_, x)| x.is_some()) {
                    let r = ctx.rank(periods[i], u).unwrap_or(0);
                    left.push((*pt, format!("{name} {r}"), color));
                }
            }
            // End labels, moved apart where ranks are close, with a leader to their point.
            let left_dx = -14 - axis_w;
            for (labels, hp, dx) in [
                (&mut right, HPos::Left, 14),
                (&mut left, HPos::Right, left_dx),
            ] {
                labels.sort_by_key(|l| (l.0.1, l.0.0));
                let mut next = i32::MIN;
                for ((x, y), text, color) in labels.iter() {
                    let ly = (*y).max(next);
                    next = ly + SMALL as i32 + 4;
                    if ly != *y || dx.abs() > 14 {
                        area.draw(&PathElement::new(
                            vec![(*x, *y), (x + dx / 2, ly), (x + dx - dx.signum() * 2, ly)],
                            color.stroke_width(1),
                        ))
                        .map_err(de)?;
                    }
                    let s = anchored(ctx.text(SMALL, INK), hp, VPos::Center);
                    area.draw(&text_at(text.clone(), (x + dx, ly), s))
                        .map_err(de)?;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart("bump", title, bytes))
}
