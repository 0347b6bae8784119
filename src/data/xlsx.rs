//! Excel workbooks read with calamine into an Arrow record batch: the first row is the header;
//! a column of whole numbers becomes Int64, other numbers Float64, anything with text Utf8.

use std::path::Path;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx, open_workbook};
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Error;

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

/// Reads one sheet (default: the first) of an `.xlsx` file.
pub fn read(path: &Path, sheet: Option<&str>) -> Result<RecordBatch, Error> {
    let fail = |msg: String| Error::Data(format!("{}: {msg}", path.display()));
    let mut wb: Xlsx<_> =
        open_workbook(path).map_err(|e| fail(format!("cannot open workbook: {e}")))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) => {
            return Err(fail(format!(
                "no sheet named `{s}` (sheets: {})",
                names.join(", ")
            )));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| fail("the workbook has no sheet".into()))?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| fail(format!("sheet `{name}`: {e}")))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| fail(format!("sheet `{name}` is empty")))?
        .iter()
        .map(|c| c.to_string().trim().to_string())
        .collect();
    let body: Vec<&[Data]> = rows.collect();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (j, title) in header.iter().enumerate() {
        let cell_name = |i: usize| {
            format!(
                "{}{}",
                column_letters(col0 as usize + j),
                row0 as usize + i + 2
            )
        };
        if title.is_empty() {
            if body
                .iter()
                .all(|r| matches!(r.get(j), None | Some(Data::Empty)))
            {
                continue;
            }
            return Err(fail(format!(
                "sheet `{name}`, column {}: the header cell is empty",
                column_letters(col0 as usize + j)
            )));
        }
        let cells: Vec<&Data> = body
            .iter()
            .map(|r| r.get(j).unwrap_or(&Data::Empty))
            .collect();
        for (i, c) in cells.iter().enumerate() {
            if let Data::Error(e) = c {
                return Err(fail(format!(
                    "sheet `{name}`, cell {} (column `{title}`): Excel error {e}",
                    cell_name(i)
                )));
            }
        }
        let numeric = cells
            .iter()
            .all(|c| matches!(c, Data::Int(_) | Data::Float(_) | Data::Empty));
        let boolean = cells
            .iter()
            .all(|c| matches!(c, Data::Bool(_) | Data::Empty));
        let any = cells.iter().any(|c| !matches!(c, Data::Empty));
        let (dt, array): (DataType, ArrayRef) = if any && boolean {
            let v: BooleanArray = cells
                .iter()
                .map(|c| match c {
                    Data::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect();
            (DataType::Boolean, Arc::new(v))
        } else if numeric {
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
            if integral && any {
                let v: Int64Array = nums.iter().map(|o| o.map(|f| f as i64)).collect();
                (DataType::Int64, Arc::new(v))
            } else {
                (DataType::Float64, Arc::new(Float64Array::from(nums)))
            }
        } else {
            let v: StringArray = cells
                .iter()
                .map(|c| match c {
                    Data::Empty => None,
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                        Some(format!("{}", *f as i64))
                    }
                    other => Some(other.to_string()),
                })
                .collect();
            (DataType::Utf8, Arc::new(v))
        };
        if fields.iter().any(|f: &Field| f.name() == title) {
            return Err(fail(format!(
                "sheet `{name}`: two columns are named `{title}`"
            )));
        }
        fields.push(Field::new(title, dt, true));
        columns.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| fail(format!("sheet `{name}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::column_letters;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
