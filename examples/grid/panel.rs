//! The grid panel: N units × P monthly periods × K raw variables, deterministic for a seed.
//!
//! Shared by `examples/grid` (the command-line generator) and `benches/grid.rs` (which generates
//! its data with it). The same shape as the `gen.py` of the grid benchmark in issue 13: columns
//! `unit` (`U0000000`…), `name` (`Unit U0000000`…), `period` (`2022-01`…), `population`
//! (float, one per unit, 5,000 to 2,000,000) and `v01`…`vKK` (float, about 3 % missing), rows
//! ordered by unit then period. Each unit has a lognormal base level per variable (log-mean 2,
//! log-sd 0.8), each variable a common monthly drift, each cell 5 % noise.
//!
//! The values do not match `gen.py`'s byte for byte: they come from ChaCha8 (`rand_chacha`,
//! seeded with [`SEED`]), one stream per unit (stream 0 draws the drifts), with normal deviates by
//! Box–Muller. Every unit's values depend only on the seed and the unit's number, so the panel is
//! the same whatever the batch size or thread count.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::csv;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

/// The fixed seed (the same number as `gen.py`'s, not the same generator).
pub const SEED: u64 = 20231;

/// Share of missing values in each variable.
const MISSING: f64 = 0.03;

/// Units per record batch (and per CSV write); row groups hold up to 2^20 rows, as `gen.py`'s.
const UNITS_PER_BATCH: usize = 4096;

/// The size of a panel.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Units (grids).
    pub units: usize,
    /// Monthly periods, from 2022-01.
    pub periods: usize,
    /// Raw variables `v01`…
    pub vars: usize,
}

/// A uniform deviate in [0, 1).
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal deviate (Box–Muller, one of the pair).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - uniform(rng); // (0, 1]
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The generator of one stream.
fn stream(s: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(s);
    rng
}

/// Name of raw variable `j` (0-based): `v01`, `v02`…
pub fn var_name(j: usize) -> String {
    format!("v{:02}", j + 1)
}

/// The period label of month `m` (0-based) from 2022-01.
pub fn period_label(m: usize) -> String {
    format!("{}-{:02}", 2022 + m / 12, m % 12 + 1)
}

/// The panel's Arrow schema.
pub fn schema(vars: usize) -> SchemaRef {
    let mut fields = vec![
        Field::new("unit", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("population", DataType::Float64, false),
    ];
    fields.extend((0..vars).map(|j| Field::new(var_name(j), DataType::Float64, true)));
    Arc::new(Schema::new(fields))
}

/// One unit: its population and its values, period-major (`P × K`, NaN = missing).
fn unit_values(u: usize, shape: Shape, drift: &[f64]) -> (f64, Vec<f64>) {
    let mut rng = stream(u as u64 + 1);
    let population = (5_000 + rng.next_u64() % 1_995_000) as f64;
    let base: Vec<f64> = (0..shape.vars)
        .map(|_| (2.0 + 0.8 * normal(&mut rng)).exp())
        .collect();
    let mut values = Vec::with_capacity(shape.periods * shape.vars);
    for t in 0..shape.periods {
        for (j, b) in base.iter().enumerate() {
            let x = b * (1.0 + 0.01 * t as f64 * drift[j]) * (1.0 + 0.05 * normal(&mut rng));
            let missing = uniform(&mut rng) < MISSING;
            values.push(if missing { f64::NAN } else { x });
        }
    }
    (population, values)
}

/// The panel as record batches of [`UNITS_PER_BATCH`] units, generated lazily (units in
/// parallel within a batch).
pub fn batches(shape: Shape) -> impl Iterator<Item = RecordBatch> {
    let schema = schema(shape.vars);
    let mut drift_rng = stream(0);
    let drift: Vec<f64> = (0..shape.vars).map(|_| normal(&mut drift_rng)).collect();
    let months: Vec<String> = (0..shape.periods).map(period_label).collect();
    (0..shape.units).step_by(UNITS_PER_BATCH).map(move |start| {
        let end = (start + UNITS_PER_BATCH).min(shape.units);
        let units: Vec<(f64, Vec<f64>)> = (start..end)
            .into_par_iter()
            .map(|u| unit_values(u, shape, &drift))
            .collect();
        let rows = units.len() * shape.periods;
        let mut code = Vec::with_capacity(rows);
        let mut name = Vec::with_capacity(rows);
        let mut period = Vec::with_capacity(rows);
        let mut population = Vec::with_capacity(rows);
        for (i, (pop, _)) in units.iter().enumerate() {
            let c = format!("U{:07}", start + i);
            for m in &months {
                name.push(format!("Unit {c}"));
                code.push(c.clone());
                period.push(m.as_str());
                population.push(*pop);
            }
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(code)),
            Arc::new(StringArray::from(name)),
            Arc::new(StringArray::from(period)),
            Arc::new(Float64Array::from(population)),
        ];
        for j in 0..shape.vars {
            let col: Float64Array = units
                .iter()
                .flat_map(|(_, v)| {
                    (0..shape.periods).map(move |t| {
                        let x = v[t * shape.vars + j];
                        (!x.is_nan()).then_some(x)
                    })
                })
                .collect();
            columns.push(Arc::new(col));
        }
        RecordBatch::try_new(schema.clone(), columns).expect("columns match the schema")
    })
}

