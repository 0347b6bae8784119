//! Charts: every chart renders for the district and street samples, PNGs decode, output is
//! deterministic, the embedded font covers every name and label, bad fonts are refused.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId};
use kapok::chart::{self, ChartOptions, ImageFormat};
use kapok::framework::Lang;
use kapok::{Framework, Results};

use crate::util::root;

fn scored(file: &str) -> (Framework, Results) {
    let fw = kapok::load(&root().join("indicators").join(file)).expect("framework loads");
    let (r, _) = kapok::score(&fw, None).expect("sample scores");
    (fw, r)
}

fn districts() -> &'static (Framework, Results) {
    static D: OnceLock<(Framework, Results)> = OnceLock::new();
    D.get_or_init(|| scored("hongmian.toml"))
}

fn streets() -> &'static (Framework, Results) {
    static S: OnceLock<(Framework, Results)> = OnceLock::new();
    S.get_or_init(|| scored("hongmian-streets.toml"))
}

/// A made-up GeoJSON: one square per unit on a grid, keyed by a numeric `code` property.
fn squares(r: &Results) -> String {
    let features: Vec<String> = r
        .panel
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let (x, y) = (113.0 + (i % 14) as f64 * 0.05, 23.0 + (i / 14) as f64 * 0.05);
            format!(
                r#"{{"type":"Feature","properties":{{"code":{u},"name":"x"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}}}"#,
                x + 0.04,
                x + 0.04,
                y + 0.04,
                y + 0.04
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

/// Every chart kapok draws, by file stem.
pub const ALL: [&str; 11] = [
    "ranking",
    "contributions",
    "heatmap-dimensions",
    "heatmap-indicators",
    "radar",
    "rank-change",
    "bump",
    "trends",
    "distributions",
    "correlations",
    "map",
];

fn check_all(fw: &Framework, r: &Results, opts: &ChartOptions) {
    let charts = chart::render_all(fw, r, opts).expect("charts render");
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ALL);
    let again = chart::render_all(fw, r, opts).unwrap();
    for (a, b) in charts.iter().zip(&again) {
        assert!(a.bytes == b.bytes, "{} differs between two renders", a.name);
        assert!(!a.title.is_empty());
        match opts.format {
            ImageFormat::Png => {
                assert_eq!(a.ext, "png");
                let img = image::load_from_memory_with_format(&a.bytes, image::ImageFormat::Png)
                    .unwrap_or_else(|e| panic!("{} does not decode: {e}", a.name));
                let (w, h) = (img.width(), img.height());
                assert!(
                    (500..=2000).contains(&a.width) && (200..=2000).contains(&a.height),
                    "{} is {}×{} logical pixels",
                    a.name,
                    a.width,
                    a.height
                );
                // Twice the logical size, for print and high-DPI screens.
                assert_eq!((w, h), (2 * a.width, 2 * a.height), "{}", a.name);
                // The header says the same size as the decoded image.
                assert_eq!(u32::from_be_bytes(a.bytes[16..20].try_into().unwrap()), w);
                assert_eq!(u32::from_be_bytes(a.bytes[20..24].try_into().unwrap()), h);
            }
            ImageFormat::Svg => {
                assert_eq!(a.ext, "svg");
                let text = std::str::from_utf8(&a.bytes).unwrap();
                let head = format!("<svg width=\"{}\" height=\"{}\"", a.width, a.height);
                assert!(text.starts_with(&head), "{}", a.name);
            }
        }
    }
}

#[test]
fn every_chart_renders_for_the_districts() {
    let (fw, r) = districts();
    let tiles = chart::read_tiles(&root().join("data/tiles-districts.csv")).unwrap();
    assert_eq!(tiles.len(), 11);
    assert!(tiles.iter().all(|t| r.panel.units.contains(&t.0)));
    let opts = ChartOptions {
        tiles: Some(tiles),
        ..ChartOptions::latest(r)
    };
    check_all(fw, r, &opts);
    let en = ChartOptions {
        lang: Lang::En,
        geojson: Some(squares(r)),
        highlight: Some(3),
        period: 5,
        ..opts
    };
    check_all(fw, r, &en);
}

#[test]
fn every_chart_renders_for_the_streets() {
    let (fw, r) = streets();
    let opts = ChartOptions {
        geojson: Some(squares(r)),
        ..ChartOptions::latest(r)
    };
    check_all(fw, r, &opts);
}

#[test]
fn charts_render_as_svg() {
    let (fw, r) = districts();
    let opts = ChartOptions {
        format: ImageFormat::Svg,
        geojson: Some(squares(r)),
        ..ChartOptions::latest(r)
    };
    check_all(fw, r, &opts);
    let ranking = chart::ranking(fw, r, &opts).unwrap();
    let text = String::from_utf8(ranking.bytes).unwrap();
    assert!(text.contains("天河区") && text.contains("红棉指数"));
}

#[test]
fn first_period_leaves_out_the_charts_that_compare_periods() {
    let (fw, r) = districts();
    let opts = ChartOptions::default();
    let names: Vec<String> = chart::render_all(fw, r, &opts)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n == "rank-change" || n == "bump" || n == "map")
    );
    assert!(chart::rank_change(fw, r, &opts).is_err());
    let late = ChartOptions {
        period: 99,
        ..ChartOptions::default()
    };
    let e = chart::ranking(fw, r, &late).unwrap_err().to_string();
    assert!(e.contains("period 99 is out of range"), "{e}");
}

