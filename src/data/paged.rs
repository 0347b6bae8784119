//! Parquet sources read a page at a time.
//!
//! DataFusion's own Parquet scan fetches every projected column of a row group into memory
//! before decoding it, so a file written as one large row group (500,000 rows of 60 indicators
//! is 250 MB) is held whole while its rows are evaluated and bound. [`PagedParquet`] reads the
//! same file with the Parquet crate's synchronous reader, which streams each column chunk from
//! the file page by page: memory holds a page per column and the batch being decoded. It reads
//! only the columns a query uses, in the order the query asks for them, and yields the rows in
//! the file's order, as DataFusion's scan with one partition does.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

/// A Parquet file registered as a table and read page by page (see the module docs).
pub struct PagedParquet {
    path: PathBuf,
    /// The file's footer, read once when the table is registered.
    metadata: ArrowReaderMetadata,
    /// The table's schema: the file's, without its key-value metadata (as DataFusion registers
    /// a Parquet file).
    schema: SchemaRef,
}

/// Names the file only: the footer's own `Debug` prints every column chunk of every row group.
impl fmt::Debug for PagedParquet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagedParquet")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PagedParquet {
    /// Opens `path` and reads its footer; a file that is not Parquet fails here.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path)?;
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())?;
        let schema = Arc::new(Schema::new(metadata.schema().fields().clone()));
        Ok(Self {
            path: path.to_path_buf(),
            metadata,
            schema,
        })
    }

    /// The bytes of dictionary pages a reader of every column holds at once, at most: a column
    /// chunk's dictionary page is held until its row group ends, so the largest row group's
    /// pages, as the file stores them (compressed, when the file is).
    pub fn dictionary_bytes(&self) -> usize {
        let groups = self.metadata.metadata().row_groups();
        let group = |g: &datafusion::parquet::file::metadata::RowGroupMetaData| -> usize {
            g.columns()
                .iter()
                .filter_map(|c| {
                    let at = c.dictionary_page_offset()?;
                    usize::try_from(c.data_page_offset() - at).ok()
                })
                .sum()
        };
        groups.iter().map(group).max().unwrap_or(0)
    }
}

#[async_trait]
impl TableProvider for PagedParquet {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let pages = Pages {
            path: self.path.clone(),
            metadata: self.metadata.clone(),
            schema: Arc::new(self.schema.project(&columns)?),
            columns,
        };
        let schema = pages.schema.clone();
        let exec =
            StreamingTableExec::try_new(schema, vec![Arc::new(pages)], None, [], false, limit)?;
        Ok(Arc::new(exec))
    }
}

/// One scan of a [`PagedParquet`]: the columns it reads, in the order asked for.
struct Pages {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    /// Indices of the columns read, into the table's schema, in the scan's order.
    columns: Vec<usize>,
    /// The scan's schema: the table's, projected on `columns`.
    schema: SchemaRef,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("path", &self.path)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl Pages {
    /// The reader's batches, each with its columns put in the scan's order. The reader yields
    /// the projected columns in the file's order.
    fn batches(
        &self,
        batch_size: usize,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + Send + 'static> {
        let file = File::open(&self.path)?;
        let mut in_file = self.columns.clone();
        in_file.sort_unstable();
        in_file.dedup();
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), in_file.iter().copied());
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                .with_projection(mask)
                .with_batch_size(batch_size)
                .build()?;
        // Where each column of the scan sits among the reader's columns.
        let at: Vec<usize> = self
            .columns
            .iter()
            .map(|c| {
                in_file
                    .binary_search(c)
                    .expect("every scanned column is read")
            })
            .collect();
        let schema = self.schema.clone();
        Ok(reader.map(move |batch| {
            let batch = batch?;
            let columns = at.iter().map(|&i| batch.column(i).clone()).collect();
            Ok(RecordBatch::try_new_with_options(
                schema.clone(),
                columns,
                &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
            )?)
        }))
    }
}

impl PartitionStream for Pages {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        let batches: Box<dyn Iterator<Item = Result<RecordBatch>> + Send> =
            match self.batches(batch_size) {
                Ok(b) => Box::new(b),
                Err(e) => Box::new(std::iter::once(Err::<RecordBatch, DataFusionError>(e))),
            };
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
    use proptest::prelude::*;

