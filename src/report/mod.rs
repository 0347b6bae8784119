//! `kapok report`: the bundle policy staff hand upward — `index.html` (self-contained),
//! `results.xlsx`, `results.parquet`, `charts/<name>.<ext>` and `manifest.json` — each written
//! as it is made into a temporary directory beside the target ([`Staging`]), renamed into place
//! once whole.
//!
//! Nothing in any file depends on the time or the machine: the same inputs give the same bytes.

pub mod describe;
mod drivers;
pub mod headline;
mod html;
mod profile;
pub mod robustness;
mod xlsx;

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chart::{self, Chart, ChartOptions, ImageFormat};
use crate::columns::Table;
use crate::error::Error;
use crate::evaluate::RankChange;
use crate::evaluate::{Results, Status};
use crate::framework::{Framework, Lang, NodeKind, Text};
use crate::io::ParquetStream;
use crate::messages::{Note, StatusNote, Warning};

/// How many units the charts that show a subset show (e.g. the best and worst streets).
pub const TOP_N: usize = 15;

/// Units above which the report's unit tables list the top and the bottom [`TABLE_CUT`] only
/// (`Report::table_rows`).
pub const TABLE_MOST: usize = 500;

/// Units at the top and at the bottom of a unit table cut short (`Report::table_rows`).
pub const TABLE_CUT: usize = 100;

/// Reports of at most this many units have a profile page per unit unless told otherwise
/// (`--no-profiles`).
pub const PROFILES_MAX_UNITS: usize = 20;

/// Whether a report of `units` units has profile pages: as asked, or by default when there are
/// at most [`PROFILES_MAX_UNITS`].
pub fn profiles_on(asked: Option<bool>, units: usize) -> bool {
    asked.unwrap_or(units <= PROFILES_MAX_UNITS)
}

/// What to put in a report, and the inputs to record.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Language of the HTML, the workbook's headers and the charts.
    pub lang: Lang,
    /// The period reported (index into the panel's periods).
    pub period: usize,
    /// The framework file, as given.
    pub framework: PathBuf,
    /// The single data table used instead of the framework's sources (`--data`).
    pub data: Option<PathBuf>,
    /// A font file for the charts.
    pub font: Option<PathBuf>,
    /// GeoJSON boundaries of the units, for a map.
    pub geojson: Option<PathBuf>,
    /// Tile-map positions, a CSV of `unit,row,col`.
    pub tiles: Option<PathBuf>,
    /// Charts as SVG instead of PNG.
    pub svg: bool,
    /// A profile page per unit (see [`profiles_on`]).
    pub profiles: bool,
    /// The run's options as recorded in the manifest.
    pub options: serde_json::Value,
    /// Analyse the ranking's robustness even when the framework declares no `[uncertainty]`
    /// (`--robustness`: weights ±25 % on the index's children; see [`robustness`]).
    pub robustness: bool,
}

/// One file of the bundle: its path inside the bundle (with `/`) and its bytes.
pub type File = (String, Vec<u8>);

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hexadecimal of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A path for display and the manifest: `/` separators, `.` and `a/..` removed lexically (no
/// file-system lookup, so the manifest does not depend on where the checkout lives).
pub fn clean_path(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut root = String::new();
    for c in p.components() {
        match c {
            Component::Prefix(x) => root = x.as_os_str().to_string_lossy().into_owned(),
            Component::RootDir => root.push('/'),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|l| l != "..") {
                    parts.pop();
                } else if root.is_empty() {
                    parts.push("..".into());
                }
            }
            Component::Normal(x) => parts.push(x.to_string_lossy().into_owned()),
        }
    }
    let body = parts.join("/");
    match (root.is_empty(), body.is_empty()) {
        (true, true) => ".".into(),
        (true, false) => body,
        (false, _) => format!("{root}{body}"),
    }
}

/// A path for the manifest and the report: relative to the framework's directory, through
/// the file system (symlinks, `.` and `..` resolved), with `/` separators — so the same file
/// gives the same text however its path or the framework's was typed (`./x`, `a/../x`, an
/// absolute path). The framework itself is its file name. Falls back to [`clean_path`] when a
/// path cannot be resolved.
pub fn input_path(framework: &Path, p: &Path) -> String {
    let base = framework
        .canonicalize()
        .ok()
        .and_then(|f| f.parent().map(Path::to_path_buf));
    let (Some(base), Some(target)) = (base, crate::io::resolve(p)) else {
        return clean_path(p);
    };
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return clean_path(&target); // another drive: absolute
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|e| Error::io(path, e))
}

/// A recorded file: its role, name, path, hash and size.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `source`, `data`, `font`, `geojson` or `tiles` (inputs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<std::borrow::Cow<'static, str>>,
    /// The source's table name (sources only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Path: inputs relative to the framework's directory (see [`input_path`]), outputs
    /// relative to the bundle.
    pub path: String,
    /// SHA-256, lower-case hexadecimal.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl Entry {
    fn of(role: Option<&'static str>, name: Option<String>, path: String, bytes: &[u8]) -> Self {
        Self {
            role: role.map(std::borrow::Cow::Borrowed),
            name,
            path,
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        }
    }

    /// The entry of the file at `file`, read a piece at a time (a data source may be larger
    /// than the memory the run needs otherwise).
    fn of_file(
        role: Option<&'static str>,
        name: Option<String>,
        path: String,
        file: &Path,
    ) -> Result<Self, Error> {
        use std::io::Read;
        let mut f = fs::File::open(file).map_err(|e| Error::io(file, e))?;
        let (mut sha, mut bytes) = (Sha256::new(), 0u64);
        let mut buf = vec![0; 1 << 16];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    sha.update(&buf[..n]);
                    bytes += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(file, e)),
            }
        }
        Ok(Self {
            role: role.map(std::borrow::Cow::Borrowed),
            name,
            path,
            sha256: hex(&sha.finalize()),
            bytes,
        })
    }
}

