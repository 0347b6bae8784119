//! Maps of the index: a choropleth from a user's GeoJSON of unit boundaries, or a tile grid.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde_json::Value;

use super::bars::{nice_ticks, tick_labels};
use super::theme::{self, BODY, INK, MUTED, SMALL};
use super::{Chart, ChartOptions, Ctx, anchored, de, header, render, text_at};
use crate::Results;
use crate::error::Error;
use crate::framework::{Framework, Lang};

/// Reads tile positions from a CSV file of `unit,row,col` (see [`parse_tiles`]).
pub fn read_tiles(path: &Path) -> Result<Vec<(String, u32, u32)>, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_tiles(path, &bytes)
}

/// Tile positions from a CSV of `unit,row,col` (a header line is skipped).
pub fn parse_tiles(path: &Path, bytes: &[u8]) -> Result<Vec<(String, u32, u32)>, Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::Data(format!("{}: not UTF-8 text", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .collect();
        let parsed = match f.as_slice() {
            [u, r, c] => r
                .parse::<u32>()
                .ok()
                .zip(c.parse::<u32>().ok())
                .map(|(r, c)| (u, r, c)),
            _ => None,
        };
        match parsed {
            Some((u, r, c)) => out.push((u.to_string(), r, c)),
            None if i == 0 => {} // header
            None => {
                return Err(Error::Data(format!(
                    "{}:{}: expected `unit,row,col` with whole-number row and col, found `{line}`",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(out)
}

/// Map of the index in the period: a choropleth when `opts.geojson` is given (features
/// matched to units by the property whose values match the most unit keys; lon/lat projected
/// equirectangularly, scaled by the cosine of the mean latitude; holes are not drawn), else a
/// tile grid from `opts.tiles`.
pub fn map(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Chart, Error> {
    let ctx = Ctx::new(fw, r, opts)?;
    if let Some(text) = &opts.geojson {
        choropleth(&ctx, text)
    } else if let Some(tiles) = &opts.tiles {
        tile_map(&ctx, tiles)
    } else {
        Err(Error::Usage(
            "the map needs a GeoJSON of unit boundaries or tile positions".into(),
        ))
    }
}

fn scale(ctx: &Ctx) -> (f64, f64) {
    let p = ctx.p;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for u in 0..ctx.r.panel.units.len() {
        let v = ctx.score(p, u, 0);
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi <= lo {
        (lo, lo + 1.0)
    } else {
        (lo, hi)
    }
}

fn fill(ctx: &Ctx, u: Option<usize>, lo: f64, hi: f64) -> RGBColor {
    match u.map(|u| ctx.score(ctx.p, u, 0)) {
        Some(v) if v.is_finite() => theme::sequential((v - lo) / (hi - lo)),
        _ => theme::NODATA,
    }
}

/// A horizontal colour bar with ticks at `(x, y)`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    ctx: &Ctx,
    (x, y): (i32, i32),
    lo: f64,
    hi: f64,
) -> Result<(), Error> {
    let w = 300;
    for i in 0..w {
        let c = theme::sequential(i as f64 / (w - 1) as f64);
        area.draw(&Rectangle::new(
            [(x + i, y), (x + i + 1, y + 14)],
            c.filled(),
        ))
        .map_err(de)?;
    }
    let ticks = nice_ticks(lo, hi, 4);
    for (t, label) in ticks.iter().copied().zip(tick_labels(&ticks)) {
        let px = x + ((t - lo) / (hi - lo) * w as f64).round() as i32;
        area.draw(&PathElement::new(vec![(px, y + 14), (px, y + 18)], MUTED))
            .map_err(de)?;
        let s = anchored(ctx.text(SMALL, MUTED), HPos::Center, VPos::Top);
        area.draw(&text_at(label, (px, y + 20), s)).map_err(de)?;
    }
    let nodata = (x + w + 30, y);
    area.draw(&Rectangle::new(
        [nodata, (nodata.0 + 14, nodata.1 + 14)],
        theme::NODATA.filled(),
    ))
    .map_err(de)?;
    let s = anchored(ctx.text(SMALL, MUTED), HPos::Left, VPos::Center);
    area.draw(&text_at(
        ctx.tr("无数据", "no data"),
        (nodata.0 + 20, nodata.1 + 7),
        s,
    ))
    .map_err(de)?;
    Ok(())
}

fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

type Ring = Vec<(f64, f64)>;

fn rings(geometry: &Value) -> Result<Vec<Ring>, String> {
    let ring = |v: &Value| -> Result<Ring, String> {
        v.as_array()
            .ok_or("a ring is not an array")?
            .iter()
            .map(|pt| {
                let a = pt.as_array().ok_or("a position is not an array")?;
                match (
                    a.first().and_then(Value::as_f64),
                    a.get(1).and_then(Value::as_f64),
                ) {
                    (Some(x), Some(y)) => Ok((x, y)),
                    _ => Err("a position is not [lon, lat]".to_string()),
                }
            })
            .collect()
    };
    let coords = &geometry["coordinates"];
    // Outer rings only: the first ring of each polygon.
    match geometry["type"].as_str() {
        Some("Polygon") => Ok(coords
            .as_array()
            .and_then(|p| p.first())
            .map(ring)
            .transpose()?
            .into_iter()
            .collect()),
        Some("MultiPolygon") => coords
            .as_array()
            .ok_or("MultiPolygon coordinates are not an array")?
            .iter()
            .filter_map(|poly| poly.as_array().and_then(|p| p.first()))
            .map(ring)
            .collect(),
        Some(other) => Err(format!(
            "geometry type {other} is not a Polygon or MultiPolygon"
        )),
        None => Ok(Vec::new()),
    }
}

/// Signed area and centroid of a ring (shoelace).
fn centroid(r: &[(f64, f64)]) -> (f64, (f64, f64)) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..r.len() {
        let (x0, y0) = r[i];
        let (x1, y1) = r[(i + 1) % r.len()];
        let c = x0 * y1 - x1 * y0;
        a += c;
        cx += (x0 + x1) * c;
        cy += (y0 + y1) * c;
    }
    if a.abs() < 1e-12 {
        let n = r.len().max(1) as f64;
        let (sx, sy) = r.iter().fold((0.0, 0.0), |s, p| (s.0 + p.0, s.1 + p.1));
        return (0.0, (sx / n, sy / n));
    }
    (a / 2.0, (cx / (3.0 * a), cy / (3.0 * a)))
}

fn choropleth(ctx: &Ctx, text: &str) -> Result<Chart, Error> {
    let gj: Value = serde_json::from_str(text).map_err(|e| Error::Data(format!("GeoJSON: {e}")))?;
    let features = gj["features"]
        .as_array()
        .ok_or_else(|| Error::Data("GeoJSON: not a FeatureCollection with `features`".into()))?;
    let units = &ctx.r.panel.units;
    let index: BTreeMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    // The property that matches the most unit keys.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in features {
        if let Some(props) = f["properties"].as_object() {
            for (k, v) in props {
                if key_text(v).is_some_and(|s| index.contains_key(s.as_str())) {
                    *counts.entry(k.clone()).or_default() += 1;
                }
            }
        }
    }
    let (prop, _) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .ok_or_else(|| {
            Error::Data(
                "GeoJSON: no feature property holds a unit key of the results (e.g. a code like `440106`)"
                    .into(),
            )
        })?;
    let mut shapes: Vec<(Option<usize>, Vec<Ring>)> = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let u = key_text(&f["properties"][prop]).and_then(|k| index.get(k.as_str()).copied());
        let rs =
            rings(&f["geometry"]).map_err(|e| Error::Data(format!("GeoJSON feature {i}: {e}")))?;
        shapes.push((u, rs));
    }
    let pts = shapes.iter().flat_map(|s| s.1.iter().flatten());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater)
        || y1.partial_cmp(&y0) != Some(std::cmp::Ordering::Greater)
    {
        return Err(Error::Data("GeoJSON: the features have no extent".into()));
    }
    let k = ((y0 + y1) / 2.0).to_radians().cos();
    let (gw, gh) = ((x1 - x0) * k, y1 - y0);
    let (mw, mh) = (900.0, 900.0);
    let s = (mw / gw).min(mh / gh);
    let (pw, ph) = ((gw * s).round() as i32, (gh * s).round() as i32);
    let project = move |(x, y): (f64, f64)| -> (i32, i32) {
        (
            theme::PAD + ((x - x0) * k * s).round() as i32,
            ((y1 - y) * s).round() as i32,
        )
    };
    let matched = shapes.iter().filter(|s| s.0.is_some()).count();
    let (lo, hi) = scale(ctx);
    let label = ctx.units_labelled();
    let title = ctx.title(ctx.tr("指数地图", "map of the index"));
    let subtitle = match ctx.opts.lang {
        Lang::Zh => format!(
            "{matched}/{} 个区域按属性“{prop}”与单位匹配；颜色越深指数越高",
            features.len()
        ),
        Lang::En => format!(
            "{matched} of {} features matched to units by property \"{prop}\"; darker is higher",
            features.len()
        ),
    };
    let w = (pw + 2 * theme::PAD)
        .max(ctx.width(&subtitle, SMALL) + 2 * theme::PAD)
        .max(720);
    let h = 100 + ph + 80;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, ctx, &title, &subtitle)?;
            for (u, rs) in &shapes {
                let c = fill(ctx, *u, lo, hi);
                for ring in rs {
                    let pts: Vec<(i32, i32)> = ring.iter().map(|&q| project(q)).collect();
                    area.draw(&Polygon::new(pts.clone(), c.filled()))
                        .map_err(de)?;
                    area.draw(&PathElement::new(pts, WHITE.stroke_width(1)))
                        .map_err(de)?;
                }
            }
            if label {
                // Largest shapes first; a label that would overlap one already placed moves
                // down, up, right or left by its own size.
                let mut order: Vec<(f64, usize, (i32, i32))> = shapes
                    .iter()
                    .filter_map(|(u, rs)| {
                        let big = rs
                            .iter()
                            .max_by(|a, b| centroid(a).0.abs().total_cmp(&centroid(b).0.abs()))?;
                        let (area, c) = centroid(big);
                        Some((area.abs(), (*u)?, project(c)))
                    })
                    .collect();
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
                for &(_, u, (cx, cy)) in &order {
                    let lw = ctx
                        .width(&ctx.unit(u), SMALL)
                        .max(ctx.width("100.0", SMALL))
                        + 4;
                    let lh = 2 * SMALL as i32 + 6;
                    let candidates = [
                        (0, 0),
                        (0, lh),
                        (0, -lh),
                        (lw, 0),
                        (-lw, 0),
                        (0, 2 * lh),
                        (0, -2 * lh),
                    ];
                    let boxed = |(dx, dy): (i32, i32)| {
                        let (x, y) = (cx + dx, cy + dy);
                        (x - lw / 2, y - lh / 2, x + lw / 2, y + lh / 2)
                    };
                    let free = |b: &(i32, i32, i32, i32)| {
                        placed
                            .iter()
                            .all(|q| b.2 <= q.0 || q.2 <= b.0 || b.3 <= q.1 || q.3 <= b.1)
                    };
                    let (dx, dy) = candidates
                        .iter()
                        .copied()
                        .find(|&d| free(&boxed(d)))
                        .unwrap_or((0, 0));
                    placed.push(boxed((dx, dy)));
                    let (x, y) = (cx + dx, cy + dy);
                    let c = if (dx, dy) == (0, 0) {
                        theme::on(fill(ctx, Some(u), lo, hi))
                    } else {
                        area.draw(&PathElement::new(vec![(cx, cy), (x, y)], INK))
                            .map_err(de)?;
                        area.draw(&Rectangle::new(
                            [(x - lw / 2, y - lh / 2), (x + lw / 2, y + lh / 2)],
                            WHITE.mix(0.85).filled(),
                        ))
                        .map_err(de)?;
                        INK
                    };
                    let st = anchored(ctx.text(SMALL, c), HPos::Center, VPos::Bottom);
                    area.draw(&text_at(ctx.unit(u), (x, y), st)).map_err(de)?;
                    let v = ctx.score(ctx.p, u, 0);
                    let st = anchored(ctx.text(SMALL, c), HPos::Center, VPos::Top);
                    area.draw(&text_at(ctx.fmt(v), (x, y + 2), st))
                        .map_err(de)?;
                }
            }
            legend(&area, ctx, (theme::PAD, ph + 20), lo, hi)?;
            Ok(())
        })()
    });
    Ok(ctx.chart("map", title, bytes))
}

