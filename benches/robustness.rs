//! Robustness benchmarks: `cargo bench --bench robustness`.
//!
//! Each case draws its runs from an `[uncertainty]` declaration built in code and times the
//! design plus [`analyse`] (what `kapok robustness` does besides reading and writing files),
//! next to the same runs evaluated from scratch (`Options { full: true }`: the whole pipeline
//! per run) in the same process, so the ratio survives a noisy machine. The fast path is the
//! median of three repetitions; the baseline, much slower, is timed once. Both use rayon's
//! default pool (`RAYON_NUM_THREADS` sets its size).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kapok::framework::overrides::{MethodKind, SetParam};
use kapok::framework::uncertainty::{Input, InputKind, NoisyWeight, Uncertainty};
use kapok::robustness::{Analysis, Options, Plan, analyse, design};
use kapok::{Framework, Panel, load, read_panel};

/// A case: a framework, its panel and period, and how to draw its plan.
struct Case {
    name: &'static str,
    fw: Framework,
    panel: Panel,
    period: usize,
    plan: Box<dyn Fn(&Framework) -> Plan>,
}

/// ±`noise` on the weights of the nodes at `levels` below the index (1 = its children).
fn weights(fw: &Framework, levels: &[usize], noise: f64) -> Input {
    let mut nodes = Vec::new();
    let mut level = vec![0usize];
    for depth in 1..=levels.iter().copied().max().unwrap_or(0) {
        level = level
            .iter()
            .flat_map(|&n| fw.nodes[n].children.clone())
            .collect();
        if levels.contains(&depth) {
            nodes.extend(level.iter().map(|&node| NoisyWeight { node, noise }));
        }
    }
    Input {
        kind: InputKind::Weights(nodes),
        span: 0..0,
    }
}

fn method(kind: MethodKind, alternatives: &[&str]) -> Input {
    Input {
        kind: InputKind::Method {
            kind,
            alternatives: alternatives.iter().map(|a| a.to_string()).collect(),
        },
        span: 0..0,
    }
}

fn uncertainty(inputs: Vec<Input>) -> Uncertainty {
    Uncertainty {
        inputs,
        ..Uncertainty::default()
    }
}

fn run(case: &Case, full: bool) -> (Duration, Analysis) {
    let t = Instant::now();
    let plan = (case.plan)(&case.fw);
    let opts = Options {
        full,
        ..Options::default()
    };
    let a = analyse(&case.fw, &case.panel, case.period, plan, &opts).expect("analyses");
    (t.elapsed(), black_box(a))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |file: &str| {
        let fw = load(&root.join(file)).expect("framework loads");
        let (panel, _) = read_panel(&fw, None).expect("data load");
        (fw, panel)
    };
    let (asem, asem_panel) = read("indicators/asem.toml");
    let (streets, streets_panel) = read("indicators/hongmian-streets.toml");
    let last = streets_panel.periods.len() - 1;
    let cases = [
        Case {
            name: "ASEM, 10,000 weight runs",
            fw: asem.clone(),
            panel: asem_panel.clone(),
            period: 0,
            plan: Box::new(|fw| {
                design::plain(fw, &uncertainty(vec![weights(fw, &[1, 2], 0.25)]), 10_000)
            }),
        },
        Case {
            name: "streets, 10,000 weight runs",
            fw: streets,
            panel: streets_panel,
            period: last,
            plan: Box::new(|fw| {
                design::plain(fw, &uncertainty(vec![weights(fw, &[1], 0.25)]), 10_000)
            }),
        },
        Case {
            name: "ASEM, Saltelli N=1,000, 4 inputs",
            // Min-max onto [1, 100] so that a geometric mean is defined, as in COINr's
            // uncertainty analysis of this example.
            fw: {
                let mut fw = asem;
                fw.apply(&kapok::framework::overrides::Overrides {
                    sets: vec![SetParam::parse("normalize.range=[1,100]").unwrap()],
                    ..Default::default()
                })
                .expect("applies");
                fw
            },
            panel: asem_panel,
            period: 0,
            plan: Box::new(|fw| {
                let winmax = SetParam::parse("treat.winmax=5").unwrap();
                let unc = uncertainty(vec![
                    Input {
                        kind: InputKind::Set {
                            param: winmax,
                            values: (1..=5).map(|v| v.to_string()).collect(),
                        },
                        span: 0..0,
                    },
                    method(
                        MethodKind::Normalize,
                        &[r#"{ method = "minmax", range = [1, 100] }"#, "rank"],
                    ),
                    weights(fw, &[1, 2], 0.25),
                    method(MethodKind::Aggregate, &["arithmetic", "geometric"]),
                ]);
                design::saltelli(fw, &unc, 1_000)
            }),
        },
    ];
    println!(
        "{:<34} {:>6} {:>10} {:>12} {:>8} {:>7}",
        "case", "runs", "kapok", "full", "speed-up", "failed"
    );
    // `cargo bench --bench robustness -- WORD` runs the cases whose name contains WORD;
    // `-- --breakdown` prints where the fast path's time goes instead of the baseline.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let breakdown = args.iter().any(|a| a == "--breakdown");
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    for case in cases
        .iter()
        .filter(|c| words.iter().all(|w| c.name.contains(w.as_str())))
    {
        if breakdown {
            let t = Instant::now();
            let plan = (case.plan)(&case.fw);
            let t_design = t.elapsed();
            let one = Plan {
                runs: plan.runs[..1].to_vec(),
                saltelli: None,
                ..plan.clone()
            };
            let t = Instant::now();
            analyse(&case.fw, &case.panel, case.period, one, &Options::default()).unwrap();
            let t_one = t.elapsed();
            let t = Instant::now();
            analyse(
                &case.fw,
                &case.panel,
                case.period,
                plan,
                &Options::default(),
            )
            .unwrap();
            let t_all = t.elapsed();
            println!(
                "{}: design {:.3} s, analyse 1 run {:.3} s, all runs {:.3} s",
                case.name,
                t_design.as_secs_f64(),
                t_one.as_secs_f64(),
                t_all.as_secs_f64()
            );
            continue;
        }
        let mut fast: Vec<(Duration, Analysis)> = (0..3).map(|_| run(case, false)).collect();
        fast.sort_by_key(|(t, _)| *t);
        let (t_fast, a) = fast.swap_remove(1);
        let (t_full, b) = run(case, true);
        assert_eq!(
            a.ranks, b.ranks,
            "{}: fast and full ranks differ",
            case.name
        );
        println!(
            "{:<34} {:>6} {:>8.3} s {:>10.3} s {:>7.1}× {:>7}",
            case.name,
            a.plan.runs.len(),
            t_fast.as_secs_f64(),
            t_full.as_secs_f64(),
            t_full.as_secs_f64() / t_fast.as_secs_f64(),
            a.failed.len()
        );
    }
}