/// `manifest.json`: what was run on what, and what came out. Read back (with every key and
/// no other) to recognise an earlier report that `--force` may replace.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// kapok's version.
    pub kapok: String,
    /// The framework file.
    pub framework: Entry,
    /// The period reported.
    pub period: String,
    /// The period rank changes are measured against.
    pub previous_period: Option<String>,
    /// The options of the run (everything that changes the output).
    pub options: serde_json::Value,
    /// Every input file read: data sources (or `--data`), font, GeoJSON, tiles.
    pub inputs: Vec<Entry>,
    /// Every file of the bundle except the manifest, by path.
    pub files: Vec<Entry>,
}

/// Everything the HTML and the workbook draw on.
pub(crate) struct Report<'a> {
    pub fw: &'a Framework,
    pub r: &'a Results,
    pub p: usize,
    pub prev: Option<usize>,
    pub lang: Lang,
    pub profiles: bool,
    pub warnings: &'a [String],
    pub framework_path: String,
    pub framework_sha: String,
    /// Changes and trend classes of the period reported (`None` without periods), see
    /// [`Report::trends`]: no reader asks for another period's, and every period's took 200 MB
    /// at grid scale.
    pub trends: Option<crate::trend::Trends>,
    /// The ranking's robustness, when analysed.
    pub robustness: Option<robustness::Robustness>,
    /// Decimals of the scores printed ([`crate::format::score_decimals`] of the period's
    /// scores), found once.
    pub decimals: usize,
    /// Indicator values after imputation, before treatment, of the period reported,
    /// `[[unit, indicator]]` (see [`Results::imputed_at`]).
    pub imputed: ndarray::ArrayView2<'a, f64>,
    /// [`Report::units`], found once: every sheet, chart and table of the report reads it.
    pub order: Vec<usize>,
}

/// The units with a row in period `p`, best first (unranked last), ties by key.
fn best_first(r: &Results, p: usize) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..r.panel.units.len())
        .filter(|&u| r.status[[p, u]] != Status::Absent)
        .collect();
    crate::evaluate::sort_best_first(r, p, &mut rows);
    rows
}

/// One row of the methodology table: a node of the framework with its effective methods.
pub(crate) struct NodeRow {
    pub node: usize,
    pub depth: usize,
    pub level: &'static str,
    pub effective: f64,
    pub unit: String,
    pub direction: String,
    pub expr: String,
    pub impute: String,
    pub treat: String,
    pub normalise: String,
    pub aggregate: String,
}

