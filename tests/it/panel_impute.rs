//! Panel imputation (`carry_forward`, `carry_backward`, `interpolate`, chains) and its
//! provenance: against COINr's `impute_panel` on the ASEM panel with holes
//! (`tests/fixtures/coinr-panel/`), hand-computed small panels, the `score` columns, the
//! report's notes, `kapok import coinr` on a panel, and the errors of bad declarations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kapok::pipeline::Impute;

use super::util::{Csv, kapok, one_indicator_framework, root, tempdir, texts};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/coinr-panel").join(name)
}

/// `kapok import coinr` of the holes panel into `dir`, with the imputation `impute` and without
/// denominators (COINr's panel cases divide by nothing). Returns the framework path.
fn import_holes(dir: &Path, impute: &str) -> PathBuf {
    let run = kapok(&[
        "import",
        "coinr",
        fixture("panel_holes_iData.csv").to_str().unwrap(),
        root().join("data/coinr-asem/iMeta.csv").to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--name",
        "holes",
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let path = dir.join("holes.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("period = \"Time\""), "{text}");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("denominator = "))
        .map(|l| {
            if l == "impute = \"none\"" {
                format!("impute = {impute}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).unwrap();
    path
}

fn num(s: &str) -> f64 {
    if s.is_empty() || s == "NA" || s == "NaN" {
        f64::NAN
    } else {
        s.parse().unwrap()
    }
}

/// COINr `impute_panel(imp_type = "latest", max_time = 2)` on the holes panel: every value and
/// the period each value came from (`DataT`), to 1e-9.
#[test]
fn carry_forward_max_2_matches_coinr_latest_max_time_2() {
    let dir = tempdir();
    let fw_path = import_holes(
        dir.path(),
        "{ method = \"carry_forward\", max_periods = 2 }",
    );
    let fw = kapok::load(&fw_path).unwrap();
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    let r = kapok::evaluate(&fw, panel).unwrap();
    let p = &r.panel;
    assert_eq!(p.periods, ["2018", "2019", "2020", "2021", "2022"]);
    let values = Csv::read(&fixture("panel_holes_imputed_latest_mt2.csv"));
    let times = Csv::read(&fixture("panel_holes_imputed_latest_mt2_DataT.csv"));
    let col_of: BTreeMap<String, usize> = p
        .indicators
        .iter()
        .enumerate()
        .map(|(j, &node)| (fw.nodes[node].id.clone(), j))
        .collect();
    let at = |csv: &Csv, row: &[String]| {
        let u = p.units.iter().position(|k| *k == row[csv.col("uCode")]);
        let t = p.periods.iter().position(|t| *t == row[csv.col("Time")]);
        (u.unwrap(), t.unwrap())
    };
    let (mut compared, mut max_diff) = (0, 0.0f64);
    for row in &values.rows {
        let (u, t) = at(&values, row);
        for (c, h) in values.header.iter().enumerate() {
            let Some(&j) = col_of.get(h) else { continue };
            let (want, got) = (num(&row[c]), r.imputed_values().unwrap()[[t, u, j]]);
            assert!(
                want.is_nan() == got.is_nan(),
                "{} {} {h}: kapok {got} vs COINr {want}",
                p.units[u],
                p.periods[t]
            );
            if !want.is_nan() {
                let d = (want - got).abs();
                max_diff = max_diff.max(d);
                assert!(d <= 1e-9 * want.abs().max(1.0), "{h}: {got} vs {want}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 255 * 49);
    let (mut carried, mut still_missing) = (0, 0);
    for row in &times.rows {
        let (u, t) = at(&times, row);
        for (c, h) in times.header.iter().enumerate() {
            let Some(&j) = col_of.get(h) else { continue };
            let prov = r.provenance.get(t, u, j);
            let observed = !p.values[[t, u, j]].is_nan();
            match row[c].as_str() {
                "" | "NA" => {
                    assert!(!observed && prov.is_none(), "{h} {u} {t}");
                    still_missing += 1;
                }
                year if year == p.periods[t] => assert!(observed && prov.is_none()),
                year => {
                    let f = prov.unwrap_or_else(|| panic!("{h} {} {}", p.units[u], p.periods[t]));
                    assert_eq!(f.method.name(), "carry_forward");
                    assert_eq!(f.from.len(), 1);
                    assert_eq!(f.from[0], year, "{h} {}", p.units[u]);
                    carried += 1;
                }
            }
        }
    }
    // Every blanked cell is either carried (from at most 2 years back) or still missing
    // (leading gaps, gaps of 3 years); the holes list has 165 cells.
    let holes = Csv::read(&fixture("panel_holes_list.csv"));
    assert_eq!(holes.rows.len(), 165);
    assert!(
        carried > 50 && still_missing > 0,
        "{carried} {still_missing}"
    );
    let filled: usize = r.imputed.iter().sum();
    assert_eq!(filled, carried);
    eprintln!(
        "COINr latest max_time = 2: {compared} cells, {carried} carried, max abs diff {max_diff:e}"
    );
}

/// COINr `constant` and `linear` (R's approx, rule = 2), recomputed from the holes panel: a
/// missing cell takes the unit's previous observation (constant) or the straight line between
/// its neighbours (linear); before the first or after the last observation, the nearest one.
#[test]
fn ends_nearest_spellings_are_coinr_constant_and_linear() {
    for (impute, linear) in [
        ("{ method = \"carry_forward\", ends = \"nearest\" }", false),
        ("{ method = \"interpolate\", ends = \"nearest\" }", true),
    ] {
        let dir = tempdir();
        let fw = kapok::load(&import_holes(dir.path(), impute)).unwrap();
        let (panel, _) = kapok::read_panel(&fw, None).unwrap();
        let r = kapok::evaluate(&fw, panel).unwrap();
        let p = &r.panel;
        let (np, nu, ni) = p.values.dim();
        let mut checked = 0;
        for u in 0..nu {
            for j in 0..ni {
                let obs: Vec<(usize, f64)> = (0..np)
                    .filter(|&t| !p.values[[t, u, j]].is_nan())
                    .map(|t| (t, p.values[[t, u, j]]))
                    .collect();
                for t in 0..np {
                    let got = r.imputed_values().unwrap()[[t, u, j]];
                    if !p.values[[t, u, j]].is_nan() {
                        assert_eq!(got, p.values[[t, u, j]]);
                        continue;
                    }
                    let before = obs.iter().rev().find(|o| o.0 < t);
                    let after = obs.iter().find(|o| o.0 > t);
                    let want = match (before, after) {
                        (None, None) => f64::NAN,
                        (Some(b), None) => b.1,
                        (None, Some(a)) => a.1,
                        (Some(b), Some(_)) if !linear => b.1,
                        (Some(b), Some(a)) => {
                            b.1 + (a.1 - b.1) * (t - b.0) as f64 / (a.0 - b.0) as f64
                        }
                    };
                    assert!(
                        (want.is_nan() && got.is_nan()) || (want - got).abs() <= 1e-9,
                        "{impute}: {} {} {}: {got} vs {want}",
                        p.units[u],
                        p.periods[t],
                        j
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 165, "{checked}");
    }
}

/// A one-indicator framework (`v = x`, no normalisation: scores are the values) over
/// `monthly.csv` (`code,month,g,x`), with the given `[defaults]` impute line.
const SMALL_HEAD: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
period = "month"
GROUP

[defaults]
IMPUTE
normalize = "none"

"#;

/// Units a, b, c over 2023-01..2023-05; b has no row in 2023-03 (absent); a is missing from
/// 2023-02 on; group of a and b is g1, of c g2.
const MONTHLY: &str = "code,month,g,x
a,2023-01,g1,10
b,2023-01,g1,20
c,2023-01,g2,30
a,2023-02,g1,
b,2023-02,g1,22
c,2023-02,g2,33
a,2023-03,g1,
c,2023-03,g2,36
a,2023-04,g1,
b,2023-04,g1,
c,2023-04,g2,
a,2023-05,g1,50
b,2023-05,g1,26
c,2023-05,g2,40
";

fn small(dir: &Path, impute: Option<&str>, group: bool) -> String {
    let text = one_indicator_framework(SMALL_HEAD, "x")
        .replace(
            "IMPUTE",
            &impute.map_or(String::new(), |i| format!("impute = {i}")),
        )
        .replace("GROUP", if group { "group = \"g\"" } else { "" });
    std::fs::write(dir.join("f.toml"), text).unwrap();
    std::fs::write(dir.join("monthly.csv"), MONTHLY).unwrap();
    dir.join("f.toml").to_string_lossy().into_owned()
}

/// `kapok score` → `{(unit, month): {column: value}}`, or the exit code and error.
type Table = BTreeMap<(String, String), BTreeMap<String, String>>;

fn score(fw: &str, extra: &[&str]) -> Result<Table, (i32, String)> {
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
            ((row[0].clone(), row[2].clone()), cells)
        })
        .collect())
}

/// `(score.v, imputed.v, from.v)` of unit `u` in `month` ("-" for a column that is not there).
fn cell(t: &Table, u: &str, month: &str) -> (String, String, String) {
    let row = &t[&(u.to_string(), month.to_string())];
    let get = |c: &str| row.get(c).cloned().unwrap_or_else(|| "-".into());
    // 10.0 and 10 are one number
    let score = get("score.v")
        .parse::<f64>()
        .map_or(String::new(), |x| x.to_string());
    (score, get("imputed.v"), get("from.v"))
}

fn c(s: &str, m: &str, f: &str) -> (String, String, String) {
    (s.into(), m.into(), f.into())
}

#[test]
fn carry_forward_with_and_without_a_limit_on_the_command_line() {
    let dir = tempdir();
    let fw = small(dir.path(), None, false);
    // --impute carry_forward: a's 10 (2023-01) carried to 02, 03, 04; b's 22 (2023-02) to 04;
    // c's 36 (2023-03) to 04. b has no row in 03: it stays absent.
    let t = score(&fw, &["--impute", "carry_forward"]).unwrap();
    assert_eq!(
        cell(&t, "a", "2023-02"),
        c("10", "carry_forward", "2023-01")
    );
    assert_eq!(
        cell(&t, "a", "2023-04"),
        c("10", "carry_forward", "2023-01")
    );
    assert_eq!(
        cell(&t, "b", "2023-04"),
        c("22", "carry_forward", "2023-02")
    );
    assert_eq!(
        cell(&t, "c", "2023-04"),
        c("36", "carry_forward", "2023-03")
    );
    assert_eq!(cell(&t, "a", "2023-05"), c("50", "", ""));
    assert!(!t.contains_key(&("b".to_string(), "2023-03".to_string())));
    assert_eq!(t.len(), 14);
    // max_periods = 2: a's 2023-04 is 3 months after its last observation: stays missing (the
    // donor is never the value imputed in 2023-03); b's 2023-04 is 2 months after 2023-02.
    let t = score(
        &fw,
        &[
            "--impute",
            "{ method = \"carry_forward\", max_periods = 2 }",
        ],
    )
    .unwrap();
    assert_eq!(
        cell(&t, "a", "2023-03"),
        c("10", "carry_forward", "2023-01")
    );
    assert_eq!(cell(&t, "a", "2023-04"), c("", "", ""));
    assert_eq!(
        cell(&t, "b", "2023-04"),
        c("22", "carry_forward", "2023-02")
    );
    // --set changes one parameter of the method given
    let t = score(
        &fw,
        &["--impute", "carry_forward", "--set", "impute.max_periods=1"],
    )
    .unwrap();
    assert_eq!(
        cell(&t, "a", "2023-02"),
        c("10", "carry_forward", "2023-01")
    );
    assert_eq!(cell(&t, "a", "2023-03"), c("", "", ""));
    assert_eq!(cell(&t, "b", "2023-04"), c("", "", ""));
}

#[test]
fn carry_backward_and_interpolation_by_hand() {
    let dir = tempdir();
    let fw = small(dir.path(), None, false);
    let t = score(&fw, &["--impute", "carry_backward"]).unwrap();
    assert_eq!(
        cell(&t, "a", "2023-02"),
        c("50", "carry_backward", "2023-05")
    );
    assert_eq!(
        cell(&t, "b", "2023-04"),
        c("26", "carry_backward", "2023-05")
    );
    let t = score(
        &fw,
        &[
            "--impute",
            "{ method = \"carry_backward\", max_periods = 2 }",
        ],
    )
    .unwrap();
    assert_eq!(cell(&t, "a", "2023-02"), c("", "", ""));
    assert_eq!(
        cell(&t, "a", "2023-03"),
        c("50", "carry_backward", "2023-05")
    );
    // a: 10 in 01, 50 in 05 → 20, 30, 40; b: 22 in 02, 26 in 05 → 04 is 2/3 of the way: 24.666…
    let t = score(&fw, &["--impute", "interpolate"]).unwrap();
    assert_eq!(
        cell(&t, "a", "2023-02"),
        c("20", "interpolate", "2023-01;2023-05")
    );
    assert_eq!(cell(&t, "a", "2023-04").0, "40");
    let b: f64 = cell(&t, "b", "2023-04").0.parse().unwrap();
    assert!((b - (22.0 + 4.0 * 2.0 / 3.0)).abs() < 1e-9, "{b}");
    assert_eq!(cell(&t, "c", "2023-04").0, "38");
}

#[test]
fn a_chain_falls_back_to_the_group_median_of_observed_values() {
    let dir = tempdir();
    let fw = small(
        dir.path(),
        Some("[{ method = \"carry_forward\", max_periods = 1 }, \"group_median\", \"median\"]"),
        true,
    );
    let t = score(&fw, &[]).unwrap();
    // 2023-02: a from 2023-01
    assert_eq!(
        cell(&t, "a", "2023-02"),
        c("10", "carry_forward", "2023-01")
    );
    // 2023-03: a's last observation is 2 months back; b is absent → group g1 has no observed
    // value (a's carried 10 is no donor) → median of the period's observed values: c's 36
    assert_eq!(cell(&t, "a", "2023-03"), c("36", "median", ""));
    // 2023-04: nothing observed at all; a is 3 months from its value; b's 22 is 2 months
    // back; c carries 36 from 2023-03
    assert_eq!(
        cell(&t, "c", "2023-04"),
        c("36", "carry_forward", "2023-03")
    );
    assert_eq!(cell(&t, "a", "2023-04"), c("", "", ""));
    assert_eq!(cell(&t, "b", "2023-04"), c("", "", ""));
}

#[test]
fn without_imputation_the_columns_stay_as_they_were() {
    let dir = tempdir();
    let fw = small(dir.path(), None, false);
    let t = score(&fw, &[]).unwrap();
    let row = &t[&("a".to_string(), "2023-01".to_string())];
    assert!(
        row.keys()
            .all(|k| !k.starts_with("imputed.") && !k.starts_with("from."))
    );
    // a cross-section method has no source period column
    let t = score(&fw, &["--impute", "median"]).unwrap();
    let row = &t[&("a".to_string(), "2023-02".to_string())];
    assert_eq!(row["imputed.v"], "median");
    assert!(!row.contains_key("from.v"));
}

fn fails(fw: &str, extra: &[&str], code: i32, needles: &[&str]) {
    let (got, err) = score(fw, extra).expect_err("must fail");
    assert_eq!(got, code, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in:\n{err}");
    }
}

#[test]
fn bad_declarations_are_framework_or_usage_errors() {
    let (dir, clean) = (tempdir(), tempdir());
    let fw = small(clean.path(), None, false);
    for (impute, needles) in [
        (
            "carry_fowrard",
            &["unknown impute method", "carry_forward"][..],
        ),
        ("latest", &["carry_forward", "max_periods"][..]),
        (
            "{ method = \"carry_forward\", max_time = 2 }",
            &["max_time", "max_periods"][..],
        ),
        (
            "{ method = \"carry_forward\", max_periods = 0 }",
            &["a whole number ≥ 1"][..],
        ),
        (
            "{ method = \"carry_forward\", max_periods = 1.5 }",
            &["a whole number ≥ 1"][..],
        ),
        (
            "{ method = \"interpolate\", ends = \"both\" }",
            &["\"none\" or \"nearest\""][..],
        ),
        (
            "{ method = \"median\", max_periods = 2 }",
            &["unknown key `max_periods`"][..],
        ),
        (
            "[\"carry_forward\", \"none\", \"median\"]",
            &["`none` cannot be a step of a chain"][..],
        ),
        ("[]", &["at least one method"][..]),
        (
            "[\"carry_forward\", \"group_median\"]",
            &["group imputation needs a group column"][..],
        ),
    ] {
        // In the framework file: a diagnostic with its position.
        let quoted = if impute.starts_with(['{', '[']) {
            impute.to_string()
        } else {
            format!("{impute:?}")
        };
        let file = small(dir.path(), Some(&quoted), false);
        fails(&file, &[], 2, needles);
        fails(&file, &[], 2, &["f.toml:"]);
        // On the command line: a usage error (the group check has its own words there).
        if !impute.contains("group_median") {
            fails(&fw, &["--impute", impute], 2, needles);
        }
    }
    fails(
        &fw,
        &["--impute", "[\"carry_forward\", \"group_median\"]"],
        2,
        &["no [units] group column"],
    );
    fails(
        &fw,
        &[
            "--impute",
            "[\"carry_forward\", \"median\"]",
            "--set",
            "impute.max_periods=2",
        ],
        2,
        &["chain"],
    );
}

#[test]
fn panel_methods_need_periods() {
    let dir = tempdir();
    let text = one_indicator_framework(SMALL_HEAD, "x")
        .replace("period = \"month\"\n", "")
        .replace("GROUP", "")
        .replace("IMPUTE", "impute = [\"interpolate\", \"median\"]");
    std::fs::write(dir.path().join("f.toml"), text).unwrap();
    std::fs::write(dir.path().join("monthly.csv"), "code,g,x\na,g1,1\nb,g1,\n").unwrap();
    let fw = dir.path().join("f.toml");
    let fw = fw.to_str().unwrap();
    fails(
        fw,
        &[],
        2,
        &["`interpolate` takes values from other periods", "f.toml:"],
    );
    let text = std::fs::read_to_string(fw)
        .unwrap()
        .replace("impute = [\"interpolate\", \"median\"]", "");
    std::fs::write(fw, text).unwrap();
    fails(
        fw,
        &["--impute", "carry_forward"],
        2,
        &["takes values from other periods", "no [units] period"],
    );
    // A cross-section method still works there.
    let t = score(fw, &["--impute", "median"]);
    assert!(t.is_ok(), "{t:?}");
}

#[test]
fn the_methods_parse_to_what_they_say() {
    use kapok::framework::methods::{CliMethod, parse_cli};
    use kapok::pipeline::Ends;
    let parse = |s: &str| match parse_cli("impute", s).unwrap() {
        CliMethod::Impute(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        parse("carry_forward"),
        Impute::CarryForward {
            max_periods: None,
            ends: Ends::None
        }
    );
    assert_eq!(
        parse("{ method = \"carry_forward\", max_periods = 2 }"),
        Impute::CarryForward {
            max_periods: Some(2),
            ends: Ends::None
        }
    );
    assert_eq!(
        parse("{ method = \"interpolate\", ends = \"nearest\" }"),
        Impute::Interpolate {
            ends: Ends::Nearest
        }
    );
    assert_eq!(
        parse("[{ method = \"carry_forward\", max_periods = 2 }, \"group_median\"]"),
        Impute::Chain(vec![
            Impute::CarryForward {
                max_periods: Some(2),
                ends: Ends::None
            },
            Impute::GroupMedian
        ])
    );
    assert_eq!(parse("[\"median\"]"), Impute::Median);
}

/// The sample with a late department: Baiyun's (440111) 12345 hotline rows of 2023-12 left out
/// of a temporary copy, carried forward from 2023-11 — in the score columns and, in words, in
/// the report's notes (Chinese and English).
#[test]
fn a_late_department_is_carried_forward_and_said_in_the_report() {
    let dir = tempdir();
    let text = super::util::framework_text_anywhere("indicators/hongmian.toml");
    let late = "FROM hotline h\nJOIN streets s ON CAST(h.street_code AS VARCHAR) = CAST(s.street_code AS VARCHAR)\n";
    assert!(text.contains(late), "the hotline query changed");
    let text = text
        .replace(
            late,
            &format!(
                "{late}WHERE NOT (CAST(s.district_code AS VARCHAR) = '440111' AND CAST(h.month AS VARCHAR) LIKE '2023-12%')\n"
            ),
        )
        .replace(
            "\nimpute = \"none\"\n",
            "\nimpute = { method = \"carry_forward\", max_periods = 2 }\n",
        );
    let fw = dir.path().join("late.toml");
    std::fs::write(&fw, text).unwrap();
    let fw = fw.to_str().unwrap();
    let t = score(fw, &[]).unwrap();
    let row = &t[&("440111".to_string(), "2023-12".to_string())];
    let before = &t[&("440111".to_string(), "2023-11".to_string())];
    for id in ["hotline_on_time_rate", "hotline_satisfaction"] {
        assert_eq!(row[&format!("raw.{id}")], "", "{id} is missing as read");
        assert_eq!(row[&format!("imputed.{id}")], "carry_forward");
        assert_eq!(row[&format!("from.{id}")], "2023-11");
        assert!(before[&format!("imputed.{id}")].is_empty());
        assert!(!before[&format!("raw.{id}")].is_empty());
    }
    // Nothing else of the sample is missing in 2023-12 and 2023-11 for Baiyun.
    assert!(row["imputed.theft_rate"].is_empty());
    // The audit scores 2023-12 as `score` does, the carried values included: every score of
    // every node equal to the whole panel's.
    let framework = kapok::load(Path::new(fw)).unwrap();
    let (panel, _) = kapok::read_panel(&framework, None).unwrap();
    let p = panel.period_index("2023-12").unwrap();
    let whole = kapok::evaluate(&framework, panel.clone()).unwrap();
    let (audit, _) = kapok::explain::audit::audit(&framework, &panel, p).unwrap();
    let one = &audit.results;
    let baiyun = panel.units.iter().position(|u| u == "440111").unwrap();
    let hotline = panel
        .indicators
        .iter()
        .position(|&n| framework.nodes[n].id == "hotline_on_time_rate")
        .unwrap();
    assert!(one.imputed_values().unwrap()[[0, baiyun, hotline]].is_finite());
    for u in 0..panel.units.len() {
        for node in 0..framework.nodes.len() {
            let (a, b) = (one.scores[[0, u, node]], whole.scores[[p, u, node]]);
            assert!(
                a.to_bits() == b.to_bits(),
                "{} {}: audit {a} vs score {b}",
                panel.units[u],
                framework.nodes[node].id
            );
        }
    }
    for (lang, needle) in [
        (
            "zh",
            "白云区“12345工单按时办结率”数据缺失，沿用 2023-11 数据。",
        ),
        (
            "en",
            "Baiyun District: “12345 hotline tickets resolved on time” data missing, 2023-11 values carried forward.",
        ),
    ] {
        let out = dir.path().join(format!("report-{lang}"));
        // The Chinese report with its unit profiles, which name the source period too.
        let profiles = if lang == "zh" {
            "--profiles"
        } else {
            "--no-profiles"
        };
        let run = kapok(&[
            "report",
            fw,
            "-o",
            out.to_str().unwrap(),
            "--lang",
            lang,
            "--svg",
            profiles,
        ]);
        let (_, err) = texts(&run);
        assert_eq!(run.status.code(), Some(0), "{err}");
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(
            html.contains(needle),
            "{lang}: `{needle}` not in the report"
        );
        if lang == "zh" {
            assert!(
                html.contains("“12345工单按时办结率”缺失，插补为")
                    && html.contains("（取自 2023-11）"),
                "the profile of Baiyun names the source period"
            );
            // The workbook's imputed-values sheet: Baiyun's cells with the source period.
            use calamine::Reader;
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook(out.join("results.xlsx")).unwrap();
            let sheet = wb.worksheet_range("插补值").unwrap();
            let rows: Vec<String> = sheet
                .rows()
                .map(|r| {
                    r.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .filter(|r| r.contains("440111"))
                .collect();
            assert!(!rows.is_empty());
            assert!(
                rows.iter()
                    .all(|r| r.contains("沿用本单位最近一期观测值") && r.contains("取自 2023-11")),
                "{rows:?}"
            );
        }
    }
}

/// `kapok import coinr` on a panel iData (with a `Time` column) writes a framework with periods
/// that `kapok score` evaluates, one row per unit and year.
#[test]
fn import_coinr_of_a_panel_has_periods_and_scores() {
    let dir = tempdir();
    let fw = import_holes(dir.path(), "\"none\"");
    let text = std::fs::read_to_string(&fw).unwrap();
    assert!(text.contains("# impute = { method = \"carry_forward\", max_periods = 2 }"));
    let t = score(
        fw.to_str().unwrap(),
        &[
            "--impute",
            "{ method = \"carry_forward\", max_periods = 2 }",
        ],
    )
    .unwrap();
    assert_eq!(t.len(), 51 * 5);
    let years: std::collections::BTreeSet<&str> = t.keys().map(|k| k.1.as_str()).collect();
    assert_eq!(
        years.into_iter().collect::<Vec<_>>(),
        ["2018", "2019", "2020", "2021", "2022"]
    );
    // EST 2021 was blanked as a whole row: every indicator carried from 2020.
    let est = &t[&("EST".to_string(), "2021".to_string())];
    assert_eq!(est["imputed.LPI"], "carry_forward");
    assert_eq!(est["from.LPI"], "2020");
    assert!(!est["score.Index"].is_empty());
}

/// The whole COINr panel chain: `latest` with `max_time = 2`, then min-max over the whole panel
/// (`Normalise(purse, global = TRUE)`), then the arithmetic mean at every level per year, and the
/// index ranks: every value to 1e-9 against COINr's outputs.
#[test]
fn full_chain_carry_forward_then_panel_minmax_matches_coinr() {
    let dir = tempdir();
    let path = import_holes(
        dir.path(),
        "{ method = \"carry_forward\", max_periods = 2 }",
    );
    // `kapok import coinr` of a panel normalises over the whole panel, as COINr's purse default.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("normalize = { method = \"minmax\", range = [0, 100], over = \"panel\" }"),
        "{text}"
    );
    let fw = kapok::load(&path).unwrap();
    let (panel, _) = kapok::read_panel(&fw, None).unwrap();
    let r = kapok::evaluate(&fw, panel).unwrap();
    let mut compared = 0;
    for name in [
        "panel_holes_imp_latest_mt2_normglobal_normalised.csv",
        "panel_holes_imp_latest_mt2_normglobal_aggregated.csv",
        "panel_holes_imp_latest_mt2_normglobal_index_rank.csv",
    ] {
        let csv = Csv::read(&fixture(name));
        let (cu, ct) = (csv.col("uCode"), csv.col("Time"));
        for row in &csv.rows {
            let u = r.panel.units.iter().position(|x| *x == row[cu]).unwrap();
            let p = r.panel.period_index(&row[ct]).unwrap();
            for (c, h) in csv.header.iter().enumerate().skip(2) {
                if h == "Rank" {
                    assert_eq!(f64::from(r.rank(p, u, 0)), num(&row[c]));
                    continue;
                }
                let node = fw.node_by_id(&kapok::import::coinr::to_id(h)).unwrap();
                let (got, want) = (r.scores[[p, u, node]], num(&row[c]));
                assert!(
                    (got.is_nan() && want.is_nan())
                        || (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{name}: {} {} {h}: {got} vs {want}",
                    row[cu],
                    row[ct]
                );
                compared += 1;
            }
        }
    }
    // 255 unit-years × (49 indicators + 8 pillars + 2 sub-indices + the index), then the index
    // again in the rank file: nothing was skipped.
    assert!(compared > 15_000, "{compared}");
}
