//! Writing tables: the format follows the file extension, every write goes to a temporary file
//! beside the target and is renamed into place, and no output may overwrite an input.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, Schema, SchemaRef, UInt32Type,
};
use datafusion::arrow::{csv, ipc, json};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves,
};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;

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
    let mut tmp = temp_beside(path)?;
    write(tmp.as_file_mut()).map_err(|m| Error::io(path, std::io::Error::other(m)))?;
    persist(tmp, path)
}

/// A temporary file beside `path`, named `.kapok-NAME-XXXXXX`; removed when dropped.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
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
    temp_builder(&prefix, false)
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Syncs a temporary file written in full and renames it over `path`.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), Error> {
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes a table to `path` in the format of its extension.
pub fn write_table(batch: &RecordBatch, path: &Path) -> Result<(), Error> {
    write_batches(path, batch.schema(), [Ok(batch.clone())]).map(|_| ())
}

/// Writes a table given as batches of rows with the same schema (e.g. one per period) to
/// `path` in the format of its extension, atomically, and returns the number of rows written
/// (see [`TableFile`]). A batch that fails stops the write with its error and leaves `path` as
/// it was.
pub fn write_batches(
    path: &Path,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = Result<RecordBatch, Error>>,
) -> Result<usize, Error> {
    let mut file = TableFile::create(path, schema)?;
    for batch in batches {
        file.write(&batch?)?;
    }
    file.commit()
}

/// A table file written batch by batch as the batches are made, atomically: into a temporary
/// file beside `path` (as [`write_atomic`]), which [`TableFile::commit`] syncs and renames over
/// `path`. Dropped before that (a run that failed), the temporary file is removed and `path` is
/// left as it was. CSV, JSON, Arrow and Parquet are written as the batches come (a Parquet row
/// group per batch, see [`ParquetStream`]), so that a batch or two at most are in memory at a
/// time; an XLSX workbook is assembled at the end.
pub struct TableFile {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    sink: Sink<BufWriter<Writeback>>,
    schema: SchemaRef,
    rows: usize,
}

impl TableFile {
    /// Starts the table file `path` of `schema`, in the format of its extension.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self, Error> {
        let format = Format::from_path(path)?;
        let tmp = temp_beside(path)?;
        let file = tmp.as_file().try_clone().map_err(|e| Error::io(path, e))?;
        let sink = Sink::new(format, BufWriter::new(Writeback::new(file)), schema.clone())
            .map_err(|m| Error::io(path, std::io::Error::other(m)))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            sink,
            schema,
            rows: 0,
        })
    }

    /// Adds a batch of rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows();
        self.sink
            .write(batch)
            .map_err(|m| Error::io(&self.path, std::io::Error::other(m)))
    }

    /// Adds a batch of `rows` rows whose column `c` (in the schema's order) `column(c)` makes:
    /// the same file as [`TableFile::write`] of the batch of those columns. Parquet makes and
    /// encodes the columns a few at a time ([`ParquetStream::write_columns`]), not the whole
    /// batch first.
    pub fn write_columns(
        &mut self,
        rows: usize,
        column: &(dyn Fn(usize) -> ArrayRef + Sync),
    ) -> Result<(), Error> {
        self.rows += rows;
        let written = match &mut self.sink {
            Sink::Parquet(w) => w.write_columns(rows, column),
            sink => columns_batch(&self.schema, rows, column).and_then(|b| sink.write(&b)),
        };
        written.map_err(|m| Error::io(&self.path, std::io::Error::other(m)))
    }

    /// Ends the table (a table of no batch is written as an empty one) and puts the file at
    /// its path; returns the number of rows written.
    pub fn commit(self) -> Result<usize, Error> {
        let Self {
            path,
            tmp,
            sink,
            schema,
            rows,
        } = self;
        let io = |m: String| Error::io(&path, std::io::Error::other(m));
        let mut w = sink.finish(&schema).map_err(io)?;
        w.flush().map_err(|e| Error::io(&path, e))?;
        drop(w);
        persist(tmp, &path)?;
        Ok(rows)
    }
}

