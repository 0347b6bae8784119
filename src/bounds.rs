//! Where a normalisation's bounds come from when they are not the period's own values: the
//! whole panel, a base period or range, or a frozen bounds file that kapok wrote earlier.
//!
//! # The bounds file
//!
//! A small UTF-8 CSV, one row per indicator, written by `kapok score --save-bounds FILE` and as
//! `bounds.csv` in every report bundle, read back through `bounds = "FILE"` in a normalisation:
//!
//! ```text
//! indicator,method,direction,over,periods,n,min,max,mean,sd
//! theft_rate,minmax,lower,2022,2022-01..2022-12,132,1.25,9.5,4.1,1.9
//! ```
//!
//! `min`, `max`, `mean` and `sd` (sample, `n − 1`) are in the indicator's **own units**, whatever
//! its direction, so that a reader can check them against the data and the file does not change
//! when a direction is corrected. They are the values the scores were computed from: after
//! imputation and outlier treatment. Numbers are written in the shortest form that reads back
//! to the same bits, so frozen bounds reproduce the scores exactly. `method`, `direction`,
//! `over`, `periods` (the data periods the bounds were taken from) and `n` (how many values)
//! document the row; only `indicator` and the four numbers are read. An empty number means
//! "not defined" (the sd of one value); the methods that need it refuse it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::data::Panel;
use crate::error::Error;
use crate::framework::{Framework, NodeKind, Outside, Over};
use crate::period::Period;
use crate::pipeline::normalise::Bounds;
use crate::pipeline::{Direction, Normalise};

/// The bounds an indicator's scores were computed from, when they are not per period.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The statistics, in `x · dir`.
    pub bounds: Bounds,
    /// What happens to values beyond them.
    pub outside: Outside,
    /// How the reference was declared: `panel`, the base (`2022`, `2022-01..2022-06`) or
    /// `frozen`.
    pub over: String,
    /// The data periods the bounds were taken from (`2022-01..2022-12`), as a file says for
    /// frozen bounds.
    pub periods: String,
}

/// The first and last month (as months since year 0) that a period covers (see
/// [`Period::month_range`]).
pub fn months(p: Period) -> (i64, i64) {
    p.month_range()
}

/// The panel's periods (indices) that fall inside the base `first..=last` (canonical texts): a
/// period is in the base when every month of it is.
pub fn base_periods(panel: &Panel, first: &str, last: &str) -> Vec<usize> {
    let (Ok(a), Ok(b)) = (Period::parse(first), Period::parse(last)) else {
        return Vec::new();
    };
    let (lo, hi) = (months(a).0, months(b).1);
    (0..panel.periods.len())
        .filter(|&p| {
            Period::parse(&panel.periods[p]).is_ok_and(|d| {
                let (s, e) = months(d);
                s >= lo && e <= hi
            })
        })
        .collect()
}

/// `first..last` of the named periods (one period alone when they are one).
fn span(panel: &Panel, ps: &[usize]) -> String {
    match (ps.first(), ps.last()) {
        (Some(&a), Some(&b)) if a != b => format!("{}..{}", panel.periods[a], panel.periods[b]),
        (Some(&a), _) => panel.periods[a].clone(),
        _ => String::new(),
    }
}

/// The reference of every indicator column of the panel (`None`: bounds per period, or no value
/// anywhere), from `columns(p, j)`: the values of column `j` in period `p` after imputation and
/// treatment.
///
/// # Errors
/// [`Error::Data`] for a base that matches no period of the data or in which an indicator has
/// no value, and for an unreadable or incomplete bounds file.
pub fn references<'a>(
    fw: &Framework,
    panel: &Panel,
    columns: impl Fn(usize, usize) -> ndarray::ArrayView1<'a, f64>,
) -> Result<Vec<Option<Reference>>, Error> {
    let mut files: BTreeMap<PathBuf, BoundsFile> = BTreeMap::new();
    let mut out = Vec::new();
    for (j, &node) in panel.indicators.iter().enumerate() {
        let NodeKind::Indicator(spec) = &fw.nodes[node].kind else {
            out.push(None);
            continue;
        };
        let norm = fw.normalise_of(spec);
        let id = &fw.nodes[node].id;
        let dir = spec.direction;
        let from = |ps: &[usize]| {
            let values: Vec<f64> = ps.iter().flat_map(|&p| columns(p, j).to_vec()).collect();
            Bounds::of(&values, dir)
        };
        let reference = match &norm.over {
            Over::Period => None,
            Over::Panel => {
                let all: Vec<usize> = (0..panel.periods.len()).collect();
                from(&all).map(|bounds| Reference {
                    bounds,
                    outside: norm.outside,
                    over: "panel".into(),
                    periods: span(panel, &all),
                })
            }
            Over::Base { first, last } => {
                Some(base_reference(panel, id, first, last, norm.outside, from)?)
            }
            Over::Frozen(path) => {
                let path = fw.dir.join(path);
                if !files.contains_key(&path) {
                    let file = BoundsFile::read(&path)?;
                    files.insert(path.clone(), file);
                }
                let file = &files[&path];
                Some(file.reference(id, dir, &norm.method, norm.outside)?)
            }
        };
        out.push(reference);
    }
    Ok(out)
}

