//! Periods follow the calendar, whatever way a department writes them; unit keys are trimmed.

use std::path::Path;

use super::util::{kapok, one_indicator_framework, tempdir, texts};

/// The head of a one-indicator framework over `monthly.csv` (`code,month,x`), see
/// [`one_indicator_framework`].
const FRAMEWORK_HEAD: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
period = "month"

[defaults]
normalize = "none"

"#;

fn setup(dir: &Path, expr: &str, monthly: &str) -> String {
    std::fs::write(
        dir.join("f.toml"),
        one_indicator_framework(FRAMEWORK_HEAD, expr),
    )
    .unwrap();
    std::fs::write(dir.join("monthly.csv"), monthly).unwrap();
    dir.join("f.toml").to_string_lossy().into_owned()
}

/// `kapok score f.toml -o out.csv` → the output's rows (header first), or the error.
fn score(expr: &str, monthly: &str) -> Result<Vec<Vec<String>>, (i32, String)> {
    let dir = tempdir();
    let fw = setup(dir.path(), expr, monthly);
    let out = dir.path().join("out.csv");
    let o = kapok(&["score", &fw, "-o", out.to_str().unwrap()]);
    let (_, err) = texts(&o);
    if o.status.code() != Some(0) {
        return Err((o.status.code().unwrap_or(-1), err));
    }
    let text = std::fs::read_to_string(out).unwrap();
    Ok(text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect())
}

/// The value of column `col` for unit `code` in `period`.
fn cell(rows: &[Vec<String>], code: &str, period: &str, col: &str) -> String {
    let c = rows[0].iter().position(|h| h == col).unwrap();
    rows.iter()
        .find(|r| r[0] == code && r.iter().any(|v| v == period))
        .unwrap_or_else(|| panic!("no row {code} {period}"))[c]
        .clone()
}

/// The indicator's raw value for unit `code` in `period` (`None`: missing).
fn value(rows: &[Vec<String>], code: &str, period: &str) -> Option<f64> {
    let v = cell(rows, code, period, "raw.v");
    (!v.is_empty()).then(|| v.parse().unwrap())
}

/// Twelve months written without zero padding, in file order 1, 10, 11, 12, 2, …
fn unpadded_year() -> String {
    let mut s = String::from("code,month,x\n");
    for m in [1, 10, 11, 12, 2, 3, 4, 5, 6, 7, 8, 9] {
        // Unit A's value is the month number, B's is 13 minus it: they swap places over the year.
        s.push_str(&format!("A,2023-{m},{m}\nB,2023-{m},{}\n", 13 - m));
    }
    s
}

#[test]
fn unpadded_months_follow_the_calendar() {
    let rows = score("x", &unpadded_year()).unwrap();
    let periods: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[2].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let expected: Vec<String> = (1..=12).map(|m| format!("2023-{m:02}")).collect();
    assert_eq!(periods, expected);
    // lag(x) in October is September's value, not January's.
    let rows = score("x - lag(x)", &unpadded_year()).unwrap();
    assert_eq!(value(&rows, "A", "2023-10"), Some(1.0));
    assert_eq!(value(&rows, "B", "2023-10"), Some(-1.0));
    assert_eq!(value(&rows, "A", "2023-01"), None);
}

