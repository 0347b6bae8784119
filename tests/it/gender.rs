//! Node formulas, shared nodes and indices where lower is better, checked by hand on small
//! frameworks and against numbers nobody here wrote: `indicators/undp-gdi.toml` must reproduce
//! every GDI value UNDP published for 1990–2022 (HDR 2023/24, `data/undp-gdi/expected.csv`) and
//! the 2022 GDI group of every country; `indicators/undp-gii.toml` must equal an independent
//! implementation of the GII technical notes (`tests/fixtures/undp-gii/`), which itself matches
//! all 4,711 GII values UNDP published (see its README).

use std::collections::BTreeMap;
use std::path::Path;

use super::util::{Csv, kapok, root, tempdir, texts};

/// Published GDI rows (`expected.csv` has 5,014 data rows, every one with a GDI).
const PUBLISHED_GDI: usize = 5014;
/// Countries with a 2022 GDI group.
const GROUPED_2022: usize = 182;
/// GII rows of the inputs (every one computable).
const GII_ROWS: usize = 4711;

/// `score.<node>` of every (unit, period) of `kapok score FRAMEWORK -o …`.
fn scores(framework: &str, node: &str) -> BTreeMap<(String, String), (Option<f64>, Option<u32>)> {
    let dir = tempdir();
    let out = dir.path().join("out.csv");
    let run = kapok(&["score", framework, "-o", out.to_str().unwrap()]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let csv = Csv::read(&out);
    let (unit, period) = (csv.col("unit"), csv.col("period"));
    let (score, rank) = (
        csv.col(&format!("score.{node}")),
        csv.col(&format!("rank.{node}")),
    );
    csv.rows
        .iter()
        .map(|r| {
            (
                (r[unit].clone(), r[period].clone()),
                (r[score].parse().ok(), r[rank].parse().ok()),
            )
        })
        .collect()
}

/// UNDP's GDI group from the published (3-decimal) GDI: the absolute deviation from parity
/// in thousandths, group 1 up to 25, 2 up to 50, 3 up to 75, 4 up to 100, else 5 (HDR 2023/24
/// technical notes; bounds inclusive). Thousandths are whole numbers, so 1 − 0.975 is not
/// taken for more than 0.025 as it is in floating point.
fn gdi_group(gdi: f64) -> u32 {
    let dev = ((gdi * 1000.0).round() as i64 - 1000).unsigned_abs();
    match dev {
        0..=25 => 1,
        26..=50 => 2,
        51..=75 => 3,
        76..=100 => 4,
        _ => 5,
    }
}

#[test]
fn kapok_reproduces_every_published_gdi_and_the_2022_groups() {
    let kapok = scores("indicators/undp-gdi.toml", "gdi");
    let expected = Csv::read(&root().join("data/undp-gdi/expected.csv"));
    assert_eq!(expected.rows.len(), PUBLISHED_GDI);
    let (iso3, year, gdi, group) = (
        expected.col("iso3"),
        expected.col("year"),
        expected.col("gdi"),
        expected.col("gdi_group"),
    );
    let (mut matched, mut grouped, mut max_diff) = (0, 0, 0f64);
    let mut wrong = Vec::new();
    for row in &expected.rows {
        let key = (row[iso3].clone(), row[year].clone());
        let published: f64 = row[gdi].parse().unwrap();
        let Some(&(Some(score), _)) = kapok.get(&key) else {
            wrong.push(format!("{key:?}: kapok has no GDI, UNDP has {published}"));
            continue;
        };
        max_diff = max_diff.max((score - published).abs());
        let rounded: f64 = format!("{score:.3}").parse().unwrap();
        if rounded == published {
            matched += 1;
        } else {
            wrong.push(format!("{key:?}: kapok {score}, UNDP {published}"));
        }
        if let Ok(g) = row[group].parse::<u32>() {
            if gdi_group(rounded) == g {
                grouped += 1;
            } else {
                wrong.push(format!(
                    "{key:?}: group {} from kapok, UNDP {g}",
                    gdi_group(rounded)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} problem(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(matched, PUBLISHED_GDI);
    assert_eq!(grouped, GROUPED_2022);
    assert!(max_diff <= 0.0005, "max difference {max_diff}");
    // Every input row has a GDI: nothing more, nothing less.
    assert_eq!(kapok.len(), PUBLISHED_GDI);
}

#[test]
fn kapok_computes_the_gii_of_the_technical_notes_and_ranks_it_lowest_first() {
    let kapok = scores("indicators/undp-gii.toml", "gii");
    let reference = Csv::read(&root().join("tests/fixtures/undp-gii/reference.csv"));
    assert_eq!(reference.rows.len(), GII_ROWS);
    let (iso3, year, gii, gii_3) = (
        reference.col("iso3"),
        reference.col("year"),
        reference.col("gii"),
        reference.col("gii_3"),
    );
    let mut wrong = Vec::new();
    let mut max_diff = 0f64;
    for row in &reference.rows {
        let key = (row[iso3].clone(), row[year].clone());
        let want: f64 = row[gii].parse().unwrap();
        match kapok.get(&key) {
            Some(&(Some(got), _)) => {
                max_diff = max_diff.max((got - want).abs());
                if format!("{got:.3}") != row[gii_3] {
                    wrong.push(format!("{key:?}: kapok {got:.3}, reference {}", row[gii_3]));
                }
            }
            _ => wrong.push(format!("{key:?}: kapok has no GII")),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} problem(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(max_diff < 1e-9, "max difference {max_diff}");
    assert_eq!(kapok.len(), GII_ROWS);

    // Lower is better: 2022's ranks run from the lowest GII up, the published sign kept.
    let mut ranked: Vec<(f64, u32)> = kapok
        .iter()
        .filter(|((_, p), _)| p == "2022")
        .filter_map(|(_, &(s, r))| Some((s?, r?)))
        .collect();
    assert_eq!(
        ranked.len(),
        166,
        "UNDP ranks 166 countries on the 2022 GII"
    );
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (k, &(score, rank)) in ranked.iter().enumerate() {
        assert_eq!(rank as usize, k + 1, "GII {score} should rank {}", k + 1);
        assert!((0.0..1.0).contains(&score));
    }
    // Denmark has the lowest 2022 GII (0.009): rank 1.
    let dnk = kapok[&("DNK".to_string(), "2022".to_string())];
    assert_eq!(
        (format!("{:.3}", dnk.0.unwrap()), dnk.1),
        ("0.009".into(), Some(1))
    );
}

/// A framework over three units whose indicators are the data as they are
/// (`normalize = "none"`), with `nodes` the dimensions and indicators.
fn by_hand(dir: &Path, index: &str, nodes: &str, data: &str) -> String {
    std::fs::write(dir.join("d.csv"), data).unwrap();
    let text = format!(
        r#"[index]
id = "idx"
name = "Index"
{index}

[units]
key = "code"

[defaults]
normalize = "none"

[[source]]
name = "d"
path = "d.csv"

{nodes}"#
    );
    let f = dir.join("f.toml");
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

fn indicator(id: &str, parent: &str, weight: &str) -> String {
    format!(
        "[[indicator]]\nid = \"{id}\"\nname = \"{id}\"\nparent = {parent}\nweight = {weight}\ndirection = \"higher\"\n\n"
    )
}

/// `(unit, score, rank)` of `node` from `kapok score f -o out.csv` with `extra` options.
fn table(f: &str, node: &str, extra: &[&str]) -> Vec<(String, Option<f64>, Option<u32>)> {
    let dir = tempdir();
    let out = dir.path().join("out.csv");
    let mut args = vec!["score", f, "-o", out.to_str().unwrap()];
    args.extend(extra);
    let run = kapok(&args);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let csv = Csv::read(&out);
    let (u, s, r) = (
        csv.col("unit"),
        csv.col(&format!("score.{node}")),
        csv.col(&format!("rank.{node}")),
    );
    let mut rows: Vec<_> = csv
        .rows
        .iter()
        .map(|x| (x[u].clone(), x[s].parse().ok(), x[r].parse().ok()))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn close(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() < 1e-12)
}

/// `b` counts in both dimensions, with weight 1 in `d1` and 3 in `d2`:
/// u1 (a, b, c) = (1, 2, 3): d1 = 1.5, d2 = (3·2 + 3)/4 = 2.25, index 1.875;
/// u2 = (4, 0, 8): d1 = 2, d2 = 2, index 2; u3 = (2, 6, 2): d1 = 4, d2 = 5, index 4.5.
#[test]
fn a_shared_indicator_counts_in_every_parent_with_its_weight_there() {
    let dir = tempdir();
    let nodes = format!(
        "[[dimension]]\nid = \"d1\"\nname = \"d1\"\n\n[[dimension]]\nid = \"d2\"\nname = \"d2\"\n\n{}{}{}",
        indicator("a", "\"d1\"", "1"),
        indicator("b", "[\"d1\", \"d2\"]", "[1, 3]"),
        indicator("c", "\"d2\"", "1"),
    );
    let f = by_hand(
        dir.path(),
        "",
        &nodes,
        "code,a,b,c\nu1,1,2,3\nu2,4,0,8\nu3,2,6,2\n",
    );
    let idx = table(&f, "idx", &[]);
    let want = [("u1", 1.875, 3), ("u2", 2.0, 2), ("u3", 4.5, 1)];
    for ((unit, score, rank), (wu, ws, wr)) in idx.iter().zip(want) {
        assert_eq!(unit, wu);
        assert!(close(*score, ws), "{unit}: {score:?}, want {ws}");
        assert_eq!(*rank, Some(wr), "{unit}");
    }
    let d2 = table(&f, "d2", &[]);
    assert!(
        close(d2[0].1, 2.25) && close(d2[1].1, 2.0) && close(d2[2].1, 5.0),
        "{d2:?}"
    );
    // --weight sets b's weight under its first parent, d1: u1's d1 = (1 + 3·2)/4 = 1.75.
    let d1 = table(&f, "d1", &["--weight", "b=3"]);
    assert!(close(d1[0].1, 1.75), "{d1:?}");
    assert!(close(table(&f, "d2", &["--weight", "b=3"])[0].1, 2.25));
}

/// `idx = a / c` where lower is better; u2 has no `a`, so no index unless `coalesce` says
/// what a missing `a` counts as.
#[test]
fn a_formula_index_follows_missing_values_and_ranks_lowest_first() {
    let dir = tempdir();
    let data = "code,a,c\nu1,3,2\nu2,,4\nu3,1,4\n";
    let nodes = format!(
        "{}{}",
        indicator("a", "\"idx\"", "1"),
        indicator("c", "\"idx\"", "1")
    );
    let f = by_hand(
        dir.path(),
        "formula = \"a / c\"\ndirection = \"lower\"",
        &nodes,
        data,
    );
    let idx = table(&f, "idx", &[]);
    assert!(close(idx[0].1, 1.5) && idx[0].2 == Some(2), "{idx:?}");
    assert_eq!((idx[1].1, idx[1].2), (None, None), "{idx:?}");
    assert!(close(idx[2].1, 0.25) && idx[2].2 == Some(1), "{idx:?}");

    let f = by_hand(
        dir.path(),
        "formula = \"coalesce(a, 0) / c\"\ndirection = \"lower\"",
        &nodes,
        data,
    );
    let idx = table(&f, "idx", &[]);
    let ranks: Vec<Option<u32>> = idx.iter().map(|r| r.2).collect();
    assert!(close(idx[1].1, 0.0), "{idx:?}");
    assert_eq!(ranks, [Some(3), Some(1), Some(2)]);

    // The report explains the formula with the children's names and the direction.
    let out = dir.path().join("report");
    let run = kapok(&["report", &f, "--lang", "en", "-o", out.to_str().unwrap()]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("formula: coalesce(a, 0) ÷ c"),
        "no formula in words"
    );
    assert!(
        html.contains("lowest first"),
        "no direction in the ranking rule"
    );
}

/// Weights from the data pass over a formula node (weights do not enter it) and are refused
/// for a framework with shared nodes, whose weight under each parent a `[weights]` table
/// cannot hold.
#[test]
fn weights_from_the_data_keep_a_formulas_children_and_refuse_shared_nodes() {
    let run = kapok(&["weights", "indicators/undp-gdi.toml", "--method", "pca"]);
    let (out, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        out.contains("# gdi: a formula (hdi_f / hdi_m), which weights do not enter"),
        "{out}"
    );
    assert!(
        out.contains("\nhdi_f = 1\n") && out.contains("\nhdi_m = 1\n"),
        "{out}"
    );
    let run = kapok(&["weights", "indicators/undp-gii.toml", "--method", "equal"]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`health_f` counts under several parents (`g_f`, `health_bar`)"),
        "{err}"
    );
}

/// The audit correlates a node where lower is better with its scores negated, so the GII's
/// two sides agree with it positively; its formula children cannot be removed, and the
/// constant male health term trips no check under `normalize = "none"`.
#[test]
fn the_audit_of_the_gii_orients_correlations_and_explains_the_formula() {
    let dir = tempdir();
    let out = dir.path().join("audit");
    let run = kapok(&[
        "audit",
        "indicators/undp-gii.toml",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let corr = Csv::read(&out.join("correlations.csv"));
    let (id, pearson) = (corr.col("id"), corr.col("pearson_parent"));
    let r = |node: &str| -> f64 {
        let row = corr.rows.iter().find(|r| r[id] == node).unwrap();
        row[pearson].parse().unwrap()
    };
    assert!(
        r("harm") > 0.9 && r("gbar") > 0.8,
        "{} {}",
        r("harm"),
        r("gbar")
    );
    let ag = Csv::read(&out.join("aggregates.csv"));
    let (aid, how) = (ag.col("id"), ag.col("computed_as"));
    let gii = ag.rows.iter().find(|r| r[aid] == "gii").unwrap();
    assert_eq!(
        gii[how],
        "formula: 1 − Harmonic mean of the female and male indices ÷ Reference: geometric mean of the dimension means; lower is better, ranked lowest first"
    );
    let rm = Csv::read(&out.join("removal.csv"));
    let (rid, note) = (rm.col("id"), rm.col("note"));
    let harm = rm.rows.iter().find(|r| r[rid] == "harm").unwrap();
    assert!(
        harm[note].contains("used by the formula of `gii`"),
        "{:?}",
        harm
    );
    // Effective weights are not defined below the formula: empty, not a number.
    let w = Csv::read(&out.join("weights.csv"));
    let (wid, eff, also) = (w.col("id"), w.col("effective_weight"), w.col("also_under"));
    let health_f = w.rows.iter().find(|r| r[wid] == "health_f").unwrap();
    assert_eq!(health_f[eff], "");
    assert_eq!(health_f[also], "health_bar (1)");
}
