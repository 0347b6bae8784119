//! The `[uncertainty]` table: the inputs of a robustness analysis (see [`crate::robustness`]).
//! Every key is optional but at least one input must be declared:
//!
//! ```toml
//! [uncertainty]
//! runs = 1000          # runs of an uncertainty analysis (default 1000)
//! seed = 1             # seed of the draws and the bootstrap (default 1)
//! sampling = "sobol"   # "sobol" (quasi-random, the default) or "uniform" (pseudo-random)
//! bootstrap = 100      # bootstrap resamples of the sensitivity indices (default 100)
//!
//! # Weight noise: each listed weight w becomes w·(1 + U(−1, 1)·noise) in every run (COINr's
//! # get_noisy_weights). `level` counts from the index: 1 = its children, 2 = theirs, …
//! weights = [{ level = 1, noise = 0.25 }, { nodes = ["hotline"], noise = 0.1 }]
//!
//! # Discrete alternatives: each run takes one of them, each equally likely.
//! normalize = ["minmax", { method = "zscore", mean = 10, sd = 2 }]
//! aggregate = ["arithmetic", "geometric"]
//! impute = ["none", "median"]
//! treat = ["none", "winsorise"]
//! set = { "treat.winmax" = [1, 2, 3, 4, 5] }
//! exclude = ["petitions", "hotline_calls"]  # each run drops one of these, or none
//! ```
//!
//! Each key is one *input* of the analysis (all weight noise together is the input `weights`;
//! each `set` parameter is its own input `set:KIND.PARAM`); the sensitivity analysis measures
//! how much of the ranking's variance each input explains.
//!
//! The table is checked with the rest of the framework, every problem at its line and column:
//! `runs` 1 … [`MAX_RUNS`], `seed` ≥ 0, `bootstrap` 0 … [`MAX_BOOTSTRAP`]; a weight entry names
//! `level` (one or an array) or `nodes`, never the index, with `noise` in (0, 1], and a node gets
//! noise once; each alternative is checked like a method of `[defaults]`, listed once, and
//! stored as the command line takes it (a string as its value, a table or chain as written);
//! each `set` value must make a valid method of every alternative of its kind (or of the
//! default); an excluded id is an indicator whose parent keeps a child of positive weight
//! without it (a run drops one listed indicator at most). An empty list is an error, a list of
//! one a warning (every run takes it, so it varies nothing).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, Severity, did_you_mean};
use super::methods::{self, CliMethod, Scope};
use super::overrides::{MethodKind, Overrides, SetParam};
use super::read::{Sink, TableReader, as_number, type_name};
use super::{Framework, Over};

/// How the random draws of an analysis are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sampling {
    /// A Sobol low-discrepancy sequence, randomly shifted by the seed: the runs cover the
    /// space of choices evenly, so estimates settle with fewer runs.
    #[default]
    Sobol,
    /// Independent pseudo-random draws (ChaCha, one stream per run).
    Uniform,
}

impl Sampling {
    /// The name as written (`sobol`, `uniform`).
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Sobol => "sobol",
            Sampling::Uniform => "uniform",
        }
    }
}

/// Noise on one node's weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoisyWeight {
    /// The node (never the index).
    pub node: usize,
    /// Relative half-width: the weight is drawn uniformly from `w·(1 ± noise)`.
    pub noise: f64,
}

/// What an input varies.
#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    /// Weights of these nodes, each drawn independently (one uniform draw per node).
    Weights(Vec<NoisyWeight>),
    /// One of these whole methods of a kind, each written as the command line accepts it
    /// (`"geometric"`, `{ method = "zscore", mean = 10, sd = 2 }`).
    Method {
        /// The method kind.
        kind: MethodKind,
        /// The alternatives, as written.
        alternatives: Vec<String>,
    },
    /// One of these values of a method parameter, each as `--set` accepts it.
    Set {
        /// The kind and parameter; its `value` is unused.
        param: SetParam,
        /// The values, as written.
        values: Vec<String>,
    },
    /// Nothing, or one of these indicators, taken out of the framework.
    Exclude(Vec<String>),
}

/// One uncertain input.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// What it varies.
    pub kind: InputKind,
    /// Span of its key in the framework file.
    pub span: Range<usize>,
}

impl Input {
    /// The input's name: `weights`, `normalize`, `set:treat.winmax`, `exclude`. It is also the
    /// name of its column in a run table (one `weight:<id>` column per node for `weights`) and
    /// of its block (`AB:<name>`) in a Saltelli design.
    pub fn name(&self) -> String {
        match &self.kind {
            InputKind::Weights(_) => "weights".to_string(),
            InputKind::Method { kind, .. } => kind.name().to_string(),
            InputKind::Set { param, .. } => format!("set:{}", param.name()),
            InputKind::Exclude(_) => "exclude".to_string(),
        }
    }

    /// How many uniform draws a run takes for this input: one per noisy weight, else one.
    pub fn dims(&self) -> usize {
        match &self.kind {
            InputKind::Weights(w) => w.len(),
            _ => 1,
        }
    }

    /// How many discrete alternatives the input chooses among (`None` for weights, which are
    /// continuous). An exclusion chooses among "none" and each listed indicator.
    pub fn choices(&self) -> Option<usize> {
        match &self.kind {
            InputKind::Weights(_) => None,
            InputKind::Method { alternatives, .. } => Some(alternatives.len()),
            InputKind::Set { values, .. } => Some(values.len()),
            InputKind::Exclude(ids) => Some(ids.len() + 1),
        }
    }
}

/// Default number of runs of an uncertainty analysis.
pub const DEFAULT_RUNS: usize = 1000;
/// Default seed.
pub const DEFAULT_SEED: u64 = 1;
/// Default number of bootstrap resamples of the sensitivity indices.
pub const DEFAULT_BOOTSTRAP: usize = 100;

/// The declared uncertain inputs and how to run them (`[uncertainty]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertainty {
    /// The inputs, in the order written.
    pub inputs: Vec<Input>,
    /// Runs of an uncertainty analysis (a Saltelli design's N is derived from it).
    pub runs: usize,
    /// Seed of the draws and of the bootstrap.
    pub seed: u64,
    /// How the draws are made.
    pub sampling: Sampling,
    /// Bootstrap resamples of the sensitivity indices.
    pub bootstrap: usize,
    /// Span of the `[uncertainty]` table.
    pub span: Range<usize>,
}

impl Default for Uncertainty {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            runs: DEFAULT_RUNS,
            seed: DEFAULT_SEED,
            sampling: Sampling::Sobol,
            bootstrap: DEFAULT_BOOTSTRAP,
            span: 0..0,
        }
    }
}

impl Uncertainty {
    /// Uniform draws a run takes: the sum of the inputs' [`Input::dims`].
    pub fn dims(&self) -> usize {
        self.inputs.iter().map(Input::dims).sum()
    }
}

/// Most runs a framework may declare (a million runs is far beyond what rank intervals need).
pub const MAX_RUNS: u64 = 1_000_000;
/// Most bootstrap resamples a framework may declare.
pub const MAX_BOOTSTRAP: u64 = 100_000;

/// The keys of `[uncertainty]`, for messages.
const KEYS: &str = "runs, seed, sampling, bootstrap, weights, normalize, aggregate, impute, treat, screen, set, exclude";

/// A whole number from an integer (or a float with no fraction, such as `1e3`), or the reason
/// it is not one. Floats beyond 2^53 are refused: they do not hold every whole number.
fn whole_number(v: &DeValue<'_>) -> Result<i64, &'static str> {
    match v {
        DeValue::Integer(i) => {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).map_err(|_| "too large")
        }
        DeValue::Float(_) => match as_number(v) {
            Some(x) if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 => Ok(x as i64),
            _ => Err("not a whole number"),
        },
        _ => Err("not a number"),
    }
}

