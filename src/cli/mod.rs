//! The command line: one thin file per subcommand over the library.

mod audit;
mod check;
mod import;
mod rank;
mod report;
mod robustness;
mod score;
mod serve;
pub mod table;
mod weights;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::framework::overrides::{MethodKind, Overrides, SetParam};
use crate::framework::{self, Framework, Lang};

/// kapok: composite governance indices from declarative indicator frameworks.
#[derive(Debug, Parser)]
#[command(name = "kapok", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 data or evaluation error, 2 invalid framework or usage."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a framework (and, with its data, every expression) and report all problems.
    Check(check::CheckArgs),
    /// Compute scores and ranks of every node for every unit and period.
    Score(score::ScoreArgs),
    /// Print the ranking of one period with rank changes and dimension scores.
    Rank(rank::RankArgs),
    /// Write a framework from another tool's format (COINr's iData/iMeta).
    Import(import::ImportArgs),
    /// Audit one period: indicator statistics and flags, correlations, Cronbach's alpha, PCA,
    /// effective weights, and rank changes when each node is removed.
    Audit(audit::AuditArgs),
    /// Write a report bundle for one period: a self-contained HTML page, a formatted workbook,
    /// the full results as Parquet, the charts, and a manifest of every input and output.
    Report(report::ReportArgs),
    /// How much a rank means: re-run the index with the framework's declared uncertain inputs
    /// (weights, methods, parameters, excluded indicators) drawn at random and report each
    /// unit's rank interval; with --sobol, which input moves the ranking most.
    Robustness(robustness::RobustnessArgs),
    /// Serve a page to move weights and see the ranking change at once, with a JSON API
    /// (local only by default; reads the data once, writes nothing).
    Serve(serve::ServeArgs),
    /// Derive weights from the data (equal, PCA or COINr's balance) and write them as a
    /// [weights] table for the framework.
    Weights(weights::WeightsArgs),
}

/// Options shared by the commands that evaluate a framework.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The framework file (TOML).
    pub framework: PathBuf,
    /// Use this one table (CSV, Parquet, Arrow, XLSX) instead of the framework's sources.
    #[arg(long, value_name = "TABLE")]
    pub data: Option<PathBuf>,
    /// Override a node's weight for this run, e.g. --weight safety=2 (repeatable).
    #[arg(long = "weight", value_name = "ID=W")]
    pub weights: Vec<String>,
    /// Derive every weight from the data instead: equal, pca or balance, as `kapok weights
    /// --method METHOD` writes them, from the command's --period (default: the latest).
    /// Cannot be combined with --weight.
    #[arg(long, value_enum, value_name = "METHOD", conflicts_with = "weights")]
    pub weights_from: Option<crate::weights::Method>,
    /// Imputation for every indicator that sets none, e.g. --impute median, --impute
    /// carry_forward (the unit's last value) or a fallback chain --impute '[{ method =
    /// "carry_forward", max_periods = 2 }, "group_median"]'.
    #[arg(long, value_name = "METHOD")]
    pub impute: Option<String>,
    /// Outlier treatment for every indicator that sets none, e.g. --treat winsorise.
    #[arg(long, value_name = "METHOD")]
    pub treat: Option<String>,
    /// Normalisation for every indicator that sets none, e.g. --normalize zscore or
    /// --normalize '{ method = "minmax", range = [1, 10] }'; NODE=METHOD for the indicators
    /// under one node (or one indicator), level:N=METHOD for a level (1 = the index's
    /// children) — repeatable.
    #[arg(long, value_name = "METHOD")]
    pub normalize: Vec<String>,
    /// Aggregation for every node that sets none, e.g. --aggregate geometric; NODE=METHOD for
    /// one node, level:N=METHOD for a level (0 = the index, 1 = its children) — repeatable.
    #[arg(long, value_name = "METHOD")]
    pub aggregate: Vec<String>,
    /// Change one parameter of a default method, keeping the others (a normalisation's range,
    /// a treatment's limit, …); repeatable. The help text gives examples (as an attribute:
    /// their brackets would read as links here).
    #[arg(
        long = "set",
        value_name = "KIND.PARAM=VALUE",
        help = "Change one parameter of a default method, keeping the others, e.g. \
                --set normalize.range=[1,100] or --set treat.winmax=3 (repeatable)"
    )]
    pub set: Vec<String>,
    /// Language of names in tables.
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
    /// Publish quarters or years from finer data: source columns are rolled up per unit (sums,
    /// or the `[rollup]` rules) before the indicators are computed. Overrides `[units] per`;
    /// the data's own granularity means no rollup.
    #[arg(long, value_enum, value_name = "GRANULARITY")]
    pub per: Option<Per>,
    /// What to do with a quarter or year that lacks a month under --per: refuse, prorate or
    /// accept. Overrides `[rollup] incomplete` (default refuse).
    #[arg(long, value_enum, value_name = "RULE")]
    pub incomplete: Option<IncompleteArg>,
}

