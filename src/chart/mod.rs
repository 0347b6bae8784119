//! Charts: every chart is a pure function from a framework and its [`Results`] to image bytes
//! (PNG or SVG). Each chart is drawn once, as SVG with plotters; a PNG is that SVG rasterised
//! with resvg at twice the chart's logical size ([`Chart::width`] × [`Chart::height`] CSS
//! pixels), with an embedded CJK font so that Chinese names render the same on every machine,
//! with no system font.
//!
//! | name (file stem) | function | shows |
//! |---|---|---|
//! | `ranking` | [`ranking`] | the index of one period, sorted, with rank and change of rank |
//! | `contributions` | [`contributions`] | each unit's weighted dimension contributions to its index |
//! | `heatmap-dimensions` | [`heatmap_dimensions`] | units × dimensions, scores written in cells |
//! | `heatmap-indicators` | [`heatmap_indicators`] | units × indicators (normalised scores) |
//! | `radar` | [`radar`] | one unit's dimension profile against the average and the best unit |
//! | `rank-change` | [`rank_change`] | change of index rank from the previous period |
//! | `bump` | [`bump`] | index ranks over the last periods |
//! | `trends` | [`trends`] | small multiples of the index per unit (or per group) across periods |
//! | `distributions` | [`distributions`] | box and strip of every indicator, one unit highlighted |
//! | `correlations` | [`correlations`] | Pearson correlations of indicators and dimensions |
//! | `map` | [`map`] | choropleth from a GeoJSON, or a tile-grid map |
//! | `uncertainty` | [`uncertainty()`] | each unit's median rank on its 5–95 % interval over the runs of a robustness analysis, the nominal rank marked |
//! | `sensitivity` | [`sensitivity()`] | first-order and interaction share of each uncertain input, with bootstrap intervals |
//!
//! Charts that show one row per unit stay readable for many units: with more than
//! `top_n × 3/2` units they show the top and the bottom `top_n`, and small multiples are
//! faceted by group (without groups, they too show the top and the bottom `top_n`). The
//! distribution chart draws a dot per unit up to 1,000 units, its boxes and whiskers alone
//! beyond. The same inputs give identical bytes.

mod bars;
mod heat;
mod map;
mod profile;
mod raster;
mod theme;
mod uncertainty;

use std::path::Path;

use std::sync::Arc;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use bars::{bump, contributions, rank_change, ranking};
pub use heat::{correlations, heatmap_dimensions, heatmap_indicators};
pub use map::{map, parse_tiles, read_tiles};
pub use profile::{distributions, radar, trends};
pub use raster::{MAX_PIXELS, SCALE, scale_for};
pub use uncertainty::{sensitivity, uncertainty};

use crate::Results;
use crate::error::Error;
use crate::evaluate::RankChange;
use crate::framework::{Framework, Lang};

/// The embedded font: Noto Sans CJK SC (SIL Open Font License 1.1), subset to GB2312, Latin
/// and every character of the sample data's names; see `assets/fonts/README.md`.
pub static EMBEDDED_FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-kapok-subset.otf");

/// Family name the embedded font is registered under. SVG output names it (with fallbacks) as
/// its `font-family`, so a viewer uses an installed Noto Sans SC or another CJK font.
const EMBEDDED_FAMILY: &str = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif";

/// The widest a unit's name is drawn, in multiples of the text's size (a Chinese character is
/// about 0.7 of it, a Latin letter about 0.4).
pub const UNIT_EM: f64 = 20.0;
/// The widest a group's name is drawn, in multiples of the text's size.
pub const GROUP_EM: f64 = 12.0;
/// The widest a node's (index, dimension, indicator) name is drawn, in multiples of the
/// text's size.
pub const NAME_EM: f64 = 32.0;
/// The largest chart side, in logical pixels: a bigger canvas is an error, never a panic or a
/// hang.
pub const MAX_SIDE: u32 = 30_000;