impl Report<'_> {
    /// The period's structure for the "what drives the index" box
    /// ([`crate::explain::audit::audit_structure`]), audited when called: the page calls it
    /// once.
    pub fn structure(&self) -> Result<crate::explain::audit::Audit, Error> {
        crate::explain::audit::audit_structure(self.fw, &self.r.panel, self.p).map(|(a, _)| a)
    }

    pub fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// The text in the report's language.
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        if self.zh() { zh } else { en }
    }

    /// A node's name in the report's language (see [`Text::get`] for the fallback).
    pub fn name(&self, node: usize) -> &str {
        self.fw.nodes[node].name.get(self.lang)
    }

    /// A unit's name in the report's language (see [`crate::data::Panel::unit_name`]).
    pub fn unit_name(&self, u: usize) -> &str {
        self.r.panel.unit_name(u, self.lang)
    }

    /// A unit's name as HTML: escaped, and marked with the language it is written in when it
    /// has no name in the report's language.
    pub fn unit_html(&self, u: usize) -> String {
        let name = html::esc(self.unit_name(u));
        if self.r.panel.name_lacks(u, self.lang) {
            format!("<span lang=\"{}\">{name}</span>", self.lang.other().tag())
        } else {
            name
        }
    }

    /// A framework text as HTML: escaped, and marked with the language it is written in when
    /// it has nothing in the report's language.
    pub fn text_html(&self, t: &Text) -> String {
        let s = html::esc(t.get(self.lang));
        if t.lacks(self.lang) {
            format!("<span lang=\"{}\">{s}</span>", self.lang.other().tag())
        } else {
            s
        }
    }

    pub fn period_name(&self) -> &str {
        &self.r.panel.periods[self.p]
    }

    pub fn prev_name(&self) -> Option<&str> {
        self.prev.map(|q| self.r.panel.periods[q].as_str())
    }

    /// The rows of the report's unit tables: every unit of [`Report::units`], or with more
    /// than [`TABLE_MOST`] of them the top and the bottom [`TABLE_CUT`], with the number left
    /// out between them (`Err`): a table of thousands of grids is no reading, nor printing;
    /// results.xlsx and results.parquet hold every unit.
    pub fn table_rows(&self) -> Vec<Result<usize, usize>> {
        let units = self.units();
        if units.len() <= TABLE_MOST {
            return units.iter().copied().map(Ok).collect();
        }
        let left_out = units.len() - 2 * TABLE_CUT;
        let top = units[..TABLE_CUT].iter().copied().map(Ok);
        let bottom = units[units.len() - TABLE_CUT..].iter().copied().map(Ok);
        top.chain([Err(left_out)]).chain(bottom).collect()
    }

    /// The units with a row in the period, best first (unranked last, by key).
    pub fn units(&self) -> &[usize] {
        &self.order
    }

    pub fn rank(&self, u: usize, node: usize) -> Option<u32> {
        Some(self.r.rank(self.p, u, node)).filter(|&k| k > 0)
    }

    pub fn group_rank(&self, u: usize) -> Option<u32> {
        self.r
            .group_ranks
            .as_ref()
            .map(|g| g[[self.p, u, 0]])
            .filter(|&k| k > 0)
    }

    pub fn prev_rank(&self, u: usize) -> Option<u32> {
        self.prev.map(|q| self.r.rank(q, u, 0)).filter(|&k| k > 0)
    }

    /// `↑2`, `↓1`, `=`, `new`, `–`; empty when there is no previous period.
    pub fn change(&self, u: usize) -> String {
        self.prev.map_or(String::new(), |q| {
            match self.r.rank_change(0, q, self.p, u) {
                RankChange::Unranked => "–".into(),
                RankChange::New => if self.zh() { "新" } else { "new" }.into(),
                RankChange::Up(k) => format!("↑{k}"),
                RankChange::Down(k) => format!("↓{k}"),
                RankChange::Same => "=".into(),
            }
        })
    }

    pub fn score(&self, u: usize, node: usize) -> Option<f64> {
        Some(self.r.scores[[self.p, u, node]]).filter(|v| v.is_finite())
    }

    /// A score as the report prints it (with [`Report::decimals`]); `–` for none.
    pub fn fmt_score(&self, v: Option<f64>) -> String {
        v.map_or("–".into(), |v| crate::format::fmt_fixed(v, self.decimals))
    }

    /// The raw value of indicator column `j`.
    pub fn raw(&self, u: usize, j: usize) -> Option<f64> {
        Some(self.r.panel.values[[self.p, u, j]]).filter(|v| v.is_finite())
    }

    /// Why a unit has no rank, if it has none.
    pub fn status_note(&self, u: usize) -> Option<&'static str> {
        self.status(u).map(|s| s.text(self.lang))
    }

    /// Why a unit has no rank, if it has none.
    fn status(&self, u: usize) -> Option<StatusNote> {
        match self.r.status[[self.p, u]] {
            Status::Screened => Some(StatusNote::Screened),
            Status::Missing => Some(StatusNote::NoIndex),
            _ if self.rank(u, 0).is_none() => Some(StatusNote::NotRanked),
            _ => None,
        }
    }

    pub fn has_groups(&self) -> bool {
        self.r.group_ranks.is_some() && self.r.panel.groups.is_some()
    }

    /// The nodes of the dimension table: every aggregate below the index, or the index's
    /// children when it aggregates indicators directly.
    pub fn dims(&self) -> Vec<usize> {
        let aggs: Vec<usize> = self.fw.aggregates_preorder().into_iter().skip(1).collect();
        if aggs.is_empty() {
            self.fw.index().children.clone()
        } else {
            aggs
        }
    }

    /// Every node in pre-order with its effective methods.
    pub fn node_rows(&self) -> Vec<NodeRow> {
        let fw = self.fw;
        let eff = fw.effective_weights();
        let mut out = Vec::new();
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            let n = &fw.nodes[node];
            let mut row = NodeRow {
                node,
                depth,
                level: if node == 0 {
                    self.t("指数", "index")
                } else if n.indicator().is_some() {
                    self.t("指标", "indicator")
                } else {
                    self.t("维度", "dimension")
                },
                effective: eff[node],
                unit: String::new(),
                direction: String::new(),
                expr: String::new(),
                impute: String::new(),
                treat: String::new(),
                normalise: String::new(),
                aggregate: String::new(),
            };
            match &n.kind {
                NodeKind::Indicator(spec) => {
                    row.unit = spec.unit.get(self.lang).to_string();
                    row.direction = describe::direction(spec.direction, self.lang).into();
                    row.expr = spec.expr.clone();
                    if let Some((d, _)) = &spec.denominator {
                        let scale = if spec.denominator_scale == 1.0 {
                            String::new()
                        } else {
                            format!(" / {}", describe::num(spec.denominator_scale))
                        };
                        row.expr = format!("({}) / ({d}{scale})", row.expr);
                    }
                    row.impute = describe::impute(&fw.impute_of(spec), self.lang);
                    row.treat = describe::treat(&fw.treat_of(spec), self.lang);
                    row.normalise = describe::normalise(&fw.normalise_of(spec), self.lang);
                }
                NodeKind::Aggregate(_) => {
                    row.aggregate = describe::node_score(fw, node, self.lang);
                }
            }
            out.push(row);
            stack.extend(n.children.iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }

    /// The ranking rule in words.
    pub fn rank_rule(&self) -> String {
        let mut s = String::from(if self.fw.nodes[0].lower_is_better {
            self.t(
                "按指数得分由低到高排名（越低越好），得分相同者并列",
                "units are ranked by index score, lowest first (lower is better); equal scores share a rank",
            )
        } else {
            self.t(
                "按指数得分由高到低排名，得分相同者并列",
                "units are ranked by index score, highest first; equal scores share a rank",
            )
        });
        if let Some(d) = self.fw.rank.digits {
            s.push_str(&if self.zh() {
                format!("；得分先四舍五入至 {d} 位小数")
            } else {
                format!("; scores are first rounded to {d} decimals")
            });
        }
        if let Some(only) = &self.fw.rank.only {
            s.push_str(&if self.zh() {
                format!("；仅对满足条件 {only} 的单位排名")
            } else {
                format!("; only units meeting {only} are ranked")
            });
        }
        s
    }

    /// What happened to the data in this period: empty indicators, missing and imputed
    /// values, outlier treatment, screened units.
    pub fn period_notes(&self) -> Vec<String> {
        self.notes()
            .iter()
            .map(|n| n.text(self.fw, self.lang))
            .collect()
    }

    /// Values of the period filled from other periods of the same unit (panel imputation),
    /// one note per indicator, method and source periods, units in report order.
    fn filled_from_periods(&self) -> Vec<Note> {
        let (r, p) = (self.r, self.p);
        let units = self.units();
        let mut out: Vec<Note> = Vec::new();
        for (j, &node) in r.panel.indicators.iter().enumerate() {
            for &u in units {
                let Some(f) = r.provenance.get(p, u, j).filter(|f| !f.from.is_empty()) else {
                    continue;
                };
                let from = f.from.clone();
                let name = self.unit_name(u).to_string();
                match out.iter_mut().find(|n| {
                    matches!(n, Note::FilledFromPeriods { node: m, method, from: g, .. }
                        if *m == node && method.name() == f.method.name() && *g == from)
                }) {
                    Some(Note::FilledFromPeriods { units, .. }) => units.push(name),
                    _ => out.push(Note::FilledFromPeriods {
                        node,
                        units: vec![name],
                        method: f.method.clone(),
                        from,
                    }),
                }
            }
        }
        out
    }

    /// The notes of [`Report::period_notes`], as messages.
    fn notes(&self) -> Vec<Note> {
        let (r, p) = (self.r, self.p);
        let panel = &r.panel;
        let mut out = Vec::new();
        let present: Vec<usize> = (0..panel.units.len())
            .filter(|&u| panel.present[[p, u]])
            .collect();
        for (j, &node) in panel.indicators.iter().enumerate() {
            if r.empty.contains(&(node, p)) {
                out.push(Note::IndicatorEmpty { node });
                continue;
            }
            let missing = present
                .iter()
                .filter(|&&u| panel.values[[p, u, j]].is_nan())
                .count();
            if missing > 0 {
                let imputed = r.imputed[[p, j]];
                out.push(Note::Missing {
                    node,
                    missing,
                    imputed,
                });
            }
        }
        out.extend(self.filled_from_periods());
        for t in r.treatments.iter().filter(|t| t.period == p) {
            let node = panel.indicators[t.indicator];
            match t.report.outcome {
                crate::pipeline::TreatOutcome::Winsorised => out.push(Note::Winsorised {
                    node,
                    values: t.report.points.len(),
                }),
                crate::pipeline::TreatOutcome::Log => out.push(Note::LogTransformed { node }),
                _ => {}
            }
        }
        for o in r.outside.iter().filter(|o| o.period == p) {
            let capped = r
                .references
                .get(o.indicator)
                .and_then(Option::as_ref)
                .is_none_or(|x| x.outside == crate::framework::Outside::Cap);
            out.push(Note::OutsideBounds {
                node: panel.indicators[o.indicator],
                values: o.below + o.above,
                capped,
            });
        }
        if !self.fw.comparable_across_periods() && panel.periods.len() > 1 {
            out.push(Note::ScoresPerPeriod);
        }
        for &u in self.units() {
            if let Some(status) = self.status(u) {
                out.push(Note::Unit {
                    key: panel.units[u].clone(),
                    name: self.unit_name(u).to_string(),
                    status,
                });
            }
        }
        out
    }
}