/// Publication granularity of `--per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Per {
    /// Months.
    Month,
    /// Calendar quarters (2023-Q4).
    Quarter,
    /// Calendar years.
    Year,
}

impl Per {
    /// The name as typed.
    pub fn name(self) -> &'static str {
        match self {
            Per::Month => "month",
            Per::Quarter => "quarter",
            Per::Year => "year",
        }
    }
}

/// The rule of `--incomplete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IncompleteArg {
    /// Publish no incomplete period (a period the data end inside of is left out).
    Refuse,
    /// Scale sums to the whole period; flagged.
    Prorate,
    /// Use the months there are; flagged.
    Accept,
}

impl IncompleteArg {
    /// The name as typed.
    pub fn name(self) -> &'static str {
        match self {
            IncompleteArg::Refuse => "refuse",
            IncompleteArg::Prorate => "prorate",
            IncompleteArg::Accept => "accept",
        }
    }
}

impl RunArgs {
    /// Loads the framework and applies the command-line overrides; with `--weights-from`, the
    /// weights derived from `period` (default: the latest) of the data.
    pub fn framework(&self, period: Option<&str>) -> Result<Framework, Error> {
        let mut fw = framework::load(&self.framework)?;
        fw.apply(&self.overrides()?)?;
        self.apply_per(&mut fw)?;
        if let Some(method) = self.weights_from {
            weights::derive_for_run(self, &fw, period, method)?.apply(&mut fw);
        }
        Ok(fw)
    }

    /// The methods, parameters and weights given on the command line.
    pub fn overrides(&self) -> Result<Overrides, Error> {
        let mut o = Overrides::default();
        for (kind, given) in [
            (MethodKind::Impute, self.impute.as_slice()),
            (MethodKind::Treat, self.treat.as_slice()),
            (MethodKind::Normalize, &self.normalize),
            (MethodKind::Aggregate, &self.aggregate),
        ] {
            o.methods
                .extend(given.iter().map(|text| (kind, text.clone())));
        }
        for s in &self.set {
            o.sets.push(SetParam::parse(s).map_err(Error::Usage)?);
        }
        for w in &self.weights {
            o.weights.push(weight_option(w)?);
        }
        Ok(o)
    }

    /// Applies `--per` and `--incomplete` to the framework's rollup.
    fn apply_per(&self, fw: &mut Framework) -> Result<(), Error> {
        use crate::framework::rollup::Incomplete;
        use crate::period::Granularity;
        if let Some(per) = self.per {
            if fw.units.period.is_none() {
                return Err(Error::Usage(format!(
                    "--per {}: the framework has no periods ([units] names no period column)",
                    per.name()
                )));
            }
            fw.rollup.per = Some(match per {
                Per::Month => Granularity::Month,
                Per::Quarter => Granularity::Quarter,
                Per::Year => Granularity::Year,
            });
            fw.rollup.per_span = None;
        }
        if let Some(i) = self.incomplete {
            fw.rollup.incomplete = match i {
                IncompleteArg::Refuse => Incomplete::Refuse,
                IncompleteArg::Prorate => Incomplete::Prorate,
                IncompleteArg::Accept => Incomplete::Accept,
            };
        }
        Ok(())
    }

