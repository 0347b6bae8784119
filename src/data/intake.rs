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

use datafusion::arrow::array::BooleanBufferBuilder;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringBuilder,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use encoding_rs::{DecoderResult, Encoding};

use super::chunks::Chunks;
use rayon::prelude::*;

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
            let reads_as_gbk = || {
                encoding_rs::GBK
                    .decode_without_bom_handling_and_without_replacement(bytes)
                    .is_some()
            };
            Err(malformed(
                &bytes[at..(at + bad as usize).min(bytes.len())],
                line_at(bytes, at),
                enc,
                encoding,
                reads_as_gbk,
            ))
        }
    }
}

/// The error of `bad` bytes on `line` that do not decode from `enc` (`declared`, or UTF-8 when
/// nothing was declared), with a hint when the file `reads_as_gbk`.
pub(crate) fn malformed(
    bad: &[u8],
    line: usize,
    enc: &'static Encoding,
    declared: Option<&str>,
    reads_as_gbk: impl FnOnce() -> bool,
) -> String {
    let shown: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    if declared.is_none() && enc == encoding_rs::UTF_8 {
        let hint = if reads_as_gbk() {
            "it reads as GBK/GB18030, the encoding of Chinese Excel's CSV export: add `encoding = \"gbk\"` to the source"
        } else {
            "declare its encoding in the source, e.g. `encoding = \"gbk\"`, or save it as UTF-8"
        };
        format!(
            "line {line} is not UTF-8 (byte {}); {hint}",
            shown.join(" ")
        )
    } else {
        format!(
            "line {line} is not valid {} (byte {})",
            enc.name(),
            shown.join(" ")
        )
    }
}

/// [`decode`] taking the file's bytes: UTF-8 without a byte-order mark becomes the text
/// without a copy.
pub fn decode_owned(bytes: Vec<u8>, encoding: Option<&str>) -> Result<String, String> {
    let utf8 = encoding.is_none_or(|label| {
        Encoding::for_label_no_replacement(label.as_bytes()) == Some(encoding_rs::UTF_8)
    });
    if !utf8 || Encoding::for_bom(&bytes).is_some() {
        return decode(&bytes, encoding);
    }
    String::from_utf8(bytes).or_else(|e| decode(e.as_bytes(), encoding))
}

/// One CSV record with the line it starts on.
#[derive(Debug)]
pub struct Record {
    /// The 1-based line the record starts on.
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: Vec<String>,
}

/// CSV text split into records, held flat: the unquoted fields one after another in one
/// buffer, with where each field ends and where each record's fields begin. No string is
/// allocated per field, so a file of millions of cells splits in one pass over its bytes.
#[derive(Debug, Default)]
pub struct Records {
    /// Every field's unquoted text, one after another.
    text: String,
    /// Where each field ends in `text`, from its record's start (it starts where the one
    /// before ends): four bytes a field, where a file of millions of cells has many.
    ends: Vec<u32>,
    /// Index in `ends` of each record's first field, and one past the last record's last.
    firsts: Vec<usize>,
    /// Where each record starts in `text`.
    starts: Vec<usize>,
    /// The 1-based line each record starts on.
    lines: Vec<usize>,
}

impl Records {
    /// Splits CSV text (RFC 4180: `,` separated, `"` quoted, `""` inside quotes, line breaks
    /// inside quotes); blank lines give no record. The one CSV splitter of kapok: data sources,
    /// bounds files and run tables are read with it.
    pub fn split(text: &str) -> Result<Self, String> {
        Self::split_owned(text.to_owned())
    }

    /// [`Records::split`] of text the caller gives up: the fields are written over the text
    /// itself, so a large file is held once, not once as read and again as fields.
    pub fn split_owned(text: String) -> Result<Self, String> {
        Self::split_from(text, 1).map(|(records, _)| records)
    }

