//! Writing tables: the format follows the file extension, every write goes to a temporary file
//! beside the target and is renamed into place, and no output may overwrite an input.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, UInt32Type};
use datafusion::arrow::{csv, ipc, json};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::Error;

/// Output formats, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file.
    Arrow,
    /// Excel workbook.
    Xlsx,
    /// JSON array of row objects.
    Json,
}

impl Format {
    /// The format for a path's extension.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        Ok(match ext.as_str() {
            "csv" => Self::Csv,
            "parquet" => Self::Parquet,
            "arrow" | "ipc" | "feather" => Self::Arrow,
            "xlsx" => Self::Xlsx,
            "json" => Self::Json,
            _ => {
                return Err(Error::Usage(format!(
                    "{}: unknown output format `.{ext}`; use .csv, .parquet, .arrow, .xlsx or .json",
                    path.display()
                )));
            }
        })
    }
}

/// The directory a path's file lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A path as the file system resolves it (symlinks, `.` and `..` followed): the canonical path
/// when it exists, else its canonical directory joined with its name, else `None`.
pub fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = path.canonicalize() {
        return Some(c);
    }
    let name = path.file_name()?;
    parent_dir(path).canonicalize().ok().map(|d| d.join(name))
}

/// Refuses an output path that is one of `inputs`, or a directory that holds one, comparing
/// resolved paths (so `./x`, `a/../x` and a symlink to `x` are all `x`). The error (a usage
/// error, exit 2) names the input.
pub fn guard_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), Error> {
    let Some(out_c) = resolve(out) else {
        return Ok(()); // its directory does not exist: it holds nothing
    };
    for i in inputs {
        let Ok(c) = i.canonicalize() else { continue };
        if c == out_c {
            return Err(Error::Usage(format!(
                "{}: refusing to overwrite an input ({} is read by this run)",
                out.display(),
                crate::report::clean_path(i)
            )));
        }
        if c.starts_with(&out_c) {
            return Err(Error::Usage(format!(
                "{}: refusing to write into a directory that holds an input ({} is read by this run)",
                out.display(),
                crate::report::clean_path(i)
            )));
        }
    }
    Ok(())
}

/// A builder for kapok's temporary files and directories beside an output: a name starting
/// with `prefix` and a random part unique to the run, and the permissions an ordinary new
/// file or directory gets (the umask applies), not the owner-only ones of `tempfile`'s default.
pub fn temp_builder(prefix: &str, dir: bool) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(if dir { 0o777 } else { 0o666 }));
    }
    #[cfg(not(unix))]
    let _ = dir;
    b
}

/// Writes `path` atomically: a temporary file with a name unique to the run in the same
/// directory (`.kapok-NAME-XXXXXX`), synced, then renamed over `path`. On any error the
/// temporary file is removed and `path` is left as it was.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), String>,
) -> Result<(), Error> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the output directory does not exist",
            ),
        ));
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let prefix = format!(".kapok-{name}-");
    let mut tmp = temp_builder(&prefix, false)
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    write(tmp.as_file_mut()).map_err(|m| Error::io(path, std::io::Error::other(m)))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes a table to `path` in the format of its extension.
pub fn write_table(batch: &RecordBatch, path: &Path) -> Result<(), Error> {
    let format = Format::from_path(path)?;
    write_atomic(path, |f| {
        let mut w = BufWriter::new(f);
        match format {
            Format::Csv => w.write_all(&csv_bytes(batch)?).map_err(|e| e.to_string())?,
            Format::Json => {
                let mut jw = json::ArrayWriter::new(&mut w);
                jw.write(batch).map_err(|e| e.to_string())?;
                jw.finish().map_err(|e| e.to_string())?;
                w.write_all(b"\n").map_err(|e| e.to_string())?;
            }
            Format::Arrow => {
                let mut iw = ipc::writer::FileWriter::try_new(&mut w, &batch.schema())
                    .map_err(|e| e.to_string())?;
                iw.write(batch).map_err(|e| e.to_string())?;
                iw.finish().map_err(|e| e.to_string())?;
            }
            Format::Parquet => {
                w.write_all(&parquet_bytes(batch)?)
                    .map_err(|e| e.to_string())?;
            }
            Format::Xlsx => {
                let bytes = xlsx_bytes(batch, "results").map_err(|e| e.to_string())?;
                w.write_all(&bytes).map_err(|e| e.to_string())?;
            }
        }
        w.flush().map_err(|e| e.to_string())
    })
}

