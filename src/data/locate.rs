//! When evaluating the indicators fails inside DataFusion (`sqrt` of a negative number, an
//! integer division by zero), the error names no row. This finds the indicator, unit and period
//! by evaluating again over parts of the data.

use datafusion::arrow::array::{Array, AsArray};
use std::sync::Arc;

use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;

use super::{DataStage, JOINED};
use crate::error::Error;
use crate::framework::Framework;
use crate::framework::expr::quote_ident;

/// SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// DataFusion's message without the layers of "Arrow error: Compute error: …".
fn cause(e: &DataFusionError) -> String {
    let mut m = e.strip_backtrace();
    loop {
        let before = m.len();
        for p in [
            "Arrow error: ",
            "Compute error: ",
            "Execution error: ",
            "External error: ",
            "Optimizer rule ",
        ] {
            if let Some(rest) = m.strip_prefix(p) {
                m = rest.to_string();
            }
        }
        if m.len() == before {
            return m;
        }
    }
}

impl DataStage {
    /// The distinct values of `column` (as text) among the rows of the joined table that pass
    /// `filter`, in the order DataFusion sorts that column.
    fn distinct(&self, column: &str, filter: &str) -> Option<Vec<String>> {
        let c = quote_ident(column);
        let q = format!(
            "SELECT DISTINCT {c} AS v, CAST({c} AS VARCHAR) AS t FROM {JOINED} WHERE {filter} ORDER BY v"
        );
        let batches = self.sql(&q).ok()?;
        let mut out = Vec::new();
        for b in &batches {
            let col = super::as_text(b.column(1).as_ref()).ok()?;
            let col = col.as_string::<i32>();
            out.extend((0..col.len()).map(|i| col.value(i).to_string()));
        }
        Some(out)
    }

    /// Whether evaluating `indicators` over the rows passing `filter` fails, with the error.
    /// The rows are copied into a table of their own first: DataFusion may evaluate
    /// expressions before a filter in the same query is applied.
    fn fails(&self, fw: &Framework, indicators: &[usize], filter: &str) -> Option<DataFusionError> {
        const PART: &str = "kapok_part";
        let rows = format!("SELECT * FROM {JOINED} WHERE {filter}");
        let batches = self.sql(&rows).ok()?;
        let table = MemTable::try_new(self.schema.clone(), vec![batches]).ok()?;
        self.ctx.register_table(PART, Arc::new(table)).ok()?;
        let sql = self
            .select_sql_over(fw, indicators, indicators.is_empty(), PART, true)
            .ok()?;
        let result = self.sql(&sql).err();
        let _ = self.ctx.deregister_table(PART);
        result
    }

    /// The first of `values` (of `column`) that makes the evaluation fail: the shortest prefix
    /// of `values` that fails ends with it (a row's error does not depend on later rows; `lag`
    /// only looks back).
    fn first_failing(
        &self,
        fw: &Framework,
        indicators: &[usize],
        base: &str,
        column: &str,
        values: &[String],
    ) -> Option<(String, DataFusionError)> {
        let c = format!("CAST({} AS VARCHAR)", quote_ident(column));
        let prefix = |k: usize| {
            let list: Vec<String> = values[..k].iter().map(|v| literal(v)).collect();
            format!("{base} AND {c} IN ({})", list.join(", "))
        };
        let mut error = self.fails(fw, indicators, &prefix(values.len()))?;
        let (mut lo, mut hi) = (0, values.len());
        // Invariant: prefix(hi) fails, prefix(lo) does not (the empty prefix never fails).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match self.fails(fw, indicators, &prefix(mid)) {
                Some(e) => {
                    hi = mid;
                    error = e;
                }
                None => lo = mid,
            }
        }
        Some((values[hi - 1].clone(), error))
    }

    /// The error of a failed evaluation, naming the indicator (or `[rank] only`), unit and
    /// period where DataFusion failed.
    pub(super) fn locate_failure(&self, fw: &Framework, error: &DataFusionError) -> Error {
        let general = || Error::Eval(format!("evaluating the indicators: {}", cause(error)));
        let all = "TRUE";
        let found = fw
            .indicators()
            .into_iter()
            .find_map(|i| self.fails(fw, &[i], all).map(|e| (Some(i), e)))
            .or_else(|| {
                fw.rank
                    .only
                    .as_ref()
                    .and_then(|_| self.fails(fw, &[], all).map(|e| (None, e)))
            });
        let Some((indicator, mut cause_error)) = found else {
            return general();
        };
        let what = match indicator {
            Some(i) => format!("indicator `{}`", fw.nodes[i].id),
            None => "[rank] only".to_string(),
        };
        let ids: Vec<usize> = indicator.into_iter().collect();
        let mut place = String::new();
        let key = &fw.units.key;
        if let Some(units) = self.distinct(key, all)
            && let Some((unit, e)) = self.first_failing(fw, &ids, all, key, &units)
        {
            cause_error = e;
            place.push_str(&format!(", unit {unit}"));
            if let Some(period) = &fw.units.period {
                let base = format!("CAST({} AS VARCHAR) = {}", quote_ident(key), literal(&unit));
                if let Some(periods) = self.distinct(period, &base)
                    && let Some((p, e)) = self.first_failing(fw, &ids, &base, period, &periods)
                {
                    cause_error = e;
                    place.push_str(&format!(", period {p}"));
                }
            }
        }
        Error::Eval(format!(
            "{what}{place} cannot be evaluated: {}",
            cause(&cause_error)
        ))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::super::read_only;

    /// DataFusion's own switches refuse every statement that is not a query, even when kapok's
    /// own check is bypassed (the `--data` table, a library caller).
    #[test]
    fn datafusion_refuses_writes_and_statements_under_kapoks_options() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ctx = SessionContext::new();
        rt.block_on(ctx.sql("CREATE TABLE d AS VALUES (1, 2)"))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        for (q, kind) in [
            (
                format!("COPY d TO '{}'", out.display()),
                "DML not supported: COPY",
            ),
            (
                format!("COPY (SELECT * FROM d) TO '{}'", out.display()),
                "DML not supported: COPY",
            ),
            (
                format!(
                    "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'",
                    out.display()
                ),
                "DDL not supported",
            ),
            (
                "CREATE TABLE t AS SELECT 1".to_string(),
                "DDL not supported",
            ),
            ("DROP TABLE d".to_string(), "DDL not supported"),
            (
                "INSERT INTO d VALUES (3, 4)".to_string(),
                "DML not supported",
            ),
            (
                "SET datafusion.execution.batch_size = 1".to_string(),
                "Statement not supported",
            ),
        ] {
            let e = rt
                .block_on(ctx.sql_with_options(&q, read_only()))
                .err()
                .unwrap_or_else(|| panic!("`{q}` was accepted"));
            assert!(e.to_string().contains(kind), "{q}: {e}");
        }
        assert!(!out.exists(), "a refused COPY wrote a file");
        let rows = rt
            .block_on(async {
                ctx.sql_with_options("SELECT * FROM d", read_only())
                    .await?
                    .collect()
                    .await
            })
            .unwrap();
        assert_eq!(rows[0].num_rows(), 1);
    }
}
