//! What `index.html` says and how it prints: the `[report]` header, the unit profiles, the
//! "what drives the index" box, and (ignored by default) the A4 page count measured with
//! headless Chromium and `pdfinfo` — `.ci/run` runs it with `cargo test --test it -- --ignored print`.

use std::path::Path;
use std::process::Command;

use super::util::{Csv, framework_text_anywhere, kapok, root, tempdir, texts};

const SAMPLE: &str = "indicators/hongmian.toml";
const STREETS: &str = "indicators/hongmian-streets.toml";

/// Runs `kapok report FRAMEWORK -o DIR ARGS…`, asserts success and returns `index.html`.
fn html(framework: &str, dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["report", framework, "-o", dir.to_str().unwrap(), "--force"];
    all.extend(args);
    let out = kapok(&all);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    std::fs::read_to_string(dir.join("index.html")).unwrap()
}

/// The text between `start` and the next `end` after it, for every occurrence of `start`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    s.split(start)
        .skip(1)
        .map(|x| x.split(end).next().unwrap())
        .collect()
}

/// The sample's scores of the period as `kapok score` writes them.
fn scores(dir: &Path) -> Csv {
    let path = dir.join("scores.csv");
    let out = kapok(&["score", SAMPLE, "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    Csv::read(&path)
}

#[test]
fn the_report_header_shows_the_issuing_office() {
    let tmp = tempdir();
    let zh = html(SAMPLE, &tmp.path().join("zh"), &["--no-profiles"]);
    let en = html(
        SAMPLE,
        &tmp.path().join("en"),
        &["--lang", "en", "--no-profiles"],
    );
    let toml = std::fs::read_to_string(root().join(SAMPLE)).unwrap();
    let report: toml::Table = toml::from_str::<toml::Table>(&toml).unwrap()["report"]
        .as_table()
        .unwrap()
        .clone();
    for key in ["title", "issuer", "note"] {
        for (lang, page) in [("zh", &zh), ("en", &en)] {
            let text = report[key][lang].as_str().unwrap();
            assert!(page.contains(text), "{lang} page lacks the {key} {text}");
        }
    }
    assert!(zh.contains(&format!(
        "<h1>{}</h1>",
        report["title"]["zh"].as_str().unwrap()
    )));
}

#[test]
fn report_header_mistakes_are_framework_errors_at_their_line() {
    let tmp = tempdir();
    let text = framework_text_anywhere(SAMPLE);
    let line = |t: &str, key: &str| t.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    for (from, to, says) in [
        (
            "issuer = ",
            "issuer_name = ",
            "unknown key `issuer_name` in [report]",
        ),
        (
            "note = ",
            "note = 3 #",
            "`note` in [report] must be a string or a table",
        ),
    ] {
        let bad = text.replacen(from, to, 1);
        let fw = tmp.path().join("bad.toml");
        std::fs::write(&fw, &bad).unwrap();
        let out = kapok(&["check", fw.to_str().unwrap()]);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        let at = format!("bad.toml:{}:", line(&bad, to.trim_end_matches('#').trim()));
        assert!(err.contains(&at), "no {at} in {err}");
    }
}

#[test]
fn profiles_are_on_for_few_units_off_for_many_and_follow_the_flags() {
    let tmp = tempdir();
    let count = |h: &str| h.matches("<article class=\"profile\"").count();
    assert_eq!(count(&html(SAMPLE, &tmp.path().join("a"), &[])), 11);
    assert_eq!(
        count(&html(SAMPLE, &tmp.path().join("b"), &["--no-profiles"])),
        0
    );
    assert_eq!(
        count(&html(
            SAMPLE,
            &tmp.path().join("c"),
            &["--no-profiles", "--profiles"]
        )),
        11
    );
    assert_eq!(count(&html(STREETS, &tmp.path().join("d"), &[])), 0);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("b/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["options"]["profiles"], false);
}

#[test]
fn a_profile_shows_the_units_ranks_as_scored() {
    let tmp = tempdir();
    let page = html(SAMPLE, &tmp.path().join("r"), &[]);
    let csv = scores(tmp.path());
    let (unit, period, rank) = (csv.col("unit"), csv.col("period"), csv.col("rank.hongmian"));
    let periods: Vec<String> = {
        let mut p: Vec<String> = csv.rows.iter().map(|r| r[period].clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    let last12 = &periods[periods.len() - 12..];
    let profiles = between(&page, "<article class=\"profile\" id=\"unit-", "</article>");
    assert_eq!(profiles.len(), 11);
    for p in profiles {
        let code = p.split('"').next().unwrap();
        let rank_of = |per: &str| {
            let row = csv
                .rows
                .iter()
                .find(|r| r[unit] == code && r[period] == per)
                .unwrap();
            row[rank].clone()
        };
        let latest = rank_of(periods.last().unwrap());
        assert!(
            p.contains(&format!("<b>{latest}</b> / 11")),
            "{code}: rank {latest}"
        );
        // The index's trend class, as `kapok score` gives it.
        let class = &csv
            .rows
            .iter()
            .find(|r| r[unit] == code && r[period] == *periods.last().unwrap())
            .unwrap()[csv.col("trend.hongmian")];
        let shown = match class.as_str() {
            "improving" => "趋势 <span class=\"trend improving\">↗ 向好</span>",
            "stable" => "趋势 <span class=\"trend stable\">→ 平稳</span>",
            "declining" => "趋势 <span class=\"trend declining\">↘ 下滑</span>",
            other => panic!("{code}: no trend class ({other:?})"),
        };
        assert!(p.contains(shown), "{code}: trend {class}");
        // The history row: one cell per period, the ranks of those periods.
        let history = between(p, "<tbody><tr><td class=\"nw\">排名</td>", "</tr>")[0];
        let shown: Vec<&str> = between(history, "<td class=\"n\">", "</td>");
        let want: Vec<String> = last12.iter().map(|q| rank_of(q)).collect();
        assert_eq!(shown, want, "{code}: rank history");
        // The strongest indicator is one the unit ranks best on among all indicators.
        let latest_row = csv
            .rows
            .iter()
            .find(|r| r[unit] == code && r[period] == *periods.last().unwrap())
            .unwrap();
        let best = indicator_ids()
            .iter()
            .filter_map(|id| {
                latest_row[csv.col(&format!("rank.{id}"))]
                    .parse::<u32>()
                    .ok()
            })
            .min()
            .unwrap();
        let strongest = between(p, "优势指标", "</table>")[0];
        let first_rank = between(strongest, "<td class=\"n\">", "</td>")[1];
        assert_eq!(first_rank, best.to_string(), "{code}: strongest indicator");
    }
}

/// The ids of the sample's indicators, read from the framework file.
fn indicator_ids() -> Vec<String> {
    let text = std::fs::read_to_string(root().join(SAMPLE)).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    t["indicator"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Pearson's r, computed here from the scores (not by kapok's statistics).
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn what_drives_the_index_gives_the_correlations_of_the_scores() {
    let tmp = tempdir();
    let page = html(SAMPLE, &tmp.path().join("r"), &["--no-profiles"]);
    let csv = scores(tmp.path());
    let period = csv.col("period");
    let col = |id: &str| -> Vec<f64> {
        let c = csv.col(&format!("score.{id}"));
        csv.rows
            .iter()
            .filter(|r| r[period] == "2023-12")
            .map(|r| r[c].parse().unwrap())
            .collect()
    };
    let fmt = |r: f64| format!("{r:.2}").replace('-', "−");
    let r_index = pearson(&col("public_safety"), &col("hongmian"));
    let r_emergency = pearson(&col("public_safety"), &col("emergency"));
    assert!(
        r_index.abs() < 0.3 && r_emergency <= -0.5,
        "the sample's finding changed"
    );
    let box_ = between(&page, "<div class=\"box\" id=\"drivers\">", "</div>")[0];
    let items = between(box_, "<li>", "</li>");
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("<b>治安防控</b>（有效权重 22.22%）")
                && i.contains(&format!("r = {}", fmt(r_index)))),
        "{box_}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.contains("<b>治安防控</b>与<b>应急处置</b>")
                && i.contains(&format!("r = {}", fmt(r_emergency)))),
        "{box_}"
    );
    // The thresholds are stated.
    assert!(box_.contains("低于 0.30") && box_.contains("−0.50") && box_.contains("α 低于 0.50"));
}

/// Prints `index.html` in `dir` to an A4 PDF with headless Chromium; returns the PDF's path.
fn print_pdf(dir: &Path) -> std::path::PathBuf {
    let pdf = dir.join("print.pdf");
    let profile = tempdir();
    let status = Command::new("chromium")
        .args(crate::util::CHROMIUM_HEADLESS)
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", dir.join("index.html").display()))
        .output()
        .expect("chromium runs (install it: apt-get install chromium)");
    assert!(status.status.success(), "{}", texts(&status).1);
    pdf
}

/// The page count and page size `pdfinfo` reports.
fn pdfinfo(pdf: &Path) -> (usize, String) {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo runs (install it: apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("Pages:").parse().unwrap(), field("Page size:"))
}

/// The page count of the report of `framework` with `args`; every page A4 portrait.
fn printed_pages(dir: &Path, framework: &str, args: &[&str]) -> usize {
    html(framework, dir, args);
    let pdf = print_pdf(dir);
    let (pages, size) = pdfinfo(&pdf);
    // e.g. "594.96 x 841.92 pts (A4)": A4, portrait (narrower than high).
    let sides: Vec<f64> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(size.ends_with("(A4)") && sides[0] < sides[1], "{size}");
    pages
}

#[test]
#[ignore = "needs chromium and pdfinfo: run by .ci/run"]
fn print_on_a4_in_few_pages() {
    let tmp = tempdir();
    for lang in ["zh", "en"] {
        let at = |name: &str| tmp.path().join(format!("{name}-{lang}"));
        // Measured: 11 pages in zh, 12 in en; with the sample's [uncertainty] (the robustness
        // section, its two charts on a page of their own) 12 and 13.
        let main = printed_pages(&at("d"), SAMPLE, &["--lang", lang, "--no-profiles"]);
        assert!(
            main <= 13,
            "{lang}: the district report prints on {main} pages"
        );
        // Each of the 11 profiles fills exactly one page of its own. Chromium 156.0.8078.114
        // prints the zh report without profiles on 12 pages and the same content followed by the
        // profiles on 11, for HTML and charts byte-identical before and after the evaluation
        // changes that came with that Chromium: one page either way is the printer's, not the
        // report's.
        let all = printed_pages(&at("p"), SAMPLE, &["--lang", lang]);
        assert!(
            (main + 10..=main + 11).contains(&all),
            "{lang}: {main} pages, {all} with the profiles"
        );
        // 176 streets: 20 pages measured in zh, 22 in en when this check was written; with the
        // sample's [uncertainty] 20 and 24.
        let streets = printed_pages(&at("s"), STREETS, &["--lang", lang]);
        assert!(
            streets <= 24,
            "{lang}: the street report prints on {streets} pages"
        );
        // No squeezed column: a formula prints on one line of the methodology.
        let text = Command::new("pdftotext")
            .args(["-layout"])
            .arg(at("d").join("print.pdf"))
            .arg("-")
            .output()
            .expect("pdftotext runs");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.lines()
                .any(|l| l.contains("theft_rate = theft_cases / population * 10000")),
            "{lang}: a formula is broken across lines"
        );
        // The ranking table's header prints whole, on one line: no column squeezed to break
        // its label (zh broke 排名 a character a line beside the map).
        let page = std::fs::read_to_string(at("d").join("index.html")).unwrap();
        let head = between(&page, "<thead><tr>", "</tr>")[0];
        let labels: Vec<String> = between(head, "<th", "</th>")
            .iter()
            .map(|c| c.split_once('>').unwrap().1.to_string())
            .collect();
        let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.lines().any(|l| words(l).contains(&labels.join(" "))),
            "{lang}: the ranking table's header {labels:?} is broken across lines"
        );
        // The tile map, the first image, prints at least 60 mm wide (the English page printed
        // it 25 mm wide, a thumbnail beside the ranking table).
        let mm = map_width_mm(&at("d").join("print.pdf"));
        assert!(mm >= 60.0, "{lang}: the map prints {mm:.1} mm wide");
    }
}

/// The printed width in millimetres of the first image of `pdf`: its pixels over its
/// resolution, as `pdfimages -list` gives them.
fn map_width_mm(pdf: &Path) -> f64 {
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(pdf)
        .output()
        .expect("pdfimages runs (install it: apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    // page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
    let first: Vec<&str> = text
        .lines()
        .nth(2)
        .expect("an image")
        .split_whitespace()
        .collect();
    let (width, ppi): (f64, f64) = (first[3].parse().unwrap(), first[12].parse().unwrap());
    width / ppi * 25.4
}
