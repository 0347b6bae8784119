//! Reading CSV files and cleaning numbers as departments write them.
//!
//! A CSV file is decoded (UTF-8 by default, a declared `encoding` such as GBK otherwise), split
//! into records with the line each one starts on, and typed column by column. Then, for CSV and
//! Excel alike, every text column is looked at once more: numbers written as text (`1,234`,
//! `12%`, full-width `１２３`) and missing-value markers (`-`, `无`) are read as numbers under
//! `numbers = "lenient"` and are an error naming the cells otherwise.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use encoding_rs::{DecoderResult, Encoding};

use crate::framework::{Intake, NumberStyle};

/// Missing-value markers read as missing under `numbers = "lenient"` (compared after trimming,
/// ignoring ASCII case).
pub const MISSING_MARKERS: &[&str] = &[
    "-", "--", "—", "——", "–", "/", "NA", "N/A", "#N/A", "无", "空", "暂无",
];

/// A table as read from a file, with where each row and column came from.
#[derive(Debug)]
pub struct Table {
    /// The data; text columns are still text.
    pub batch: RecordBatch,
    /// Line (CSV) or sheet row (Excel), 1-based, of each data row.
    pub rows: Vec<usize>,
    /// Excel: the sheet and each column's letters; CSV: `None`.
    pub sheet: Option<(String, Vec<String>)>,
}

impl Table {
    /// Where a cell is: `line 7` for CSV, `cell Sheet1!C7` for Excel.
    pub fn cell(&self, row: usize, col: usize) -> String {
        match &self.sheet {
            None => format!("line {}", self.rows[row]),
            Some((sheet, letters)) => {
                format!("cell {}", cell_ref(sheet, &letters[col], self.rows[row]))
            }
        }
    }
}

/// Where the rows and columns of a table read from a file came from, kept after the table is
/// typed so that later checks (unit keys, periods) can name lines and cells.
#[derive(Clone, Debug)]
pub struct Origin {
    rows: Vec<usize>,
    sheet: Option<(String, Vec<String>)>,
}

impl Origin {
    /// The origin of `table`'s rows and columns.
    pub fn of(table: &Table) -> Self {
        Self {
            rows: table.rows.clone(),
            sheet: table.sheet.clone(),
        }
    }

    /// Where a cell is: `line 7` for CSV, `cell Sheet1!C7` for Excel.
    pub fn cell(&self, row: usize, col: usize) -> String {
        let Some(&line) = self.rows.get(row) else {
            return format!("row {}", row + 1);
        };
        match &self.sheet {
            Some((sheet, letters)) if col < letters.len() => {
                format!("cell {}", cell_ref(sheet, &letters[col], line))
            }
            Some((sheet, _)) => format!("sheet {sheet} row {line}"),
            None => format!("line {line}"),
        }
    }

    /// Where a row is: `line 7` for CSV, `sheet Sheet1 row 7` for Excel.
    pub fn row(&self, row: usize) -> String {
        match (&self.sheet, self.rows.get(row)) {
            (_, None) => format!("row {}", row + 1),
            (Some((sheet, _)), Some(line)) => format!("sheet {sheet} row {line}"),
            (None, Some(line)) => format!("line {line}"),
        }
    }
}

/// An Excel cell reference with its sheet: `Sheet1!C3`, or `'Sheet 1'!C3` when the sheet name
/// needs quotes.
pub fn cell_ref(sheet: &str, col: &str, row: usize) -> String {
    if sheet.chars().all(|c| c.is_alphanumeric() || c == '_') {
        format!("{sheet}!{col}{row}")
    } else {
        format!("'{}'!{col}{row}", sheet.replace('\'', "''"))
    }
}