/// Image format of a chart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG bitmap.
    #[default]
    Png,
    /// SVG vector image (text as text; the viewer's fonts draw it).
    Svg,
}

impl ImageFormat {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

/// What to draw and how.
#[derive(Clone, Debug)]
pub struct ChartOptions {
    /// Language of titles, axis labels and node names.
    pub lang: Lang,
    /// Period index (position in `Results::panel.periods`).
    pub period: usize,
    /// Bytes of a TrueType/OpenType font to use instead of the embedded one.
    pub font: Option<Vec<u8>>,
    /// PNG or SVG.
    pub format: ImageFormat,
    /// Unit index for the radar and distribution charts (default: the best unit).
    pub highlight: Option<usize>,
    /// Text of a GeoJSON FeatureCollection of unit boundaries for the map.
    pub geojson: Option<String>,
    /// Tile-grid positions `(unit key, row, column)` for the map when there is no GeoJSON.
    pub tiles: Option<Vec<(String, u32, u32)>>,
    /// Units shown at the top and at the bottom of long rankings (default 20).
    pub top_n: usize,
}

impl Default for ChartOptions {
    fn default() -> Self {
        Self {
            lang: Lang::Zh,
            period: 0,
            font: None,
            format: ImageFormat::Png,
            highlight: None,
            geojson: None,
            tiles: None,
            top_n: 20,
        }
    }
}

impl ChartOptions {
    /// Default options for the latest period of `r`.
    pub fn latest(r: &Results) -> Self {
        Self {
            period: r.panel.periods.len().saturating_sub(1),
            ..Self::default()
        }
    }
}

/// One rendered chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem, e.g. `ranking`.
    pub name: String,
    /// Title as drawn on the chart.
    pub title: String,
    /// Image bytes.
    pub bytes: Vec<u8>,
    /// `png` or `svg`.
    pub ext: &'static str,
    /// Logical width in CSS pixels, the width to show the chart at (`<img width>`). An SVG is
    /// this wide; a PNG has [`scale_for`] (normally [`SCALE`] = 2) times as many pixels.
    pub width: u32,
    /// Logical height in CSS pixels (`<img height>`); see [`Chart::width`].
    pub height: u32,
}

/// A drawn chart's bytes and logical size, as [`render!`] returns it.
pub(crate) struct Drawn {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

/// Every chart the results allow, in the order of the module's table: the rank change, bump and
/// trend charts need a period before the chosen one, the map a GeoJSON or tile positions.
pub fn render_all(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Vec<Chart>, Error> {
    Ctx::new(fw, r, opts)?;
    let mut out = vec![
        ranking(fw, r, opts)?,
        contributions(fw, r, opts)?,
        heatmap_dimensions(fw, r, opts)?,
        heatmap_indicators(fw, r, opts)?,
        radar(fw, r, opts)?,
    ];
    if r.panel.previous_period(opts.period).is_some() {
        out.push(rank_change(fw, r, opts)?);
    }
    if opts.period > 0 {
        out.push(bump(fw, r, opts)?);
        out.push(trends(fw, r, opts)?);
    }
    out.push(distributions(fw, r, opts)?);
    out.push(correlations(fw, r, opts)?);
    if opts.geojson.is_some() || opts.tiles.is_some() {
        out.push(map(fw, r, opts)?);
    }
    Ok(out)
}

/// Reads a font file for `--font`, refusing anything that is not a usable TrueType/OpenType
/// font.
pub fn load_font(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    check_font(&bytes).map_err(|e| Error::Usage(format!("--font {}: {e}", path.display())))?;
    Ok(bytes)
}

/// Checks that `bytes` are a font kapok can draw with.
fn check_font(bytes: &[u8]) -> Result<(), String> {
    let font = FontRef::try_from_slice(bytes).map_err(|_| {
        "not a TrueType/OpenType font (.ttf or .otf; from a .ttc collection extract one face)"
            .to_string()
    })?;
    if font.glyph_id('0') == ab_glyph::GlyphId(0) {
        return Err("the font has no glyph for digits".into());
    }
    Ok(())
}

/// Everything a chart needs: inputs, the font and text helpers.
pub(crate) struct Ctx<'a> {
    pub fw: &'a Framework,
    pub r: &'a Results,
    pub opts: &'a ChartOptions,
    pub p: usize,
    /// The calendar period before `p`, when the data have it.
    pub prev: Option<usize>,
    fonts: Arc<raster::Fonts>,
    font: FontRef<'a>,
}

impl<'a> Ctx<'a> {
    pub fn new(fw: &'a Framework, r: &'a Results, opts: &'a ChartOptions) -> Result<Self, Error> {
        let np = r.panel.periods.len();
        if opts.period >= np {
            return Err(Error::Usage(format!(
                "chart period {} is out of range: the results have {np} period(s)",
                opts.period
            )));
        }
        if let Some(u) = opts.highlight
            && u >= r.panel.units.len()
        {
            return Err(Error::Usage(format!(
                "highlighted unit {u} is out of range: the results have {} units",
                r.panel.units.len()
            )));
        }
        let bytes: &'a [u8] = opts.font.as_deref().unwrap_or(EMBEDDED_FONT);
        check_font(bytes).map_err(|e| Error::Usage(format!("chart font: {e}")))?;
        let font = FontRef::try_from_slice(bytes)
            .map_err(|_| Error::Usage("chart font: not a TrueType/OpenType font".into()))?;
        let fonts = raster::fonts_for(opts.font.as_deref())?;
        Ok(Self {
            fw,
            r,
            opts,
            p: opts.period,
            prev: r.panel.previous_period(opts.period),
            fonts,
            font,
        })
    }

