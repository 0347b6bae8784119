//! `kapok report`: the bundle's files, manifest, reproducibility, workbook, HTML, and how an
//! existing output directory is treated.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine;
use calamine::{Data, Reader, Xlsx};
use kapok::report::sha256_hex;

use super::util::{
    Csv, files_under, framework_text_anywhere, kapok, leftovers, root, snapshot, tempdir, texts,
};

const SAMPLE: &str = "indicators/hongmian.toml";

/// Runs `kapok report FRAMEWORK -o DIR ARGS…` and asserts success.
fn report(framework: &str, dir: &Path, args: &[&str]) {
    let mut all = vec!["report", framework, "-o", dir.to_str().unwrap()];
    all.extend(args);
    let out = kapok(&all);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn workbook(dir: &Path) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(
        std::fs::read(dir.join("results.xlsx")).unwrap(),
    ))
    .unwrap()
}

fn chart_files(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.starts_with("charts/"))
        .collect()
}

#[test]
fn help_snapshot() {
    let out = kapok(&["report", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    snapshot("help_report.txt", &texts(&out).0);
}

#[test]
fn the_bundle_is_complete_hashed_and_identical_from_run_to_run() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    report(SAMPLE, &a, &[]);
    report(SAMPLE, &b, &[]);

    let files = files_under(&a);
    for f in [
        "bounds.csv",
        "index.html",
        "manifest.json",
        "results.parquet",
        "results.xlsx",
    ] {
        assert!(files.contains(&f.to_string()), "{f} missing: {files:?}");
    }
    let charts = chart_files(&a);
    assert!(!charts.is_empty());
    for c in &charts {
        assert!(c.ends_with(".png"), "{c}");
        let bytes = std::fs::read(a.join(c)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{c} is not a PNG");
    }
    assert_eq!(files.len(), 5 + charts.len(), "{files:?}");

    // The manifest lists every other file with its hash and size, and the inputs.
    let m = manifest(&a);
    assert_eq!(m["kapok"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["period"], "2023-12");
    assert_eq!(m["previous_period"], "2023-11");
    // Inputs are named relative to the framework's directory.
    assert_eq!(m["framework"]["path"], "hongmian.toml");
    assert_eq!(
        m["framework"]["sha256"],
        sha256_hex(&std::fs::read(root().join(SAMPLE)).unwrap())
    );
    assert_eq!(m["options"]["lang"], "zh");
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut expected = files.clone();
    expected.retain(|f| f != "manifest.json");
    assert_eq!(listed, expected);
    for f in m["files"].as_array().unwrap() {
        let bytes = std::fs::read(a.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"], sha256_hex(&bytes), "{f}");
        assert_eq!(f["bytes"], bytes.len() as u64, "{f}");
    }
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(
        inputs.len(),
        9,
        "the sample's eight sources and its map tiles"
    );
    let roles: Vec<&str> = inputs.iter().map(|i| i["role"].as_str().unwrap()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "source").count(), 8);
    assert!(roles.contains(&"tiles"), "{roles:?}");
    for i in inputs {
        let path = i["path"].as_str().unwrap();
        assert!(path.starts_with("../data/"), "{path}");
        let bytes = std::fs::read(root().join("indicators").join(path)).unwrap();
        assert_eq!(i["sha256"], sha256_hex(&bytes), "{i}");
    }
    let text = std::fs::read_to_string(a.join("manifest.json")).unwrap();
    assert!(
        !text.contains(tmp.path().to_str().unwrap()),
        "no output path in the manifest"
    );

    // Same inputs, same bytes.
    assert_eq!(files, files_under(&b));
    for f in &files {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn the_parquet_file_is_the_full_results_table() {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &[]);
    let file = std::fs::File::open(dir.join("results.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 11 * 24, "every district in every month");
}

fn cell_f64(d: &Data) -> Option<f64> {
    match d {
        Data::Float(v) => Some(*v),
        Data::Int(v) => Some(*v as f64),
        _ => None,
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[test]
fn the_workbook_reads_back_with_the_scores_of_kapok_score() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &[]);
    let csv = tmp.path().join("scores.csv");
    let out = kapok(&[
        "score",
        SAMPLE,
        "--period",
        "2023-12",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let scores = Csv::read(&csv);
    let by_unit: BTreeMap<String, &Vec<String>> = scores
        .rows
        .iter()
        .map(|r| (r[scores.col("unit")].clone(), r))
        .collect();
    let num = |unit: &str, col: &str| -> f64 { by_unit[unit][scores.col(col)].parse().unwrap() };

    let mut wb = workbook(&dir);
    let names = wb.sheet_names();
    assert_eq!(
        names[..7],
        [
            "排名",
            "维度得分",
            "指标得分",
            "原始值",
            "插补值",
            "方法说明",
            "概况"
        ]
    );
    // A sample that declares [uncertainty] adds the robustness sheets.
    assert!(
        names[7..]
            .iter()
            .all(|n| ["名次区间", "敏感度"].contains(&n.as_str())),
        "{names:?}"
    );

    let ranking = wb.worksheet_range("排名").unwrap();
    let rows: Vec<&[Data]> = ranking.rows().collect();
    let header: Vec<String> = rows[0].iter().map(cell_text).collect();
    assert_eq!(
        header,
        [
            "排名",
            "变化",
            "上期排名",
            "同比",
            "去年同期排名",
            "代码",
            "名称",
            "统计期",
            "红棉指数（区）",
            "去年同期得分",
            "得分同比变化",
            "趋势"
        ]
    );
    assert_eq!(rows.len() - 1, 11, "11 districts");
    let mut last_rank = 0.0;
    for row in &rows[1..] {
        let unit = cell_text(&row[5]);
        let rank = cell_f64(&row[0]).unwrap();
        assert!(rank >= last_rank, "ranking sorted by rank");
        last_rank = rank;
        assert_eq!(rank, num(&unit, "rank.hongmian"), "{unit}");
        let score = cell_f64(&row[8]).unwrap();
        assert!(
            (score - num(&unit, "score.hongmian")).abs() < 1e-9,
            "{unit}"
        );
        // The trend cell says the class of `kapok score`'s trend column, with its arrow.
        let class = &by_unit[unit.as_str()][scores.col("trend.hongmian")];
        let want = match class.as_str() {
            "improving" => "↗ 向好",
            "stable" => "→ 平稳",
            "declining" => "↘ 下滑",
            _ => "",
        };
        assert_eq!(cell_text(&row[11]), want, "{unit}");
        // The sample's scores are comparable across months (base-year bounds): the score a
        // year earlier and its change, as `kapok score` says.
        let yoy = num(&unit, "yoy.hongmian");
        let now = num(&unit, "score.hongmian");
        assert!((cell_f64(&row[10]).unwrap() - yoy).abs() < 1e-9, "{unit}");
        assert!(
            (cell_f64(&row[9]).unwrap() - (now - yoy)).abs() < 1e-9,
            "{unit}"
        );
        // Year on year: places climbed since 2022-12 and the rank then, as `kapok score` says.
        assert_eq!(
            cell_f64(&row[3]),
            Some(num(&unit, "rank_yoy.hongmian")),
            "{unit}"
        );
        assert_eq!(
            cell_f64(&row[4]).unwrap(),
            num(&unit, "rank.hongmian") + num(&unit, "rank_yoy.hongmian"),
            "{unit}"
        );
    }
    assert!(rows[1..].iter().any(|r| cell_text(&r[6]) == "越秀区"));

    let dims = wb.worksheet_range("维度得分").unwrap();
    let rows: Vec<&[Data]> = dims.rows().collect();
    let header: Vec<String> = rows[0].iter().map(cell_text).collect();
    let col = header.iter().position(|h| h == "治安防控").unwrap();
    for row in &rows[1..] {
        let unit = cell_text(&row[1]);
        let v = cell_f64(&row[col]).unwrap();
        assert!((v - num(&unit, "score.public_safety")).abs() < 1e-9);
        assert_eq!(
            cell_f64(&row[col + 1]).unwrap(),
            num(&unit, "rank.public_safety")
        );
    }

    let raw = wb.worksheet_range("原始值").unwrap();
    let rows: Vec<&[Data]> = raw.rows().collect();
    assert_eq!(rows.len() - 1, 11);
    assert_eq!(
        rows[0].len(),
        3 + 28,
        "code, name, period and 28 indicators"
    );

    let method = wb.worksheet_range("方法说明").unwrap();
    assert_eq!(method.rows().count() - 1, 1 + 7 + 28, "every node");
}

#[test]
fn the_html_is_self_contained_and_escaped() {
    let tmp = tempdir();
    // The sample framework with markup in its name and description, reading the sample data.
    let text = framework_text_anywhere(SAMPLE).replace(
        "zh = \"红棉指数（区）\"",
        "zh = \"红棉指数 <测试> & \\\"引号\\\"\"",
    );
    let fw = tmp.path().join("marked.toml");
    std::fs::write(&fw, text).unwrap();
    let dir = tmp.path().join("r");
    report(fw.to_str().unwrap(), &dir, &[]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("越秀区"));
    assert!(html.contains("红棉指数 &lt;测试&gt; &amp; &quot;引号&quot;"));
    assert!(!html.contains("<测试>"));
    for needle in ["http:", "https:", "<script", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "the page must not contain {needle}");
    }
    // Methodology from the framework: names, units, directions, weights, expressions, methods.
    for needle in [
        "盗窃案件发案率",
        "每万人",
        "逆向（越低越好）",
        "theft_cases / population * 10000",
        "极差标准化至 [0, 100]",
        "加权算术平均",
        "有效权重",
    ] {
        assert!(html.contains(needle), "methodology lacks {needle}");
    }

    // Every chart is an <img> whose data URI decodes to the chart file.
    let charts = chart_files(&dir);
    let imgs: Vec<&str> = html.split("<img ").skip(1).collect();
    assert_eq!(imgs.len(), charts.len());
    for c in &charts {
        let name = c.trim_start_matches("charts/").trim_end_matches(".png");
        let fig = html
            .split(&format!("<figure id=\"chart-{name}\" "))
            .nth(1)
            .unwrap_or_else(|| panic!("no figure for {name}"));
        let src = fig
            .split("src=\"data:image/png;base64,")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(src)
            .unwrap();
        assert_eq!(bytes, std::fs::read(dir.join(c)).unwrap(), "{c}");
    }
}

#[test]
fn english_reports_name_things_in_english() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &["--lang", "en", "--period", "2023-06"]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Red Cotton Index (districts)"));
    assert!(html.contains("rank changes against 2023-05"));
    assert!(html.contains("min-max to [0, 100]"));
    assert_eq!(manifest(&dir)["period"], "2023-06");
    assert_eq!(manifest(&dir)["options"]["period"], "2023-06");
    assert_eq!(workbook(&dir).sheet_names()[0], "ranking");
}

#[test]
fn a_non_empty_directory_is_refused_and_a_previous_report_alone_replaced() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    let arg = dir.to_str().unwrap();

    // Someone else's files: refused, with or without --force, and left alone.
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec!["report", SAMPLE, "-o", arg];
        args.extend(extra);
        let out = kapok(&args);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("notes.txt"), "{err}");
        assert_eq!(files_under(&dir), ["notes.txt"]);
    }
    std::fs::remove_file(dir.join("notes.txt")).unwrap();

    // An empty directory is used.
    report(SAMPLE, &dir, &[]);
    let first = files_under(&dir);

    // A previous report: refused without --force, nothing changed.
    std::fs::write(dir.join("stray.txt"), "left over").unwrap();
    let out = kapok(&["report", SAMPLE, "-o", arg, "--lang", "en"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(dir.join("stray.txt").exists());
    assert_eq!(manifest(&dir)["options"]["lang"], "zh");

    // Not even with --force: the manifest does not list the stray file.
    let out = kapok(&["report", SAMPLE, "-o", arg, "--force", "--lang", "en"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stray.txt"), "{err}");
    assert!(dir.join("stray.txt").exists());
    std::fs::remove_file(dir.join("stray.txt")).unwrap();

    // Replaced whole with --force once it holds only the report.
    report(SAMPLE, &dir, &["--force", "--lang", "en"]);
    assert_eq!(files_under(&dir), first);
    assert_eq!(manifest(&dir)["options"]["lang"], "en");
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );

    // A file is not a directory.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = kapok(&["report", SAMPLE, "-o", file.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn a_failing_run_writes_nothing_and_leaves_no_temporary_directory() {
    let tmp = tempdir();
    let dir = tmp.path().join("out").join("r");
    let arg = dir.to_str().unwrap();
    let cases: [(&[&str], i32); 4] = [
        (
            &[
                "report",
                "tests/fixtures/bad/three_mistakes.toml",
                "-o",
                arg,
            ],
            2,
        ),
        (&["report", SAMPLE, "-o", arg, "--period", "1999-01"], 2),
        (
            &["report", SAMPLE, "-o", arg, "--font", "no/such/font.ttf"],
            1,
        ),
        (
            &["report", SAMPLE, "-o", arg, "--tiles", "data/districts.csv"],
            1,
        ),
    ];
    for (args, code) in cases {
        let out = kapok(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", texts(&out).1);
        assert!(!dir.exists(), "{args:?} created the report directory");
        assert!(leftovers(tmp.path()).is_empty());
        assert!(leftovers(&tmp.path().join("out")).is_empty());
    }
}

#[test]
fn a_run_failing_after_results_parquet_is_begun_leaves_the_previous_report() {
    // The report of 2023-01 writes results.parquet as the periods are scored; 2023-02 then
    // fails (every unit's `level` the same: nothing to normalise between).
    let tmp = tempdir();
    let fw = super::util::small_framework(tmp.path(), "arithmetic");
    let dir = tmp.path().join("r");
    let arg = dir.to_str().unwrap();
    let report = [
        "report",
        fw.to_str().unwrap(),
        "-o",
        arg,
        "--period",
        "2023-01",
    ];
    let out = kapok(&report);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let before = std::fs::read(dir.join("manifest.json")).unwrap();
    let flat = super::util::SMALL_MONTHLY
        .replace(",8\n", ",5\n")
        .replace(",4\n", ",5\n");
    std::fs::write(tmp.path().join("monthly.csv"), flat).unwrap();
    let out = kapok(&[&report[..], &["--force"]].concat());
    let err = texts(&out).1;
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("2023-02") && err.contains("`level`"), "{err}");
    assert_eq!(std::fs::read(dir.join("manifest.json")).unwrap(), before);
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[test]
fn the_street_report_builds() {
    let tmp = tempdir();
    let dir = tmp.path().join("streets");
    report("indicators/hongmian-streets.toml", &dir, &[]);
    let mut wb = workbook(&dir);
    let ranking = wb.worksheet_range("排名").unwrap();
    let rows: Vec<&[Data]> = ranking.rows().collect();
    assert_eq!(rows.len() - 1, 176);
    let header: Vec<String> = rows[0].iter().map(cell_text).collect();
    assert!(header.contains(&"组内排名".to_string()), "{header:?}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("组内排名"));
}

/// The README shows charts from the sample report; they must be the ones kapok draws now.
/// Regenerate with:
/// `cargo run -- report indicators/hongmian.toml -o reports/sample --force && cp reports/sample/charts/{ranking,heatmap-dimensions}.png docs/`
#[test]
fn the_readme_charts_are_current() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &[]);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for name in ["ranking", "heatmap-dimensions"] {
        let committed = root().join(format!("docs/{name}.png"));
        assert!(
            readme.contains(&format!("docs/{name}.png")),
            "README does not show docs/{name}.png"
        );
        let fresh = std::fs::read(dir.join(format!("charts/{name}.png"))).unwrap();
        assert!(
            std::fs::read(&committed).is_ok_and(|b| b == fresh),
            "docs/{name}.png is not the chart kapok draws now; regenerate it with \
             `cargo run -- report indicators/hongmian.toml -o reports/sample --force && \
             cp reports/sample/charts/{{ranking,heatmap-dimensions}}.png docs/`"
        );
    }
}

/// The sample report draws every chart kapok has, the tile map included (declared in the
/// framework's `[charts]`), and every chart is a PNG.
#[test]
fn the_sample_report_has_every_chart() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &[]);
    let charts = chart_files(&dir);
    for name in super::charts::ALL {
        let file = format!("charts/{name}.png");
        assert!(charts.contains(&file), "{file} missing: {charts:?}");
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}");
    }
}

/// `--svg` draws the charts as SVG files, embedded in the page as SVG data URIs.
#[test]
fn charts_as_svg() {
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    report(SAMPLE, &dir, &["--svg"]);
    let charts = chart_files(&dir);
    assert!(charts.len() >= 11, "{charts:?}");
    assert!(charts.iter().all(|c| c.ends_with(".svg")), "{charts:?}");
    let svg = std::fs::read_to_string(dir.join("charts/ranking.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("越秀区"),
        "the labels are text"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_eq!(html.matches("data:image/svg+xml").count(), charts.len());
}

/// A broken GeoJSON is an error naming the file and the position, and nothing is written.
#[test]
fn a_broken_geojson_names_its_file() {
    let tmp = tempdir();
    let gj = tmp.path().join("b.geojson");
    std::fs::write(&gj, "{\"type\":\"FeatureCollection\",\"features\":[\n").unwrap();
    let dir = tmp.path().join("r");
    let out = kapok(&[
        "report",
        SAMPLE,
        "-o",
        dir.to_str().unwrap(),
        "--geojson",
        gj.to_str().unwrap(),
    ]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("b.geojson: GeoJSON") && err.contains("line 2"),
        "{err}"
    );
    assert!(!dir.exists());
}

/// The rank intervals of the HTML ranking table, by unit code: `(lo, hi)`.
fn html_intervals(html: &str) -> BTreeMap<String, (u32, u32)> {
    let mut out = BTreeMap::new();
    let table = html.split("<h2 id=\"ranking\">").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    for row in table.split("<tr>").skip(2) {
        let cells: Vec<(&str, &str)> = row
            .split("<td")
            .skip(1)
            .map(|c| {
                let (attrs, rest) = c.split_once('>').unwrap();
                (attrs, rest.split("</td>").next().unwrap())
            })
            .collect();
        let cell = |class: &str| cells.iter().find(|c| c.0 == class).unwrap().1;
        let (iv, code) = (cell(" class=\"c nw\""), cell(" class=\"nw\""));
        let (lo, hi) = iv.split_once('–').unwrap_or((iv, iv));
        out.insert(code.to_string(), (lo.parse().unwrap(), hi.parse().unwrap()));
    }
    out
}

/// The bundle of the sample with its `[uncertainty]` taken out, built by the library:
/// `robustness` as `--robustness` sets it.
fn undeclared_bundle(lang: kapok::framework::Lang, robustness: bool) -> BTreeMap<String, Vec<u8>> {
    let path = root().join(SAMPLE);
    let mut fw = kapok::load(&path).unwrap();
    fw.uncertainty = None;
    let (r, warnings) = kapok::score(&fw, None).unwrap();
    let opts = kapok::report::ReportOptions {
        lang,
        period: r.panel.periods.len() - 1,
        framework: path,
        data: None,
        font: None,
        geojson: None,
        tiles: None,
        svg: false,
        profiles: false,
        options: serde_json::json!({}),
        robustness,
    };
    kapok::report::build(&fw, &r, &warnings, &opts)
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn without_a_declaration_the_report_says_nothing_of_robustness_unless_asked() {
    let files = undeclared_bundle(kapok::framework::Lang::Zh, false);
    let html = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(!html.contains("名次区间") && !html.contains("id=\"robustness\""));
    assert!(!files.keys().any(|f| f.contains("uncertainty")));
    let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert!(m["options"].get("robustness").is_none());
    let wb = Xlsx::new(Cursor::new(files["results.xlsx"].clone())).unwrap();
    assert_eq!(wb.sheet_names().len(), 7);

    // Asked for: weights ±25 % on the dimensions, 1000 runs, seed 1, and the report says so.
    for (lang, said) in [
        (
            kapok::framework::Lang::Zh,
            "框架未声明不确定性设定，本报告按各维度权重±25%随机变动、模拟 1000 次（随机种子 1）进行分析。",
        ),
        (
            kapok::framework::Lang::En,
            "The framework declares no uncertain inputs; this report varies each dimension&#39;s weight by ±25% at random over 1000 runs (seed 1).",
        ),
    ] {
        let files = undeclared_bundle(lang, true);
        let html = String::from_utf8(files["index.html"].clone()).unwrap();
        assert!(html.contains(said), "{lang:?}");
        let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let m = &m["options"]["robustness"];
        assert_eq!(m["declared"], false);
        assert_eq!(m["inputs"].as_array().unwrap().len(), 1);
        assert_eq!(m["inputs"][0]["name"], "weights");
        assert_eq!(m["runs"], 1000);
        assert_eq!(m["seed"], 1);
        assert_eq!(m["saltelli_n"], serde_json::Value::Null);
        assert!(files.contains_key("charts/uncertainty.png"));
        assert!(!files.contains_key("charts/sensitivity.png"), "one input");
    }
}

#[test]
fn robustness_adds_rank_intervals_a_sentence_a_chart_sheets_and_manifest_entries() {
    let tmp = tempdir();
    let robust = tmp.path().join("robust");
    report(SAMPLE, &robust, &["--no-profiles", "--robustness"]);

    // The intervals in the table, the sentence, the section and its chart.
    let html = std::fs::read_to_string(robust.join("index.html")).unwrap();
    assert!(html.contains(
        "<th class=\"c\" title=\"90% 的模拟结果落在此名次区间内（5%–95%）\">名次区间</th>"
    ));
    assert!(html.contains("的设定下（模拟 1000 次），"), "the sentence");
    assert!(html.contains("<h2 id=\"robustness\">"));
    assert!(html.contains("id=\"chart-uncertainty\""));
    assert!(chart_files(&robust).contains(&"charts/uncertainty.png".to_string()));

    // The workbook's rank statistics match the table's intervals (q5 and q95 rounded), and
    // every nominal rank lies within [min, max] and every interval within them too.
    let mut wb = workbook(&robust);
    assert!(wb.sheet_names().contains(&"名次区间".to_string()));
    let sheet = wb.worksheet_range("名次区间").unwrap();
    let intervals = html_intervals(&html);
    let mut rows = 0;
    for row in sheet.rows().skip(1) {
        let nominal = cell_f64(&row[0]).unwrap();
        let code = cell_text(&row[1]);
        let (q5, q95) = (cell_f64(&row[4]).unwrap(), cell_f64(&row[5]).unwrap());
        let (min, max) = (cell_f64(&row[8]).unwrap(), cell_f64(&row[9]).unwrap());
        assert!(min <= q5 && q5 <= q95 && q95 <= max, "{code}");
        assert!(min <= nominal && nominal <= max, "{code}");
        assert_eq!(cell_f64(&row[10]), Some(1000.0));
        assert_eq!(
            intervals[&code],
            (q5.round() as u32, q95.round() as u32),
            "{code}"
        );
        rows += 1;
    }
    assert_eq!(rows, intervals.len());
    assert!(rows > 0);

    // The manifest records what varied, how often, the seed and the sampling.
    let m = manifest(&robust)["options"]["robustness"].clone();
    assert_eq!(m["runs"], 1000);
    assert_eq!(m["seed"], 1);
    assert_eq!(m["sampling"], "sobol");
    assert_eq!(m["inputs"][0]["name"], "weights");
}

#[test]
fn a_declared_uncertainty_with_two_inputs_adds_a_sensitivity_analysis() {
    use kapok::framework::uncertainty::{Input, InputKind};
    let path = root().join(SAMPLE);
    let mut fw = kapok::load(&path).unwrap();
    let mut unc = kapok::report::robustness::assumed(&fw);
    unc.runs = 300;
    unc.seed = 7;
    unc.inputs.push(Input {
        kind: InputKind::Exclude(vec!["theft_rate".into(), "burglary_rate".into()]),
        span: 0..0,
    });
    fw.uncertainty = Some(unc);
    let (r, warnings) = kapok::score(&fw, None).unwrap();
    let period = r.panel.periods.len() - 1;
    for (lang, sens, sentence) in [
        (
            kapok::framework::Lang::Zh,
            "敏感度",
            "在权重±25%、剔除 2 项指标之一或不剔除的设定下（模拟 300 次），",
        ),
        (
            kapok::framework::Lang::En,
            "sensitivity",
            "Under weights ±25% and leaving out one of 2 indicators, or none (300 runs), ",
        ),
    ] {
        let opts = kapok::report::ReportOptions {
            lang,
            period,
            framework: path.clone(),
            data: None,
            font: None,
            geojson: None,
            tiles: None,
            svg: false,
            profiles: false,
            options: serde_json::json!({}),
            robustness: false,
        };
        let files: BTreeMap<String, Vec<u8>> = kapok::report::build(&fw, &r, &warnings, &opts)
            .unwrap()
            .into_iter()
            .collect();
        assert!(files.contains_key("charts/uncertainty.png"));
        assert!(files.contains_key("charts/sensitivity.png"));
        let html = String::from_utf8(files["index.html"].clone()).unwrap();
        assert!(html.contains(sentence), "{lang:?}: the sentence");
        // Declared: no note that the weights were assumed.
        assert!(!html.contains("框架未声明") && !html.contains("declares no uncertain"));
        assert!(html.contains("id=\"chart-sensitivity\""));
        let mut wb = Xlsx::new(Cursor::new(files["results.xlsx"].clone())).unwrap();
        let s = wb.worksheet_range(sens).unwrap();
        let inputs: Vec<String> = s.rows().skip(1).map(|r| cell_text(&r[0])).collect();
        assert_eq!(inputs, ["weights", "exclude"]);
        for row in s.rows().skip(1) {
            let (si, sti) = (cell_f64(&row[2]).unwrap(), cell_f64(&row[5]).unwrap());
            assert!(si.is_finite() && sti.is_finite());
            assert!((cell_f64(&row[8]).unwrap() - (sti - si)).abs() < 1e-12);
        }
        let m: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let m = &m["options"]["robustness"];
        assert_eq!(m["declared"], true);
        assert_eq!(m["runs"], 300);
        assert_eq!(m["seed"], 7);
        assert_eq!(m["saltelli_n"], kapok::report::robustness::SALTELLI_N);
        assert_eq!(
            m["saltelli_runs"],
            4 * kapok::report::robustness::SALTELLI_N
        );
        assert_eq!(m["inputs"][1]["name"], "exclude");
        assert_eq!(m["inputs"][1]["choices"], 3);
    }
}

/// A report of more units than a table should list (1,100 of them): the ranking and dimension
/// tables list the top and the bottom 100, with a row that says how many are left out and
/// where they all are; the trend chart shows the top and the bottom 15, not a panel per unit
/// (which came to 990,590 pixels for 20,849 grids, too tall to draw); the workbook lists
/// every unit.
#[test]
fn a_report_of_many_units_cuts_its_tables_and_charts_and_the_workbook_keeps_every_unit() {
    let dir = tempdir();
    let fw = super::util::small_framework(dir.path(), "arithmetic");
    let n = 1100;
    let mut units = String::from("code,name,population\n");
    let mut monthly = String::from("code,month,cases,level\n");
    for i in 1..=n {
        units.push_str(&format!("{i},单位{i},{}\n", 1000 + i % 97));
        for (m, shift) in [("2023-01", 0), ("2023-02", 5)] {
            let (cases, level) = ((i * 37 + shift) % 1009, (i * 13 + shift) % 211);
            monthly.push_str(&format!("{i},{m},{cases},{level}\n"));
        }
    }
    std::fs::write(dir.path().join("units.csv"), units).unwrap();
    std::fs::write(dir.path().join("monthly.csv"), monthly).unwrap();
    let out = dir.path().join("r");
    report(fw.to_str().unwrap(), &out, &[]);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    // Two tables, each cut once: 1,100 − 2 × 100 left out.
    assert_eq!(html.matches("<tr class=\"gap\">").count(), 2, "{html}");
    assert_eq!(html.matches("中间 900 个单位从略").count(), 2);
    assert!(html.contains("全部排名见 results.xlsx 的“排名”表和 results.parquet"));
    // And above each table, what it lists.
    assert_eq!(
        html.matches("共 1100 个单位，下表列出前 100 名与后 100 名")
            .count(),
        2
    );
    // 100 + 100 unit rows in each table (each starts with its rank), and not one more.
    let body_rows = |table: &str| table.matches("<tr><td class=\"n\">").count();
    assert_eq!(body_rows(&html), 400, "rows of the two tables");
    // The trend chart: 30 panels, four to a row (not 1,100).
    let png = std::fs::read(out.join("charts/trends.png")).unwrap();
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert!(
        height < 2 * width,
        "trends.png {width} × {height}: a panel per unit?"
    );
    let mut book = workbook(&out);
    let ranking = book.worksheet_range("排名").unwrap();
    assert_eq!(ranking.height(), n + 1, "header and every unit");
}

/// A report of `n` units, each missing one of its two indicators in the second month (filled by
/// the median), and the bytes of its workbook.
fn report_missing_half(dir: &Path, n: usize) -> (PathBuf, Vec<u8>) {
    let fw = super::util::small_framework(dir, "arithmetic");
    let text = std::fs::read_to_string(&fw).unwrap();
    std::fs::write(
        &fw,
        text.replace("[defaults]\n", "[defaults]\nimpute = \"median\"\n"),
    )
    .unwrap();
    let mut units = String::from("code,name,population\n");
    let mut monthly = String::from("code,month,cases,level\n");
    for i in 1..=n {
        units.push_str(&format!("{i},单位{i},{}\n", 1000 + i % 97));
        let (cases, level) = ((i * 37) % 1009, (i * 13) % 211);
        monthly.push_str(&format!("{i},2023-01,{cases},{level}\n"));
        let (cases, level) = if i % 2 == 0 {
            (cases.to_string(), String::new())
        } else {
            (String::new(), level.to_string())
        };
        monthly.push_str(&format!("{i},2023-02,{cases},{level}\n"));
    }
    std::fs::write(dir.join("units.csv"), units).unwrap();
    std::fs::write(dir.join("monthly.csv"), monthly).unwrap();
    let out = dir.join("r");
    report(fw.to_str().unwrap(), &out, &[]);
    let bytes = std::fs::read(out.join("results.xlsx")).unwrap();
    (out, bytes)
}

/// Up to `xlsx::NOTES_MOST` (1,000) imputed cells, each raw value filled in has a note saying
/// how; beyond, the cells are shaded and listed but not noted, and the about sheet says so.
#[test]
fn the_workbook_notes_each_imputed_raw_value_up_to_a_thousand() {
    let has_notes = |xlsx: &[u8]| xlsx.windows(15).any(|w| w == b"xl/comments1.xm");
    let said = "多于 1000 个，原始值表不逐格加批注";
    for (n, noted) in [(1000, true), (1100, false)] {
        let dir = tempdir();
        let (out, bytes) = report_missing_half(dir.path(), n);
        assert_eq!(has_notes(&bytes), noted, "{n} imputed cells");
        let mut book = workbook(&out);
        let imputed = book.worksheet_range("插补值").unwrap();
        assert_eq!(imputed.height(), n + 1, "every imputed cell listed");
        let about = book.worksheet_range("概况").unwrap();
        let says = about
            .rows()
            .any(|r| r.iter().any(|c| cell_text(c).contains(said)));
        assert_eq!(says, !noted, "{n}");
    }
}
