//! `kapok robustness`: an uncertainty analysis (rank intervals) or, with `--sobol`, a
//! sensitivity analysis (Saltelli design) of the framework's declared uncertain inputs, or a
//! replay of a run table (see [`crate::robustness`]).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use comfy_table::{CellAlignment, Table};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::RunArgs;
use crate::error::Error;
use crate::framework::uncertainty::Sampling;
use crate::framework::{Framework, Lang};
use crate::robustness::{self, Analysis, Options, Plan, table};

/// Arguments of `kapok robustness`.
#[derive(Debug, Args)]
pub struct RobustnessArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Runs of the uncertainty analysis; with --sobol, the base sample size N of the Saltelli
    /// design (N·(inputs + 2) runs). Default: `[uncertainty] runs` (1000).
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
    /// A sensitivity analysis: a Saltelli design and each input's first-order and total
    /// Sobol indices (sensitivity.csv), instead of plain uncertainty runs.
    #[arg(long)]
    sobol: bool,
    /// Seed of the draws and the bootstrap (default: `[uncertainty] seed`, 1).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// How draws are made: sobol (quasi-random, the default) or uniform (pseudo-random).
    #[arg(long, value_enum, value_name = "HOW")]
    sampling: Option<SamplingArg>,
    /// Bootstrap resamples of the sensitivity indices (default: `[uncertainty] bootstrap`, 100).
    #[arg(long, value_name = "N")]
    bootstrap: Option<usize>,
    /// The period to analyse (default: the latest).
    #[arg(long)]
    period: Option<String>,
    /// Run exactly the runs of this run table (CSV, as runs.csv) instead of drawing them.
    #[arg(long, value_name = "RUNS.csv")]
    replay: Option<PathBuf>,
    /// Directory for runs, scores, ranks (and sensitivity) tables; created if missing.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Format of the tables in DIR.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
    /// Also record the scores and ranks of the index's dimensions in scores.
    #[arg(long)]
    nodes: bool,
    /// Evaluate every run from scratch instead of reusing normalised values (slower; the
    /// results are the same).
    #[arg(long)]
    full: bool,
    /// Write into a directory that holds other files too (only the tables are replaced).
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// `--sampling`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplingArg {
    /// A Sobol sequence shifted by the seed.
    Sobol,
    /// Independent pseudo-random draws.
    Uniform,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// CSV files.
    Csv,
    /// Parquet files.
    Parquet,
}

/// The tables an analysis writes.
pub const TABLES: [&str; 4] = ["runs", "scores", "ranks", "sensitivity"];

/// The plan of the analysis asked for.
fn plan(a: &RobustnessArgs, fw: &Framework) -> Result<Plan, Error> {
    if let Some(path) = &a.replay {
        let rows = table::read(path)?;
        return robustness::table::plan(fw, path, rows, a.bootstrap, a.seed);
    }
    let Some(mut unc) = fw.uncertainty.clone() else {
        return Err(Error::Usage(format!(
            "{}: the framework declares no uncertain inputs; add an [uncertainty] table (see indicators/README.md) or replay a run table with --replay RUNS.csv",
            a.run.framework.display()
        )));
    };
    if let Some(s) = a.seed {
        unc.seed = s;
    }
    if let Some(b) = a.bootstrap {
        unc.bootstrap = b;
    }
    if let Some(s) = a.sampling {
        unc.sampling = match s {
            SamplingArg::Sobol => Sampling::Sobol,
            SamplingArg::Uniform => Sampling::Uniform,
        };
    }
    let runs = a.runs.unwrap_or(unc.runs);
    if runs == 0 {
        return Err(Error::Usage("--runs 0: at least one run".into()));
    }
    if a.sobol && runs < 2 {
        return Err(Error::Usage(format!(
            "--runs {runs}: a Saltelli design needs N ≥ 2"
        )));
    }
    let dims = unc.dims() * if a.sobol { 2 } else { 1 };
    if unc.sampling == Sampling::Sobol && dims > robustness::design::MAX_SOBOL_DIMS {
        return Err(Error::Usage(format!(
            "the design draws {dims} numbers per run, more than a Sobol sequence here offers ({}); use --sampling uniform",
            robustness::design::MAX_SOBOL_DIMS
        )));
    }
    Ok(if a.sobol {
        robustness::design::saltelli(fw, &unc, runs)
    } else {
        robustness::design::plain(fw, &unc, runs)
    })
}