    /// `zh` or `en` by the chart language.
    pub fn tr(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.opts.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// A node's display name, shortened to [`NAME_EM`] (see [`Ctx::short`]).
    pub fn name(&self, node: usize) -> String {
        self.short(self.fw.nodes[node].name.get(self.opts.lang), NAME_EM)
    }

    /// The index's name.
    pub fn index_name(&self) -> String {
        self.name(0)
    }

    /// A period's label.
    pub fn period(&self, p: usize) -> &'a str {
        let s = &self.r.panel.periods[p];
        if s.is_empty() { "" } else { s }
    }

    /// A chart title: the index, what the chart shows and the period.
    pub fn title(&self, what: &str) -> String {
        let period = self.period(self.p);
        match (self.opts.lang, period.is_empty()) {
            (Lang::Zh, true) => format!("{}：{what}", self.index_name()),
            (Lang::En, true) => format!("{}: {what}", self.index_name()),
            (Lang::Zh, false) => format!("{}：{what}（{period}）", self.index_name()),
            (Lang::En, false) => format!("{}: {what}, {period}", self.index_name()),
        }
    }

    /// A unit's display name, shortened to [`UNIT_EM`] (see [`Ctx::short`]).
    pub fn unit(&self, u: usize) -> String {
        self.short(self.r.panel.unit_name(u, self.opts.lang), UNIT_EM)
    }

    /// A unit's name with its group, for city-wide lists of streets.
    pub fn unit_long(&self, u: usize) -> String {
        let panel = &self.r.panel;
        match panel.group_name(u, self.opts.lang) {
            Some(g) if panel.unit_name(u, self.opts.lang) != g => {
                format!("{}{}", self.unit(u), self.paren(&self.group(u)))
            }
            _ => self.unit(u),
        }
    }

    /// The name of unit `u`'s group, shortened to [`GROUP_EM`] (see [`Ctx::short`]).
    pub fn group(&self, u: usize) -> String {
        let g = self.r.panel.group_name(u, self.opts.lang).unwrap_or("");
        self.short(g, GROUP_EM)
    }

    /// `s` on one line, at most `max_em` times the text's size wide (see [`shorten`]).
    pub fn short(&self, s: &str, max_em: f64) -> String {
        shorten(&self.font, s, max_em)
    }