/// `key` as a whole number in `least..=most`, or a diagnostic at its value.
fn whole(
    sink: &mut Sink,
    v: Option<&Spanned<DeValue<'_>>>,
    key: &str,
    least: u64,
    most: u64,
) -> Option<u64> {
    let v = v?;
    let rule = if most == i64::MAX as u64 {
        format!("a whole number ≥ {least}")
    } else {
        format!("a whole number from {least} to {most}")
    };
    match whole_number(v.get_ref()) {
        Ok(n) if n >= 0 && (least..=most).contains(&n.unsigned_abs()) => Some(n.unsigned_abs()),
        Ok(n) => {
            sink.push(
                Diagnostic::error(v.span(), format!("`{key}` = {n} is invalid")).with_label(rule),
            );
            None
        }
        Err(_) => {
            let shown = match v.get_ref() {
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::Float(f) => f.as_str().to_string(),
                other => type_name(other).to_string(),
            };
            sink.push(
                Diagnostic::error(
                    v.span(),
                    format!("`{key}` in [uncertainty] must be {rule}, not {shown}"),
                )
                .with_label("expected a whole number"),
            );
            None
        }
    }
}

/// Line and column of a byte offset, for "first at line 3, column 12".
fn line_of(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    format!("line {line}, column {col}")
}

/// The text of a value as written in the file (the value itself for a string, so that
/// `"geometric"` is stored as `geometric`, as the command line takes it).
fn written(text: &str, v: &Spanned<DeValue<'_>>) -> String {
    match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        _ => text.get(v.span()).unwrap_or_default().trim().to_string(),
    }
}

/// `path` (relative to the framework's directory) as a TOML string relative to where kapok
/// runs, as the command line takes a bounds file.
fn anchored(fw: &Framework, path: &std::path::Path) -> String {
    format!("{:?}", fw.dir.join(path).to_string_lossy())
}

/// A `set` value as `--set` takes it: a string that would not read as another TOML value as
/// its bare text (`panel`), anything else as written (`3`, `[1, 100]`, `"2022"`). A relative
/// `normalize.bounds` file is anchored at the framework's directory.
fn set_value(
    text: &str,
    item: &Spanned<DeValue<'_>>,
    kind: MethodKind,
    param: &str,
    fw: Option<&Framework>,
) -> String {
    let as_written = text.get(item.span()).unwrap_or_default().trim().to_string();
    let DeValue::String(s) = item.get_ref() else {
        return as_written;
    };
    if kind == MethodKind::Normalize
        && param == "bounds"
        && let Some(fw) = fw
        && std::path::Path::new(s.as_ref()).is_relative()
        && !s.trim().is_empty()
    {
        return anchored(fw, std::path::Path::new(s.as_ref()));
    }
    let other_value = toml::from_str::<toml::Table>(&format!("v = {s}")).is_ok();
    let bare = !s.is_empty()
        && s.trim() == s.as_ref()
        && !other_value
        && !s.contains(['"', '\'', '\n', '{', '[', ',', '='])
        && !s.starts_with('#');
    if bare { s.to_string() } else { as_written }
}

/// `--kind text: message` of [`methods::parse_cli`] without its command-line prefix.
fn cli_message(kind: MethodKind, text: &str, e: String) -> String {
    e.strip_prefix(&format!("--{} {text}: ", kind.name()))
        .map_or_else(|| e.clone(), str::to_string)
}

/// Reads and checks the `[uncertainty]` table. `text` is the framework file's text (the
/// alternatives are stored as written); `fw` is the framework the table belongs to, without
/// it when the rest of the file has errors (then only what needs no framework is checked).
/// Errors and warnings go to `sink`, at their line and column.
pub(super) fn read(
    sink: &mut Sink,
    t: &DeTable<'_>,
    span: Range<usize>,
    text: &str,
    fw: Option<&Framework>,
) -> Option<Uncertainty> {
    let errors = |sink: &Sink| {
        sink.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    };
    let before = errors(sink);
    let mut r = TableReader::new(t, span.clone(), "[uncertainty]");
    let mut u = Uncertainty {
        span: span.clone(),
        ..Uncertainty::default()
    };
    if let Some(n) = whole(sink, r.get("runs"), "runs", 1, MAX_RUNS) {
        u.runs = n as usize;
    }
    if let Some(n) = whole(sink, r.get("seed"), "seed", 0, i64::MAX as u64) {
        u.seed = n;
    }
    if let Some(s) = r.str(sink, "sampling") {
        match s.value.as_str() {
            "sobol" => u.sampling = Sampling::Sobol,
            "uniform" => u.sampling = Sampling::Uniform,
            other => sink.push(
                Diagnostic::error(s.span, format!("unknown sampling `{other}`"))
                    .with_label("expected \"sobol\" or \"uniform\"")
                    .with_hint(did_you_mean(other, ["sobol", "uniform"]).unwrap_or_else(|| {
                        "\"sobol\": a quasi-random Sobol sequence (the default); \"uniform\": independent pseudo-random draws".to_string()
                    })),
            ),
        }
    }
    if let Some(n) = whole(sink, r.get("bootstrap"), "bootstrap", 0, MAX_BOOTSTRAP) {
        u.bootstrap = n as usize;
    }
    // How many inputs are written, good or bad: "no input" is only said of a table with none.
    let mut written_inputs = 0;
    let mut inputs = Vec::new();
    if let Some(v) = r.get("weights") {
        written_inputs += 1;
        let key = r.key_span("weights").unwrap_or(v.span());
        inputs.extend(weights(sink, v, key, text, fw));
    }
    for kind in MethodKind::ALL {
        if let Some(v) = r.get(kind.name()) {
            written_inputs += 1;
            let key = r.key_span(kind.name()).unwrap_or(v.span());
            inputs.extend(alternatives(sink, kind, v, key, text, fw));
        }
    }
    if let Some(v) = r.get("set") {
        let declared: Vec<(MethodKind, Vec<String>)> = inputs
            .iter()
            .filter_map(|i: &Input| match &i.kind {
                InputKind::Method { kind, alternatives } => Some((*kind, alternatives.clone())),
                _ => None,
            })
            .collect();
        let (n, sets) = sets(sink, v, text, fw, &declared);
        written_inputs += n;
        inputs.extend(sets);
    }
    if let Some(v) = r.get("exclude") {
        written_inputs += 1;
        let key = r.key_span("exclude").unwrap_or(v.span());
        inputs.extend(exclude(sink, v, key, fw));
    }
    let unknown_before = sink.diags.len();
    r.finish(sink);
    // `finish` lists the keys read; the list of every key is more useful.
    for d in &mut sink.diags[unknown_before..] {
        if d.hint
            .as_deref()
            .is_some_and(|h| h.starts_with("known keys"))
        {
            d.hint = Some(format!("known keys: {KEYS}"));
        }
    }
    if written_inputs == 0 {
        sink.push(
            Diagnostic::error(span.clone(), "[uncertainty] declares no uncertain input")
                .with_label("nothing to vary")
                .with_hint(
                    "declare at least one of weights, normalize, aggregate, impute, treat, screen, set or exclude, e.g. weights = [{ level = 1, noise = 0.25 }]",
                ),
        );
    }
    inputs.sort_by_key(|i| i.span.start);
    u.inputs = inputs;
    if let Some(fw) = fw
        && errors(sink) == before
    {
        applies(sink, fw, &u);
    }
    let dims = u.dims();
    if u.sampling == Sampling::Sobol && dims > crate::robustness::design::MAX_SOBOL_DIMS {
        let at = u
            .inputs
            .iter()
            .find(|i| matches!(i.kind, InputKind::Weights(_)))
            .map_or(span.clone(), |i| i.span.clone());
        sink.push(
            Diagnostic::error(
                at,
                format!(
                    "a run draws {dims} numbers, more than a Sobol sequence here offers ({})",
                    crate::robustness::design::MAX_SOBOL_DIMS
                ),
            )
            .with_label("too many noisy weights for Sobol sampling")
            .with_hint("write sampling = \"uniform\", or put noise on fewer weights"),
        );
    }
    Some(u)
}