#[test]
fn the_latest_period_and_the_rank_change_follow_the_calendar() {
    let dir = tempdir();
    let fw = setup(dir.path(), "x", &unpadded_year());
    let o = kapok(&["rank", &fw]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("2023-12（与 2023-11 比较）"),
        "latest must be December: {out}"
    );
    // --period accepts any form and means the same month.
    let o = kapok(&["rank", &fw, "--period", "2023/9"]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("2023-09（与 2023-08 比较）"), "{out}");
    let o = kapok(&["rank", &fw, "--period", "2023-13"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`2023-13` is not a period"), "{err}");
    let o = kapok(&["rank", &fw, "--period", "2024-01"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no data for 2024-01") && err.contains("2023-01 … 2023-12"),
        "{err}"
    );
}

#[test]
fn lag_counts_calendar_months_across_a_gap() {
    // Unit A has no row for 2023-02: lag(x) in 2023-03 is missing, not January's value, and
    // lag(x, 2) in 2023-03 is January's.
    let data = "code,month,x\nA,2023-01,1\nB,2023-01,5\nB,2023-02,6\nA,2023-03,3\nB,2023-03,7\n";
    let rows = score("x - lag(x)", data).unwrap();
    assert_eq!(value(&rows, "A", "2023-03"), None);
    assert_eq!(value(&rows, "B", "2023-03"), Some(1.0));
    let rows = score("x - lag(x, 2)", data).unwrap();
    assert_eq!(value(&rows, "A", "2023-03"), Some(2.0));
    assert_eq!(value(&rows, "B", "2023-03"), Some(2.0));
    // The filler row for A in 2023-02 is not an output row.
    assert!(!rows.iter().any(|r| r[0] == "A" && r[2] == "2023-02"));
}

#[test]
fn a_gap_month_has_no_rank_change_and_check_names_the_gaps() {
    let data = "code,month,x\nA,2023-01,1\nB,2023-01,2\nA,2023-03,3\nB,2023-03,2\nA,2023-04,1\n";
    let dir = tempdir();
    let fw = setup(dir.path(), "x", data);
    let o = kapok(&["rank", &fw, "--period", "2023-03"]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!out.contains("比较"), "no 2023-02 to compare with: {out}");
    let o = kapok(&["check", &fw]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 period(s) between 2023-01 and 2023-04 have no data in any source: 2023-02"),
        "{err}"
    );
    assert!(err.contains("B (2023-04)"), "{err}");
}

#[test]
fn every_form_departments_write_is_the_same_month() {
    let forms = [
        "2023-01",
        "2023-1",
        "2023/1",
        "2023.1",
        "202301",
        "2023年1月",
        "2023M01",
        "2023-01-31",
    ];
    for f in forms {
        let data = format!("code,month,x\nA,{f},1\nB,{f},2\n");
        let rows = score("x", &data).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        assert_eq!(rows[1][2], "2023-01", "{f}");
    }
    let data = "code,month,x\nA,2023-Q1,1\nB,2023年二季度,2\nA,2023Q2,3\nB,2023年第一季度,4\n";
    let rows = score("x", data).unwrap();
    assert_eq!(value(&rows, "B", "2023-Q1"), Some(4.0));
    assert_eq!(value(&rows, "A", "2023-Q2"), Some(3.0));
}

#[test]
fn a_value_that_is_no_period_is_named_with_its_line() {
    let (code, err) = score("x", "code,month,x\nA,2023-01,1\nB,2023-13,2\n").unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `monthly`") && err.contains("line 3 `2023-13`"),
        "{err}"
    );
    let (code, err) = score("x", "code,month,x\nA,2023-01,1\nB,2023-Q1,2\n").unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("mixes months (line 2 `2023-01`) and quarters (line 3 `2023-Q1`)"),
        "{err}"
    );
}

#[test]
fn two_granularities_in_one_framework_name_both_sources() {
    let dir = tempdir();
    let fw = setup(
        dir.path(),
        "x + y",
        "code,month,x\nA,2023-01,1\nB,2023-01,2\n",
    );
    let text = std::fs::read_to_string(&fw).unwrap().replace(
        "[[dimension]]",
        "[[source]]\nname = \"quarterly\"\npath = \"q.csv\"\n\n[[dimension]]",
    );
    std::fs::write(&fw, text).unwrap();
    std::fs::write(
        dir.path().join("q.csv"),
        "code,month,y\nA,2023-Q1,1\nB,2023-Q1,2\n",
    )
    .unwrap();
    let o = kapok(&["check", &fw]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("source `monthly` has months")
            && err.contains("source `quarterly` has quarters"),
        "{err}"
    );
}

#[test]
fn padded_unit_keys_are_trimmed_and_counted() {
    // "B " in February is unit B, not a third unit that is "new" in February.
    let data = "code,month,x\nA,2023-01,1\nB,2023-01,2\nA,2023-02,1\nB ,2023-02,3\n";
    let dir = tempdir();
    let fw = setup(dir.path(), "x", data);
    let o = kapok(&["rank", &fw]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 unit key(s) had spaces around them and were trimmed: line 5 \"B \""),
        "{err}"
    );
    assert!(!out.contains("new"), "{out}");
    let o = kapok(&["check", &fw]);
    let (out, _) = texts(&o);
    assert!(out.contains("2 unit(s)"), "{out}");
}

#[test]
fn zero_padded_codes_keep_their_zeros() {
    let data = "code,month,x\n007,2023-01,1\n008,2023-01,2\n";
    let rows = score("x", data).unwrap();
    assert_eq!(rows[1][0], "007");
    assert_eq!(rows[2][0], "008");
}

