//! The data stage, on DataFusion: sources are registered as tables, their queries run, their unit
//! keys checked, and they are joined on unit (and period) into one table over which the
//! indicator expressions are evaluated. [`bind`] then turns the result into a [`Panel`].

pub mod bind;
pub mod canon;
mod chunks;
pub mod intake;
mod locate;
mod paged;
pub mod rollup;
pub mod spill;
pub mod spine;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use ndarray::Array2;

pub use bind::Panel;

use crate::error::Error;
use crate::framework::expr::{self, quote_ident};
use crate::framework::{Diagnostic, Diagnostics, Framework, Intake, Source};
use crate::messages::Warning;
use crate::period::Granularity;
use intake::Origin;
use spine::{Pairs, Spine, gaps, uses_lag};

/// Name of the joined table that indicator expressions are evaluated over.
pub const JOINED: &str = "kapok_joined";
/// The table of every unit (and period) the joined table has a row for.
const SPINE: &str = "kapok_spine";
/// Column of the joined table: the unit has data in that period. Rows without are calendar
/// fillers, there only so that `lag(x, k)` counts calendar periods, and are dropped after the
/// indicator expressions are evaluated.
const PRESENT: &str = "kapok.present";
/// Column of the evaluated table holding the `[rank] only` condition.
pub const RANK_ONLY: &str = "kapok.rank_only";

/// A source as it is read: a table name and a file.
#[derive(Clone, Debug)]
struct Input {
    name: String,
    path: PathBuf,
    sheet: Option<String>,
    query: Option<String>,
    join: bool,
    intake: Intake,
}

/// Registered and joined data, ready for expression evaluation.
pub struct DataStage {
    runtime: tokio::runtime::Runtime,
    ctx: SessionContext,
    /// Schema of the joined table.
    pub schema: SchemaRef,
    /// Problems that do not stop the run (periods a source does not cover, …).
    pub warnings: Vec<Warning>,
    /// The kind of period each periodic source has, with the first value (for messages).
    granularities: Vec<(String, Granularity, String)>,
    /// Where the rows of each CSV and Excel source came from (line or sheet row).
    origins: BTreeMap<String, Origin>,
    /// The joined source each column of the joined table comes from.
    column_sources: BTreeMap<String, Input>,
    /// The rollup to a coarser granularity (`--per`), when one ran.
    rollup: Option<rollup::Plan>,
    /// The units and periods of the joined table's rows, each sorted (the one empty period
    /// for cross-sectional data): the panel's, known before the indicators are evaluated.
    layout: (Vec<String>, Vec<String>),
    /// Whether some source's rows interleave its periods (see [`DataStage::interleaves`]).
    interleaved: bool,
    /// The dictionary pages that the readers of the Parquet sources hold at once, at most
    /// ([`paged::PagedParquet::dictionary_bytes`]).
    dictionary_bytes: usize,
    /// Where the tables of large CSV and Excel sources are written.
    scratch: Scratch,
}

/// Scratch space for the tables of large CSV and Excel sources: a temporary directory, made at
/// the first table written and deleted with the data stage.
#[derive(Default)]
struct Scratch {
    dir: Option<tempfile::TempDir>,
    /// Tables written so far.
    files: usize,
}

impl Scratch {
    /// Writes a typed table (`batches`, `bytes` in memory) to a Parquet file when it is larger
    /// than [`spill_bytes`], so that the queries over it stream from the file page by page
    /// ([`paged::PagedParquet`]) and the table itself is not held beside the panel; the file's
    /// path, or `None` when the table is small or the file cannot be written (the table is
    /// then kept in memory).
    fn write(&mut self, batches: &[RecordBatch], bytes: usize) -> Option<PathBuf> {
        if bytes <= spill_bytes() || batches.is_empty() {
            return None;
        }
        if self.dir.is_none() {
            self.dir = tempfile::Builder::new().prefix("kapok-").tempdir().ok();
        }
        let path = self
            .dir
            .as_ref()?
            .path()
            .join(format!("{}.parquet", self.files));
        self.files += 1;
        let write = || -> Result<(), datafusion::parquet::errors::ParquetError> {
            use datafusion::parquet::basic::Compression;
            use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
            // Plain pages of a bounded row group: quick to write and to read back.
            let props = WriterProperties::builder()
                .set_compression(Compression::UNCOMPRESSED)
                .set_dictionary_enabled(false)
                .set_statistics_enabled(EnabledStatistics::None)
                .set_max_row_group_row_count(Some(1 << 16))
                .build();
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let schema = batches[0].schema();
            let mut writer =
                datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, Some(props))?;
            for batch in batches {
                writer.write(batch)?;
            }
            writer.close().map(|_| ())
        };
        match write() {
            Ok(()) => Some(path),
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }
}

/// Returns the memory freed so far to the system. The C allocator keeps freed blocks below its
/// mapping threshold (which rises to the size of blocks freed, up to 32 MiB) for reuse, so the
/// columns of a table read from a large CSV file would stay resident after the table is
/// dropped, under the panel bound next.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's `malloc_trim` takes no pointer and may be called at any time from
        // any thread; it only returns free memory of the allocator's arenas to the system.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Tables of CSV and Excel sources larger than this (in memory) are read back from a temporary
/// file, and so are a run's panel values whose rows interleave the periods (see
/// [`crate::Scoring`]): 64 MiB, or `KAPOK_SPILL_BYTES` (0: every table and panel).
pub(crate) fn spill_bytes() -> usize {
    std::env::var("KAPOK_SPILL_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(64 << 20)
}

/// The only SQL kapok runs: queries. DataFusion refuses DDL (`CREATE [EXTERNAL] TABLE`, …),
/// DML (`COPY`, `INSERT`, …) and statements (`SET`, …) under these options.
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

fn df_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Data(format!("{what}: {e}"))
}