/// A file written from its start whose bytes the system is asked to start writing out to
/// the disk every [`WRITEBACK_BYTES`], as they are written: the sync before the file is put at
/// its path then waits for the last few megabytes, not for the whole file (0.26-0.44 s for the
/// 600 MB of every column of the grid benchmark). The sync is still what makes the file
/// durable; this only starts the disk's work sooner, beside the run's.
pub(crate) struct Writeback {
    file: File,
    /// Bytes written so far.
    written: u64,
    /// Bytes handed to the system to write out.
    started: u64,
}

/// How many bytes [`Writeback`] lets wait before asking for them to be written out.
const WRITEBACK_BYTES: u64 = 8 << 20;

impl Writeback {
    /// Writes to `file`, from its start.
    pub(crate) fn new(file: File) -> Self {
        Self {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_BYTES {
            start_writeback(&self.file, self.started, self.written - self.started);
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes `bytes` to a new file `path` (as `fs::write`) and asks the system to start writing
/// them out to the disk (see [`Writeback`]).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    start_writeback(&f, 0, bytes.len() as u64);
    Ok(())
}

/// Asks the system to start writing `len` bytes of `file` from `offset` out to the disk,
/// without waiting for them (Linux's `sync_file_range` with `SYNC_FILE_RANGE_WRITE`; elsewhere
/// nothing). Advisory: an error here is one the sync at the end reports.
fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        unsafe extern "C" {
            fn sync_file_range(
                fd: std::ffi::c_int,
                offset: i64,
                nbytes: i64,
                flags: std::ffi::c_uint,
            ) -> std::ffi::c_int;
        }
        const SYNC_FILE_RANGE_WRITE: std::ffi::c_uint = 2;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // SAFETY: `sync_file_range` takes no pointer; the descriptor is open for as long as
        // `file` is borrowed, and any offset and length are allowed (past the end: nothing).
        unsafe {
            sync_file_range(file.as_raw_fd(), offset, len, SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// A table being written in one format, batch by batch.
enum Sink<W: Write + Send> {
    Csv(csv::Writer<W>, bool),
    Json(json::ArrayWriter<W>, bool),
    Arrow(ipc::writer::FileWriter<W>, bool),
    Parquet(ParquetStream<W>),
    Xlsx(W, Vec<RecordBatch>),
}

impl<W: Write + Send> Sink<W> {
    fn new(format: Format, w: W, schema: SchemaRef) -> Result<Self, String> {
        Ok(match format {
            Format::Csv => Self::Csv(csv::WriterBuilder::new().with_header(true).build(w), false),
            Format::Json => Self::Json(json::ArrayWriter::new(w), false),
            Format::Arrow => Self::Arrow(
                ipc::writer::FileWriter::try_new(w, &schema).map_err(|e| e.to_string())?,
                false,
            ),
            Format::Parquet => Self::Parquet(ParquetStream::new(w, schema)?),
            Format::Xlsx => Self::Xlsx(w, Vec::new()),
        })
    }

    fn write(&mut self, b: &RecordBatch) -> Result<(), String> {
        let e = |e: datafusion::arrow::error::ArrowError| e.to_string();
        match self {
            Self::Csv(w, any) => {
                *any = true;
                w.write(b).map_err(e)
            }
            Self::Json(w, any) => {
                *any = true;
                w.write(b).map_err(e)
            }
            Self::Arrow(w, any) => {
                *any = true;
                w.write(b).map_err(e)
            }
            Self::Parquet(w) => w.write(b),
            Self::Xlsx(_, all) => {
                all.push(b.clone());
                Ok(())
            }
        }
    }

    /// Ends the file (a table of no batch is written as an empty one: a CSV header, `[]`);
    /// returns the writer.
    fn finish(self, schema: &SchemaRef) -> Result<W, String> {
        let e = |e: datafusion::arrow::error::ArrowError| e.to_string();
        let empty = RecordBatch::new_empty(schema.clone());
        match self {
            Self::Csv(mut w, any) => {
                if !any {
                    w.write(&empty).map_err(e)?;
                }
                Ok(w.into_inner())
            }
            Self::Json(mut w, any) => {
                if !any {
                    w.write(&empty).map_err(e)?;
                }
                w.finish().map_err(e)?;
                let mut w = w.into_inner();
                w.write_all(b"\n").map_err(|e| e.to_string())?;
                Ok(w)
            }
            Self::Arrow(mut w, any) => {
                if !any {
                    w.write(&empty).map_err(e)?;
                }
                w.finish().map_err(e)?;
                w.into_inner().map_err(e)
            }
            Self::Parquet(w) => w.finish(),
            Self::Xlsx(mut w, all) => {
                let batch = datafusion::arrow::compute::concat_batches(schema, &all).map_err(e)?;
                let bytes = xlsx_bytes(&batch, "results").map_err(|e| e.to_string())?;
                w.write_all(&bytes).map_err(|e| e.to_string())?;
                Ok(w)
            }
        }
    }
}

/// The table as CSV with a header row, as `-o FILE.csv` writes it.
pub fn csv_bytes(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut cw = csv::WriterBuilder::new().with_header(true).build(&mut buf);
    cw.write(batch).map_err(|e| e.to_string())?;
    drop(cw);
    Ok(buf)
}

/// The table as a Parquet file (one batch), reproducible byte for byte; see [`ParquetStream`].
pub fn parquet_bytes(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    parquet_bytes_of(batch.schema(), [batch.clone()])
}

/// The table of `batches` (e.g. one per period) as a Parquet file, as [`write_batches`] writes
/// it.
pub fn parquet_bytes_of(
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut w = ParquetStream::new(&mut buf, schema)?;
    for b in batches {
        w.write(&b)?;
    }
    w.finish()?;
    Ok(buf)
}

/// Consecutive batches smaller than this share a Parquet row group (a small framework's
/// periods make one group, not one each).
pub const ROW_GROUP_MIN_ROWS: usize = 8192;

/// No Parquet row group holds more rows than this (a larger batch is split).
pub const ROW_GROUP_MAX_ROWS: usize = 1 << 20;

/// The Parquet settings of kapok's files: `created_by` names kapok's version (so the bytes
/// depend on nothing else); float columns are plainly encoded — scores are nearly all
/// distinct, so a dictionary would cost time and hold nothing — and integer columns (ranks and
/// rank changes, as many distinct values as units in a period) delta-encoded; text columns
/// keep a dictionary.
pub fn parquet_properties(schema: &Schema) -> WriterProperties {
    use datafusion::parquet::basic::Encoding;
    use datafusion::parquet::schema::types::ColumnPath;
    let mut b = WriterProperties::builder()
        .set_created_by(format!("kapok {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(Some(ROW_GROUP_MAX_ROWS));
    for f in schema.fields() {
        let path = || ColumnPath::from(f.name().as_str());
        match f.data_type() {
            DataType::Float64 | DataType::Float32 => {
                b = b.set_column_dictionary_enabled(path(), false);
            }
            DataType::UInt32 | DataType::Int64 | DataType::Int32 | DataType::UInt64 => {
                b = b
                    .set_column_dictionary_enabled(path(), false)
                    .set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
            }
            _ => {}
        }
    }
    b.build()
}

/// A Parquet file written batch by batch: a row group per batch (batches of fewer than
/// [`ROW_GROUP_MIN_ROWS`] rows gathered into one, batches of more than [`ROW_GROUP_MAX_ROWS`]
/// split), its columns encoded in parallel and written in order, so that the bytes are the
/// same whatever the number of threads. A row group's columns are encoded a few at a time
/// ([`ParquetStream::write_columns`] also makes them a few at a time), each few written to the
/// file on a thread of its own while the next are encoded: memory holds a few encoded columns,
/// not the row group.
pub struct ParquetStream<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    groups: usize,
}

impl<W: Write + Send> ParquetStream<W> {
    /// Starts a file of `schema` (with [`parquet_properties`]).
    pub fn new(w: W, schema: SchemaRef) -> Result<Self, String> {
        let props = parquet_properties(&schema);
        let (writer, factory) = ArrowWriter::try_new(w, schema.clone(), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            writer,
            factory,
            schema,
            pending: Vec::new(),
            pending_rows: 0,
            groups: 0,
        })
    }

    /// Adds a batch: written as a row group once at least [`ROW_GROUP_MIN_ROWS`] rows wait.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let mut start = 0;
        while start < batch.num_rows() {
            let len = (batch.num_rows() - start).min(ROW_GROUP_MAX_ROWS - self.pending_rows);
            self.pending.push(batch.slice(start, len));
            self.pending_rows += len;
            start += len;
            if self.pending_rows >= ROW_GROUP_MIN_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Adds a batch of `rows` rows whose column `c` (in the schema's order) `column(c)` makes,
    /// as [`ParquetStream::write`] adds the batch of those columns, in the same bytes. A batch
    /// that makes a row group of its own has each column made as it is encoded and dropped once
    /// encoded (a period of every column of the grid benchmark is 33 MB made at once).
    pub fn write_columns(
        &mut self,
        rows: usize,
        column: &(dyn Fn(usize) -> ArrayRef + Sync),
    ) -> Result<(), String> {
        if self.pending_rows == 0 && (ROW_GROUP_MIN_ROWS..=ROW_GROUP_MAX_ROWS).contains(&rows) {
            return self.write_group(rows, column);
        }
        let batch = columns_batch(&self.schema, rows, column)?;
        self.write(&batch)
    }

    /// Writes the rows waiting as one row group.
    fn flush(&mut self) -> Result<(), String> {
        if self.pending_rows == 0 {
            self.pending.clear();
            return Ok(());
        }
        // A batch of a row group's size (a period of a large panel) is written as it is, not
        // copied into one.
        let batch = match self.pending.as_slice() {
            [one] => one.clone(),
            many => datafusion::arrow::compute::concat_batches(&self.schema, many)
                .map_err(|e| e.to_string())?,
        };
        self.pending.clear();
        self.pending_rows = 0;
        self.write_group(batch.num_rows(), &|c| batch.column(c).clone())
    }

    /// Writes a row group of `rows` rows, column `c` made by `column(c)`: the columns are made
    /// and encoded [`group_window`] at a time in parallel, and each few appended to the file
    /// on a thread of its own while the next few are made.
    fn write_group(
        &mut self,
        rows: usize,
        column: &(dyn Fn(usize) -> ArrayRef + Sync),
    ) -> Result<(), String> {
        use rayon::prelude::*;
        let e = |e: datafusion::parquet::errors::ParquetError| e.to_string();
        let fields = self.schema.fields();
        let writers = self.factory.create_column_writers(self.groups).map_err(e)?;
        if writers.len() != fields.len() {
            return Err("parquet: a nested column is not written by kapok".into());
        }
        let window = group_window();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ArrowColumnChunk>>(1);
        let writer = &mut self.writer;
        let (written, encoded) = std::thread::scope(|s| {
            let written = s.spawn(move || -> Result<(), String> {
                let mut group = writer.next_row_group().map_err(e)?;
                for chunks in rx {
                    for chunk in chunks {
                        chunk.append_to_row_group(&mut group).map_err(e)?;
                    }
                }
                group.close().map_err(e)?;
                Ok(())
            });
            let mut writers = writers.into_iter().enumerate();
            let encoded = loop {
                let few: Vec<_> = writers.by_ref().take(window).collect();
                if few.is_empty() {
                    break Ok(());
                }
                let chunks = few
                    .into_par_iter()
                    .map(|(c, mut w)| {
                        let col = column(c);
                        if col.len() != rows {
                            return Err(format!(
                                "parquet: column {} has {} rows, not {rows}",
                                fields[c].name(),
                                col.len()
                            ));
                        }
                        for leaf in compute_leaves(&fields[c], &col).map_err(e)? {
                            w.write(&leaf).map_err(e)?;
                        }
                        w.close().map_err(e)
                    })
                    .collect::<Result<Vec<_>, _>>();
                match chunks {
                    // A writer that stopped has its error to give.
                    Ok(chunks) => {
                        if tx.send(chunks).is_err() {
                            break Ok(());
                        }
                    }
                    Err(m) => break Err(m),
                }
            };
            drop(tx);
            (written.join(), encoded)
        });
        // An encoding error first: the writer, cut short, may then have one of its own.
        encoded?;
        written.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        self.groups += 1;
        Ok(())
    }

    /// Writes what waits and the footer; returns the writer.
    pub fn finish(mut self) -> Result<W, String> {
        self.flush()?;
        self.writer.into_inner().map_err(|e| e.to_string())
    }
}

/// How many columns of a row group [`ParquetStream`] makes and encodes at a time: a few per
/// thread, so that each thread has work while the few before are written.
fn group_window() -> usize {
    (4 * rayon::current_num_threads()).max(8)
}

/// The batch of `rows` rows whose column `c` is `column(c)`, the columns made in parallel.
pub(crate) fn columns_batch(
    schema: &SchemaRef,
    rows: usize,
    column: &(dyn Fn(usize) -> ArrayRef + Sync),
) -> Result<RecordBatch, String> {
    use rayon::prelude::*;
    let cols: Vec<ArrayRef> = (0..schema.fields().len())
        .into_par_iter()
        .map(column)
        .collect();
    let options = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), cols, &options).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, StringArray, UInt32Array};
    use datafusion::arrow::datatypes::Field;
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    #[test]
    fn written_out_as_it_goes_the_file_keeps_every_byte() {
        // Pieces of odd sizes past the threshold, twice over: each hand-over starts where the
        // last ended and covers what was written since.
        let tmp = tempfile::tempfile().unwrap();
        let mut w = Writeback::new(tmp.try_clone().unwrap());
        let piece: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
        let mut all = Vec::new();
        let mut handed = Vec::new();
        for _ in 0..7 {
            w.write_all(&piece).unwrap();
            all.extend_from_slice(&piece);
            handed.push(w.started);
        }
        w.flush().unwrap();
        assert_eq!(w.written, all.len() as u64);
        // 3, 6, 9, … 21 MB written: handed over at 9 MB (all of it) and at 18 MB (the 9 MB
        // since), not at 21 MB (3 MB since).
        assert_eq!(
            handed,
            [
                0, 0, 9_000_003, 9_000_003, 9_000_003, 18_000_006, 18_000_006
            ]
        );
        let mut back = Vec::new();
        let mut f = tmp;
        std::io::Seek::rewind(&mut f).unwrap();
        std::io::Read::read_to_end(&mut f, &mut back).unwrap();
        assert!(back == all);
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("unit", DataType::Utf8, false),
            Field::new("score.x", DataType::Float64, true),
            Field::new("rank.x", DataType::UInt32, true),
        ]))
    }

    /// A batch of `n` rows, values depending on `seed`.
    fn batch(n: usize, seed: usize) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("u{}", i % 97)),
                )),
                Arc::new(Float64Array::from_iter((0..n).map(|i| {
                    (i % 13 != 0).then(|| ((i * 7919 + seed) % 10007) as f64 / 3.0)
                }))),
                Arc::new(UInt32Array::from_iter_values(
                    (0..n).map(|i| ((i * 31 + seed) % n) as u32 + 1),
                )),
            ],
        )
        .unwrap()
    }

    /// A file holding `bytes` (the readers take files).
    fn file(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn reader(bytes: Vec<u8>) -> SerializedFileReader<File> {
        SerializedFileReader::new(file(&bytes)).unwrap()
    }

    #[test]
    fn a_row_group_per_large_batch_small_ones_together_no_float_dictionary() {
        let big: Vec<RecordBatch> = (0..3).map(|s| batch(10_000, s)).collect();
        let r = reader(parquet_bytes_of(schema(), big.clone()).unwrap());
        let meta = r.metadata();
        assert_eq!(meta.num_row_groups(), 3);
        for g in meta.row_groups() {
            assert_eq!(g.num_rows(), 10_000);
            assert!(
                g.column(0).dictionary_page_offset().is_some(),
                "text keeps a dictionary"
            );
            assert!(
                g.column(1).dictionary_page_offset().is_none(),
                "no float dictionary"
            );
            assert!(g.column(2).dictionary_page_offset().is_none());
        }
        let small: Vec<RecordBatch> = (0..5).map(|s| batch(100, s)).collect();
        let r = reader(parquet_bytes_of(schema(), small).unwrap());
        assert_eq!(r.metadata().num_row_groups(), 1);
        assert_eq!(r.metadata().file_metadata().num_rows(), 500);
        // The values read back are those written.
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let bytes = parquet_bytes_of(schema(), big.clone()).unwrap();
        let back: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file(&bytes))
            .unwrap()
            .with_batch_size(10_000)
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back, big);
    }

    #[test]
    fn parquet_bytes_do_not_depend_on_the_threads() {
        let batches: Vec<RecordBatch> = (0..4).map(|s| batch(9_000, s)).collect();
        let many = parquet_bytes_of(schema(), batches.clone()).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| parquet_bytes_of(schema(), batches).unwrap());
        assert_eq!(many, one);
    }

    #[test]
    fn a_failed_batch_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        for ext in ["parquet", "csv", "json", "arrow", "xlsx"] {
            let path = dir.path().join(format!("out.{ext}"));
            let batches = [
                Ok(batch(10_000, 0)),
                Err(Error::Data("period 2 failed".into())),
            ];
            let e = write_batches(&path, schema(), batches).unwrap_err();
            assert!(e.to_string().contains("period 2 failed"), "{e}");
            let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "{ext}: {left:?}");
        }
    }

    #[test]
    fn batches_write_what_one_table_writes() {
        let dir = tempfile::tempdir().unwrap();
        let parts: Vec<RecordBatch> = (0..3).map(|s| batch(50, s)).collect();
        let whole = datafusion::arrow::compute::concat_batches(&schema(), &parts).unwrap();
        for ext in ["csv", "json", "xlsx", "parquet"] {
            let a = dir.path().join(format!("a.{ext}"));
            let b = dir.path().join(format!("b.{ext}"));
            write_table(&whole, &a).unwrap();
            let rows = write_batches(&b, schema(), parts.iter().cloned().map(Ok)).unwrap();
            assert_eq!(rows, 150);
            assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "{ext}");
        }
        // No batch at all: the empty table (a CSV header).
        let c = dir.path().join("c.csv");
        write_batches(&c, schema(), []).unwrap();
        assert_eq!(fs::read_to_string(&c).unwrap(), "unit,score.x,rank.x\n");
    }

    /// A batch of `n` rows of [`batch`]'s three columns seven times over (21 columns: more
    /// than one [`group_window`] at a time), values depending on `seed`.
    fn wide_batch(n: usize, seed: usize) -> RecordBatch {
        let mut fields = Vec::new();
        let mut cols = Vec::new();
        for k in 0..7 {
            let b = batch(n, seed + k);
            for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                fields.push(Field::new(
                    format!("{}{k}", f.name()),
                    f.data_type().clone(),
                    true,
                ));
                cols.push(c.clone());
            }
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
    }

    #[test]
    fn columns_made_as_they_are_written_write_their_batch() {
        assert!(group_window() < 21);
        let dir = tempfile::tempdir().unwrap();
        // A small batch waits for the next; batches of a row group's size are each one.
        let parts: Vec<RecordBatch> = [100, 9_000, 50, 10_000, 8_192, 9_000]
            .into_iter()
            .enumerate()
            .map(|(s, n)| wide_batch(n, s))
            .collect();
        let schema = parts[0].schema();
        let by_columns = |path: &Path| {
            let mut f = TableFile::create(path, schema.clone()).unwrap();
            for b in &parts {
                f.write_columns(b.num_rows(), &|c| b.column(c).clone())
                    .unwrap();
            }
            f.commit().unwrap()
        };
        for ext in ["csv", "json", "arrow", "parquet"] {
            let a = dir.path().join(format!("a.{ext}"));
            let b = dir.path().join(format!("b.{ext}"));
            write_batches(&a, schema.clone(), parts.iter().cloned().map(Ok)).unwrap();
            assert_eq!(by_columns(&b), 36_342);
            assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "{ext}");
            if ext == "parquet" {
                let r = reader(fs::read(&b).unwrap());
                let rows: Vec<i64> = r
                    .metadata()
                    .row_groups()
                    .iter()
                    .map(|g| g.num_rows())
                    .collect();
                assert_eq!(rows, [9_100, 10_050, 8_192, 9_000]);
                // The same bytes with one thread.
                let c = dir.path().join("c.parquet");
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap()
                    .install(|| by_columns(&c));
                assert_eq!(fs::read(&b).unwrap(), fs::read(&c).unwrap());
            }
        }
    }

    #[test]
    fn a_column_of_other_length_stops_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let b = wide_batch(9_000, 0);
        let path = dir.path().join("out.parquet");
        let mut f = TableFile::create(&path, b.schema()).unwrap();
        let short = b.column(19).slice(0, 8_999);
        let e = f
            .write_columns(9_000, &|c| {
                if c == 19 {
                    short.clone()
                } else {
                    b.column(c).clone()
                }
            })
            .unwrap_err();
        assert!(
            e.to_string().contains("score.x6 has 8999 rows, not 9000"),
            "{e}"
        );
        drop(f);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