#[test]
fn parquet_date_and_timestamp_columns_are_months() {
    use datafusion::arrow::array::{
        ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray, TimestampSecondArray,
    };
    use std::sync::Arc;
    // 2023-01-31 and 2023-02-28 as days since 1970-01-01.
    let (jan, feb) = (19388, 19416);
    let dates: Vec<(&str, ArrayRef)> = vec![
        (
            "date32",
            Arc::new(Date32Array::from(vec![jan, jan, feb, feb])),
        ),
        (
            "timestamp",
            Arc::new(TimestampSecondArray::from(vec![
                jan as i64 * 86400,
                jan as i64 * 86400 + 3600,
                feb as i64 * 86400,
                feb as i64 * 86400,
            ])),
        ),
    ];
    for (what, month) in dates {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "code",
                Arc::new(StringArray::from(vec!["A", "B", "A", "B"])) as ArrayRef,
            ),
            ("month", month),
            ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 4.0, 3.0]))),
        ])
        .unwrap();
        let dir = tempdir();
        let fw = setup(dir.path(), "x - lag(x)", "");
        let text = std::fs::read_to_string(&fw)
            .unwrap()
            .replace("monthly.csv", "monthly.parquet");
        std::fs::write(&fw, text).unwrap();
        std::fs::write(
            dir.path().join("monthly.parquet"),
            kapok::io::parquet_bytes(&batch).unwrap(),
        )
        .unwrap();
        let out = dir.path().join("o.csv");
        let o = kapok(&["score", &fw, "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{what}: {}", texts(&o).1);
        let rows: Vec<Vec<String>> = std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        assert_eq!(value(&rows, "A", "2023-02"), Some(3.0), "{what}");
        assert_eq!(value(&rows, "B", "2023-02"), Some(1.0), "{what}");
    }
}

/// Writes `monthly.xlsx` with a `month` column filled by `month(ws, row)` and points the
/// framework at it; returns (exit code, stdout, stderr) of `kapok rank`.
fn rank_xlsx(month: impl Fn(&mut rust_xlsxwriter::Worksheet, u32)) -> (i32, String, String) {
    let dir = tempdir();
    let fw = setup(dir.path(), "x", "");
    let text = std::fs::read_to_string(&fw)
        .unwrap()
        .replace("monthly.csv", "monthly.xlsx");
    std::fs::write(&fw, text).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1").unwrap();
    for (c, h) in ["code", "month", "x"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=4u32 {
        ws.write_string(r, 0, if r % 2 == 1 { "A" } else { "B" })
            .unwrap();
        month(ws, r);
        ws.write_number(r, 2, f64::from(r)).unwrap();
    }
    std::fs::write(
        dir.path().join("monthly.xlsx"),
        wb.save_to_buffer().unwrap(),
    )
    .unwrap();
    let o = kapok(&["rank", &fw]);
    let (out, err) = texts(&o);
    (o.status.code().unwrap_or(-1), out, err)
}

#[test]
fn excel_date_and_number_cells_are_months_and_an_ambiguous_decimal_is_named() {
    // Date cells: rows 1–2 in January, rows 3–4 in February.
    let (code, out, err) = rank_xlsx(|ws, r| {
        let day =
            rust_xlsxwriter::ExcelDateTime::from_ymd(2023, if r <= 2 { 1 } else { 2 }, 15).unwrap();
        let f = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        ws.write_datetime_with_format(r, 1, &day, &f).unwrap();
    });
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2023-02（与 2023-01 比较）"), "{out}");
    // Number cells 202301, 202302.
    let (code, out, err) = rank_xlsx(|ws, r| {
        ws.write_number(r, 1, if r <= 2 { 202301.0 } else { 202302.0 })
            .unwrap();
    });
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2023-02（与 2023-01 比较）"), "{out}");
    // 2023.1 as a number is also 2023.10: refused, naming the cell.
    let (code, _, err) = rank_xlsx(|ws, r| {
        ws.write_number(r, 1, if r <= 2 { 2023.1 } else { 2023.2 })
            .unwrap();
    });
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Sheet1!B2 `2023.1`") && err.contains("ambiguous"),
        "{err}"
    );
}

