//! The results contract on the sample frameworks: rows, columns, ranks, no NaN.

use std::collections::BTreeMap;

use super::util::{Csv, kapok, tempdir, texts};

fn score(framework: &str, extra: &[&str]) -> Csv {
    let dir = tempdir();
    let out = dir.path().join("out.csv");
    let mut args = vec!["score", framework, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = kapok(&args);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    Csv::read(&out)
}

/// Ranks of one column per period are 1..n with ties sharing the lowest rank.
fn assert_ranks(csv: &Csv, score_col: &str, rank_col: &str, by: &[&str]) {
    let (s, r) = (csv.col(score_col), csv.col(rank_col));
    let keys: Vec<usize> = by.iter().map(|b| csv.col(b)).collect();
    let mut groups: BTreeMap<Vec<String>, Vec<(f64, u32)>> = BTreeMap::new();
    for row in &csv.rows {
        let k = keys.iter().map(|&i| row[i].clone()).collect();
        let v: f64 = row[s]
            .parse()
            .unwrap_or_else(|_| panic!("{score_col} `{}` is not a number", row[s]));
        assert!(v.is_finite());
        groups
            .entry(k)
            .or_default()
            .push((v, row[r].parse().unwrap()));
    }
    for (k, g) in groups {
        for &(v, rank) in &g {
            let better = g.iter().filter(|(w, _)| *w > v).count() as u32;
            assert_eq!(rank, better + 1, "{rank_col} in {k:?}");
        }
    }
}

#[test]
fn district_index_has_11_units_by_24_periods_and_the_column_contract() {
    let csv = score("indicators/hongmian.toml", &[]);
    assert_eq!(csv.rows.len(), 11 * 24);
    assert_eq!(&csv.header[..3], ["unit", "name", "period"]);
    assert!(!csv.header.contains(&"group".to_string()));
    let periods: std::collections::BTreeSet<_> = csv.rows.iter().map(|r| r[2].clone()).collect();
    assert_eq!(periods.len(), 24);
    assert_eq!(periods.first().unwrap(), "2022-01");
    assert_eq!(periods.last().unwrap(), "2023-12");
    for (i, h) in csv.header.iter().enumerate() {
        if h.starts_with("score.hongmian") || h.starts_with("rank.") {
            for row in &csv.rows {
                // Only indicators with no value in a whole period (a lag's first year) may be empty.
                if row[i].is_empty() {
                    assert!(h.contains("yoy"), "{h} is empty for {} {}", row[0], row[2]);
                }
                assert!(!row[i].contains("NaN") && !row[i].contains("inf"), "{h}");
            }
        }
        if let Some(id) = h.strip_prefix("score.") {
            assert!(
                csv.header.contains(&format!("rank.{id}")),
                "rank.{id} missing"
            );
        }
    }
    for h in [
        "score.hongmian",
        "score.public_safety",
        "score.theft_rate",
        "raw.theft_rate",
    ] {
        assert!(csv.header.contains(&h.to_string()), "{h} missing");
    }
    assert_ranks(&csv, "score.hongmian", "rank.hongmian", &["period"]);
    assert_ranks(&csv, "score.emergency", "rank.emergency", &["period"]);
    let names: std::collections::BTreeSet<_> = csv.rows.iter().map(|r| r[1].clone()).collect();
    assert!(names.contains("越秀区") && names.contains("天河区") && names.contains("白云区"));
}

#[test]
fn street_index_has_176_units_per_period_ranked_citywide_and_within_district() {
    let csv = score("indicators/hongmian-streets.toml", &["--period", "2023-12"]);
    assert_eq!(csv.rows.len(), 176);
    assert_eq!(&csv.header[..4], ["unit", "name", "period", "group"]);
    let id = csv.header[4].trim_start_matches("score.").to_string();
    assert_ranks(
        &csv,
        &format!("score.{id}"),
        &format!("rank.{id}"),
        &["period"],
    );
    assert_ranks(
        &csv,
        &format!("score.{id}"),
        &format!("group_rank.{id}"),
        &["period", "group"],
    );
    let names: Vec<&str> = csv.rows.iter().map(|r| r[1].as_str()).collect();
    for n in ["茶滘街道", "东漖街道", "石碁镇"] {
        assert!(names.contains(&n), "{n} missing");
    }
}

#[test]
fn period_filter_and_unknown_period() {
    let csv = score("indicators/hongmian.toml", &["--period", "2023-06"]);
    assert_eq!(csv.rows.len(), 11);
    assert!(csv.rows.iter().all(|r| r[2] == "2023-06"));
    let out = kapok(&["rank", "indicators/hongmian.toml", "--period", "2031-01"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("2031-01") && err.contains("2022-01"), "{err}");
}

#[test]
fn weight_overrides_change_the_index_and_bad_ones_are_refused() {
    let base = score("indicators/hongmian.toml", &["--period", "2023-12"]);
    let heavy = score(
        "indicators/hongmian.toml",
        &["--period", "2023-12", "--weight", "hotline=10"],
    );
    let c = base.col("score.hongmian");
    assert!(base.rows.iter().zip(&heavy.rows).any(|(a, b)| a[c] != b[c]));
    // Dimension scores do not depend on the index weights.
    let d = base.col("score.hotline");
    assert!(base.rows.iter().zip(&heavy.rows).all(|(a, b)| a[d] == b[d]));
    for (arg, msg) in [
        ("hotlin=2", "did you mean `hotline`"),
        ("hotline=-1", "≥ 0"),
        ("hotline", "ID=WEIGHT"),
        ("hongmian=2", "is the index"),
    ] {
        let out = kapok(&["score", "indicators/hongmian.toml", "--weight", arg]);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{arg}: {err}");
        assert!(err.contains(msg), "{arg}: {err}");
    }
}
