//! Comparable scores across periods: normalisation bounds from the panel, a base period or a
//! frozen file (`over`, `bounds`, `outside`). Expectations are computed by hand or taken from
//! COINr's purse normalisation with `global = TRUE` (`tests/fixtures/coinr-panel/`).

use std::path::Path;

use ndarray::{Array2, Array3};
use proptest::prelude::*;

use kapok::framework::{Framework, SourceFile, Text, check};
use kapok::{Panel, evaluate};

use super::util::{Csv, kapok, root, small_framework, tempdir, texts};

// ---------------------------------------------------------------------------------------------
// COINr: global min-max over the imputed ASEM panel, then arithmetic aggregation and ranks.

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn num(s: &str) -> f64 {
    if s.is_empty() || s == "NA" || s == "NaN" {
        f64::NAN
    } else {
        s.parse().unwrap()
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/coinr-panel").join(name)
}

/// COINr's imputed panel imported with `kapok import coinr`, without denominators (COINr's
/// panel case denominates nothing), normalised with `over` as given.
fn coinr_panel(dir: &Path, normalize: &str) -> Framework {
    let data = fixture("panel_holes_imputed_latest_mt2.csv");
    let meta = root().join("data/coinr-asem/iMeta.csv");
    let out = kapok(&[
        "import",
        "coinr",
        data.to_str().unwrap(),
        meta.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--name",
        "panel",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let path = dir.join("panel.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("period = \"Time\""), "{text}");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("denominator = "))
        .map(|l| {
            if l.starts_with("normalize = ") {
                format!("normalize = {normalize}\n")
            } else if l.starts_with("impute = ") {
                "impute = \"none\"\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    kapok::load(&path).unwrap()
}

#[test]
fn global_minmax_over_the_panel_matches_coinr() {
    let dir = tempdir();
    let fw = coinr_panel(
        dir.path(),
        "{ method = \"minmax\", range = [0, 100], over = \"panel\" }",
    );
    assert!(fw.comparable_across_periods());
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    assert_eq!(panel.periods, ["2018", "2019", "2020", "2021", "2022"]);
    let r = evaluate(&fw, panel).unwrap();
    // No value lies outside panel-wide bounds.
    assert!(r.outside.is_empty());
    let mut compared = [0usize; 3];
    for (k, name) in [
        "panel_holes_imp_latest_mt2_normglobal_normalised.csv",
        "panel_holes_imp_latest_mt2_normglobal_aggregated.csv",
    ]
    .iter()
    .enumerate()
    {
        let csv = Csv::read(&fixture(name));
        let (cu, ct) = (csv.col("uCode"), csv.col("Time"));
        for row in &csv.rows {
            let u = r.panel.units.iter().position(|x| *x == row[cu]).unwrap();
            let p = r.panel.period_index(&row[ct]).unwrap();
            for (c, h) in csv.header.iter().enumerate().skip(2) {
                let node = fw
                    .node_by_id(&kapok::import::coinr::to_id(h))
                    .unwrap_or_else(|| panic!("{name}: no node for column {h}"));
                let (got, want) = (r.scores[[p, u, node]], num(&row[c]));
                assert!(
                    close(got, want),
                    "{name}: {} {} {h}: kapok {got} vs COINr {want}",
                    row[cu],
                    row[ct]
                );
                compared[k] += 1;
            }
        }
    }
    let csv = Csv::read(&fixture(
        "panel_holes_imp_latest_mt2_normglobal_index_rank.csv",
    ));
    let (cu, ct, ci, cr) = (
        csv.col("uCode"),
        csv.col("Time"),
        csv.col("Index"),
        csv.col("Rank"),
    );
    for row in &csv.rows {
        let u = r.panel.units.iter().position(|x| *x == row[cu]).unwrap();
        let p = r.panel.period_index(&row[ct]).unwrap();
        assert!(close(r.scores[[p, u, 0]], num(&row[ci])), "{row:?}");
        assert_eq!(r.rank(p, u, 0) as f64, num(&row[cr]), "{row:?}");
        compared[2] += 1;
    }
    // 51 units × 5 years; 49 indicators; every indicator and aggregate column.
    assert_eq!(compared[0], 255 * 49);
    assert!(compared[1] > compared[0]);
    assert_eq!(compared[2], 255);
}

#[test]
fn per_period_minmax_differs_from_coinrs_global_one() {
    // The same panel normalised per year is not COINr's global result: the golden test above
    // would fail if kapok ignored `over`.
    let dir = tempdir();
    let fw = coinr_panel(dir.path(), "{ method = \"minmax\", range = [0, 100] }");
    assert!(!fw.comparable_across_periods());
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    let r = evaluate(&fw, panel).unwrap();
    let csv = Csv::read(&fixture(
        "panel_holes_imp_latest_mt2_normglobal_index_rank.csv",
    ));
    let (cu, ct, ci) = (csv.col("uCode"), csv.col("Time"), csv.col("Index"));
    let differ = csv
        .rows
        .iter()
        .filter(|row| {
            let u = r.panel.units.iter().position(|x| *x == row[cu]).unwrap();
            let p = r.panel.period_index(&row[ct]).unwrap();
            !close(r.scores[[p, u, 0]], num(&row[ci]))
        })
        .count();
    assert!(differ > 200, "{differ}");
}

// ---------------------------------------------------------------------------------------------
// The command line: a base month by hand, --save-bounds and bounds = file, bad input.

fn score(fw: &Path, extra: &[&str]) -> (Csv, String) {
    let out_dir = tempdir();
    let out = out_dir.path().join("s.csv");
    let mut args = vec!["score", fw.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = kapok(&args);
    let err = texts(&run).1;
    assert_eq!(run.status.code(), Some(0), "{err}");
    (Csv::read(&out), err)
}

fn value(csv: &Csv, unit: &str, period: &str, col: &str) -> f64 {
    let (cu, cp, c) = (csv.col("unit"), csv.col("period"), csv.col(col));
    let row = csv
        .rows
        .iter()
        .find(|r| r[cu] == unit && r[cp] == period)
        .unwrap_or_else(|| panic!("no row {unit} {period}"));
    num(&row[c])
}

#[test]
fn a_base_month_scores_later_months_on_its_scale_capped_or_extended() {
    let dir = tempdir();
    let fw = small_framework(dir.path(), "arithmetic");
    // rate = cases / population · 1000: 2023-01 10, 15, 20/3; 2023-02 12, 14, 25/3.
    // level (lower is better): 2023-01 5, 7, 6; 2023-02 5, 8, 4.
    let (capped, err) = score(&fw, &["--set", "normalize.over=2023-01"]);
    let want_rate = [
        (16.0 / 3.0) / (25.0 / 3.0),
        (22.0 / 3.0) / (25.0 / 3.0),
        5.0 / 25.0,
    ];
    for (u, w) in ["1", "2", "3"].iter().zip(want_rate) {
        assert!(close(value(&capped, u, "2023-02", "score.rate"), w * 100.0));
    }
    // level: x·dir of the base −7..−5; 8 (−8) is worse than the worst, 4 (−4) better than the best.
    let level = |csv: &Csv, u| value(csv, u, "2023-02", "score.level");
    assert_eq!(
        [
            level(&capped, "1"),
            level(&capped, "2"),
            level(&capped, "3")
        ],
        [100.0, 0.0, 100.0]
    );
    assert!(
        err.contains("2 value(s) of 1 indicator(s) beyond their base or frozen normalisation bounds, scored by each indicator's `outside` rule: `level` 2 in 2023-02 (capped)"),
        "{err}"
    );
    // The base month itself is normalised as if alone.
    assert_eq!(value(&capped, "2", "2023-01", "score.level"), 0.0);
    let (extended, err) = score(
        &fw,
        &[
            "--normalize",
            "{ method = \"minmax\", range = [0, 100], over = \"2023-01\", outside = \"extend\" }",
        ],
    );
    assert_eq!(
        [
            level(&extended, "1"),
            level(&extended, "2"),
            level(&extended, "3")
        ],
        [100.0, -50.0, 150.0]
    );
    assert!(err.contains("`level` 2 in 2023-02 (extended)"), "{err}");
    // Over the panel (both months), nothing is outside: level −8..−4.
    let (panel, err) = score(&fw, &["--set", "normalize.over=panel"]);
    assert_eq!(level(&panel, "2"), 0.0);
    assert!(close(value(&panel, "2", "2023-01", "score.level"), 25.0));
    assert!(!err.contains("beyond"), "{err}");
}

#[test]
fn saved_bounds_read_back_reproduce_the_scores_exactly() {
    let dir = tempdir();
    let bounds = dir.path().join("bounds.csv");
    let sample = root().join("indicators/hongmian.toml");
    let a = dir.path().join("a.csv");
    let run = kapok(&[
        "score",
        sample.to_str().unwrap(),
        "-o",
        a.to_str().unwrap(),
        "--save-bounds",
        bounds.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let text = std::fs::read_to_string(&bounds).unwrap();
    assert!(text.starts_with("indicator,method,direction,over,periods,n,min,max,mean,sd\n"));
    // Goalposts indicators (telecom_fraud_yoy, …) need no bounds.
    assert!(!text.contains("telecom_fraud_yoy"), "{text}");
    assert!(
        text.contains(",minmax,lower,2022,2022-01..2022-12,"),
        "{text}"
    );
    // The same scores, bit for bit, from the frozen file (given on the command line, so relative
    // to the current directory: here absolute).
    let b = dir.path().join("b.csv");
    let spec = format!(
        "{{ method = \"minmax\", range = [0, 100], bounds = {:?}, outside = \"extend\" }}",
        bounds.to_str().unwrap()
    );
    let run = kapok(&[
        "score",
        sample.to_str().unwrap(),
        "-o",
        b.to_str().unwrap(),
        "--normalize",
        &spec,
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());

    // Per-period bounds of one month, frozen, give that month's scores again.
    let run = kapok(&[
        "score",
        sample.to_str().unwrap(),
        "--set",
        "normalize.over=period",
        "--period",
        "2023-06",
        "-o",
        a.to_str().unwrap(),
        "--save-bounds",
        bounds.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let run = kapok(&[
        "score",
        sample.to_str().unwrap(),
        "--normalize",
        &spec,
        "--period",
        "2023-06",
        "-o",
        b.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    // The month's scores and ranks are the same; only the columns comparing it with other
    // months differ: the other months are scored on their own bounds in one run and on the
    // frozen ones in the other, and per-period scores leave score changes empty (and trend on
    // ranks) where frozen ones fill them.
    let over_time = |h: &str| {
        [
            "change.",
            "yoy.",
            "rolling.",
            "trend.",
            "rank_change.",
            "rank_yoy.",
        ]
        .iter()
        .any(|p| h.starts_with(p))
    };
    let (ca, cb) = (Csv::read(&a), Csv::read(&b));
    assert_eq!(ca.header, cb.header);
    assert_eq!(ca.rows.len(), cb.rows.len());
    let mut compared = 0;
    for (c, h) in ca.header.iter().enumerate().filter(|(_, h)| !over_time(h)) {
        for (ra, rb) in ca.rows.iter().zip(&cb.rows) {
            assert_eq!(ra[c], rb[c], "column {h}");
            compared += 1;
        }
    }
    assert!(compared > 11 * 60, "{compared}");
}

#[test]
fn the_report_bundle_holds_the_bounds_and_lists_a_frozen_file_as_input() {
    let dir = tempdir();
    let fw = small_framework(dir.path(), "arithmetic");
    let out = dir.path().join("r");
    let run = kapok(&[
        "report",
        fw.to_str().unwrap(),
        "--set",
        "normalize.over=2023-01",
        "-o",
        out.to_str().unwrap(),
        "--svg",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let bounds = std::fs::read_to_string(out.join("bounds.csv")).unwrap();
    // rate in the base month: 20/3 .. 15; level 5 .. 7 (own units, whatever the direction).
    assert!(
        bounds.contains("\nlevel,minmax,lower,2023-01,2023-01,3,5.0,7.0,6.0,1.0\n"),
        "{bounds}"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"bounds.csv\""), "{manifest}");
    // Its period notes say how many values were capped.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("超出标准化基准范围"), "no outside note");

    // Frozen from that file (relative to the framework): the same scores, and the file is an input.
    std::fs::copy(out.join("bounds.csv"), dir.path().join("frozen.csv")).unwrap();
    let text = std::fs::read_to_string(&fw).unwrap().replace(
        "aggregate = \"arithmetic\"",
        "aggregate = \"arithmetic\"\nnormalize = { method = \"minmax\", bounds = \"frozen.csv\" }",
    );
    std::fs::write(&fw, text).unwrap();
    let out2 = dir.path().join("r2");
    let run = kapok(&[
        "report",
        fw.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--svg",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let manifest = std::fs::read_to_string(out2.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"role\": \"bounds\""), "{manifest}");
    assert!(manifest.contains("frozen.csv"), "{manifest}");
    assert_eq!(
        std::fs::read(out.join("results.parquet")).unwrap(),
        std::fs::read(out2.join("results.parquet")).unwrap(),
    );
}

#[test]
fn per_period_scores_are_said_to_compare_within_a_period_only() {
    let dir = tempdir();
    let fw = small_framework(dir.path(), "arithmetic");
    for (extra, said) in [(None, true), (Some("normalize.over=panel"), false)] {
        let out = dir.path().join(format!("r{said}"));
        let mut args = vec![
            "report",
            fw.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--svg",
            "--lang",
            "en",
        ];
        if let Some(e) = extra {
            args.extend(["--set", e]);
        }
        let run = kapok(&args);
        assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert_eq!(
            html.contains("they compare units within a period only"),
            said
        );
    }
}

/// Runs `kapok score` on the small framework with the `[defaults]` normalisation `norm` and
/// returns the exit code and standard error.
fn fails(norm: &str, extra: &[&str]) -> (Option<i32>, String) {
    let (code, _, err) = run_small("score", norm, extra);
    (code, err)
}

/// Runs `command` (`score`, `check`) on the small framework with the default normalisation
/// `norm`, beside the bounds files `b.csv` (a row for `levle`, not `level`), `bad.csv` (a word
/// for a number) and `good.csv`. Returns the exit code, standard output and standard error.
fn run_small(command: &str, norm: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempdir();
    let fw = small_framework(dir.path(), "arithmetic");
    let text = std::fs::read_to_string(&fw).unwrap().replace(
        "aggregate = \"arithmetic\"",
        &format!("aggregate = \"arithmetic\"\nnormalize = {norm}"),
    );
    std::fs::write(&fw, text).unwrap();
    std::fs::write(
        dir.path().join("b.csv"),
        "indicator,method,direction,over,periods,n,min,max,mean,sd\nrate,minmax,higher,2023-01,2023-01,3,6.5,15,10,4\nlevle,minmax,lower,2023-01,2023-01,3,5,7,6,1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        "indicator,method,direction,over,periods,n,min,max,mean,sd\nrate,minmax,higher,2023-01,2023-01,3,6.5,fifteen,10,4\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("good.csv"),
        "indicator,method,direction,over,periods,n,min,max,mean,sd\nrate,minmax,higher,2023-01,2023-01,3,6.5,15,10,4\nlevel,minmax,lower,2023-01,2023-01,3,5,7,6,1\n",
    )
    .unwrap();
    let mut args = vec![command, fw.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = kapok(&args);
    let (out, err) = texts(&run);
    (run.status.code(), out, err)
}

#[test]
fn bad_references_are_framework_errors_with_their_place() {
    for (norm, want) in [
        (
            "{ method = \"minmax\", over = \"panle\" }",
            "did you mean `panel`?",
        ),
        (
            "{ method = \"minmax\", over = \"2023-13\" }",
            "`2023-13` is not a period",
        ),
        (
            "{ method = \"minmax\", over = \"2023-06..2023-01\" }",
            "ends (2023-01) before it starts",
        ),
        (
            "{ method = \"minmax\", over = \"2023\", outside = \"clip\" }",
            "`outside` must be \"cap\" or \"extend\"",
        ),
        (
            "{ method = \"minmax\", over = \"2023\", bounds = \"b.csv\" }",
            "`bounds` and `over` cannot be used together",
        ),
        (
            "{ method = \"prank\", over = \"2023\" }",
            "method `prank` cannot take this reference",
        ),
        (
            "{ method = \"rank\", bounds = \"b.csv\" }",
            "method `rank` cannot take this reference",
        ),
        (
            "{ method = \"scaled\", a = 0, b = 1, over = \"panel\" }",
            "comparable across periods already",
        ),
    ] {
        let (code, err) = fails(norm, &[]);
        assert_eq!(code, Some(2), "{norm}: {err}");
        assert!(err.contains(want), "{norm}: {err}");
        assert!(err.contains("f.toml:"), "{norm}: no place in {err}");
    }
    // The same checks on the command line.
    let (code, err) = fails("\"minmax\"", &["--set", "normalize.over=panle"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("did you mean `panel`?"), "{err}");
}

#[test]
fn bad_bounds_and_bases_are_data_errors_naming_what_is_wrong() {
    for (norm, want) in [
        (
            "{ method = \"minmax\", over = \"2022\" }",
            "indicator `rate`: the base of its normalisation (over = \"2022\") matches no period of the data, which have the periods 2023-01..2023-02",
        ),
        (
            "{ method = \"minmax\", bounds = \"missing.csv\" }",
            "missing.csv",
        ),
        (
            "{ method = \"minmax\", bounds = \"b.csv\" }",
            "no row for indicator `level` (did you mean `levle`?)",
        ),
        (
            "{ method = \"minmax\", bounds = \"bad.csv\" }",
            "bad.csv, line 2: `max` = `fifteen` is not a number",
        ),
    ] {
        let (code, err) = fails(norm, &[]);
        assert_eq!(code, Some(1), "{norm}: {err}");
        assert!(err.contains(want), "{norm}: {err}");
        // `kapok check` reads a frozen bounds file before any run, even without data.
        if norm.contains("bounds") {
            let (code, _, err) = run_small("check", norm, &["--no-data"]);
            assert_eq!(code, Some(1), "check {norm}: {err}");
            assert!(err.contains(want), "check {norm}: {err}");
        }
    }
    let (code, out, err) = run_small(
        "check",
        "{ method = \"minmax\", bounds = \"good.csv\" }",
        &["--no-data"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("frozen bounds: 1 file(s)"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Appending a period never changes an earlier period's output under base or frozen bounds.

const PROP_TOML: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }
[units]
key = "code"
period = "month"
[defaults]
treat = { method = "winsorise", winmax = 1 }
normalize = NORM
[[source]]
name = "d"
path = "d.csv"
[[dimension]]
id = "a"
name = { zh = "甲", en = "A" }
[[indicator]]
id = "x1"
name = { zh = "x1", en = "x1" }
parent = "a"
direction = "higher"
[[indicator]]
id = "x2"
name = { zh = "x2", en = "x2" }
parent = "a"
direction = "lower"
[[indicator]]
id = "x3"
name = { zh = "x3", en = "x3" }
parent = "idx"
direction = "higher"
"#;

fn prop_framework(norm: &str) -> Framework {
    check(
        SourceFile::new("prop.toml", PROP_TOML.replace("NORM", norm)),
        Path::new("."),
    )
    .unwrap()
}

const MONTHS: [&str; 5] = ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05"];

/// A panel of `values[period][unit][indicator]`.
fn prop_panel(fw: &Framework, values: &[Vec<[f64; 3]>]) -> Panel {
    let (np, nu) = (values.len(), values[0].len());
    let mut v = Array3::from_elem((np, nu, 3), f64::NAN);
    for (p, rows) in values.iter().enumerate() {
        for (u, row) in rows.iter().enumerate() {
            for j in 0..3 {
                v[[p, u, j]] = row[j];
            }
        }
    }
    Panel {
        units: (0..nu).map(|u| format!("u{u}")).collect(),
        names: (0..nu).map(|u| Text::same(format!("unit {u}"))).collect(),
        groups: None,
        group_names: None,
        periods: MONTHS[..np].iter().map(|s| s.to_string()).collect(),
        indicators: fw.indicators(),
        values: v,
        present: Array2::from_elem((np, nu), true),
        ranked: None,
    }
}

/// Scores and ranks of the first `np` periods, as bits.
fn outputs(r: &kapok::Results, np: usize) -> Vec<(u64, u32)> {
    let (_, nu, nn) = r.scores.dim();
    let mut out = Vec::new();
    for p in 0..np {
        for u in 0..nu {
            for n in 0..nn {
                out.push((r.scores[[p, u, n]].to_bits(), r.rank(p, u, n)));
            }
        }
    }
    out
}

fn months_of_values(units: usize) -> impl Strategy<Value = Vec<Vec<[f64; 3]>>> {
    prop::collection::vec(
        prop::collection::vec(prop::array::uniform3(1.0f64..100.0), units),
        4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn appending_a_month_changes_no_earlier_month_under_base_or_frozen_bounds(
        vals in (4usize..9).prop_flat_map(months_of_values),
        method in prop::sample::select(vec!["minmax", "zscore", "dist2max"]),
        outside in prop::sample::select(vec!["cap", "extend"]),
    ) {
        // Base: the first two months; the fourth month is the one appended.
        let base = prop_framework(&format!(
            "{{ method = \"{method}\", over = \"2022-01..2022-02\", outside = \"{outside}\" }}"
        ));
        let before = evaluate(&base, prop_panel(&base, &vals[..3])).unwrap();
        let after = evaluate(&base, prop_panel(&base, &vals)).unwrap();
        prop_assert_eq!(outputs(&before, 3), outputs(&after, 3));

        // Frozen: the bounds of the first run, written and read back.
        let dir = tempdir();
        let file = dir.path().join("b.csv");
        kapok::bounds::write(&file, &kapok::bounds::rows(&base, &before, 2).unwrap()).unwrap();
        let frozen = prop_framework(&format!(
            "{{ method = \"{method}\", bounds = {:?}, outside = \"{outside}\" }}",
            file.to_str().unwrap()
        ));
        let f3 = evaluate(&frozen, prop_panel(&frozen, &vals[..3])).unwrap();
        let f4 = evaluate(&frozen, prop_panel(&frozen, &vals)).unwrap();
        prop_assert_eq!(outputs(&f3, 3), outputs(&f4, 3));
        // …and frozen bounds reproduce the base run exactly.
        prop_assert_eq!(outputs(&before, 3), outputs(&f3, 3));
    }

    #[test]
    fn appending_a_month_that_moves_panel_bounds_changes_earlier_months(
        vals in (4usize..9).prop_flat_map(months_of_values),
    ) {
        // The proof that the property above can fail: over the panel, a new month with a value
        // beyond every earlier one moves the bounds and so every earlier score of x1.
        // No outlier treatment here, so that the new value stays as it is.
        let text = PROP_TOML
            .replace("NORM", "{ method = \"minmax\", over = \"panel\" }")
            .replace("treat = { method = \"winsorise\", winmax = 1 }", "treat = \"none\"");
        let fw = check(SourceFile::new("prop.toml", text), Path::new(".")).unwrap();
        let mut vals = vals;
        vals[3][0][0] = 1000.0;
        let before = evaluate(&fw, prop_panel(&fw, &vals[..3])).unwrap();
        let after = evaluate(&fw, prop_panel(&fw, &vals)).unwrap();
        prop_assert_ne!(outputs(&before, 3), outputs(&after, 3));
    }
}

#[test]
fn an_indicator_without_values_in_its_base_is_an_error_naming_it() {
    let fw = prop_framework("{ method = \"minmax\", over = \"2022-01\" }");
    let mut vals = vec![vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]; 2];
    for row in &mut vals[0] {
        row[1] = f64::NAN;
    }
    let e = evaluate(&fw, prop_panel(&fw, &vals)).unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string()
            .contains("indicator `x2` has no value in the base of its normalisation (2022-01)"),
        "{e}"
    );
}

#[test]
fn the_sample_scores_every_indicator_against_its_2022_range() {
    // Computed from the raw values kapok writes (the districts are neither screened, imputed
    // nor treated): for each indicator normalised over the base year 2022, min and max of
    // raw · direction over 2022, then min-max to [0, 100] on the same line beyond them
    // (outside = "extend"). (Winsorised indicators are left out: they are scored from treated
    // values.)
    let path = root().join("indicators/hongmian.toml");
    let fw = kapok::load(&path).unwrap();
    let (csv, _) = score(&path, &[]);
    let cp = csv.col("period");
    let (mut checked, mut beyond) = (0, 0);
    for node in fw.indicators() {
        let spec = fw.nodes[node].indicator().unwrap();
        let norm = fw.normalise_of(spec);
        let kapok::framework::Over::Base { first, last } = &norm.over else {
            continue;
        };
        assert_eq!((first.as_str(), last.as_str()), ("2022", "2022"));
        // Winsorised indicators are scored from treated values, which the output does not hold.
        if fw.treat_of(spec) != kapok::pipeline::Treat::None {
            continue;
        }
        assert_eq!(norm.outside, kapok::framework::Outside::Extend);
        let id = &fw.nodes[node].id;
        let (cr, cs) = (
            csv.col(&format!("raw.{id}")),
            csv.col(&format!("score.{id}")),
        );
        let sign = if spec.direction == kapok::pipeline::Direction::Lower {
            -1.0
        } else {
            1.0
        };
        let base: Vec<f64> = csv
            .rows
            .iter()
            .filter(|r| r[cp].starts_with("2022-"))
            .map(|r| num(&r[cr]) * sign)
            .filter(|v| !v.is_nan())
            .collect();
        let lo = base.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = base.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for r in &csv.rows {
            let x = num(&r[cr]) * sign;
            let want = (x - lo) / (hi - lo) * 100.0;
            assert!(
                close(num(&r[cs]), want),
                "{id} {}: {} vs {want}",
                r[cp],
                r[cs]
            );
            checked += 1;
            beyond += usize::from(!want.is_nan() && !(0.0..=100.0).contains(&want));
        }
    }
    // Every indicator but the goalposts and winsorised ones, over 24 months and 11 districts.
    assert!(checked >= 15 * 24 * 11, "{checked}");
    // Some 2023 values lie beyond the 2022 range, and are scored beyond [0, 100].
    assert!(beyond > 0);
}

#[test]
fn on_goalposts_outside_is_their_cap() {
    let text = |norm: &str| {
        format!(
            "[index]\nid = \"i\"\nname = \"I\"\n[units]\nkey = \"k\"\n[[source]]\nname = \"t\"\npath = \"t.csv\"\n[[indicator]]\nid = \"x\"\nname = \"X\"\ndirection = \"higher\"\nnormalize = {norm}\n"
        )
    };
    let spec = |norm: &str| {
        let fw = check(SourceFile::new("g.toml", text(norm)), Path::new(".")).unwrap();
        fw.normalise_of(fw.nodes[1].indicator().unwrap())
    };
    let cap_of = |m: &kapok::pipeline::Normalise| match m {
        kapok::pipeline::Normalise::Goalposts { cap, .. } => *cap,
        _ => panic!("{m:?}"),
    };
    let extend = spec("{ method = \"goalposts\", min = 0, max = 10, outside = \"extend\" }");
    assert!(!cap_of(&extend.method));
    assert_eq!(extend.outside, kapok::framework::Outside::Extend);
    let capped = spec("{ method = \"goalposts\", min = 0, max = 10 }");
    assert!(cap_of(&capped.method));
    assert_eq!(capped.outside, kapok::framework::Outside::Cap);
    let both = check(
        SourceFile::new(
            "g.toml",
            text("{ method = \"goalposts\", min = 0, max = 10, cap = true, outside = \"extend\" }"),
        ),
        Path::new("."),
    )
    .unwrap_err()
    .render();
    assert!(
        both.contains("`outside` and `cap` say the same thing"),
        "{both}"
    );
    let over = check(
        SourceFile::new(
            "g.toml",
            text("{ method = \"goalposts\", min = 0, max = 10, over = \"panel\" }"),
        ),
        Path::new("."),
    )
    .unwrap_err()
    .render();
    assert!(over.contains("comparable across periods already"), "{over}");
    assert!(over.contains("g.toml:"), "{over}");
}