/// The run's warnings for readers in `lang`, after a note on the texts shown in the other
/// language (see [`untranslated`]).
fn reader_warnings(fw: &Framework, r: &Results, warnings: &[Warning], lang: Lang) -> Vec<String> {
    untranslated(fw, &r.panel, lang)
        .map(|n| n.text(fw, lang))
        .into_iter()
        .chain(warnings.iter().map(|w| w.text(fw, lang)))
        .collect()
}

/// The framework texts (names, description, units of measurement, report header), group names
/// and unit names that have
/// nothing in `lang` and are shown in the other language, as a note; `None` when there are none.
pub fn untranslated(fw: &Framework, panel: &crate::data::Panel, lang: Lang) -> Option<Note> {
    let mut texts: Vec<String> = Vec::new();
    let framework = fw
        .nodes
        .iter()
        .map(|n| &n.name)
        .chain(&fw.description)
        .chain(
            fw.nodes
                .iter()
                .filter_map(|n| n.indicator().map(|s| &s.unit)),
        )
        .chain(
            [
                fw.report.title_per(fw.rollup.per),
                fw.report.issuer.as_ref(),
                fw.report.note.as_ref(),
            ]
            .into_iter()
            .flatten(),
        );
    let groups = panel.group_names.iter().flatten();
    for t in framework.chain(groups).filter(|t| t.lacks(lang)) {
        let shown = t.get(lang).to_string();
        if !shown.is_empty() && !texts.contains(&shown) {
            texts.push(shown);
        }
    }
    let units = (0..panel.units.len())
        .filter(|&u| panel.name_lacks(u, lang))
        .count();
    (!texts.is_empty() || units > 0).then_some(Note::Untranslated { texts, units })
}

