//! Robustness analyses (`kapok robustness`, `kapok::robustness`): COINr's own uncertainty runs
//! replayed, the estimators on a function whose Sobol indices are known in closed form, the fast
//! path against a full evaluation per run, reproducibility, and the run table's bad inputs.

use std::cell::Cell;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use kapok::framework::overrides::{MethodKind, Overrides, SetParam};
use kapok::framework::uncertainty::{Input, InputKind, NoisyWeight, Sampling, Uncertainty};
use kapok::robustness::{Analysis, Options, Plan, RunSpec, analyse, design, stats, table};
use kapok::{Framework, Panel};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::util::{Csv, kapok, root, tempdir, texts};

const SENS: &str = "tests/fixtures/coinr-asem/sensitivity";

/// COINr's codes of the ten weights its runs vary are kapok's node ids in `asem.toml`.
fn coinr_run_table(dir: &Path) -> PathBuf {
    let mut r = csv::Reader::from_path(root().join(SENS).join("ua_N100_params.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    let mut out = String::from("run,aggregate");
    for h in header.iter().skip(2) {
        out.push_str(&format!(",weight:{}", h.strip_prefix("w_").unwrap()));
    }
    out.push('\n');
    for rec in r.records() {
        let rec = rec.unwrap();
        let agg = match &rec[1] {
            "a_amean" => "arithmetic",
            "a_gmean" => "geometric",
            other => panic!("unexpected COINr aggregation {other}"),
        };
        out.push_str(&format!("{},{agg}", &rec[0]));
        for w in rec.iter().skip(2) {
            out.push_str(&format!(",{w}"));
        }
        out.push('\n');
    }
    let path = dir.join("coinr_runs.csv");
    std::fs::write(&path, out).unwrap();
    path
}

/// A CSV file of COINr's, keyed by its first column.
fn coinr_table(file: &str) -> (Vec<String>, HashMap<String, Vec<String>>) {
    let mut r = csv::Reader::from_path(root().join(SENS).join(file)).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec.iter().map(str::to_string).collect())
        })
        .collect();
    (header, rows)
}

fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("`{s}` is not a number"))
}

/// The nominal set-up of COINr's analysis: asem.toml with min-max onto [1, 100].
const COINR_SET: [&str; 2] = ["--set", "normalize.range=[1,100]"];

