//! COINr's table format (`iData` + `iMeta`) → a kapok framework.
//!
//! `iMeta` has one row per indicator, aggregate, group and denominator column: `Level, iCode,
//! iName, Direction, Weight, Unit, Target, Denominator, Parent, Type`. The aggregate without a
//! parent becomes the index, other aggregates dimensions, indicators indicators (with their
//! denominators); `Group` columns are listed so that one can be chosen as the group.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::csv::reader::Format;
use datafusion::arrow::datatypes::DataType;

use crate::error::Error;

/// One row of COINr's `iMeta`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetaRow {
    /// Level in the tree (1 = indicator), when given.
    pub level: Option<i64>,
    /// Code (column name for indicators).
    pub code: String,
    /// Display name.
    pub name: String,
    /// 1 or −1.
    pub direction: Option<f64>,
    /// Weight within the parent.
    pub weight: Option<f64>,
    /// Unit of measurement.
    pub unit: String,
    /// Target (for distance-to-target normalisation).
    pub target: Option<f64>,
    /// Denominator column.
    pub denominator: String,
    /// Parent code.
    pub parent: String,
    /// `Indicator`, `Aggregate`, `Group`, `Denominator`, `Other`.
    pub kind: String,
}

/// A CSV file as text: header and rows of optional cells.
type TextTable = (Vec<String>, Vec<Vec<Option<String>>>);

/// Reads a CSV file into rows of text cells keyed by header.
fn read_csv(path: &Path) -> Result<TextTable, Error> {
    let fail = |m: String| Error::Data(format!("{}: {m}", path.display()));
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let (schema, _) = Format::default()
        .with_header(true)
        .infer_schema(&mut file, None)
        .map_err(|e| fail(e.to_string()))?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ReaderBuilder::new(Arc::new(schema.clone()))
        .with_header(true)
        .build(file)
        .map_err(|e| fail(e.to_string()))?;
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        let cols: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).map_err(|e| fail(e.to_string())))
            .collect::<Result<_, _>>()?;
        for r in 0..batch.num_rows() {
            rows.push(
                cols.iter()
                    .map(|c| {
                        let s = c.as_string::<i32>();
                        (!s.is_null(r)).then(|| s.value(r).to_string())
                    })
                    .collect(),
            );
        }
    }
    Ok((header, rows))
}

/// Reads COINr's `iMeta` table.
pub fn read_meta(path: &Path) -> Result<Vec<MetaRow>, Error> {
    let (header, rows) = read_csv(path)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let required = ["iCode", "Type"];
    for r in required {
        if col(r).is_none() {
            return Err(Error::Data(format!(
                "{}: not a COINr iMeta table: no column `{r}` (columns: {})",
                path.display(),
                header.join(", ")
            )));
        }
    }
    let get = |row: &[Option<String>], name: &str| -> String {
        col(name)
            .and_then(|i| row[i].clone())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let num = |row: &[Option<String>], name: &str, line: usize| -> Result<Option<f64>, Error> {
        let s = get(row, name);
        if s.is_empty() || s == "NA" {
            return Ok(None);
        }
        s.parse().map(Some).map_err(|_| {
            Error::Data(format!(
                "{}, line {line}, column `{name}`: `{s}` is not a number",
                path.display()
            ))
        })
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let line = i + 2;
            Ok(MetaRow {
                level: num(row, "Level", line)?.map(|l| l as i64),
                code: get(row, "iCode"),
                name: get(row, "iName"),
                direction: num(row, "Direction", line)?,
                weight: num(row, "Weight", line)?,
                unit: get(row, "Unit"),
                target: num(row, "Target", line)?,
                denominator: get(row, "Denominator"),
                parent: get(row, "Parent"),
                kind: get(row, "Type"),
            })
        })
        .collect()
}

/// A TOML string literal.
fn lit(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A kapok id for a COINr code: letters, digits and `_`, starting with a letter.
pub fn to_id(code: &str) -> String {
    let mut id: String = code
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert(0, 'x');
    }
    id
}

