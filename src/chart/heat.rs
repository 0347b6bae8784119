//! Heatmaps: units × dimensions, units × indicators, and correlations.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme::{self, BODY, INK, MUTED, SMALL};
use super::{Chart, ChartOptions, Ctx, de, header, render, text_at};
use crate::Results;
use crate::error::Error;
use crate::framework::{Framework, Lang};

/// A block of rows under an optional heading.
struct Block {
    heading: String,
    rows: Vec<(String, Vec<f64>)>,
}

/// A grid of coloured cells with the values written in them.
struct Grid<'a> {
    name: &'a str,
    title: String,
    subtitle: String,
    columns: Vec<String>,
    blocks: Vec<Block>,
    cell_w: i32,
    cell_h: i32,
    value_size: f64,
    color: &'a dyn Fn(f64) -> RGBColor,
    format: &'a dyn Fn(f64) -> String,
}

fn draw_grid(ctx: &Ctx, g: Grid) -> Result<Chart, Error> {
    let label_w = ctx.max_width(
        g.blocks
            .iter()
            .flat_map(|b| b.rows.iter().map(|r| r.0.as_str())),
        SMALL,
    ) + 14;
    let col_h = ctx.max_width(&g.columns, SMALL) + 14;
    let ncol = g.columns.len() as i32;
    let heads = g.blocks.iter().filter(|b| !b.heading.is_empty()).count() as i32;
    let nrows: i32 = g.blocks.iter().map(|b| b.rows.len() as i32).sum();
    let gaps = (g.blocks.len() as i32 - 1).max(0);
    let grid_w = ncol * g.cell_w;
    let title_w = ctx
        .width(&g.title, theme::TITLE)
        .max(ctx.width(&g.subtitle, SMALL));
    let w = (theme::PAD * 2 + label_w + grid_w).max(theme::PAD * 2 + title_w);
    let h = 100 + col_h + heads * 28 + gaps * 12 + nrows * g.cell_h + theme::PAD;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, ctx, &g.title, &g.subtitle)?;
            let x0 = theme::PAD + label_w;
            for (j, c) in g.columns.iter().enumerate() {
                let x = x0 + j as i32 * g.cell_w + g.cell_w / 2;
                let s = ctx
                    .text(SMALL, INK)
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                area.draw(&text_at(c.clone(), (x, col_h - 6), s))
                    .map_err(de)?;
            }
            let mut y = col_h;
            for (k, b) in g.blocks.iter().enumerate() {
                if k > 0 {
                    y += 12;
                }
                if !b.heading.is_empty() {
                    let s = ctx.text(BODY, INK).pos(Pos::new(HPos::Left, VPos::Center));
                    area.draw(&text_at(b.heading.clone(), (theme::PAD, y + 14), s))
                        .map_err(de)?;
                    y += 28;
                }
                for (label, values) in &b.rows {
                    let yc = y + g.cell_h / 2;
                    let s = ctx
                        .text(SMALL, INK)
                        .pos(Pos::new(HPos::Right, VPos::Center));
                    area.draw(&text_at(label.clone(), (x0 - 8, yc), s))
                        .map_err(de)?;
                    for (j, &v) in values.iter().enumerate() {
                        let x = x0 + j as i32 * g.cell_w;
                        let bg = if v.is_nan() {
                            theme::NODATA
                        } else {
                            (g.color)(v)
                        };
                        area.draw(&Rectangle::new(
                            [(x, y), (x + g.cell_w - 1, y + g.cell_h - 1)],
                            bg.filled(),
                        ))
                        .map_err(de)?;
                        let s = ctx
                            .text(g.value_size, theme::on(bg))
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        area.draw(&text_at(
                            (g.format)(v),
                            (x + g.cell_w / 2, y + g.cell_h / 2),
                            s,
                        ))
                        .map_err(de)?;
                    }
                    y += g.cell_h;
                }
            }
            Ok(())
        })()
    });
    Ok(ctx.chart(g.name, g.title, bytes))
}

/// Units (best first) as blocks of rows: all of them, or the top and bottom `top_n`.
fn unit_blocks(ctx: &Ctx, nodes: &[usize]) -> Vec<Block> {
    let p = ctx.p;
    let units = ctx.ordered_units(p);
    let (top, bottom) = ctx.top_bottom(&units);
    let row = |u: usize| {
        let rank = ctx.rank(p, u).map(|r| format!("{r}. ")).unwrap_or_default();
        (
            format!("{rank}{}", ctx.unit_long(u)),
            nodes.iter().map(|&n| ctx.score(p, u, n)).collect(),
        )
    };
    if bottom.is_empty() {
        vec![Block {
            heading: String::new(),
            rows: top.into_iter().map(row).collect(),
        }]
    } else {
        let (n, total) = (top.len(), units.len());
        let (h1, h2) = match ctx.opts.lang {
            Lang::Zh => (format!("前{n}名（共{total}个）"), format!("后{n}名")),
            Lang::En => (format!("Top {n} of {total}"), format!("Bottom {n}")),
        };
        vec![
            Block {
                heading: h1,
                rows: top.into_iter().map(row).collect(),
            },
            Block {
                heading: h2,
                rows: bottom.into_iter().map(row).collect(),
            },
        ]
    }
}