    /// Text in parentheses in the chart language.
    pub fn paren(&self, s: &str) -> String {
        match self.opts.lang {
            Lang::Zh => format!("（{s}）"),
            Lang::En => format!(" ({s})"),
        }
    }

    /// A text style of `size` pixels (the CSS `font-size`, one em) in `color`.
    pub fn text(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        text_style(self.fonts.css_family, size, color)
    }

    /// Width in pixels of `s` at `size` (its glyphs' advances and kerning, rounded up).
    pub fn width(&self, s: &str, size: f64) -> i32 {
        text_width(&self.font, s, size)
    }

    /// The widest of `texts` at `size`.
    pub fn max_width<S: AsRef<str>>(&self, texts: impl IntoIterator<Item = S>, size: f64) -> i32 {
        texts
            .into_iter()
            .map(|s| self.width(s.as_ref(), size))
            .max()
            .unwrap_or(0)
    }

    /// Index score of a unit in a period.
    pub fn score(&self, p: usize, u: usize, node: usize) -> f64 {
        self.r.scores[[p, u, node]]
    }

    /// Units with an index score in period `p`, best first (ranked units by rank, then unranked
    /// units by score).
    pub fn ordered_units(&self, p: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.r.panel.units.len())
            .filter(|&u| !self.score(p, u, 0).is_nan())
            .collect();
        v.sort_by(|&a, &b| {
            let (ra, rb) = (self.r.rank(p, a, 0), self.r.rank(p, b, 0));
            let key = crate::evaluate::best_first;
            key(ra)
                .cmp(&key(rb))
                .then(self.score(p, b, 0).total_cmp(&self.score(p, a, 0)))
                .then(a.cmp(&b))
        });
        v
    }

    /// Long lists cut to the top and bottom `top_n`: `(top, bottom)`, with `bottom` empty
    /// when every unit fits.
    pub fn top_bottom(&self, units: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let n = self.opts.top_n.max(1);
        if units.len() <= n + n / 2 {
            (units.to_vec(), Vec::new())
        } else {
            (units[..n].to_vec(), units[units.len() - n..].to_vec())
        }
    }

    /// The dimensions: the index's children.
    pub fn dimensions(&self) -> Vec<usize> {
        self.fw.nodes[0].children.clone()
    }

    /// The unit highlighted in radar and distribution charts.
    pub fn highlighted(&self) -> Option<usize> {
        self.opts
            .highlight
            .or_else(|| self.ordered_units(self.p).first().copied())
    }

    /// Rank of a unit on the index in period `p` (None when unranked).
    pub fn rank(&self, p: usize, u: usize) -> Option<u32> {
        Some(self.r.rank(p, u, 0)).filter(|&r| r > 0)
    }

    /// Whether maps write every unit's name (not for hundreds of streets).
    pub fn units_labelled(&self) -> bool {
        self.r.panel.units.len() <= 40
    }

    /// A chart value with three significant figures ([`crate::format::fmt_value`]).
    pub fn fmt(&self, v: f64) -> String {
        crate::format::fmt_value(v)
    }

    /// The image of a drawn chart's SVG of logical size `w × h`, in the chosen format.
    pub fn finish(&self, svg: String, w: u32, h: u32) -> Result<Drawn, Error> {
        let bytes = match self.opts.format {
            ImageFormat::Png => raster::png(&svg, &self.fonts, w, h)?,
            ImageFormat::Svg => svg.into_bytes(),
        };
        Ok(Drawn {
            bytes,
            width: w,
            height: h,
        })
    }

    /// A finished chart.
    pub fn chart(&self, name: &str, title: String, drawn: Drawn) -> Chart {
        Chart {
            name: name.to_string(),
            title,
            bytes: drawn.bytes,
            ext: self.opts.format.ext(),
            width: drawn.width,
            height: drawn.height,
        }
    }
}

