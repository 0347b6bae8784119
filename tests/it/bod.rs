//! Benefit of the doubt (`aggregate = "bod"`, `--aggregate bod`) through the CLI.

use std::collections::BTreeMap;
use std::path::Path;

use super::util::{Csv, kapok, tempdir, texts};

/// Two indicators, no normalisation (scores are the values), one dimension `d` under the index.
const FRAMEWORK: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"

[defaults]
normalize = "none"

[[source]]
name = "data"
path = "data.csv"

[[dimension]]
id = "d"
name = { zh = "维", en = "D" }

[[indicator]]
id = "x"
name = { zh = "甲", en = "X" }
parent = "d"
direction = "higher"
expr = "x"

[[indicator]]
id = "y"
name = { zh = "乙", en = "Y" }
parent = "d"
direction = "higher"
expr = "y"
"#;

/// The frontier is A, B, C; D = (2, 2) is two thirds of B; E = (3, 1) scores 7/9 on the edge
/// between C and B (the hand computation is in `src/pipeline/bod.rs`).
const DATA: &str = "code,x,y\nA,1,4\nB,3,3\nC,4,1\nD,2,2\nE,3,1\n";

fn setup(dir: &Path, data: &str) -> String {
    std::fs::write(dir.join("f.toml"), FRAMEWORK).unwrap();
    std::fs::write(dir.join("data.csv"), data).unwrap();
    dir.join("f.toml").to_string_lossy().into_owned()
}

/// `kapok score` → `{unit: {column: value}}`, or the exit code and error.
fn score(
    fw: &str,
    extra: &[&str],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, (i32, String)> {
    let dir = tempdir();
    let out = dir.path().join("out.csv");
    let mut args = vec!["score", fw, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = kapok(&args);
    let (_, err) = texts(&run);
    if run.status.code() != Some(0) {
        return Err((run.status.code().unwrap_or(-1), err));
    }
    let csv = Csv::read(&out);
    Ok(csv
        .rows
        .iter()
        .map(|row| {
            let cells = csv
                .header
                .iter()
                .cloned()
                .zip(row.iter().cloned())
                .collect();
            (row[0].clone(), cells)
        })
        .collect())
}

fn values(t: &BTreeMap<String, BTreeMap<String, String>>, col: &str) -> Vec<f64> {
    t.values().map(|r| r[col].parse::<f64>().unwrap()).collect()
}

fn near(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

#[test]
fn bod_by_hand_through_the_cli() {
    let dir = tempdir();
    let fw = setup(dir.path(), DATA);
    let want = [1.0, 1.0, 1.0, 2.0 / 3.0, 7.0 / 9.0];
    // Every node: the index has one child, so it is d over its best value (1): d itself.
    let all = score(&fw, &["--aggregate", "bod"]).unwrap();
    near(&values(&all, "score.d"), &want);
    near(&values(&all, "score.idx"), &want);
    // One node, and the same written in the framework.
    let one = score(&fw, &["--aggregate", "d=bod"]).unwrap();
    near(&values(&one, "score.d"), &want);
    let text = FRAMEWORK.replace(
        "name = { zh = \"维\", en = \"D\" }",
        "name = { zh = \"维\", en = \"D\" }\naggregate = \"bod\"",
    );
    std::fs::write(dir.path().join("g.toml"), text).unwrap();
    let own = score(dir.path().join("g.toml").to_str().unwrap(), &[]).unwrap();
    assert_eq!(own, one);
    // Shares bounded to ½ each (the hand computation in the library's tests).
    let half = score(
        &fw,
        &[
            "--aggregate",
            "d={ method = \"bod\", lower = 0.5, upper = 0.5 }",
        ],
    )
    .unwrap();
    near(
        &values(&half, "score.d"),
        &[8.0 / 17.0, 1.0, 8.0 / 17.0, 2.0 / 3.0, 6.0 / 13.0],
    );
    // Units-invariant: x in thousandths gives the same scores.
    let milli = tempdir();
    let fw_milli = setup(
        milli.path(),
        "code,x,y\nA,1000,4\nB,3000,3\nC,4000,1\nD,2000,2\nE,3000,1\n",
    );
    near(
        &values(
            &score(&fw_milli, &["--aggregate", "d=bod"]).unwrap(),
            "score.d",
        ),
        &want,
    );
}

#[test]
fn bod_errors_name_the_unit_and_the_child() {
    let dir = tempdir();
    let fw = setup(dir.path(), DATA);
    // z-scores are negative for some units.
    let (code, err) = score(&fw, &["--normalize", "zscore", "--aggregate", "d=bod"]).unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("aggregating `d`") && err.contains("unit A") && err.contains("child `x`"),
        "{err}"
    );
    assert!(
        err.contains("benefit of the doubt needs scores ≥ 0"),
        "{err}"
    );
    // Shares of two children cannot all be at least 0.6.
    let (code, err) =
        score(&fw, &["--aggregate", "{ method = \"bod\", lower = 0.6 }"]).unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("needs lower × 2 ≤ 1 ≤ upper × 2"), "{err}");
    // A parameter bod does not take is a usage error.
    let (code, err) = score(
        &fw,
        &["--aggregate", "{ method = \"bod\", min_share = 0.5 }"],
    )
    .unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`bod` takes no `min_share`"), "{err}");
}

/// `kapok audit` writes each unit's shares under its most favourable weights (`bod_shares`),
/// only when a node is aggregated by `bod`.
#[test]
fn audit_writes_the_shares() {
    let dir = tempdir();
    let fw = setup(dir.path(), DATA);
    let out = dir.path().join("audit");
    let run = kapok(&[
        "audit",
        &fw,
        "--aggregate",
        "d=bod",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let t = Csv::read(&out.join("bod_shares.csv"));
    assert_eq!(t.header, ["id", "unit", "child", "share"]);
    assert_eq!(t.rows.len(), 10, "five units × two children");
    let share = |unit: &str, child: &str| -> f64 {
        let row = t
            .rows
            .iter()
            .find(|r| r[1] == unit && r[2] == child)
            .unwrap();
        assert_eq!(row[0], "d");
        row[3].parse().unwrap()
    };
    // E = (3, 1) at w = (2/9, 1/9): 6/9 and 1/9 of 7/9.
    assert!((share("E", "x") - 6.0 / 7.0).abs() < 1e-12);
    assert!((share("E", "y") - 1.0 / 7.0).abs() < 1e-12);
    for u in ["A", "B", "C", "D", "E"] {
        assert!((share(u, "x") + share(u, "y") - 1.0).abs() < 1e-12, "{u}");
    }
    let plain = dir.path().join("plain");
    let run = kapok(&["audit", &fw, "-o", plain.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    assert!(plain.join("removal.csv").exists() && !plain.join("bod_shares.csv").exists());
}
