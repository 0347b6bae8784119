//! `kapok import coinr`: a framework from COINr's iData/iMeta tables.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Error;
use crate::import::coinr;

/// Arguments of `kapok import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    from: From,
}

#[derive(Debug, Subcommand)]
enum From {
    /// COINr's table format: iData (one row per unit) and iMeta (the tree).
    Coinr(CoinrArgs),
}

#[derive(Debug, Args)]
struct CoinrArgs {
    /// COINr iData table (CSV): uCode, uName, group and denominator columns, indicators.
    idata: PathBuf,
    /// COINr iMeta table (CSV): Level, iCode, iName, Direction, Weight, Unit, Target,
    /// Denominator, Parent, Type.
    imeta: PathBuf,
    /// Directory to write the framework into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// File name of the framework, without `.toml`.
    #[arg(long, default_value = "coinr")]
    name: String,
    /// Group column of iData to use for group imputation and within-group ranks.
    #[arg(long, value_name = "COLUMN")]
    group: Option<String>,
    /// Replace an existing framework file.
    #[arg(long)]
    force: bool,
}

/// Runs `kapok import`.
pub fn run(a: &ImportArgs) -> Result<(), Error> {
    let From::Coinr(a) = &a.from;
    let meta = coinr::read_meta(&a.imeta)?;
    let (header, periods) = coinr::data_shape(&a.idata)?;
    let created = !a.output.exists();
    std::fs::create_dir_all(&a.output).map_err(|e| Error::io(&a.output, e))?;
    let result = write_framework(a, &meta, &header, periods);
    if result.is_err() && created {
        // Leave nothing behind: the directory was made for this framework only.
        let _ = std::fs::remove_dir(&a.output);
    }
    let out = result?;
    let n = meta.iter().filter(|m| m.kind == "Indicator").count();
    eprintln!("wrote {} ({n} indicators)", out.display());
    Ok(())
}

/// Writes the checked framework into `a.output` (which exists) and returns its path.
fn write_framework(
    a: &CoinrArgs,
    meta: &[coinr::MetaRow],
    header: &[String],
    periods: usize,
) -> Result<std::path::PathBuf, Error> {
    let data_path = coinr::relative_path(&a.output, &a.idata)?;
    let text = coinr::framework_toml(meta, &data_path, header, a.group.as_deref(), periods)
        .map_err(|e| match e {
            Error::Data(m) => Error::Data(format!("{}: {m}", a.imeta.display())),
            e => e,
        })?;
    let out = a.output.join(format!("{}.toml", a.name));
    if out.exists() && !a.force {
        return Err(Error::Usage(format!(
            "{} exists; use --force to replace it",
            out.display()
        )));
    }
    // The result must be a valid framework: check it before writing.
    crate::framework::check(
        crate::framework::SourceFile::new(out.display().to_string(), text.as_str()),
        &a.output,
    )
    .map_err(Error::Framework)?;
    crate::io::write_atomic(&out, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })?;
    Ok(out)
}
