//! Renders every chart of a framework's results into a folder, for looking at them:
//!
//! ```sh
//! cargo run --example charts -- indicators/hongmian.toml /tmp/charts [--lang en] [--svg]
//!     [--period N] [--geojson FILE] [--tiles data/tiles-districts.csv] [--font FILE]
//! ```

use std::path::PathBuf;

use kapok::chart::{self, ChartOptions, ImageFormat};
use kapok::framework::Lang;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let framework = PathBuf::from(args.next().ok_or("usage: charts FRAMEWORK DIR [options]")?);
    let dir = PathBuf::from(args.next().ok_or("usage: charts FRAMEWORK DIR [options]")?);
    let fw = kapok::load(&framework).map_err(|e| e.to_string())?;
    let (results, _) = kapok::score(&fw, None)?;
    let mut opts = ChartOptions::latest(&results);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lang" if args.next().as_deref() == Some("en") => opts.lang = Lang::En,
            "--svg" => opts.format = ImageFormat::Svg,
            "--period" => opts.period = args.next().ok_or("--period N")?.parse()?,
            "--geojson" => {
                opts.geojson = Some(std::fs::read_to_string(
                    args.next().ok_or("--geojson FILE")?,
                )?)
            }
            "--tiles" => {
                opts.tiles = Some(chart::read_tiles(
                    args.next().ok_or("--tiles FILE")?.as_ref(),
                )?)
            }
            "--font" => {
                opts.font = Some(chart::load_font(
                    args.next().ok_or("--font FILE")?.as_ref(),
                )?)
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    std::fs::create_dir_all(&dir)?;
    for c in chart::render_all(&fw, &results, &opts)? {
        let path = dir.join(format!("{}.{}", c.name, c.ext));
        std::fs::write(&path, &c.bytes)?;
        println!("{}  {}", path.display(), c.title);
    }
    Ok(())
}