/// The reference of indicator `id` over the base `first..=last`, with `from` the bounds of
/// some periods' values.
fn base_reference(
    panel: &Panel,
    id: &str,
    first: &str,
    last: &str,
    outside: Outside,
    from: impl Fn(&[usize]) -> Option<Bounds>,
) -> Result<Reference, Error> {
    let base = if first == last {
        first.to_string()
    } else {
        format!("{first}..{last}")
    };
    let ps = base_periods(panel, first, last);
    if ps.is_empty() {
        let all: Vec<usize> = (0..panel.periods.len()).collect();
        let have = if panel.periods.iter().all(String::is_empty) {
            "no periods ([units] names no period column)".to_string()
        } else {
            format!("the periods {}", span(panel, &all))
        };
        return Err(Error::Data(format!(
            "indicator `{id}`: the base of its normalisation (over = \"{base}\") matches no period of the data, which have {have}"
        )));
    }
    let bounds = from(&ps).ok_or_else(|| {
        Error::Data(format!(
            "indicator `{id}` has no value in the base of its normalisation ({}), so it has no bounds to be measured against (a lag or year-on-year change has none in the first periods)\nhint: give it a later base, over = \"panel\", or goalposts",
            span(panel, &ps)
        ))
    })?;
    Ok(Reference {
        bounds,
        outside,
        over: base,
        periods: span(panel, &ps),
    })
}

/// Reads every frozen bounds file the framework's normalisations name and checks that each
/// such indicator has a row with the numbers its method needs, without reading any data (what
/// `kapok check` does before a run). Returns the files read.
///
/// # Errors
/// As [`BoundsFile::read`] and [`BoundsFile::reference`]: the file and line, or the
/// indicator without a row.
pub fn check_frozen(fw: &Framework) -> Result<Vec<PathBuf>, Error> {
    let mut files: BTreeMap<PathBuf, BoundsFile> = BTreeMap::new();
    for node in &fw.nodes {
        let Some(spec) = node.indicator() else {
            continue;
        };
        let norm = fw.normalise_of(spec);
        let Over::Frozen(path) = &norm.over else {
            continue;
        };
        let path = fw.dir.join(path);
        if !files.contains_key(&path) {
            files.insert(path.clone(), BoundsFile::read(&path)?);
        }
        files[&path].reference(&node.id, spec.direction, &norm.method, norm.outside)?;
    }
    Ok(files.into_keys().collect())
}

/// The frozen bounds files the framework's normalisations read (resolved paths, each once).
pub fn frozen_files(fw: &Framework) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let specs = fw
        .nodes
        .iter()
        .filter_map(|n| n.indicator())
        .map(|s| fw.normalise_of(s));
    for s in specs {
        if let Over::Frozen(p) = &s.over {
            let p = fw.dir.join(p);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// One row of a bounds file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Indicator id.
    pub indicator: String,
    /// Normalisation method name.
    pub method: String,
    /// `higher` or `lower`.
    pub direction: String,
    /// How the reference was declared (`period`, `panel`, `2022`, `frozen`).
    pub over: String,
    /// The data periods the bounds come from.
    pub periods: String,
    /// How many values.
    pub n: usize,
    /// Lowest, highest, mean and sd in the indicator's own units (`NaN`: undefined).
    pub values: [f64; 4],
}

/// The header of a bounds file.
pub const HEADER: &str = "indicator,method,direction,over,periods,n,min,max,mean,sd";

/// The method's name as written in a framework.
fn method_name(m: &Normalise) -> &'static str {
    match m {
        Normalise::None => "none",
        Normalise::MinMax { .. } => "minmax",
        Normalise::ZScore { .. } => "zscore",
        Normalise::Scaled { .. } => "scaled",
        Normalise::Rank => "rank",
        Normalise::Borda => "borda",
        Normalise::PercentRank => "prank",
        Normalise::Goalposts { .. } => "goalposts",
        Normalise::Dist2Max => "dist2max",
        Normalise::Dist2Ref { .. } => "dist2ref",
        Normalise::Dist2Targ { .. } => "dist2targ",
        Normalise::FracMax => "fracmax",
    }
}