fn tile_map(ctx: &Ctx, tiles: &[(String, u32, u32)]) -> Result<Chart, Error> {
    let units = &ctx.r.panel.units;
    let placed: Vec<(usize, u32, u32)> = tiles
        .iter()
        .filter_map(|(k, row, col)| units.iter().position(|u| u == k).map(|u| (u, *row, *col)))
        .collect();
    if placed.is_empty() {
        return Err(Error::Usage(
            "the tile positions name none of the results' units".into(),
        ));
    }
    let rows = placed.iter().map(|t| t.1).max().unwrap_or(0) as i32 + 1;
    let cols = placed.iter().map(|t| t.2).max().unwrap_or(0) as i32 + 1;
    let name_w = ctx.max_width(placed.iter().map(|t| ctx.unit(t.0)), BODY);
    let tile = (name_w + 20).max(110);
    let gap = 6;
    let (lo, hi) = scale(ctx);
    let missing = units.len() - placed.len();
    let title = ctx.title(ctx.tr("指数地图（方块示意）", "tile map of the index"));
    let subtitle = match (ctx.opts.lang, missing) {
        (Lang::Zh, 0) => "方块大致按地理位置排列；颜色越深指数越高".to_string(),
        (Lang::Zh, m) => format!("方块大致按地理位置排列；颜色越深指数越高；{m}个单位未放置"),
        (Lang::En, 0) => "Tiles laid out roughly geographically; darker is higher".to_string(),
        (Lang::En, m) => {
            format!("Tiles laid out roughly geographically; darker is higher; {m} units not placed")
        }
    };
    let grid_w = cols * (tile + gap);
    let w = (grid_w + 2 * theme::PAD)
        .max(ctx.width(&subtitle, SMALL) + 2 * theme::PAD)
        .max(ctx.width(&title, theme::TITLE) + 2 * theme::PAD)
        .max(520);
    let h = 100 + rows * (tile + gap) + 80;
    let bytes = render!(ctx, w as u32, h as u32, |root| {
        (|| -> Result<(), Error> {
            let area = header(&root, ctx, &title, &subtitle)?;
            let x0 = (w - grid_w) / 2;
            for &(u, row, col) in &placed {
                let (x, y) = (x0 + col as i32 * (tile + gap), row as i32 * (tile + gap));
                let bg = fill(ctx, Some(u), lo, hi);
                area.draw(&Rectangle::new([(x, y), (x + tile, y + tile)], bg.filled()))
                    .map_err(de)?;
                let c = theme::on(bg);
                let cx = x + tile / 2;
                let st = anchored(ctx.text(BODY, c), HPos::Center, VPos::Center);
                area.draw(&text_at(ctx.unit(u), (cx, y + tile / 2 - 22), st))
                    .map_err(de)?;
                let v = ctx.score(ctx.p, u, 0);
                let st = anchored(ctx.text(BODY + 4.0, c), HPos::Center, VPos::Center);
                area.draw(&text_at(ctx.fmt(v), (cx, y + tile / 2 + 4), st))
                    .map_err(de)?;
                let rank = ctx
                    .rank(ctx.p, u)
                    .map(|r| match ctx.opts.lang {
                        Lang::Zh => format!("第{r}名"),
                        Lang::En => format!("rank {r}"),
                    })
                    .unwrap_or_default();
                let st = anchored(ctx.text(SMALL, c), HPos::Center, VPos::Center);
                area.draw(&text_at(rank, (cx, y + tile / 2 + 30), st))
                    .map_err(de)?;
            }
            legend(&area, ctx, (theme::PAD, rows * (tile + gap) + 20), lo, hi)?;
            Ok(())
        })()
    });
    Ok(ctx.chart("map", title, bytes))
}