impl DataStage {
    /// Reads the framework's sources (or the single table `data`) and joins them.
    pub fn open(fw: &Framework, data: Option<&Path>) -> Result<Self, Error> {
        let inputs: Vec<Input> = match data {
            Some(p) => vec![Input {
                name: "data".into(),
                path: p.to_path_buf(),
                sheet: None,
                query: None,
                join: true,
                intake: Intake::default(),
            }],
            None => fw.sources.iter().map(input_of).collect(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| Error::Data(format!("cannot start the query runtime: {e}")))?;
        let mut config = SessionConfig::new().with_target_partitions(1);
        // Parquet text as plain UTF-8, as every other format reads it: keys and periods that
        // are canonical already are then used as they are (see `canonicalise`).
        config
            .options_mut()
            .execution
            .parquet
            .schema_force_view_types = false;
        // `CAST(… AS VARCHAR)` (unit keys, periods, names) as plain UTF-8 too, as kapok reads
        // text: not a view array made for each batch and turned back into UTF-8 by its reader.
        config.options_mut().sql_parser.map_string_types_to_utf8view = false;
        let ctx = SessionContext::new_with_config(config);
        let mut stage = Self {
            runtime,
            ctx,
            schema: Arc::new(datafusion::arrow::datatypes::Schema::empty()),
            warnings: Vec::new(),
            granularities: Vec::new(),
            origins: BTreeMap::new(),
            column_sources: BTreeMap::new(),
            rollup: None,
            layout: (Vec::new(), Vec::new()),
            interleaved: false,
            dictionary_bytes: 0,
            scratch: Scratch::default(),
        };
        // Unit keys and periods are read as written (`0101`, `2023.10`), never as numbers.
        let text_columns: Vec<String> = [Some(&fw.units.key), fw.units.period.as_ref()]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for input in &inputs {
            stage.register(input, &text_columns)?;
            stage.canonicalise(fw, input, false)?;
        }
        for input in &inputs {
            if let Some(q) = &input.query {
                let what = format!("query of source `{}`", input.name);
                let batches = stage.sql(q).map_err(|e| df_err(&what, e))?;
                if input.join && batches.iter().all(|b| b.num_rows() == 0) {
                    return Err(Error::Data(format!(
                        "{what} returned no rows; check its WHERE and JOIN conditions (a JOIN on codes read as numbers in one source and as text in another matches nothing)"
                    )));
                }
                let schema = batches_schema(&stage, q, &batches)?;
                stage
                    .ctx
                    .deregister_table(input.name.as_str())
                    .map_err(|e| df_err(&what, e))?;
                let table =
                    MemTable::try_new(schema, vec![batches]).map_err(|e| df_err(&what, e))?;
                stage
                    .ctx
                    .register_table(input.name.as_str(), Arc::new(table))
                    .map_err(|e| df_err(&what, e))?;
                stage.canonicalise(fw, input, true)?;
            }
        }
        stage.check_granularities()?;
        let joined: Vec<&Input> = inputs.iter().filter(|i| i.join).collect();
        stage.roll_up(fw, &joined)?;
        stage.join(fw, &joined)?;
        Ok(stage)
    }

    /// Runs one query: read-only (DataFusion refuses DDL, DML such as `COPY`, and statements
    /// such as `SET`), on a thread with a large stack (see [`expr::with_large_stack`]).
    fn sql(&self, q: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
        expr::with_large_stack(|| {
            self.runtime.block_on(async {
                let df = self.ctx.sql_with_options(q, read_only()).await?;
                df.collect().await
            })
        })
    }

    /// Plans one read-only query without running it, and returns its result's schema.
    fn plan(&self, q: &str) -> datafusion::error::Result<SchemaRef> {
        expr::with_large_stack(|| {
            self.runtime.block_on(async {
                let df = self.ctx.sql_with_options(q, read_only()).await?;
                Ok(Arc::new(df.schema().as_arrow().clone()))
            })
        })
    }

    fn register(&mut self, input: &Input, text_columns: &[String]) -> Result<(), Error> {
        let what = format!("source `{}` ({})", input.name, input.path.display());
        if !input.path.is_file() {
            return Err(Error::Data(format!("{what}: file not found")));
        }
        let path = input.path.to_string_lossy().to_string();
        let ext = input
            .path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let dot_ext = format!(
            ".{}",
            input
                .path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
        );
        let name = input.name.as_str();
        let ctx = &self.ctx;
        let result = match ext.as_str() {
            // CSV and Excel carry no types: kapok reads them itself, so that an encoding, a
            // number written as `1,234` or a stray word is named by its line or cell.
            "csv" | "xlsx" => {
                let table = if ext == "csv" {
                    intake::read_csv(&input.path, &input.intake, text_columns)
                } else {
                    xlsx::read(
                        &input.path,
                        input.sheet.as_deref(),
                        &input.intake,
                        text_columns,
                    )
                }
                .map_err(|e| Error::Data(format!("{what}: {e}")))?;
                self.origins.insert(input.name.clone(), Origin::of(&table));
                let (batch, notes) = intake::numbers(table, &input.intake, text_columns)
                    .map_err(|e| Error::Data(format!("{what}: {e}")))?;
                self.warnings
                    .extend(
                        notes
                            .into_iter()
                            .map(|(column, detail)| Warning::ReadAsNumbers {
                                source: input.name.clone(),
                                what: what.clone(),
                                column,
                                detail,
                            }),
                    );
                if batch.num_rows() == 0 && input.join {
                    return Err(Error::Data(format!(
                        "{what}: no data rows (only a header: {})",
                        batch
                            .schema()
                            .fields()
                            .iter()
                            .map(|f| format!("`{}`", f.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                return self.register_typed(name, batch, &what);
            }
            "parquet" if std::fs::metadata(&input.path).is_ok_and(|m| m.len() == 0) => {
                return Err(Error::Data(format!(
                    "{what}: the file is empty (0 bytes), not a Parquet file"
                )));
            }
            // Read page by page (see [`paged`]), not a row group at a time.
            "parquet" => paged::PagedParquet::open(&input.path).and_then(|table| {
                self.dictionary_bytes += table.dictionary_bytes();
                ctx.register_table(name, Arc::new(table)).map(|_| ())
            }),
            "arrow" | "ipc" | "feather" => self.runtime.block_on(ctx.register_arrow(
                name,
                &path,
                ArrowReadOptions {
                    file_extension: &dot_ext,
                    ..Default::default()
                },
            )),
            other => {
                return Err(Error::Data(format!(
                    "{what}: kapok cannot read `.{other}` files (use .csv, .parquet, .arrow, .xlsx)"
                )));
            }
        };
        result.map_err(|e| df_err(&what, e))?;
        // Read it once now, so that a malformed file is reported against its source.
        if !matches!(ext.as_str(), "csv" | "xlsx") {
            let rows = self
                .count(&format!("SELECT COUNT(*) FROM {}", quote_ident(name)))
                .map_err(|e| df_err(&what, e))?;
            if rows == 0 && input.join {
                return Err(Error::Data(format!("{what}: the table has no rows")));
            }
        }
        Ok(())
    }

    /// The result of query `q` as one batch; errors name `what`.
    fn read(&self, q: &str, what: &str) -> Result<RecordBatch, Error> {
        let batches = self.sql(q).map_err(|e| df_err(what, e))?;
        let schema = batches_schema(self, q, &batches)?;
        concat_batches(&schema, &batches).map_err(|e| df_err(what, e))
    }

    /// Registers `batch`, the table kapok typed from a CSV or Excel source, as table `name`:
    /// in memory, in slices of the session's batch size (no copy), so that a query over a large
    /// file yields batches of that size; or, when it is large, from a scratch file
    /// ([`Scratch::write`]), its memory given back first.
    fn register_typed(&mut self, name: &str, batch: RecordBatch, what: &str) -> Result<(), Error> {
        let size = self.ctx.copied_config().batch_size().max(1);
        let slices: Vec<RecordBatch> = (0..batch.num_rows().div_ceil(size).max(1))
            .map(|k| {
                let from = k * size;
                batch.slice(from, size.min(batch.num_rows() - from))
            })
            .collect();
        let result = match self.scratch.write(&slices, batch.get_array_memory_size()) {
            Some(file) => {
                drop((batch, slices));
                give_back_freed_memory();
                paged::PagedParquet::open(&file)
                    .and_then(|t| self.ctx.register_table(name, Arc::new(t)).map(|_| ()))
            }
            None => MemTable::try_new(batch.schema(), vec![slices])
                .and_then(|t| self.ctx.register_table(name, Arc::new(t)).map(|_| ())),
        };
        result.map_err(|e| df_err(what, e))
    }

    /// Rewrites a registered table's unit key and period columns into canonical text (see
    /// [`canon`]): as read from its file, and again after its `query`. Only those two columns
    /// are read to find out; a table whose keys and periods are canonical text already stays
    /// as it is registered (a Parquet or Arrow file is not read into memory), and any other is
    /// read once more and registered with the rewritten columns.
    fn canonicalise(&mut self, fw: &Framework, input: &Input, queried: bool) -> Result<(), Error> {
        let key = fw.units.key.as_str();
        let period = fw.units.period.as_deref();
        let name = input.name.as_str();
        let schema = self.table_schema(name)?;
        let cols: Vec<usize> = (0..schema.fields().len())
            .filter(|&c| {
                let n = schema.field(c).name();
                n == key || Some(n.as_str()) == period
            })
            .collect();
        if cols.is_empty() {
            return Ok(());
        }
        let what = format!("source `{name}` ({})", input.path.display());
        let listed: Vec<String> = cols
            .iter()
            .map(|&c| quote_ident(schema.field(c).name()))
            .collect();
        let table = quote_ident(name);
        let keys = self.read(&format!("SELECT {} FROM {table}", listed.join(", ")), &what)?;
        let locate = |c: usize, r: usize| self.place(input, queried, r, Some(cols[c]));
        let (canonical, report) = canon::canonicalise(&keys, key, period, &locate);
        if !report.problems.is_empty() {
            return Err(Error::Data(format!(
                "{what}: {}",
                report.problems.join("\n")
            )));
        }
        if !report.trimmed.is_empty() {
            let shown: Vec<String> = report
                .trimmed
                .iter()
                .map(|(r, k)| format!("{} {k:?}", self.place(input, queried, *r, None)))
                .collect();
            self.warnings.push(Warning::TrimmedKeys {
                source: name.to_string(),
                what: what.clone(),
                keys: shown,
            });
        }
        if let Some((g, first)) = report.granularity {
            self.granularities.retain(|(n, _, _)| n != name);
            self.granularities.push((name.to_string(), g, first));
        }
        let unchanged =
            (0..cols.len()).all(|i| canonical.column(i).as_ref() == keys.column(i).as_ref());
        if unchanged {
            return Ok(());
        }
        // Rows come in the same order as the first read (one partition, in file order).
        let whole = self.read(&format!("SELECT * FROM {table}"), &what)?;
        let mut fields: Vec<Field> = whole
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut columns = whole.columns().to_vec();
        for (i, &c) in cols.iter().enumerate() {
            fields[c] = canonical.schema().field(i).clone();
            columns[c] = canonical.column(i).clone();
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| df_err(&what, e))?;
        self.ctx
            .deregister_table(name)
            .map_err(|e| df_err(&what, e))?;
        let table =
            MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(|e| df_err(&what, e))?;
        self.ctx
            .register_table(name, Arc::new(table))
            .map_err(|e| df_err(&what, e))?;
        Ok(())
    }

    /// Where data row `r` (zero-based) of a source is, for messages: the line (CSV) or cell
    /// (XLSX, when `column` is given) it was read from, `row 5` of a Parquet or Arrow file, or
    /// `result row 5 of its query` once `queried`.
    fn place(&self, input: &Input, queried: bool, r: usize, column: Option<usize>) -> String {
        match self.origins.get(&input.name) {
            _ if queried => format!("result row {} of its query", r + 1),
            Some(o) => column.map_or_else(|| o.row(r), |c| o.cell(r, c)),
            None => format!("row {}", r + 1),
        }
    }

    /// One framework, one kind of period: months, quarters or years.
    fn check_granularities(&self) -> Result<(), Error> {
        let Some((first, g, at)) = self.granularities.first() else {
            return Ok(());
        };
        match self.granularities.iter().find(|(_, h, _)| h != g) {
            None => Ok(()),
            Some((other, h, at2)) => Err(Error::Data(format!(
                "source `{first}` has {} ({at}) but source `{other}` has {} ({at2}); one framework uses one kind of period: aggregate one of them in its `query`",
                g.name(),
                h.name()
            ))),
        }
    }

    fn table_schema(&self, name: &str) -> Result<SchemaRef, Error> {
        let what = format!("source `{name}`");
        let df = self
            .runtime
            .block_on(self.ctx.table(name))
            .map_err(|e| df_err(&what, e))?;
        Ok(Arc::new(df.schema().as_arrow().clone()))
    }

    /// Checks unit keys and joins the sources into [`JOINED`].
    fn join(&mut self, fw: &Framework, inputs: &[&Input]) -> Result<(), Error> {
        let key = &fw.units.key;
        let period = fw.units.period.as_deref();
        let mut periodic = Vec::new();
        let mut unit_sets: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut columns: BTreeMap<String, String> = BTreeMap::new();
        // The sources' columns; the key, period and presence columns come first (below).
        let mut select: Vec<String> = Vec::new();
        let mut joins = Vec::new();
        let mut problems = Vec::new();
        for (n, input) in inputs.iter().enumerate() {
            let schema = self.table_schema(&input.name)?;
            let has = |c: &str| schema.fields().iter().any(|f| f.name() == c);
            if !has(key) {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                let hint = crate::framework::diag::did_you_mean(key, names.iter().copied())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                problems.push(format!(
                    "source `{}` has no unit key column `{key}`{hint}; its columns: {}",
                    input.name,
                    names.join(", ")
                ));
                continue;
            }
            let has_period = period.is_some_and(has);
            let keys = self.keys(input, key, period.filter(|_| has_period))?;
            problems.extend(keys.problems);
            self.interleaved |= keys.interleaved;
            unit_sets.push((input.name.clone(), keys.units));
            let alias = format!("s{n}");
            let mut on = format!("spine.k = CAST({alias}.{} AS VARCHAR)", quote_ident(key));
            if let (true, Some(p)) = (has_period, period) {
                on.push_str(&format!(
                    " AND spine.p = CAST({alias}.{} AS VARCHAR)",
                    quote_ident(p)
                ));
                periodic.push((input.name.clone(), alias.clone(), keys.pairs));
            }
            joins.push(format!(
                "LEFT JOIN {} {alias} ON {on}",
                quote_ident(&input.name)
            ));
            for f in schema.fields() {
                let c = f.name();
                if c == key || Some(c.as_str()) == period {
                    continue;
                }
                if let Some(other) = columns.get(c) {
                    problems.push(format!(
                        "column `{c}` is in both source `{other}` and source `{}`; rename one (a source `query` can use `AS`)",
                        input.name
                    ));
                    continue;
                }
                columns.insert(c.clone(), input.name.clone());
                self.column_sources.insert(c.clone(), (*input).clone());
                let q = format!("{alias}.{}", quote_ident(c));
                if f.data_type().is_numeric() {
                    select.push(format!("CAST({q} AS DOUBLE) AS {}", quote_ident(c)));
                } else {
                    select.push(format!("{q} AS {}", quote_ident(c)));
                }
            }
        }
        if let Some(p) = period
            && periodic.is_empty()
            && problems.is_empty()
        {
            problems.push(format!(
                "[units] period is `{p}`, but no joined source has a column `{p}`"
            ));
        }
        // Every joined source must describe the same units.
        if let Some((first_name, first)) = unit_sets.first() {
            for (name, set) in &unit_sets[1..] {
                let only_first: Vec<&String> = first.difference(set).collect();
                let only_this: Vec<&String> = set.difference(first).collect();
                if !only_first.is_empty() || !only_this.is_empty() {
                    let mut msg =
                        format!("sources `{first_name}` and `{name}` do not have the same units:");
                    if !only_first.is_empty() {
                        msg.push_str(&format!(" only in `{first_name}`: {}.", list(&only_first)));
                    }
                    if !only_this.is_empty() {
                        msg.push_str(&format!(" only in `{name}`: {}.", list(&only_this)));
                    }
                    problems.push(msg);
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::Data(problems.join("\n")));
        }
        let all_pairs = Pairs::union(&periodic.iter().map(|(_, _, p)| p).collect::<Vec<_>>());
        self.layout = if periodic.is_empty() {
            let units = unit_sets.first().map(|(_, u)| u.iter().cloned().collect());
            (units.unwrap_or_default(), vec![String::new()])
        } else {
            (all_pairs.units.clone(), all_pairs.periods.clone())
        };
        let grid = uses_lag(fw);
        if !periodic.is_empty() {
            self.warnings.extend(gaps(&all_pairs));
        }
        // One source whose rows are the spine's (no calendar filler) is read as it is, with no
        // join. Either way the joined table is a view, computed when it is queried.
        let direct = inputs.len() == 1 && (periodic.is_empty() || Spine::is_full(&all_pairs, grid));
        if !direct {
            let spine = if periodic.is_empty() {
                Spine::units(&unit_sets[0].1)
            } else {
                Spine::periods(&all_pairs, grid)
            };
            self.ctx
                .register_table(SPINE, Arc::new(spine.table()?))
                .map_err(|e| df_err("joining the sources", e))?;
        }
        // Unit-periods that one periodic source has and another lacks become missing values.
        if periodic.len() > 1 {
            for (name, _, pairs) in &periodic {
                let missing: Vec<String> = all_pairs
                    .texts()
                    .filter(|(k, p)| !pairs.contains(k, p))
                    .map(|(k, p)| format!("{k} {p}"))
                    .collect();
                if !missing.is_empty() {
                    self.warnings.push(Warning::SourceRows {
                        source: name.clone(),
                        missing,
                    });
                }
            }
        }
        let (from, present) = if direct {
            (format!("{} s0", quote_ident(&inputs[0].name)), "TRUE")
        } else {
            (
                format!("{SPINE} spine {}", joins.join(" ")),
                "spine.present",
            )
        };
        let text = |spine_col: &str, c: &str| match direct {
            true => format!(
                "CAST(s0.{} AS VARCHAR) AS {}",
                quote_ident(c),
                quote_ident(c)
            ),
            false => format!("spine.{spine_col} AS {}", quote_ident(c)),
        };
        let mut all = vec![text("k", key)];
        all.extend(period.map(|p| text("p", p)));
        all.extend(select);
        all.push(format!("{present} AS {}", quote_ident(PRESENT)));
        let sql = format!("SELECT {} FROM {from}", all.join(", "));
        let view = expr::with_large_stack(|| {
            self.runtime.block_on(async {
                let df = self.ctx.sql_with_options(&sql, read_only()).await?;
                let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                self.ctx.register_table(JOINED, df.into_view())?;
                Ok::<_, datafusion::error::DataFusionError>(schema)
            })
        });
        let schema = view.map_err(|e| df_err("joining the sources", e))?;
        self.schema = schema;
        Ok(())
    }

    /// Unit keys of one source, with missing and duplicated keys reported.
    fn keys(&self, input: &Input, key: &str, period: Option<&str>) -> Result<Keys, Error> {
        let mut cols = vec![format!("CAST({} AS VARCHAR)", quote_ident(key))];
        if let Some(p) = period {
            cols.push(format!("CAST({} AS VARCHAR)", quote_ident(p)));
        }
        let sql = format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            quote_ident(&input.name)
        );
        let what = format!("source `{}` ({})", input.name, input.path.display());
        let batches = self.sql(&sql).map_err(|e| df_err(&what, e))?;
        let at = |r: usize| self.place(input, input.query.is_some(), r, None);
        let texts: Vec<(ArrayRef, Option<ArrayRef>)> = batches
            .iter()
            .map(|b| {
                let p = match period {
                    Some(_) => Some(as_text(b.column(1).as_ref())?),
                    None => None,
                };
                Ok((as_text(b.column(0).as_ref())?, p))
            })
            .collect::<Result<_, Error>>()?;
        // Each row's (key, period), read in place, with its row number; `None` for a row
        // without a key or a period. Walked again where needed rather than collected: a large
        // source has a row per unit and period.
        let cells = || {
            texts
                .iter()
                .flat_map(|(k, p)| {
                    let k = k.as_string::<i32>();
                    let p = p.as_ref().map(|c| c.as_string::<i32>());
                    (0..k.len()).map(move |i| {
                        if k.is_null(i) || k.value(i).trim().is_empty() {
                            return None;
                        }
                        match p {
                            Some(p) if p.is_null(i) => None,
                            Some(p) => Some((k.value(i), p.value(i))),
                            None => Some((k.value(i), "")),
                        }
                    })
                })
                .enumerate()
        };
        let nulls: Vec<String> = cells()
            .filter(|(_, cell)| cell.is_none())
            .map(|(row, _)| at(row))
            .collect();
        let rows = || cells().filter_map(|(row, cell)| cell.map(|kp| (kp, row)));
        let (pairs, most_open) = Pairs::in_order(rows().map(|(kp, _)| kp));
        // Fewer distinct pairs than rows: some key (and period) is repeated. Each repeat is
        // named with the row before it that has the same key; a file without repeats is not
        // searched twice.
        let mut dups = Vec::new();
        let present = texts.iter().map(|(k, _)| k.len()).sum::<usize>() - nulls.len();
        if pairs.cells.len() < present {
            let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(present);
            for ((kv, pv), r) in rows() {
                if let Some(before) = last.insert((kv, pv), r) {
                    dups.push(format!(
                        "`{kv}`{} in {} and {}",
                        if pv.is_empty() {
                            String::new()
                        } else {
                            format!(" (period {pv})")
                        },
                        at(before),
                        at(r)
                    ));
                }
            }
        }
        let mut out = Keys {
            units: pairs.units.iter().cloned().collect(),
            interleaved: bind::interleaves(most_open, pairs.periods.len()),
            pairs,
            problems: Vec::new(),
        };
        if !nulls.is_empty() {
            out.problems.push(format!(
                "{what}: {} row(s) have no unit key{}: {}",
                nulls.len(),
                if period.is_some() { " or period" } else { "" },
                list(&nulls.iter().collect::<Vec<_>>())
            ));
        }
        if !dups.is_empty() {
            out.problems.push(format!(
                "{what}: unit key{} repeated: {}",
                if period.is_some() { " and period" } else { "" },
                list(&dups.iter().collect::<Vec<_>>())
            ));
        }
        Ok(out)
    }

    /// Checks every indicator expression against the joined table: columns exist and are
    /// numeric, and DataFusion can plan it. All problems are returned together.
    pub fn check_expressions(&self, fw: &Framework) -> Result<(), Error> {
        let mut items = Vec::new();
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        for i in fw.indicators() {
            let node = &fw.nodes[i];
            let Some(spec) = node.indicator() else {
                continue;
            };
            let at = |r: std::ops::Range<usize>| {
                spec.expr_offset
                    .map_or(spec.expr_span.clone(), |o| o + r.start..o + r.end)
            };
            let Ok(info) = expr::analyse(&spec.expr) else {
                continue;
            };
            let mut bad = false;
            let mut refs: Vec<(String, std::ops::Range<usize>)> = info
                .columns
                .iter()
                .map(|c| (c.name.clone(), at(c.range.clone())))
                .collect();
            if let Some((d, span)) = &spec.denominator {
                refs.push((d.clone(), span.clone()));
            }
            for (name, span) in &refs {
                match self.schema.field_with_name(name) {
                    Err(_) => {
                        bad = true;
                        let same_case = names.iter().find(|n| n.eq_ignore_ascii_case(name));
                        let hint = match same_case {
                            Some(n) => format!(
                                "column names are case-sensitive and unquoted names are read in lower case: write \"{n}\" in double quotes"
                            ),
                            None => {
                                crate::framework::diag::did_you_mean(name, names.iter().copied())
                                    .unwrap_or_else(|| format!("columns: {}", names.join(", ")))
                            }
                        };
                        items.push(
                            Diagnostic::error(
                                span.clone(),
                                format!("unknown column `{name}` in indicator `{}`", node.id),
                            )
                            .with_label("no such column in the data")
                            .with_hint(hint),
                        );
                    }
                    Ok(f) if !f.data_type().is_numeric() => {
                        bad = true;
                        items.push(
                            Diagnostic::error(span.clone(), format!("column `{name}` {}", self.text_column(name)))
                                .with_label("not numeric")
                                .with_hint("indicator expressions compute numbers; fix the cells, or convert the column in the source's `query`"),
                        );
                    }
                    Ok(_) => {}
                }
            }
            if bad {
                continue;
            }
            let sql = match self.select_sql(fw, &[i], false) {
                Ok(s) => s,
                Err(e) => {
                    items.push(Diagnostic::error(at(e.range), e.message).with_label("here"));
                    continue;
                }
            };
            if let Err(e) = self.plan(&format!("{sql} LIMIT 0")) {
                items.push(
                    Diagnostic::error(
                        spec.expr_span.clone(),
                        format!(
                            "indicator `{}` cannot be evaluated: {}",
                            node.id,
                            e.strip_backtrace()
                        ),
                    )
                    .with_label("in this expression"),
                );
            }
        }
        if let Some(cond) = &fw.rank.only {
            self.check_rank_condition(fw, cond, &names, &mut items);
        }
        if items.is_empty() {
            Ok(())
        } else {
            Err(Error::Framework(Diagnostics {
                file: fw.file.clone(),
                items,
            }))
        }
    }

    /// What is wrong with a text column used as a number: its source and its first values that
    /// are not numbers, with their lines or cells.
    fn text_column(&self, name: &str) -> String {
        let Some(input) = self.column_sources.get(name) else {
            return "holds text, not numbers".to_string();
        };
        let q = format!(
            "SELECT CAST({} AS VARCHAR) FROM {}",
            quote_ident(name),
            quote_ident(&input.name)
        );
        let mut stray = Vec::new();
        let mut row = 0usize;
        for b in self.sql(&q).unwrap_or_default() {
            let Ok(c) = as_text(b.column(0).as_ref()) else {
                break;
            };
            let c = c.as_string::<i32>();
            for i in 0..c.len() {
                if !c.is_null(i) && c.value(i).trim().parse::<f64>().is_err() {
                    let at = self.place(input, input.query.is_some(), row, None);
                    stray.push(format!("{at} `{}`", c.value(i)));
                }
                row += 1;
            }
        }
        format!(
            "of source `{}` ({}) holds text, not numbers: {}",
            input.name,
            input.path.display(),
            list(&stray)
        )
    }

    /// Checks `[rank] only` against the joined table: its columns exist and DataFusion can
    /// plan it as a condition.
    fn check_rank_condition(
        &self,
        fw: &Framework,
        cond: &str,
        names: &[&str],
        items: &mut Vec<Diagnostic>,
    ) {
        let spec = &fw.rank;
        let at = |r: std::ops::Range<usize>| {
            spec.only_offset
                .map_or(spec.only_span.clone(), |o| o + r.start..o + r.end)
        };
        let Ok(info) = expr::analyse(cond) else {
            return;
        };
        let mut bad = false;
        for c in &info.columns {
            if self.schema.field_with_name(&c.name).is_err() {
                bad = true;
                let hint = crate::framework::diag::did_you_mean(&c.name, names.iter().copied())
                    .unwrap_or_else(|| format!("columns: {}", names.join(", ")));
                items.push(
                    Diagnostic::error(
                        at(c.range.clone()),
                        format!("unknown column `{}` in [rank] only", c.name),
                    )
                    .with_label("no such column in the data")
                    .with_hint(hint),
                );
            }
        }
        if bad {
            return;
        }
        let plan = expr::to_sql(cond, &fw.units.key, fw.units.period.as_deref());
        let err = match plan {
            Ok(sql) => match self.plan(&format!("SELECT ({sql}) AS c FROM {JOINED} LIMIT 0")) {
                Ok(s)
                    if !matches!(s.field(0).data_type(), DataType::Boolean | DataType::Null)
                        && !s.field(0).data_type().is_numeric() =>
                {
                    Some(format!(
                        "it is {}, not true/false (compare it, e.g. `{cond} = 'yes'`)",
                        s.field(0).data_type()
                    ))
                }
                Ok(_) => self
                    .plan(&format!(
                        "SELECT CAST(({sql}) AS BOOLEAN) FROM {JOINED} LIMIT 0"
                    ))
                    .err()
                    .map(|e| e.strip_backtrace()),
                Err(e) => Some(e.strip_backtrace()),
            },
            Err(e) => Some(e.message),
        };
        if let Some(e) = err {
            items.push(
                Diagnostic::error(
                    spec.only_span.clone(),
                    format!("[rank] only cannot be evaluated as a condition: {e}"),
                )
                .with_label("in this condition"),
            );
        }
    }

    /// The query evaluating `indicators`, with the `[rank] only` condition when `with_rank`.
    fn select_sql(
        &self,
        fw: &Framework,
        indicators: &[usize],
        with_rank: bool,
    ) -> Result<String, expr::ExprError> {
        self.select_sql_over(fw, indicators, with_rank, JOINED, true)
    }

    /// [`Self::select_sql`] over `table`, a table with the joined table's columns; with the
    /// units' names and groups when `with_texts`.
    fn select_sql_over(
        &self,
        fw: &Framework,
        indicators: &[usize],
        with_rank: bool,
        table: &str,
        with_texts: bool,
    ) -> Result<String, expr::ExprError> {
        let u = &fw.units;
        // (SQL, output name) of each column; evaluated over every row of the joined table
        // (calendar fillers included, so that windows count periods), then the rows that are
        // really there are kept.
        let mut cols: Vec<(String, String)> = vec![(quote_ident(&u.key), u.key.clone())];
        if let Some(p) = &u.period {
            cols.push((quote_ident(p), p.clone()));
        }
        let named = u.name_columns().into_iter().chain(u.group_columns());
        for c in named.filter(|_| with_texts) {
            if self.schema.field_with_name(c).is_ok() {
                cols.push((
                    format!("CAST({} AS VARCHAR)", quote_ident(c)),
                    c.to_string(),
                ));
            }
        }
        if let Some(cond) = fw.rank.only.as_ref().filter(|_| with_rank) {
            let sql = expr::to_sql(&self.rolled_expr(cond)?, &u.key, u.period.as_deref())?;
            cols.push((format!("CAST(({sql}) AS BOOLEAN)"), RANK_ONLY.to_string()));
        }
        for &i in indicators {
            let node = &fw.nodes[i];
            let spec = node.indicator().expect("indicator nodes only");
            let mut sql =
                expr::to_sql(&self.rolled_expr(&spec.expr)?, &u.key, u.period.as_deref())?;
            if let Some((d, _)) = &spec.denominator {
                sql = format!(
                    "CAST(({sql}) AS DOUBLE) / (CAST({} AS DOUBLE) / {:?})",
                    quote_ident(d),
                    spec.denominator_scale
                );
            }
            cols.push((
                format!("CAST(({sql}) AS DOUBLE)"),
                format!("ind.{}", node.id),
            ));
        }
        let inner: Vec<String> = cols
            .iter()
            .map(|(sql, name)| format!("{sql} AS {}", quote_ident(name)))
            .chain([quote_ident(PRESENT)])
            .collect();
        let outer: Vec<String> = cols.iter().map(|(_, name)| quote_ident(name)).collect();
        // Not sorted here: `bind::Binder` places each row by its unit and period.
        Ok(format!(
            "SELECT {} FROM (SELECT {} FROM {table}) WHERE {}",
            outer.join(", "),
            inner.join(", "),
            quote_ident(PRESENT),
        ))
    }

    /// Evaluates every indicator expression and binds the result into the panel: one row per
    /// unit and period, placed as DataFusion produces it, so that the evaluated table is never
    /// held whole (see [`bind::Binder`]).
    pub fn bind(&self, fw: &Framework) -> Result<Panel, Error> {
        self.check_expressions(fw)?;
        let (units, periods) = self.layout.clone();
        // What the checks and earlier queries freed, given back before the panel is made.
        give_back_freed_memory();
        let mut binder =
            bind::Binder::new(fw, units, periods)?.reading_pages(self.dictionary_bytes);
        for (pass, indicators) in binder.passes().into_iter().enumerate() {
            let sql = match pass {
                0 => self.select_sql(fw, &indicators, true),
                _ => self.select_sql_over(fw, &indicators, false, JOINED, false),
            };
            let sql = sql.map_err(|e| Error::Data(e.message))?;
            binder.begin(pass);
            binder = self.place_batches(fw, &sql, binder, |b, batch| b.push(batch))?;
        }
        if binder.rows() == 0 {
            return Err(Error::Data("the joined data have no rows".into()));
        }
        self.no_empty_indicator(fw, &binder.empty_indicators())?;
        binder.finish()
    }

    /// Whether the rows of some source keep more than half its periods open at once (a table
    /// sorted by unit, where every period has rows up to the last ones): binding such data a
    /// period at a time would hold every period until the end.
    pub fn interleaves(&self) -> bool {
        self.interleaved
    }

    /// Whether a run reading one period at a time gains by binding `fw`'s values into a
    /// temporary file ([`spill::Spill`]) when the rows interleave the periods: there is more
    /// than one period, and the values of every unit and period of the data (the most a panel
    /// bound whole holds) take more than `above` bytes.
    pub fn spills(&self, fw: &Framework, above: usize) -> bool {
        let (units, periods) = &self.layout;
        let bytes = units.len() * periods.len() * fw.indicators().len() * size_of::<f64>();
        periods.len() > 1 && bytes > above
    }

    /// The panel of `fw`'s data without its values ([`bind::Binder::without_values`]): its
    /// units and periods with rows, names, groups and `[rank] only` flags, from a query that
    /// reads the keys and texts only. Its values are bound by [`DataStage::bind_periods`],
    /// which makes the checks [`DataStage::bind`] makes, in its order.
    pub fn bind_layout(&self, fw: &Framework) -> Result<Layout, Error> {
        self.check_expressions(fw)?;
        let sql = self
            .select_sql(fw, &[], true)
            .map_err(|e| Error::Data(e.message))?;
        let (units, periods) = self.layout.clone();
        let mut binder = bind::Binder::without_values(fw, units, periods)?;
        self.each_batch(&sql, |b| binder.push(&b))
            .map_err(|e| self.locate_failure(fw, &e))??;
        let (rows, most_open) = (binder.rows(), binder.most_open());
        let (mut panel, groups) = binder.into_layout();
        panel.indicators = fw.indicators();
        Ok(Layout {
            panel,
            rows,
            most_open,
            groups,
        })
    }

    /// The values of `layout`'s rows bound into its panel, every period at once, with the
    /// checks [`DataStage::bind_periods`] makes: the panel [`DataStage::bind`] gives.
    pub fn bind_whole(&self, fw: &Framework, layout: Layout) -> Result<Panel, Error> {
        let Layout {
            mut panel,
            rows,
            groups,
            ..
        } = layout;
        let binder = bind::PeriodBinder::whole(fw, &panel).reading_pages(self.dictionary_bytes);
        let bind::Bound::Whole(values) = self.bind_with(fw, binder, rows, groups, |_, _| {})?
        else {
            unreachable!("bound whole");
        };
        panel.values = values;
        Ok(panel)
    }

    /// The values of `layout`'s rows bound into `spill`, a temporary file of every period
    /// ([`spill::Spill`], of the layout's periods × units × indicators), with the checks
    /// [`DataStage::bind_periods`] makes: for a run that reads one period at a time back, from
    /// rows that interleave the periods. Returns the layout's panel (without values) and the
    /// file.
    pub fn bind_spilled(
        &self,
        fw: &Framework,
        layout: Layout,
        spill: spill::Spill,
    ) -> Result<(Panel, spill::Spill), Error> {
        let binder = bind::PeriodBinder::spilling(fw, &layout.panel, spill);
        let bound = self.bind_with(fw, binder, layout.rows, layout.groups, |_, _| {})?;
        let bind::Bound::Spilled(spill) = bound else {
            unreachable!("bound into a file");
        };
        Ok((layout.panel, spill))
    }

    /// Binds the indicator values of `layout`'s rows a period at a time, handing each period
    /// to `done` (its index and values, units × indicators) as soon as its last row is placed;
    /// while `done` takes the period, the query goes on. Then makes the checks
    /// [`DataStage::bind`] makes, in its order: rows, empty indicators, non-finite values,
    /// groups.
    pub fn bind_periods(
        &self,
        fw: &Framework,
        layout: Layout,
        done: impl FnMut(usize, Array2<f64>) + Send,
    ) -> Result<(), Error> {
        let binder = bind::PeriodBinder::new(fw, &layout.panel);
        self.bind_with(fw, binder, layout.rows, layout.groups, done)
            .map(|_| ())
    }

    /// Binds the indicator values with `binder`, a query per pass it makes, then makes the
    /// checks, the layout's (`rows` placed, `groups` checked) in their turn.
    fn bind_with(
        &self,
        fw: &Framework,
        mut binder: bind::PeriodBinder,
        rows: usize,
        groups: Result<(), Error>,
        mut done: impl FnMut(usize, Array2<f64>) + Send,
    ) -> Result<bind::Bound, Error> {
        for (pass, indicators) in binder.passes().into_iter().enumerate() {
            let sql = self
                .select_sql_over(fw, &indicators, false, JOINED, false)
                .map_err(|e| Error::Data(e.message))?;
            binder.begin(pass);
            binder = self.place_batches(fw, &sql, binder, |b, batch| b.push(batch, &mut done))?;
        }
        if rows == 0 {
            return Err(Error::Data("the joined data have no rows".into()));
        }
        self.no_empty_indicator(fw, &binder.empty_indicators())?;
        let values = binder.finish()?;
        groups.map(|()| values)
    }

    /// Runs the query `sql` and places each batch of its result with `push` into `binder`, on
    /// a thread of its own while DataFusion makes the next, in the order made; handed over, not
    /// queued, so that one batch waits at most. A batch that cannot be placed stops the query:
    /// its error comes first, as it would placing batch by batch on one thread; a failing
    /// query's error is located (see [`DataStage::locate_failure`]).
    fn place_batches<B: Send>(
        &self,
        fw: &Framework,
        sql: &str,
        mut binder: B,
        mut push: impl FnMut(&mut B, &RecordBatch) -> Result<(), Error> + Send,
    ) -> Result<B, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(0);
        let (streamed, placed) = std::thread::scope(|s| {
            let placing = s.spawn(move || -> Result<B, Error> {
                for batch in rx {
                    push(&mut binder, &batch)?;
                }
                Ok(binder)
            });
            let streamed = self.each_batch(sql, |b| {
                tx.send(b)
                    .map_err(|_| Error::Data("binding the evaluated table stopped".into()))
            });
            drop(tx);
            let placed = placing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (streamed, placed)
        });
        let binder = placed?;
        streamed.map_err(|e| self.locate_failure(fw, &e))??;
        Ok(binder)
    }

    /// Runs one query (as [`Self::sql`] does) and hands each batch of its result to `f` as it
    /// is produced; stops at the first error of `f`, which is returned inside.
    fn each_batch(
        &self,
        q: &str,
        mut f: impl FnMut(RecordBatch) -> Result<(), Error> + Send,
    ) -> datafusion::error::Result<Result<(), Error>> {
        expr::with_large_stack(|| {
            self.runtime.block_on(async {
                let df = self.ctx.sql_with_options(q, read_only()).await?;
                let mut stream = df.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    if let Err(e) = f(batch?) {
                        return Ok(Err(e));
                    }
                }
                Ok(Ok(()))
            })
        })
    }

    /// An indicator with no value for any unit in any period is an error naming the empty
    /// columns it reads and their sources. (One empty in some periods only, like a `lag` in
    /// the first period, is left out of those periods with a warning.)
    fn no_empty_indicator(&self, fw: &Framework, empty_nodes: &[usize]) -> Result<(), Error> {
        let mut problems = Vec::new();
        for &i in empty_nodes {
            let node = &fw.nodes[i];
            let spec = node.indicator().expect("indicator nodes only");
            let mut empty = Vec::new();
            if let Ok(info) = expr::analyse(&spec.expr) {
                for c in info.columns {
                    let all_null = self
                        .count(&format!(
                            "SELECT COUNT({}) FROM {JOINED}",
                            quote_ident(&c.name)
                        ))
                        .is_ok_and(|n| n == 0);
                    if all_null && !empty.iter().any(|(n, _)| *n == c.name) {
                        let from = self.column_sources.get(&c.name).map(|i| i.name.clone());
                        empty.push((c.name.clone(), from));
                    }
                }
            }
            let why = if empty.is_empty() {
                format!("its expression `{}` is missing everywhere", spec.expr)
            } else {
                empty
                    .iter()
                    .map(|(c, from)| match from {
                        Some(s) => format!("column `{c}` (source `{s}`) is empty in every row"),
                        None => format!("column `{c}` is empty in every row"),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            problems.push(format!(
                "indicator `{}` has no value for any unit in any period: {why}",
                node.id
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Data(problems.join("\n")))
        }
    }

    /// The number a `SELECT COUNT(…)` query returns.
    fn count(&self, sql: &str) -> datafusion::error::Result<i64> {
        let batches = self.sql(sql)?;
        Ok(batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .and_then(|b| {
                b.column(0)
                    .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()
                    .map(|c| c.value(0))
            })
            .unwrap_or(0))
    }

    /// The joined table's columns and their types.
    pub fn columns(&self) -> Vec<(String, DataType)> {
        self.schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    }
}

/// A panel bound without its values ([`DataStage::bind_layout`]), with what the checks made
/// after its values are bound need.
pub struct Layout {
    /// The panel: units, periods, names, groups and `[rank] only` flags; no values.
    pub panel: Panel,
    /// The rows placed.
    rows: usize,
    /// The most periods open at once in the order the rows came (see
    /// [`bind::Binder::most_open`]).
    pub most_open: usize,
    /// Whether every unit has a group (checked last).
    groups: Result<(), Error>,
}

#[derive(Default)]
struct Keys {
    units: BTreeSet<String>,
    pairs: Pairs,
    /// Whether more than half the source's periods are open at once in its rows' order (a
    /// table sorted by unit).
    interleaved: bool,
    problems: Vec<String>,
}

fn input_of(s: &Source) -> Input {
    Input {
        name: s.name.clone(),
        path: s.resolved.clone(),
        sheet: s.sheet.clone(),
        query: s.query.clone(),
        join: s.join,
        intake: s.intake.clone(),
    }
}

/// The schema of a query result (also when it returned no batch).
fn batches_schema(
    stage: &DataStage,
    sql: &str,
    batches: &[RecordBatch],
) -> Result<SchemaRef, Error> {
    if let Some(b) = batches.first() {
        return Ok(b.schema());
    }
    stage.plan(sql).map_err(|e| df_err("planning", e))
}

/// At most ten items of a list, then "and N more".
pub fn list<T: std::fmt::Display>(items: &[T]) -> String {
    list_at_most(items, 10)
}

/// At most `n` items of a list, comma-separated, then "and N more": the one way kapok's
/// messages shorten long lists.
pub fn list_at_most<T: std::fmt::Display>(items: &[T], n: usize) -> String {
    let shown: Vec<String> = items.iter().take(n).map(|i| i.to_string()).collect();
    if items.len() > n {
        format!("{} and {} more", shown.join(", "), items.len() - n)
    } else {
        shown.join(", ")
    }
}

/// Casts any array to Utf8 (for keys read as numbers).
pub fn as_text(a: &dyn Array) -> Result<Arc<dyn Array>, Error> {
    cast(a, &DataType::Utf8).map_err(|e| Error::Data(format!("cannot read as text: {e}")))
}