/// Every shipped framework with the panel of its sample data.
fn shipped_panels() -> Vec<(std::path::PathBuf, kapok::Framework, kapok::Panel)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(super::util::root().join("indicators")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let fw = kapok::load(&path).unwrap();
        let (panel, _) = kapok::read_panel(&fw, None).unwrap();
        out.push((path, fw, panel));
    }
    assert!(out.len() >= 6, "{} shipped frameworks", out.len());
    out
}

/// Every shipped framework evaluated with its periods on one thread and on three: the same
/// results to the bit (scores, ranks, imputed and treated values, provenance, status) and the
/// same warnings.
#[test]
fn periods_evaluated_in_parallel_give_the_results_of_one_thread() {
    let mut checked = 0;
    for (path, fw, panel) in shipped_panels() {
        let periods = panel.periods.len();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let res = kapok::evaluate(&fw, panel.clone()).unwrap();
                let ranks: Vec<_> = (0..fw.nodes.len()).map(|n| res.node_ranks(n)).collect();
                format!("{ranks:?}\n{res:?}\n{:?}", res.warnings())
            })
        };
        let one = on(1);
        assert!(one.contains("scores"), "{}", path.display());
        assert!(
            one == on(3),
            "{}: threads changed the results",
            path.display()
        );
        checked += usize::from(periods > 1);
    }
    assert!(checked >= 5, "only {checked} multi-period frameworks");
}

/// Every shipped framework evaluated keeping scores only: the scores, ranks, status,
/// provenance, treatments and warnings of a run that keeps every stage, to the bit, except
/// that the columns with no treatment are not measured; and the stage values asked of it are
/// an error, not an empty array.
#[test]
fn keeping_scores_only_changes_no_score_or_rank() {
    let mut treating = 0;
    let mut untreated = 0;
    for (path, fw, panel) in shipped_panels() {
        let all = kapok::evaluate_keeping(&fw, panel.clone(), kapok::Keep::Stages).unwrap();
        let scores = kapok::evaluate_keeping(&fw, panel.clone(), kapok::Keep::Scores).unwrap();
        let treated = |t: &&kapok::evaluate::Treatment| {
            let spec = fw.nodes[panel.indicators[t.indicator]].indicator().unwrap();
            fw.treat_of(spec) != kapok::pipeline::Treat::None
        };
        let seen = |r: &kapok::Results| {
            let ranks: Vec<_> = (0..fw.nodes.len()).map(|n| r.node_ranks(n)).collect();
            let bits: Vec<u64> = r.scores.iter().map(|v| v.to_bits()).collect();
            let treatments: Vec<_> = r.treatments.iter().filter(treated).collect();
            format!(
                "{bits:?}\n{ranks:?}\n{:?}\n{:?}\n{treatments:?}\n{:?}\n{:?}",
                r.status,
                r.provenance,
                r.group_ranks,
                r.warnings()
            )
        };
        assert_eq!(seen(&all), seen(&scores), "{}", path.display());
        // Keeping every stage measures the untreated columns too (for the audit); keeping
        // scores only does not.
        assert!(
            scores.treatments.iter().all(|t| treated(&t)),
            "{}",
            path.display()
        );
        untreated += all.treatments.iter().filter(|t| !treated(t)).count();
        assert!(all.treated().is_ok() && all.imputed_values().is_ok());
        let err = scores.treated().unwrap_err().to_string();
        assert!(err.contains("not kept"), "{}: {err}", path.display());
        assert!(scores.imputed_values().is_err(), "{}", path.display());
        treating += usize::from(all.treatments.iter().any(|t| !t.report.points.is_empty()));
        // Keeping some nodes: theirs are the same to the bit, with the same ranks; no other
        // node is held.
        let last = fw.nodes.len() - 1;
        let some = kapok::evaluate_keeping(&fw, panel, kapok::Keep::Nodes(vec![0, last])).unwrap();
        let (np, nu, _) = all.scores.dim();
        for n in [0, last] {
            for p in 0..np {
                for u in 0..nu {
                    assert_eq!(
                        some.scores[[p, u, n]].to_bits(),
                        all.scores[[p, u, n]].to_bits(),
                        "{}: node {n}, period {p}, unit {u}",
                        path.display()
                    );
                }
            }
            assert_eq!(some.node_ranks(n), all.node_ranks(n), "{}", path.display());
        }
        assert!(
            (1..last).all(|n| !some.scores.is_kept(n)),
            "{}",
            path.display()
        );
        assert_eq!(format!("{:?}", some.status), format!("{:?}", all.status));
    }
    assert!(treating >= 1, "no shipped framework treats a value");
    assert!(
        untreated >= 1,
        "no shipped framework leaves a column untreated"
    );
}

