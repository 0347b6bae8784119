//! The run table: one row per run, saying what the run applied to the nominal framework. Every
//! analysis writes it (`runs.csv`) and `kapok robustness --replay` reads it.
//!
//! Columns, all optional but `run`; an empty cell or a missing column means nominal:
//! - `run`: 1, 2, …
//! - `block`: `A`, `B` or `AB:<input>` in a Saltelli design;
//! - `weight:<node id>`: that node's weight in this run;
//! - `normalize`, `aggregate`, `impute`, `treat`, `screen`: a whole method exactly as the
//!   command-line option accepts it, e.g. `{ method = "zscore", mean = 10, sd = 2 }`;
//! - `set:<KIND.PARAM>`: a parameter value as `--set` accepts it;
//! - `exclude`: space-separated indicator ids;
//! - `error`: written for runs that failed; ignored when read.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::{Block, Failure, RunSpec};
use crate::error::Error;
use crate::framework::overrides::{MethodKind, Overrides, SetParam};

/// A column of a run table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Run,
    Block,
    Weight(String),
    Method(MethodKind),
    Set(MethodKind, String),
    Exclude,
    Error,
}

impl Column {
    fn parse(name: &str) -> Result<Column, String> {
        let name = name.trim();
        if let Some(id) = name.strip_prefix("weight:") {
            return Ok(Column::Weight(id.trim().to_string()));
        }
        if let Some(key) = name.strip_prefix("set:") {
            let (kind, param) = SetParam::key(key)?;
            return Ok(Column::Set(kind, param));
        }
        if let Some(kind) = MethodKind::parse(name) {
            return Ok(Column::Method(kind));
        }
        match name {
            "run" => Ok(Column::Run),
            "block" => Ok(Column::Block),
            "exclude" => Ok(Column::Exclude),
            "error" => Ok(Column::Error),
            _ => Err(format!(
                "unknown column `{name}`: a run table has run, block, weight:<node id>, {}, set:<KIND.PARAM>, exclude",
                MethodKind::names()
            )),
        }
    }

    fn name(&self) -> String {
        match self {
            Column::Run => "run".into(),
            Column::Block => "block".into(),
            Column::Weight(id) => format!("weight:{id}"),
            Column::Method(k) => k.name().into(),
            Column::Set(k, p) => format!("set:{}.{p}", k.name()),
            Column::Exclude => "exclude".into(),
            Column::Error => "error".into(),
        }
    }
}

/// A run read from a table, with the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The run.
    pub spec: RunSpec,
    /// Its 1-based line in the file.
    pub line: usize,
}