/// Builds every file of the bundle in memory, sorted by path.
pub fn build(
    fw: &Framework,
    r: &Results,
    warnings: &[Warning],
    opts: &ReportOptions,
) -> Result<Vec<File>, Error> {
    let mut files: Vec<File> = Vec::new();
    build_into(fw, r, warnings, opts, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Builds every file of the bundle into `sink`, each as soon as it is made (the manifest
/// last); returns how many files there are.
pub fn build_into(
    fw: &Framework,
    r: &Results,
    warnings: &[Warning],
    opts: &ReportOptions,
    sink: &mut dyn Sink,
) -> Result<usize, Error> {
    let mut out = Written {
        sink,
        files: Vec::new(),
    };
    out.write("results.parquet", |w| {
        let (table, mut file) = results_file(fw, &r.panel, w)?;
        for batch in table.batches(r, None) {
            file.write(&batch?).map_err(parquet_failed)?;
        }
        file.finish().map_err(parquet_failed)?;
        Ok(())
    })?;
    Bundle { out }.finish(fw, r, warnings, opts)
}

/// A report's bundle being written into a [`Sink`], its results.parquet written:
/// [`Bundle::finish`] makes the rest. [`Bundle::scoring`] writes results.parquet as the run
/// scores each period, and the run keeps what the report of one period reads only
/// ([`crate::Keep::Period`]): for the grid benchmark (20,849 units × 24 months), every node's
/// scores of every month are 270 MB and their ranks 130 MB more, none of which the report
/// shows but in results.parquet.
pub struct Bundle<'s> {
    out: Written<'s>,
}

impl<'s> Bundle<'s> {
    /// Scores `panel` for the report of period `p`, keeping what the report reads
    /// ([`crate::Keep::Period`]), and writes results.parquet into `sink` as the run merges each
    /// period (the table `kapok score -o` writes, every node's columns of every period);
    /// returns the bundle and the results. The run's errors are those of
    /// [`crate::evaluate_keeping`].
    pub fn scoring(
        fw: &Framework,
        panel: crate::data::Panel,
        p: usize,
        sink: &'s mut dyn Sink,
    ) -> Result<(Self, Results), Error> {
        let mut out = Written {
            sink,
            files: Vec::new(),
        };
        let keep = crate::Keep::Period(p);
        let results = out.write("results.parquet", |w| {
            let (table, mut file) = results_file(fw, &panel, w)?;
            let results = crate::evaluate_streaming(fw, panel, keep, None, |m| {
                let columns = table.merged_columns(m);
                file.write_columns(columns.rows(), &|c| columns.column(c))
                    .map_err(parquet_failed)
            })?;
            file.finish().map_err(parquet_failed)?;
            Ok(results)
        })?;
        Ok((Self { out }, results))
    }

    /// Builds the rest of the report of `r` into the bundle's sink, each file as soon as it is
    /// made (the manifest last); returns how many files there are.
    pub fn finish(
        self,
        fw: &Framework,
        r: &Results,
        warnings: &[Warning],
        opts: &ReportOptions,
    ) -> Result<usize, Error> {
        let mut out = self.out;
        let fw_bytes = read(&opts.framework)?;
        let warnings = reader_warnings(fw, r, warnings, opts.lang);
        let (inputs, chart_opts) = inputs_of(fw, opts)?;
        let report = report_of(fw, r, opts, &warnings, &fw_bytes)?;
        // The charts are drawn, the period's structure audited and the page made while the
        // workbook is written (none reads the workbook, and each runs on one thread): for the grid
        // benchmark, about 2.2 s of drawing, 0.3 s of audit (1.1 s before it ranked each node
        // once for Spearman's coefficients) and 0.2 s of page beside about 3 s of workbook.
        let scratch = out.sink.scratch();
        let (page, workbook) = rayon::join(
            || {
                let charts = charts_of(&report, opts, &chart_opts)?;
                let page = html::render(&report, &charts);
                Ok::<_, Error>((page, charts))
            },
            || xlsx::workbook(&report, scratch),
        );
        let (page, charts) = page?;
        let workbook = workbook?;
        out.put("results.xlsx", &workbook)?;
        drop(workbook);
        out.put("index.html", page.as_bytes())?;
        drop(page);
        for c in &charts {
            out.put(&format!("charts/{}.{}", c.name, c.ext), &c.bytes)?;
        }
        // The bounds the scores were computed with, for `bounds = "bounds.csv"` next month.
        let bounds = crate::bounds::to_csv(&crate::bounds::rows(fw, r, opts.period)?);
        out.put("bounds.csv", bounds.as_bytes())?;
        let Written { sink, mut files } = out;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = manifest_of(&report, opts, &fw_bytes, inputs, files);
        let mut json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Data(format!("writing manifest.json: {e}")))?;
        json.push(b'\n');
        sink.put("manifest.json", &json)?;
        Ok(manifest.files.len() + 1)
    }
}

/// The input files the manifest lists, each hashed (`--data` or every source, frozen bounds,
/// and the font, GeoJSON and tiles asked for), and the chart options holding what the charts
/// read of them.
fn inputs_of(fw: &Framework, opts: &ReportOptions) -> Result<(Vec<Entry>, ChartOptions), Error> {
    let rel = |p: &Path| input_path(&opts.framework, p);
    let mut inputs = Vec::new();
    match &opts.data {
        Some(d) => inputs.push(Entry::of_file(Some("data"), None, rel(d), d)?),
        None => {
            for s in &fw.sources {
                let name = Some(s.name.clone());
                let entry = Entry::of_file(Some("source"), name, rel(&s.resolved), &s.resolved)?;
                inputs.push(entry);
            }
        }
    }
    for b in crate::bounds::frozen_files(fw) {
        inputs.push(Entry::of_file(Some("bounds"), None, rel(&b), &b)?);
    }
    // An optional file read whole, listed as input `kind`.
    let mut optional = |kind: &'static str, path: &Option<PathBuf>| -> Result<_, Error> {
        let Some(path) = path else { return Ok(None) };
        let bytes = read(path)?;
        inputs.push(Entry::of(Some(kind), None, rel(path), &bytes));
        Ok(Some((path.clone(), bytes)))
    };
    let font = optional("font", &opts.font)?.map(|(_, bytes)| bytes);
    let geojson = match optional("geojson", &opts.geojson)? {
        Some((g, bytes)) => Some(
            String::from_utf8(bytes)
                .map_err(|_| Error::Data(format!("{}: GeoJSON must be UTF-8 text", g.display())))?,
        ),
        None => None,
    };
    let tiles = match optional("tiles", &opts.tiles)? {
        Some((t, bytes)) => Some(crate::chart::parse_tiles(&t, &bytes)?),
        None => None,
    };
    let chart_opts = ChartOptions {
        lang: opts.lang,
        period: opts.period,
        font,
        format: if opts.svg {
            ImageFormat::Svg
        } else {
            ImageFormat::Png
        },
        highlight: None,
        geojson,
        tiles,
        top_n: TOP_N,
    };
    Ok((inputs, chart_opts))
}

/// What the page, the workbook and the charts of the report of `opts.period` draw on: the
/// robustness analysis (declared in the framework, or asked for), the period's trends, imputed
/// values and units best first.
fn report_of<'a>(
    fw: &'a Framework,
    r: &'a Results,
    opts: &ReportOptions,
    warnings: &'a [String],
    fw_bytes: &[u8],
) -> Result<Report<'a>, Error> {
    let p = opts.period;
    let robustness = if fw.uncertainty.is_some() || opts.robustness {
        Some(robustness::run(fw, &r.panel, p, fw.uncertainty.as_ref())?)
    } else {
        None
    };
    Ok(Report {
        fw,
        r,
        p,
        prev: r.panel.previous_period(p),
        lang: opts.lang,
        profiles: opts.profiles,
        warnings,
        framework_path: input_path(&opts.framework, &opts.framework),
        framework_sha: sha256_hex(fw_bytes),
        trends: fw
            .units
            .period
            .is_some()
            .then(|| crate::trend::Trends::at(fw, r, &[p])),
        robustness,
        imputed: r.imputed_at(p)?,
        order: best_first(r, p),
        decimals: crate::format::score_decimals(fw.rank.digits, r.scores.period(p)),
    })
}