/// The table as CSV with a header row, as `-o FILE.csv` writes it.
pub fn csv_bytes(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut cw = csv::WriterBuilder::new().with_header(true).build(&mut buf);
    cw.write(batch).map_err(|e| e.to_string())?;
    drop(cw);
    Ok(buf)
}

/// The table as a Parquet file, reproducible byte for byte (`created_by` names kapok's version).
pub fn parquet_bytes(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let props = WriterProperties::builder()
        .set_created_by(format!("kapok {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut buf = Vec::new();
    let mut pw =
        ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| e.to_string())?;
    pw.write(batch).map_err(|e| e.to_string())?;
    pw.close().map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Workbook properties with a fixed creation date (rust_xlsxwriter stamps the current time
/// otherwise), so that the same tables give the same bytes.
pub fn reproducible_properties()
-> Result<rust_xlsxwriter::DocProperties, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime};
    Ok(DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?))
}

/// A workbook with one sheet holding the table (header row frozen), reproducible byte for byte.
pub fn xlsx_bytes(batch: &RecordBatch, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    xlsx_workbook_bytes(&[(sheet, batch)])
}

/// A workbook with one sheet per `(name, table)`, in order (header rows bold and frozen; null
/// cells left empty), reproducible byte for byte.
pub fn xlsx_workbook_bytes(
    sheets: &[(&str, &RecordBatch)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let mut wb = Workbook::new();
    wb.set_properties(&reproducible_properties()?);
    let bold = XFormat::new().set_bold();
    for (sheet, batch) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*sheet)?;
        for (c, field) in batch.schema().fields().iter().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, field.name(), &bold)?;
            let col = batch.column(c as usize);
            for r in 0..batch.num_rows() {
                if col.is_null(r) {
                    continue;
                }
                let row = r as u32 + 1;
                match col.data_type() {
                    DataType::Float64 => {
                        ws.write_number(row, c, col.as_primitive::<Float64Type>().value(r))?;
                    }
                    DataType::UInt32 => {
                        ws.write_number(row, c, col.as_primitive::<UInt32Type>().value(r) as f64)?;
                    }
                    // Rank changes (`rank_change.<id>`, `rank_yoy.<id>`).
                    DataType::Int64 => {
                        ws.write_number(row, c, col.as_primitive::<Int64Type>().value(r) as f64)?;
                    }
                    DataType::Utf8 => {
                        ws.write_string(row, c, col.as_string::<i32>().value(r))?;
                    }
                    DataType::Boolean => {
                        ws.write_boolean(row, c, col.as_boolean().value(r))?;
                    }
                    _ => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}

/// Where a set of named tables goes: one workbook, one JSON object, or a directory of CSVs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TablesTarget {
    /// `OUT.xlsx`: one sheet per table.
    Xlsx,
    /// `OUT.json`: one object mapping each table name to its array of row objects.
    Json,
    /// A path without extension: a directory (created if missing) with `NAME.csv` per table.
    CsvDir,
}

impl TablesTarget {
    /// The target for an output path, by its extension.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("xlsx") => Ok(Self::Xlsx),
            Some("json") => Ok(Self::Json),
            None => Ok(Self::CsvDir),
            Some(ext) => Err(Error::Usage(format!(
                "{}: unknown output format `.{ext}`; use .xlsx, .json, or a directory path without extension (one CSV per table)",
                path.display()
            ))),
        }
    }

    /// The files written for tables named `names`.
    pub fn files(self, path: &Path, names: &[&str]) -> Vec<PathBuf> {
        match self {
            Self::CsvDir => names
                .iter()
                .map(|n| path.join(format!("{n}.csv")))
                .collect(),
            _ => vec![path.to_path_buf()],
        }
    }
}

/// What is at the path of a directory of tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableDir {
    /// Nothing: the directory will be created.
    Missing,
    /// An empty directory.
    Empty,
    /// An earlier output: only regular files named `NAME.csv` for a known table `NAME`.
    Tables,
    /// A directory holding anything else; the names of those entries (sorted; a directory
    /// ends in `/`).
    Other(Vec<String>),
    /// Not a directory.
    NotDir,
}