/// The levels of a `weights` entry: one whole number ≥ 1 or an array of them, with spans.
fn levels(sink: &mut Sink, v: &Spanned<DeValue<'_>>) -> Vec<(usize, Range<usize>)> {
    let items: Vec<&Spanned<DeValue<'_>>> = match v.get_ref() {
        DeValue::Array(a) => {
            if a.is_empty() {
                sink.push(
                    Diagnostic::error(v.span(), "`level` lists no level")
                        .with_label("empty")
                        .with_hint("level = 1 is the index's children, 2 theirs, …"),
                );
            }
            a.iter().collect()
        }
        _ => vec![v],
    };
    let mut out = Vec::new();
    for item in items {
        match whole_number(item.get_ref()) {
            Ok(n) if n >= 1 => out.push((n as usize, item.span())),
            _ => sink.push(
                Diagnostic::error(item.span(), "a `level` must be a whole number ≥ 1")
                    .with_label("not a level")
                    .with_hint("levels count from the index: 1 = its children, 2 = theirs, …"),
            ),
        }
    }
    out
}

/// The `weights` input: every entry's nodes with their noise.
fn weights(
    sink: &mut Sink,
    v: &Spanned<DeValue<'_>>,
    key: Range<usize>,
    text: &str,
    fw: Option<&Framework>,
) -> Option<Input> {
    const FORM: &str = "[{ level = 1, noise = 0.25 }, { nodes = [\"id\"], noise = 0.1 }]";
    let DeValue::Array(items) = v.get_ref() else {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!(
                    "`weights` in [uncertainty] must be an array of tables like {FORM}, not {}",
                    type_name(v.get_ref())
                ),
            )
            .with_label("expected an array of tables"),
        );
        return None;
    };
    if items.is_empty() {
        sink.push(
            Diagnostic::error(v.span(), "`weights` lists no weight noise")
                .with_label("empty")
                .with_hint(format!("write weights = {FORM}, or remove the key")),
        );
        return None;
    }
    let mut ok = true;
    let mut out: Vec<NoisyWeight> = Vec::new();
    // Where each node was first given noise.
    let mut first: Vec<(usize, usize)> = Vec::new();
    for item in items.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            sink.push(
                Diagnostic::error(
                    item.span(),
                    format!(
                        "each `weights` entry must be a table like {{ level = 1, noise = 0.25 }}, not {}",
                        type_name(item.get_ref())
                    ),
                )
                .with_label("expected a table"),
            );
            ok = false;
            continue;
        };
        let mut r = TableReader::new(t, item.span(), "a `weights` entry");
        let level = r.get("level");
        let nodes = r.get("nodes");
        let noise = if r.key_span("noise").is_none() {
            r.missing(sink, "noise", "a share in (0, 1]: 0.25 is ±25 %");
            r.get("noise");
            None
        } else {
            r.number(sink, "noise")
        };
        r.finish(sink);
        let noise = match noise {
            Some(n) if n.value > 0.0 && n.value <= 1.0 => Some(n.value),
            Some(n) => {
                sink.push(
                    Diagnostic::error(n.span, format!("`noise` = {} is invalid", n.value))
                        .with_label("a share in (0, 1]: 0.25 is ±25 %")
                        .with_hint(
                            "each weight w is drawn uniformly from w·(1 − noise) … w·(1 + noise)",
                        ),
                );
                None
            }
            None => None,
        };
        // The entry's nodes, each with the span that named it.
        let mut chosen: Vec<(usize, Range<usize>)> = Vec::new();
        match (level, nodes) {
            (Some(_), Some(_)) | (None, None) => {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        "a `weights` entry names either `level` or `nodes`",
                    )
                    .with_label(if level.is_some() {
                        "both given"
                    } else {
                        "neither given"
                    })
                    .with_hint(format!("write {FORM}")),
                );
                ok = false;
            }
            (Some(l), None) => {
                for (lv, span) in levels(sink, l) {
                    let Some(fw) = fw else { continue };
                    let at: Vec<usize> =
                        (1..fw.nodes.len()).filter(|&i| fw.depth(i) == lv).collect();
                    if at.is_empty() {
                        let deepest = (1..fw.nodes.len()).map(|i| fw.depth(i)).max();
                        sink.push(
                            Diagnostic::error(span.clone(), format!("the tree has no level {lv}"))
                                .with_label("no node this deep")
                                .with_hint(format!(
                                    "levels count from the index: 1 = its children; this tree has levels 1 to {}",
                                    deepest.unwrap_or(0)
                                )),
                        );
                        ok = false;
                    }
                    chosen.extend(at.into_iter().map(|i| (i, span.clone())));
                }
            }
            (None, Some(n)) => {
                let ids: Vec<(String, Range<usize>)> = match n.get_ref() {
                    DeValue::Array(a) if !a.is_empty() => a
                        .iter()
                        .filter_map(|x| match x.get_ref() {
                            DeValue::String(s) => Some((s.to_string(), x.span())),
                            other => {
                                sink.push(
                                    Diagnostic::error(
                                        x.span(),
                                        format!(
                                            "`nodes` must hold node ids, not {}",
                                            type_name(other)
                                        ),
                                    )
                                    .with_label("expected a string"),
                                );
                                ok = false;
                                None
                            }
                        })
                        .collect(),
                    DeValue::Array(_) => {
                        sink.push(
                            Diagnostic::error(n.span(), "`nodes` lists no node")
                                .with_label("empty")
                                .with_hint("write nodes = [\"id\", …]"),
                        );
                        ok = false;
                        Vec::new()
                    }
                    other => {
                        sink.push(
                            Diagnostic::error(
                                n.span(),
                                format!(
                                    "`nodes` must be an array of node ids like [\"hotline\"], not {}",
                                    type_name(other)
                                ),
                            )
                            .with_label("expected an array of strings"),
                        );
                        ok = false;
                        Vec::new()
                    }
                };
                let Some(fw) = fw else {
                    continue;
                };
                for (id, span) in ids {
                    match fw.node_by_id(&id) {
                        Some(0) => {
                            sink.push(
                                Diagnostic::error(
                                    span,
                                    format!("`{id}` is the index, which has no weight"),
                                )
                                .with_label("the index")
                                .with_hint("list the nodes under it, or write { level = 1, … }"),
                            );
                            ok = false;
                        }
                        Some(i) => {
                            if fw.nodes[i].weight == 0.0 {
                                sink.push(
                                    Diagnostic::warning(
                                        span.clone(),
                                        format!("`{id}` has weight 0: noise on it varies nothing"),
                                    )
                                    .with_label("weight 0"),
                                );
                            }
                            chosen.push((i, span));
                        }
                        None => {
                            sink.push(
                                Diagnostic::error(span, format!("no node has the id `{id}`"))
                                    .with_label("unknown node")
                                    .with_hint_opt(did_you_mean(
                                        &id,
                                        fw.nodes.iter().skip(1).map(|n| n.id.as_str()),
                                    )),
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        let Some(fw) = fw else { continue };
        for (i, span) in chosen {
            if let Some(&(_, at)) = first.iter().find(|(n, _)| *n == i) {
                sink.push(
                    Diagnostic::error(
                        span,
                        format!(
                            "`{}` gets weight noise twice (first at {})",
                            fw.nodes[i].id,
                            line_of(text, at)
                        ),
                    )
                    .with_label("already noisy")
                    .with_hint("give each node its noise once: list it in one entry only"),
                );
                ok = false;
            } else {
                first.push((i, span.start));
                if let Some(noise) = noise {
                    out.push(NoisyWeight { node: i, noise });
                }
            }
        }
        ok &= noise.is_some();
    }
    (ok && fw.is_some()).then_some(Input {
        kind: InputKind::Weights(out),
        span: key,
    })
}

/// Parses one method of `kind` as the framework's `[defaults]` would.
fn method(kind: MethodKind, v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<CliMethod> {
    match kind {
        MethodKind::Screen => methods::screen(v, sink).map(CliMethod::Screen),
        MethodKind::Impute => methods::impute(v, sink).map(CliMethod::Impute),
        MethodKind::Treat => methods::treat(v, sink).map(CliMethod::Treat),
        MethodKind::Normalize => {
            methods::normalise(v, sink, Scope::Defaults).map(CliMethod::Normalise)
        }
        MethodKind::Aggregate => methods::aggregate(v, sink).map(CliMethod::Aggregate),
    }
}

/// A method input: the alternatives of `kind`, each checked like a default method.
fn alternatives(
    sink: &mut Sink,
    kind: MethodKind,
    v: &Spanned<DeValue<'_>>,
    key: Range<usize>,
    text: &str,
    fw: Option<&Framework>,
) -> Option<Input> {
    let name = kind.name();
    let example = match kind {
        MethodKind::Screen => "[\"none\", \"byNA\"]",
        MethodKind::Impute => "[\"none\", \"median\"]",
        MethodKind::Treat => "[\"none\", \"winsorise\"]",
        MethodKind::Normalize => "[\"minmax\", { method = \"zscore\", mean = 10, sd = 2 }]",
        MethodKind::Aggregate => "[\"arithmetic\", \"geometric\"]",
    };
    let DeValue::Array(items) = v.get_ref() else {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!(
                    "`{name}` in [uncertainty] must be an array of alternatives like {example}, not {}",
                    type_name(v.get_ref())
                ),
            )
            .with_label("expected an array")
            .with_hint(format!(
                "each run takes one of the alternatives; write {name} = {example}"
            )),
        );
        return None;
    };
    if items.is_empty() {
        sink.push(
            Diagnostic::error(v.span(), format!("`{name}` lists no alternative"))
                .with_label("empty")
                .with_hint(format!("write {name} = {example}, or remove the key")),
        );
        return None;
    }
    if items.len() == 1 {
        sink.push(
            Diagnostic::warning(
                v.span(),
                format!("`{name}` has one alternative: every run uses it, so it varies nothing"),
            )
            .with_label("one alternative")
            .with_hint(format!(
                "list two or more (the framework's own method is not added for you): {name} = {example}"
            )),
        );
    }
    let mut ok = true;
    let mut seen: Vec<(CliMethod, usize)> = Vec::new();
    let mut out = Vec::new();
    for item in items.iter() {
        let reported = sink.diags.len();
        let m = method(kind, item, sink);
        let clean = sink.diags[reported..]
            .iter()
            .all(|d| d.severity != Severity::Error);
        let (Some(m), true) = (m, clean) else {
            ok = false;
            continue;
        };
        if let (CliMethod::Impute(imp), Some(fw)) = (&m, fw) {
            if imp.needs_periods() && fw.units.period.is_none() {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        "this imputation takes values from other periods, but the framework has no periods",
                    )
                    .with_label("no [units] period")
                    .with_hint("add `period = \"<column>\"` to [units], or use a method of one period such as \"median\""),
                );
                ok = false;
            }
            if imp.needs_groups() && fw.units.group.is_none() {
                sink.push(
                    Diagnostic::error(item.span(), "group imputation needs a group column")
                        .with_label("no [units] group")
                        .with_hint(
                            "add `group = \"<column>\"` to [units], or use \"mean\" / \"median\"",
                        ),
                );
                ok = false;
            }
        }
        let stored = written(text, item);
        match methods::parse_cli(name, &stored) {
            Ok(again) if again == m => {}
            Ok(_) | Err(_) => {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!("this {name} method cannot be written in a run table"),
                    )
                    .with_label("not as the command line takes it")
                    .with_hint(format!("write it on one line, like {example}")),
                );
                ok = false;
                continue;
            }
        }
        // A bounds file is relative to the framework, and a run applies the alternative as the
        // command line does (relative to where kapok runs): anchor it at the framework.
        let stored = match (&m, fw) {
            (CliMethod::Normalise(spec), Some(fw)) => match &spec.over {
                Over::Frozen(p) if p.is_relative() => {
                    methods::set_param(&stored, "bounds", &anchored(fw, p)).unwrap_or(stored)
                }
                _ => stored,
            },
            _ => stored,
        };
        if let Some((_, at)) = seen.iter().find(|(s, _)| *s == m) {
            sink.push(
                Diagnostic::error(
                    item.span(),
                    format!("this alternative repeats the one at {}", line_of(text, *at)),
                )
                .with_label("the same method again")
                .with_hint("each alternative is equally likely: list each method once"),
            );
            ok = false;
            continue;
        }
        seen.push((m, item.span().start));
        out.push(stored);
    }
    ok.then_some(Input {
        kind: InputKind::Method {
            kind,
            alternatives: out,
        },
        span: key,
    })
}

