//! The `[uncertainty]` table end to end: what the samples declare is what `kapok robustness`
//! runs, and every run of it succeeds.

use super::util::{Csv, kapok, tempdir, texts};

/// The nominal dimension weights of both samples, as written in their files.
const DIMENSIONS: [(&str, f64); 7] = [
    ("public_safety", 2.0),
    ("personal_safety", 1.5),
    ("dispute_resolution", 1.0),
    ("copolicing", 1.0),
    ("emergency", 1.0),
    ("hotline", 1.0),
    ("sense_of_safety", 1.5),
];

/// The normalisations and exclusions the samples declare.
const NORMALIZE: [&str; 2] = [
    "{ method = \"minmax\", range = [0, 100], over = \"2022\", outside = \"extend\" }",
    "{ method = \"zscore\", mean = 50, sd = 25, over = \"2022\" }",
];
const EXCLUDE: [&str; 3] = [
    "telecom_fraud_yoy",
    "fraud_loss_per_capita",
    "verified_clue_rate",
];

/// Runs `kapok robustness` on a sample with `extra` options; the run table.
fn runs(framework: &str, extra: &[&str]) -> Csv {
    let dir = tempdir();
    let out = dir.path().join("out");
    let mut args = vec!["robustness", framework, "-q", "-o", out.to_str().unwrap()];
    args.extend(extra);
    let o = kapok(&args);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{framework}: {err}");
    assert!(!err.contains("failed"), "{framework}: a run failed\n{err}");
    Csv::read(&out.join("runs.csv"))
}

/// Every run takes what the samples declare: dimension weights within ±25 % of their own, one
/// of the two normalisations, none or one of the three indicators; and none fails.
fn check_declared(t: &Csv, expected_runs: usize) {
    assert_eq!(t.rows.len(), expected_runs);
    // A run that fails has a message in an `error` column; there is none.
    assert!(!t.header.iter().any(|h| h == "error"), "{:?}", t.header);
    let (mut normalize, mut exclude) = (Vec::new(), Vec::new());
    for (i, r) in t.rows.iter().enumerate() {
        assert_eq!(r[t.col("run")], (i + 1).to_string());
        for (id, w) in DIMENSIONS {
            let x: f64 = r[t.col(&format!("weight:{id}"))].parse().unwrap();
            assert!(
                x >= 0.75 * w && x <= 1.25 * w,
                "run {}: weight of {id} {x}",
                i + 1
            );
        }
        let n = &r[t.col("normalize")];
        assert!(NORMALIZE.contains(&n.as_str()), "{n}");
        normalize.push(n.clone());
        let e = &r[t.col("exclude")];
        assert!(e.is_empty() || EXCLUDE.contains(&e.as_str()), "{e}");
        exclude.push(e.clone());
    }
    // No other input: the run table has exactly these columns.
    let mut want = vec!["run".to_string()];
    want.extend(DIMENSIONS.iter().map(|(id, _)| format!("weight:{id}")));
    want.extend(["normalize", "exclude"].map(String::from));
    assert_eq!(t.header, want);
    // Every choice is drawn, about equally often.
    for n in NORMALIZE {
        let k = normalize.iter().filter(|x| *x == n).count();
        assert!(k * 3 >= expected_runs, "{n}: {k} of {expected_runs}");
    }
    for e in EXCLUDE.iter().copied().chain([""]) {
        let k = exclude.iter().filter(|x| *x == e).count();
        assert!(k * 6 >= expected_runs, "`{e}`: {k} of {expected_runs}");
    }
}

#[test]
fn the_district_sample_runs_its_declared_thousand_runs_without_a_failure() {
    // No --runs: the framework's runs = 1000.
    check_declared(&runs("indicators/hongmian.toml", &[]), 1000);
}

#[test]
fn the_street_sample_runs_its_declaration_without_a_failure() {
    check_declared(
        &runs("indicators/hongmian-streets.toml", &["--runs", "64"]),
        64,
    );
}

#[test]
fn the_samples_check_with_their_declarations_and_no_warning() {
    for f in [
        "indicators/hongmian.toml",
        "indicators/hongmian-streets.toml",
    ] {
        let o = kapok(&["check", "--no-data", f]);
        let (out, err) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{f}: {err}");
        assert!(!err.contains("warning"), "{f}: {err}");
        assert!(
            out.contains("uncertainty: 3 input(s) (weights, normalize, exclude), 1000 run(s)"),
            "{f}: {out}"
        );
    }
}

#[test]
fn a_framework_mistake_in_uncertainty_stops_robustness_with_its_position() {
    let dir = tempdir();
    let f = dir.path().join("f.toml");
    let text = super::util::framework_text_anywhere("indicators/hongmian.toml")
        .replace("level = 1, noise = 0.25", "level = 1, noise = 25");
    std::fs::write(&f, &text).unwrap();
    let o = kapok(&["robustness", f.to_str().unwrap(), "-q"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = text.lines().position(|l| l.contains("noise = 25")).unwrap() + 1;
    let col = text.lines().nth(line - 1).unwrap().find("25").unwrap() + 1;
    assert!(err.contains(&format!("f.toml:{line}:{col}")), "{err}");
    assert!(err.contains("`noise` = 25 is invalid"), "{err}");
}
