//! Bad data: each case stops with exit code 1 and a message naming what to fix.

use super::util::{kapok, tempdir, texts};

use super::util::{SMALL_FRAMEWORK as FRAMEWORK, SMALL_MONTHLY as MONTHLY, SMALL_UNITS as UNITS};

/// Runs `kapok score` on the framework with the given tables; returns (exit code, stderr).
fn run(agg: &str, units: &str, monthly: &str) -> (i32, String) {
    let dir = tempdir();
    let fw = dir.path().join("f.toml");
    std::fs::write(&fw, FRAMEWORK.replace("AGG", agg)).unwrap();
    std::fs::write(dir.path().join("units.csv"), units).unwrap();
    if !monthly.is_empty() {
        std::fs::write(dir.path().join("monthly.csv"), monthly).unwrap();
    }
    let out = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "-o",
        dir.path().join("o.csv").to_str().unwrap(),
    ]);
    let code = out.status.code().unwrap();
    if code != 0 {
        assert!(
            !dir.path().join("o.csv").exists(),
            "no output is written on error"
        );
    }
    (code, texts(&out).1)
}

#[test]
fn the_small_framework_runs() {
    let (code, err) = run("arithmetic", UNITS, MONTHLY);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn duplicate_unit_in_a_period() {
    let monthly = format!("{MONTHLY}2,2023-02,1,1\n");
    let (code, err) = run("arithmetic", UNITS, &monthly);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `monthly`")
            && err.contains("`2` (period 2023-02) in line 6 and line 8"),
        "{err}"
    );
}

#[test]
fn units_that_do_not_match_between_sources() {
    let units = format!("{UNITS}4,丁,4000\n");
    let (code, err) = run("arithmetic", &units, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("do not have the same units") && err.contains("only in `units`: 4"),
        "{err}"
    );
}

#[test]
fn a_missing_unit_key() {
    let units = "code,name,population\n1,甲,1000\n,乙,2000\n3,丙,3000\n";
    let (code, err) = run("arithmetic", units, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `units`") && err.contains("no unit key") && err.contains(": 2"),
        "{err}"
    );
}

#[test]
fn a_missing_source_file() {
    let (code, err) = run("arithmetic", UNITS, "");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `monthly`")
            && err.contains("monthly.csv")
            && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn division_by_zero_names_indicator_unit_and_period() {
    let units = "code,name,population\n1,甲,1000\n2,乙,0\n3,丙,3000\n";
    let (code, err) = run("arithmetic", units, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`rate` = inf for unit 2, period 2023-01"),
        "{err}"
    );
    assert!(err.contains("nullif"), "{err}");
}

#[test]
fn zero_variance_names_indicator_and_period() {
    let monthly = MONTHLY
        .replace(",5\n", ",6\n")
        .replace(",7\n", ",6\n")
        .replace(",4\n", ",6\n")
        .replace(",8\n", ",6\n");
    let (code, err) = run("arithmetic", UNITS, &monthly);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("indicator `level`, period 2023-01") && err.contains("same value"),
        "{err}"
    );
}

#[test]
fn geometric_mean_of_a_zero_names_node_unit_period_and_child() {
    // minmax to [0, 100] gives the worst unit a 0, which a geometric mean cannot take.
    let (code, err) = run("geometric", UNITS, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("aggregating `d`, period 2023-01"), "{err}");
    assert!(
        err.contains("child `rate` = 0") || err.contains("child `level` = 0"),
        "{err}"
    );
    assert!(err.contains("unit "), "{err}");
}

#[test]
fn a_source_without_the_key_column_gets_a_hint() {
    let units = UNITS.replace("code,", "cod,");
    let (code, err) = run("arithmetic", &units, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no unit key column `code`") && err.contains("did you mean `cod`"),
        "{err}"
    );
}

#[test]
fn the_data_option_replaces_the_sources() {
    let dir = tempdir();
    let fw = dir.path().join("f.toml");
    std::fs::write(&fw, FRAMEWORK.replace("AGG", "arithmetic")).unwrap();
    let table = "code,name,month,cases,population,level\n1,甲,2023-01,10,1000,5\n2,乙,2023-01,30,2000,7\n3,丙,2023-01,20,3000,6\n";
    std::fs::write(dir.path().join("one.csv"), table).unwrap();
    let out = kapok(&[
        "rank",
        fw.to_str().unwrap(),
        "--data",
        dir.path().join("one.csv").to_str().unwrap(),
    ]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        stdout.contains("乙") && stdout.contains("2023-01"),
        "{stdout}"
    );
}

#[test]
fn distance_to_a_reference_unit_and_a_missing_reference() {
    let dir = tempdir();
    let fw = dir.path().join("f.toml");
    let text = FRAMEWORK.replace("AGG", "arithmetic").replace(
        "expr = \"level\"",
        "expr = \"level\"\nnormalize = { method = \"dist2ref\", reference = \"REF\" }",
    );
    std::fs::write(dir.path().join("units.csv"), UNITS).unwrap();
    std::fs::write(dir.path().join("monthly.csv"), MONTHLY).unwrap();
    // level is lower-is-better, so x = −level. 2023-01: levels 5, 7, 6 → x = −5, −7, −6.
    // Reference unit 1 (x_ref = −5), min −7: dist2ref = 1 − (x_ref − x)/(x_ref − min)
    // → unit 1: 1, unit 2: 0, unit 3: 1 − 1/2 = 0.5.
    std::fs::write(&fw, text.replace("REF", "1")).unwrap();
    let out = dir.path().join("o.csv");
    let run = kapok(&["score", fw.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let csv = super::util::Csv::read(&out);
    let (u, p, v) = (csv.col("unit"), csv.col("period"), csv.col("score.level"));
    let got: Vec<(String, f64)> = csv
        .rows
        .iter()
        .filter(|r| r[p] == "2023-01")
        .map(|r| (r[u].clone(), r[v].parse().unwrap()))
        .collect();
    assert_eq!(
        got,
        [("1".into(), 1.0), ("2".into(), 0.0), ("3".into(), 0.5)]
    );
    // Unit 2 has the worst level, so distances to it are undefined: refused.
    std::fs::write(&fw, text.replace("REF", "2")).unwrap();
    let run = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "-o",
        dir.path().join("p.csv").to_str().unwrap(),
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains("indicator `level`, period 2023-01: unit 2") && err.contains("worst value"),
        "{err}"
    );
    std::fs::write(&fw, text.replace("REF", "9")).unwrap();
    let run = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "-o",
        dir.path().join("q.csv").to_str().unwrap(),
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("reference unit `9`"), "{err}");
}

#[test]
fn a_word_in_a_number_column_is_named_by_line() {
    let units = UNITS.replace("2,乙,2000", "2,乙,n/a");
    let (code, err) = run("arithmetic", &units, MONTHLY);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `units`") && err.contains("column `population`"),
        "{err}"
    );
    assert!(err.contains("line 3 `n/a`"), "{err}");
}
