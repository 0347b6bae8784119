//! Charts of a period's results.
//!
//! STAND-IN: this file only fixes the API that `kapok report` uses (`ChartOptions`, `Chart`,
//! `render_all`). It is replaced whole by the charts module at merge; until then every chart
//! is a plain grey placeholder PNG, identical from run to run.

use crate::error::Error;
use crate::evaluate::Results;
use crate::framework::{Framework, Lang};

/// Image format of the rendered charts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageFormat {
    /// Portable Network Graphics.
    #[default]
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

/// What to draw and how.
#[derive(Clone, Debug)]
pub struct ChartOptions {
    /// Language of titles and labels.
    pub lang: Lang,
    /// The period shown (index into the panel's periods).
    pub period: usize,
    /// A TrueType/OpenType font for the labels (bytes), instead of the built-in one.
    pub font: Option<Vec<u8>>,
    /// Output format.
    pub format: ImageFormat,
    /// A unit to highlight (index into the panel's units).
    pub highlight: Option<usize>,
    /// Boundaries of the units (GeoJSON text) for a choropleth map.
    pub geojson: Option<String>,
    /// Tile-map positions `(unit, row, col)`.
    pub tiles: Option<Vec<(String, u32, u32)>>,
    /// How many units the charts that show a subset show.
    pub top_n: usize,
}

/// One rendered chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem, e.g. `ranking`.
    pub name: String,
    /// Title in the requested language.
    pub title: String,
    /// Encoded image.
    pub bytes: Vec<u8>,
    /// File extension without the dot (`png` or `svg`).
    pub ext: &'static str,
}

/// Renders every chart of the period (stand-in: placeholders).
pub fn render_all(fw: &Framework, r: &Results, opts: &ChartOptions) -> Result<Vec<Chart>, Error> {
    let _ = (fw, r);
    let zh = opts.lang == Lang::Zh;
    let mut names = vec![
        ("ranking", "排名", "Ranking"),
        ("heatmap", "维度得分热力图", "Dimension scores"),
        ("trend", "排名走势", "Rank over time"),
    ];
    if opts.geojson.is_some() || opts.tiles.is_some() {
        names.push(("map", "地图", "Map"));
    }
    Ok(names
        .into_iter()
        .map(|(name, zh_title, en_title)| Chart {
            name: name.into(),
            title: if zh { zh_title } else { en_title }.into(),
            bytes: placeholder_png(320, 160),
            ext: "png",
        })
        .collect())
}

/// A grey 8-bit greyscale PNG with a darker border, stored (uncompressed) deflate.
fn placeholder_png(w: u32, h: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8); // filter: none
        for x in 0..w {
            let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1;
            raw.push(if edge { 0x99 } else { 0xee });
        }
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = b.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend(*b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &c in &raw {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend((data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(&data);
        png.extend(crc32(&png[start..]).to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in bytes {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}