/// The `set` table: one input per `KIND.PARAM`; also how many keys it has (good or bad).
fn sets(
    sink: &mut Sink,
    v: &Spanned<DeValue<'_>>,
    text: &str,
    fw: Option<&Framework>,
    declared: &[(MethodKind, Vec<String>)],
) -> (usize, Vec<Input>) {
    const FORM: &str = "set = { \"treat.winmax\" = [1, 2, 3] }";
    let DeValue::Table(t) = v.get_ref() else {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!(
                    "`set` in [uncertainty] must be a table like {{ \"treat.winmax\" = [1, 2, 3] }}, not {}",
                    type_name(v.get_ref())
                ),
            )
            .with_label("expected a table"),
        );
        return (1, Vec::new());
    };
    if t.is_empty() {
        sink.push(
            Diagnostic::error(v.span(), "`set` lists no parameter")
                .with_label("empty")
                .with_hint(format!("write {FORM}, or remove the key")),
        );
        return (1, Vec::new());
    }
    let mut out = Vec::new();
    for (k, val) in t.iter() {
        let key = k.get_ref().as_ref();
        let (kind, param) = match SetParam::key(key) {
            Ok(kp) => kp,
            Err(_) if matches!(val.get_ref(), DeValue::Table(_)) => {
                // `treat.winmax = [...]` without quotes is a table `treat` holding `winmax`.
                let sub = match val.get_ref() {
                    DeValue::Table(t) => t.iter().next().map(|(k, _)| k.get_ref().to_string()),
                    _ => None,
                };
                let quoted = format!("\"{key}.{}\"", sub.as_deref().unwrap_or("PARAM"));
                sink.push(
                    Diagnostic::error(
                        k.span(),
                        format!(
                            "`set` key `{key}` is not KIND.PARAM: write the key in quotes, {quoted}"
                        ),
                    )
                    .with_label("not KIND.PARAM")
                    .with_hint(format!(
                        "without quotes a dotted key makes a table; write {FORM}"
                    )),
                );
                continue;
            }
            Err(e) => {
                let kind = key.split_once('.').map_or(key, |(k, _)| k);
                sink.push(
                    Diagnostic::error(k.span(), format!("`set` key `{key}`: {e}"))
                        .with_label("not KIND.PARAM")
                        .with_hint(match MethodKind::parse(kind) {
                            Some(_) => format!(
                                "name a parameter: \"{kind}.PARAM\" = [values], e.g. {FORM}"
                            ),
                            None => did_you_mean(kind, MethodKind::ALL.map(MethodKind::name))
                                .unwrap_or_else(|| format!("write {FORM}")),
                        }),
                );
                continue;
            }
        };
        let DeValue::Array(items) = val.get_ref() else {
            sink.push(
                Diagnostic::error(
                    val.span(),
                    format!(
                        "the values of `{key}` must be an array like [1, 2, 3], not {}",
                        type_name(val.get_ref())
                    ),
                )
                .with_label("expected an array")
                .with_hint("each run takes one of the values"),
            );
            continue;
        };
        if items.is_empty() {
            sink.push(
                Diagnostic::error(val.span(), format!("`{key}` lists no value"))
                    .with_label("empty")
                    .with_hint(format!("write {FORM}, or remove the key")),
            );
            continue;
        }
        if items.len() == 1 {
            sink.push(
                Diagnostic::warning(
                    val.span(),
                    format!("`{key}` has one value: every run uses it, so it varies nothing"),
                )
                .with_label("one value")
                .with_hint("list two or more values"),
            );
        }
        // The methods the parameter is set on: the declared alternatives of its kind, which
        // every run takes one of, or else the framework's default.
        let bases: Vec<(String, &str)> = match declared.iter().find(|(k, _)| *k == kind) {
            Some((_, alts)) => alts
                .iter()
                .map(|a| (a.clone(), "the alternative"))
                .collect(),
            None => fw
                .map(|fw| {
                    let t = fw
                        .defaults
                        .source
                        .get(kind.name())
                        .cloned()
                        .unwrap_or_else(|| methods::builtin_default(kind.name()).to_string());
                    vec![(t, "the default")]
                })
                .unwrap_or_default(),
        };
        let mut ok = true;
        let mut values = Vec::new();
        let mut seen: Vec<(toml::Value, usize)> = Vec::new();
        for item in items.iter() {
            let value = set_value(text, item, kind, &param, fw);
            let source = text.get(item.span()).unwrap_or_default();
            let parsed = toml::from_str::<toml::Table>(&format!("v = {source}"))
                .ok()
                .and_then(|mut t| t.remove("v"));
            if let Some(p) = &parsed
                && let Some((_, at)) = seen.iter().find(|(s, _)| s == p)
            {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!(
                            "this value of `{key}` repeats the one at {}",
                            line_of(text, *at)
                        ),
                    )
                    .with_label("the same value again")
                    .with_hint("each value is equally likely: list each once"),
                );
                ok = false;
                continue;
            }
            let misfit = bases.iter().find_map(|(base, which)| {
                let why = methods::set_param(base, &param, &value).and_then(|m| {
                    methods::parse_cli(kind.name(), &m)
                        .map(|_| ())
                        .map_err(|e| cli_message(kind, &m, e))
                });
                why.err().map(|e| (base, which, e))
            });
            if let Some((base, which, e)) = &misfit
                && e.contains(&format!("unknown key `{param}`"))
            {
                let hint = e.split_once(" (").map(|(_, h)| h.trim_end_matches(')'));
                sink.push(
                    Diagnostic::error(
                        k.span(),
                        format!(
                            "`{key}`: {which} {} method {base} has no parameter `{param}`",
                            kind.name()
                        ),
                    )
                    .with_label("unknown parameter")
                    .with_hint(hint.map_or_else(
                        || {
                            format!(
                                "`set` changes one parameter of the {} method every run uses",
                                kind.name()
                            )
                        },
                        str::to_string,
                    )),
                );
                ok = false;
                break;
            }
            if let Some((base, which, e)) = misfit {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!(
                            "`{key}` = {value} does not fit {which} {} method {base}: {e}",
                            kind.name()
                        ),
                    )
                    .with_label("cannot be set")
                    .with_hint(format!(
                        "`set` changes one parameter of the {} method every run uses; check the parameter's name and value",
                        kind.name()
                    )),
                );
                ok = false;
                continue;
            }
            if let Some(p) = parsed {
                seen.push((p, item.span().start));
            }
            values.push(value);
        }
        if ok {
            out.push(Input {
                kind: InputKind::Set {
                    param: SetParam {
                        kind,
                        param,
                        value: String::new(),
                    },
                    values,
                },
                span: k.span(),
            });
        }
    }
    (t.len(), out)
}