/// Runs `kapok robustness`.
pub fn run(a: &RobustnessArgs) -> Result<(), Error> {
    let fw = a.run.framework(a.period.as_deref())?;
    let mut inputs = a.run.inputs(&fw);
    inputs.extend(a.replay.clone());
    if let Some(out) = &a.output {
        crate::io::guard_inputs(out, &inputs)?;
        crate::io::check_table_dir(out, &TABLES, a.force)?;
    }
    let plan = plan(a, &fw)?;
    let (panel, warnings) = crate::read_panel(&fw, a.run.data.as_deref())?;
    super::warn(&warnings);
    let p = super::pick_period(&panel, a.period.as_deref(), &warnings)?;
    let nodes = if a.nodes {
        fw.index().children.clone()
    } else {
        Vec::new()
    };
    let bar = progress(a.quiet, plan.runs.len());
    let tick = || bar.inc(1);
    let opts = Options {
        nodes,
        full: a.full,
        progress: Some(&tick),
    };
    let analysis = robustness::analyse(&fw, &panel, p, plan, &opts)?;
    bar.finish_and_clear();
    report_failures(&analysis);
    if let Some(out) = &a.output {
        crate::io::guard_inputs(out, &inputs)?;
        write(&fw, &panel, &analysis, out, a.format, a.run.lang)?;
    }
    super::print(&summary(&fw, &panel, &analysis, a.run.lang))
}

/// A progress bar on standard error when it is a terminal (hidden otherwise or with --quiet).
fn progress(quiet: bool, runs: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(runs as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed} (ETA {eta})")
    {
        bar.set_style(style);
    }
    bar
}

/// One warning for the failed runs: how many, and each distinct reason with its runs.
fn report_failures(a: &Analysis) {
    if a.failed.is_empty() {
        return;
    }
    let mut reasons: Vec<(&str, Vec<usize>)> = Vec::new();
    for f in &a.failed {
        match reasons.iter_mut().find(|(m, _)| *m == f.message) {
            Some((_, runs)) => runs.push(f.run),
            None => reasons.push((&f.message, vec![f.run])),
        }
    }
    let mut text = format!(
        "{} of {} runs failed and are left out of the statistics (the error column of runs says why):",
        a.failed.len(),
        a.plan.runs.len()
    );
    for (m, runs) in reasons.iter().take(3) {
        text.push_str(&match runs.as_slice() {
            [one] => format!("\n  run {one}: {m}"),
            _ => format!(
                "\n  {} runs ({}): {m}",
                runs.len(),
                crate::data::list_at_most(runs, 5)
            ),
        });
    }
    if reasons.len() > 3 {
        text.push_str(&format!("\n  … and {} other reason(s)", reasons.len() - 3));
    }
    super::warn(&[text]);
}

/// The tables of an analysis, by name.
pub fn tables(
    fw: &Framework,
    panel: &crate::Panel,
    a: &Analysis,
    lang: Lang,
) -> Result<Vec<(&'static str, RecordBatch)>, Error> {
    let mut out = vec![
        ("runs", table::batch(&a.plan.runs, &a.failed)?),
        ("scores", scores_batch(fw, a)?),
        ("ranks", ranks_batch(panel, a, lang)?),
    ];
    if let Some(s) = &a.sensitivity {
        out.push(("sensitivity", sensitivity_batch(s)?));
    }
    Ok(out)
}

fn write(
    fw: &Framework,
    panel: &crate::Panel,
    a: &Analysis,
    dir: &std::path::Path,
    format: TableFormat,
    lang: Lang,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let ext = match format {
        TableFormat::Csv => "csv",
        TableFormat::Parquet => "parquet",
    };
    let tables = tables(fw, panel, a, lang)?;
    for (name, batch) in &tables {
        crate::io::write_table(batch, &dir.join(format!("{name}.{ext}")))?;
    }
    // A sensitivity table of an earlier analysis would not belong to this one.
    if a.sensitivity.is_none() {
        let stale = dir.join(format!("sensitivity.{ext}"));
        if std::fs::symlink_metadata(&stale).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
        }
    }
    eprintln!(
        "wrote {} to {}",
        tables
            .iter()
            .map(|(n, _)| format!("{n}.{ext}"))
            .collect::<Vec<_>>()
            .join(", "),
        dir.display()
    );
    Ok(())
}