fn range_of(blocks: &[Block]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in blocks
        .iter()
        .flat_map(|b| b.rows.iter().flat_map(|r| r.1.iter()))
        .filter(|v| v.is_finite())
    {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi <= lo {
        (lo, lo + 1.0)
    } else {
        (lo, hi)
    }
}

/// Heatmap of units (best first) × dimensions, scores written in the cells.
pub fn heatmap_dimensions(
    fw: &Framework,
    r: &Results,
    opts: &ChartOptions,
) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let mut nodes = vec![0];
    nodes.extend(ctx.dimensions());
    let blocks = unit_blocks(&ctx, &nodes);
    let (lo, hi) = range_of(&blocks);
    let color = move |v: f64| theme::sequential((v - lo) / (hi - lo));
    let format = |v: f64| ctx.fmt(v);
    let title = ctx.title(ctx.tr("各维度得分", "dimension scores"));
    let grid = Grid {
        name: "heatmap-dimensions",
        title,
        subtitle: ctx
            .tr(
                "第一列为指数；颜色越深得分越高",
                "First column: the index; darker is higher",
            )
            .into(),
        columns: nodes.iter().map(|&n| ctx.name(n).to_string()).collect(),
        blocks,
        cell_w: 84,
        cell_h: 26,
        value_size: SMALL,
        color: &color,
        format: &format,
    };
    draw_grid(&ctx, grid)
}

/// Heatmap of units (best first) × indicators: normalised indicator scores in the cells.
pub fn heatmap_indicators(
    fw: &Framework,
    r: &Results,
    opts: &ChartOptions,
) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let nodes = fw.indicators();
    let blocks = unit_blocks(&ctx, &nodes);
    let (lo, hi) = range_of(&blocks);
    let color = move |v: f64| theme::sequential((v - lo) / (hi - lo));
    // Two significant figures: the cells are small.
    let format = |v: f64| crate::format::fmt_sig(v, 2);
    let title = ctx.title(ctx.tr("各指标标准化得分", "normalised indicator scores"));
    let grid = Grid {
        name: "heatmap-indicators",
        title,
        subtitle: ctx
            .tr(
                "指标按框架顺序排列；颜色越深表现越好",
                "Indicators in framework order; darker is better",
            )
            .into(),
        columns: nodes.iter().map(|&n| ctx.name(n).to_string()).collect(),
        blocks,
        cell_w: 38,
        cell_h: 24,
        value_size: theme::TINY,
        color: &color,
        format: &format,
    };
    draw_grid(&ctx, grid)
}

/// Pearson correlations (pairwise complete, over the units scored in the period, as the audit
/// computes them) of the dimensions and the indicators' normalised scores.
pub fn correlations(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    let p = ctx.p;
    let mut nodes: Vec<usize> = fw.aggregates_preorder().into_iter().skip(1).collect();
    nodes.extend(fw.indicators());
    let units: Vec<usize> = (0..r.panel.units.len())
        .filter(|&u| r.status[[p, u]] == crate::evaluate::Status::Scored)
        .collect();
    let col = |n: usize| -> Vec<f64> { units.iter().map(|&u| r.scores[[p, u, n]]).collect() };
    let cols: Vec<Vec<f64>> = nodes.iter().map(|&n| col(n)).collect();
    // Each pair once: Pearson's coefficient is symmetric to the bit (its products and sums
    // are the same, in the same order), and at grid scale the matrix is 66 × 66 columns of
    // 20,849 values.
    let mut matrix = vec![vec![f64::NAN; nodes.len()]; nodes.len()];
    for i in 0..nodes.len() {
        for j in i..nodes.len() {
            let v = crate::stats::pearson(&cols[i], &cols[j]).unwrap_or(f64::NAN);
            matrix[i][j] = v;
            matrix[j][i] = v;
        }
    }
    let rows = nodes
        .iter()
        .zip(matrix)
        .map(|(&n, values)| (ctx.name(n).to_string(), values))
        .collect();
    let color = |v: f64| theme::diverging(v);
    // Coefficients with two decimals and no leading zero (`.23`, `-.80`), never `-.00`.
    let format = |v: f64| crate::format::fmt_fixed(v, 2).replacen("0.", ".", 1);
    let title = ctx.title(ctx.tr(
        "维度与指标的相关系数",
        "correlations of dimensions and indicators",
    ));
    let subtitle = match opts.lang {
        Lang::Zh => format!(
            "皮尔逊相关系数（{}个单位）；先列维度，再列指标；蓝为正相关，红为负相关",
            units.len()
        ),
        Lang::En => format!(
            "Pearson correlation over {} units; dimensions first, then indicators; blue positive, red negative",
            units.len()
        ),
    };
    let grid = Grid {
        name: "correlations",
        title,
        subtitle,
        columns: nodes.iter().map(|&n| ctx.name(n).to_string()).collect(),
        blocks: vec![Block {
            heading: String::new(),
            rows,
        }],
        cell_w: 34,
        cell_h: 26,
        value_size: theme::TINY,
        color: &color,
        format: &format,
    };
    let _ = MUTED;
    draw_grid(&ctx, grid)
}
