//! Grid-scale benchmark (issue 13): `cargo bench --bench grid`.
//!
//! Generates the grid panel of `examples/grid` (20,849 grids × 24 months × 60 raw variables =
//! 500,376 rows, 252 MB of Parquet; deterministic) and its framework (60 indicators in 6
//! dimensions, median imputation, min-max onto [0, 100]) into a temporary directory once, then
//! times in interleaved rounds:
//!
//! - reading the Parquet file, every column, in this process (the floor: the least any engine
//!   must do; single-threaded, with the parquet crate kapok uses);
//! - `kapok score grid.toml`, the ranking of the latest month to the terminal (stdout discarded);
//! - `kapok score grid.toml -o out.parquet`, every node's score and rank for every month.
//!
//! Both `kapok` runs are the release binary of this build (`CARGO_BIN_EXE_kapok`), one process
//! per run, so the times include starting it. The table gives the median and the fastest of the
//! rounds and the median's ratio to the floor's median, measured in the same run (the machine is
//! noisy). A round at 1× took 35–50 s on a shared 2-core machine, the whole bench under three
//! minutes, before issue 13's optimisations.
//!
//! Larger panels: `KAPOK_GRID_SCALE` multiplies the number of grids (4× = 2 M rows, 10× = 5 M
//! rows; before issue 13's optimisations kapok took about 5.5 GB of memory per 1×),
//! `KAPOK_GRID_ROUNDS` sets the rounds (default 3):
//!
//! ```text
//! KAPOK_GRID_SCALE=4 cargo bench --bench grid
//! KAPOK_GRID_SCALE=10 KAPOK_GRID_ROUNDS=1 cargo bench --bench grid
//! ```
//!
//! `bench/grid/compare.py` runs the same data through DuckDB and numpy/pandas as well and measures
//! peak memory.

#[path = "../examples/grid/panel.rs"]
#[allow(dead_code)]
mod panel;

use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Grids at 1× (Guangzhou's comprehensive grids).
const GRIDS: f64 = 20_849.0;

fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(s) => s
            .parse()
            .ok()
            .filter(|v: &f64| *v > 0.0)
            .unwrap_or_else(|| panic!("{name}={s}: not a positive number")),
        Err(_) => default,
    }
}

/// Reads every column of the Parquet file; returns the number of rows.
fn read_parquet(path: &Path) -> usize {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("opens"))
        .expect("Parquet metadata")
        .with_batch_size(8192)
        .build()
        .expect("reader");
    reader
        .map(|b| black_box(b.expect("batch")).num_rows())
        .sum()
}

/// Runs `kapok score` with `args` in `dir`; stdout discarded, stderr shown only on failure.
fn kapok(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_kapok"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("kapok starts");
    assert!(
        out.status.success(),
        "kapok {}: {}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[s.len() / 2]
}

fn main() {
    let scale = env_number("KAPOK_GRID_SCALE", 1.0);
    let rounds = env_number("KAPOK_GRID_ROUNDS", 3.0) as usize;
    let shape = panel::Shape {
        units: (GRIDS * scale).round().max(1.0) as usize,
        periods: 24,
        vars: 60,
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("grid.parquet");
    let t_gen = Instant::now();
    let rows = panel::write(shape, &data, None).expect("panel written");
    panel::write_framework(&dir.path().join("grid.toml"), &data, shape.vars, 6)
        .expect("framework written");
    let mb = std::fs::metadata(&data).expect("written").len() as f64 / 1e6;
    println!(
        "grid {scale}×: {} grids × {} months × {} variables = {rows} rows, {mb:.0} MB Parquet \
         (generated in {:.1} s); {rounds} interleaved round(s)",
        shape.units,
        shape.periods,
        shape.vars,
        t_gen.elapsed().as_secs_f64()
    );

    let mut floor = Vec::new();
    let mut terminal = Vec::new();
    let mut output = Vec::new();
    for _ in 0..rounds {
        floor.push(timed(|| assert_eq!(read_parquet(&data), rows)));
        terminal.push(timed(|| kapok(dir.path(), &["score", "grid.toml"])));
        output.push(timed(|| {
            kapok(dir.path(), &["score", "grid.toml", "-o", "out.parquet"])
        }));
        std::fs::remove_file(dir.path().join("out.parquet")).expect("output written");
    }

    let base = median(&floor).as_secs_f64();
    println!(
        "{:<44} {:>9} {:>9} {:>8}",
        "case", "median", "fastest", "ratio"
    );
    for (name, t) in [
        ("read the Parquet file (floor)", &floor),
        ("kapok score grid.toml (terminal)", &terminal),
        ("kapok score grid.toml -o out.parquet", &output),
    ] {
        let m = median(t).as_secs_f64();
        println!(
            "{name:<44} {m:>8.2}s {:>8.2}s {:>7.1}×",
            t.iter().min().expect("rounds").as_secs_f64(),
            m / base
        );
    }
}
