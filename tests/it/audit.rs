//! `kapok audit`: the terminal summary, the tables in every output form, hand-checked values on
//! a three-unit framework, byte-identical reruns, bad input.

use std::path::Path;

use calamine::{Reader, Xlsx, open_workbook};

use super::util::{Csv, kapok, snapshot, tempdir, texts};

const TABLES: [&str; 10] = [
    "about",
    "indicators",
    "availability_units",
    "correlations",
    "sibling_correlations",
    "aggregates",
    "pca_loadings",
    "weights",
    "treatment",
    "removal",
];

fn audit_to(out: &Path) -> String {
    let o = kapok(&[
        "audit",
        "indicators/hongmian.toml",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (stdout, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    stdout
}

fn num(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap_or_else(|_| panic!("not a number: {s}")))
}

#[test]
fn help_snapshot() {
    let out = kapok(&["audit", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    snapshot("help_audit.txt", &texts(&out).0);
}

#[test]
fn terminal_summary_of_the_latest_period() {
    let out = kapok(&["audit", "indicators/hongmian.toml", "--lang", "en"]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for part in [
        "Audit of Red Cotton Index (districts) (hongmian) — period 2023-12: 11 units, 28 indicators",
        "Indicator flags",
        "Sibling pairs with Pearson > 0.9",
        "Negatively correlated sibling pairs",
        "Cronbach's alpha",
        "Biggest rank movers",
        "pairwise-complete",
    ] {
        assert!(stdout.contains(part), "missing {part:?} in\n{stdout}");
    }
    assert!(!stdout.contains("NaN"), "{stdout}");
}

#[test]
fn workbook_json_and_csv_directory() {
    let dir = tempdir();
    let xlsx = dir.path().join("audit.xlsx");
    let json = dir.path().join("audit.json");
    let csvs = dir.path().join("audit"); // no extension: a directory, created
    for out in [&xlsx, &json, &csvs] {
        audit_to(out);
    }

    // workbook: one sheet per table, 28 indicators and 11 units (plus the header row)
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(wb.sheet_names(), TABLES.map(String::from).to_vec());
    let rows = |wb: &mut Xlsx<_>, s: &str| wb.worksheet_range(s).unwrap().height();
    assert_eq!(rows(&mut wb, "indicators"), 29);
    assert_eq!(rows(&mut wb, "availability_units"), 12);
    // 35 nodes besides the index; 8 aggregate nodes (index and 7 dimensions)
    assert_eq!(rows(&mut wb, "correlations"), 36);
    assert_eq!(rows(&mut wb, "aggregates"), 9);
    assert_eq!(rows(&mut wb, "weights"), 37);

    // JSON: one object of tables in the same order, every row with every column
    let text = std::fs::read_to_string(&json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), TABLES.len());
    let pos: Vec<usize> = TABLES
        .iter()
        .map(|t| text.find(&format!("\"{t}\":")).unwrap())
        .collect();
    let sorted = {
        let mut s = pos.clone();
        s.sort();
        s
    };
    assert_eq!(pos, sorted, "tables in the documented order");
    assert_eq!(obj["indicators"].as_array().unwrap().len(), 28);
    assert_eq!(obj["availability_units"].as_array().unwrap().len(), 11);
    for row in obj["aggregates"].as_array().unwrap() {
        let alpha = row["cronbach_alpha"].as_f64().unwrap();
        let share = row["pc1_variance_share"].as_f64().unwrap();
        assert!(alpha <= 1.0, "{row}");
        assert!(share > 0.0 && share <= 1.0, "{row}");
        assert!(row.as_object().unwrap().contains_key("note"));
    }

    // CSV directory: one file per table, values sane
    for t in TABLES {
        assert!(csvs.join(format!("{t}.csv")).is_file(), "{t}.csv");
    }
    for t in TABLES {
        let text = std::fs::read_to_string(csvs.join(format!("{t}.csv"))).unwrap();
        assert!(
            !text.contains("NaN") && !text.contains("inf"),
            "{t}: {text}"
        );
    }
    let ind = Csv::read(&csvs.join("indicators.csv"));
    assert_eq!(ind.rows.len(), 28);
    let (n, miss) = (ind.col("n"), ind.col("missing"));
    let (sk, ku, out) = (ind.col("skew"), ind.col("kurt"), ind.col("flag_outlier"));
    for r in &ind.rows {
        assert_eq!(num(&r[n]).unwrap() + num(&r[miss]).unwrap(), 11.0);
        let outlier =
            matches!((num(&r[sk]), num(&r[ku])), (Some(s), Some(k)) if s.abs() > 2.0 && k > 3.5);
        assert_eq!(r[out], outlier.to_string(), "{r:?}");
    }
    let corr = Csv::read(&csvs.join("correlations.csv"));
    for r in &corr.rows {
        for c in [
            "pearson_parent",
            "spearman_parent",
            "pearson_index",
            "spearman_index",
        ] {
            let v = num(&r[corr.col(c)]).unwrap();
            assert!((-1.0..=1.0).contains(&v), "{c} {r:?}");
        }
        // a dimension's parent is the index: both columns agree
        if r[corr.col("parent")] == "hongmian" {
            assert_eq!(r[corr.col("pearson_parent")], r[corr.col("pearson_index")]);
        }
    }
    let sib = Csv::read(&csvs.join("sibling_correlations.csv"));
    for r in &sib.rows {
        let p = num(&r[sib.col("pearson")]).unwrap();
        assert!((-1.0..=1.0).contains(&p));
        assert_eq!(r[sib.col("flag_high")], (p > 0.9).to_string());
        assert_eq!(r[sib.col("flag_negative")], (p < 0.0).to_string());
    }
    // effective weights of the indicators (and of the dimensions) sum to 1
    let w = Csv::read(&csvs.join("weights.csv"));
    for kind in ["indicator", "dimension"] {
        let total: f64 = w
            .rows
            .iter()
            .filter(|r| r[w.col("kind")] == kind)
            .map(|r| num(&r[w.col("effective_weight")]).unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{kind}: {total}");
    }
    // PCA loadings have unit length per node and sum positive
    let l = Csv::read(&csvs.join("pca_loadings.csv"));
    let mut parents: Vec<&String> = l.rows.iter().map(|r| &r[0]).collect();
    parents.dedup();
    assert_eq!(parents.len(), 8);
    for p in parents {
        let v: Vec<f64> = l
            .rows
            .iter()
            .filter(|r| &r[0] == p)
            .map(|r| num(&r[l.col("loading")]).unwrap())
            .collect();
        let norm: f64 = v.iter().map(|x| x * x).sum();
        assert!(
            (norm - 1.0).abs() < 1e-9 && v.iter().sum::<f64>() > 0.0,
            "{p}"
        );
    }
    let rm = Csv::read(&csvs.join("removal.csv"));
    assert_eq!(rm.rows.len(), 35);
    for r in &rm.rows {
        let m = num(&r[rm.col("mean_abs_rank_change")]).unwrap();
        assert!((0.0..=10.0).contains(&m), "{r:?}");
    }
}

#[test]
fn reruns_write_identical_bytes() {
    let dir = tempdir();
    for name in ["a.xlsx", "a.json", "a"] {
        let out = dir.path().join(name);
        audit_to(&out);
        let read = |p: &Path| -> Vec<Vec<u8>> {
            if p.is_dir() {
                TABLES
                    .iter()
                    .map(|t| std::fs::read(p.join(format!("{t}.csv"))).unwrap())
                    .collect()
            } else {
                vec![std::fs::read(p).unwrap()]
            }
        };
        let first = read(&out);
        audit_to(&out);
        assert_eq!(first, read(&out), "{name}");
    }
    // nothing but the outputs is left behind (no temporary files)
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "a.json", "a.xlsx"]);
}

#[test]
fn three_units_by_hand() {
    let dir = tempdir();
    let fw = super::util::small_framework(dir.path(), "arithmetic");
    let out = dir.path().join("t");
    let o = kapok(&["audit", fw.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let (stdout, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // the index has one child: alpha, PCA and removal are skipped with a note, no panic
    assert!(stdout.contains("2023-02"), "{stdout}");
    assert!(stdout.contains("only child of `idx`"), "{stdout}");

    // 2023-02: rate = 12, 14, 25/3 per 1000; level = 5, 8, 4 (lower is better).
    // Normalised (min-max 0–100) level is a decreasing function of the raw level, so the pair's
    // Pearson correlation is minus that of the raw values:
    let rate = [12.0, 14.0, 25.0 / 3.0];
    let level = [5.0, 8.0, 4.0];
    let mr = rate.iter().sum::<f64>() / 3.0;
    let ml = level.iter().sum::<f64>() / 3.0;
    let sxy: f64 = rate
        .iter()
        .zip(&level)
        .map(|(a, b)| (a - mr) * (b - ml))
        .sum();
    let sxx: f64 = rate.iter().map(|a| (a - mr).powi(2)).sum();
    let syy: f64 = level.iter().map(|b| (b - ml).powi(2)).sum();
    let r = -sxy / (sxx * syy).sqrt();
    assert!(r < -0.9);
    let sib = Csv::read(&out.join("sibling_correlations.csv"));
    assert_eq!(sib.rows.len(), 1);
    let got = num(&sib.rows[0][sib.col("pearson")]).unwrap();
    assert!((got - r).abs() < 1e-9, "{got} vs {r}");
    assert_eq!(sib.rows[0][sib.col("flag_negative")], "true");
    // Spearman: rate ranks 2 3 1, normalised level ranks 2 1 3 → ρ = 1 − 6·(0 + 4 + 4)/(3·8) = −1
    let rho = num(&sib.rows[0][sib.col("spearman")]).unwrap();
    assert!((rho + 1.0).abs() < 1e-12, "{rho}");

    // PCA of two variables: λ₁ = 1 + |r|, share (1 + |r|)/2, loadings (1, −1)/√2 (sum 0, so
    // the first is positive)
    let ag = Csv::read(&out.join("aggregates.csv"));
    let d = ag.rows.iter().find(|r| r[0] == "d").unwrap();
    let share = num(&d[ag.col("pc1_variance_share")]).unwrap();
    assert!((share - (1.0 - r) / 2.0).abs() < 1e-9);
    let idx = ag.rows.iter().find(|r| r[0] == "idx").unwrap();
    assert_eq!(idx[ag.col("cronbach_alpha")], "");
    assert!(idx[ag.col("note")].contains("at least 2"));
    let l = Csv::read(&out.join("pca_loadings.csv"));
    let h = 0.5f64.sqrt();
    assert!((num(&l.rows[0][2]).unwrap() - h).abs() < 1e-9);
    assert!((num(&l.rows[1][2]).unwrap() + h).abs() < 1e-9);

    // Removal. Nominal d = index = mean of normalised rate and level:
    // rate_n = 64.7, 100, 0; level_n = 75, 0, 100 → 69.9, 50, 50 → ranks 1, 2, 2.
    // Without rate: 75, 0, 100 → ranks 2, 3, 1; without level: 64.7, 100, 0 → ranks 2, 1, 3.
    // Either way every unit moves by 1.
    let rm = Csv::read(&out.join("removal.csv"));
    for (id, mean, max) in [("d", "", ""), ("rate", "1.0", "1"), ("level", "1.0", "1")] {
        let row = rm.rows.iter().find(|r| r[0] == id).unwrap();
        assert_eq!(row[rm.col("mean_abs_rank_change")], mean, "{id}");
        assert_eq!(row[rm.col("max_abs_rank_change")], max, "{id}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let out = kapok(&["audit", "indicators/hongmian.toml", "--period", "2030-01"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("--period 2030-01: no data for 2030-01"),
        "{err}"
    );
    let dir = tempdir();
    let bad = dir.path().join("audit.parquet");
    let out = kapok(&[
        "audit",
        "indicators/hongmian.toml",
        "-o",
        bad.to_str().unwrap(),
    ]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("unknown output format `.parquet`"), "{err}");
    assert!(!bad.exists());
}

#[test]
fn the_structure_of_a_period_is_the_audit_without_its_removals() {
    // The report's "what drives the index" box reads the structure only.
    let fw = kapok::load(Path::new("indicators/hongmian.toml")).unwrap();
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    let p = panel.periods.len() - 1;
    let (full, full_warnings) = kapok::explain::audit::audit(&fw, &panel, p).unwrap();
    let (part, part_warnings) = kapok::explain::audit::audit_structure(&fw, &panel, p).unwrap();
    assert!(full.removals.iter().any(|r| r.mean_abs_change.is_some()));
    assert!(part.removals.is_empty());
    assert_eq!(part_warnings, full_warnings);
    assert_eq!(
        format!(
            "{:?}",
            (&part.correlations, &part.siblings, &part.aggregates)
        ),
        format!(
            "{:?}",
            (&full.correlations, &full.siblings, &full.aggregates)
        )
    );
    assert_eq!(part.effective_weights, full.effective_weights);
    assert_eq!(part.units, full.units);
}

#[test]
fn removals_are_full_evaluations_without_the_node() {
    // The audit aggregates the period's normalised values again for each removal; the oracle
    // evaluates the whole panel from the start with the node's weight 0 under every parent.
    for path in [
        "indicators/hongmian.toml",
        "indicators/hongmian-streets.toml",
        "indicators/asem.toml",
        "indicators/undp-hdi.toml",
        "indicators/undp-gdi.toml",
        "indicators/undp-gii.toml",
    ] {
        let fw = kapok::load(Path::new(path)).unwrap();
        let (panel, _) = kapok::read_panel(&fw, None).unwrap();
        let p = panel.periods.len() - 1;
        let (audit, _) = kapok::explain::audit::audit(&fw, &panel, p).unwrap();
        let nominal = kapok::evaluate(&fw, panel.clone()).unwrap();
        let mut checked = 0;
        for rm in &audit.removals {
            let Some(mean) = rm.mean_abs_change else {
                continue;
            };
            let mut without = fw.clone();
            without.nodes[rm.node].weight = 0.0;
            for e in &mut without.nodes[rm.node].shared {
                e.weight = 0.0;
            }
            let r = kapok::evaluate(&without, panel.clone()).unwrap();
            let diffs: Vec<u32> = audit
                .units
                .iter()
                .filter_map(|&u| {
                    let (a, b) = (nominal.rank(p, u, 0), r.rank(p, u, 0));
                    (a > 0 && b > 0).then(|| a.abs_diff(b))
                })
                .collect();
            let id = &fw.nodes[rm.node].id;
            assert_eq!(rm.units, diffs.len(), "{path} without {id}");
            assert_eq!(
                rm.max_abs_change,
                diffs.iter().copied().max(),
                "{path} {id}"
            );
            let want = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
            assert_eq!(mean.to_bits(), want.to_bits(), "{path} without {id}");
            checked += 1;
        }
        assert!(checked > 0, "{path}: no removal measured");
    }
}