/// Writes the framework text for COINr metadata. `data_path` is the iData file as seen from
/// where the framework will be written; `group` optionally names the group column. Problems of
/// the metadata are [`Error::Data`] messages relative to the iMeta table (`line 2: …`); the
/// caller names the file.
pub fn framework_toml(
    meta: &[MetaRow],
    data_path: &str,
    data_header: &[String],
    group: Option<&str>,
    periods: usize,
) -> Result<String, Error> {
    let roots: Vec<&MetaRow> = meta
        .iter()
        .filter(|m| m.kind == "Aggregate" && m.parent.is_empty())
        .collect();
    let [root] = roots.as_slice() else {
        return Err(Error::Data(format!(
            "COINr iMeta must have exactly one aggregate without a parent (the index), found {}",
            roots.len()
        )));
    };
    // Parents must be aggregates of the same table: say so in iMeta's terms (its line), not as
    // a diagnostic in a framework file that was never written.
    let aggregates: Vec<&str> = meta
        .iter()
        .filter(|m| m.kind == "Aggregate")
        .map(|m| m.code.as_str())
        .collect();
    let orphans: Vec<String> = meta
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m.kind.as_str(), "Indicator" | "Aggregate"))
        .filter(|(_, m)| !m.parent.is_empty() && !aggregates.contains(&m.parent.as_str()))
        .map(|(i, m)| {
            let hint = crate::framework::diag::did_you_mean(&m.parent, aggregates.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            format!(
                "line {}: `{}` has parent `{}`, which is no aggregate of iMeta{hint}",
                i + 2,
                m.code,
                m.parent
            )
        })
        .collect();
    if !orphans.is_empty() {
        return Err(Error::Data(orphans.join("; ")));
    }
    let groups: Vec<&str> = meta
        .iter()
        .filter(|m| m.kind == "Group")
        .map(|m| m.code.as_str())
        .collect();
    if let Some(g) = group
        && !data_header.iter().any(|h| h == g)
    {
        return Err(Error::Usage(format!(
            "--group {g}: iData has no column `{g}` (group columns in iMeta: {})",
            groups.join(", ")
        )));
    }
    let mut t = String::new();
    t.push_str("# Imported from COINr's iData/iMeta tables by `kapok import coinr`.\n\n");
    t.push_str(&format!(
        "[index]\nid = {}\nname = {{ zh = {n}, en = {n} }}\n\n",
        lit(&to_id(&root.code)),
        n = lit(&root.name)
    ));
    t.push_str("[units]\nkey = \"uCode\"\n");
    if data_header.iter().any(|h| h == "uName") {
        t.push_str("name = \"uName\"\n");
    }
    let panel = periods > 1 && data_header.iter().any(|h| h == "Time");
    if panel {
        t.push_str("period = \"Time\"\n");
    }
    match group {
        Some(g) => t.push_str(&format!("group = {}\n", lit(g))),
        None if !groups.is_empty() => {
            t.push_str(&format!(
                "# group columns in the data: {}\n",
                groups.join(", ")
            ));
        }
        None => {}
    }
    t.push_str("\n[defaults]\nimpute = \"none\"\n");
    if panel {
        t.push_str(concat!(
            "# COINr's impute_panel(imp_type = \"latest\", max_time = 2) is\n",
            "# impute = { method = \"carry_forward\", max_periods = 2 }\n",
        ));
    }
    t.push_str("treat = \"none\"\n");
    if panel {
        // COINr normalises a purse over the whole panel by default (`global = TRUE`).
        t.push_str(concat!(
            "# Over every year at once, as COINr's Normalise() of a purse (global = TRUE);\n",
            "# over = \"period\" normalises each year on its own (global = FALSE).\n",
            "normalize = { method = \"minmax\", range = [0, 100], over = \"panel\" }\n",
        ));
    } else {
        t.push_str("normalize = { method = \"minmax\", range = [0, 100] }\n");
    }
    t.push_str("aggregate = \"arithmetic\"\n\n");
    t.push_str(&format!(
        "[[source]]\nname = \"idata\"\npath = {}\n",
        lit(data_path)
    ));
    let weight = |m: &MetaRow| match m.weight {
        Some(w) if w != 1.0 => format!("weight = {w:?}\n"),
        _ => String::new(),
    };
    let mut aggregates: Vec<&MetaRow> = meta
        .iter()
        .filter(|m| m.kind == "Aggregate" && !m.parent.is_empty())
        .collect();
    aggregates.sort_by_key(|m| std::cmp::Reverse(m.level.unwrap_or(0)));
    for m in aggregates {
        t.push_str(&format!(
            "\n[[dimension]]\nid = {}\nname = {{ zh = {n}, en = {n} }}\nparent = {}\n{}",
            lit(&to_id(&m.code)),
            lit(&to_id(&m.parent)),
            weight(m),
            n = lit(&m.name),
        ));
    }
    for m in meta.iter().filter(|m| m.kind == "Indicator") {
        if !data_header.iter().any(|h| h == &m.code) {
            return Err(Error::Data(format!(
                "indicator `{}` of iMeta has no column in iData",
                m.code
            )));
        }
        let direction = match m.direction {
            Some(d) if d < 0.0 => "lower",
            _ => "higher",
        };
        t.push_str(&format!(
            "\n[[indicator]]\nid = {}\nname = {{ zh = {n}, en = {n} }}\nunit = {}\nparent = {}\ndirection = \"{direction}\"\n{}expr = {}\n",
            lit(&to_id(&m.code)),
            lit(&m.unit),
            lit(&to_id(&m.parent)),
            weight(m),
            lit(&crate::framework::expr::quote_ident(&m.code)),
            n = lit(&m.name),
        ));
        if !m.denominator.is_empty() {
            t.push_str(&format!("denominator = {}\n", lit(&m.denominator)));
        }
        if let Some(target) = m.target {
            t.push_str(&format!(
                "# target = {target:?} (for normalize = {{ method = \"dist2targ\", target = … }})\n"
            ));
        }
    }
    Ok(t)
}

