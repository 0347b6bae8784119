//! Golden results of both sample frameworks. `KAPOK_BLESS=1` rewrites them.

use super::util::{Csv, bless, kapok, root, tempdir, texts};

fn close(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

fn golden(framework: &str, extra: &[&str], name: &str) {
    let dir = tempdir();
    let out = dir.path().join("out.csv");
    let mut args = vec!["score", framework, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = kapok(&args);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let path = root().join("tests/golden").join(name);
    if bless() {
        std::fs::copy(&out, &path).unwrap();
        return;
    }
    assert!(
        path.exists(),
        "missing golden file {name}; run with KAPOK_BLESS=1 to create it"
    );
    let (got, want) = (Csv::read(&out), Csv::read(&path));
    assert_eq!(got.header, want.header, "{name}: columns");
    assert_eq!(got.rows.len(), want.rows.len(), "{name}: rows");
    for (r, (g, w)) in got.rows.iter().zip(&want.rows).enumerate() {
        for (c, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                close(a, b),
                "{name}: row {} column {}: {a} vs {b}",
                r + 1,
                got.header[c]
            );
        }
    }
}

// The golden results are normalised per period (`over = "period"`, kapok's default), whatever
// reference the sample frameworks declare: their base-year scores are checked against values
// computed independently in `reference.rs`.
#[test]
fn district_index_matches_its_golden_results() {
    golden(
        "indicators/hongmian.toml",
        &["--set", "normalize.over=period"],
        "hongmian.csv",
    );
}

#[test]
fn street_index_matches_its_golden_results() {
    golden(
        "indicators/hongmian-streets.toml",
        &["--period", "2023-12", "--set", "normalize.over=period"],
        "hongmian-streets-2023-12.csv",
    );
}