/// Every character the charts may draw: unit and group names, node names in both languages,
/// the chart labels written in the chart sources, and a few district names.
#[test]
fn the_embedded_font_covers_every_name_and_label() {
    let font = FontRef::try_from_slice(chart::EMBEDDED_FONT).unwrap();
    let mut text = String::from("越秀区 天河区 白云区 茶滘 东漖 石碁 ▲▼◆→–×");
    for (fw, r) in [districts(), streets()] {
        for n in &fw.nodes {
            text.push_str(n.name.get(Lang::Zh));
            text.push_str(n.name.get(Lang::En));
        }
        for u in 0..r.panel.units.len() {
            text.push_str(r.panel.unit_name(u, Lang::Zh));
            text.push_str(r.panel.unit_name(u, Lang::En));
        }
        for s in r.panel.groups.iter().flatten() {
            text.push_str(s);
        }
    }
    for entry in std::fs::read_dir(root().join("src/chart")).unwrap() {
        text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let mut missing: Vec<char> = text
        .chars()
        .filter(|c| !c.is_control() && *c != '\u{FEFF}')
        .filter(|&c| font.glyph_id(c) == GlyphId(0))
        .collect();
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "no glyph for {missing:?}");
}

#[test]
fn a_bad_font_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-font.ttf");
    std::fs::write(&path, b"this is not a font").unwrap();
    let e = chart::load_font(&path).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(
        msg.contains("not-a-font.ttf") && msg.contains("not a TrueType/OpenType font"),
        "{msg}"
    );
    let (fw, r) = districts();
    let opts = ChartOptions {
        font: Some(b"junk".to_vec()),
        ..ChartOptions::latest(r)
    };
    let msg = chart::render_all(fw, r, &opts).unwrap_err().to_string();
    assert!(msg.contains("not a TrueType/OpenType font"), "{msg}");
    // A good font passed as bytes is used.
    let opts = ChartOptions {
        font: Some(chart::EMBEDDED_FONT.to_vec()),
        ..ChartOptions::latest(r)
    };
    assert!(chart::ranking(fw, r, &opts).is_ok());
}

/// No score or treated value of the samples is a negative zero (it would print as "-0.0" in
/// charts, tables and `results.parquet`), and no chart writes one.
#[test]
fn no_negative_zero_in_results_or_charts() {
    let negative_zero = |v: &f64| *v == 0.0 && v.is_sign_negative();
    for (fw, r) in [districts(), streets()] {
        let zeros = r.scores.iter().filter(|v| **v == 0.0).count();
        assert!(zeros > 0, "the sample has zero scores to check");
        assert!(!r.scores.iter().any(negative_zero), "a score is -0.0");
        assert!(
            !r.treated().unwrap().iter().any(negative_zero),
            "a treated value is -0.0"
        );
        let opts = ChartOptions {
            format: ImageFormat::Svg,
            ..ChartOptions::latest(r)
        };
        for c in chart::render_all(fw, r, &opts).unwrap() {
            let svg = String::from_utf8(c.bytes).unwrap();
            for t in svg.split("<text").skip(1) {
                let label = t.split('>').nth(1).unwrap_or("").trim_end_matches("</text");
                let label = label.trim();
                assert!(
                    !(label.starts_with("-0") || label.starts_with("-.0"))
                        || label
                            .trim_start_matches(['-', '0', '.'])
                            .chars()
                            .any(|c| c.is_ascii_digit() && c != '0'),
                    "{}: label {label:?}",
                    c.name
                );
            }
        }
    }
}

