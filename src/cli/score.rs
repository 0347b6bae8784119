//! `kapok score`: every node's score and rank for every unit and period.

use std::path::PathBuf;

use clap::Args;

use super::RunArgs;
use crate::columns::{Selection, Table};
use crate::error::Error;
use crate::results::Stage;

/// Arguments of `kapok score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Only this period (e.g. 2023-12); default: all periods (the terminal table shows the latest).
    #[arg(long)]
    period: Option<String>,
    /// Output file; the format follows the extension: .csv, .parquet, .arrow, .xlsx, .json.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the normalisation bounds used (one row per indicator, CSV) to FILE, for
    /// `bounds = "FILE"` in a framework; indicators normalised per period get the bounds of
    /// --period (default: the latest).
    #[arg(long, value_name = "FILE")]
    save_bounds: Option<PathBuf>,
    /// Write each indicator's values after this stage instead of the scores (COINr's data
    /// sets): raw (before denominators), denominated, imputed, screened, treated or normalised;
    /// from screening on, only the units screening kept. Needs -o.
    #[arg(long, value_name = "STAGE", requires = "output",
          value_parser = clap::builder::PossibleValuesParser::new(Stage::ALL.map(Stage::name)))]
    stage: Option<String>,
    /// Write only these kinds of column (comma-separated, in the full table's order): index
    /// (the index's score and rank only), all (the default), or some of name, group, score,
    /// rank, group_rank, raw, imputed, from, change, rank_change, yoy, rank_yoy, rolling,
    /// trend — each named as its columns start (score for every score.<id>). unit and period
    /// are always written. Needs -o.
    #[arg(
        long,
        value_name = "KINDS",
        value_delimiter = ',',
        requires = "output",
        conflicts_with = "stage"
    )]
    columns: Vec<String>,
    /// Write the per-node columns (score.<id>, rank.<id>, …) of these nodes only
    /// (comma-separated ids, e.g. --nodes grid,d1); default: every node. Needs -o.
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        requires = "output",
        conflicts_with = "stage"
    )]
    nodes: Vec<String>,
}

/// Writes the results table of every period to `out` as the run scores each period
/// ([`crate::evaluate_streaming`]): a period's rows are written as soon as it is merged, and the
/// run keeps over the panel only what later periods' trends read.
fn write_as_scored(
    a: &ScoreArgs,
    fw: &crate::Framework,
    selection: &Selection,
    out: &std::path::Path,
) -> Result<(), Error> {
    let scoring = crate::Scoring::open(fw, a.run.data.as_deref())?;
    let table = Table::new(fw, scoring.panel(), selection)?;
    // The file is started with the first period: the writer's memory is not taken while the
    // data are bound, where the run's memory peaks.
    let start = || -> Result<crate::io::TableFile, Error> {
        // Again just before writing: the path may have changed while the data were read.
        crate::io::guard_inputs(out, &a.run.inputs(fw))?;
        crate::io::TableFile::create(out, table.schema())
    };
    let mut file = None;
    let keep = crate::Keep::Nodes(selection.streamed_nodes(fw));
    let handed = selection.handed_nodes();
    let (_, warnings) = scoring.evaluate(keep, handed, |m| {
        let f = match &mut file {
            Some(f) => f,
            None => file.insert(start()?),
        };
        let columns = table.merged_columns(m);
        f.write_columns(columns.rows(), &|c| columns.column(c))
    })?;
    super::warn(&warnings);
    let rows = match file {
        Some(f) => f.commit()?,
        None => start()?.commit()?,
    };
    eprintln!(
        "wrote {rows} row(s) × {} column(s) to {}",
        table.schema().fields().len(),
        out.display()
    );
    Ok(())
}

/// Runs `kapok score`.
pub fn run(a: &ScoreArgs) -> Result<(), Error> {
    let fw = a.run.framework(a.period.as_deref())?;
    if let Some(out) = &a.output {
        crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
        crate::io::Format::from_path(out)?;
    }
    let selection = Selection::parse(&fw, &a.columns, &a.nodes)?;
    if let Some(b) = &a.save_bounds {
        crate::io::guard_inputs(b, &a.run.inputs(&fw))?;
    }
    if let (Some(out), None, None, None) = (&a.output, &a.stage, &a.save_bounds, &a.period) {
        return write_as_scored(a, &fw, &selection, out);
    }
    // The values before normalisation are kept only for what writes them, and a table of
    // some nodes keeps only their scores.
    let keep = if a.stage.is_some() || a.save_bounds.is_some() {
        crate::Keep::Stages
    } else if a.output.is_some() {
        selection
            .score_nodes()
            .map_or(crate::Keep::Scores, crate::Keep::Nodes)
    } else {
        super::table::nodes_read(&fw)
    };
    let (results, warnings) = if a.output.is_none() && a.stage.is_none() && a.save_bounds.is_none()
    {
        // The terminal's ranking reads no values before normalisation: the data may be bound
        // a period at a time.
        crate::Scoring::open(&fw, a.run.data.as_deref())?.keeping(keep)?
    } else {
        crate::score_keeping(&fw, a.run.data.as_deref(), keep)?
    };
    super::warn(&warnings);
    let period = match &a.period {
        Some(p) => Some(super::pick_period(&results.panel, Some(p), &warnings)?),
        None => None,
    };
    if let Some(b) = &a.save_bounds {
        let p = super::pick_period(&results.panel, a.period.as_deref(), &warnings)?;
        let rows = crate::bounds::rows(&fw, &results, p)?;
        crate::io::guard_inputs(b, &a.run.inputs(&fw))?;
        crate::bounds::write(b, &rows)?;
        eprintln!(
            "wrote the bounds of {} indicator(s) to {}",
            rows.len(),
            b.display()
        );
    }
    match &a.output {
        Some(out) => {
            let batch = match a.stage.as_deref().and_then(Stage::parse) {
                None => {
                    // A period at a time, written as it is built.
                    let table = Table::new(&fw, &results.panel, &selection)?;
                    crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
                    let rows = crate::io::write_batches(
                        out,
                        table.schema(),
                        table.batches(&results, period),
                    )?;
                    eprintln!(
                        "wrote {rows} row(s) × {} column(s) to {}",
                        table.schema().fields().len(),
                        out.display()
                    );
                    return Ok(());
                }
                Some(Stage::Raw) => {
                    let raw = crate::read_raw_panel(&fw, a.run.data.as_deref())?;
                    results.stage_batch(&fw, Stage::Raw, Some(&raw), period)?
                }
                Some(stage) => results.stage_batch(&fw, stage, None, period)?,
            };
            // Again just before writing: the path may have changed during the run.
            crate::io::guard_inputs(out, &a.run.inputs(&fw))?;
            crate::io::write_table(&batch, out)?;
            eprintln!(
                "wrote {} row(s) × {} column(s) to {}",
                batch.num_rows(),
                batch.num_columns(),
                out.display()
            );
            Ok(())
        }
        None => {
            let p = super::pick_period(&results.panel, a.period.as_deref(), &warnings)?;
            let periods = results.panel.periods.len();
            if a.period.is_none() && periods > 1 {
                eprintln!(
                    "showing the latest of {periods} periods ({}); use --period P or -o FILE for the rest",
                    results.panel.periods[p]
                );
            }
            super::print(&super::table::ranking(&fw, &results, p, None, a.run.lang))
        }
    }
}