#[test]
fn coinr_uncertainty_runs_replayed_give_coinr_scores_and_rank_statistics() {
    let dir = tempdir();
    let runs = coinr_run_table(dir.path());
    let out = dir.path().join("out");
    let o = kapok(&[
        "robustness",
        "indicators/asem.toml",
        COINR_SET[0],
        COINR_SET[1],
        "--replay",
        runs.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let (stdout, stderr) = texts(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");

    // Every unit's Index in every run, as COINr computed it.
    let (header, coinr) = coinr_table("ua_N100_scores.csv");
    assert_eq!(coinr.len(), 51);
    let column: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let scores = Csv::read(&out.join("scores.csv"));
    let (c_run, c_unit, c_score) = (scores.col("run"), scores.col("unit"), scores.col("score"));
    let mut matched = 0;
    let mut worst: f64 = 0.0;
    for row in &scores.rows {
        let expected = num(&coinr[&row[c_unit]][column[format!("r_{}", row[c_run]).as_str()]]);
        let d = (num(&row[c_score]) - expected).abs();
        worst = worst.max(d);
        assert!(
            d <= 1e-9,
            "run {} unit {}: kapok {} COINr {expected}",
            row[c_run],
            row[c_unit],
            row[c_score]
        );
        matched += 1;
    }
    assert_eq!(
        matched,
        51 * 100,
        "every unit in every run (worst {worst:e})"
    );

    // Rank statistics over the 100 runs (R's type-7 quantiles, ties = min).
    let (_, coinr) = coinr_table("ua_N100_rankstats.csv");
    let ranks = Csv::read(&out.join("ranks.csv"));
    assert_eq!(ranks.rows.len(), 51);
    for row in &ranks.rows {
        let unit = &row[ranks.col("unit")];
        let expected = &coinr[unit];
        for (k, name) in ["nominal", "mean", "median", "q5", "q95"]
            .iter()
            .enumerate()
        {
            let (a, b) = (num(&row[ranks.col(name)]), num(&expected[k + 1]));
            assert!((a - b).abs() <= 1e-9, "{unit} {name}: kapok {a} COINr {b}");
        }
        assert_eq!(row[ranks.col("runs")], "100");
    }
}

/// The Ishigami function (a = 7, b = 0.1) on [−π, π]³.
fn ishigami(x: &[f64]) -> f64 {
    x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
}

/// Closed-form first-order and total indices of the Ishigami function (Sobol' and Levitan
/// 1999): V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2, V1 = (1 + bπ⁴/5)²/2, V2 = a²/8,
/// V13 = b²π⁸(1/18 − 1/50), every other term zero.
fn ishigami_indices() -> ([f64; 3], [f64; 3]) {
    let (a, b) = (7.0_f64, 0.1_f64);
    let v = a * a / 8.0 + b * PI.powi(4) / 5.0 + b * b * PI.powi(8) / 18.0 + 0.5;
    let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
    let v2 = a * a / 8.0;
    let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
    ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
}

/// The Ishigami outputs of a Saltelli design of base size `n` (A, B, AB_1, AB_2, AB_3).
fn ishigami_design(sampling: Sampling, seed: u64, n: usize) -> Vec<f64> {
    let u = design::uniforms(sampling, seed, n, 6);
    let x = |u: &[f64]| -> Vec<f64> { u.iter().map(|u| -PI + 2.0 * PI * u).collect() };
    let mut y: Vec<f64> = u.iter().map(|r| ishigami(&x(&r[..3]))).collect();
    y.extend(u.iter().map(|r| ishigami(&x(&r[3..]))));
    for i in 0..3 {
        y.extend(u.iter().map(|r| {
            let mut ab = r[..3].to_vec();
            ab[i] = r[3 + i];
            ishigami(&x(&ab))
        }));
    }
    y
}

#[test]
fn the_closed_form_ishigami_indices_are_the_known_values() {
    let (s, st) = ishigami_indices();
    for (got, want) in s
        .iter()
        .chain(&st)
        .zip([0.3139, 0.4424, 0.0, 0.5576, 0.4424, 0.2437])
    {
        assert!((got - want).abs() < 5e-5, "{got} vs {want}");
    }
}

#[test]
fn sobol_estimators_recover_the_ishigami_indices() {
    // N = 2^13 quasi-random rows: 40,960 evaluations per seed. Measured on seeds 1–4, every
    // estimate is within 0.004 of the truth (the quasi-random error falls roughly like 1/N);
    // the tolerance, 0.01, leaves room for that and is still far smaller than the gaps between
    // the indices, so an estimator with a wrong formula (Sobol 1993 instead of Saltelli 2010,
    // total order without the factor 2, varY over A only) fails it. The bootstrap 90 %
    // intervals are wider (half-widths 0.01–0.03): they treat the rows as independent draws.
    let n = 1 << 13;
    let names: Vec<String> = ["x1", "x2", "x3"].map(String::from).to_vec();
    let (s, st) = ishigami_indices();
    let mut misses = 0;
    let mut intervals = 0;
    for seed in 1..=4 {
        let y = ishigami_design(Sampling::Sobol, seed, n);
        let est = stats::sensitivity(&y, n, &names, 200, seed);
        assert_eq!(est.len(), 3);
        for (i, e) in est.iter().enumerate() {
            assert_eq!(e.input, names[i]);
            assert!(
                (e.si - s[i]).abs() < 0.01,
                "seed {seed} S{}: {} vs {}",
                i + 1,
                e.si,
                s[i]
            );
            assert!(
                (e.sti - st[i]).abs() < 0.01,
                "seed {seed} ST{}: {} vs {}",
                i + 1,
                e.sti,
                st[i]
            );
            for (q5, est, q95, truth) in [
                (e.si_q5, e.si, e.si_q95, s[i]),
                (e.sti_q5, e.sti, e.sti_q95, st[i]),
            ] {
                assert!(q5 <= est && est <= q95, "{q5} ≤ {est} ≤ {q95}");
                assert!(q95 - q5 < 0.08, "interval {q5}–{q95} too wide");
                intervals += 1;
                if !(q5 <= truth && truth <= q95) {
                    misses += 1;
                }
            }
        }
    }
    // The bootstrap treats the rows as independent draws; quasi-random rows are more even
    // than that, so the 90 % intervals are conservative and all hold the truth.
    assert_eq!(intervals, 24);
    assert_eq!(
        misses, 0,
        "{misses} of 24 bootstrap intervals miss the true value"
    );
}

#[test]
fn sensitivity_by_hand_on_two_rows() {
    // yA = (1, 3), yB = (2, 4), yAB = (2, 5).
    // varY = var(1, 3, 2, 4) = 5/3.
    // Si = mean(yB·(yAB − yA)) / varY = mean(2·1, 4·2) / (5/3) = 5 · 3/5 = 3.
    // STi = Σ (yA − yAB)² / (2N·varY) = (1 + 4) / (4 · 5/3) = 0.75.
    let names = vec!["x".to_string()];
    let y = [1.0, 3.0, 2.0, 4.0, 2.0, 5.0];
    let e = &stats::sensitivity(&y, 2, &names, 400, 1)[0];
    assert!((e.si - 3.0).abs() < 1e-12, "{}", e.si);
    assert!((e.sti - 0.75).abs() < 1e-12, "{}", e.sti);
    // A resample of rows (1, 1) gives Si = 2·3/5 = 1.2, STi = 2·3/20 = 0.3; (2, 2) gives
    // Si = 8·3/5 = 4.8, STi = 8·3/20 = 1.2; (1, 2) the estimates above. With 400 resamples
    // all three occur, so the 5 % and 95 % quantiles are the extremes.
    assert!((e.si_q5 - 1.2).abs() < 1e-12 && (e.si_q95 - 4.8).abs() < 1e-12);
    assert!((e.sti_q5 - 0.3).abs() < 1e-12 && (e.sti_q95 - 1.2).abs() < 1e-12);
    // No bootstrap: no intervals.
    let e = &stats::sensitivity(&y, 2, &names, 0, 1)[0];
    assert!(e.si_q5.is_nan() && e.sti_q95.is_nan());
}

#[test]
fn sensitivity_by_hand_with_a_failed_run() {
    // Two inputs, N = 3: yA = (1, 2, 3), yB = (3, 1, 2), yAB1 = (2, NaN, 3), yAB2 = (1, 2, 4).
    // varY = var(1, 2, 3, 3, 1, 2) = (1 + 0 + 1 + 1 + 1 + 0)/5 = 0.8.
    // S1 over the finite rows 1 and 3 (R's na.rm): mean(3·1, 2·0) / 0.8 = 1.5/0.8 = 1.875.
    // ST1: the NaN row drops out of the sum, N stays 3: (1 + 0) / (6 · 0.8) = 1/4.8.
    // S2 = mean(3·0, 1·0, 2·1) / 0.8 = (2/3)/0.8 = 5/6; ST2 = 1 / 4.8.
    let names = vec!["a".to_string(), "b".to_string()];
    let nan = f64::NAN;
    let y = [1.0, 2.0, 3.0, 3.0, 1.0, 2.0, 2.0, nan, 3.0, 1.0, 2.0, 4.0];
    let e = stats::sensitivity(&y, 3, &names, 0, 1);
    assert!((e[0].si - 1.875).abs() < 1e-12, "{}", e[0].si);
    assert!((e[0].sti - 1.0 / 4.8).abs() < 1e-12, "{}", e[0].sti);
    assert!((e[1].si - 5.0 / 6.0).abs() < 1e-12, "{}", e[1].si);
    assert!((e[1].sti - 1.0 / 4.8).abs() < 1e-12, "{}", e[1].sti);
}

/// ASEM's framework and panel, read once.
fn asem() -> &'static (Framework, Panel) {
    static ASEM: OnceLock<(Framework, Panel)> = OnceLock::new();
    ASEM.get_or_init(|| {
        let fw = kapok::load(&root().join("indicators/asem.toml")).unwrap();
        let (panel, _) = kapok::read_panel(&fw, None).unwrap();
        (fw, panel)
    })
}

/// A random run: weights of the 10 aggregates below the index (some zero), and maybe an
/// aggregation, a normalisation, a winsorisation limit and an excluded indicator.
fn run_strategy(ids: Vec<String>) -> impl Strategy<Value = Overrides> {
    let weight = prop_oneof![1 => Just(0.0), 9 => 0.05..3.0f64];
    (
        prop::collection::vec(prop::option::weighted(0.7, weight), ids.len()),
        prop::option::of(prop::sample::select(vec!["arithmetic", "geometric"])),
        prop::option::of(prop::sample::select(vec![
            "minmax",
            r#"{ method = "minmax", range = [1, 100] }"#,
            r#"{ method = "zscore", mean = 10, sd = 2 }"#,
        ])),
        prop::option::of(1..=5u32),
        prop::option::of(prop::sample::select(vec!["LPI", "Goods", "UNVote"])),
    )
        .prop_map(move |(w, agg, norm, winmax, excl)| {
            let mut o = Overrides::default();
            for (id, w) in ids.iter().zip(w) {
                if let Some(w) = w {
                    o.weights.push((id.clone(), w));
                }
            }
            if let Some(n) = norm {
                o.methods.push((MethodKind::Normalize, n.to_string()));
            }
            if let Some(a) = agg {
                o.methods.push((MethodKind::Aggregate, a.to_string()));
            }
            if let Some(k) = winmax {
                o.sets
                    .push(SetParam::parse(&format!("treat.winmax={k}")).unwrap());
            }
            o.exclude.extend(excl.map(str::to_string));
            o
        })
}

fn plan_of(runs: Vec<Overrides>) -> Plan {
    Plan {
        runs: runs
            .into_iter()
            .enumerate()
            .map(|(i, overrides)| RunSpec {
                run: i + 1,
                block: None,
                overrides,
            })
            .collect(),
        ..Plan::default()
    }
}

#[test]
fn the_fast_path_equals_a_full_evaluation_per_run() {
    let (fw, panel) = asem();
    let dims = fw.index().children.clone();
    let ids: Vec<String> = dims
        .iter()
        .flat_map(|&d| std::iter::once(d).chain(fw.nodes[d].children.clone()))
        .map(|n| fw.nodes[n].id.clone())
        .collect();
    assert_eq!(ids.len(), 10, "2 sub-indices and 8 pillars");
    let p = panel.periods.len() - 1;
    let (compared, failed) = (Cell::new(0usize), Cell::new(0usize));
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop::collection::vec(run_strategy(ids), 1..8);
    runner
        .run(&strategy, |runs| {
            let opts = |full| Options {
                nodes: dims.clone(),
                full,
                progress: None,
            };
            let fast = analyse(fw, panel, p, plan_of(runs.clone()), &opts(false)).unwrap();
            let full = analyse(fw, panel, p, plan_of(runs), &opts(true)).unwrap();
            let runs_of = |a: &Analysis| a.failed.iter().map(|f| f.run).collect::<Vec<_>>();
            prop_assert_eq!(runs_of(&fast), runs_of(&full));
            prop_assert_eq!(&fast.ranks, &full.ranks);
            for (a, b) in fast.scores.iter().zip(&full.scores) {
                prop_assert!(
                    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12,
                    "fast {} full {}",
                    a,
                    b
                );
            }
            prop_assert_eq!(&fast.rank_stats, &full.rank_stats);
            compared.set(compared.get() + fast.plan.runs.len() - fast.failed.len());
            failed.set(failed.get() + fast.failed.len());
            Ok(())
        })
        .unwrap();
    // The property cannot pass vacuously: most runs evaluate (only a zero weight on every
    // child of a node or a geometric mean of non-positive values fails).
    let (compared, failed) = (compared.get(), failed.get());
    assert!(
        compared >= 40 && compared > failed,
        "{compared} runs compared, {failed} failed in both"
    );
}

/// ±25 % on the weights of ASEM's sub-indices and pillars, and the aggregation.
fn asem_uncertainty(fw: &Framework, seed: u64) -> Uncertainty {
    let nodes: Vec<NoisyWeight> = fw
        .index()
        .children
        .iter()
        .flat_map(|&d| std::iter::once(d).chain(fw.nodes[d].children.clone()))
        .map(|node| NoisyWeight { node, noise: 0.25 })
        .collect();
    Uncertainty {
        inputs: vec![
            Input {
                kind: InputKind::Weights(nodes),
                span: 0..0,
            },
            Input {
                kind: InputKind::Method {
                    kind: MethodKind::Aggregate,
                    alternatives: vec!["arithmetic".into(), "geometric".into()],
                },
                span: 0..0,
            },
        ],
        seed,
        ..Uncertainty::default()
    }
}

/// ASEM with min-max onto [1, 100] (a geometric mean is defined).
fn asem_positive() -> Framework {
    let mut fw = asem().0.clone();
    fw.apply(&Overrides {
        sets: vec![SetParam::parse("normalize.range=[1,100]").unwrap()],
        ..Overrides::default()
    })
    .unwrap();
    fw
}

/// Everything an analysis computed, as bits.
fn fingerprint(a: &Analysis) -> String {
    let bits = |x: &f64| x.to_bits();
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        a.plan,
        a.scores.iter().map(bits).collect::<Vec<_>>(),
        a.ranks,
        a.rank_stats,
        a.sensitivity
            .as_ref()
            .map(|s| s.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>()),
        a.shifts.iter().map(bits).collect::<Vec<_>>()
    )
}

#[test]
fn the_same_seed_gives_the_same_analysis_on_any_number_of_threads() {
    let fw = asem_positive();
    let panel = &asem().1;
    let p = panel.periods.len() - 1;
    let analysis = |threads: usize, sampling: Sampling, seed: u64, sobol: bool| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut unc = asem_uncertainty(&fw, seed);
            unc.sampling = sampling;
            let plan = if sobol {
                design::saltelli(&fw, &unc, 16)
            } else {
                design::plain(&fw, &unc, 60)
            };
            let a = analyse(&fw, panel, p, plan, &Options::default()).unwrap();
            assert!(a.failed.is_empty());
            fingerprint(&a)
        })
    };
    for sampling in [Sampling::Sobol, Sampling::Uniform] {
        for sobol in [false, true] {
            let one = analysis(1, sampling, 7, sobol);
            assert_eq!(one, analysis(2, sampling, 7, sobol), "{sampling:?}");
            assert_eq!(one, analysis(3, sampling, 7, sobol), "{sampling:?}");
            assert_ne!(one, analysis(2, sampling, 8, sobol), "{sampling:?}");
        }
    }
}