/// The line (1-based) holding byte `offset` of `bytes`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Decodes a file's bytes to text: a byte-order mark wins; otherwise the declared encoding, or
/// UTF-8. Undecodable bytes are an error naming the line, with a hint when the file reads as GBK.
pub fn decode(bytes: &[u8], encoding: Option<&str>) -> Result<String, String> {
    let (enc, skip) = match Encoding::for_bom(bytes) {
        Some((e, n)) => (e, n),
        None => match encoding {
            Some(label) => (
                Encoding::for_label_no_replacement(label.as_bytes())
                    .ok_or_else(|| format!("unknown encoding `{label}`"))?,
                0,
            ),
            None => (encoding_rs::UTF_8, 0),
        },
    };
    let body = &bytes[skip..];
    let mut decoder = enc.new_decoder_without_bom_handling();
    let cap = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .ok_or("the file is too large to decode")?;
    let mut out = String::with_capacity(cap);
    let (result, read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::OutputFull => Err("the file could not be decoded (output full)".into()),
        DecoderResult::Malformed(bad, after) => {
            let at = skip + read - after as usize - bad as usize;
            let line = line_at(bytes, at);
            let shown: Vec<String> = bytes[at..(at + bad as usize).min(bytes.len())]
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            if encoding.is_none() && enc == encoding_rs::UTF_8 {
                let gbk = encoding_rs::GBK
                    .decode_without_bom_handling_and_without_replacement(bytes)
                    .is_some();
                let hint = if gbk {
                    "it reads as GBK/GB18030, the encoding of Chinese Excel's CSV export: add `encoding = \"gbk\"` to the source"
                } else {
                    "declare its encoding in the source, e.g. `encoding = \"gbk\"`, or save it as UTF-8"
                };
                Err(format!(
                    "line {line} is not UTF-8 (byte {}); {hint}",
                    shown.join(" ")
                ))
            } else {
                Err(format!(
                    "line {line} is not valid {} (byte {})",
                    enc.name(),
                    shown.join(" ")
                ))
            }
        }
    }
}

/// One CSV record with the line it starts on.
#[derive(Debug)]
pub struct Record {
    /// The 1-based line the record starts on.
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: Vec<String>,
}

/// Splits CSV text into records (RFC 4180: `,` separated, `"` quoted, `""` inside quotes,
/// line breaks inside quotes); blank lines give no record. The one CSV splitter of kapok: data
/// sources, bounds files and run tables are read with it.
pub fn records(text: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut start = 1usize;
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
                at_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                at_start = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if !at_start {
                    fields.push(std::mem::take(&mut field));
                    out.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                was_quoted = false;
                at_start = true;
                line += 1;
                start = line;
            }
            _ => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(format!(
            "line {start}: a quoted field is not closed (a `\"` is missing)"
        ));
    }
    if !at_start {
        fields.push(field);
        out.push(Record {
            line: start,
            fields,
        });
    }
    Ok(out)
}

/// Whether a CSV or sheet row holds nothing.
pub fn blank(fields: &[String]) -> bool {
    fields.iter().all(|f| f.trim().is_empty())
}