    /// [`Records::split_owned`] of text whose first line is line `first_line` of its file,
    /// with the line that text following it would start on.
    pub fn split_from(text: String, first_line: usize) -> Result<(Self, usize), String> {
        // Every byte that delimits is ASCII and no byte of a multi-byte UTF-8 sequence is, so
        // the text is split byte by byte and each field is whole UTF-8. Fields are written at
        // `w`, which never passes the byte being read (`i`): quotes and delimiters are read
        // and not written, and a field's bytes are moved down as they are.
        let mut bytes = text.into_bytes();
        let mut w = 0usize;
        let mut ends: Vec<u32> = Vec::new();
        let mut firsts = vec![0];
        let mut starts = Vec::new();
        // Where the record being read starts, and a field's end from there.
        let mut record = 0usize;
        let from_record = |w: usize, record: usize, line: usize| {
            u32::try_from(w - record)
                .map_err(|_| format!("line {line}: a record of more than 4 GiB of text"))
        };
        let mut lines = Vec::new();
        let (mut line, mut start) = (first_line, first_line);
        let (mut quoted, mut was_quoted, mut at_start) = (false, false, true);
        let mut field_start = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            if quoted {
                // Up to the next quote or line break in one move.
                let k = memchr::memchr2(b'"', b'\n', &bytes[i..]).unwrap_or(bytes.len() - i);
                bytes.copy_within(i..i + k, w);
                w += k;
                i += k;
                let Some(&c) = bytes.get(i) else { break };
                i += 1;
                if c == b'\n' {
                    line += 1;
                    bytes[w] = c;
                    w += 1;
                } else if bytes.get(i) == Some(&b'"') {
                    i += 1;
                    bytes[w] = b'"';
                    w += 1;
                } else {
                    quoted = false;
                }
                continue;
            }
            let c = bytes[i];
            match c {
                b'"' if w == field_start && !was_quoted => {
                    i += 1;
                    quoted = true;
                    was_quoted = true;
                    at_start = false;
                }
                b',' => {
                    i += 1;
                    ends.push(from_record(w, record, start)?);
                    field_start = w;
                    was_quoted = false;
                    at_start = false;
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 1,
                b'\n' | b'\r' => {
                    i += 1;
                    if !at_start {
                        ends.push(from_record(w, record, start)?);
                        field_start = w;
                        firsts.push(ends.len());
                        starts.push(record);
                        lines.push(start);
                        record = w;
                    }
                    was_quoted = false;
                    at_start = true;
                    line += 1;
                    start = line;
                }
                _ => {
                    // The rest of the field in one move: a quote inside it is text.
                    let k =
                        memchr::memchr3(b',', b'\n', b'\r', &bytes[i..]).unwrap_or(bytes.len() - i);
                    bytes.copy_within(i..i + k, w);
                    w += k;
                    i += k;
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
            ends.push(from_record(w, record, start)?);
            firsts.push(ends.len());
            starts.push(record);
            lines.push(start);
        }
        bytes.truncate(w);
        bytes.shrink_to_fit();
        let text = String::from_utf8(bytes)
            .map_err(|e| format!("the CSV text split inside a character ({e})"))?;
        let records = Self {
            text,
            ends,
            firsts,
            starts,
            lines,
        };
        Ok((records, line))
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The 1-based line record `r` starts on.
    pub fn line(&self, r: usize) -> usize {
        self.lines[r]
    }

    /// How many fields record `r` has.
    pub fn width(&self, r: usize) -> usize {
        self.firsts[r + 1] - self.firsts[r]
    }

    /// Field `j` of record `r`, if the record has that many.
    pub fn field(&self, r: usize, j: usize) -> Option<&str> {
        let k = self.firsts[r] + j;
        if k >= self.firsts[r + 1] {
            return None;
        }
        let from = if j == 0 { 0 } else { self.ends[k - 1] as usize };
        let base = self.starts[r];
        Some(&self.text[base + from..base + self.ends[k] as usize])
    }

    /// The fields of record `r`.
    pub fn fields(&self, r: usize) -> impl Iterator<Item = &str> + '_ {
        (0..self.width(r)).filter_map(move |j| self.field(r, j))
    }

    /// Whether record `r` holds nothing from field `from` on.
    pub fn blank_from(&self, r: usize, from: usize) -> bool {
        self.fields(r).skip(from).all(|f| f.trim().is_empty())
    }
}

/// Splits CSV text into records, each with its fields as strings: [`Records::split`] for small
/// files (bounds, run tables) where owning the fields is simpler.
pub fn records(text: &str) -> Result<Vec<Record>, String> {
    let split = Records::split(text)?;
    Ok((0..split.len())
        .map(|r| Record {
            line: split.line(r),
            fields: split.fields(r).map(str::to_string).collect(),
        })
        .collect())
}

/// Whether a CSV or sheet row holds nothing.
pub fn blank(fields: &[String]) -> bool {
    fields.iter().all(|f| f.trim().is_empty())
}

/// Bytes of a CSV file read, decoded, split and typed at a time: a large file is held a few
/// pieces at a time, besides the table being built.
const PIECE: usize = 4 << 20;

/// The fewest records typed by one task of the thread pool.
const BLOCK: usize = 1 << 9;

/// Reads a CSV file into a [`Table`]. Columns named in `text_columns` (unit key, period) stay
/// text; the others become Int64, Float64 or Boolean when every value is one, else text. A
/// column with no value at all is a Float64 column of missing values.
///
/// The file is read in pieces of whole records (see `data::chunks::Chunks`), the
/// next read while the last is typed; a column found to be text after some numbers is read
/// again, alone, at the end.
pub fn read_csv(path: &Path, intake: &Intake, text_columns: &[String]) -> Result<Table, String> {
    read_csv_in_pieces(path, intake, text_columns, PIECE)
}

/// [`read_csv`] reading `piece` bytes at a time.
fn read_csv_in_pieces(
    path: &Path,
    intake: &Intake,
    text_columns: &[String],
    piece: usize,
) -> Result<Table, String> {
    let chunks = Chunks::open(path, intake.encoding.as_deref(), piece)?;
    let skip = intake.header_row.unwrap_or(1) - 1;
    let reading = std::thread::scope(|scope| -> Result<Option<Reading>, String> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let mut chunks = chunks;
            while let Some(piece) = chunks.next() {
                let stop = piece.is_err();
                if tx.send((piece, chunks.fraction_read())).is_err() || stop {
                    break;
                }
            }
        });
        let mut reading: Option<Reading> = None;
        for (piece, fraction) in rx {
            let recs = piece?;
            let mut kept = kept_records(&recs, skip);
            let reading = match reading.as_mut() {
                Some(reading) => reading,
                None if kept.is_empty() => continue,
                None => {
                    let header = kept.remove(0);
                    reading.insert(Reading::new(
                        &recs,
                        header,
                        intake.header_row,
                        text_columns,
                    )?)
                }
            };
            reading.take(&recs, &kept, fraction)?;
        }
        Ok(reading)
    })?;
    let Some(reading) = reading else {
        return Err(match intake.header_row {
            Some(h) => format!("nothing from line {h} (`header_row`) on: no header, no data"),
            None => "the file holds no header and no data".into(),
        });
    };
    reading.finish(
        || Chunks::open(path, intake.encoding.as_deref(), piece),
        skip,
    )
}

