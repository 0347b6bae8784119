//! Pipeline benchmarks: `cargo bench --bench evaluate`.
//!
//! Machines here are noisy, so every figure is reported next to a baseline measured in the same
//! run: a hand-written floor that min-max normalises every indicator column of the same panel
//! and averages them (the least any pipeline must do). The ratio says how much the full
//! pipeline (screen, impute, treat, normalise, aggregate over the tree, rank) costs on top.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kapok::framework::{NodeKind, Over};
use kapok::pipeline::{Ends, Impute};
use kapok::{Panel, evaluate, load, read_panel};

/// Median time of `f` over enough repetitions to fill about half a second.
fn time(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_micros(1));
    let reps = (Duration::from_millis(500).as_nanos() / once.as_nanos()).clamp(5, 10_000) as usize;
    let mut samples: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[reps / 2]
}

/// The floor: min-max normalise each column per period and take the row means.
fn floor(panel: &Panel) -> f64 {
    let (np, nu, ni) = panel.values.dim();
    let mut total = 0.0;
    for p in 0..np {
        let mut sums = vec![0.0; nu];
        for j in 0..ni {
            let col = (0..nu)
                .map(|u| panel.values[[p, u, j]])
                .filter(|v| !v.is_nan());
            let (lo, hi) = col.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
            for (u, s) in sums.iter_mut().enumerate() {
                let v = panel.values[[p, u, j]];
                if !v.is_nan() && hi > lo {
                    *s += (v - lo) / (hi - lo) * 100.0;
                }
            }
        }
        total += sums.iter().sum::<f64>() / (nu * ni) as f64;
    }
    total
}

/// `r` with every node ranked: ranks are computed when first read, and the pipeline timed here
/// includes ranking the whole tree, as a report does.
fn ranked(fw: &kapok::Framework, r: kapok::Results) -> kapok::Results {
    for node in 0..fw.nodes.len() {
        black_box(r.node_ranks(node));
    }
    r
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!(
        "{:<28} {:>12} {:>12} {:>8}",
        "case", "pipeline", "floor", "ratio"
    );
    for (name, file) in [
        ("ASEM 51×49 (COINr)", "indicators/asem.toml"),
        ("districts 11×28×24", "indicators/hongmian.toml"),
        ("streets 176×28×24", "indicators/hongmian-streets.toml"),
    ] {
        let fw = load(&root.join(file)).expect("framework loads");
        let (panel, _) = read_panel(&fw, None).expect("data load");
        let t_eval = time(|| {
            black_box(ranked(
                &fw,
                evaluate(&fw, panel.clone()).expect("evaluates"),
            ));
        });
        let t_floor = time(|| {
            black_box(floor(&panel));
        });
        println!(
            "{name:<28} {:>10.3}ms {:>10.3}ms {:>7.1}×",
            t_eval.as_secs_f64() * 1e3,
            t_floor.as_secs_f64() * 1e3,
            t_eval.as_secs_f64() / t_floor.as_secs_f64()
        );
    }
    // Time as a dimension: the street panel scored period by period (bounds of each month, the
    // shipped group-median imputation), against the same panel scored over the whole panel
    // (bounds of all 24 months, as COINr's global normalisation) with every indicator carried
    // forward at most 2 months, then the group median; and as shipped (bounds of the base year
    // 2022). Same panel, same run.
    let shipped = load(&root.join("indicators/hongmian-streets.toml")).expect("framework loads");
    let (panel, _) = read_panel(&shipped, None).expect("data load");
    let with = |over: Over, carry: bool| {
        let mut fw = shipped.clone();
        fw.defaults.normalise.over = over;
        if carry {
            fw.defaults.impute = Impute::Chain(vec![
                Impute::CarryForward {
                    max_periods: Some(2),
                    ends: Ends::None,
                },
                Impute::GroupMedian,
            ]);
            for n in &mut fw.nodes {
                if let NodeKind::Indicator(spec) = &mut n.kind {
                    spec.impute = None;
                }
            }
        }
        fw
    };
    let per_period = with(Over::Period, false);
    let panel_wide = with(Over::Panel, true);
    let run = |fw: &kapok::Framework| {
        time(|| {
            black_box(ranked(fw, evaluate(fw, panel.clone()).expect("evaluates")));
        })
    };
    let t_period = run(&per_period);
    let t_panel = run(&panel_wide);
    let t_shipped = run(&shipped);
    let ms = |t: Duration| t.as_secs_f64() * 1e3;
    println!(
        "streets, per-period bounds:                          {:>8.3}ms (1.00×)",
        ms(t_period)
    );
    println!(
        "streets, panel-wide bounds + carry_forward(2):       {:>8.3}ms ({:.2}×)",
        ms(t_panel),
        ms(t_panel) / ms(t_period)
    );
    println!(
        "streets as shipped (base-year 2022 bounds):          {:>8.3}ms ({:.2}×)",
        ms(t_shipped),
        ms(t_shipped) / ms(t_period)
    );
    let fw = load(&root.join("indicators/hongmian.toml")).expect("framework loads");
    let t_data = time(|| {
        black_box(read_panel(&fw, None).expect("data load"));
    });
    println!(
        "data stage (DataFusion, 8 sources, districts): {:.1}ms per run",
        t_data.as_secs_f64() * 1e3
    );
}
