//! Generates the grid-scale benchmark panel of issue 13 (Guangzhou's ~20,000 comprehensive grids,
//! monthly) and the kapok framework scoring it.
//!
//! ```text
//! cargo run --release --example grid -- N P K OUT.parquet [--csv OUT.csv] [--framework OUT.toml]
//!     [--dimensions D] [--source parquet|csv]
//! cargo run --release --example grid -- 20849 24 60 /tmp/grid/grid.parquet --framework /tmp/grid/grid.toml
//! ```
//!
//! N units × P months × K raw variables: columns `unit, name, period, population, v01..vKK`,
//! about 3 % of the values missing, deterministic (ChaCha8 with a fixed seed; see `panel.rs` —
//! the same shape as the Python `gen.py` of the benchmark, not the same bytes). The framework
//! (`--framework`) is what `grid_framework.py K D` writes: K indicators in D dimensions (default
//! 6), median imputation, min-max onto [0, 100], arithmetic means; its source is the Parquet file,
//! or the CSV file with `--source csv`. `bench/grid/compare.py` runs it against DuckDB and numpy.

mod panel;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: grid N P K OUT.parquet [--csv OUT.csv] [--framework OUT.toml] [--dimensions D] [--source parquet|csv]";

struct Args {
    shape: panel::Shape,
    parquet: PathBuf,
    csv: Option<PathBuf>,
    framework: Option<PathBuf>,
    dimensions: usize,
    csv_source: bool,
}

fn parse() -> Result<Args, String> {
    let mut pos = Vec::new();
    let mut csv = None;
    let mut framework = None;
    let mut dimensions = 6;
    let mut csv_source = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--csv" => csv = Some(PathBuf::from(value("--csv")?)),
            "--framework" => framework = Some(PathBuf::from(value("--framework")?)),
            "--dimensions" => {
                dimensions = value("--dimensions")?
                    .parse()
                    .map_err(|_| "--dimensions: not a number".to_string())?
            }
            "--source" => match value("--source")?.as_str() {
                "parquet" => csv_source = false,
                "csv" => csv_source = true,
                other => return Err(format!("--source {other}: use parquet or csv")),
            },
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => pos.push(a),
        }
    }
    let [n, p, k, out] = <[String; 4]>::try_from(pos).map_err(|_| "need N P K OUT".to_string())?;
    let num = |s: &str, what: &str| -> Result<usize, String> {
        s.parse()
            .ok()
            .filter(|&v: &usize| v > 0)
            .ok_or(format!("{what} must be a positive whole number, not `{s}`"))
    };
    let shape = panel::Shape {
        units: num(&n, "N")?,
        periods: num(&p, "P")?,
        vars: num(&k, "K")?,
    };
    if dimensions == 0 || !shape.vars.is_multiple_of(dimensions) {
        return Err(format!(
            "K = {} does not split into {dimensions} dimensions",
            shape.vars
        ));
    }
    if csv_source && csv.is_none() {
        return Err("--source csv needs --csv OUT.csv".to_string());
    }
    Ok(Args {
        shape,
        parquet: PathBuf::from(out),
        csv,
        framework,
        dimensions,
        csv_source,
    })
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("grid: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let rows = match panel::write(a.shape, &a.parquet, a.csv.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("grid: {}: {e}", a.parquet.display());
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "wrote {rows} rows × {} columns to {}{} in {:.1} s",
        a.shape.vars + 4,
        a.parquet.display(),
        a.csv
            .as_ref()
            .map(|c| format!(" and {}", c.display()))
            .unwrap_or_default(),
        start.elapsed().as_secs_f64()
    );
    if let Some(fw) = &a.framework {
        let data = match (&a.csv, a.csv_source) {
            (Some(c), true) => c,
            _ => &a.parquet,
        };
        if let Err(e) = panel::write_framework(fw, data, a.shape.vars, a.dimensions) {
            eprintln!("grid: {}: {e}", fw.display());
            return ExitCode::from(1);
        }
        eprintln!(
            "wrote the framework ({} indicators, {} dimensions) to {}",
            a.shape.vars,
            a.dimensions,
            fw.display()
        );
    }
    ExitCode::SUCCESS
}
