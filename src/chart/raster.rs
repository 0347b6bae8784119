//! PNG charts: the SVG that plotters writes, rasterised with resvg (which shapes text and places
//! every glyph by its advance, kerning and bearings), at [`SCALE`]× the chart's logical size.
//!
//! resvg sees one font only, the chart font, under its own family name and as the generic
//! `sans-serif`, so a PNG never depends on the fonts of the machine that draws it.

use std::sync::{Arc, LazyLock, Mutex};

use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg::{self, fontdb};

use super::{EMBEDDED_FAMILY, EMBEDDED_FONT};
use crate::error::Error;

/// Pixels per logical (CSS) pixel of a PNG chart: sharp in print and on high-DPI screens.
pub const SCALE: f64 = 2.0;
/// The most pixels a PNG chart has; a bigger chart is drawn at a smaller scale (see
/// [`scale_for`]).
pub const MAX_PIXELS: f64 = 36_000_000.0;

/// A chart font as resvg sees it, and the `font-family` the SVG names it by.
pub(crate) struct Fonts {
    /// Fonts resvg may use: this one only.
    db: Arc<fontdb::Database>,
    /// The font's own family name.
    name: String,
    /// The `font-family` list written in the SVG (kept for the life of the process, as
    /// plotters' text styles want; once per distinct font).
    pub css_family: &'static str,
}

/// The embedded font, loaded once.
static EMBEDDED: LazyLock<Result<Arc<Fonts>, String>> = LazyLock::new(|| {
    fonts(fontdb::Source::Binary(Arc::new(EMBEDDED_FONT))).map(|mut f| {
        f.css_family = EMBEDDED_FAMILY;
        Arc::new(f)
    })
});

/// A font's bytes and what resvg made of them.
type Loaded = (Arc<Vec<u8>>, Arc<Fonts>);

/// Fonts given as `ChartOptions::font`, each loaded once per process.
static USER: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// The chart font of `bytes` (the embedded font for `None`), loaded once per distinct font.
pub(crate) fn fonts_for(bytes: Option<&[u8]>) -> Result<Arc<Fonts>, Error> {
    let bad = |e: String| Error::Usage(format!("chart font: {e}"));
    let Some(bytes) = bytes.filter(|b| *b != EMBEDDED_FONT) else {
        return EMBEDDED.clone().map_err(bad);
    };
    let mut user = USER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, f)) = user.iter().find(|(b, _)| b.as_slice() == bytes) {
        return Ok(f.clone());
    }
    let data = Arc::new(bytes.to_vec());
    let f = Arc::new(fonts(fontdb::Source::Binary(data.clone())).map_err(bad)?);
    user.push((data, f.clone()));
    Ok(f)
}

/// A font database holding the font of `source` alone, with `sans-serif` mapped to it.
fn fonts(source: fontdb::Source) -> Result<Fonts, String> {
    let mut db = fontdb::Database::new();
    db.load_font_source(source);
    let name = db
        .faces()
        .next()
        .and_then(|f| f.families.first())
        .map(|(name, _)| name.clone())
        .ok_or("not a TrueType/OpenType font")?;
    db.set_sans_serif_family(name.clone());
    db.set_serif_family(name.clone());
    let css_family = format!("{}, sans-serif", name.replace([',', '"', '<', '&'], " "));
    let css_family: &'static str = Box::leak(css_family.into_boxed_str());
    Ok(Fonts {
        db: Arc::new(db),
        name,
        css_family,
    })
}

/// The scale a `w × h` chart is rasterised at: [`SCALE`], or less when that would give more
/// than [`MAX_PIXELS`].
pub fn scale_for(w: u32, h: u32) -> f64 {
    let area = f64::from(w) * f64::from(h);
    SCALE.min((MAX_PIXELS / area).sqrt())
}

/// Rasterises a chart's SVG of logical size `w × h` on white and encodes it as an RGB PNG of
/// `w × h` times [`scale_for`].
pub(crate) fn png(svg: &str, fonts: &Fonts, w: u32, h: u32) -> Result<Vec<u8>, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::Eval(format!("drawing a chart as PNG: {e}"));
    let opts = usvg::Options {
        font_family: fonts.name.clone(),
        fontdb: fonts.db.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &opts).map_err(|e| failed(&e))?;
    let s = scale_for(w, h);
    let (pw, ph) = (
        (f64::from(w) * s).round().max(1.0) as u32,
        (f64::from(h) * s).round().max(1.0) as u32,
    );
    let mut pixmap = Pixmap::new(pw, ph).ok_or_else(|| failed(&"no memory for the image"))?;
    pixmap.fill(Color::WHITE);
    let t = Transform::from_scale(pw as f32 / w as f32, ph as f32 / h as f32);
    resvg::render(&tree, t, &mut pixmap.as_mut());
    // Opaque everywhere (white below everything), so premultiplied RGBA is plain RGBA, and its
    // RGB is each pixel's first three bytes: moved down in place, not copied into a second
    // image (the grid benchmark's correlation chart is 70 MB of RGBA).
    let mut rgb = pixmap.take();
    let pixels = rgb.len() / 4;
    for i in 0..pixels {
        rgb.copy_within(4 * i..4 * i + 3, 3 * i);
    }
    rgb.truncate(3 * pixels);
    super::encode_png(&rgb, pw, ph)
}