/// Whether bounds of `m` can be frozen in a file: methods whose scores depend on the data's min,
/// max, mean or sd.
fn freezable(m: &Normalise) -> bool {
    matches!(
        m,
        Normalise::MinMax { .. }
            | Normalise::ZScore { .. }
            | Normalise::Dist2Max
            | Normalise::Dist2Targ { .. }
            | Normalise::FracMax
    )
}

/// The rows of the bounds `results` were computed with: one per indicator whose method depends
/// on the data's min, max, mean or sd. An indicator normalised per period gets the bounds of
/// period `p` (the period reported); indicators without any value are left out. The results
/// must keep their treated values ([`crate::Keep::Stages`]).
pub fn rows(fw: &Framework, results: &crate::Results, p: usize) -> Result<Vec<Row>, Error> {
    let panel = &results.panel;
    let mut out = Vec::new();
    for (j, &node) in panel.indicators.iter().enumerate() {
        let Some(spec) = fw.nodes[node].indicator() else {
            continue;
        };
        let norm = fw.normalise_of(spec);
        if !freezable(&norm.method) {
            continue;
        }
        let (bounds, over, periods) = match results.references.get(j).cloned().flatten() {
            Some(r) => (r.bounds, r.over, r.periods),
            None => {
                let col = results.treated_at(p)?.column(j).to_vec();
                match Bounds::of(&col, spec.direction) {
                    Some(b) => (b, "period".into(), panel.periods[p].clone()),
                    None => continue,
                }
            }
        };
        let [min, max, mean] = bounds.raw(spec.direction);
        out.push(Row {
            indicator: fw.nodes[node].id.clone(),
            method: method_name(&norm.method).into(),
            direction: match spec.direction {
                Direction::Higher => "higher".into(),
                Direction::Lower => "lower".into(),
            },
            over,
            periods,
            n: bounds.n,
            values: [min, max, mean, bounds.sd],
        });
    }
    Ok(out)
}

/// A CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The bounds file's text.
pub fn to_csv(rows: &[Row]) -> String {
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:?}")
        } else {
            String::new()
        }
    };
    let mut s = format!("{HEADER}\n");
    for r in rows {
        let cells = [
            field(&r.indicator),
            field(&r.method),
            field(&r.direction),
            field(&r.over),
            field(&r.periods),
            r.n.to_string(),
            num(r.values[0]),
            num(r.values[1]),
            num(r.values[2]),
            num(r.values[3]),
        ];
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

/// Writes a bounds file atomically.
pub fn write(path: &Path, rows: &[Row]) -> Result<(), Error> {
    let text = to_csv(rows);
    crate::io::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })
}

/// The positions of `indicator`, `min`, `max`, `mean` and `sd` in a bounds file's header.
fn columns(header: &[String]) -> Result<[usize; 5], String> {
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            format!("no column `{name}` (a bounds file written by kapok has the header `{HEADER}`)")
        })
    };
    Ok([
        col("indicator")?,
        col("min")?,
        col("max")?,
        col("mean")?,
        col("sd")?,
    ])
}

/// The numbers of columns `cols` of a row: finite, or empty (`NaN`).
fn numbers(cells: &[String], header: &[String], cols: [usize; 4]) -> Result<[f64; 4], String> {
    let mut out = [f64::NAN; 4];
    for (o, c) in out.iter_mut().zip(cols) {
        let t = cells[c].trim();
        if t.is_empty() {
            continue;
        }
        *o = match t.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => return Err(format!("`{}` = `{t}` is not a number", header[c])),
        };
    }
    Ok(out)
}

/// A bounds file read back: per indicator, its line and `[n, min, max, mean, sd]`.
#[derive(Clone, Debug)]
pub struct BoundsFile {
    path: PathBuf,
    rows: BTreeMap<String, (usize, usize, [f64; 4], String)>,
}