/// Two periods that cannot be scored: the error is the first period's, as one thread at a
/// time would report it, whatever the number of threads.
#[test]
fn the_first_failing_period_is_reported_on_any_number_of_threads() {
    let dir = tempdir();
    let head = FRAMEWORK_HEAD.replace(
        "normalize = \"none\"",
        "normalize = \"none\"\naggregate = \"geometric\"",
    );
    std::fs::write(
        dir.path().join("f.toml"),
        one_indicator_framework(&head, "x"),
    )
    .unwrap();
    let mut monthly = String::from("code,month,x\n");
    for m in 1..=9 {
        // Months 4 and 7 hold a value a geometric mean cannot take.
        let bad = if m == 4 || m == 7 { -1 } else { 2 };
        monthly.push_str(&format!("a,2023-{m:02},{bad}\nb,2023-{m:02},3\n"));
    }
    std::fs::write(dir.path().join("monthly.csv"), monthly).unwrap();
    let fw = dir.path().join("f.toml");
    for threads in ["1", "2", "4"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_kapok"))
            .args(["score", fw.to_str().unwrap()])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("period 2023-04") && !err.contains("2023-07"),
            "{threads} threads: {err}"
        );
    }
}

/// The trends of one period (what a ranking of that period shows) are those of the whole
/// panel at that period, and nothing is computed for the others.
#[test]
fn the_trends_of_one_period_are_the_panels_at_that_period() {
    let fw = kapok::load(&super::util::root().join("indicators/hongmian.toml")).unwrap();
    let (r, _) = kapok::score(&fw, None).unwrap();
    let all = kapok::trend::Trends::of(&fw, &r);
    let np = r.panel.periods.len();
    let (nu, nk) = (r.panel.units.len(), all.nodes.len());
    assert!(np >= 12, "{np} periods");
    let cells = |p: usize| (0..nu).flat_map(move |u| (0..nk).map(move |k| (p, u, k)));
    let fingerprint = |t: &kapok::trend::Trends, p: usize| {
        cells(p)
            .map(|(p, u, k)| {
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?}",
                    t.change(p, u, k),
                    t.yoy(p, u, k),
                    t.rank_change(p, u, k),
                    t.rank_yoy(p, u, k),
                    t.rolling(p, u, k),
                    t.class(p, u, k),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut classes = 0;
    let mut changes = 0;
    for p in [1, np / 2, np - 1] {
        let one = kapok::trend::Trends::at(&fw, &r, &[p]);
        assert_eq!(fingerprint(&one, p), fingerprint(&all, p), "period {p}");
        classes += cells(p)
            .filter(|&(p, u, k)| one.class(p, u, k).is_some())
            .count();
        changes += cells(p)
            .filter(|&(p, u, k)| one.rank_change(p, u, k).is_some())
            .count();
        for q in (0..np).filter(|&q| q != p) {
            assert!(cells(q).all(|(q, u, k)| one.class(q, u, k).is_none()
                && one.rolling(q, u, k).is_nan()
                && one.rank_change(q, u, k).is_none()));
        }
    }
    assert!(classes > 0, "no trend class was computed");
    assert!(changes > 0, "no rank change was computed");
}

/// The evaluated table is not sorted by period and unit: rows in any order bind to the same
/// panel. A unit's name is the one of its first period, and values that are not finite are
/// listed in period and unit order, whatever the order of the file's rows.
#[test]
fn rows_in_any_order_give_the_same_panel_names_and_messages() {
    let head = FRAMEWORK_HEAD.replace("period = \"month\"", "period = \"month\"\nname = \"name\"");
    let rows = [
        "a,2023-01,甲,1",
        "b,2023-01,乙,2",
        "a,2023-02,甲改,3",
        "b,2023-02,乙改,0",
        "a,2023-03,甲,0",
        "b,2023-03,乙,6",
    ];
    let run = |order: &[usize], expr: &str| {
        let dir = tempdir();
        let lines: Vec<&str> = order.iter().map(|&i| rows[i]).collect();
        let csv = format!("code,month,name,x\n{}\n", lines.join("\n"));
        std::fs::write(
            dir.path().join("f.toml"),
            one_indicator_framework(&head, expr),
        )
        .unwrap();
        std::fs::write(dir.path().join("monthly.csv"), csv).unwrap();
        let fw = kapok::framework::load(&dir.path().join("f.toml")).unwrap();
        kapok::read_panel(&fw, None)
            .map(|(p, _)| p)
            .map_err(|e| e.to_string())
    };
    let sorted = run(&[0, 1, 2, 3, 4, 5], "x").unwrap();
    for order in [[5, 4, 3, 2, 1, 0], [3, 0, 5, 1, 4, 2]] {
        let panel = run(&order, "x").unwrap();
        assert_eq!(
            format!("{panel:?}"),
            format!("{sorted:?}"),
            "rows {order:?}"
        );
        // Named as in its first period, 2023-01, although a later row comes first.
        assert_eq!(panel.unit_name(0, kapok::framework::Lang::Zh), "甲");
        assert_eq!(panel.unit_name(1, kapok::framework::Lang::Zh), "乙");
        assert_eq!(panel.values[[1, 0, 0]], 3.0);
        // 1 / 0 in 2023-02 (unit b) and 2023-03 (unit a): listed in period order.
        let e = run(&order, "1 / x").unwrap_err();
        let b = e.find("unit b, period 2023-02").expect(&e);
        let a = e.find("unit a, period 2023-03").expect(&e);
        assert!(b < a, "{e}");
    }
}

/// The binder places batches as they come, in any order: a unit's name is its earliest
/// period's (a later one when that row has none), units and periods it was told of but that
/// have no row are left out, and a row of a unit it was not told of is an error.
#[test]
fn the_binder_places_batches_in_any_order_and_keeps_what_has_rows() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use kapok::data::bind::Binder;
    use kapok::framework::Lang;

    let dir = tempdir();
    let head = FRAMEWORK_HEAD.replace("period = \"month\"", "period = \"month\"\nname = \"name\"");
    std::fs::write(
        dir.path().join("f.toml"),
        one_indicator_framework(&head, "x"),
    )
    .unwrap();
    let fw = kapok::load(&dir.path().join("f.toml")).unwrap();
    // (unit, month, name, value) per row.
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<f64>);
    let batch = |rows: &[Row]| {
        let text = |f: &dyn Fn(&Row) -> Option<String>| {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>())) as ArrayRef
        };
        RecordBatch::try_from_iter([
            ("code", text(&|r| Some(r.0.to_string()))),
            ("month", text(&|r| Some(r.1.to_string()))),
            ("name", text(&|r| r.2.map(str::to_string))),
            (
                "ind.v",
                Arc::new(Float64Array::from(
                    rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
        ])
        .unwrap()
    };
    let listed = |units: &[&str]| -> Vec<String> { units.iter().map(|u| u.to_string()).collect() };
    let months = listed(&["2023-01", "2023-02", "2023-03"]);
    let mut binder = Binder::new(&fw, listed(&["a", "b", "z"]), months.clone()).unwrap();
    binder
        .push(&batch(&[
            ("b", "2023-02", Some("乙二"), Some(2.0)),
            ("a", "2023-02", Some("甲二"), None),
        ]))
        .unwrap();
    binder
        .push(&batch(&[
            ("a", "2023-01", Some("甲一"), Some(1.0)),
            ("b", "2023-01", None, Some(3.0)),
        ]))
        .unwrap();
    assert_eq!(binder.rows(), 4);
    assert!(binder.empty_indicators().is_empty());
    let panel = binder.finish().unwrap();
    assert_eq!(panel.units, ["a", "b"]);
    assert_eq!(panel.periods, ["2023-01", "2023-02"]);
    assert_eq!(panel.unit_name(0, Lang::Zh), "甲一");
    assert_eq!(panel.unit_name(1, Lang::Zh), "乙二");
    assert_eq!(panel.values[[0, 1, 0]], 3.0);
    assert_eq!(panel.values[[1, 1, 0]], 2.0);
    assert!(panel.values[[1, 0, 0]].is_nan());
    assert!(panel.present.iter().all(|&p| p));

    let mut binder = Binder::new(&fw, listed(&["a"]), months).unwrap();
    let e = binder
        .push(&batch(&[("q", "2023-01", None, Some(1.0))]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unit `q` in period `2023-01`"), "{e}");
}