/// A robustness analysis of a sample's latest period: weights ±25 % on the dimensions and,
/// with `exclude`, leaving out one of two indicators (two inputs: a sensitivity analysis).
fn robust(fw: &Framework, r: &Results, exclude: bool) -> kapok::report::robustness::Robustness {
    use kapok::framework::uncertainty::{Input, InputKind, Uncertainty};
    let mut unc = kapok::report::robustness::assumed(fw);
    unc.runs = 200;
    if exclude {
        let ids: Vec<String> = fw
            .indicators()
            .iter()
            .take(2)
            .map(|&i| fw.nodes[i].id.clone())
            .collect();
        unc.inputs.push(Input {
            kind: InputKind::Exclude(ids),
            span: 0..0,
        });
    }
    let unc = Uncertainty {
        bootstrap: 50,
        ..unc
    };
    let p = r.panel.periods.len() - 1;
    kapok::report::robustness::run(fw, &r.panel, p, Some(&unc)).expect("analysis runs")
}

#[test]
fn the_robustness_charts_render_with_their_texts_in_both_languages() {
    let (fw, r) = districts();
    let rb = robust(fw, r, true);
    let (n, sens) = rb
        .sensitivity
        .clone()
        .expect("two inputs: a sensitivity analysis");
    assert_eq!(sens.len(), 2);
    let labels = ["权重".to_string(), "剔除指标".to_string()];
    for (lang, title, label) in [
        (Lang::Zh, "名次的不确定性", "名次（1 = 最好）"),
        (Lang::En, "uncertainty of the ranks", "rank (1 = best)"),
    ] {
        let mut opts = ChartOptions::latest(r);
        opts.lang = lang;
        for format in [ImageFormat::Png, ImageFormat::Svg] {
            opts.format = format;
            let c = chart::uncertainty(fw, r, &rb.analysis, &opts).expect("uncertainty chart");
            let s = chart::sensitivity(fw, r, &sens, &labels, n, &opts).expect("sensitivity");
            assert_eq!(
                (c.name.as_str(), s.name.as_str()),
                ("uncertainty", "sensitivity")
            );
            for x in [&c, &s] {
                assert!(x.bytes.len() > 1000, "{} is nearly empty", x.name);
                if format == ImageFormat::Png {
                    let img = image::load_from_memory(&x.bytes).expect("a PNG");
                    assert_eq!(img.width(), 2 * x.width);
                } else {
                    let svg = String::from_utf8(x.bytes.clone()).unwrap();
                    assert!(svg.contains(title) || x.name == "sensitivity", "{svg}");
                    if x.name == "uncertainty" {
                        assert!(svg.contains(label));
                        // Every unit is named, with its nominal rank.
                        for u in 0..r.panel.units.len() {
                            assert!(svg.contains(r.panel.unit_name(u, lang)), "unit {u}");
                        }
                    } else {
                        assert!(svg.contains("权重") && svg.contains("剔除指标"));
                    }
                }
            }
        }
    }
}

#[test]
fn the_uncertainty_chart_of_many_units_shows_the_top_and_the_bottom() {
    let (fw, r) = streets();
    let rb = robust(fw, r, false);
    assert!(
        rb.sensitivity.is_none(),
        "one input: no sensitivity analysis"
    );
    let opts = ChartOptions {
        format: ImageFormat::Svg,
        top_n: 15,
        ..ChartOptions::latest(r)
    };
    let c = chart::uncertainty(fw, r, &rb.analysis, &opts).unwrap();
    let svg = String::from_utf8(c.bytes).unwrap();
    assert!(svg.contains("前15名") && svg.contains("后15名"), "{svg}");
}