/// The bundle's manifest: kapok's version, the framework, the period, the run's options (with
/// the robustness analysis's, when there is one), the inputs and the files written.
fn manifest_of(
    report: &Report,
    opts: &ReportOptions,
    fw_bytes: &[u8],
    inputs: Vec<Entry>,
    files: Vec<Entry>,
) -> Manifest {
    let mut options = opts.options.clone();
    if let (Some(rb), Some(m)) = (&report.robustness, options.as_object_mut()) {
        m.insert("robustness".into(), rb.manifest());
    }
    Manifest {
        kapok: env!("CARGO_PKG_VERSION").into(),
        framework: Entry::of(None, None, report.framework_path.clone(), fw_bytes),
        period: report.period_name().into(),
        previous_period: report.prev_name().map(String::from),
        options,
        inputs,
        files,
    }
}

/// results.parquet's table (every node's columns, as `kapok score -o` writes them) and its
/// file, started in `w`: written a period at a time, each period's rows encoded as they are
/// built and written as they are encoded (held together, every period's rows took 1.2 GB for
/// the grid benchmark, and the file's bytes 600 MB more).
fn results_file<'f, 'w, 'h>(
    fw: &'f Framework,
    panel: &crate::data::Panel,
    w: &'w mut Hashing<'h>,
) -> Result<(Table<'f>, ParquetStream<&'w mut Hashing<'h>>), Error> {
    let table = Table::new(fw, panel, &crate::columns::Selection::all())?;
    let file = ParquetStream::new(w, table.schema()).map_err(parquet_failed)?;
    Ok((table, file))
}

/// The error of writing results.parquet.
fn parquet_failed(e: String) -> Error {
    Error::Data(format!("writing results.parquet: {e}"))
}

/// The report's charts: those of [`chart::render_all`], then, when the ranking's robustness
/// was analysed, its uncertainty and sensitivity charts; every name a plain file name, once.
fn charts_of(
    rep: &Report,
    opts: &ReportOptions,
    chart_opts: &ChartOptions,
) -> Result<Vec<Chart>, Error> {
    let (fw, r) = (rep.fw, rep.r);
    // The chart module sees the GeoJSON's text, not its file: name the file here.
    let mut charts =
        chart::render_all(fw, r, chart_opts).map_err(|e| match (&opts.geojson, e) {
            (Some(g), Error::Data(m)) if m.starts_with("GeoJSON") => {
                Error::Data(format!("{}: {m}", g.display()))
            }
            (_, e) => e,
        })?;
    if let Some(rb) = &rep.robustness {
        charts.push(chart::uncertainty(fw, r, &rb.analysis, chart_opts)?);
        if let Some((n, s)) = &rb.sensitivity {
            let labels: Vec<String> = s
                .iter()
                .map(|x| {
                    robustness::setting_of(&rb.unc, &x.input)
                        .map_or_else(|| x.input.clone(), |st| st.label(opts.lang))
                })
                .collect();
            charts.push(chart::sensitivity(fw, r, s, &labels, *n, chart_opts)?);
        }
    }
    for (i, c) in charts.iter().enumerate() {
        let ok = !c.name.is_empty()
            && c.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !ok || charts[..i].iter().any(|d| d.name == c.name) {
            return Err(Error::Data(format!(
                "chart name `{}` is not a unique plain file name",
                c.name
            )));
        }
    }
    Ok(charts)
}

/// Where [`build_into`] puts a report's files as it makes them: in memory (a `Vec` of
/// [`File`]s, as [`build`] gives them) or into a [`Staging`] directory.
pub trait Sink {
    /// Puts a file made whole.
    fn put(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error>;
    /// A file to write as it is made: whole once the writer is flushed without error.
    fn create(&mut self, path: &str) -> Result<Box<dyn Write + Send + '_>, Error>;
    /// A directory for scratch files while the report is made (on the disk it goes to), if
    /// any.
    fn scratch(&self) -> Option<&Path> {
        None
    }
}

impl Sink for Vec<File> {
    fn put(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        self.push((path.into(), bytes.to_vec()));
        Ok(())
    }

    fn create(&mut self, path: &str) -> Result<Box<dyn Write + Send + '_>, Error> {
        self.push((path.into(), Vec::new()));
        let (_, bytes) = self.last_mut().expect("a file was just added");
        Ok(Box::new(bytes))
    }
}

/// The files put into a [`Sink`], recorded for the manifest as they pass.
struct Written<'s> {
    sink: &'s mut dyn Sink,
    files: Vec<Entry>,
}

impl Written<'_> {
    fn put(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        self.sink.put(path, bytes)?;
        self.files.push(Entry::of(None, None, path.into(), bytes));
        Ok(())
    }

    /// Writes the file `path` with `make`, hashing its bytes as they go; returns what `make`
    /// returns.
    fn write<T>(
        &mut self,
        path: &str,
        make: impl FnOnce(&mut Hashing<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut w = Hashing {
            to: self.sink.create(path)?,
            sha: Sha256::new(),
            bytes: 0,
        };
        let made = make(&mut w)?;
        w.flush()
            .map_err(|e| Error::Data(format!("writing {path}: {e}")))?;
        let (sha, bytes) = (w.sha.finalize(), w.bytes);
        self.files.push(Entry {
            role: None,
            name: None,
            path: path.into(),
            sha256: hex(&sha),
            bytes,
        });
        Ok(made)
    }
}

/// A writer that hashes what passes through it.
struct Hashing<'w> {
    to: Box<dyn Write + Send + 'w>,
    sha: Sha256,
    bytes: u64,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.to.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.to.flush()
    }
}

/// The files a kapok manifest at `dir` lists (bundle paths with `/`), or why it is not one.
fn manifest_files(dir: &Path) -> Result<Vec<String>, &'static str> {
    let bytes = match fs::read(dir.join("manifest.json")) {
        Ok(b) => b,
        Err(_) => return Err("there is no manifest.json"),
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|_| "its manifest.json is not a kapok report manifest")?;
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let plain = |p: &str| {
        !p.is_empty()
            && p != "manifest.json"
            && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
            && !p.contains('\\')
    };
    let ok = !m.kapok.is_empty()
        && m.options.is_object()
        && hex(&m.framework.sha256)
        && m.inputs.iter().all(|e| hex(&e.sha256))
        && m.files.iter().all(|e| hex(&e.sha256) && plain(&e.path));
    if !ok {
        return Err("its manifest.json is not a kapok report manifest");
    }
    Ok(m.files.into_iter().map(|e| e.path).collect())
}

