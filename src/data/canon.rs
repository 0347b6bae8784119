//! Unit keys and periods as departments write them, made canonical before any join: keys are
//! trimmed text (`"U03 "` is `U03`, an Excel number `440103` is `440103`, never `440103.0`),
//! periods are calendar periods in their canonical text form (`2023-1`, `2023/01` and
//! `2023年1月` are all `2023-01`; see [`crate::period`]).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};

use super::list;
use crate::period::{Granularity, Period};

/// What canonicalising one table found.
#[derive(Debug, Default)]
pub struct Report {
    /// Keys that had white space around them: `(row, key as written)`.
    pub trimmed: Vec<(usize, String)>,
    /// The periods' granularity, with the first period seen (for messages).
    pub granularity: Option<(Granularity, String)>,
    /// Problems that stop the run, each naming row and value.
    pub problems: Vec<String>,
}

/// Where row `i` (zero-based, of the data) is in the file: `line 5`, `cell C5`, `row 5`.
pub type Locate<'a> = &'a dyn Fn(usize, usize) -> String;

/// Rewrites the `key` and `period` columns of `batch` (when present) into canonical text.
/// `locate(column, row)` names a cell for messages.
pub fn canonicalise(
    batch: &RecordBatch,
    key: &str,
    period: Option<&str>,
    locate: Locate,
) -> (RecordBatch, Report) {
    let mut report = Report::default();
    let schema = batch.schema();
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (c, f) in schema.fields().iter().enumerate() {
        let col = batch.column(c);
        let at = |row: usize| locate(c, row);
        let new = if f.name() == key {
            Some(keys(col, &mut report))
        } else if Some(f.name().as_str()) == period {
            Some(periods(col, f.name(), &at, &mut report))
        } else {
            None
        };
        match new {
            Some(a) => {
                fields.push(Field::new(f.name(), DataType::Utf8, true));
                columns.push(Arc::new(a));
            }
            None => {
                fields.push(f.as_ref().clone());
                columns.push(col.clone());
            }
        }
    }
    let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .unwrap_or_else(|_| batch.clone());
    (out, report)
}

/// Calls `f(row, text)` with the text of each cell: integral floating-point numbers without
/// `.0`, others as Arrow prints them (`None` for a null, or when the column has no text form).
/// Text columns are read in place: no string is made per cell.
fn each_text(col: &ArrayRef, mut f: impl FnMut(usize, Option<&str>)) {
    if let DataType::Float32 | DataType::Float64 = col.data_type()
        && let Ok(num) = cast(col, &DataType::Float64)
    {
        let num = num.as_primitive::<Float64Type>();
        let mut text = String::new();
        for i in 0..num.len() {
            if num.is_null(i) {
                f(i, None);
                continue;
            }
            let v = num.value(i);
            text.clear();
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                write!(text, "{}", v as i64)
            } else {
                write!(text, "{v}")
            }
            .expect("writing to a String does not fail");
            f(i, Some(&text));
        }
        return;
    }
    match cast(col, &DataType::Utf8) {
        Ok(s) => {
            let s = s.as_string::<i32>();
            for i in 0..s.len() {
                f(i, s.is_valid(i).then(|| s.value(i)));
            }
        }
        Err(_) => (0..col.len()).for_each(|i| f(i, None)),
    }
}

fn keys(col: &ArrayRef, report: &mut Report) -> StringArray {
    let mut out = StringBuilder::with_capacity(col.len(), 8 * col.len());
    each_text(col, |i, v| match v {
        Some(s) => {
            let t = s.trim();
            if t.len() != s.len() && !t.is_empty() {
                report.trimmed.push((i, s.to_string()));
            }
            out.append_value(t);
        }
        None => out.append_null(),
    });
    out.finish()
}