/// A record batch built column by column; an empty cell is `None`.
#[derive(Default)]
struct Columns {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    fn push(mut self, name: &str, ty: DataType, array: ArrayRef) -> Self {
        self.fields.push(Field::new(name, ty, true));
        self.arrays.push(array);
        self
    }

    fn text<'a>(self, name: &str, v: impl Iterator<Item = Option<&'a str>>) -> Self {
        self.push(name, DataType::Utf8, Arc::new(v.collect::<StringArray>()))
    }

    fn float(self, name: &str, v: impl Iterator<Item = Option<f64>>) -> Self {
        self.push(
            name,
            DataType::Float64,
            Arc::new(v.collect::<Float64Array>()),
        )
    }

    fn int(self, name: &str, v: impl Iterator<Item = Option<i64>>) -> Self {
        self.push(name, DataType::Int64, Arc::new(v.collect::<Int64Array>()))
    }

    fn finish(self) -> Result<RecordBatch, Error> {
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.arrays)
            .map_err(|e| Error::Eval(format!("building a robustness table: {e}")))
    }
}

/// `run, period, unit, score, rank` (+ `score.<id>`, `rank.<id>` per recorded dimension) for
/// every run and unit with a score or rank.
fn scores_batch(fw: &Framework, a: &Analysis) -> Result<RecordBatch, Error> {
    let (nr, nu, nk) = a.scores.dim();
    let rows: Vec<(usize, usize)> = (0..nr)
        .flat_map(|i| (0..nu).map(move |u| (i, u)))
        .filter(|&(i, u)| !a.scores[[i, u, 0]].is_nan() || a.ranks[[i, u, 0]] > 0)
        .collect();
    let score = |k: usize| {
        rows.iter().map(move |&(i, u)| {
            let s = a.scores[[i, u, k]];
            (!s.is_nan()).then_some(s)
        })
    };
    let rank = |k: usize| {
        rows.iter().map(move |&(i, u)| {
            let r = a.ranks[[i, u, k]];
            (r > 0).then_some(i64::from(r))
        })
    };
    let mut cols = Columns::default()
        .int(
            "run",
            rows.iter().map(|&(i, _)| Some(a.plan.runs[i].run as i64)),
        )
        .text("period", rows.iter().map(|_| Some(a.period.as_str())))
        .text("unit", rows.iter().map(|&(_, u)| Some(a.units[u].as_str())))
        .float("score", score(0))
        .int("rank", rank(0));
    for k in 1..nk {
        let id = &fw.nodes[a.nodes[k]].id;
        cols = cols
            .float(&format!("score.{id}"), score(k))
            .int(&format!("rank.{id}"), rank(k));
    }
    cols.finish()
}

/// Units in nominal order (unranked last, by key), with their statistics.
fn ordered(a: &Analysis) -> Vec<(usize, robustness::RankStats)> {
    let mut v: Vec<(usize, robustness::RankStats)> = a
        .rank_stats
        .iter()
        .enumerate()
        .filter_map(|(u, s)| s.map(|s| (u, s)))
        .collect();
    v.sort_by_key(|&(u, s)| (crate::evaluate::best_first(s.nominal), a.units[u].clone()));
    v
}