/// Every entry under `dir` (symlinks not followed), as `/` paths; directories end in `/`.
fn entries_under(dir: &Path) -> Result<Vec<String>, Error> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), Error> {
        for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(format!("{name}/"));
                walk(&e.path(), &format!("{name}/"), out)?;
            } else {
                out.push(name);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// What is at the output path.
#[derive(Debug)]
enum Target {
    Missing,
    Empty,
    /// A previous kapok report: a kapok `manifest.json` and only the files it lists.
    Report,
    /// A non-empty directory that is not (only) a kapok report: why, and the entries that no
    /// kapok manifest lists.
    Other(&'static str, Vec<String>),
    NotDir,
}

fn target(dir: &Path) -> Result<Target, Error> {
    let Ok(meta) = fs::metadata(dir) else {
        return Ok(Target::Missing);
    };
    if !meta.is_dir() {
        return Ok(Target::NotDir);
    }
    let all = entries_under(dir)?;
    if all.is_empty() {
        return Ok(Target::Empty);
    }
    match manifest_files(dir) {
        Err(why) => Ok(Target::Other(why, all)),
        Ok(listed) => {
            let foreign: Vec<String> = all
                .into_iter()
                .filter(|e| {
                    if let Some(d) = e.strip_suffix('/') {
                        // A directory is the report's when it holds a listed file.
                        !listed.iter().any(|l| l.starts_with(&format!("{d}/")))
                    } else {
                        e != "manifest.json" && !listed.contains(e)
                    }
                })
                .collect();
            Ok(if foreign.is_empty() {
                Target::Report
            } else {
                Target::Other("it holds files its manifest does not list", foreign)
            })
        }
    }
}

/// The names kapok gives its temporary directories beside a report directory named `name`:
/// the new report being written, and the previous one while it is being replaced.
fn temp_prefixes(name: &str) -> (String, String) {
    (format!(".kapok-{name}.new-"), format!(".kapok-{name}.old-"))
}

/// Finds what a killed run left beside `dir` and puts it right: a previous report moved
/// aside (`.kapok-NAME.old-*`) is moved back when `dir` is missing, and removed when `dir` is
/// in place (it was replaced); anything else — a partly written new report, a leftover that
/// is not a whole kapok report — is left alone and reported. Returns the notes to print.
fn recover(dir: &Path) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(notes);
    };
    let parent = crate::io::parent_dir(dir);
    let Ok(rd) = fs::read_dir(parent) else {
        return Ok(notes);
    };
    let (new, old) = temp_prefixes(&name);
    let mut found: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| n.starts_with(&new) || n.starts_with(&old))
        .collect();
    found.sort();
    for (n, path) in found {
        let shown = path.display();
        if n.starts_with(&new) {
            notes.push(format!(
                "{shown}: a report being written by another kapok run, or left by one that was killed; remove it when no kapok run is writing {}",
                dir.display()
            ));
            continue;
        }
        match (target(dir)?, target(&path)?) {
            (Target::Missing, Target::Report) => {
                fs::rename(&path, dir).map_err(|e| Error::io(dir, e))?;
                notes.push(format!(
                    "{}: restored the previous report from {shown}, where a killed run had left it",
                    dir.display()
                ));
            }
            (Target::Report, Target::Report) => {
                fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                notes.push(format!(
                    "{shown}: removed the replaced report that a killed run had left"
                ));
            }
            _ => notes.push(format!(
                "{shown}: left by a kapok run that was killed while replacing {}; it is not removed — look inside and remove it yourself",
                dir.display()
            )),
        }
    }
    Ok(notes)
}

