//! Parity with COINr on its ASEM example: every pipeline step of `indicators/asem.toml` against
//! COINr's own outputs (`tests/fixtures/coinr-asem/expected/`), to 1e-9 (relative where large).

use std::collections::BTreeMap;

use kapok::pipeline::{self, TreatFlag};
use kapok::{Framework, Results};

use super::util::{Csv, root};

fn run() -> (Framework, Results) {
    let fw = kapok::load(&root().join("indicators/asem.toml")).unwrap();
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    let r = kapok::evaluate(&fw, panel).unwrap();
    (fw, r)
}

fn expected(name: &str) -> Csv {
    Csv::read(&root().join("tests/fixtures/coinr-asem/expected").join(name))
}

/// COINr's data set after each step, with the name of kapok's stage that holds it: the raw
/// data, then COINr's outputs.
fn coinr_data_sets() -> [(&'static str, Csv); 6] {
    [
        ("raw", Csv::read(&root().join("data/coinr-asem/iData.csv"))),
        ("denominated", expected("02_denominated.csv")),
        ("imputed", expected("03_imputed.csv")),
        ("screened", expected("04_screened.csv")),
        ("treated", expected("05_treated.csv")),
        ("normalised", expected("06_normalised.csv")),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn num(s: &str) -> f64 {
    if s.is_empty() || s == "NA" {
        f64::NAN
    } else {
        s.parse().unwrap()
    }
}

/// Compares a unit × column table with kapok's values; returns the number of cells compared.
fn compare(
    name: &str,
    csv: &Csv,
    value: impl Fn(usize, &str) -> Option<f64>,
    units: &[String],
) -> usize {
    let key = csv.col("uCode");
    let mut n = 0;
    for row in &csv.rows {
        let u = units
            .iter()
            .position(|k| k == &row[key])
            .unwrap_or_else(|| panic!("{name}: unit {}", row[key]));
        for (c, h) in csv.header.iter().enumerate() {
            let Some(got) = value(u, h) else { continue };
            let want = num(&row[c]);
            assert!(
                close(got, want),
                "{name}: {} {h}: kapok {got} vs COINr {want}",
                row[key]
            );
            n += 1;
        }
    }
    n
}

/// Indicator code → column of the panel.
fn csv_cols(fw: &Framework, r: &Results) -> BTreeMap<String, usize> {
    r.panel
        .indicators
        .iter()
        .enumerate()
        .map(|(j, &i)| (fw.nodes[i].id.clone(), j))
        .collect()
}

#[test]
fn every_step_matches_coinr() {
    let (fw, r) = run();
    let units = &r.panel.units;
    assert_eq!(units.len(), 51);
    let cols: BTreeMap<String, usize> = csv_cols(&fw, &r);
    let by_ind = |m: &ndarray::Array3<f64>, u: usize, h: &str| cols.get(h).map(|&j| m[[0, u, j]]);
    for (step, values) in [
        ("02_denominated", &r.panel.values),
        ("03_imputed", r.imputed_values().unwrap()),
        ("05_treated", r.treated().unwrap()),
    ] {
        let csv = expected(&format!("{step}.csv"));
        let n = compare(step, &csv, |u, h| by_ind(values, u, h), units);
        assert_eq!(n, 51 * 49);
    }
    let node = |h: &str| fw.node_by_id(h);
    let scores = |u: usize, h: &str| {
        node(h)
            .filter(|&i| fw.nodes[i].indicator().is_some())
            .map(|i| r.scores[[0, u, i]])
    };
    let n = compare(
        "06_normalised",
        &expected("06_normalised.csv"),
        scores,
        units,
    );
    assert_eq!(n, 51 * 49);
    let all = |u: usize, h: &str| node(h).map(|i| r.scores[[0, u, i]]);
    let n = compare("07_aggregated", &expected("07_aggregated.csv"), all, units);
    assert_eq!(n, 51 * (49 + 11));
    let n = compare(
        "08_results_full_scores",
        &expected("08_results_full_scores.csv"),
        all,
        units,
    );
    assert_eq!(n, 51 * (49 + 11));
    let ranks = |u: usize, h: &str| node(h).map(|i| f64::from(r.rank(0, u, i)));
    let n = compare(
        "08_results_full_ranks",
        &expected("08_results_full_ranks.csv"),
        ranks,
        units,
    );
    assert_eq!(n, 51 * (49 + 11));
}

#[test]
fn the_final_ranking_matches_coinr() {
    let (_, r) = run();
    let csv = expected("08_index_ranking.csv");
    for row in &csv.rows {
        let u = r.panel.units.iter().position(|k| k == &row[0]).unwrap();
        assert_eq!(r.panel.unit_name(u, kapok::framework::Lang::Zh), row[1]);
        assert!(close(r.scores[[0, u, 0]], num(&row[2])), "{}", row[0]);
        assert_eq!(r.rank(0, u, 0).to_string(), row[3], "{}", row[0]);
    }
}

#[test]
fn screening_matches_coinr() {
    let (fw, r) = run();
    let csv = expected("04_screen_summary.csv");
    let x = r.imputed_values().unwrap().index_axis(ndarray::Axis(0), 0);
    let out = pipeline::screen(x, &fw.defaults.screen.method, &[]);
    for row in &csv.rows {
        let u = r.panel.units.iter().position(|k| k == &row[0]).unwrap();
        assert!(
            close(out.availability[u], num(&row[csv.col("Dat_Avail")])),
            "{}",
            row[0]
        );
        assert!(
            close(out.nonzero[u], num(&row[csv.col("Non_Zero")])),
            "{}",
            row[0]
        );
        let included = row[csv.col("Included")] == "TRUE";
        let scored = r.status[[0, u]] == kapok::evaluate::Status::Scored;
        assert_eq!(included, scored, "{}", row[0]);
    }
    // COINr screens the imputed data, where availability is complete: nobody is screened out.
    assert!(
        csv.rows
            .iter()
            .all(|row| row[csv.col("Included")] == "TRUE")
    );
}

#[test]
fn treatment_details_and_points_match_coinr() {
    let (fw, r) = run();
    let details = expected("05_treat_details.csv");
    let by_code: BTreeMap<&str, &kapok::evaluate::Treatment> = r
        .treatments
        .iter()
        .map(|t| (fw.nodes[r.panel.indicators[t.indicator]].id.as_str(), t))
        .collect();
    assert_eq!(by_code.len(), 49);
    let mut winsorised = 0;
    for row in &details.rows {
        let t = by_code[row[0].as_str()];
        let rep = &t.report;
        let same = |ours: Option<f64>, column: &str| {
            let theirs = num(&row[details.col(column)]);
            assert!(
                close(ours.unwrap(), theirs),
                "{} {column}: {ours:?} vs {theirs}",
                row[0]
            );
        };
        same(rep.skew_before, "check_SkewKurt0.Skew");
        same(rep.kurt_before, "check_SkewKurt0.Kurt");
        if row[details.col("check_SkewKurt0.Pass")] == "TRUE" {
            assert_eq!(rep.nwin, 0, "{}", row[0]);
        } else {
            winsorised += 1;
            assert_eq!(
                rep.nwin.to_string(),
                row[details.col("winsorise.nwin")],
                "{}",
                row[0]
            );
            same(rep.skew_after, "check_SkewKurt1.Skew");
            same(rep.kurt_after, "check_SkewKurt1.Kurt");
        }
    }
    assert_eq!(winsorised, 15);
    let points = expected("05_treat_points.csv");
    let mut flagged = 0;
    for row in &points.rows {
        let u = r.panel.units.iter().position(|k| k == &row[0]).unwrap();
        for (c, h) in points.header.iter().enumerate().skip(1) {
            let t = by_code[h.as_str()];
            let ours = t
                .report
                .points
                .iter()
                .find(|(row, _)| *row == u)
                .map(|(_, f)| match f {
                    TreatFlag::WinHi => "winhi",
                    TreatFlag::WinLo => "winlo",
                    TreatFlag::Log => "log_CT",
                });
            let theirs = (!row[c].is_empty()).then_some(row[c].as_str());
            assert_eq!(ours, theirs, "{} {h}", row[0]);
            flagged += usize::from(theirs.is_some());
        }
    }
    assert_eq!(flagged, 35);
}

#[test]
fn effective_weights_match_coinr() {
    let (fw, _) = run();
    let w = fw.effective_weights();
    let csv = expected("weights_effective.csv");
    for row in &csv.rows {
        let i = fw
            .node_by_id(&row[0])
            .unwrap_or_else(|| panic!("{}", row[0]));
        assert!(
            close(w[i], num(&row[3])),
            "{}: {} vs {}",
            row[0],
            w[i],
            row[3]
        );
    }
    assert_eq!(csv.rows.len(), fw.nodes.len());
}

#[test]
fn the_importer_writes_the_shipped_tree() {
    let dir = super::util::tempdir();
    let out = super::util::kapok(&[
        "import",
        "coinr",
        "data/coinr-asem/iData.csv",
        "data/coinr-asem/iMeta.csv",
        "-o",
        dir.path().to_str().unwrap(),
        "--name",
        "asem",
        "--group",
        "EurAsia_group",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", super::util::texts(&out).1);
    let imported = kapok::load(&dir.path().join("asem.toml")).unwrap();
    let shipped = kapok::load(&root().join("indicators/asem.toml")).unwrap();
    let tree = |f: &Framework| {
        f.nodes
            .iter()
            .map(|n| {
                let spec = n.indicator().map(|s| {
                    (
                        s.direction,
                        s.expr.clone(),
                        s.denominator.as_ref().map(|d| d.0.clone()),
                    )
                });
                (
                    n.id.clone(),
                    n.parent.map(|p| f.nodes[p].id.clone()),
                    n.weight,
                    spec,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(tree(&imported), tree(&shipped));
    // Its data path resolves from wherever it was written.
    let (panel, _) = kapok::read_panel(&imported, None).unwrap();
    assert_eq!(panel.units.len(), 51);
    // A second import refuses to overwrite without --force.
    let again = super::util::kapok(&[
        "import",
        "coinr",
        "data/coinr-asem/iData.csv",
        "data/coinr-asem/iMeta.csv",
        "-o",
        dir.path().to_str().unwrap(),
        "--name",
        "asem",
    ]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn an_imeta_parent_typo_is_named_by_file_and_line_and_nothing_is_written() {
    let dir = super::util::tempdir();
    let meta = dir.path().join("m.csv");
    std::fs::write(
        &meta,
        "Level,iCode,iName,Direction,Weight,Unit,Target,Denominator,Parent,Type\n\
         1,A,A,1,1,,,,Pillr,Indicator\n2,Pillar,P,1,1,,,,Index,Aggregate\n3,Index,I,1,1,,,,,Aggregate\n",
    )
    .unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "uCode,uName,A\nX,x,1\nY,y,2\n").unwrap();
    let out = dir.path().join("new");
    let run = super::util::kapok(&[
        "import",
        "coinr",
        data.to_str().unwrap(),
        meta.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = super::util::texts(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains("m.csv: line 2: `A` has parent `Pillr`")
            && err.contains("did you mean `Pillar`"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "the output directory made for it is removed again"
    );
}

/// `kapok score --stage S -o F` writes COINr's data set after each step: the raw indicators
/// (COINr's iData), then denominated, imputed, screened, treated and normalised, every cell
/// to 1e-9 and exactly COINr's units (screening keeps 51 of 51 here).
#[test]
fn score_stage_writes_coinrs_data_sets() {
    let dir = super::util::tempdir();
    let read_stage = |stage: &str| -> Csv {
        let out = dir.path().join(format!("{stage}.csv"));
        let o = super::util::kapok(&[
            "score",
            "indicators/asem.toml",
            "--stage",
            stage,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{stage}: {}", super::util::texts(&o).1);
        Csv::read(&out)
    };
    for (stage, want) in coinr_data_sets() {
        let got = read_stage(stage);
        let unit = got.col("unit");
        let units: Vec<String> = got.rows.iter().map(|r| r[unit].clone()).collect();
        assert_eq!(units.len(), want.rows.len(), "{stage}: rows");
        let n = compare(
            stage,
            &want,
            |u, h| {
                let c = got.header.iter().position(|x| x == h)?;
                // The indicator columns only (iData also holds groups and denominators).
                (c > got.col("group")).then(|| num(&got.rows[u][c]))
            },
            &units,
        );
        assert_eq!(n, 51 * 49, "{stage}: cells compared");
    }
}

/// `kapok audit -o DIR` writes the treatment of every indicator, `treatment.csv`: COINr's
/// `nwin` and the skew and kurtosis before and after, as in COINr's treatment details, and as
/// many treated points as COINr's point table flags.
#[test]
fn the_audit_treatment_table_is_coinrs() {
    let dir = super::util::tempdir();
    let out = dir.path().join("audit");
    let o = super::util::kapok(&["audit", "indicators/asem.toml", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", super::util::texts(&o).1);
    let got = Csv::read(&out.join("treatment.csv"));
    let want = expected("05_treat_details.csv");
    assert_eq!(got.rows.len(), want.rows.len());
    let mut points = 0.0;
    for row in &want.rows {
        let ours = got
            .rows
            .iter()
            .find(|r| r[got.col("id")] == row[0])
            .unwrap_or_else(|| panic!("no treatment row for {}", row[0]));
        let col = |c: &str| num(&ours[got.col(c)]);
        let theirs = |c: &str| num(&row[want.col(c)]);
        let passed = row[want.col("check_SkewKurt0.Pass")] == "TRUE";
        assert_eq!(
            ours[got.col("outcome")],
            if passed { "passed" } else { "winsorised" },
            "{}",
            row[0]
        );
        let nwin = if passed {
            0.0
        } else {
            theirs("winsorise.nwin")
        };
        assert_eq!(col("nwin"), nwin, "{} nwin", row[0]);
        assert!(
            close(col("skew_before"), theirs("check_SkewKurt0.Skew")),
            "{}",
            row[0]
        );
        assert!(
            close(col("kurt_before"), theirs("check_SkewKurt0.Kurt")),
            "{}",
            row[0]
        );
        if !passed {
            assert!(
                close(col("skew_after"), theirs("check_SkewKurt1.Skew")),
                "{}",
                row[0]
            );
            assert!(
                close(col("kurt_after"), theirs("check_SkewKurt1.Kurt")),
                "{}",
                row[0]
            );
        }
        points += col("winsorised_high") + col("winsorised_low") + col("log_transformed");
    }
    let flagged = expected("05_treat_points.csv")
        .rows
        .iter()
        .flat_map(|r| r[1..].to_vec())
        .filter(|c| !c.is_empty())
        .count();
    assert_eq!(points, flagged as f64);
}

/// `kapok audit --stage S` describes COINr's data set after each step: every indicator's n,
/// min, max, mean, median, sd, skew and kurtosis in `indicators.csv` equal those computed here
/// (type-2 estimators, as COINr's `get_stats`) from COINr's own data set, to 1e-9.
#[test]
fn audit_stage_describes_coinrs_data_sets() {
    let dir = super::util::tempdir();
    let mut checked = 0;
    for (stage, want) in coinr_data_sets() {
        let out = dir.path().join(stage);
        let o = super::util::kapok(&[
            "audit",
            "indicators/asem.toml",
            "--stage",
            stage,
            "-o",
            out.to_str().unwrap(),
        ]);
        let (summary, err) = super::util::texts(&o);
        assert!(o.status.success(), "{stage}: {err}");
        assert_eq!(
            summary.contains(&format!("Indicator flags on the {stage} values")),
            stage != "denominated",
            "{summary}"
        );
        let about = Csv::read(&out.join("about.csv"));
        assert!(
            about
                .rows
                .iter()
                .any(|r| r[0] == "indicator values" && r[1].contains(&format!("`{stage}`"))),
            "{stage}"
        );
        let got = Csv::read(&out.join("indicators.csv"));
        assert_eq!(got.rows.len(), 49, "{stage}");
        for row in &got.rows {
            let id = &row[got.col("id")];
            let c = want.col(id);
            let x: Vec<f64> = want
                .rows
                .iter()
                .map(|r| num(&r[c]))
                .filter(|v| !v.is_nan())
                .collect();
            let d = Described::of(&x);
            let ours = |name: &str| num(&row[got.col(name)]);
            assert_eq!(ours("n"), x.len() as f64, "{stage} {id} n");
            for (name, theirs) in [
                ("min", d.min),
                ("max", d.max),
                ("mean", d.mean),
                ("median", d.median),
                ("sd", d.sd),
                ("skew", d.skew),
                ("kurt", d.kurt),
            ] {
                assert!(
                    close(ours(name), theirs),
                    "{stage} {id} {name}: kapok {} vs COINr's data {theirs}",
                    ours(name)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 49 * 7);
}

/// Descriptive statistics written out from their definitions.
struct Described {
    min: f64,
    max: f64,
    mean: f64,
    median: f64,
    sd: f64,
    skew: f64,
    kurt: f64,
}

impl Described {
    fn of(x: &[f64]) -> Described {
        let n = x.len() as f64;
        let mut s = x.to_vec();
        s.sort_by(f64::total_cmp);
        let k = s.len();
        let median = if k % 2 == 1 {
            s[k / 2]
        } else {
            (s[k / 2 - 1] + s[k / 2]) / 2.0
        };
        let mean = x.iter().sum::<f64>() / n;
        let m = |p: i32| x.iter().map(|v| (v - mean).powi(p)).sum::<f64>() / n;
        let (m2, m3, m4) = (m(2), m(3), m(4));
        // Type 2 (SAS, SPSS; e1071's default, as COINr uses).
        let g1 = m3 / m2.powf(1.5);
        let g2 = m4 / (m2 * m2) - 3.0;
        Described {
            min: s[0],
            max: s[k - 1],
            mean,
            median,
            sd: (m2 * n / (n - 1.0)).sqrt(),
            skew: g1 * (n * (n - 1.0)).sqrt() / (n - 2.0),
            kurt: ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)),
        }
    }
}