    /// A table of `rows` rows: a text key, a float with gaps, a whole number and a text with
    /// gaps, each value drawn from `seed`.
    fn table(rows: usize, seed: u64) -> RecordBatch {
        let draw = |i: usize, k: u64| {
            (i as u64 + 1)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_add(k))
                .rotate_left(17)
                % 1000
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int64, false),
            Field::new("note", DataType::Utf8, true),
        ]));
        let key = StringArray::from_iter_values((0..rows).map(|i| format!("{:04}", draw(i, 1))));
        let x: Float64Array = (0..rows)
            .map(|i| (draw(i, 2) % 7 != 0).then(|| draw(i, 3) as f64 / 8.0 - 40.0))
            .collect();
        let n = Int64Array::from_iter_values((0..rows).map(|i| draw(i, 4) as i64 - 500));
        let note: StringArray = (0..rows)
            .map(|i| (draw(i, 5) % 3 != 0).then(|| format!("茶滘 {}", draw(i, 6))))
            .collect();
        RecordBatch::try_new(
            schema,
            vec![Arc::new(key), Arc::new(x), Arc::new(n), Arc::new(note)],
        )
        .unwrap()
    }

    /// The rows of `q`'s result, as text, in the order produced.
    fn run(ctx: &SessionContext, q: &str) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let batches = rt
            .block_on(async { ctx.sql(q).await?.collect().await })
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        text.lines().map(str::to_string).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Over files of one or many row groups and pages, the paged table gives every query
        /// (all columns, a few in any order, none, a filter, a count) the rows DataFusion's
        /// own Parquet scan gives, in the same order.
        #[test]
        fn paged_scans_answer_as_datafusion_does(
            rows in 1usize..400,
            group in 1usize..200,
            page in 1usize..50,
            seed in any::<u64>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.parquet");
            let batch = table(rows, seed);
            let props = WriterProperties::builder()
                .set_max_row_group_row_count(Some(group))
                .set_data_page_row_count_limit(page)
                .set_write_batch_size(page)
                .build();
            let mut w =
                ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props))
                    .unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();

            let config = SessionConfig::new().with_target_partitions(1).with_batch_size(64);
            let ours = SessionContext::new_with_config(config.clone());
            ours.register_table("t", Arc::new(PagedParquet::open(&path).unwrap())).unwrap();
            let theirs = SessionContext::new_with_config(config);
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(theirs.register_parquet(
                "t",
                path.to_str().unwrap(),
                ParquetReadOptions::default(),
            ))
            .unwrap();
            for q in [
                "SELECT * FROM t",
                "SELECT note, key FROM t",
                "SELECT n, x, n + 1 AS m FROM t",
                "SELECT COUNT(*) FROM t",
                "SELECT key, x FROM t WHERE x > 0 OR note IS NULL",
                "SELECT 1 AS one FROM t",
            ] {
                prop_assert_eq!(run(&ours, q), run(&theirs, q), "{}", q);
            }
        }
    }

    /// A scan asking for columns out of the file's order gets them in its own order.
    #[test]
    fn a_scan_gets_its_columns_in_the_order_it_asks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let batch = table(300, 7);
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(128))
            .build();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props))
            .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let table = PagedParquet::open(&path).unwrap();
        let ctx = SessionContext::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for columns in [vec![3, 0, 2], vec![1], vec![2, 1, 3, 0], vec![0, 3]] {
            let read = rt
                .block_on(async {
                    let plan = table.scan(&ctx.state(), Some(&columns), &[], None).await?;
                    datafusion::physical_plan::collect(plan, ctx.task_ctx()).await
                })
                .unwrap();
            let want = batch.project(&columns).unwrap();
            let read = datafusion::arrow::compute::concat_batches(&want.schema(), &read).unwrap();
            assert_eq!(read, want, "columns {columns:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_parquet_is_refused_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, "unit,x\n0101,1\n").unwrap();
        let e = PagedParquet::open(&path).unwrap_err().to_string();
        assert!(e.contains("Parquet"), "{e}");
    }
}