/// The `exclude` input: indicators, each taken out of the framework in some runs.
fn exclude(
    sink: &mut Sink,
    v: &Spanned<DeValue<'_>>,
    key: Range<usize>,
    fw: Option<&Framework>,
) -> Option<Input> {
    let DeValue::Array(items) = v.get_ref() else {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!(
                    "`exclude` in [uncertainty] must be an array of indicator ids like [\"petition_rate\"], not {}",
                    type_name(v.get_ref())
                ),
            )
            .with_label("expected an array of strings"),
        );
        return None;
    };
    if items.is_empty() {
        sink.push(
            Diagnostic::error(v.span(), "`exclude` lists no indicator")
                .with_label("empty")
                .with_hint(
                    "list the indicators a run may drop (one per run, or none), or remove the key",
                ),
        );
        return None;
    }
    let mut ok = true;
    let mut ids: Vec<String> = Vec::new();
    let mut firsts: Vec<usize> = Vec::new();
    for item in items.iter() {
        let DeValue::String(id) = item.get_ref() else {
            sink.push(
                Diagnostic::error(
                    item.span(),
                    format!(
                        "`exclude` must hold indicator ids, not {}",
                        type_name(item.get_ref())
                    ),
                )
                .with_label("expected a string"),
            );
            ok = false;
            continue;
        };
        let id = id.to_string();
        if let Some(k) = ids.iter().position(|x| *x == id) {
            sink.push(
                Diagnostic::error(item.span(), format!("`{id}` is listed twice in `exclude`"))
                    .with_label(format!("already listed (item {})", k + 1))
                    .with_hint("list each indicator once"),
            );
            ok = false;
            continue;
        }
        ids.push(id.clone());
        firsts.push(item.span().start);
        let Some(fw) = fw else { continue };
        let Some(i) = fw.node_by_id(&id) else {
            let known: Vec<&str> = fw
                .indicators()
                .into_iter()
                .map(|i| fw.nodes[i].id.as_str())
                .collect();
            sink.push(
                Diagnostic::error(item.span(), format!("unknown indicator `{id}`"))
                    .with_label("no indicator has this id")
                    .with_hint(did_you_mean(&id, known).unwrap_or_else(|| {
                        "`exclude` lists ids of [[indicator]] tables".to_string()
                    })),
            );
            ok = false;
            continue;
        };
        if fw.nodes[i].indicator().is_none() {
            sink.push(
                Diagnostic::error(
                    item.span(),
                    format!(
                        "`{id}` is {}: only indicators can be excluded",
                        if i == 0 { "the index" } else { "a dimension" }
                    ),
                )
                .with_label("not an indicator")
                .with_hint("list the indicators under it instead"),
            );
            ok = false;
            continue;
        }
        if let Some(p) = fw.nodes[i].parent {
            let rest: Vec<usize> = fw.nodes[p]
                .children
                .iter()
                .copied()
                .filter(|&c| c != i)
                .collect();
            let why = if rest.is_empty() {
                Some("no child left")
            } else if rest.iter().all(|&c| fw.nodes[c].weight == 0.0) {
                Some("only children of weight 0 left")
            } else {
                None
            };
            if let Some(why) = why {
                sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!(
                            "excluding `{id}` would leave `{}` with {why}",
                            fw.nodes[p].id
                        ),
                    )
                    .with_label("cannot be excluded")
                    .with_hint(format!(
                        "a run that drops `{id}` cannot score `{}`: remove it from the list",
                        fw.nodes[p].id
                    )),
                );
                ok = false;
            }
        }
    }
    (ok && fw.is_some()).then_some(Input {
        kind: InputKind::Exclude(ids),
        span: key,
    })
}

