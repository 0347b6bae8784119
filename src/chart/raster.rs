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

/// Fonts given as `ChartOptions::font`, each loaded once per process.
static USER: Mutex<Vec<(Arc<Vec<u8>>, Arc<Fonts>)>> = Mutex::new(Vec::new());

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
    // Opaque everywhere (white below everything), so premultiplied RGBA is plain RGBA.
    let rgba = image::RgbaImage::from_raw(pw, ph, pixmap.take())
        .ok_or_else(|| failed(&"an image of the wrong size"))?;
    let rgb = image::DynamicImage::ImageRgba8(rgba).to_rgb8();
    super::encode_png(rgb.as_raw(), pw, ph)
}