impl BoundsFile {
    /// Reads and checks a bounds file: the header names `indicator`, `min`, `max`, `mean` and
    /// `sd`; every number is a finite number or empty; no indicator has two rows.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Data`] naming the file and line.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let at = |line: usize, m: String| {
            Error::Data(format!("bounds file {}, line {line}: {m}", path.display()))
        };
        let text = String::from_utf8(bytes).map_err(|_| at(1, "not UTF-8 text".into()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let records = crate::data::intake::records(text)
            .map_err(|m| Error::Data(format!("bounds file {}, {m}", path.display())))?;
        let mut lines = records
            .into_iter()
            .filter(|r| !crate::data::intake::blank(&r.fields));
        let head = lines.next().ok_or_else(|| {
            at(
                1,
                "the file is empty (expected the header `".to_string() + HEADER + "`)",
            )
        })?;
        let header: Vec<String> = head.fields.iter().map(|h| h.trim().to_string()).collect();
        let [ci, cmin, cmax, cmean, csd] = columns(&header).map_err(|m| at(head.line, m))?;
        let cn = header.iter().position(|h| h == "n");
        let cp = header.iter().position(|h| h == "periods");
        let mut rows: BTreeMap<String, (usize, usize, [f64; 4], String)> = BTreeMap::new();
        for record in lines {
            let (line_no, cells) = (record.line, record.fields);
            if cells.len() != header.len() {
                return Err(at(
                    line_no,
                    format!(
                        "{} field(s), but the header has {}",
                        cells.len(),
                        header.len()
                    ),
                ));
            }
            let values =
                numbers(&cells, &header, [cmin, cmax, cmean, csd]).map_err(|m| at(line_no, m))?;
            let n = match cn {
                Some(c) => cells[c].trim().parse().unwrap_or(0),
                None => 0,
            };
            let periods = cp.map(|c| cells[c].trim().to_string()).unwrap_or_default();
            let id = cells[ci].trim().to_string();
            if let Some((first, ..)) = rows.get(&id) {
                return Err(at(
                    line_no,
                    format!("indicator `{id}` has a second row (the first is on line {first})"),
                ));
            }
            rows.insert(id, (line_no, n, values, periods));
        }
        Ok(Self {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// The frozen reference of indicator `id`, checked for the numbers `method` needs.
    ///
    /// # Errors
    /// [`Error::Data`] when the file has no row for `id` or lacks a number the method needs.
    pub fn reference(
        &self,
        id: &str,
        direction: Direction,
        method: &Normalise,
        outside: Outside,
    ) -> Result<Reference, Error> {
        let Some((line, n, values, periods)) = self.rows.get(id) else {
            let known: Vec<&str> = self.rows.keys().map(String::as_str).collect();
            let hint = crate::framework::diag::did_you_mean(id, known.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(Error::Data(format!(
                "bounds file {}: no row for indicator `{id}`{hint}; it has {} row(s): {}",
                self.path.display(),
                known.len(),
                crate::data::list_at_most(&known, 10)
            )));
        };
        let [min, max, mean, sd] = *values;
        let mut needs: Vec<(&str, f64)> = match (method, direction) {
            (Normalise::FracMax, Direction::Higher)
            | (Normalise::Dist2Targ { .. }, Direction::Lower) => vec![("max", max)],
            (Normalise::FracMax, Direction::Lower)
            | (Normalise::Dist2Targ { .. }, Direction::Higher) => vec![("min", min)],
            _ => vec![("min", min), ("max", max)],
        };
        if matches!(method, Normalise::ZScore { .. }) {
            needs.extend([("mean", mean), ("sd", sd)]);
        }
        for (name, v) in needs {
            if v.is_nan() {
                return Err(Error::Data(format!(
                    "bounds file {}, line {line}: indicator `{id}` has no `{name}`, which its normalisation ({}) needs",
                    self.path.display(),
                    method_name(method)
                )));
            }
        }
        if min > max {
            return Err(Error::Data(format!(
                "bounds file {}, line {line}: indicator `{id}` has min {min} > max {max}",
                self.path.display()
            )));
        }
        Ok(Reference {
            bounds: Bounds::from_raw(*n, [min, max, mean, sd], direction),
            outside,
            over: "frozen".into(),
            periods: periods.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_their_months() {
        let p = |s: &str| months(Period::parse(s).unwrap());
        assert_eq!(p("2022-01"), (2022 * 12, 2022 * 12));
        assert_eq!(p("2022-Q2"), (2022 * 12 + 3, 2022 * 12 + 5));
        assert_eq!(p("2022"), (2022 * 12, 2022 * 12 + 11));
        assert_eq!(p("2022-12").1, p("2022").1);
    }

    #[test]
    fn csv_fields_round_trip() {
        let split = |line: &str| crate::data::intake::records(line).map(|mut r| r.remove(0).fields);
        assert_eq!(
            split("a,\"b,c\",\"d\"\"e\",").unwrap(),
            ["a", "b,c", "d\"e", ""]
        );
        assert!(split("\"open").is_err());
        let row = Row {
            indicator: "x".into(),
            method: "minmax".into(),
            direction: "lower".into(),
            over: "2022".into(),
            periods: "2022-01..2022-12".into(),
            n: 3,
            values: [0.1 + 0.2, 1.0 / 3.0, -2.5, f64::NAN],
        };
        let text = to_csv(std::slice::from_ref(&row));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.csv");
        std::fs::write(&path, &text).unwrap();
        let f = BoundsFile::read(&path).unwrap();
        let (_, n, v, periods) = &f.rows["x"];
        assert_eq!((*n, periods.as_str()), (3, "2022-01..2022-12"));
        // Bit for bit: the shortest round-trip form.
        assert_eq!(v[0].to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(v[1].to_bits(), (1.0f64 / 3.0).to_bits());
        assert!(v[3].is_nan());
    }
}