/// The records of a piece that are read: from the header line on, not blank.
fn kept_records(recs: &Records, skip: usize) -> Vec<usize> {
    (0..recs.len())
        .filter(|&r| recs.line(r) > skip && !recs.blank_from(r, 0))
        .collect()
}

/// A CSV file being read piece by piece, from its header on.
struct Reading {
    names: Vec<String>,
    header_line: usize,
    /// The first data row's line and how many of its fields are filled (for the hint that the
    /// header is a title).
    first: Option<(usize, usize)>,
    /// One per header field.
    columns: Vec<Column>,
    /// The line of each data row.
    rows: Vec<usize>,
    /// Whether room was made for the rows the file is guessed to hold.
    reserved: bool,
}

/// A column of a CSV file as it is read.
enum Column {
    /// Nothing but numbers (or nothing) so far: what typing learnt, and the numbers.
    Numbers { learnt: Learnt, floats: Vec<f64> },
    /// Text kept as read: a column named as text (unit key, period), or one whose first filled
    /// value is not a number; `code` and `boolean` as in [`Learnt`].
    Text {
        values: StringBuilder,
        declared: bool,
        code: bool,
        boolean: bool,
    },
    /// Text after numbers: read again, alone, when the rest of the file has been read.
    Again,
    /// A column with an empty header: whether any of its values is filled.
    Unnamed { filled: bool },
}

impl Reading {
    /// Reading from the header, record `header` of `recs`.
    fn new(
        recs: &Records,
        header: usize,
        header_row: Option<usize>,
        text_columns: &[String],
    ) -> Result<Self, String> {
        let header_line = recs.line(header);
        if let Some(h) = header_row
            && header_line != h
        {
            return Err(format!(
                "`header_row = {h}`, but line {h} is empty; the next line with values is {header_line}"
            ));
        }
        let names: Vec<String> = recs.fields(header).map(|f| f.trim().to_string()).collect();
        let columns = names
            .iter()
            .map(|name| {
                if name.is_empty() {
                    Column::Unnamed { filled: false }
                } else if text_columns.iter().any(|t| t == name) {
                    Column::Text {
                        values: StringBuilder::new(),
                        declared: true,
                        code: false,
                        boolean: false,
                    }
                } else {
                    Column::Numbers {
                        learnt: Learnt::new(0),
                        floats: Vec::new(),
                    }
                }
            })
            .collect();
        Ok(Self {
            names,
            header_line,
            first: None,
            columns,
            rows: Vec::new(),
            reserved: false,
        })
    }

    /// `; line 1 looks like a title …` when the header has one name and the first data row
    /// more than one value, else nothing.
    fn title_hint(&self) -> String {
        let filled = self.names.iter().filter(|n| !n.is_empty()).count();
        match self.first {
            Some((line, values)) if filled == 1 && values > 1 => format!(
                "; line {} looks like a title (`{}`), not a header: add `header_row = {line}` to the source",
                self.header_line,
                self.names
                    .iter()
                    .find(|n| !n.is_empty())
                    .map_or("", |s| s.as_str()),
            ),
            _ => String::new(),
        }
    }