/// Reads a run table (CSV). Errors name the file, line and column.
pub fn read(path: &Path) -> Result<Vec<Row>, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Usage(format!(
            "{}: a run table must be UTF-8 text (CSV)",
            path.display()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let at = |line: usize, col: &str, msg: &str| {
        let col = if col.is_empty() {
            String::new()
        } else {
            format!(", column `{col}`")
        };
        Error::Usage(format!("{}:{line}{col}: {msg}", path.display()))
    };
    let records = crate::data::intake::records(text)
        .map_err(|m| Error::Usage(format!("{}: {m}", path.display())))?;
    let mut records = records
        .into_iter()
        .filter(|r| !crate::data::intake::blank(&r.fields));
    let Some(header) = records.next() else {
        return Err(at(
            1,
            "",
            "the run table is empty (a header line with `run` is needed)",
        ));
    };
    let mut cols = Vec::new();
    for h in &header.fields {
        let c = Column::parse(h).map_err(|e| at(header.line, h, &e))?;
        if cols.contains(&c) {
            return Err(at(header.line, h, "the column appears twice"));
        }
        cols.push(c);
    }
    if !cols.contains(&Column::Run) {
        return Err(at(
            header.line,
            "",
            "a run table needs a `run` column (1, 2, …)",
        ));
    }
    let mut out: Vec<Row> = Vec::new();
    let mut seen = BTreeSet::new();
    for rec in records {
        let line = rec.line;
        if rec.fields.len() != cols.len() {
            return Err(at(
                line,
                "",
                &format!(
                    "{} field(s), but the header has {}",
                    rec.fields.len(),
                    cols.len()
                ),
            ));
        }
        let mut spec = RunSpec::default();
        for (c, cell) in cols.iter().zip(&rec.fields) {
            let cell = cell.trim();
            if cell.is_empty() && *c != Column::Run {
                continue;
            }
            let name = c.name();
            match c {
                Column::Run => {
                    spec.run = cell
                        .parse()
                        .ok()
                        .filter(|&n: &usize| n > 0)
                        .ok_or_else(|| {
                            at(
                                line,
                                &name,
                                &format!("`{cell}` is not a run number (1, 2, …)"),
                            )
                        })?;
                    if !seen.insert(spec.run) {
                        return Err(at(line, &name, &format!("run {} appears twice", spec.run)));
                    }
                }
                Column::Block => {
                    spec.block = Some(Block::parse(cell).ok_or_else(|| {
                        at(
                            line,
                            &name,
                            &format!("`{cell}` is not a block (A, B or AB:<input>)"),
                        )
                    })?);
                }
                Column::Weight(id) => {
                    let w: f64 = cell
                        .parse()
                        .map_err(|_| at(line, &name, &format!("`{cell}` is not a number")))?;
                    if !w.is_finite() || w < 0.0 {
                        return Err(at(
                            line,
                            &name,
                            &format!("{cell}: a weight must be a finite number ≥ 0"),
                        ));
                    }
                    spec.overrides.weights.push((id.clone(), w));
                }
                Column::Method(kind) => spec.overrides.methods.push((*kind, cell.to_string())),
                Column::Set(kind, param) => spec.overrides.sets.push(SetParam {
                    kind: *kind,
                    param: param.clone(),
                    value: cell.to_string(),
                }),
                Column::Exclude => spec
                    .overrides
                    .exclude
                    .extend(cell.split_whitespace().map(str::to_string)),
                Column::Error => {}
            }
        }
        out.push(Row { spec, line });
    }
    if out.is_empty() {
        return Err(at(2, "", "the run table has no run"));
    }
    Ok(out)
}

/// The run table of `runs` as a record batch (columns only for what some run changes; an
/// `error` column when a run failed).
pub fn batch(runs: &[RunSpec], failed: &[Failure]) -> Result<RecordBatch, Error> {
    let mut cols: BTreeSet<Column> = BTreeSet::new();
    cols.insert(Column::Run);
    for r in runs {
        if r.block.is_some() {
            cols.insert(Column::Block);
        }
        let o = &r.overrides;
        cols.extend(o.methods.iter().map(|(k, _)| Column::Method(*k)));
        cols.extend(o.sets.iter().map(|s| Column::Set(s.kind, s.param.clone())));
        if !o.exclude.is_empty() {
            cols.insert(Column::Exclude);
        }
    }
    if !failed.is_empty() {
        cols.insert(Column::Error);
    }
    // Weights in the order the runs give them (node order), after run and block.
    let mut weights: Vec<String> = Vec::new();
    for r in runs {
        for (id, _) in &r.overrides.weights {
            if !weights.contains(id) {
                weights.push(id.clone());
            }
        }
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let text = |f: &dyn Fn(&RunSpec) -> Option<String>| -> ArrayRef {
        Arc::new(runs.iter().map(f).collect::<StringArray>())
    };
    for c in &cols {
        let (ty, array): (DataType, ArrayRef) = match c {
            Column::Run => (
                DataType::Int64,
                Arc::new(runs.iter().map(|r| r.run as i64).collect::<Int64Array>()),
            ),
            Column::Block => (DataType::Utf8, text(&|r| r.block.as_ref().map(Block::text))),
            Column::Method(k) => (
                DataType::Utf8,
                text(&|r| r.overrides.method(*k).map(str::to_string)),
            ),
            Column::Set(k, p) => (
                DataType::Utf8,
                text(&|r| {
                    r.overrides
                        .sets
                        .iter()
                        .rev()
                        .find(|s| s.kind == *k && &s.param == p)
                        .map(|s| s.value.clone())
                }),
            ),
            Column::Exclude => (
                DataType::Utf8,
                text(&|r| (!r.overrides.exclude.is_empty()).then(|| r.overrides.exclude.join(" "))),
            ),
            Column::Error => (
                DataType::Utf8,
                text(&|r| {
                    failed
                        .iter()
                        .find(|f| f.run == r.run)
                        .map(|f| f.message.clone())
                }),
            ),
            Column::Weight(_) => continue,
        };
        fields.push(Field::new(c.name(), ty, true));
        arrays.push(array);
        if *c == Column::Block || (*c == Column::Run && !cols.contains(&Column::Block)) {
            for id in &weights {
                fields.push(Field::new(format!("weight:{id}"), DataType::Float64, true));
                arrays.push(Arc::new(
                    runs.iter()
                        .map(|r| {
                            r.overrides
                                .weights
                                .iter()
                                .rev()
                                .find(|(w, _)| w == id)
                                .map(|(_, v)| *v)
                        })
                        .collect::<Float64Array>(),
                ));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Error::Eval(format!("building the run table: {e}")))
}

/// The plan of a replayed run table: every row checked against `fw` (a row that cannot be
/// applied is an error naming its line), and a Saltelli design recognised by its blocks (A ×
/// N, B × N, then N rows of each `AB:<input>`). `bootstrap` and `seed` (for the sensitivity
/// bootstrap) default to the framework's `[uncertainty]` or the defaults.
pub fn plan(
    fw: &crate::framework::Framework,
    path: &Path,
    rows: Vec<Row>,
    bootstrap: Option<usize>,
    seed: Option<u64>,
) -> Result<super::Plan, Error> {
    use crate::framework::uncertainty as unc;
    // Each distinct set of methods, parameters and exclusions is applied once; weights are
    // checked by node id and against their siblings, as `--weight` is.
    let mut seen = std::collections::HashSet::new();
    let nominal: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
    for r in &rows {
        let at = |col: Option<Column>, e: &dyn std::fmt::Display| {
            let col = col
                .map(|c| format!(", column `{}`", c.name()))
                .unwrap_or_default();
            Error::Usage(format!(
                "{}:{}{col}: run {}: {e}",
                path.display(),
                r.line,
                r.spec.run
            ))
        };
        let o = &r.spec.overrides;
        if seen.insert(format!("{:?}", (&o.methods, &o.sets, &o.exclude))) {
            let unweighted = Overrides {
                weights: Vec::new(),
                ..o.clone()
            };
            if let Err(e) = fw.clone().apply(&unweighted) {
                return Err(at(culprit(fw, &unweighted), &e));
            }
        }
        let mut w = nominal.clone();
        for (id, v) in &o.weights {
            let col = Some(Column::Weight(id.clone()));
            let i = fw.node_named(id).map_err(|m| at(col.clone(), &m))?;
            fw.set_weight_in(&mut w, i, *v).map_err(|m| at(col, &m))?;
        }
    }
    let declared = fw.uncertainty.as_ref();
    let mut plan = super::Plan {
        runs: Vec::new(),
        inputs: Vec::new(),
        saltelli: None,
        sampling: None,
        seed: seed
            .or(declared.map(|u| u.seed))
            .unwrap_or(unc::DEFAULT_SEED),
        bootstrap: bootstrap
            .or(declared.map(|u| u.bootstrap))
            .unwrap_or(unc::DEFAULT_BOOTSTRAP),
    };
    if rows.iter().any(|r| r.spec.block.is_some()) {
        let (n, inputs) = saltelli_layout(&rows).map_err(|(line, msg)| {
            Error::Usage(format!("{}:{line}, column `block`: {msg}", path.display()))
        })?;
        plan.saltelli = Some(n);
        plan.inputs = inputs;
    }
    plan.runs = rows.into_iter().map(|r| r.spec).collect();
    Ok(plan)
}

/// The column of the cell that makes `o` fail on `fw`: the overrides are applied one cell
/// at a time (methods, parameters, weights, exclusions, as [`Framework::apply`] orders them)
/// and the cell whose addition fails is named. `None` when every prefix applies.
///
/// [`Framework::apply`]: crate::framework::Framework::apply
fn culprit(fw: &crate::framework::Framework, o: &Overrides) -> Option<Column> {
    let mut prefix = Overrides::default();
    let fails = |p: &Overrides| fw.clone().apply(p).is_err();
    for (k, t) in &o.methods {
        prefix.methods.push((*k, t.clone()));
        if fails(&prefix) {
            return Some(Column::Method(*k));
        }
    }
    for s in &o.sets {
        prefix.sets.push(s.clone());
        if fails(&prefix) {
            return Some(Column::Set(s.kind, s.param.clone()));
        }
    }
    for (id, w) in &o.weights {
        prefix.weights.push((id.clone(), *w));
        if fails(&prefix) {
            return Some(Column::Weight(id.clone()));
        }
    }
    for id in &o.exclude {
        prefix.exclude.push(id.clone());
        if fails(&prefix) {
            return Some(Column::Exclude);
        }
    }
    None
}

/// N and the inputs of a Saltelli design's blocks, or the line that breaks the layout.
fn saltelli_layout(rows: &[Row]) -> Result<(usize, Vec<String>), (usize, String)> {
    const LAYOUT: &str =
        "a Saltelli design lists N runs of block A, N of block B, then N of each AB:<input>";
    let block = |r: &Row| r.spec.block.clone();
    let n = rows
        .iter()
        .take_while(|r| block(r) == Some(Block::A))
        .count();
    if n < 2 {
        let line = rows.get(n).map_or(0, |r| r.line);
        return Err((line, format!("{LAYOUT} (N ≥ 2)")));
    }
    if !rows.len().is_multiple_of(n) || rows.len() / n < 3 {
        return Err((
            rows[rows.len() - 1].line,
            format!(
                "{LAYOUT}: {} runs is not a multiple of N = {n} with at least one AB block",
                rows.len()
            ),
        ));
    }
    let mut inputs = Vec::new();
    for (c, chunk) in rows.chunks(n).enumerate() {
        let want = match c {
            0 => Block::A,
            1 => Block::B,
            _ => match block(&chunk[0]) {
                Some(Block::AB(i)) if !inputs.contains(&i) => {
                    inputs.push(i.clone());
                    Block::AB(i)
                }
                _ => {
                    return Err((
                        chunk[0].line,
                        format!("{LAYOUT}: expected a new AB:<input> block here"),
                    ));
                }
            },
        };
        if let Some(r) = chunk.iter().find(|r| block(r) != Some(want.clone())) {
            return Err((
                r.line,
                format!("{LAYOUT}: expected block {} here", want.text()),
            ));
        }
    }
    Ok((n, inputs))
}