/// Runs kapok with `RAYON_NUM_THREADS` set.
fn kapok_threads(threads: usize, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .current_dir(root())
        .output()
        .unwrap()
}

/// The files of `dir`, by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_cli_writes_the_same_bytes_on_one_or_two_threads_and_for_the_same_seed() {
    // A Saltelli design (N = 20, two inputs: 80 runs) drawn here and replayed by the CLI: the
    // seed drives the bootstrap of the sensitivity indices.
    let dir = tempdir();
    let fw = asem_positive();
    let plan = design::saltelli(&fw, &asem_uncertainty(&fw, 1), 20);
    let runs = dir.path().join("design.csv");
    kapok::io::write_table(&table::batch(&plan.runs, &[]).unwrap(), &runs).unwrap();
    let go = |threads: usize, seed: &str, name: &str| {
        let out = dir.path().join(name);
        let o = kapok_threads(
            threads,
            &[
                "robustness",
                "indicators/asem.toml",
                COINR_SET[0],
                COINR_SET[1],
                "--replay",
                runs.to_str().unwrap(),
                "--seed",
                seed,
                "--nodes",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        let (stdout, stderr) = texts(&o);
        assert!(o.status.success(), "{stdout}\n{stderr}");
        (stdout, contents(&out))
    };
    let one = go(1, "1", "t1");
    let names: Vec<&str> = one.1.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["ranks.csv", "runs.csv", "scores.csv", "sensitivity.csv"]
    );
    assert_eq!(one, go(2, "1", "t2"), "one thread and two");
    assert_eq!(one, go(2, "1", "again"), "the same seed twice");
    let other = go(2, "2", "seed2");
    for ((name, a), (_, b)) in one.1.iter().zip(&other.1) {
        // A different seed resamples the bootstrap differently; the runs are the table's.
        if name == "sensitivity.csv" {
            assert_ne!(a, b, "{name}");
        } else {
            assert_eq!(a, b, "{name}");
        }
    }
    // The replayed run table is written back as it was read.
    assert_eq!(
        std::fs::read(&runs).unwrap(),
        one.1.iter().find(|(n, _)| n == "runs.csv").unwrap().1
    );
}