/// Reads a CSV file into a [`Table`]. Columns named in `text_columns` (unit key, period) stay
/// text; the others become Int64, Float64 or Boolean when every value is one, else text. A
/// column with no value at all is a Float64 column of missing values.
pub fn read_csv(path: &Path, intake: &Intake, text_columns: &[String]) -> Result<Table, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.is_empty() {
        return Err("the file is empty (0 bytes): it needs a header line and data rows".into());
    }
    let text = decode(&bytes, intake.encoding.as_deref())?;
    let mut recs = records(&text)?;
    let skip = intake.header_row.unwrap_or(1) - 1;
    if skip > 0 {
        recs.retain(|r| r.line > skip);
    }
    recs.retain(|r| !blank(&r.fields));
    if recs.is_empty() {
        return Err(match intake.header_row {
            Some(h) => format!("nothing from line {h} (`header_row`) on: no header, no data"),
            None => "the file holds no header and no data".into(),
        });
    }
    let header = recs.remove(0);
    if let Some(h) = intake.header_row
        && header.line != h
    {
        return Err(format!(
            "`header_row = {h}`, but line {h} is empty; the next line with values is {}",
            header.line
        ));
    }
    let names: Vec<String> = header.fields.iter().map(|f| f.trim().to_string()).collect();
    let width = names.len();
    let title_hint = |next: Option<&Record>| -> String {
        let filled = names.iter().filter(|n| !n.is_empty()).count();
        match next {
            Some(n)
                if filled == 1 && n.fields.iter().filter(|f| !f.trim().is_empty()).count() > 1 =>
            {
                format!(
                    "; line {} looks like a title (`{}`), not a header: add `header_row = {}` to the source",
                    header.line,
                    names
                        .iter()
                        .find(|n| !n.is_empty())
                        .map_or("", |s| s.as_str()),
                    n.line
                )
            }
            _ => String::new(),
        }
    };
    for r in &recs {
        if r.fields.len() > width && !blank(&r.fields[width..]) {
            return Err(format!(
                "line {} has {} fields, but the header (line {}) has {width}{}",
                r.line,
                r.fields.len(),
                header.line,
                title_hint(recs.first())
            ));
        }
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, name) in names.iter().enumerate() {
        let values: Vec<Option<&str>> = recs
            .iter()
            .map(|r| {
                r.fields
                    .get(j)
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            })
            .collect();
        if name.is_empty() {
            if values.iter().all(|v| v.is_none_or(|v| v.trim().is_empty())) {
                continue;
            }
            let title = title_hint(recs.first());
            return Err(match title.strip_prefix("; ") {
                Some(t) => t.to_string(),
                None => format!(
                    "line {}: the header of column {} is empty",
                    header.line,
                    j + 1
                ),
            });
        }
        if let Some(first) = seen.insert(name, j) {
            return Err(format!(
                "line {}: columns {} and {} are both named `{name}`",
                header.line,
                first + 1,
                j + 1
            ));
        }
        let (dt, array) = if text_columns.iter().any(|t| t == name) {
            (
                DataType::Utf8,
                Arc::new(StringArray::from(values)) as ArrayRef,
            )
        } else {
            type_column(&values)
        };
        fields.push(Field::new(name, dt, true));
        columns.push(array);
    }
    let rows = recs.iter().map(|r| r.line).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = if columns.is_empty() {
        RecordBatch::new_empty(schema)
    } else {
        RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())?
    };
    Ok(Table {
        batch,
        rows,
        sheet: None,
    })
}

/// Whether `s` is a plain decimal number as kapok writes and reads them: optional sign, digits
/// with an optional decimal point, optional exponent. (`inf`, `NaN`, `0x10` are not.)
fn plain_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Types one CSV column from its values (trimmed for the test, as a stray space is no reason to
/// read numbers as text).
fn type_column(values: &[Option<&str>]) -> (DataType, ArrayRef) {
    let present: Vec<&str> = values.iter().flatten().map(|v| v.trim()).collect();
    if present.iter().all(|v| v.is_empty()) {
        return (
            DataType::Float64,
            Arc::new(Float64Array::from(vec![None; values.len()])),
        );
    }
    fn trimmed<'a>(v: &Option<&'a str>) -> Option<&'a str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let int = |v: &str| {
        let body = v.strip_prefix('-').unwrap_or(v);
        (!body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()))
            .then(|| v.parse::<i64>().ok())
            .flatten()
    };
    let code = |v: &str| {
        let body = v.strip_prefix('-').unwrap_or(v);
        body.len() > 1 && body.starts_with('0') && body.bytes().all(|c| c.is_ascii_digit())
    };
    if present.iter().any(|v| code(v)) {
        // `0101` is a code, not the number 101.
        return (DataType::Utf8, Arc::new(StringArray::from(values.to_vec())));
    }
    if present.iter().all(|v| v.is_empty() || int(v).is_some()) {
        let a: Int64Array = values.iter().map(|v| trimmed(v).and_then(int)).collect();
        return (DataType::Int64, Arc::new(a));
    }
    if present
        .iter()
        .all(|v| v.is_empty() || plain_number(v).is_some())
    {
        let a: Float64Array = values
            .iter()
            .map(|v| trimmed(v).and_then(plain_number))
            .collect();
        return (DataType::Float64, Arc::new(a));
    }
    let boolean = |v: &str| match v.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    if present.iter().all(|v| v.is_empty() || boolean(v).is_some()) {
        let a: BooleanArray = values
            .iter()
            .map(|v| trimmed(v).and_then(boolean))
            .collect();
        return (DataType::Boolean, Arc::new(a));
    }
    (DataType::Utf8, Arc::new(StringArray::from(values.to_vec())))
}

