//! Output formats: every format reads back with the same values; outputs are reproducible
//! byte for byte, atomic, and never overwrite an input.

use std::fs::File;

use calamine::{Data, Reader, Xlsx, open_workbook};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::util::{Csv, kapok, root, tempdir, texts};

const FW: &str = "indicators/hongmian.toml";

fn score_to(path: &std::path::Path) {
    let out = kapok(&[
        "score",
        FW,
        "--period",
        "2023-12",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
}

fn index_scores(batches: &[RecordBatch]) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("score.hongmian")
                .unwrap()
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

#[test]
fn every_format_reads_back_with_the_same_values() {
    let dir = tempdir();
    let p = |ext: &str| dir.path().join(format!("out.{ext}"));
    for ext in ["csv", "parquet", "arrow", "xlsx", "json"] {
        score_to(&p(ext));
    }
    let csv = Csv::read(&p("csv"));
    let c = csv.col("score.hongmian");
    let want: Vec<f64> = csv.rows.iter().map(|r| r[c].parse().unwrap()).collect();
    assert_eq!(want.len(), 11);

    let parquet: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(File::open(p("parquet")).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect();
    assert_eq!(index_scores(&parquet), want);

    let arrow: Vec<RecordBatch> = FileReader::try_new(File::open(p("arrow")).unwrap(), None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(index_scores(&arrow), want);
    assert_eq!(arrow[0].schema().field(0).name(), "unit");

    let mut wb: Xlsx<_> = open_workbook(p("xlsx")).unwrap();
    let range = wb.worksheet_range("results").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(header, csv.header);
    let xc = header.iter().position(|h| h == "score.hongmian").unwrap();
    let got: Vec<f64> = range
        .rows()
        .skip(1)
        .map(|r| match &r[xc] {
            Data::Float(f) => *f,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(range.rows().nth(1).unwrap()[1].to_string(), csv.rows[0][1]);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("json")).unwrap()).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[0]["score.hongmian"].as_f64().unwrap(), want[0]);
    assert_eq!(rows[0]["name"].as_str().unwrap(), csv.rows[0][1]);
}

#[test]
fn outputs_are_identical_bytes_run_after_run() {
    let dir = tempdir();
    for ext in ["csv", "parquet", "arrow", "xlsx", "json"] {
        let a = dir.path().join(format!("a.{ext}"));
        let b = dir.path().join(format!("b.{ext}"));
        score_to(&a);
        score_to(&b);
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            ".{ext} differs between runs"
        );
    }
}

#[test]
fn refuses_to_overwrite_an_input() {
    let input = root().join("data/police_monthly.csv");
    let before = std::fs::read(&input).unwrap();
    let out = kapok(&["score", FW, "-o", "data/police_monthly.csv"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to overwrite an input"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn unknown_output_format_and_missing_directory() {
    let out = kapok(&["score", FW, "-o", "out.txt"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown output format `.txt`"), "{err}");

    let dir = tempdir();
    let target = dir.path().join("missing/out.csv");
    let out = kapok(&["score", FW, "-o", target.to_str().unwrap()]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is left behind"
    );
}

#[test]
fn an_existing_output_is_replaced_whole() {
    let dir = tempdir();
    let out = dir.path().join("o.csv");
    std::fs::write(&out, "stale\n".repeat(100_000)).unwrap();
    score_to(&out);
    let csv = Csv::read(&out);
    assert_eq!(csv.rows.len(), 11);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
}

/// A framework over kapok's own results table: the index recomputed from two raw columns.
const OVER_RESULTS: &str = r#"
[index]
id = "again"
name = { zh = "再算", en = "Again" }
[units]
key = "unit"
name = "name"
period = "period"
[[source]]
name = "unused"
path = "unused.csv"
[[indicator]]
id = "theft"
name = { zh = "盗窃", en = "Theft" }
direction = "lower"
expr = "\"raw.theft_rate\""
[[indicator]]
id = "hotline"
name = { zh = "热线", en = "Hotline" }
direction = "higher"
expr = "\"raw.hotline_on_time_rate\" * 2"
"#;

#[test]
fn every_input_format_reads_the_same_table() {
    let dir = tempdir();
    let fw = dir.path().join("again.toml");
    std::fs::write(&fw, OVER_RESULTS).unwrap();
    let mut outputs = Vec::new();
    for ext in ["csv", "parquet", "arrow", "xlsx"] {
        let table = dir.path().join(format!("table.{ext}"));
        let run = kapok(&["score", FW, "-o", table.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
        let out = dir.path().join(format!("again-{ext}.csv"));
        let run = kapok(&[
            "score",
            fw.to_str().unwrap(),
            "--data",
            table.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.status.code(), Some(0), ".{ext}: {}", texts(&run).1);
        outputs.push((ext, std::fs::read_to_string(&out).unwrap()));
    }
    let csv = Csv::read(&dir.path().join("again-csv.csv"));
    assert_eq!(csv.rows.len(), 11 * 24);
    for (ext, text) in &outputs[1..] {
        assert_eq!(
            text, &outputs[0].1,
            ".{ext} input gives other results than .csv"
        );
    }
}