/// `kapok robustness asem.toml --replay <table>` on a run table written from `csv`.
fn replay(csv: &str) -> (Output, PathBuf, tempfile::TempDir) {
    let dir = tempdir();
    let path = dir.path().join("runs_in.csv");
    std::fs::write(&path, csv).unwrap();
    let out = dir.path().join("out");
    let o = kapok(&[
        "robustness",
        "indicators/asem.toml",
        "--replay",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    (o, out, dir)
}

#[test]
fn bad_run_tables_are_usage_errors_naming_file_line_and_column() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "unknown column",
            "run,weight:Conn,aggregat\n1,1,geometric\n",
            ":1, column `aggregat`",
            &["unknown column"],
        ),
        (
            "non-number weight",
            "run,weight:Conn\n1,0.5\n2,heavy\n",
            ":3, column `weight:Conn`",
            &["`heavy` is not a number"],
        ),
        (
            "negative weight",
            "run,weight:Conn\n1,-0.5\n",
            ":2, column `weight:Conn`",
            &["≥ 0"],
        ),
        (
            "unknown node id",
            "run,weight:Conn,weight:Physcal\n1,1,1\n2,1,0.8\n",
            ":2, column `weight:Physcal`",
            &["Physcal", "did you mean", "Physical"],
        ),
        (
            "duplicate run",
            "run,weight:Conn\n1,1\n2,1.1\n1,0.9\n",
            ":4, column `run`",
            &["run 1 appears twice"],
        ),
        (
            "broken Saltelli layout",
            "run,block,weight:Conn\n1,A,1\n2,A,1.1\n3,B,0.9\n4,A,1\n5,AB:weights,1\n6,AB:weights,1\n",
            ":5, column `block`",
            &["expected block B"],
        ),
        (
            "a method that does not parse",
            "run,weight:Conn,normalize\n1,1,\n2,1,zscor\n",
            ":3, column `normalize`",
            &["zscor", "zscore"],
        ),
        (
            "a --set value that does not fit",
            "run,set:treat.winmax\n1,3\n2,lots\n",
            ":3, column `set:treat.winmax`",
            &["lots"],
        ),
        (
            "every weight under a node zero",
            "run,weight:Conn,weight:Sust\n1,0,0\n",
            ":2, column `weight:Sust`",
            &["every weight under `Index` would be zero"],
        ),
        (
            "an exclusion of an aggregate",
            "run,exclude\n1,LPI\n2,Physical\n",
            ":3, column `exclude`",
            &["Physical", "only indicators"],
        ),
    ];
    for (what, csv, at, says) in cases {
        let (o, out, _dir) = replay(csv);
        let (_, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("runs_in.csv{at}")),
            "{what}: expected `runs_in.csv{at}` in\n{stderr}"
        );
        for s in *says {
            assert!(stderr.contains(s), "{what}: expected `{s}` in\n{stderr}");
        }
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(!out.exists(), "{what}: nothing written");
    }
}