    /// Takes the data records `kept` of `recs`, a piece ending `fraction` of the way through
    /// the file. A record with more fields than the header (but blanks), or with fewer (when a
    /// named column is left off its end), is an error naming its line: a missing value is an
    /// empty field, and a line cut short is not read as missing values.
    fn take(&mut self, recs: &Records, kept: &[usize], fraction: f64) -> Result<(), String> {
        let width = self.names.len();
        if self.first.is_none()
            && let Some(&r) = kept.first()
        {
            let filled = recs.fields(r).filter(|f| !f.trim().is_empty()).count();
            self.first = Some((recs.line(r), filled));
        }
        for &r in kept {
            if recs.width(r) > width && !recs.blank_from(r, width) {
                return Err(format!(
                    "line {} has {} fields, but the header (line {}) has {width}{}",
                    recs.line(r),
                    recs.width(r),
                    self.header_line,
                    self.title_hint()
                ));
            }
            if let Some(name) = self
                .names
                .get(recs.width(r)..)
                .and_then(|rest| rest.iter().find(|n| !n.is_empty()))
            {
                return Err(format!(
                    "line {} has {} fields, but the header (line {}) has {width}: it ends \
                     before column `{name}`. A line cut short, or a line break outside quotes? \
                     A missing value is an empty field (`,,`), not one left off the end",
                    recs.line(r),
                    recs.width(r),
                    self.header_line,
                ));
            }
        }
        let before = self.rows.len();
        self.rows.extend(kept.iter().map(|&r| recs.line(r)));
        let reserve = (!self.reserved && fraction > 0.0)
            .then(|| (self.rows.len() as f64 / fraction * 1.02) as usize + 16);
        if let Some(rows) = reserve {
            self.reserve(rows);
        }
        for (j, column) in self.columns.iter_mut().enumerate() {
            match column {
                Column::Text {
                    values,
                    declared,
                    code,
                    boolean,
                } => push_text(
                    values,
                    recs,
                    kept,
                    j,
                    (!*declared).then_some((code, boolean)),
                ),
                Column::Unnamed { filled } => {
                    *filled = *filled
                        || kept
                            .iter()
                            .any(|&r| recs.field(r, j).is_some_and(|v| !v.trim().is_empty()));
                }
                Column::Numbers { .. } | Column::Again => {}
            }
        }
        self.type_numbers(recs, kept, before);
        if let Some(rows) = reserve {
            self.reserve_ints(rows);
        }
        Ok(())
    }

    /// Makes room for `rows` rows in every column of numbers and in the rows' lines.
    fn reserve(&mut self, rows: usize) {
        self.reserved = true;
        let more = rows.saturating_sub(self.rows.len());
        self.rows.reserve(more);
        for column in &mut self.columns {
            if let Column::Numbers { learnt, floats } = column {
                floats.reserve(rows.saturating_sub(floats.len()));
                learnt
                    .valid
                    .reserve(rows.saturating_sub(learnt.valid.len()));
            }
        }
    }

    /// Makes room for `rows` whole numbers in every column still of whole numbers.
    fn reserve_ints(&mut self, rows: usize) {
        for column in &mut self.columns {
            if let Column::Numbers { learnt, .. } = column
                && learnt.int
            {
                learnt.ints.reserve(rows.saturating_sub(learnt.ints.len()));
            }
        }
    }

    /// Types the columns of numbers over the records `kept` of `recs`, in parallel over blocks
    /// of records; a column whose values stop being numbers becomes text, kept from here when
    /// every value before this piece was empty, else read again at the end. `before` rows came
    /// before this piece.
    fn type_numbers(&mut self, recs: &Records, kept: &[usize], before: usize) {
        let cols: Vec<usize> = (0..self.columns.len())
            .filter(|&j| matches!(self.columns[j], Column::Numbers { .. }))
            .collect();
        let mut tails: Vec<&mut [f64]> = Vec::with_capacity(cols.len());
        for column in self.columns.iter_mut() {
            if let Column::Numbers { floats, .. } = column {
                floats.resize(before + kept.len(), 0.0);
                tails.push(&mut floats[before..]);
            }
        }
        // Two blocks a thread, so that no thread waits long for the last.
        let block = kept
            .len()
            .div_ceil(2 * rayon::current_num_threads())
            .max(BLOCK);
        let learnt = type_columns_in_blocks(recs, kept, &cols, tails, block);
        for (&j, piece) in cols.iter().zip(learnt) {
            let Column::Numbers { learnt, .. } = &mut self.columns[j] else {
                continue;
            };
            let untouched = !learnt.nonblank && !learnt.spaced;
            learnt.append(piece);
            if !learnt.code && (learnt.int || learnt.float) {
                continue;
            }
            self.columns[j] = if untouched {
                let mut values = StringBuilder::new();
                values.append_nulls(before);
                let (mut code, mut boolean) = (false, true);
                push_text(&mut values, recs, kept, j, Some((&mut code, &mut boolean)));
                Column::Text {
                    values,
                    declared: false,
                    code,
                    boolean,
                }
            } else {
                Column::Again
            };
        }
    }

