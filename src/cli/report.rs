//! `kapok report`: the bundle for policy staff (see [`crate::report`]).

use std::path::PathBuf;

use clap::Args;

use super::RunArgs;
use crate::error::Error;
use crate::report::{self, ReportOptions, input_path};

/// Arguments of `kapok report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The period to report (default: the latest); rank changes are against the one before.
    #[arg(long)]
    period: Option<String>,
    /// The report directory to create: index.html, results.xlsx, results.parquet, bounds.csv, charts/,
    /// manifest.json.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Replace DIR when it holds a previous report (and nothing its manifest does not list).
    #[arg(long)]
    force: bool,
    /// A TrueType/OpenType font for the charts' labels.
    #[arg(long, value_name = "PATH")]
    font: Option<PathBuf>,
    /// GeoJSON boundaries of the units, for a map.
    #[arg(long, value_name = "PATH")]
    geojson: Option<PathBuf>,
    /// Tile-map positions of the units: a CSV of unit,row,col.
    #[arg(long, value_name = "PATH")]
    tiles: Option<PathBuf>,
    /// Draw the charts as SVG (text stays text) instead of PNG.
    #[arg(long)]
    svg: bool,
    /// Add a profile page per unit to index.html (default when there are at most 20 units).
    #[arg(long, overrides_with = "no_profiles")]
    profiles: bool,
    /// Leave the unit profiles out (default when there are more than 20 units).
    #[arg(long, overrides_with = "profiles")]
    no_profiles: bool,
    /// Show how stable the ranks are (rank intervals, a sensitivity chart) even when the
    /// framework declares no [uncertainty]: then each dimension's weight varies by ±25 % over
    /// 1000 runs, seed 1.
    #[arg(long)]
    robustness: bool,
}

/// Runs `kapok report`.
pub fn run(a: &ReportArgs) -> Result<(), Error> {
    let fw = a.run.framework(a.period.as_deref())?;
    // Map files given on the command line win over those the framework declares in [charts].
    let geojson = a.geojson.clone().or_else(|| fw.charts.geojson.clone());
    let tiles = a.tiles.clone().or_else(|| fw.charts.tiles.clone());
    let mut inputs = a.run.inputs(&fw);
    inputs.extend([&a.font, &geojson, &tiles].into_iter().flatten().cloned());
    // Refuse a bad target before the work, again as the report is begun (putting right what
    // a killed run left), and just before it is put in place.
    report::refuse_target(&a.output, a.force, &inputs)?;
    let (panel, mut warnings) = crate::read_panel(&fw, a.run.data.as_deref())?;
    let p = super::pick_period(&panel, a.period.as_deref(), &warnings).inspect_err(|_| {
        super::warn(&warnings);
    })?;
    // results.parquet is written as the periods are scored, and the run keeps what the
    // report of the period shows.
    let mut staging = report::Staging::new(&a.output, a.force, &inputs)?;
    let (bundle, results) = report::Bundle::scoring(&fw, panel, p, &mut staging)?;
    warnings.extend(results.warnings());
    super::warn(&warnings);
    let lang = match a.run.lang {
        crate::framework::Lang::Zh => "zh",
        crate::framework::Lang::En => "en",
    };
    let asked = (a.profiles || a.no_profiles).then_some(a.profiles);
    let profiles = report::profiles_on(asked, results.panel.units.len());
    let path = |p: &Option<PathBuf>| p.as_deref().map(|p| input_path(&a.run.framework, p));
    // Every option that changes what the report says (not where it goes: -o, --force).
    let options = serde_json::json!({
        "lang": lang,
        // The period as the data name it, however it was typed.
        "period": a.period.as_ref().map(|_| results.panel.periods[p].clone()),
        "data": path(&a.run.data),
        "weight": a.run.weights,
        "set": a.run.set,
        "impute": a.run.impute,
        "treat": a.run.treat,
        "normalize": one_or_many(&a.run.normalize),
        "aggregate": one_or_many(&a.run.aggregate),
        "per": a.run.per.map(super::Per::name),
        "incomplete": a.run.incomplete.map(super::IncompleteArg::name),
        "font": path(&a.font),
        "geojson": path(&geojson),
        "tiles": path(&tiles),
        "svg": a.svg,
        "profiles": profiles,
    });
    let opts = ReportOptions {
        lang: a.run.lang,
        period: p,
        framework: a.run.framework.clone(),
        data: a.run.data.clone(),
        font: a.font.clone(),
        geojson,
        tiles,
        svg: a.svg,
        profiles,
        options,
        robustness: a.robustness,
    };
    let files = bundle.finish(&fw, &results, &warnings, &opts)?;
    super::warn(&staging.commit(&a.output, a.force, &inputs)?);
    eprintln!(
        "wrote a report of {} ({}) to {}: {} file(s)",
        fw.index().name.get(a.run.lang),
        results.panel.periods[p],
        a.output.display(),
        files
    );
    Ok(())
}

/// An option's values in the manifest: null when not given, the text when given once, a list
/// when repeated.
fn one_or_many(v: &[String]) -> serde_json::Value {
    match v {
        [] => serde_json::Value::Null,
        [one] => serde_json::json!(one),
        many => serde_json::json!(many),
    }
}
