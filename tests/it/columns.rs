//! `kapok score --columns … --nodes …`: the columns chosen are exactly those asked for, in the
//! full table's order, with the full table's values; unknown names are usage errors.

use std::path::Path;

use super::util::{Csv, kapok, tempdir, texts};

const STREETS: &str = "indicators/hongmian-streets.toml";

/// Runs `kapok score FRAMEWORK -o OUT extra…` and reads the CSV written.
fn score(framework: &str, out: &Path, extra: &[&str]) -> Csv {
    let mut args = vec!["score", framework, "-o", out.to_str().unwrap()];
    args.extend(extra);
    let run = kapok(&args);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{extra:?}: {err}");
    Csv::read(out)
}

/// Checks that `part` holds exactly the columns `want` (in that order) and that each equals
/// the full table's column of that name, row for row.
fn same_as_full(full: &Csv, part: &Csv, want: &[&str], what: &str) {
    assert_eq!(part.header, want, "{what}: columns");
    assert_eq!(part.rows.len(), full.rows.len(), "{what}: rows");
    for (c, name) in want.iter().enumerate() {
        let f = full.col(name);
        for (pr, fr) in part.rows.iter().zip(&full.rows) {
            assert_eq!(pr[c], fr[f], "{what}: column {name}");
        }
    }
}

#[test]
fn chosen_columns_are_those_of_the_full_table() {
    let dir = tempdir();
    let full = score(STREETS, &dir.path().join("full.csv"), &[]);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--columns", "index"],
            vec![
                "unit",
                "period",
                "score.hongmian_streets",
                "rank.hongmian_streets",
            ],
        ),
        (
            // Order of the full table, whatever the order typed; repeated and comma-separated.
            vec![
                "--columns",
                "rank,group",
                "--columns",
                "score",
                "--nodes",
                "public_safety,hongmian_streets",
            ],
            vec![
                "unit",
                "period",
                "group",
                "score.hongmian_streets",
                "rank.hongmian_streets",
                "score.public_safety",
                "rank.public_safety",
            ],
        ),
        (
            vec![
                "--columns",
                "name,raw,trend,group_rank",
                "--nodes",
                "theft_rate,public_safety",
            ],
            vec![
                "unit",
                "name",
                "period",
                "group_rank.public_safety",
                "raw.theft_rate",
                "trend.public_safety",
            ],
        ),
    ];
    for (i, (args, want)) in cases.iter().enumerate() {
        let part = score(STREETS, &dir.path().join(format!("part{i}.csv")), args);
        same_as_full(&full, &part, want, &format!("{args:?}"));
    }
    // --nodes alone: every column of that node, and the key columns.
    let part = score(
        STREETS,
        &dir.path().join("node.csv"),
        &["--nodes", "public_safety"],
    );
    let want: Vec<&str> = full
        .header
        .iter()
        .map(String::as_str)
        .filter(|h| {
            ["unit", "name", "period", "group"].contains(h) || h.ends_with(".public_safety")
        })
        .collect();
    assert!(want.len() > 10, "{want:?}");
    same_as_full(&full, &part, &want, "--nodes public_safety");
    // --columns all is the default table, byte for byte.
    let all = dir.path().join("all.csv");
    score(STREETS, &all, &["--columns", "all"]);
    assert_eq!(
        std::fs::read(&all).unwrap(),
        std::fs::read(dir.path().join("full.csv")).unwrap()
    );
}

#[test]
fn unknown_or_impossible_choices_are_usage_errors() {
    let dir = tempdir();
    let out = dir.path().join("x.csv");
    let o = out.to_str().unwrap();
    for (args, expect) in [
        (
            vec!["--columns", "scor"],
            "--columns scor: no such kind of column (did you mean `score`?)",
        ),
        (
            vec!["--nodes", "public_safty"],
            "--nodes public_safty: no node has the id `public_safty` (did you mean `public_safety`?)",
        ),
        (
            vec!["--columns", "index", "--nodes", "public_safety"],
            "use --columns score,rank --nodes",
        ),
        (
            vec!["--columns", "raw", "--nodes", "public_safety"],
            "--columns raw: writes no column here: raw.<id> is written for indicators, and the nodes chosen (public_safety) have none",
        ),
        (
            vec!["--columns", "score", "--stage", "treated"],
            "cannot be used with",
        ),
    ] {
        let mut a = vec!["score", STREETS, "-o", o];
        a.extend(&args);
        let run = kapok(&a);
        let (_, err) = texts(&run);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        // Refused before the data are read and scored (which warn about this sample).
        assert!(!err.contains("warning:"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    // Without -o there is nothing to choose columns of.
    let run = kapok(&["score", STREETS, "--columns", "index"]);
    assert_eq!(run.status.code(), Some(2));
    // A framework without groups has no group column to choose.
    let run = kapok(&[
        "score",
        "indicators/hongmian.toml",
        "-o",
        o,
        "--columns",
        "score,group",
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--columns group: writes no column here: the framework has no groups"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Reads a Parquet file into one batch.
fn read_parquet(path: &Path) -> datafusion::arrow::array::RecordBatch {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = b.schema().clone();
    let batches: Vec<_> = b.build().unwrap().map(Result::unwrap).collect();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

#[test]
fn parquet_written_a_period_at_a_time_is_the_full_table() {
    let fw = kapok::load(&super::util::root().join(STREETS)).unwrap();
    let (r, _) = kapok::score(&fw, None).unwrap();
    let want = r.to_batch(&fw, None).unwrap();
    let dir = tempdir();
    let full = dir.path().join("full.parquet");
    let idx = dir.path().join("idx.parquet");
    for (out, extra) in [(&full, &[][..]), (&idx, &["--columns", "index"][..])] {
        let mut args = vec!["score", STREETS, "-o", out.to_str().unwrap()];
        args.extend(extra);
        let run = kapok(&args);
        assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    }
    assert_eq!(read_parquet(&full), want);
    let schema = want.schema();
    let cols: Vec<usize> = [
        "unit",
        "period",
        "score.hongmian_streets",
        "rank.hongmian_streets",
    ]
    .iter()
    .map(|c| schema.index_of(c).unwrap())
    .collect();
    assert_eq!(read_parquet(&idx), want.project(&cols).unwrap());
}
