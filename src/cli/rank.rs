//! `kapok rank`: the ranking of one period with rank changes and dimension scores.

use clap::Args;

use super::RunArgs;
use crate::error::Error;
use crate::framework::Lang;

/// Arguments of `kapok rank`.
#[derive(Debug, Args)]
pub struct RankArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The period to rank (default: the latest).
    #[arg(long)]
    period: Option<String>,
    /// Print the period side by side with this one (e.g. --compare 2022-12, 2022年12月,
    /// 2022-Q4): rank and score in each and the change.
    #[arg(long, value_name = "PERIOD")]
    compare: Option<String>,
}

/// Runs `kapok rank`.
pub fn run(a: &RankArgs) -> Result<(), Error> {
    let fw = a.run.framework(a.period.as_deref())?;
    // The ranking reads no values before normalisation: the data may be bound a period at a
    // time.
    let (results, warnings) =
        crate::Scoring::open(&fw, a.run.data.as_deref())?.keeping(super::table::nodes_read(&fw))?;
    super::warn(&warnings);
    let lang = a.run.lang;
    if let Some(note) = crate::report::untranslated(&fw, &results.panel, lang) {
        super::warn(&[note.text(&fw, lang)]);
    }
    let p = super::pick_period(&results.panel, a.period.as_deref(), &warnings)?;
    if let Some(c) = &a.compare {
        let q = super::find_period(&results.panel, "--compare", c, &warnings)?;
        let text = super::table::compare(&fw, &results, p, q, lang);
        return super::print(&text);
    }
    let prev = results.panel.previous_period(p);
    let panel = &results.panel;
    let mut text = String::new();
    if !panel.periods[p].is_empty() {
        let against = prev.map_or(String::new(), |q| match lang {
            Lang::Zh => format!("（与 {} 比较）", panel.periods[q]),
            Lang::En => format!(" (change against {})", panel.periods[q]),
        });
        text.push_str(&format!(
            "{} — {}{against}\n",
            fw.index().name.get(lang),
            panel.periods[p],
        ));
    }
    text.push_str(&super::table::ranking(&fw, &results, p, prev, a.run.lang));
    super::print(&text)
}