    /// The header's error, once every value has been read: an empty header over values, or a
    /// name given twice (the first in the header's order).
    fn check_header(&self) -> Result<(), String> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (j, name) in self.names.iter().enumerate() {
            if name.is_empty() {
                if let Column::Unnamed { filled: true } = self.columns[j] {
                    let title = self.title_hint();
                    return Err(match title.strip_prefix("; ") {
                        Some(t) => t.to_string(),
                        None => format!(
                            "line {}: the header of column {} is empty",
                            self.header_line,
                            j + 1
                        ),
                    });
                }
                continue;
            }
            if let Some(first) = seen.insert(name, j) {
                return Err(format!(
                    "line {}: columns {} and {} are both named `{name}`",
                    self.header_line,
                    first + 1,
                    j + 1
                ));
            }
        }
        Ok(())
    }

    /// The table: the header checked, the columns read again that need it (`again` opens the
    /// file anew; `skip` as in [`kept_records`]), every column typed.
    fn finish(
        self,
        again: impl FnOnce() -> Result<Chunks, String>,
        skip: usize,
    ) -> Result<Table, String> {
        self.check_header()?;
        let again_cols: Vec<usize> = (0..self.columns.len())
            .filter(|&j| matches!(self.columns[j], Column::Again))
            .collect();
        let mut texts = if again_cols.is_empty() {
            Vec::new()
        } else {
            read_again(again()?, skip, &again_cols)?
        }
        .into_iter();
        let n = self.rows.len();
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (name, column) in self.names.iter().zip(self.columns) {
            let (dt, array): (DataType, ArrayRef) = match column {
                Column::Unnamed { .. } => continue,
                Column::Numbers { learnt, floats } => learnt.array(floats, n),
                Column::Text {
                    values,
                    declared,
                    code,
                    boolean,
                } => text_array(values, !declared && !code && boolean),
                Column::Again => {
                    let (values, code, boolean) =
                        texts.next().ok_or("a column read again is missing")?;
                    text_array(values, !code && boolean)
                }
            };
            fields.push(Field::new(name, dt, true));
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(schema)
        } else {
            RecordBatch::try_new(schema, arrays).map_err(|e| e.to_string())?
        };
        Ok(Table {
            batch,
            rows: self.rows,
            sheet: None,
        })
    }
}

/// The Arrow column of text `values`: `true` and `false` when `boolean`, else the text.
fn text_array(mut values: StringBuilder, boolean: bool) -> (DataType, ArrayRef) {
    let values = values.finish();
    if boolean {
        let truths: BooleanArray = values
            .iter()
            .map(|v| v.map(str::trim).and_then(truth))
            .collect();
        (DataType::Boolean, Arc::new(truths))
    } else {
        (DataType::Utf8, Arc::new(values))
    }
}

/// A column read again: its text, whether some value is a code and whether every value is
/// `true` or `false`.
type Again = (StringBuilder, bool, bool);

/// Columns `cols` of every data row, read again from `chunks`, the file from its start (the
/// header is the first record read, as the first time).
fn read_again(chunks: Chunks, skip: usize, cols: &[usize]) -> Result<Vec<Again>, String> {
    let mut texts: Vec<Again> = cols
        .iter()
        .map(|_| (StringBuilder::new(), false, true))
        .collect();
    let mut header = true;
    for piece in chunks {
        let recs = piece?;
        let mut kept = kept_records(&recs, skip);
        if header && !kept.is_empty() {
            kept.remove(0);
            header = false;
        }
        for ((values, code, boolean), &j) in texts.iter_mut().zip(cols) {
            push_text(values, &recs, &kept, j, Some((code, boolean)));
        }
    }
    Ok(texts)
}

/// Appends field `j` of the records `kept` to `values` as read (an empty field is missing);
/// with `learn`, whether some value is a code and whether every value is `true` or `false`.
fn push_text(
    values: &mut StringBuilder,
    recs: &Records,
    kept: &[usize],
    j: usize,
    learn: Option<(&mut bool, &mut bool)>,
) {
    for &r in kept {
        values.append_option(recs.field(r, j).filter(|v| !v.is_empty()));
    }
    if let Some((code, boolean)) = learn {
        for v in kept
            .iter()
            .filter_map(|&r| recs.field(r, j))
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            *code |= is_code(v);
            *boolean &= truth(v).is_some();
        }
    }
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

/// What one CSV column can still be, learnt value by value as the records are read in file
/// order, its numbers parsed as they come: the rules of [`type_column`] without holding the
/// column's text. Reading row by row keeps the file's text in cache; typing column by column
/// would touch every cell of a large file once per column. A block of records writes its
/// numbers into its rows of the column's one array ([`Typing`]); what it learnt is joined in
/// order.
#[derive(Debug)]
struct Learnt {
    /// Some value is not blank.
    nonblank: bool,
    /// Some value is blank but not empty (spaces): as text it is kept, as a number missing.
    spaced: bool,
    /// Some value is a code (`0101`): the column stays text.
    code: bool,
    /// Every value so far is blank or a whole number; `ints` holds them.
    int: bool,
    /// Every value so far is blank or a plain number; the column's numbers hold them.
    float: bool,
    /// Every value so far is blank, `true` or `false` (ignoring case).
    boolean: bool,
    ints: Vec<i64>,
    /// Whether each value is present (not blank).
    valid: BooleanBufferBuilder,
}

/// A block of records' part of one column being typed: what it learns, and its rows of the
/// column's numbers, written in place (no block holds a copy of the column).
struct Typing<'a> {
    learnt: Learnt,
    floats: &'a mut [f64],
    /// Values taken so far.
    len: usize,
}

/// The column types a CSV column of numbers may get, from the first that fits.
#[derive(Debug)]
enum Typed {
    /// No value at all: a Float64 column of missing values.
    Empty,
    /// Whole numbers.
    Int(Vec<i64>, BooleanBuffer),
    /// Plain numbers.
    Float(Vec<f64>, BooleanBuffer),
    /// Anything else: `true` and `false`, codes, text.
    Text,
}