/// Refuses an output directory that cannot be (re)placed: a file; a directory that is, or
/// holds, an input or the working directory; a non-empty directory without `force`; with
/// `force`, a directory holding anything its kapok manifest does not list (the error names
/// those files). First puts right what a killed run left beside it (see `recover`); returns
/// notes about that to print as warnings.
pub fn check_target(dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<Vec<String>, Error> {
    own_directory(dir)?;
    let notes = recover(dir)?;
    let checked = refuse(dir, force, inputs);
    if checked.is_err() {
        // What was put right is worth knowing even when the run stops here.
        crate::cli::warn(&notes);
    }
    checked.map(|()| notes)
}

/// The checks of [`check_target`] without putting anything right: for a caller that wants to
/// refuse a bad target before the work, and leaves recovery to [`Staging::new`].
pub fn refuse_target(dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), Error> {
    own_directory(dir)?;
    refuse(dir, force, inputs)
}

fn own_directory(dir: &Path) -> Result<(), Error> {
    if dir.file_name().is_none() {
        return Err(Error::Usage(format!(
            "{}: give the report a directory of its own, e.g. -o reports/2023-12",
            dir.display()
        )));
    }
    Ok(())
}

fn refuse(dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), Error> {
    let shown = dir.display();
    crate::io::guard_inputs(dir, inputs)?;
    if let (Ok(d), Ok(c)) = (dir.canonicalize(), std::env::current_dir())
        && c.starts_with(&d)
    {
        return Err(Error::Usage(format!(
            "{shown}: refusing to write over the working directory"
        )));
    }
    match target(dir)? {
        Target::Missing | Target::Empty => Ok(()),
        Target::NotDir => Err(Error::Usage(format!(
            "{shown} exists and is not a directory"
        ))),
        Target::Report if force => Ok(()),
        Target::Report => Err(Error::Usage(format!(
            "{shown} already holds a report; use --force to replace it"
        ))),
        Target::Other(why, foreign) if force => Err(Error::Usage(format!(
            "{shown} is not only a kapok report ({why}); refusing to replace it even with --force, as that would delete: {}",
            crate::data::list(&foreign)
        ))),
        Target::Other(_, foreign) => Err(Error::Usage(format!(
            "{shown} is not empty (it holds {}); choose another directory (--force replaces only a previous kapok report)",
            crate::data::list(&foreign)
        ))),
    }
}

/// A report being written: its files go, as they are made, into a temporary directory beside
/// the report's (a name unique to the run), and [`Staging::commit`] renames it into place. A
/// previous report at the target (see [`check_target`]) is first moved aside to a second
/// unique name, the new one renamed into place, then the old one removed — so a crash at any
/// point leaves the old or the new report at the target, or the old one beside it, where the
/// next run puts it back (`recover`). Dropped before it is committed (on any error), it removes
/// its directory and leaves the target as it was.
pub struct Staging {
    tmp: tempfile::TempDir,
    /// The files written, to flush to disk before the rename.
    files: Vec<PathBuf>,
    /// What [`check_target`] put right, to print.
    notes: Vec<String>,
}

impl Staging {
    /// Checks the target `dir` ([`check_target`]) and makes the temporary directory beside it.
    pub fn new(dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<Self, Error> {
        let notes = check_target(dir, force, inputs)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let (new_prefix, _) = temp_prefixes(&name);
        let parent = crate::io::parent_dir(dir);
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let tmp = crate::io::temp_builder(&new_prefix, true)
            .tempdir_in(parent)
            .map_err(|e| Error::io(parent, e))?;
        Ok(Self {
            tmp,
            files: Vec::new(),
            notes,
        })
    }

    /// The place of the bundle's file `path`, its directory made.
    fn place(&mut self, path: &str) -> Result<PathBuf, Error> {
        let at = self.tmp.path().join(path);
        if let Some(d) = at.parent() {
            fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        self.files.push(at.clone());
        Ok(at)
    }

    /// Puts the report in place at `dir` (checked again: it may have changed during the run);
    /// returns the notes to print as warnings.
    pub fn commit(self, dir: &Path, force: bool, inputs: &[PathBuf]) -> Result<Vec<String>, Error> {
        let Self {
            tmp,
            files,
            mut notes,
        } = self;
        for f in &files {
            fs::File::open(f)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(f, e))?;
        }
        // (Not `recover` again: the temporary directory of this run is beside `dir` now.)
        refuse(dir, force, inputs)?;
        let parent = crate::io::parent_dir(dir);
        match target(dir)? {
            Target::Missing => fs::rename(tmp.path(), dir).map_err(|e| Error::io(dir, e))?,
            Target::Empty => fs::remove_dir(dir)
                .and_then(|_| fs::rename(tmp.path(), dir))
                .map_err(|e| Error::io(dir, e))?,
            _ => {
                let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
                let (_, old_prefix) = temp_prefixes(name.as_deref().unwrap_or("report"));
                // A unique, empty directory to move the old report to (a rename replaces it).
                let old = crate::io::temp_builder(&old_prefix, true)
                    .tempdir_in(parent)
                    .map_err(|e| Error::io(parent, e))?
                    .keep();
                if let Err(e) = fs::rename(dir, &old) {
                    let _ = fs::remove_dir(&old);
                    return Err(Error::io(dir, e));
                }
                if let Err(e) = fs::rename(tmp.path(), dir) {
                    return Err(match fs::rename(&old, dir) {
                        Ok(()) => Error::io(dir, e),
                        Err(_) => Error::io(
                            dir,
                            std::io::Error::other(format!(
                                "{e}; the previous report is at {}",
                                old.display()
                            )),
                        ),
                    });
                }
                if let Err(e) = fs::remove_dir_all(&old) {
                    notes.push(format!(
                        "{}: could not remove the replaced report ({e}); the next run removes it",
                        old.display()
                    ));
                }
            }
        }
        let _ = tmp.keep();
        Ok(notes)
    }
}

impl Sink for Staging {
    fn put(&mut self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        let at = self.place(path)?;
        crate::io::write_file(&at, bytes).map_err(|e| Error::io(&at, e))
    }

    fn create(&mut self, path: &str) -> Result<Box<dyn Write + Send + '_>, Error> {
        let at = self.place(path)?;
        let f = fs::File::create(&at).map_err(|e| Error::io(&at, e))?;
        let f = crate::io::Writeback::new(f);
        Ok(Box::new(std::io::BufWriter::new(f)))
    }

    fn scratch(&self) -> Option<&Path> {
        Some(self.tmp.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(
            clean_path(Path::new("indicators/../data/x.csv")),
            "data/x.csv"
        );
        assert_eq!(clean_path(Path::new("./a/./b")), "a/b");
        assert_eq!(clean_path(Path::new("../a")), "../a");
        assert_eq!(clean_path(Path::new("/x/../y")), "/y");
    }

    #[test]
    fn tiles_parse_with_or_without_a_header() {
        let p = Path::new("t.csv");
        let t = crate::chart::parse_tiles(p, b"unit,row,col\n440103,1,2\n").unwrap();
        assert_eq!(t, vec![("440103".to_string(), 1, 2)]);
        assert_eq!(crate::chart::parse_tiles(p, b"a,0,0\n").unwrap().len(), 1);
        assert!(crate::chart::parse_tiles(p, b"unit,row,col\na,x,1\n").is_err());
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_file_read_a_piece_at_a_time_hashes_as_its_bytes_do() {
        // Several read buffers and a part of one.
        let bytes: Vec<u8> = (0..200_001u32).map(|i| (i * 7 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        fs::write(&path, &bytes).unwrap();
        let read = Entry::of_file(Some("data"), None, "data.bin".into(), &path).unwrap();
        let whole = Entry::of(Some("data"), None, "data.bin".into(), &bytes);
        assert_eq!((read.sha256, read.bytes), (whole.sha256, whole.bytes));
        assert_eq!(read.bytes, 200_001);
        let missing = Entry::of_file(None, None, "gone".into(), &dir.path().join("gone"));
        assert!(missing.unwrap_err().to_string().contains("gone"));
    }
}