/// `period, unit, name, nominal, mean, median, q5, q95, min, max, runs` per unit, in nominal
/// order.
fn ranks_batch(panel: &crate::Panel, a: &Analysis, lang: Lang) -> Result<RecordBatch, Error> {
    let rows = ordered(a);
    let f = |g: fn(&robustness::RankStats) -> f64| rows.iter().map(move |(_, s)| Some(g(s)));
    let i = |g: fn(&robustness::RankStats) -> i64| rows.iter().map(move |(_, s)| Some(g(s)));
    Columns::default()
        .text("period", rows.iter().map(|_| Some(a.period.as_str())))
        .text("unit", rows.iter().map(|(u, _)| Some(a.units[*u].as_str())))
        .text(
            "name",
            rows.iter().map(|(u, _)| Some(panel.unit_name(*u, lang))),
        )
        .int(
            "nominal",
            rows.iter()
                .map(|(_, s)| (s.nominal > 0).then_some(i64::from(s.nominal))),
        )
        .float("mean", f(|s| s.mean))
        .float("median", f(|s| s.median))
        .float("q5", f(|s| s.q5))
        .float("q95", f(|s| s.q95))
        .int("min", i(|s| i64::from(s.min)))
        .int("max", i(|s| i64::from(s.max)))
        .int("runs", i(|s| s.runs as i64))
        .finish()
}

/// `input, si, si_q5, si_q95, sti, sti_q5, sti_q95`.
fn sensitivity_batch(s: &[robustness::Sensitivity]) -> Result<RecordBatch, Error> {
    let f = |g: fn(&robustness::Sensitivity) -> f64| s.iter().map(move |x| Some(g(x)));
    Columns::default()
        .text("input", s.iter().map(|x| Some(x.input.as_str())))
        .float("si", f(|x| x.si))
        .float("si_q5", f(|x| x.si_q5))
        .float("si_q95", f(|x| x.si_q95))
        .float("sti", f(|x| x.sti))
        .float("sti_q5", f(|x| x.sti_q5))
        .float("sti_q95", f(|x| x.sti_q95))
        .finish()
}

/// The terminal summary: the runs, then each unit's nominal rank and interval, best first;
/// with a sensitivity analysis, each input's indices.
fn summary(fw: &Framework, panel: &crate::Panel, a: &Analysis, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let n = a.plan.runs.len();
    let ok = n - a.failed.len();
    let how = match a.plan.sampling {
        Some(s) if zh => format!("{} 抽样，种子 {}", s.name(), a.plan.seed),
        Some(s) => format!("{} sampling, seed {}", s.name(), a.plan.seed),
        None => {
            if zh {
                "按运行表重放".into()
            } else {
                "replayed from a run table".into()
            }
        }
    };
    let period = if a.period.is_empty() {
        String::new()
    } else {
        format!(" — {}", a.period)
    };
    let mut text = if zh {
        format!(
            "{}{period}：{ok} 次运行（{how}）\n",
            fw.index().name.get(lang)
        )
    } else {
        format!("{}{period}: {ok} runs ({how})\n", fw.index().name.get(lang))
    };
    let mut t = Table::new();
    t.load_style(comfy_table::presets::NOTHING);
    t.set_header(if zh {
        vec!["名义排名", "代码", "名称", "中位", "5%–95%", "最好–最差"]
    } else {
        vec!["nominal", "unit", "name", "median", "5%–95%", "best–worst"]
    });
    let g = |x: f64| crate::format::fmt_trimmed(x, 2);
    for (u, s) in ordered(a) {
        t.add_row(vec![
            if s.nominal == 0 {
                "–".into()
            } else {
                s.nominal.to_string()
            },
            a.units[u].clone(),
            panel.unit_name(u, lang).to_string(),
            g(s.median),
            format!("{}–{}", g(s.q5), g(s.q95)),
            format!("{}–{}", s.min, s.max),
        ]);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        if !matches!(i, 1 | 2) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    text.push_str(&format!("{t}\n"));
    if let Some(sens) = &a.sensitivity {
        let mut t = Table::new();
        t.load_style(comfy_table::presets::NOTHING);
        t.set_header(if zh {
            vec!["输入", "一阶 Si", "5%–95%", "总效应 STi", "5%–95%"]
        } else {
            vec!["input", "first-order Si", "5%–95%", "total STi", "5%–95%"]
        });
        let f = |x: f64| crate::format::fmt_fixed(x, 3);
        for s in sens {
            t.add_row(vec![
                s.input.clone(),
                f(s.si),
                format!("{}–{}", f(s.si_q5), f(s.si_q95)),
                f(s.sti),
                format!("{}–{}", f(s.sti_q5), f(s.sti_q95)),
            ]);
        }
        text.push_str(&format!("\n{t}\n"));
    }
    text
}
