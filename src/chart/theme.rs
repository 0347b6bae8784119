//! The shared look: sizes, colours and colour scales.

use plotters::style::RGBColor;

/// Outer padding in pixels.
pub const PAD: i32 = 24;
/// Title size. Text sizes are CSS `font-size`s in logical pixels (one em).
pub const TITLE: f64 = 20.0;
/// Body text size.
pub const BODY: f64 = 13.0;
/// Small text size (subtitles, cell values, axis ticks).
pub const SMALL: f64 = 11.0;
/// The smallest text: values in small cells, ticks of small multiples.
pub const TINY: f64 = 10.0;

/// Text.
pub const INK: RGBColor = RGBColor(33, 37, 41);
/// Secondary text, axes.
pub const MUTED: RGBColor = RGBColor(108, 117, 125);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(222, 226, 230);
/// The index's bars and lines.
pub const ACCENT: RGBColor = RGBColor(31, 102, 170);
/// A highlighted unit.
pub const HIGHLIGHT: RGBColor = RGBColor(214, 39, 40);
/// Rank gained.
pub const UP: RGBColor = RGBColor(26, 135, 84);
/// Rank lost.
pub const DOWN: RGBColor = RGBColor(200, 35, 51);
/// No data.
pub const NODATA: RGBColor = RGBColor(233, 236, 239);

/// Categorical colours (Tableau 10), for dimensions and series.
pub const CATEGORICAL: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// The i-th categorical colour.
pub fn category(i: usize) -> RGBColor {
    CATEGORICAL[i % CATEGORICAL.len()]
}

/// How the k-th of many lines is drawn: `(colour, dash)`, where `dash` is `None` for a solid
/// line or `(dash, gap)` in pixels. The first ten lines take the categorical colours; the next
/// ten a darker shade of them, dashed; the ten after the categorical colours again, dotted, so
/// no two of 30 lines look the same.
pub fn line_style(k: usize) -> (RGBColor, Option<(u32, u32)>) {
    let c = category(k);
    match (k / CATEGORICAL.len()) % 3 {
        0 => (c, None),
        1 => {
            let d = |x: u8| (f64::from(x) * 0.6).round() as u8;
            (RGBColor(d(c.0), d(c.1), d(c.2)), Some((9, 5)))
        }
        _ => (c, Some((2, 4))),
    }
}

const SEQUENTIAL: [(u8, u8, u8); 9] = [
    (255, 255, 217),
    (237, 248, 177),
    (199, 233, 180),
    (127, 205, 187),
    (65, 182, 196),
    (29, 145, 192),
    (34, 94, 168),
    (37, 52, 148),
    (8, 29, 88),
];

const DIVERGING: [(u8, u8, u8); 11] = [
    (103, 0, 31),
    (178, 24, 43),
    (214, 96, 77),
    (244, 165, 130),
    (253, 219, 199),
    (247, 247, 247),
    (209, 229, 240),
    (146, 197, 222),
    (67, 147, 195),
    (33, 102, 172),
    (5, 48, 97),
];

fn interpolate(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Sequential colour (light = low, dark = high) for `t` in 0–1.
pub fn sequential(t: f64) -> RGBColor {
    interpolate(&SEQUENTIAL, 0.05 + 0.9 * t)
}

/// Diverging colour for a correlation in −1…1 (red negative, blue positive).
pub fn diverging(r: f64) -> RGBColor {
    interpolate(&DIVERGING, (r + 1.0) / 2.0)
}

/// Text colour readable on `bg`.
pub fn on(bg: RGBColor) -> RGBColor {
    let l = 0.299 * bg.0 as f64 + 0.587 * bg.1 as f64 + 0.114 * bg.2 as f64;
    if l < 140.0 {
        RGBColor(255, 255, 255)
    } else {
        INK
    }
}