/// A text style in the font `family` (a CSS `font-family` list) of `size` pixels (one em).
pub(crate) fn text_style(family: &'static str, size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (family, plotters_size(size)).into_font(),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// The size to give plotters for text of `em` pixels: its SVG backend writes
/// `font-size = size / 1.24`, so this is the number it divides back to exactly `em`.
fn plotters_size(em: f64) -> f64 {
    let mut x = em * 1.24;
    for _ in 0..8 {
        let back = x / 1.24;
        if back == em {
            break;
        }
        x = if back < em {
            x.next_up()
        } else {
            x.next_down()
        };
    }
    x
}

/// The ab_glyph scale of text whose em is `size` pixels.
pub(crate) fn em_scale(font: &FontRef, size: f64) -> PxScale {
    let upem = font.units_per_em().unwrap_or(1000.0);
    PxScale::from(size as f32 * font.height_unscaled() / upem)
}

/// Width in pixels of `s` drawn in `font` at `size` (advances and kerning, rounded up).
fn text_width(font: &FontRef, s: &str, size: f64) -> i32 {
    let font = font.as_scaled(em_scale(font, size));
    let mut w = 0f32;
    let mut prev = None;
    for c in s.chars() {
        let g = font.glyph_id(c);
        w += font.h_advance(g);
        if let Some(pg) = prev {
            w += font.kern(pg, g);
        }
        prev = Some(g);
    }
    w.ceil() as i32
}

/// `s` on one line (control characters such as newlines become spaces, surrounding spaces
/// are trimmed) and at most `max_em` times the text's size wide as drawn in `font`: longer text is cut at a
/// character boundary and ends in `…`. Names come from the data, and a 1,000-character name
/// must not make a chart 20,000 pixels wide.
pub(crate) fn shorten(font: &FontRef, s: &str, max_em: f64) -> String {
    const SIZE: f64 = 64.0;
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    let max = max_em * SIZE;
    if f64::from(text_width(font, line, SIZE)) <= max {
        return line.to_string();
    }
    let room = max - f64::from(text_width(font, "…", SIZE));
    let mut out = String::new();
    let mut w = 0.0;
    let mut buf = [0u8; 4];
    for c in line.chars() {
        // Each character measured alone and rounded up, so the sum is never too small.
        w += f64::from(text_width(font, c.encode_utf8(&mut buf), SIZE));
        if w > room {
            break;
        }
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push('…');
    out
}

/// Maps a plotters drawing error.
pub(crate) fn de<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> Error {
    Error::Eval(format!("drawing a chart: {e}"))
}

/// Encodes an RGB buffer as PNG (no timestamps or other varying metadata).
pub(crate) fn encode_png(buf: &[u8], w: u32, h: u32) -> Result<Vec<u8>, Error> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(buf, w, h, image::ColorType::Rgb8)
        .map_err(|e| Error::Eval(format!("encoding a chart as PNG: {e}")))?;
    Ok(out)
}

/// Refuses a canvas of `w × h` logical pixels that is empty or larger than [`MAX_SIDE`].
pub(crate) fn check_size(w: u32, h: u32) -> Result<(), Error> {
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::Eval(format!(
            "a chart of {w} × {h} pixels is too large to draw (at most {MAX_SIDE} per side)"
        )));
    }
    Ok(())
}

/// Draws `body(&root)` as SVG on a `w × h` canvas and returns the chart in the chosen format
/// ([`Ctx::finish`]) as a [`Drawn`].
macro_rules! render {
    ($ctx:expr, $w:expr, $h:expr, |$root:ident| $body:expr) => {{
        let (w, h): (u32, u32) = ($w, $h);
        $crate::chart::check_size(w, h)?;
        let mut svg = String::new();
        {
            let $root =
                plotters::prelude::SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            $root
                .fill(&plotters::prelude::WHITE)
                .map_err($crate::chart::de)?;
            $body?;
            $root.present().map_err($crate::chart::de)?;
        }
        $ctx.finish(svg, w, h)?
    }};
}
pub(crate) use render;