/// Header and number of distinct `Time` values of an iData table.
pub fn data_shape(path: &Path) -> Result<(Vec<String>, usize), Error> {
    let (header, rows) = read_csv(path)?;
    let periods = match header.iter().position(|h| h == "Time") {
        Some(i) => {
            let mut t: Vec<_> = rows.iter().map(|r| r[i].clone()).collect();
            t.sort();
            t.dedup();
            t.len()
        }
        None => 1,
    };
    if !header.iter().any(|h| h == "uCode") {
        return Err(Error::Data(format!(
            "{}: not a COINr iData table: no column `uCode`",
            path.display()
        )));
    }
    Ok((header, periods))
}

/// A relative path from directory `from` to file `to` (both made absolute first).
pub fn relative_path(from: &Path, to: &Path) -> Result<String, Error> {
    let from = from.canonicalize().map_err(|e| Error::io(from, e))?;
    let to = to.canonicalize().map_err(|e| Error::io(to, e))?;
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid() {
        assert_eq!(to_id("LPI"), "LPI");
        assert_eq!(to_id("GDP.pc"), "GDP_pc");
        assert_eq!(to_id("4G"), "x4G");
    }

    #[test]
    fn a_small_tree() {
        let row = |code: &str, kind: &str, parent: &str, dir: f64| MetaRow {
            code: code.into(),
            name: format!("{code} name"),
            kind: kind.into(),
            parent: parent.into(),
            direction: Some(dir),
            weight: Some(1.0),
            ..Default::default()
        };
        let meta = vec![
            row("A", "Indicator", "P", 1.0),
            row("B", "Indicator", "P", -1.0),
            row("P", "Aggregate", "Index", 1.0),
            row("Index", "Aggregate", "", 1.0),
        ];
        let header: Vec<String> = ["uCode", "uName", "A", "B"].map(String::from).to_vec();
        let text = framework_toml(&meta, "data.csv", &header, None, 1).unwrap();
        let fw = crate::framework::check(
            crate::framework::SourceFile::new("t.toml", text.as_str()),
            Path::new("."),
        )
        .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        assert_eq!(fw.nodes.len(), 4);
        let b = fw.node_by_id("B").unwrap();
        assert_eq!(
            fw.nodes[b].indicator().unwrap().direction,
            crate::pipeline::Direction::Lower
        );
        assert!(framework_toml(&meta[..3], "d.csv", &header, None, 1).is_err());
        let mut typo = meta.clone();
        typo[0].parent = "Q".into();
        let err = framework_toml(&typo, "d.csv", &header, None, 1).unwrap_err();
        assert!(
            err.to_string().contains("line 2: `A` has parent `Q`"),
            "{err}"
        );
    }
}