impl TableDir {
    /// Looks at `path`; `known` are the table names that can be written there.
    pub fn of(path: &Path, known: &[&str]) -> Result<Self, Error> {
        let Ok(meta) = fs::metadata(path) else {
            return Ok(Self::Missing);
        };
        if !meta.is_dir() {
            return Ok(Self::NotDir);
        }
        let mut any = false;
        let mut foreign = Vec::new();
        for e in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let e = e.map_err(|e| Error::io(path, e))?;
            any = true;
            let name = e.file_name().to_string_lossy().into_owned();
            let file = e.file_type().is_ok_and(|t| t.is_file());
            let ours = file
                && [".csv", ".parquet"].iter().any(|ext| {
                    name.strip_suffix(ext)
                        .is_some_and(|stem| known.contains(&stem))
                });
            if !ours {
                let dir = e.file_type().is_ok_and(|t| t.is_dir());
                foreign.push(if dir { format!("{name}/") } else { name });
            }
        }
        foreign.sort();
        Ok(match (any, foreign.is_empty()) {
            (false, _) => Self::Empty,
            (true, true) => Self::Tables,
            (true, false) => Self::Other(foreign),
        })
    }
}

/// Refuses a directory of tables that is neither missing, empty nor an earlier output (see
/// [`TableDir`]) unless `force`; with `force` only the `NAME.csv` files written are replaced
/// and every other file is left alone. Returns what is there.
pub fn check_table_dir(path: &Path, known: &[&str], force: bool) -> Result<TableDir, Error> {
    let found = TableDir::of(path, known)?;
    match &found {
        TableDir::NotDir => Err(Error::Usage(format!(
            "{} exists and is not a directory (a path without extension is a directory of CSV files)",
            path.display()
        ))),
        TableDir::Other(foreign) if !force => Err(Error::Usage(format!(
            "{} is not empty and is not an earlier output of this command: it holds {}; choose another directory, or use --force to write the tables beside those files (only NAME.csv files of the tables are replaced)",
            path.display(),
            crate::data::list(foreign)
        ))),
        _ => Ok(found),
    }
}

/// Writes named tables to `path` (see [`TablesTarget`]); every file is written atomically and
/// identically from run to run. JSON rows carry every column, `null` for an empty cell.
///
/// A directory of CSVs is checked with [`check_table_dir`] (`known` are every table name
/// this kind of output can hold). When it held only such tables, those of `known` not written
/// this time are removed, so that the directory holds one output, not a mix of two.
pub fn write_tables(
    tables: &[(&str, &RecordBatch)],
    path: &Path,
    known: &[&str],
    force: bool,
) -> Result<Vec<PathBuf>, Error> {
    let target = TablesTarget::from_path(path)?;
    match target {
        TablesTarget::Xlsx => {
            let bytes = xlsx_workbook_bytes(tables)
                .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
            write_atomic(path, |f| f.write_all(&bytes).map_err(|e| e.to_string()))?;
        }
        TablesTarget::Json => {
            let mut buf: Vec<u8> = b"{".to_vec();
            for (i, (name, batch)) in tables.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend(b"\n");
                buf.extend(serde_json::to_string(name).unwrap_or_default().as_bytes());
                buf.push(b':');
                if batch.num_rows() == 0 {
                    buf.extend(b"[]");
                    continue;
                }
                let mut jw = json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, json::writer::JsonArray>(&mut buf);
                jw.write(batch)
                    .and_then(|_| jw.finish())
                    .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
            }
            buf.extend(b"\n}\n");
            write_atomic(path, |f| f.write_all(&buf).map_err(|e| e.to_string()))?;
        }
        TablesTarget::CsvDir => {
            let pure = check_table_dir(path, known, force)? == TableDir::Tables;
            fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
            for (name, batch) in tables {
                write_table(batch, &path.join(format!("{name}.csv")))?;
            }
            if pure {
                for stale in known.iter().filter(|k| !tables.iter().any(|t| t.0 == **k)) {
                    let f = path.join(format!("{stale}.csv"));
                    if fs::symlink_metadata(&f).is_ok_and(|m| m.is_file()) {
                        fs::remove_file(&f).map_err(|e| Error::io(&f, e))?;
                    }
                }
            }
        }
    }
    let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
    Ok(target.files(path, &names))
}