fn periods(
    col: &ArrayRef,
    name: &str,
    at: &dyn Fn(usize) -> String,
    report: &mut Report,
) -> StringArray {
    let fractional = matches!(col.data_type(), DataType::Float32 | DataType::Float64);
    let mut bad: Vec<String> = Vec::new();
    let mut mixed: Option<String> = None;
    // Each distinct text parsed once: a panel has few periods and many rows.
    let mut parsed: HashMap<String, Option<(Granularity, String)>> = HashMap::new();
    let mut out = StringBuilder::with_capacity(col.len(), 8 * col.len());
    each_text(col, |i, v| {
        let Some(s) = v.filter(|s| !s.trim().is_empty()) else {
            out.append_null();
            return;
        };
        if fractional && s.contains('.') {
            bad.push(format!("{} `{s}`", at(i)));
            out.append_null();
            return;
        }
        if !parsed.contains_key(s) {
            let p = Period::parse(s)
                .ok()
                .map(|p| (p.granularity(), p.to_string()));
            parsed.insert(s.to_string(), p);
        }
        let Some((g, canonical)) = &parsed[s] else {
            bad.push(format!("{} `{s}`", at(i)));
            out.append_null();
            return;
        };
        match &report.granularity {
            None => report.granularity = Some((*g, format!("{} `{s}`", at(i)))),
            Some((first, seen)) if first != g && mixed.is_none() => {
                mixed = Some(format!(
                    "column `{name}` mixes {} ({seen}) and {} ({} `{s}`)",
                    first.name(),
                    g.name(),
                    at(i)
                ));
            }
            _ => {}
        }
        out.append_value(canonical);
    });
    let out = out.finish();
    if !bad.is_empty() {
        let hint = if fractional {
            "; periods stored as decimal numbers are ambiguous (2023.10 reads as 2023.1): store them as text"
        } else {
            ""
        };
        report.problems.push(format!(
            "column `{name}` has {} value(s) that are not periods: {}\nwrite months as 2023-01 (or 2023-1, 2023/1, 202301, 2023年1月), quarters as 2023-Q1 (or 2023年一季度), years as 2023{hint}",
            bad.len(),
            list(&bad)
        ));
    }
    if let Some(m) = mixed {
        report
            .problems
            .push(format!("{m}; one framework uses one kind of period"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(cols).unwrap()
    }

    fn text(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        each_text(b.column_by_name(name).unwrap(), |_, v| {
            out.push(v.map(str::to_string))
        });
        out
    }

    #[test]
    fn keys_are_trimmed_and_numbers_have_no_decimal_point() {
        let b = batch(vec![
            (
                "code",
                Arc::new(StringArray::from(vec![Some("U01"), Some(" U03 "), None])) as ArrayRef,
            ),
            (
                "month",
                Arc::new(StringArray::from(vec!["2023-1", "2023/10", "2023年2月"])),
            ),
            ("x", Arc::new(Float64Array::from(vec![1.5, 2.0, 3.0]))),
        ]);
        let loc = |_c: usize, r: usize| format!("line {}", r + 2);
        let (out, rep) = canonicalise(&b, "code", Some("month"), &loc);
        assert_eq!(
            text(&out, "code"),
            [Some("U01".into()), Some("U03".into()), None]
        );
        assert_eq!(
            text(&out, "month"),
            [
                Some("2023-01".into()),
                Some("2023-10".into()),
                Some("2023-02".into())
            ]
        );
        assert_eq!(rep.trimmed, [(1, " U03 ".to_string())]);
        assert!(rep.problems.is_empty());
        assert_eq!(rep.granularity.unwrap().0, Granularity::Month);
        // Other columns are untouched.
        assert_eq!(out.column(2).data_type(), &DataType::Float64);

        let b = batch(vec![(
            "code",
            Arc::new(Float64Array::from(vec![440103.0, 440104.0])) as ArrayRef,
        )]);
        let (out, _) = canonicalise(&b, "code", None, &loc);
        assert_eq!(
            text(&out, "code"),
            [Some("440103".into()), Some("440104".into())]
        );
    }

    #[test]
    fn bad_and_mixed_periods_are_named() {
        let loc = |_c: usize, r: usize| format!("line {}", r + 2);
        let b = batch(vec![(
            "month",
            Arc::new(StringArray::from(vec!["2023-01", "2023-13", "2023-Q1"])) as ArrayRef,
        )]);
        let (_, rep) = canonicalise(&b, "code", Some("month"), &loc);
        assert_eq!(rep.problems.len(), 2, "{:?}", rep.problems);
        assert!(
            rep.problems[0].contains("line 3 `2023-13`"),
            "{}",
            rep.problems[0]
        );
        assert!(
            rep.problems[1]
                .contains("mixes months (line 2 `2023-01`) and quarters (line 4 `2023-Q1`)"),
            "{}",
            rep.problems[1]
        );

        let b = batch(vec![(
            "month",
            Arc::new(Float64Array::from(vec![2023.1, 2023.0])) as ArrayRef,
        )]);
        let (_, rep) = canonicalise(&b, "code", Some("month"), &loc);
        assert!(
            rep.problems[0].contains("line 2 `2023.1`") && rep.problems[0].contains("ambiguous"),
            "{:?}",
            rep.problems
        );

        let b = batch(vec![(
            "year",
            Arc::new(Int64Array::from(vec![2022, 2023])) as ArrayRef,
        )]);
        let (out, rep) = canonicalise(&b, "code", Some("year"), &loc);
        assert!(rep.problems.is_empty());
        assert_eq!(
            text(&out, "year"),
            [Some("2022".into()), Some("2023".into())]
        );
    }
}