/// Draws the title (and a smaller subtitle) at the top of `root` and returns the area below.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &Ctx,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, Error> {
    let t = ctx.text(theme::TITLE, theme::INK);
    root.draw(&text_at(title, (theme::PAD, theme::PAD), t))
        .map_err(de)?;
    let mut h = theme::PAD + theme::TITLE as i32 + 8;
    if !subtitle.is_empty() {
        let s = ctx.text(theme::SMALL, theme::MUTED);
        root.draw(&text_at(subtitle, (theme::PAD, h), s))
            .map_err(de)?;
        h += theme::SMALL as i32 + 8;
    }
    Ok(root.split_vertically(h + 6).1)
}

/// Pixel anchor helpers.
pub(crate) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Label of a change of rank (`▲3`, `▼2`, `–`; `new` when there was no rank before).
pub(crate) fn change_label(ctx: &Ctx, change: RankChange) -> (String, RGBColor) {
    match change {
        RankChange::Up(k) => (format!("▲{k}"), theme::UP),
        RankChange::Down(k) => (format!("▼{k}"), theme::DOWN),
        RankChange::Same => ("–".into(), theme::MUTED),
        RankChange::New => (ctx.tr("新", "new").into(), theme::MUTED),
        RankChange::Unranked => (String::new(), theme::MUTED),
    }
}

/// A text element for plotters. Every label of every chart is made here (and measured by
/// [`Ctx::width`]), so the workaround in [`tidy`] applies to all chart text at one place.
pub(crate) fn text_at<'a, C>(
    text: impl AsRef<str>,
    pos: C,
    style: impl Into<TextStyle<'a>>,
) -> Text<'a, C, String> {
    Text::new(text.as_ref().to_string(), pos, style)
}

/// Full-width brackets, colons and semicolons as half-width ones. plotters places each glyph
/// without its left side bearing, so full-width punctuation (drawn on one side of its em box)
/// would leave a visible gap on the wrong side; half-width forms read the same and sit right.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '（' => out.push('('),
            '）' => out.push(')'),
            '：' => out.push_str(": "),
            '；' => out.push_str("; "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> FontRef<'static> {
        FontRef::try_from_slice(EMBEDDED_FONT).unwrap()
    }

    #[test]
    fn long_names_are_cut_by_width_with_an_ellipsis() {
        let f = font();
        let w = |s: &str| f64::from(text_width(&f, s, 64.0));
        // 1,000 Chinese characters: as many as fit in 20 sizes with the ellipsis.
        let s = shorten(&f, &"长".repeat(1000), 20.0);
        assert!(s.ends_with('…'), "{s}");
        let fit = ((20.0 * 64.0 - w("…")) / w("长")).floor() as usize;
        assert_eq!(s.chars().count(), fit + 1, "{s}");
        assert!(w(&s) <= 20.0 * 64.0);
        // Latin letters are narrower: more of them fit, cut on a character boundary.
        let s = shorten(&f, &"x".repeat(1000), 20.0);
        let n = s.chars().count();
        assert!(n > 30 && n < 60, "{n}");
        assert!(f64::from(text_width(&f, &s, 64.0)) <= 20.0 * 64.0);
        // A mix of widths, and multi-byte characters at the cut.
        let s = shorten(&f, &"é长x".repeat(400), 10.0);
        assert!(s.ends_with('…'));
        assert!(f64::from(text_width(&f, &s, 64.0)) <= 10.0 * 64.0);
    }

    #[test]
    fn short_names_stay_and_newlines_become_spaces() {
        let f = font();
        assert_eq!(shorten(&f, "荔湾区沙面街道", 20.0), "荔湾区沙面街道");
        assert_eq!(shorten(&f, " 甲\n乙\r\t丙 ", 20.0), "甲 乙  丙");
        assert_eq!(shorten(&f, "", 20.0), "");
        let s = shorten(&f, &"ab\n".repeat(300), 5.0);
        assert!(!s.contains('\n') && s.ends_with('…'), "{s}");
    }
}