/// How one text cell reads as a number.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Nothing, or a missing-value marker.
    Missing {
        /// The cell held a marker (not just blanks).
        marker: bool,
    },
    /// A number; `plain` when written as kapok expects (`1234`, `0.12`).
    Number {
        /// The value (`12%` → 0.12).
        value: f64,
        /// Written with a thousands separator.
        thousands: bool,
        /// Written as a percentage.
        percent: bool,
        /// Written with full-width characters.
        fullwidth: bool,
    },
    /// Not a number.
    Text,
}

impl Cell {
    fn is_plain(&self) -> bool {
        matches!(
            self,
            Cell::Number {
                thousands: false,
                percent: false,
                fullwidth: false,
                ..
            }
        )
    }
}

/// Reads one text cell. `lenient`: thousands separators (`1,234`), percentages (`12%` = 0.12),
/// full-width digits and signs (`１２３`, `－`, `．`) and [`MISSING_MARKERS`] are accepted;
/// `missing` lists further markers (accepted in any mode). Comparisons are after trimming
/// blanks, including the full-width space.
pub fn read_cell(raw: &str, lenient: bool, missing: &[String]) -> Cell {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if s.is_empty() {
        return Cell::Missing { marker: false };
    }
    if missing.iter().any(|m| m.trim() == s)
        || (lenient && MISSING_MARKERS.iter().any(|m| m.eq_ignore_ascii_case(s)))
    {
        return Cell::Missing { marker: true };
    }
    if let Some(value) = plain_number(s) {
        return Cell::Number {
            value,
            thousands: false,
            percent: false,
            fullwidth: false,
        };
    }
    if !lenient {
        return Cell::Text;
    }
    let mut fullwidth = false;
    let mut t = String::with_capacity(s.len());
    for c in s.chars() {
        let ascii = match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '－' | '−' => '-',
            '＋' => '+',
            '，' => ',',
            '％' => '%',
            _ => {
                t.push(c);
                continue;
            }
        };
        fullwidth |= c != '−';
        t.push(ascii);
    }
    let (body, percent) = match t.strip_suffix('%') {
        Some(b) => (b.trim_end(), true),
        None => (t.as_str(), false),
    };
    let thousands = body.contains(',');
    let body = if thousands {
        if !grouped(body) {
            return Cell::Text;
        }
        body.replace(',', "")
    } else {
        body.to_string()
    };
    match plain_number(&body) {
        Some(v) => Cell::Number {
            value: if percent { v / 100.0 } else { v },
            thousands,
            percent,
            fullwidth,
        },
        None => Cell::Text,
    }
}

