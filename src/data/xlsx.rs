//! Excel workbooks read with calamine into a [`Table`]: the header is the first non-empty row
//! (or the source's `header_row`); a column of whole numbers becomes Int64, other numbers
//! Float64, anything with text Utf8 (whole numbers written `440103`, dates `2023-01-01`).
//! Cells that cannot be read as the workbook shows them — a formula without a saved value, a
//! merged region, an Excel error, a title row above the header — are named by sheet and cell.

use std::path::Path;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx, open_workbook};
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::intake::{Table, cell_ref};
use crate::framework::Intake;

/// Excel's column letters for a zero-based column index (0 → A, 27 → AB).
pub fn column_letters(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A whole number shown without a decimal point (`440103`, not `440103.0`).
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A cell as text: whole numbers without `.0`, dates as ISO `2023-01-01` (never a serial
/// number like `44927`).
fn cell_text(c: &Data) -> Option<String> {
    match c {
        Data::Empty => None,
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(number_text(*f)),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            Some(if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
            })
        }
        Data::DateTime(d) => Some(number_text(d.as_f64())),
        Data::String(s) if s.is_empty() => None,
        Data::DateTimeIso(s) | Data::DurationIso(s) | Data::String(s) => Some(s.clone()),
        Data::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Data::Error(e) => Some(format!("{e}")),
    }
}