/// Writes the panel to `parquet` (Snappy, row groups of up to 2^20 rows, as `gen.py` writes
/// with pyarrow's defaults) and, if given, to `csv_out` (header row, empty = missing), one batch
/// at a time. Returns the number of rows.
pub fn write(
    shape: Shape,
    parquet: &Path,
    csv_out: Option<&Path>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_created_by("kapok examples/grid".to_string())
        .build();
    let mut pw = ArrowWriter::try_new(
        BufWriter::new(File::create(parquet)?),
        schema(shape.vars),
        Some(props),
    )?;
    let mut cw = match csv_out {
        Some(p) => Some(
            csv::WriterBuilder::new()
                .with_header(true)
                .build(BufWriter::new(File::create(p)?)),
        ),
        None => None,
    };
    let mut rows = 0;
    for batch in batches(shape) {
        rows += batch.num_rows();
        pw.write(&batch)?;
        if let Some(cw) = &mut cw {
            cw.write(&batch)?;
        }
    }
    pw.close()?;
    if let Some(cw) = cw {
        cw.into_inner().flush()?;
    }
    Ok(rows)
}

/// The kapok framework of the grid benchmark (what its `grid_framework.py` writes): `k`
/// indicators over `d` dimensions of `k / d` consecutive ones, equal weights; indicator `i{j}` is
/// `v{j+1} / population * 10000` for even `j`, `v{j+1}` as is for odd `j`, lower-is-better when
/// `j % 3 == 2`; median imputation, no treatment, min-max onto [0, 100], arithmetic means. `source`
/// is the data file as the framework names it (relative to the framework's directory, or
/// absolute).
pub fn framework_toml(k: usize, d: usize, source: &str) -> String {
    assert!(
        d > 0 && k.is_multiple_of(d),
        "{k} indicators do not split into {d} dimensions"
    );
    let per = k / d;
    let quoted = toml::Value::String(source.to_string()).to_string();
    let mut l = vec![
        "[index]\nid = \"grid\"\nname = { zh = \"网格指数\", en = \"Grid index\" }\n".to_string(),
        "[units]\nkey = \"unit\"\nname = \"name\"\nperiod = \"period\"\n".to_string(),
        "[defaults]\nimpute = \"median\"\ntreat = \"none\"\nnormalize = { method = \"minmax\", range = [0, 100] }\naggregate = \"arithmetic\"\n".to_string(),
        format!("[[source]]\nname = \"grid\"\npath = {quoted}\n"),
    ];
    for g in 0..d {
        l.push(format!(
            "[[dimension]]\nid = \"d{g}\"\nname = {{ zh = \"维度{g}\", en = \"Dimension {g}\" }}\nweight = 1\n"
        ));
    }
    for j in 0..k {
        let v = var_name(j);
        let expr = if j % 2 == 0 {
            format!("{v} / population * 10000")
        } else {
            v
        };
        let direction = if j % 3 == 2 { "lower" } else { "higher" };
        l.push(format!(
            "[[indicator]]\nid = \"i{j}\"\nname = {{ zh = \"指标{j}\", en = \"Indicator {j}\" }}\nparent = \"d{}\"\ndirection = \"{direction}\"\nexpr = \"{expr}\"\n",
            j / per
        ));
    }
    l.join("\n")
}

/// Writes [`framework_toml`] to `out`, naming `data` relative to `out`'s directory when it is
/// in the same directory, else by its absolute path.
pub fn write_framework(
    out: &Path,
    data: &Path,
    k: usize,
    d: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = |p: &Path| -> std::io::Result<std::path::PathBuf> {
        let parent = p.parent().filter(|q| !q.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(Path::new(".")))
    };
    let data_dir = dir(data)?;
    let source = match data.file_name() {
        Some(f) if data_dir == dir(out)? => f.to_string_lossy().into_owned(),
        _ => data_dir
            .join(data.file_name().ok_or("data path has no file name")?)
            .to_string_lossy()
            .into_owned(),
    };
    std::fs::write(out, framework_toml(k, d, &source))?;
    Ok(())
}