    /// Every file the run may read — the framework, `--data`, the sources and the `[charts]`
    /// files — so that no output overwrites one.
    pub fn inputs(&self, fw: &Framework) -> Vec<PathBuf> {
        let mut v = vec![self.framework.clone()];
        v.extend(self.data.clone());
        v.extend(fw.sources.iter().map(|s| s.resolved.clone()));
        v.extend(fw.charts.tiles.clone());
        v.extend(fw.charts.geojson.clone());
        v.extend(crate::bounds::frozen_files(fw));
        v
    }
}

/// Reads `--weight ID=W`.
fn weight_option(w: &str) -> Result<(String, f64), Error> {
    let (id, value) = w
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("--weight {w}: expected ID=WEIGHT, e.g. safety=2")))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("--weight {w}: `{value}` is not a number")))?;
    if !value.is_finite() || value < 0.0 {
        return Err(Error::Usage(format!(
            "--weight {w}: a weight must be a finite number ≥ 0"
        )));
    }
    Ok((id.trim().to_string(), value))
}

/// Picks the period to show: the given one (checked) or the latest. `warnings` are the run's,
/// which say which periods were left out as incomplete (see [`find_period`]).
pub fn pick_period(
    panel: &crate::Panel,
    period: Option<&str>,
    warnings: &[crate::Warning],
) -> Result<usize, Error> {
    match period {
        Some(p) => find_period(panel, "--period", p, warnings),
        None => Ok(panel.periods.len().saturating_sub(1)),
    }
}

/// The period an option (`flag`, e.g. `--period`, `--compare`) names, in any spelling
/// [`crate::period::Period::parse`] accepts; a usage error saying which periods the data have
/// when they do not have it, or, for a quarter or year left out as incomplete (see `warnings`),
/// which months it lacks and how to publish it anyway.
pub fn find_period(
    panel: &crate::Panel,
    flag: &str,
    text: &str,
    warnings: &[crate::Warning],
) -> Result<usize, Error> {
    if panel.periods.iter().all(String::is_empty) {
        return Err(Error::Usage(format!(
            "{flag} {text}: the framework has no periods ([units] names no period column)"
        )));
    }
    let canonical =
        crate::period::Period::parse(text).map_err(|e| Error::Usage(format!("{flag} {e}")))?;
    let left_out = warnings.iter().find_map(|w| match w {
        crate::Warning::PartialPeriodsLeftOut { periods, .. } => periods
            .iter()
            .find(|(q, _)| *q == canonical.to_string())
            .map(|(_, months)| months.clone()),
        _ => None,
    });
    if let Some(months) = left_out {
        return Err(Error::Usage(format!(
            "{flag} {text}: {canonical} is incomplete — the data lack {} for every unit — and is left out ([rollup] incomplete = \"refuse\")\nhint: publish it anyway with --incomplete prorate (sums scaled to the whole period) or --incomplete accept (the months there are)",
            crate::data::list(&months)
        )));
    }
    panel.period_index(text).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} {text}: no data for {canonical} (the data have {} period(s), {} … {})",
            panel.periods.len(),
            panel.periods.first().map_or("", String::as_str),
            panel.periods.last().map_or("", String::as_str)
        ))
    })
}

/// Prints warnings to standard error (in English, as logs keep them).
pub fn warn<W: std::fmt::Display>(warnings: &[W]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "warning: {w}");
    }
}

/// Writes to standard output; a closed pipe (`kapok rank … | head`) is not an error.
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io(std::path::Path::new("<stdout>"), e))
        }
        _ => Ok(()),
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match &cli.command {
        Command::Check(a) => check::run(a),
        Command::Score(a) => score::run(a),
        Command::Rank(a) => rank::run(a),
        Command::Import(a) => import::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Report(a) => report::run(a),
        Command::Robustness(a) => robustness::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Weights(a) => weights::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            match &e {
                Error::Framework(d) => eprint!("{}", d.render()),
                other => eprintln!("error: {other}"),
            }
            e.exit_code()
        }
    }
}