/// `1,234` / `-12,345.6`: groups of three digits after the first group of one to three.
fn grouped(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let int = s.split('.').next().unwrap_or("");
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// At most five items, then "and N more".
fn some(items: &[String]) -> String {
    super::list_at_most(items, 5)
}

/// The numbers of a column of read cells, missing elsewhere.
fn floats(cells: &[Cell]) -> Float64Array {
    cells
        .iter()
        .map(|c| match c {
            Cell::Number { value, .. } => Some(*value),
            _ => None,
        })
        .collect()
}

/// Turns text columns that hold numbers into Float64 columns (under the source's rules), or
/// names the cells that stop it. Columns in `text_columns` are left alone. Returns the table
/// and, per converted column, its name and what was read how (for a warning).
pub fn numbers(
    table: Table,
    intake: &Intake,
    text_columns: &[String],
) -> Result<(RecordBatch, Vec<(String, String)>), String> {
    let lenient = intake.numbers == NumberStyle::Lenient;
    let schema = table.batch.schema();
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut warnings = Vec::new();
    for (c, field) in schema.fields().iter().enumerate() {
        let col = table.batch.column(c);
        let keep = |fields: &mut Vec<Field>, columns: &mut Vec<ArrayRef>| {
            fields.push(field.as_ref().clone());
            columns.push(col.clone());
        };
        if !matches!(field.data_type(), DataType::Utf8) || text_columns.contains(field.name()) {
            keep(&mut fields, &mut columns);
            continue;
        }
        let text = col.as_string::<i32>();
        let read_all = |lenient: bool| -> Vec<Cell> {
            (0..text.len())
                .map(|i| {
                    if text.is_null(i) {
                        Cell::Missing { marker: false }
                    } else {
                        read_cell(text.value(i), lenient, &intake.missing)
                    }
                })
                .collect()
        };
        let cells = read_all(lenient);
        // What the same cells would be under the lenient rules: to tell a number column
        // written in a department's style from a text column.
        let loose = read_all(true);
        let at = |i: usize| format!("{} `{}`", table.cell(i, c), text.value(i).trim());
        let count = |v: &[Cell], f: fn(&Cell) -> bool| v.iter().filter(|c| f(c)).count();
        let numbers = count(&cells, |c| matches!(c, Cell::Number { .. }));
        let texts: Vec<usize> = (0..cells.len())
            .filter(|&i| cells[i] == Cell::Text)
            .collect();
        let loose_numbers = count(&loose, |c| matches!(c, Cell::Number { .. }));
        let loose_texts = count(&loose, |c| *c == Cell::Text);
        let name = field.name();
        if texts.is_empty() && (numbers > 0 || lenient || !intake.missing.is_empty()) {
            // Every value is a number or missing: a number column.
            if lenient {
                let pct: Vec<usize> = (0..cells.len())
                    .filter(|&i| matches!(cells[i], Cell::Number { percent: true, .. }))
                    .collect();
                let bare: Vec<usize> = (0..cells.len())
                    .filter(|&i| {
                        matches!(cells[i], Cell::Number { percent: false, value, .. } if value != 0.0)
                    })
                    .collect();
                if !pct.is_empty() && !bare.is_empty() {
                    return Err(format!(
                        "column `{name}` mixes percentages and plain numbers: {} but {}; is `{}` meant as {} or {}%? write every value the same way",
                        at(pct[0]),
                        at(bare[0]),
                        text.value(bare[0]).trim(),
                        text.value(bare[0]).trim(),
                        text.value(bare[0]).trim(),
                    ));
                }
            }
            // Whole numbers written plainly are integers (Excel's "number stored as text"),
            // unless one has a leading zero: then they are codes (`0101`) and stay text.
            let whole = |i: usize| {
                let v = text.value(i).trim();
                let body = v.strip_prefix('-').unwrap_or(v);
                !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
            };
            let numbered: Vec<usize> = (0..cells.len())
                .filter(|&i| matches!(cells[i], Cell::Number { .. }))
                .collect();
            let integers = numbered.iter().all(|&i| cells[i].is_plain() && whole(i));
            let codes = integers
                && numbered.iter().any(|&i| {
                    let v = text.value(i).trim();
                    let body = v.strip_prefix('-').unwrap_or(v);
                    body.len() > 1 && body.starts_with('0')
                });
            if codes {
                keep(&mut fields, &mut columns);
                continue;
            }
            let array: ArrayRef = if integers && numbers > 0 {
                let v: Int64Array = (0..cells.len())
                    .map(|i| match cells[i] {
                        Cell::Number { .. } => text.value(i).trim().parse::<i64>().ok(),
                        _ => None,
                    })
                    .collect();
                if v.null_count()
                    != cells
                        .iter()
                        .filter(|c| !matches!(c, Cell::Number { .. }))
                        .count()
                {
                    // An integer beyond i64: read it as a float.
                    Arc::new(floats(&cells))
                } else {
                    Arc::new(v)
                }
            } else {
                Arc::new(floats(&cells))
            };
            let mut how = Vec::new();
            for (label, f) in [
                (
                    "with thousands separators",
                    (|c: &Cell| {
                        matches!(
                            c,
                            Cell::Number {
                                thousands: true,
                                ..
                            }
                        )
                    }) as fn(&Cell) -> bool,
                ),
                ("percentages (read as fractions: 12% = 0.12)", |c| {
                    matches!(c, Cell::Number { percent: true, .. })
                }),
                ("with full-width characters", |c| {
                    matches!(
                        c,
                        Cell::Number {
                            fullwidth: true,
                            ..
                        }
                    )
                }),
                ("missing-value marker(s)", |c| {
                    matches!(c, Cell::Missing { marker: true })
                }),
            ] {
                let n = count(&cells, f);
                if n > 0 {
                    let first = (0..cells.len()).find(|&i| f(&cells[i])).unwrap_or(0);
                    how.push(format!("{n} {label}, first {}", at(first)));
                }
            }
            if !how.is_empty() {
                warnings.push((name.to_string(), how.join("; ")));
            }
            fields.push(Field::new(name, array.data_type().clone(), true));
            columns.push(array);
            continue;
        }
        if !lenient && loose_texts == 0 && loose_numbers > 0 {
            // Numbers written in a department's style: say how to read them.
            let styled: Vec<String> = (0..cells.len())
                .filter(|&i| cells[i] == Cell::Text)
                .map(at)
                .collect();
            return Err(format!(
                "column `{name}` holds numbers written as text: {}\nadd `numbers = \"lenient\"` to the source to read thousands separators (1,234), percentages (12%), full-width digits (１２３) and missing-value markers ({}) as numbers, or fix the cells",
                some(&styled),
                MISSING_MARKERS.join(" ")
            ));
        }
        if numbers > texts.len() {
            let stray: Vec<String> = texts.iter().map(|&i| at(i)).collect();
            let readable = texts.iter().any(|&i| loose[i] != Cell::Text);
            let comma = texts.iter().any(|&i| text.value(i).contains([',', '，']));
            let hint = if comma {
                "a comma is read as a thousands separator only in groups of three (`1,234` under `numbers = \"lenient\"`); a decimal comma (`1,5`) is not read: write `1.5`"
            } else if !lenient && readable {
                "add `numbers = \"lenient\"` to the source for `1,234`, `12%` and markers such as `-`, or fix the cells"
            } else if lenient {
                "fix the cells, leave them empty, or list the marker in the source's `missing`"
            } else {
                "fix the cells, or leave them empty for a missing value (`numbers = \"lenient\"` also reads `-`, `—`, `/`, `NA`, `无` as missing)"
            };
            return Err(format!(
                "column `{name}` holds numbers but {} value(s) are not, so it would be read as text: {}\n{hint}",
                texts.len(),
                some(&stray)
            ));
        }
        keep(&mut fields, &mut columns);
    }
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())?;
    Ok((batch, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> Cell {
        Cell::Number {
            value: v,
            thousands: false,
            percent: false,
            fullwidth: false,
        }
    }

    fn value(c: &Cell) -> Option<f64> {
        match c {
            Cell::Number { value, .. } => Some(*value),
            _ => None,
        }
    }

    #[test]
    fn plain_cells() {
        assert_eq!(read_cell("1234", false, &[]), num(1234.0));
        assert_eq!(read_cell(" -0.5 ", false, &[]), num(-0.5));
        assert_eq!(read_cell("1e3", false, &[]), num(1000.0));
        assert_eq!(read_cell("", false, &[]), Cell::Missing { marker: false });
        assert_eq!(
            read_cell("\u{3000}", false, &[]),
            Cell::Missing { marker: false }
        );
        // Strict: department styles are text.
        for s in [
            "1,234",
            "12%",
            "１２３",
            "-",
            "NA",
            "无",
            "inf",
            "NaN",
            "0x10",
            "1.2.3",
        ] {
            assert_eq!(read_cell(s, false, &[]), Cell::Text, "{s}");
        }
        // Declared markers are missing in any mode.
        assert_eq!(
            read_cell(" 无 ", false, &["无".to_string()]),
            Cell::Missing { marker: true }
        );
    }

    #[test]
    fn lenient_cells() {
        let r = |s: &str| read_cell(s, true, &[]);
        assert_eq!(value(&r("1,234")), Some(1234.0));
        assert_eq!(value(&r("-12,345.5")), Some(-12345.5));
        assert_eq!(value(&r("1,234,567")), Some(1_234_567.0));
        assert_eq!(value(&r("12%")), Some(0.12));
        assert_eq!(value(&r("12.5 %")), Some(0.125));
        assert_eq!(value(&r("１２３")), Some(123.0));
        assert_eq!(value(&r("－１２．５")), Some(-12.5));
        assert_eq!(value(&r("１，２３４")), Some(1234.0));
        assert_eq!(value(&r("５０％")), Some(0.5));
        assert_eq!(value(&r("−3")), Some(-3.0));
        assert!(matches!(
            r("１２３"),
            Cell::Number {
                fullwidth: true,
                ..
            }
        ));
        assert!(matches!(
            r("1,234"),
            Cell::Number {
                thousands: true,
                percent: false,
                ..
            }
        ));
        assert!(matches!(
            r("−3"),
            Cell::Number {
                fullwidth: false,
                ..
            }
        ));
        for m in ["-", "—", "/", "NA", "n/a", "N/A", "#N/A", "无", "空", "--"] {
            assert_eq!(r(m), Cell::Missing { marker: true }, "{m}");
        }
        // Ambiguous or wrong groupings stay text: `1,2` may be a decimal comma.
        for s in [
            "1,2", "12,34", "1,2345", ",123", "1,,234", "abc", "12%%", "%", "1 234",
        ] {
            assert_eq!(r(s), Cell::Text, "{s}");
        }
    }

    #[test]
    fn grouping() {
        assert!(grouped("1,234"));
        assert!(grouped("999,999,999.25"));
        assert!(!grouped("1234,567"));
        assert!(!grouped("1,23"));
    }

    #[test]
    fn csv_records_know_their_lines() {
        let r = records("a,b\r\n1,\"x\ny\"\n\n2,\"say \"\"hi\"\"\"\n3,4").unwrap();
        let lines: Vec<usize> = r.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 5, 6]);
        assert_eq!(r[1].fields, vec!["1", "x\ny"]);
        assert_eq!(r[2].fields, vec!["2", "say \"hi\""]);
        assert!(records("a\n\"open").unwrap_err().contains("line 2"));
    }

    #[test]
    fn decoding() {
        let (gbk, _, bad) = encoding_rs::GBK.encode("code,街道\n1,茶滘\n");
        assert!(!bad);
        let e = decode(&gbk, None).unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("encoding = \"gbk\""),
            "{e}"
        );
        assert_eq!(decode(&gbk, Some("gbk")).unwrap(), "code,街道\n1,茶滘\n");
        assert_eq!(decode(b"\xEF\xBB\xBFa,b\n", None).unwrap(), "a,b\n");
        let mut broken = b"a\n1\n".to_vec();
        broken.push(0xFF);
        let e = decode(&broken, Some("gbk")).unwrap_err();
        assert!(e.contains("line 3") && e.contains("GBK"), "{e}");
    }
}