fn is_blank(c: &Data) -> bool {
    match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads one sheet (default: the first) of an `.xlsx` file. Columns named in `text_columns`
/// (unit key, period) are always text.
pub fn read(
    path: &Path,
    sheet: Option<&str>,
    intake: &Intake,
    text_columns: &[String],
) -> Result<Table, String> {
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|e| format!("cannot open workbook: {e}"))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) => {
            return Err(format!(
                "no sheet named `{s}` (sheets: {})",
                names.join(", ")
            ));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no sheet".to_string())?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| format!("sheet `{name}`: {e}"))?;
    let formulas = wb.worksheet_formula(&name).unwrap_or_default();
    let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
    let at = |r: u32, c: u32| cell_ref(&name, &column_letters(c as usize), r as usize + 1);
    let empty = Data::Empty;
    let get = |r: u32, c: u32| range.get_value((r, c)).unwrap_or(&empty);
    let (Some((r0, c0)), Some((r1, c1))) = (range.start(), range.end()) else {
        return Err(format!("sheet `{name}` is empty"));
    };
    let c1 = c1.max(formulas.end().map_or(0, |e| e.1));
    let r1 = r1.max(formulas.end().map_or(0, |e| e.0));
    let filled = |r: u32| (c0..=c1).filter(|&c| !is_blank(get(r, c))).count();
    let header = match intake.header_row {
        Some(h) => {
            let h = (h - 1) as u32;
            if h > r1 || filled(h) == 0 {
                return Err(format!(
                    "`header_row = {}`, but row {} of sheet `{name}` is empty",
                    h + 1,
                    h + 1
                ));
            }
            h
        }
        None => {
            let h = (r0..=r1)
                .find(|&r| filled(r) > 0)
                .ok_or_else(|| format!("sheet `{name}` is empty"))?;
            // A title above the header: one filled cell, then a row with several.
            if filled(h) == 1
                && let Some(next) = (h + 1..=r1).find(|&r| filled(r) > 0)
                && filled(next) > 1
            {
                let c = (c0..=c1).find(|&c| !is_blank(get(h, c))).unwrap_or(c0);
                return Err(format!(
                    "{} `{}` looks like a title, not a header row: add `header_row = {}` to the source",
                    at(h, c),
                    cell_text(get(h, c)).unwrap_or_default().trim(),
                    next + 1
                ));
            }
            h
        }
    };
    // Merged regions in the header or the data: only their first cell holds a value.
    let mut merged: Vec<String> = merges
        .iter()
        .filter(|m| m.end.0 >= header)
        .map(|m| {
            let region = format!(
                "{}:{}{}",
                at(m.start.0, m.start.1),
                column_letters(m.end.1 as usize),
                m.end.0 + 1
            );
            match cell_text(get(m.start.0, m.start.1)) {
                Some(v) => format!("{region} (`{}`)", v.trim()),
                None => region,
            }
        })
        .collect();
    if !merged.is_empty() {
        merged.sort();
        return Err(format!(
            "merged cells {}: only the first cell of a merged region holds its value, the others would read as empty; unmerge them and fill in every cell",
            some(&merged)
        ));
    }
    // Formulas whose value was never calculated (written by a program, not saved by Excel).
    let mut uncached: Vec<String> = formulas
        .used_cells()
        .filter_map(|(r, c, f)| {
            let (r, c) = (
                r as u32 + formulas.start()?.0,
                c as u32 + formulas.start()?.1,
            );
            (r >= header && !f.is_empty() && is_blank(get(r, c)))
                .then(|| format!("{} `={f}`", at(r, c)))
        })
        .collect();
    if !uncached.is_empty() {
        uncached.sort();
        return Err(format!(
            "formula cell(s) without a saved value: {}; the workbook was written by a program that does not calculate formulas: open and save it in Excel or WPS, or paste the values",
            some(&uncached)
        ));
    }
    let body: Vec<u32> = (header + 1..=r1).filter(|&r| filled(r) > 0).collect();
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut letters = Vec::new();
    let mut first_of: Vec<(String, u32)> = Vec::new();
    for c in c0..=c1 {
        let head = get(header, c);
        let title = match head {
            Data::String(s) => s.trim().to_string(),
            Data::Int(_) | Data::Float(_) => cell_text(head).unwrap_or_default(),
            Data::Empty => String::new(),
            other => {
                let kind = match other {
                    Data::Error(_) => "an Excel error",
                    Data::Bool(_) => "a boolean",
                    _ => "a date",
                };
                return Err(format!(
                    "{}: the header cell is {kind} (`{}`); a header names its column: write it as text{}",
                    at(header, c),
                    cell_text(other).unwrap_or_default(),
                    if kind == "a date" {
                        ", and put periods in a period column"
                    } else {
                        ""
                    }
                ));
            }
        };
        let cells: Vec<&Data> = body.iter().map(|&r| get(r, c)).collect();
        if title.is_empty() {
            match body.iter().find(|&&r| !is_blank(get(r, c))) {
                None => continue,
                Some(&r) => {
                    return Err(format!(
                        "{}: the header cell is empty, but the column has values (first {})",
                        at(header, c),
                        at(r, c)
                    ));
                }
            }
        }
        if let Some((_, other)) = first_of.iter().find(|(t, _)| *t == title) {
            return Err(format!(
                "{} and {} are both named `{title}`",
                at(header, *other),
                at(header, c)
            ));
        }
        first_of.push((title.clone(), c));
        for (i, cell) in cells.iter().enumerate() {
            if let Data::Error(e) = cell {
                return Err(format!(
                    "{} (column `{title}`): Excel error {e}",
                    at(body[i], c)
                ));
            }
        }
        let text = text_columns.contains(&title);
        if text {
            // A unit key or period typed as a decimal number cannot be read back as written:
            // 2023.10 and 2023.1 are the same number.
            let decimal: Vec<String> = cells
                .iter()
                .enumerate()
                .filter_map(|(i, cell)| match cell {
                    Data::Float(f) if f.fract() != 0.0 => Some(format!("{} `{f}`", at(body[i], c))),
                    _ => None,
                })
                .collect();
            if !decimal.is_empty() {
                return Err(format!(
                    "column `{title}` holds decimal numbers, which are ambiguous as unit keys or periods (2023.10 and 2023.1 are the same number): {}\nformat the column as text in Excel and type the values again, e.g. 2023-10",
                    some(&decimal)
                ));
            }
        }
        let numeric = cells
            .iter()
            .all(|c| matches!(c, Data::Int(_) | Data::Float(_)) || is_blank(c));
        let boolean = cells
            .iter()
            .all(|c| matches!(c, Data::Bool(_)) || is_blank(c));
        let any = cells.iter().any(|c| !is_blank(c));
        let (dt, array): (DataType, ArrayRef) = if !any {
            // An empty column is a column of missing numbers.
            (
                DataType::Float64,
                Arc::new(Float64Array::from(vec![None; cells.len()])),
            )
        } else if boolean && !text {
            let v: BooleanArray = cells
                .iter()
                .map(|c| match c {
                    Data::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect();
            (DataType::Boolean, Arc::new(v))
        } else if numeric && !text {
            let nums: Vec<Option<f64>> = cells
                .iter()
                .map(|c| match c {
                    Data::Int(i) => Some(*i as f64),
                    Data::Float(f) => Some(*f),
                    _ => None,
                })
                .collect();
            let integral = nums
                .iter()
                .flatten()
                .all(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
            if integral {
                let v: Int64Array = nums.iter().map(|o| o.map(|f| f as i64)).collect();
                (DataType::Int64, Arc::new(v))
            } else {
                (DataType::Float64, Arc::new(Float64Array::from(nums)))
            }
        } else {
            let v: StringArray = cells.iter().map(|c| cell_text(c)).collect();
            (DataType::Utf8, Arc::new(v))
        };
        fields.push(Field::new(&title, dt, true));
        columns.push(array);
        letters.push(column_letters(c as usize));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = if columns.is_empty() {
        RecordBatch::new_empty(schema)
    } else {
        RecordBatch::try_new(schema, columns).map_err(|e| format!("sheet `{name}`: {e}"))?
    };
    Ok(Table {
        batch,
        rows: body.iter().map(|&r| r as usize + 1).collect(),
        sheet: Some((name.clone(), letters)),
    })
}

/// At most five items, then "and N more".
fn some(items: &[String]) -> String {
    super::list_at_most(items, 5)
}

#[cfg(test)]
mod tests {
    use super::{column_letters, number_text};

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn whole_numbers_have_no_decimal_point() {
        assert_eq!(number_text(440103.0), "440103");
        assert_eq!(number_text(-2.0), "-2");
        assert_eq!(number_text(0.25), "0.25");
    }
}