#[test]
fn a_run_that_fails_is_reported_and_counted_and_the_others_are_written() {
    // Run 2: a geometric mean of z-scores (negative values) cannot be taken.
    let (o, out, _dir) =
        replay("run,normalize,aggregate,weight:Conn\n1,,,\n2,zscore,geometric,\n3,,,1.2\n");
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("1 of 3 runs failed"), "{stderr}");
    assert!(stderr.contains("run 2:"), "{stderr}");
    assert!(stderr.contains("geometric"), "{stderr}");
    // The error cell holds the message and its hint on two lines (a quoted CSV field).
    let mut runs = csv::Reader::from_path(out.join("runs.csv")).unwrap();
    let error = runs.headers().unwrap().iter().position(|h| h == "error");
    let errors: Vec<String> = runs
        .records()
        .map(|r| r.unwrap()[error.expect("an error column")].to_string())
        .collect();
    assert_eq!(errors.len(), 3);
    assert!(errors[0].is_empty() && errors[2].is_empty(), "{errors:?}");
    assert!(errors[1].contains("needs positive values"), "{errors:?}");
    let scores = Csv::read(&out.join("scores.csv"));
    let run = scores.col("run");
    let count = |r: &str| scores.rows.iter().filter(|row| row[run] == r).count();
    assert_eq!((count("1"), count("2"), count("3")), (51, 0, 51));
    let ranks = Csv::read(&out.join("ranks.csv"));
    assert!(ranks.rows.iter().all(|r| r[ranks.col("runs")] == "2"));
}