impl<'a> Typing<'a> {
    /// Typing the rows of `floats`, the block's part of the column's numbers.
    fn new(floats: &'a mut [f64]) -> Self {
        Self {
            learnt: Learnt::new(floats.len()),
            floats,
            len: 0,
        }
    }

    /// Takes the next value of the column (`None` or `""` when the cell is empty).
    fn push(&mut self, raw: Option<&str>) {
        let t = &mut self.learnt;
        let at = self.len;
        self.len += 1;
        let value = raw.map(str::trim).filter(|v| !v.is_empty());
        t.valid.append(value.is_some());
        let Some(v) = value else {
            t.spaced |= raw.is_some_and(|r| !r.is_empty());
            if t.int {
                t.ints.push(0);
            }
            if t.float {
                self.floats[at] = 0.0;
            }
            return;
        };
        t.nonblank = true;
        t.code |= is_code(v);
        if t.int {
            still(&mut t.int, &mut t.ints, whole_number(v));
        }
        if t.float {
            match plain_number(v) {
                Some(x) => self.floats[at] = x,
                None => t.float = false,
            }
        }
        if t.boolean {
            t.boolean = truth(v).is_some();
        }
    }
}

impl Learnt {
    /// Nothing learnt yet, with room for `capacity` values.
    fn new(capacity: usize) -> Self {
        Self {
            nonblank: false,
            spaced: false,
            code: false,
            int: true,
            float: true,
            boolean: true,
            ints: Vec::with_capacity(capacity),
            valid: BooleanBufferBuilder::new(capacity),
        }
    }

    /// The next part of the same column, read after this one.
    fn append(&mut self, next: Learnt) {
        self.nonblank |= next.nonblank;
        self.spaced |= next.spaced;
        self.code |= next.code;
        self.int &= next.int;
        self.float &= next.float;
        self.boolean &= next.boolean;
        if self.int {
            self.ints.extend(next.ints);
        } else {
            self.ints = Vec::new();
        }
        let mut next_valid = next.valid;
        self.valid.append_buffer(&next_valid.finish());
    }

    /// The column's type, with `floats` its numbers (as written by its blocks).
    fn typed(mut self, floats: Vec<f64>) -> Typed {
        if !self.nonblank {
            Typed::Empty
        } else if self.code {
            Typed::Text
        } else if self.int {
            Typed::Int(self.ints, self.valid.finish())
        } else if self.float {
            Typed::Float(floats, self.valid.finish())
        } else {
            Typed::Text
        }
    }

    /// The Arrow column of a column of numbers of `n` rows, with `floats` its numbers.
    fn array(self, floats: Vec<f64>, n: usize) -> (DataType, ArrayRef) {
        let nulls =
            |valid: BooleanBuffer| Some(NullBuffer::new(valid)).filter(|n| n.null_count() > 0);
        match self.typed(floats) {
            Typed::Int(v, valid) => (
                DataType::Int64,
                Arc::new(Int64Array::new(v.into(), nulls(valid))),
            ),
            Typed::Float(v, valid) => (
                DataType::Float64,
                Arc::new(Float64Array::new(v.into(), nulls(valid))),
            ),
            // A column of text is never left as numbers (see `Reading::type_numbers`).
            Typed::Empty | Typed::Text => (
                DataType::Float64,
                Arc::new(Float64Array::from(vec![None; n])),
            ),
        }
    }
}

/// Keeps `value` when it was read, else the column is not of this type (`alive` turns false)
/// and what was kept for it is dropped.
fn still<T>(alive: &mut bool, values: &mut Vec<T>, value: Option<T>) {
    match value {
        Some(v) => values.push(v),
        None => {
            *alive = false;
            *values = Vec::new();
        }
    }
}

/// `12` or `-12` (ASCII digits only) within `i64`.
fn whole_number(v: &str) -> Option<i64> {
    let body = v.strip_prefix('-').unwrap_or(v);
    (!body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()))
        .then(|| v.parse::<i64>().ok())
        .flatten()
}

/// `0101`: digits with a leading zero, a code rather than the number 101.
fn is_code(v: &str) -> bool {
    let body = v.strip_prefix('-').unwrap_or(v);
    body.len() > 1 && body.starts_with('0') && body.bytes().all(|c| c.is_ascii_digit())
}