/// Every choice of every discrete input applied to a copy of the framework, as a run would:
/// what the checks above let through but the framework refuses is reported at the input.
fn applies(sink: &mut Sink, fw: &Framework, u: &Uncertainty) {
    for input in &u.inputs {
        let choices: Vec<Overrides> = match &input.kind {
            InputKind::Weights(_) => Vec::new(),
            InputKind::Method { kind, alternatives } => alternatives
                .iter()
                .map(|a| Overrides {
                    methods: vec![(*kind, a.clone())],
                    ..Overrides::default()
                })
                .collect(),
            InputKind::Set { param, values } => {
                // With alternatives of the same kind, every run sets the parameter on one.
                let alternatives: Vec<Option<String>> = u
                    .inputs
                    .iter()
                    .find_map(|i| match &i.kind {
                        InputKind::Method { kind, alternatives } if *kind == param.kind => {
                            Some(alternatives.iter().cloned().map(Some).collect())
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| vec![None]);
                values
                    .iter()
                    .flat_map(|v| {
                        alternatives.iter().map(move |a| Overrides {
                            methods: a.iter().map(|a| (param.kind, a.clone())).collect(),
                            sets: vec![SetParam {
                                value: v.clone(),
                                ..param.clone()
                            }],
                            ..Overrides::default()
                        })
                    })
                    .collect()
            }
            InputKind::Exclude(ids) => ids
                .iter()
                .map(|id| Overrides {
                    exclude: vec![id.clone()],
                    ..Overrides::default()
                })
                .collect(),
        };
        for o in choices {
            if let Err(e) = fw.clone().apply(&o) {
                sink.push(
                    Diagnostic::error(
                        input.span.clone(),
                        format!("a choice of `{}` cannot be applied: {e}", input.name()),
                    )
                    .with_label("in this input"),
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Diagnostics, SourceFile, check};

    /// A small framework: index `idx` with dimensions `a` (x1, x2) and `b` (weight 2; y1, and
    /// z0 of weight 0), treatment winsorise with winmax 5 by default.
    const BASE: &str = r#"[index]
id = "idx"
name = "Index"

[units]
key = "code"
period = "month"

[defaults]
treat = { method = "winsorise", winmax = 5 }

[[source]]
name = "s"
path = "s.csv"

[[dimension]]
id = "a"
name = "A"

[[dimension]]
id = "b"
name = "B"
weight = 2

[[indicator]]
id = "x1"
name = "X1"
parent = "a"
direction = "higher"

[[indicator]]
id = "x2"
name = "X2"
parent = "a"
direction = "higher"

[[indicator]]
id = "y1"
name = "Y1"
parent = "b"
direction = "lower"

[[indicator]]
id = "z0"
name = "Z0"
parent = "b"
direction = "lower"
weight = 0
"#;

    /// Lines of BASE, so that positions in a table below it are easy to count by hand.
    fn base_lines() -> usize {
        BASE.lines().count()
    }

    fn checked(table: &str) -> Result<Framework, Diagnostics> {
        let text = format!("{BASE}\n[uncertainty]\n{table}");
        check(
            SourceFile::new("t.toml", text.as_str()),
            std::path::Path::new("."),
        )
    }

    /// Every error as (line relative to the `[uncertainty]` header's next line, column, message).
    fn errors(table: &str) -> Vec<(usize, usize, String)> {
        let d = checked(table).expect_err("the table should be refused");
        d.items
            .iter()
            .filter(|x| x.severity == Severity::Error)
            .map(|x| {
                let (line, col) = d.file.line_col(x.span.start);
                (line - base_lines() - 2, col, x.message.clone())
            })
            .collect()
    }

    /// The one error of `table`: its line (1 = the first line under the header), column and
    /// the start of its message.
    fn one_error(table: &str, line: usize, col: usize, message: &str) {
        let e = errors(table);
        assert_eq!(e.len(), 1, "{table}: {e:?}");
        assert_eq!((e[0].0, e[0].1), (line, col), "{table}: {e:?}");
        assert!(e[0].2.starts_with(message), "{table}: {e:?}");
    }

    #[test]
    fn a_full_declaration_is_read_into_the_model() {
        let fw = checked(
            r#"runs = 500
seed = 7
sampling = "uniform"
bootstrap = 0
weights = [{ level = 1, noise = 0.25 }, { nodes = ["x1"], noise = 0.1 }]
normalize = ["minmax", { method = "zscore", mean = 10, sd = 2 }]
exclude = ["x2", "x1"]
set = { "treat.winmax" = [1, 3] }
aggregate = ["arithmetic", "geometric"]
"#,
        )
        .unwrap();
        let u = fw.uncertainty.as_ref().unwrap();
        let id = |i: usize| fw.nodes[i].id.as_str();
        assert_eq!((u.runs, u.seed, u.bootstrap), (500, 7, 0));
        assert_eq!(u.sampling, Sampling::Uniform);
        // Inputs in the order written.
        let names: Vec<String> = u.inputs.iter().map(Input::name).collect();
        assert_eq!(
            names,
            [
                "weights",
                "normalize",
                "exclude",
                "set:treat.winmax",
                "aggregate"
            ]
        );
        let InputKind::Weights(w) = &u.inputs[0].kind else {
            panic!("{:?}", u.inputs[0])
        };
        let w: Vec<(&str, f64)> = w.iter().map(|w| (id(w.node), w.noise)).collect();
        assert_eq!(w, [("a", 0.25), ("b", 0.25), ("x1", 0.1)]);
        assert_eq!(
            u.inputs[1].kind,
            InputKind::Method {
                kind: MethodKind::Normalize,
                alternatives: vec![
                    "minmax".into(),
                    "{ method = \"zscore\", mean = 10, sd = 2 }".into()
                ],
            }
        );
        assert_eq!(
            u.inputs[2].kind,
            InputKind::Exclude(vec!["x2".into(), "x1".into()])
        );
        let InputKind::Set { param, values } = &u.inputs[3].kind else {
            panic!("{:?}", u.inputs[3])
        };
        assert_eq!(
            (param.kind, param.param.as_str()),
            (MethodKind::Treat, "winmax")
        );
        assert_eq!(values, &["1", "3"]);
        // Every stored alternative is accepted as the command line takes it.
        for input in &u.inputs {
            if let InputKind::Method { kind, alternatives } = &input.kind {
                for a in alternatives {
                    methods::parse_cli(kind.name(), a).unwrap();
                }
            }
        }
        // Each input's span is its key.
        let text = &fw.file.text;
        assert_eq!(&text[u.inputs[0].span.clone()], "weights");
        assert_eq!(&text[u.inputs[3].span.clone()], "\"treat.winmax\"");
        assert_eq!(u.dims(), 3 + 1 + 1 + 1 + 1);
        assert_eq!(u.inputs[2].choices(), Some(3));
    }

    #[test]
    fn defaults_and_levels() {
        let fw = checked("weights = [{ level = 2, noise = 1 }]\n").unwrap();
        let u = fw.uncertainty.unwrap();
        assert_eq!((u.runs, u.seed, u.bootstrap), (1000, 1, 100));
        assert_eq!(u.sampling, Sampling::Sobol);
        let InputKind::Weights(w) = &u.inputs[0].kind else {
            panic!()
        };
        let ids: Vec<&str> = w.iter().map(|w| fw.nodes[w.node].id.as_str()).collect();
        assert_eq!(ids, ["x1", "x2", "y1", "z0"]);
        // A framework without the table has no uncertainty.
        let text = BASE.to_string();
        let fw = check(
            SourceFile::new("t.toml", text.as_str()),
            std::path::Path::new("."),
        )
        .unwrap();
        assert!(fw.uncertainty.is_none());
    }

    #[test]
    fn every_run_of_a_declaration_applies_to_the_framework() {
        let fw = checked(
            r#"weights = [{ level = [1, 2], noise = 1 }]
normalize = ["minmax", "zscore", { method = "minmax", range = [1, 100] }]
treat = ["winsorise", { method = "winsorise", skew = 1 }]
set = { "treat.winmax" = [0, 1, 2, 3] }
exclude = ["x1", "x2"]
"#,
        )
        .unwrap();
        let u = fw.uncertainty.as_ref().unwrap();
        for s in [Sampling::Sobol, Sampling::Uniform] {
            let u = Uncertainty {
                sampling: s,
                ..u.clone()
            };
            let plan = crate::robustness::design::plain(&fw, &u, 300);
            let mut excluded = std::collections::BTreeSet::new();
            for r in &plan.runs {
                fw.clone().apply(&r.overrides).unwrap();
                excluded.extend(r.overrides.exclude.iter().cloned());
                for (_, w) in &r.overrides.weights {
                    assert!((0.0..=4.0).contains(w), "{w}");
                }
            }
            assert_eq!(excluded.len(), 2);
        }
    }

    #[test]
    fn one_alternative_is_a_warning() {
        let fw =
            checked("aggregate = [\"geometric\"]\nset = { \"treat.winmax\" = [2] }\n").unwrap();
        let w: Vec<&str> = fw.warnings.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("`aggregate` has one alternative"), "{w:?}");
        assert!(w[1].starts_with("`treat.winmax` has one value"), "{w:?}");
    }

    #[test]
    fn settings_are_checked() {
        one_error(
            "runs = 10\n",
            0,
            1,
            "[uncertainty] declares no uncertain input",
        );
        let w = "weights = [{ level = 1, noise = 0.25 }]\n";
        one_error(&format!("runs = 0\n{w}"), 1, 8, "`runs` = 0 is invalid");
        one_error(
            &format!("runs = 1.5\n{w}"),
            1,
            8,
            "`runs` in [uncertainty] must be a whole number",
        );
        one_error(
            &format!("runs = 2000000\n{w}"),
            1,
            8,
            "`runs` = 2000000 is invalid",
        );
        one_error(&format!("seed = -1\n{w}"), 1, 8, "`seed` = -1 is invalid");
        one_error(
            &format!("seed = \"1\"\n{w}"),
            1,
            8,
            "`seed` in [uncertainty] must be a whole number",
        );
        one_error(
            &format!("sampling = \"sobl\"\n{w}"),
            1,
            12,
            "unknown sampling `sobl`",
        );
        one_error(
            &format!("bootstrap = -5\n{w}"),
            1,
            13,
            "`bootstrap` = -5 is invalid",
        );
        one_error(
            &format!("wieghts = 1\n{w}"),
            1,
            1,
            "unknown key `wieghts` in [uncertainty]",
        );
        // A seed beyond 2^53 is kept exactly.
        let fw = checked(&format!("seed = 9007199254740993\n{w}")).unwrap();
        assert_eq!(fw.uncertainty.unwrap().seed, 9_007_199_254_740_993);
    }

    #[test]
    fn weight_noise_is_checked() {
        one_error("weights = []\n", 1, 11, "`weights` lists no weight noise");
        one_error(
            "weights = { level = 1 }\n",
            1,
            11,
            "`weights` in [uncertainty] must be an array",
        );
        one_error(
            "weights = [1]\n",
            1,
            12,
            "each `weights` entry must be a table",
        );
        one_error(
            "weights = [{ level = 1 }]\n",
            1,
            12,
            "a `weights` entry has no `noise`",
        );
        one_error(
            "weights = [{ level = 1, noise = 0 }]\n",
            1,
            33,
            "`noise` = 0 is invalid",
        );
        one_error(
            "weights = [{ level = 1, noise = 1.25 }]\n",
            1,
            33,
            "`noise` = 1.25 is invalid",
        );
        one_error(
            "weights = [{ noise = 0.1 }]\n",
            1,
            12,
            "a `weights` entry names either",
        );
        one_error(
            "weights = [{ level = 1, nodes = [\"a\"], noise = 0.1 }]\n",
            1,
            12,
            "a `weights` entry names either",
        );
        one_error(
            "weights = [{ level = 3, noise = 0.1 }]\n",
            1,
            22,
            "the tree has no level 3",
        );
        one_error(
            "weights = [{ level = 0, noise = 0.1 }]\n",
            1,
            22,
            "a `level` must be a whole number ≥ 1",
        );
        one_error(
            "weights = [{ nodes = [\"idx\"], noise = 0.1 }]\n",
            1,
            23,
            "`idx` is the index",
        );
        one_error(
            "weights = [{ nodes = [\"x3\"], noise = 0.1 }]\n",
            1,
            23,
            "no node has the id `x3`",
        );
        one_error(
            "weights = [{ nodes = [], noise = 0.1 }]\n",
            1,
            22,
            "`nodes` lists no node",
        );
        one_error(
            "weights = [{ nodes = \"a\", noise = 0.1 }]\n",
            1,
            22,
            "`nodes` must be an array",
        );
        let e = errors("weights = [{ levle = 1, noise = 0.1 }]\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[1].2
                .starts_with("unknown key `levle` in a `weights` entry"),
            "{e:?}"
        );
        one_error(
            "weights = [{ level = 1, noise = 0.1 }, { nodes = [\"b\"], noise = 0.2 }]\n",
            1,
            51,
            "`b` gets weight noise twice (first at line",
        );
        one_error(
            "weights = [{ nodes = [\"x1\", \"x1\"], noise = 0.1 }]\n",
            1,
            29,
            "`x1` gets weight noise twice",
        );
        // An unknown key in an entry is named, with the closest known one.
        let e = errors("weights = [{ level = 1, noice = 0.1 }]\n");
        assert!(
            e.iter().any(|e| e.2.starts_with("unknown key `noice`")),
            "{e:?}"
        );
        // Noise on a weight of 0 varies nothing: a warning.
        let fw = checked("weights = [{ nodes = [\"z0\"], noise = 0.1 }]\n").unwrap();
        assert!(fw.warnings[0].message.contains("weight 0"));
    }

    #[test]
    fn method_alternatives_are_checked() {
        one_error(
            "normalize = \"zscore\"\n",
            1,
            13,
            "`normalize` in [uncertainty] must be an array",
        );
        one_error(
            "aggregate = []\n",
            1,
            13,
            "`aggregate` lists no alternative",
        );
        one_error(
            "normalize = [\"minmx\", \"zscore\"]\n",
            1,
            14,
            "unknown normalize method `minmx`",
        );
        one_error(
            "normalize = [\"zscore\", { method = \"zscore\", sd = 0 }]\n",
            1,
            50,
            "`sd` = 0 is invalid",
        );
        one_error(
            "normalize = [\"minmax\", { method = \"goalposts\", min = 0, max = 1 }]\n",
            1,
            35,
            "`goalposts` cannot be a default",
        );
        one_error(
            "aggregate = [\"arithmetic\", \"geometric\", \"arithmetic\"]\n",
            1,
            41,
            "this alternative repeats the one at line",
        );
        one_error(
            "treat = [\"none\", { method = \"winsorise\", winmx = 2 }]\n",
            1,
            42,
            "unknown key `winmx`",
        );
        one_error(
            "impute = [\"none\", \"group_median\"]\n",
            1,
            19,
            "group imputation needs a group column",
        );
        one_error(
            "screen = [\"none\", \"bynothing\"]\n",
            1,
            19,
            "unknown screen method `bynothing`",
        );
        // An imputation chain is one alternative.
        let fw = checked("impute = [\"none\", [\"carry_forward\", \"median\"]]\n").unwrap();
        let InputKind::Method { alternatives, .. } = &fw.uncertainty.unwrap().inputs[0].kind else {
            panic!()
        };
        assert_eq!(alternatives[1], "[\"carry_forward\", \"median\"]");
    }

    #[test]
    fn set_parameters_are_checked() {
        one_error(
            "set = [1]\n",
            1,
            7,
            "`set` in [uncertainty] must be a table",
        );
        one_error("set = {}\n", 1, 7, "`set` lists no parameter");
        one_error(
            "set = { \"tret.winmax\" = [1, 2] }\n",
            1,
            9,
            "`set` key `tret.winmax`: `tret` is not a method kind",
        );
        one_error(
            "set = { winmax = [1, 2] }\n",
            1,
            9,
            "`set` key `winmax`: expected KIND.PARAM",
        );
        one_error(
            "set = { treat.winmax = [1, 2] }\n",
            1,
            9,
            "`set` key `treat` is not KIND.PARAM: write the key in quotes",
        );
        one_error(
            "set = { \"treat.winmax\" = 3 }\n",
            1,
            26,
            "the values of `treat.winmax` must be an array",
        );
        one_error(
            "set = { \"treat.winmax\" = [] }\n",
            1,
            26,
            "`treat.winmax` lists no value",
        );
        one_error(
            "set = { \"treat.winmax\" = [1, 1] }\n",
            1,
            30,
            "this value of `treat.winmax` repeats",
        );
        one_error(
            "set = { \"treat.winmx\" = [1, 2] }\n",
            1,
            9,
            "`treat.winmx`: the default treat method",
        );
        one_error(
            "set = { \"treat.winmax\" = [1, 2.5] }\n",
            1,
            30,
            "`treat.winmax` = 2.5 does not fit the default treat method",
        );
        one_error(
            "set = { \"normalize.range\" = [[0, 1], [1, 0]] }\n",
            1,
            38,
            "`normalize.range` = [1, 0] does not fit",
        );
        // The parameter is checked against every alternative of its kind, not the default.
        one_error(
            "normalize = [\"minmax\", \"zscore\"]\nset = { \"normalize.range\" = [[0, 1], [1, 100]] }\n",
            2,
            9,
            "`normalize.range`: the alternative normalize method zscore has no parameter `range`",
        );
        let fw = checked(
            "treat = [\"winsorise\", { method = \"winsorise\", skew = 1 }]\nset = { \"treat.winmax\" = [1, 2] }\n",
        );
        assert!(fw.is_ok());
    }

    #[test]
    fn values_are_stored_as_the_command_line_takes_them() {
        let text = format!(
            "{BASE}\n[uncertainty]\nset = {{ \"normalize.over\" = [\"panel\", \"2022\", \"2022-01..2022-06\"], \"normalize.range\" = [[0, 100], [1, 100]] }}\nscreen = [\"none\", {{ method = \"byNA\", force_in = [\"1\"] }}]\n"
        );
        // The framework sits in `fw`: its bounds files are there.
        let fw = check(
            SourceFile::new("fw/t.toml", text.as_str()),
            std::path::Path::new("fw"),
        )
        .unwrap();
        let u = fw.uncertainty.clone().unwrap();
        let set = |i: usize| match &u.inputs[i].kind {
            InputKind::Set { values, .. } => values.clone(),
            other => panic!("{other:?}"),
        };
        // A word stays a word; "2022" keeps its quotes (bare, it would be a number).
        assert_eq!(set(0), ["panel", "\"2022\"", "2022-01..2022-06"]);
        assert_eq!(set(1), ["[0, 100]", "[1, 100]"]);
        let InputKind::Method { alternatives, .. } = &u.inputs[2].kind else {
            panic!()
        };
        assert_eq!(alternatives[1], "{ method = \"byNA\", force_in = [\"1\"] }");
        // A bounds file is anchored at the framework's directory, as in [defaults].
        let bounds = format!(
            "{BASE}\n[uncertainty]\nnormalize = [\"minmax\", {{ method = \"minmax\", bounds = \"b.csv\" }}]\nset = {{ \"normalize.bounds\" = [\"c.csv\", \"d.csv\"] }}\n"
        );
        let d = check(
            SourceFile::new("fw/t.toml", bounds.as_str()),
            std::path::Path::new("fw"),
        )
        .unwrap();
        let u2 = d.uncertainty.unwrap();
        assert_eq!(
            u2.inputs[0].kind,
            InputKind::Method {
                kind: MethodKind::Normalize,
                alternatives: vec![
                    "minmax".into(),
                    "{ method = \"minmax\", bounds = \"fw/b.csv\" }".into()
                ]
            }
        );
        let InputKind::Set { values, .. } = &u2.inputs[1].kind else {
            panic!()
        };
        assert_eq!(values, &["\"fw/c.csv\"", "\"fw/d.csv\""]);
        // Each value reaches the method as written in the file.
        let mut f = fw.clone();
        let o = Overrides {
            sets: vec![SetParam {
                kind: MethodKind::Normalize,
                param: "over".into(),
                value: set(0)[1].clone(),
            }],
            ..Overrides::default()
        };
        f.apply(&o).unwrap();
        assert_eq!(
            f.defaults.normalise.over,
            Over::Base {
                first: "2022".into(),
                last: "2022".into()
            }
        );
    }

    #[test]
    fn more_draws_than_a_sobol_sequence_offers_need_uniform_sampling() {
        let mut text = BASE.to_string();
        for i in 0..1000 {
            text.push_str(&format!(
                "\n[[indicator]]\nid = \"m{i}\"\nname = \"M\"\nparent = \"a\"\ndirection = \"higher\"\n"
            ));
        }
        let table = "\n[uncertainty]\nweights = [{ level = 2, noise = 0.1 }]\n";
        let d = check(
            SourceFile::new("t.toml", format!("{text}{table}").as_str()),
            std::path::Path::new("."),
        )
        .unwrap_err();
        assert_eq!(d.error_count(), 1, "{d}");
        assert!(
            d.items[0].message.starts_with("a run draws 1004 numbers"),
            "{d}"
        );
        let uniform = format!("{text}{table}sampling = \"uniform\"\n");
        assert!(
            check(
                SourceFile::new("t.toml", uniform.as_str()),
                std::path::Path::new(".")
            )
            .is_ok()
        );
    }

    #[test]
    fn exclusions_are_checked() {
        one_error(
            "exclude = \"x1\"\n",
            1,
            11,
            "`exclude` in [uncertainty] must be an array",
        );
        one_error("exclude = []\n", 1, 11, "`exclude` lists no indicator");
        one_error(
            "exclude = [\"x1\", 2]\n",
            1,
            18,
            "`exclude` must hold indicator ids",
        );
        one_error(
            "exclude = [\"x1\", \"x1\"]\n",
            1,
            18,
            "`x1` is listed twice in `exclude`",
        );
        one_error("exclude = [\"x3\"]\n", 1, 12, "unknown indicator `x3`");
        one_error(
            "exclude = [\"a\"]\n",
            1,
            12,
            "`a` is a dimension: only indicators can be excluded",
        );
        one_error(
            "exclude = [\"idx\"]\n",
            1,
            12,
            "`idx` is the index: only indicators can be excluded",
        );
        // y1 is b's only child of positive weight.
        one_error(
            "exclude = [\"y1\"]\n",
            1,
            12,
            "excluding `y1` would leave `b` with only children of weight 0",
        );
        // Each run drops at most one: every child of `a` may be listed.
        assert!(checked("exclude = [\"x1\", \"x2\"]\n").is_ok());
    }

    #[test]
    fn odd_values_are_errors_not_crashes() {
        for table in [
            "runs = 0x10\nweights = [{ level = [[1]], noise = 0.1 }]",
            "seed = 1e300\naggregate = [1, true]",
            "seed = 99999999999999999999\nexclude = [[]]",
            "runs = -0\nweights = [{ nodes = [[]], noise = nan }]",
            "runs = inf\nweights = [{ level = -1, noise = -inf }]",
            "bootstrap = 1e6\nweights = [{ level = 9223372036854775807, noise = 1e-300 }]",
            "set = { \"treat.a.b\" = [1], \".\" = [1], \"treat.\" = [2] }",
            "set = { \"impute.method\" = [[\"mean\", \"median\"], \"mean\"] }",
            "normalize = [{}, { method = 1 }, [\"minmax\"]]",
            "impute = [[], [[\"mean\"]]]",
            "weights = [{}, [], { level = [] , noise = 0.5 }]",
            "sampling = 1\nweights = \"level\"\nexclude = \"x1\"\nset = 1",
            "[uncertainty.weights]\nlevel = 1",
        ] {
            let d = checked(table).expect_err(table);
            assert!(d.error_count() >= 1, "{table}");
        }
    }

    #[test]
    fn many_mistakes_are_reported_together() {
        let e = errors("runs = 0\nnormalize = [\"minmx\"]\nexclude = [\"x3\"]\n");
        assert_eq!(e.len(), 3, "{e:?}");
        // Without a usable tree, what needs no tree is still checked.
        let text = format!(
            "{}\n[uncertainty]\nruns = 0\nexclude = [\"nowhere\"]\n",
            BASE.replace("parent = \"a\"", "parent = \"q\"")
        );
        let d = check(
            SourceFile::new("t.toml", text.as_str()),
            std::path::Path::new("."),
        )
        .unwrap_err();
        assert!(
            d.items.iter().any(|d| d.message.starts_with("`runs` = 0")),
            "{d}"
        );
    }
}