#[test]
fn the_shipped_asem_fixture_is_credited() {
    let readme = std::fs::read_to_string(root().join(SENS).join("README.md")).unwrap();
    assert!(readme.contains("COINr 1.1.14") && readme.contains("MIT"));
    let parent =
        std::fs::read_to_string(root().join("tests/fixtures/coinr-asem/README.md")).unwrap();
    assert!(
        parent.contains("sensitivity/"),
        "the fixture README lists sensitivity/"
    );
}

#[test]
fn a_declared_analysis_gives_the_same_bytes_on_one_or_two_threads_and_another_seed_other_draws() {
    // The district sample's [uncertainty]: weights, two normalisations, one of three
    // indicators dropped; a small Saltelli design so that every table is written.
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: usize, seed: &str, name: &str| {
        let out = dir.path().join(name);
        let o = kapok_threads(
            threads,
            &[
                "robustness",
                "indicators/hongmian.toml",
                "--sobol",
                "--runs",
                "16",
                "--seed",
                seed,
                "-q",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        contents(&out)
    };
    let one = run(1, "1", "one");
    assert_eq!(
        one.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["ranks.csv", "runs.csv", "scores.csv", "sensitivity.csv"]
    );
    assert_eq!(one, run(2, "1", "two"));
    let other = run(2, "2", "other");
    for (a, b) in one.iter().zip(&other) {
        assert_ne!(a.1, b.1, "{}: another seed draws other runs", a.0);
    }
}

#[test]
fn a_saltelli_plan_of_the_wrong_size_is_an_error_not_a_panic() {
    let (fw, panel) = asem();
    let mut plan = plan_of(vec![Overrides::default(); 7]);
    plan.saltelli = Some(2);
    plan.inputs = vec!["weights".into()];
    let e = analyse(fw, panel, 0, plan, &Options::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string()
            .contains("a Saltelli design of N = 2 over 1 input(s) has 6 runs, not 7"),
        "{e}"
    );
}