/// `true` / `false`, ignoring ASCII case.
fn truth(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Types the columns `cols` of the records `kept`, reading the records in file order, in
/// parallel over blocks of `block` records that are then joined in order. Each column's numbers
/// are written into its part of `floats` (one per column, as long as `kept`).
fn type_columns_in_blocks(
    recs: &Records,
    kept: &[usize],
    cols: &[usize],
    floats: Vec<&mut [f64]>,
    block: usize,
) -> Vec<Learnt> {
    let mut parts: Vec<Vec<&mut [f64]>> = Vec::new();
    for column in floats {
        for (b, rows) in column.chunks_mut(block.max(1)).enumerate() {
            if parts.len() <= b {
                parts.push(Vec::new());
            }
            parts[b].push(rows);
        }
    }
    let blocks: Vec<Vec<Learnt>> = parts
        .into_par_iter()
        .zip(kept.par_chunks(block.max(1)))
        .map(|(part, rows)| {
            let mut typings: Vec<Typing> = part.into_iter().map(Typing::new).collect();
            for &r in rows {
                for (t, &j) in typings.iter_mut().zip(cols) {
                    t.push(recs.field(r, j));
                }
            }
            typings.into_iter().map(|t| t.learnt).collect()
        })
        .collect();
    let mut blocks = blocks.into_iter();
    let Some(mut all) = blocks.next() else {
        return cols.iter().map(|_| Learnt::new(0)).collect();
    };
    for block in blocks {
        for (t, next) in all.iter_mut().zip(block) {
            t.append(next);
        }
    }
    all
}

#[cfg(test)]
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
    let (int, code, boolean) = (whole_number, is_code, truth);
    if present.iter().any(|v| code(v)) {
        // `0101` is a code, not the number 101.
        return (
            DataType::Utf8,
            Arc::new(datafusion::arrow::array::StringArray::from(values.to_vec())),
        );
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
    if present.iter().all(|v| v.is_empty() || boolean(v).is_some()) {
        let a: BooleanArray = values
            .iter()
            .map(|v| trimmed(v).and_then(boolean))
            .collect();
        return (DataType::Boolean, Arc::new(a));
    }
    (
        DataType::Utf8,
        Arc::new(datafusion::arrow::array::StringArray::from(values.to_vec())),
    )
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

    /// The splitter as first written, byte by byte: the oracle of [`Records::split`], which
    /// copies runs of plain bytes at once.
    fn split_byte_by_byte(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut fields: Vec<String> = Vec::new();
        let mut recs = Vec::new();
        let (mut line, mut start) = (1usize, 1usize);
        let (mut quoted, mut was_quoted, mut at_start) = (false, false, true);
        let mut i = 0;
        let take = |out: &mut Vec<u8>| String::from_utf8(std::mem::take(out)).unwrap();
        while i < bytes.len() {
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            i += 1;
            if quoted {
                match c {
                    b'"' if next == Some(b'"') => {
                        i += 1;
                        out.push(b'"');
                    }
                    b'"' => quoted = false,
                    b'\n' => {
                        line += 1;
                        out.push(c);
                    }
                    _ => out.push(c),
                }
                continue;
            }
            match c {
                b'"' if out.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                    at_start = false;
                }
                b',' => {
                    fields.push(take(&mut out));
                    was_quoted = false;
                    at_start = false;
                }
                b'\r' if next == Some(b'\n') => {}
                b'\n' | b'\r' => {
                    if !at_start {
                        fields.push(take(&mut out));
                        recs.push((start, std::mem::take(&mut fields)));
                    }
                    was_quoted = false;
                    at_start = true;
                    line += 1;
                    start = line;
                }
                _ => {
                    out.push(c);
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
            fields.push(take(&mut out));
            recs.push((start, fields));
        }
        Ok(recs)
    }

    proptest::proptest! {
        /// Any text, well formed or not (quotes anywhere, lone `\r`, blank lines, an open
        /// quote at the end), splits as the byte-by-byte splitter splits it: the same records,
        /// fields and lines, or the same error.
        #[test]
        fn splitting_in_runs_is_splitting_byte_by_byte(
            parts in proptest::collection::vec(proptest::sample::select(
                vec!["a", "bc", ",", "\"", "\"\"", "\n", "\r", "\r\n", " ", "茶滘"]), 0..40),
        ) {
            let text = parts.concat();
            let got = Records::split(&text).map(|r| {
                (0..r.len())
                    .map(|k| (r.line(k), r.fields(k).map(str::to_string).collect()))
                    .collect::<Vec<(usize, Vec<String>)>>()
            });
            proptest::prop_assert_eq!(got, split_byte_by_byte(&text));
        }
    }

    proptest::proptest! {
        /// Fields written as CSV (quoted when they hold a delimiter, a quote or a line break,
        /// or at random) split back into the same fields, each record on the line it starts on.
        #[test]
        fn csv_written_splits_back(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    (proptest::collection::vec(proptest::sample::select(
                        vec!["a", "7", " ", ",", "\"", "\n", "\r\n", "茶滘", "é"]), 0..4),
                     proptest::bool::ANY),
                    2..5),
                1..6),
            crlf in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for row in &rows {
                let line = 1 + text.matches('\n').count();
                let fields: Vec<String> = row.iter().map(|(parts, _)| parts.concat()).collect();
                let written: Vec<String> = row
                    .iter()
                    .zip(&fields)
                    .map(|((_, quote), f)| {
                        if *quote || f.contains([',', '"', '\n', '\r']) {
                            format!("\"{}\"", f.replace('"', "\"\""))
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                text.push_str(&written.join(","));
                text.push_str(if crlf { "\r\n" } else { "\n" });
                want.push((line, fields));
            }
            let got: Vec<(usize, Vec<String>)> = records(&text)
                .unwrap()
                .into_iter()
                .map(|r| (r.line, r.fields))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    proptest::proptest! {
        /// A file read in pieces of any size, typed record by record in blocks joined
        /// afterwards, gives each column typed from all its values at once ([`type_column`],
        /// the rules written plainly): the same type and the same values, to the bit, and the
        /// same lines. Columns turn to text early (kept from there), late (read again) or not.
        #[test]
        fn typing_a_file_in_pieces_is_typing_each_column_whole(
            cells in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![
                    "", " ", "12", "-3", "0", "-0", "007", "1.5", "-0.0", "1e3", " 4 ", "true",
                    "FALSE", "abc", "99999999999999999999", "inf", "\"a,\nb\"",
                ]), 3),
                0..30,
            ),
            blanks in proptest::collection::vec(0usize..3, 30),
            piece in 1usize..80,
        ) {
            let mut text = String::from("k,x,y,z\n");
            for (i, row) in cells.iter().enumerate() {
                text.push_str(&"\n".repeat(blanks[i]));
                text.push_str(&format!("{i},{}\n", row.join(",")));
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.csv");
            std::fs::write(&path, &text).unwrap();
            let whole = Records::split(&text).unwrap();
            let kept: Vec<usize> = (1..whole.len()).collect();
            let got = read_csv_in_pieces(&path, &Intake::default(), &[], piece).unwrap();
            let lines: Vec<usize> = kept.iter().map(|&r| whole.line(r)).collect();
            proptest::prop_assert_eq!(&got.rows, &lines);
            for j in 0..4 {
                let values: Vec<Option<&str>> = kept
                    .iter()
                    .map(|&r| whole.field(r, j).filter(|v| !v.is_empty()))
                    .collect();
                let (want_type, want) = type_column(&values);
                let got = got.batch.column(j);
                proptest::prop_assert_eq!(got.data_type(), &want_type);
                proptest::prop_assert_eq!(got.as_ref(), want.as_ref());
                if want_type == DataType::Float64 {
                    let bits = |a: &ArrayRef| -> Vec<Option<u64>> {
                        a.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                            .iter()
                            .map(|v| v.map(f64::to_bits))
                            .collect()
                    };
                    proptest::prop_assert_eq!(bits(got), bits(&want));
                }
            }
        }
    }

    /// Every file of the catalogue, read in pieces of every size from one byte to the whole
    /// file, gives what it gives read whole: the same error (the first in the file's order) or
    /// the same table.
    #[test]
    fn a_file_read_in_pieces_of_any_size_fails_or_reads_as_read_whole() {
        let header_row = Intake {
            header_row: Some(3),
            ..Intake::default()
        };
        let catalogue: &[(&str, &Intake, &str)] = &[
            ("k,x\n1,2\n2,3,4\n3,5\n", &Intake::default(), "has 3 fields"),
            (
                "k,x,y\n1,2,3\n2,3\n3,4,5\n",
                &Intake::default(),
                "line 3 has 2 fields, but the header (line 1) has 3: it ends before column `y`",
            ),
            ("k,x,\n1,2\n2,3,\n", &Intake::default(), ""),
            (
                "Title\nk,x\n1,2\n",
                &Intake::default(),
                "looks like a title",
            ),
            (
                "k,,x\n1,,2\n2,,3\n3,9,4\n",
                &Intake::default(),
                "header of column 2 is empty",
            ),
            (
                "k,x,k\n1,2,3\n",
                &Intake::default(),
                "columns 1 and 3 are both named `k`",
            ),
            ("k,x\n1,\"2\n", &Intake::default(), "not closed"),
            ("\n\n\n", &Intake::default(), "no header and no data"),
            ("t\n\n\nk,x\n1,2\n", &header_row, "line 3 is empty"),
            ("t\n\nk,x\n1,2\n3,x\n4,007\n", &header_row, ""),
            (
                "k,x,y\n1,2,\n2,3, \n3,abc,true\n4,5,FALSE\n",
                &Intake::default(),
                "",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let show = |t: Result<Table, String>| t.map(|t| format!("{:?} {:?}", t.batch, t.rows));
        for (text, intake, want) in catalogue {
            std::fs::write(&path, text).unwrap();
            let whole = show(read_csv_in_pieces(&path, intake, &[], 1 << 20));
            match &whole {
                Err(e) => assert!(!want.is_empty() && e.contains(want), "{text:?}: {e}"),
                Ok(t) => assert!(want.is_empty(), "{text:?} read as {t}"),
            }
            for piece in 1..=text.len() {
                let got = show(read_csv_in_pieces(&path, intake, &[], piece));
                assert_eq!(got, whole, "{text:?} in pieces of {piece} bytes");
            }
        }
    }

    #[test]
    fn decoding_owned_bytes_is_decoding() {
        let (gbk, _, _) = encoding_rs::GBK.encode("code,街道\n1,茶滘\n");
        for (bytes, label) in [
            (b"a,b\n1,2\n".to_vec(), None),
            (b"\xEF\xBB\xBFa,b\n".to_vec(), None),
            (b"a,\xFF\n".to_vec(), None),
            (b"a,b\n".to_vec(), Some("utf-8")),
            (gbk.to_vec(), None),
            (gbk.to_vec(), Some("gbk")),
        ] {
            assert_eq!(decode_owned(bytes.clone(), label), decode(&bytes, label));
        }
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