#[cfg(test)]
mod tests {
    use ab_glyph::{Font, FontRef};
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, VPos};

    use super::*;
    use crate::chart::{Drawn, anchored, render, text_at, text_style, theme};

    /// Stands in for a chart's `Ctx` in [`render!`]: finishes the SVG as a PNG.
    struct Probe(Arc<Fonts>);

    impl Probe {
        fn finish(&self, svg: String, w: u32, h: u32) -> Result<Drawn, Error> {
            Ok(Drawn {
                bytes: png(&svg, &self.0, w, h)?,
                width: w,
                height: h,
            })
        }
    }

    /// Draws `text` at `size` with its left end at `x0` as charts draw labels; returns the ink
    /// (0 = paper, 255 = full ink) of the PNG and the PNG's pixels per logical pixel.
    fn draw(text: &str, size: f64, x0: i32) -> Result<(image::GrayImage, f64), Error> {
        let probe = Probe(fonts_for(None)?);
        let (w, h) = (420u32, 48u32);
        let drawn = render!(probe, w, h, |root| {
            let style = anchored(
                text_style(probe.0.css_family, size, theme::INK),
                HPos::Left,
                VPos::Center,
            );
            root.draw(&text_at(text, (x0, 24), style))
                .map_err(crate::chart::de)
        });
        let img = image::load_from_memory(&drawn.bytes).unwrap().to_luma8();
        let scale = f64::from(img.width()) / f64::from(w);
        let mut ink = img;
        ink.pixels_mut().for_each(|p| p.0[0] = 255 - p.0[0]);
        Ok((ink, scale))
    }

    /// Where the font says each visible glyph's ink lies, `(char, left, right)` in logical
    /// pixels: pen position (advances and kerning) plus the glyph's bounding box.
    fn expected(text: &str, size: f64, x0: i32) -> Vec<(char, f64, f64)> {
        let font = FontRef::try_from_slice(crate::chart::EMBEDDED_FONT).unwrap();
        let k = size / f64::from(font.units_per_em().unwrap());
        let mut pen = f64::from(x0);
        let mut prev = None;
        let mut out = Vec::new();
        for c in text.chars() {
            let g = font.glyph_id(c);
            if let Some(p) = prev {
                pen += f64::from(font.kern_unscaled(p, g)) * k;
            }
            if let Some(o) = font.outline(g) {
                let (l, r) = (f64::from(o.bounds.min.x), f64::from(o.bounds.max.x));
                out.push((c, pen + l * k, pen + r * k));
            }
            pen += f64::from(font.h_advance_unscaled(g)) * k;
            prev = Some(g);
        }
        out
    }

    /// The first and last inked column (coverage of at least a quarter in some row) of the
    /// image between columns `a` and `b`, in image pixels; the right edge is the column's end.
    fn ink_span(ink: &image::GrayImage, a: f64, b: f64) -> Option<(f64, f64)> {
        let a = a.floor().max(0.0) as u32;
        let b = (b.ceil() as u32).min(ink.width());
        let inked = |x: u32| (0..ink.height()).any(|y| ink.get_pixel(x, y).0[0] >= 64);
        let first = (a..b).find(|&x| inked(x))?;
        let last = (a..b).rev().find(|&x| inked(x))?;
        Some((f64::from(first), f64::from(last + 1)))
    }

    /// Every visible glyph's ink, measured on the PNG, sits where the font's metrics put it,
    /// within a pixel of the 2× image: glyphs are placed by their real pen positions and left
    /// side bearings (plotters' bitmap text truncated the pen and ignored the bearing, which
    /// drew "白 云区" and "Comm unity co-p olicin g").
    #[test]
    fn glyphs_sit_where_the_font_metrics_put_them() {
        for (text, size) in [
            ("白云区", theme::BODY),
            ("(白云区)", theme::SMALL),
            ("Community co-policing", theme::BODY),
            ("Community co-policing", theme::SMALL),
            ("（花都区）：", theme::TITLE),
        ] {
            let x0 = 13;
            let (ink, scale) = draw(text, size, x0).unwrap();
            assert_eq!(scale, SCALE);
            let glyphs = expected(text, size, x0);
            assert!(glyphs.len() >= 3, "{text}");
            let mut worst = 0f64;
            for (i, &(c, l, r)) in glyphs.iter().enumerate() {
                // Look between the neighbours' expected ink, so each glyph is measured alone.
                let lo = if i == 0 {
                    0.0
                } else {
                    (glyphs[i - 1].2 + l) / 2.0
                };
                let hi = glyphs.get(i + 1).map_or(420.0, |n| (r + n.1) / 2.0);
                let (ml, mr) = ink_span(&ink, lo * scale, hi * scale)
                    .unwrap_or_else(|| panic!("no ink for {c:?} in {text:?}"));
                let (dl, dr) = (ml - l * scale, mr - r * scale);
                assert!(
                    dl.abs() <= 1.0 && dr.abs() <= 1.0,
                    "{text:?} at {size} px: {c:?} is inked over {ml}..{mr} px of the PNG, \
                     the font puts it at {:.1}..{:.1}",
                    l * scale,
                    r * scale
                );
                worst = worst.max(dl.abs()).max(dr.abs());
            }
            eprintln!("{text:?} at {size}: worst {worst:.2} px");
            // Nothing is drawn outside the glyphs' boxes.
            let all = ink_span(&ink, 0.0, f64::from(ink.width())).unwrap();
            assert!(all.0 >= glyphs[0].1 * scale - 1.0);
            assert!(all.1 <= glyphs[glyphs.len() - 1].2 * scale + 1.0);
        }
    }
}
