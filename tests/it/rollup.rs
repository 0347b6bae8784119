//! Quarters and years from monthly data (`--per quarter|year`, `[units] per`, `[rollup]`):
//! hand-computed rollups on a small framework, incomplete quarters, lags, errors, and the
//! shipped sample's quarterly panel against ratios of sums computed here from its CSV files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::util::{Csv, kapok, root, tempdir, texts};

/// Two units (`units.csv`: code, population) and a monthly source (`monthly.csv`: code, month,
/// cases, visits, stock). `PER` and `ROLLUP` are replaced by each test.
const FRAMEWORK: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
period = "month"
PER

[defaults]
normalize = "none"

[[source]]
name = "units"
path = "units.csv"

[[source]]
name = "monthly"
path = "monthly.csv"

ROLLUP

[[dimension]]
id = "d"
name = { zh = "维", en = "D" }

[[indicator]]
id = "rate"
name = { zh = "率", en = "Rate" }
parent = "d"
direction = "lower"
expr = "cases / population * 1000"

[[indicator]]
id = "ratio"
name = { zh = "比", en = "Ratio" }
parent = "d"
direction = "lower"
expr = "cases / nullif(visits, 0)"

[[indicator]]
id = "s"
name = { zh = "存量", en = "Stock" }
parent = "d"
direction = "higher"
expr = "STOCK"
"#;

const UNITS: &str = "code,population\nA,1000\nB,2000\n";

/// Six months of two units. A's visits make the mean of monthly ratios (0.15 in Q1) differ
/// from the ratio of sums (6 / 60 = 0.1).
const MONTHLY: &str = "code,month,cases,visits,stock
A,2023-01,1,10,100
A,2023-02,2,40,130
A,2023-03,3,10,120
A,2023-04,4,5,90
A,2023-05,5,5,95
A,2023-06,6,10,80
B,2023-01,6,2,50
B,2023-02,5,2,60
B,2023-03,4,2,70
B,2023-04,3,4,80
B,2023-05,2,4,90
B,2023-06,1,4,100
";

struct Case<'a> {
    per: &'a str,
    rollup: &'a str,
    stock: &'a str,
    monthly: &'a str,
    args: &'a [&'a str],
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            per: "",
            rollup: "",
            stock: "stock",
            monthly: MONTHLY,
            args: &["--per", "quarter"],
        }
    }
}

fn write(dir: &Path, c: &Case) -> String {
    let text = FRAMEWORK
        .replace("PER", c.per)
        .replace("ROLLUP", c.rollup)
        .replace("STOCK", c.stock);
    std::fs::write(dir.join("f.toml"), text).unwrap();
    std::fs::write(dir.join("units.csv"), UNITS).unwrap();
    std::fs::write(dir.join("monthly.csv"), c.monthly).unwrap();
    dir.join("f.toml").to_string_lossy().into_owned()
}

/// Raw indicator values by (unit, period, indicator), and standard error; or the exit code
/// and standard error.
type Raw = BTreeMap<(String, String, String), Option<f64>>;

fn score(c: &Case) -> Result<(Raw, String), (i32, String)> {
    let dir = tempdir();
    let fw = write(dir.path(), c);
    let out = dir.path().join("out.csv");
    let mut args = vec!["score", fw.as_str(), "-o", out.to_str().unwrap()];
    args.extend(c.args);
    let o = kapok(&args);
    let (_, err) = texts(&o);
    if o.status.code() != Some(0) {
        return Err((o.status.code().unwrap_or(-1), err));
    }
    Ok((raw(&out), err))
}

fn raw(path: &Path) -> Raw {
    let csv = Csv::read(path);
    let (u, p) = (csv.col("unit"), csv.col("period"));
    let mut out = BTreeMap::new();
    for (i, h) in csv.header.iter().enumerate() {
        let Some(id) = h.strip_prefix("raw.") else {
            continue;
        };
        for r in &csv.rows {
            let v = (!r[i].is_empty()).then(|| r[i].parse::<f64>().unwrap());
            out.insert((r[u].clone(), r[p].clone(), id.to_string()), v);
        }
    }
    out
}

fn get(raw: &Raw, unit: &str, period: &str, id: &str) -> Option<f64> {
    *raw.get(&(unit.into(), period.into(), id.into()))
        .unwrap_or_else(|| panic!("no {unit} {period} {id} in {:?}", raw.keys().next()))
}

fn close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("missing, expected {b}"));
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{a} != {b} (expected)"
    );
}

fn periods(raw: &Raw) -> Vec<String> {
    raw.keys()
        .map(|(_, p, _)| p.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn each_rule_by_hand() {
    // A's stock: Q1 100, 130, 120; Q2 90, 95, 80. B's: Q1 50, 60, 70; Q2 80, 90, 100.
    let cases = [
        ("sum", [350.0, 265.0, 180.0, 270.0]),
        ("last", [120.0, 80.0, 70.0, 100.0]),
        ("first", [100.0, 90.0, 50.0, 80.0]),
        ("mean", [350.0 / 3.0, 265.0 / 3.0, 60.0, 90.0]),
        ("max", [130.0, 95.0, 70.0, 100.0]),
        ("min", [100.0, 80.0, 50.0, 80.0]),
    ];
    for (rule, [a1, a2, b1, b2]) in cases {
        let rollup = format!("[rollup]\nstock = \"{rule}\"");
        let (raw, _) = score(&Case {
            rollup: &rollup,
            ..Case::default()
        })
        .unwrap_or_else(|e| panic!("{rule}: {e:?}"));
        assert_eq!(periods(&raw), ["2023-Q1", "2023-Q2"], "{rule}");
        close(get(&raw, "A", "2023-Q1", "s"), a1);
        close(get(&raw, "A", "2023-Q2", "s"), a2);
        close(get(&raw, "B", "2023-Q1", "s"), b1);
        close(get(&raw, "B", "2023-Q2", "s"), b2);
    }
}

#[test]
fn a_rate_is_a_ratio_of_sums_not_a_mean_of_monthly_ratios() {
    let (raw, _) = score(&Case::default()).unwrap();
    // A in Q1: cases 1 + 2 + 3 = 6, visits 10 + 40 + 10 = 60: 0.1; the mean of the monthly
    // ratios 0.1, 0.05, 0.3 would be 0.15.
    close(get(&raw, "A", "2023-Q1", "ratio"), 0.1);
    // A in Q2: 15 / 20; B in Q1: 15 / 6; B in Q2: 6 / 12.
    close(get(&raw, "A", "2023-Q2", "ratio"), 0.75);
    close(get(&raw, "B", "2023-Q1", "ratio"), 2.5);
    close(get(&raw, "B", "2023-Q2", "ratio"), 0.5);
    // The static population is not summed: 6 / 1000 × 1000 and 15 / 2000 × 1000.
    close(get(&raw, "A", "2023-Q1", "rate"), 6.0);
    close(get(&raw, "B", "2023-Q1", "rate"), 7.5);
    // Stocks are summed unless declared: a default the framework must override.
    close(get(&raw, "A", "2023-Q1", "s"), 350.0);
}

#[test]
fn years_from_months_and_the_framework_default() {
    // Two years: cases = the month's index 1 … 24 for A, 2 × that for B.
    let mut m = String::from("code,month,cases,visits,stock\n");
    for (i, (y, mo)) in (2022..=2023)
        .flat_map(|y| (1..=12).map(move |mo| (y, mo)))
        .enumerate()
    {
        let k = i as f64 + 1.0;
        m.push_str(&format!(
            "A,{y}-{mo:02},{k},1,{k}\nB,{y}-{mo:02},{},1,{k}\n",
            2.0 * k
        ));
    }
    let rollup = "[rollup]\nstock = \"last\"";
    let (raw, _) = score(&Case {
        rollup,
        monthly: &m,
        args: &["--per", "year"],
        ..Case::default()
    })
    .unwrap();
    assert_eq!(periods(&raw), ["2022", "2023"]);
    // 1 + … + 12 = 78 cases over 12 visits; 13 + … + 24 = 222.
    close(get(&raw, "A", "2022", "ratio"), 78.0 / 12.0);
    close(get(&raw, "A", "2023", "ratio"), 222.0 / 12.0);
    close(get(&raw, "B", "2023", "rate"), 444.0 / 2000.0 * 1000.0);
    close(get(&raw, "A", "2023", "s"), 24.0);
    // `[units] per = "quarter"` is the default; `--per month` publishes months.
    let (raw, _) = score(&Case {
        per: "per = \"quarter\"",
        rollup,
        monthly: &m,
        args: &[],
        ..Case::default()
    })
    .unwrap();
    assert_eq!(periods(&raw).len(), 8);
    close(get(&raw, "A", "2023-Q4", "s"), 24.0);
    let (raw, _) = score(&Case {
        per: "per = \"quarter\"",
        rollup,
        monthly: &m,
        args: &["--per", "month"],
        ..Case::default()
    })
    .unwrap();
    assert_eq!(periods(&raw).len(), 24);
    // Lags count months, the data's periods: lag(cases, 12) is the same quarter a year
    // earlier, lag(cases, 3) the previous quarter.
    for (stock, period, expected) in [
        // A's 2023-Q4: 22 + 23 + 24 = 69; 2022-Q4: 10 + 11 + 12 = 33.
        ("cases / lag(cases, 12)", "2023-Q4", 69.0 / 33.0),
        // A's 2023-Q3: 19 + 20 + 21 = 60.
        ("cases - lag(cases, 3)", "2023-Q4", 9.0),
        ("cases - lag(cases, 6)", "2023-Q4", 18.0),
    ] {
        let (raw, _) = score(&Case {
            stock,
            monthly: &m,
            ..Case::default()
        })
        .unwrap();
        close(get(&raw, "A", period, "s"), expected);
        assert_eq!(get(&raw, "A", "2022-Q1", "s"), None, "{stock}");
    }
    let (raw, _) = score(&Case {
        stock: "cases / lag(cases, 12)",
        monthly: &m,
        args: &["--per", "year"],
        ..Case::default()
    })
    .unwrap();
    close(get(&raw, "B", "2023", "s"), 222.0 / 78.0);
}

/// MONTHLY without A's 2023-05 row.
fn without_a_may() -> String {
    MONTHLY
        .lines()
        .filter(|l| !l.starts_with("A,2023-05"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn an_incomplete_quarter_is_refused_prorated_or_accepted() {
    let m = without_a_may();
    let rollup = "[rollup]\nstock = \"last\"";
    let (code, err) = score(&Case {
        rollup,
        monthly: &m,
        ..Case::default()
    })
    .unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("incomplete = \"refuse\""), "{err}");
    assert!(err.contains("A 2023-Q2 (2023-05 missing)"), "{err}");
    assert!(
        err.contains("source `monthly`: no row for 2023-05"),
        "{err}"
    );
    assert!(err.contains("--incomplete prorate"), "{err}");
    // Pro-rated: A's cases in Q2 are (4 + 6) × 3 / 2 = 15, visits (5 + 10) × 3 / 2; the stock
    // (last) is June's, not scaled.
    let (raw, err) = score(&Case {
        rollup: "[rollup]\nstock = \"last\"\nincomplete = \"prorate\"",
        monthly: &m,
        ..Case::default()
    })
    .unwrap();
    close(get(&raw, "A", "2023-Q2", "rate"), 15.0);
    close(get(&raw, "A", "2023-Q2", "ratio"), 15.0 / 22.5);
    close(get(&raw, "A", "2023-Q2", "s"), 80.0);
    close(get(&raw, "A", "2023-Q1", "rate"), 6.0);
    close(get(&raw, "B", "2023-Q2", "rate"), 3.0);
    assert!(
        err.contains(
            "1 unit-period(s) lack months and are published under incomplete = \"prorate\""
        ) && err.contains("A 2023-Q2 (2023-05 missing)"),
        "{err}"
    );
    // Accepted (here from the command line): the months there are.
    let (raw, err) = score(&Case {
        rollup,
        monthly: &m,
        args: &["--per", "quarter", "--incomplete", "accept"],
        ..Case::default()
    })
    .unwrap();
    close(get(&raw, "A", "2023-Q2", "rate"), 10.0);
    close(get(&raw, "A", "2023-Q2", "ratio"), 10.0 / 15.0);
    assert!(err.contains("incomplete = \"accept\""), "{err}");
}

#[test]
fn an_empty_cell_counts_as_a_missing_month() {
    let m = MONTHLY.replace("A,2023-02,2,40,130", "A,2023-02,,40,130");
    let (code, err) = score(&Case {
        monthly: &m,
        ..Case::default()
    })
    .unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("A 2023-Q1 (2023-02 missing)") && err.contains("empty in 2023-02: cases"),
        "{err}"
    );
    let (raw, _) = score(&Case {
        monthly: &m,
        args: &["--per", "quarter", "--incomplete", "prorate"],
        ..Case::default()
    })
    .unwrap();
    // (1 + 3) × 3 / 2 = 6 cases; visits had all three months: 60.
    close(get(&raw, "A", "2023-Q1", "ratio"), 0.1);
}

#[test]
fn data_ending_inside_a_quarter() {
    // Monthly data through 2023-05: 2023-Q2 lacks June for every unit.
    let m: String = MONTHLY
        .lines()
        .filter(|l| !l.contains("2023-06"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (raw, err) = score(&Case {
        monthly: &m,
        ..Case::default()
    })
    .unwrap();
    assert_eq!(periods(&raw), ["2023-Q1"]);
    assert!(
        err.contains("the data run from 2023-01 to 2023-05, so 2023-Q2 is incomplete for every unit and is left out under incomplete = \"refuse\": 2023-Q2 (2023-06 missing); the latest period published is 2023-Q1")
            && err.contains("--incomplete prorate"),
        "{err}"
    );
    let (raw, err) = score(&Case {
        monthly: &m,
        args: &["--per", "quarter", "--incomplete", "accept"],
        ..Case::default()
    })
    .unwrap();
    assert_eq!(periods(&raw), ["2023-Q1", "2023-Q2"]);
    close(get(&raw, "B", "2023-Q2", "rate"), 2.5);
    assert!(
        err.contains("2 unit-period(s) lack months")
            && err.contains("2023-Q2 for every unit (2023-06 missing)"),
        "{err}"
    );
    // Asking for the left-out quarter is a usage error that says why and what to do.
    let dir = tempdir();
    let fw = write(
        dir.path(),
        &Case {
            monthly: &m,
            ..Case::default()
        },
    );
    let o = kapok(&["rank", &fw, "--per", "quarter", "--period", "2023年二季度"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("2023-Q2 is incomplete for every unit"),
        "{err}"
    );
    assert!(
        err.contains("error: --period 2023年二季度: 2023-Q2 is incomplete — the data lack 2023-06 for every unit — and is left out")
            && err.contains("hint: publish it anyway with --incomplete prorate"),
        "{err}"
    );
    // The audit says so too (its warnings come after the period is picked).
    let o = kapok(&["audit", &fw, "--per", "quarter", "--period", "2023-Q2"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("2023-Q2 is incomplete"), "{err}");
    let o = kapok(&[
        "rank", &fw, "--per", "quarter", "--period", "2023Q1", "--lang", "en",
    ]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("2023-Q1"), "{out}");
    // Two months only: no complete quarter at all is a data error that says why.
    let two: String = MONTHLY
        .lines()
        .filter(|l| l.starts_with("code") || l.contains("2023-01") || l.contains("2023-02"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (code, err) = score(&Case {
        monthly: &two,
        ..Case::default()
    })
    .unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no complete quarter to publish: the data run from 2023-01 to 2023-02, so 2023-Q1 is incomplete for every unit"),
        "{err}"
    );
}

#[test]
fn errors_name_the_place_and_the_fix() {
    let cases: &[(Case, i32, &[&str])] = &[
        (
            Case {
                rollup: "[rollup]\nstok = \"last\"",
                ..Case::default()
            },
            2,
            &[
                "f.toml:",
                "unknown column `stok` in [rollup]",
                "did you mean `stock`?",
            ],
        ),
        (
            Case {
                rollup: "[rollup]\nstock = \"lst\"",
                ..Case::default()
            },
            2,
            &[
                "f.toml:",
                "unknown rollup rule `lst` for column `stock`",
                "did you mean `last`?",
            ],
        ),
        (
            Case {
                rollup: "[rollup]\nincomplete = \"skip\"",
                ..Case::default()
            },
            2,
            &[
                "f.toml:",
                "`incomplete` in [rollup] must be \"refuse\", \"prorate\" or \"accept\"",
            ],
        ),
        (
            Case {
                rollup: "[rollup]\npopulation = \"mean\"",
                ..Case::default()
            },
            2,
            &["column `population` comes from source `units`, which has no period column"],
        ),
        (
            Case {
                per: "per = \"weekly\"",
                args: &[],
                ..Case::default()
            },
            2,
            &[
                "f.toml:",
                "`per` in [units] must be \"month\", \"quarter\" or \"year\"",
            ],
        ),
        (
            Case {
                stock: "cases - lag(cases, 2)",
                ..Case::default()
            },
            2,
            &[
                "f.toml:",
                "`lag(cases, 2)` reaches 2 month(s) back, not a whole number of quarters",
                "lag(x, 3) is the previous quarter",
            ],
        ),
        (
            Case {
                stock: "cases - lag(cases)",
                ..Case::default()
            },
            2,
            &["`lag(cases)` reaches 1 month(s) back"],
        ),
        (
            Case {
                monthly: &MONTHLY
                    .replace("2023-01", "2023-Q1")
                    .replace("2023-04", "2023-Q2")
                    .lines()
                    .filter(|l| !l.contains("2023-0"))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>(),
                args: &["--per", "month"],
                ..Case::default()
            },
            2,
            &["--per month: cannot publish months from quarters: source `monthly` has quarters"],
        ),
    ];
    for (c, code, wanted) in cases {
        let (got, err) = score(c).map(|_| (0, String::new())).unwrap_or_else(|e| e);
        assert_eq!(got, *code, "{err}");
        for w in *wanted {
            assert!(err.contains(w), "wanted {w:?} in:\n{err}");
        }
    }
}

// --- the shipped sample ------------------------------------------------------------------

const SAMPLE: &str = "indicators/hongmian.toml";

/// A CSV file of the sample, as maps of column → cell.
fn sample_csv(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(root().join("data").join(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Sums of `column` (and of `weight` where `column` has a value) per district and month-set,
/// from a street-level monthly file.
fn sums(file: &str, column: &str, months: &[&str]) -> BTreeMap<String, (f64, usize)> {
    let district: BTreeMap<String, String> = sample_csv("streets.csv")
        .into_iter()
        .map(|r| (r["street_code"].clone(), r["district_code"].clone()))
        .collect();
    let mut out: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for r in sample_csv(file) {
        if !months.contains(&r["month"].as_str()) || r[column].is_empty() {
            continue;
        }
        let e = out.entry(district[&r["street_code"]].clone()).or_default();
        e.0 += r[column].parse::<f64>().unwrap();
        e.1 += 1;
    }
    out
}

#[test]
fn the_sample_quarters_are_ratios_of_sums_of_its_csv_files() {
    let tmp = tempdir();
    let out = tmp.path().join("q.csv");
    let fw = root().join(SAMPLE);
    let o = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "--per",
        "quarter",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let raw = raw(&out);
    let expected: Vec<String> = (2022..=2023)
        .flat_map(|y| (1..=4).map(move |q| format!("{y}-Q{q}")))
        .collect();
    assert_eq!(periods(&raw), expected);
    let population: BTreeMap<String, f64> = sample_csv("districts.csv")
        .into_iter()
        .map(|r| (r["district_code"].clone(), r["population"].parse().unwrap()))
        .collect();
    let q4_23 = ["2023-10", "2023-11", "2023-12"];
    let q4_22 = ["2022-10", "2022-11", "2022-12"];
    let q3_23 = ["2023-07", "2023-08", "2023-09"];
    let thefts = sums("police_monthly.csv", "theft_cases", &q4_23);
    let fraud = sums("police_monthly.csv", "telecom_fraud_cases", &q4_23);
    let fraud_before = sums("police_monthly.csv", "telecom_fraud_cases", &q4_22);
    assert_eq!(thefts.len(), 11);
    for (d, pop) in &population {
        close(
            get(&raw, d, "2023-Q4", "theft_rate"),
            thefts[d].0 / pop * 10000.0,
        );
        // The same quarter a year earlier: lag(…, 12) months = 4 quarters.
        close(
            get(&raw, d, "2023-Q4", "telecom_fraud_yoy"),
            fraud[d].0 / fraud_before[d].0,
        );
        assert_eq!(get(&raw, d, "2022-Q4", "telecom_fraud_yoy"), None);
    }
    // Mean response time in 2023-Q3 (one street of 从化区 left its July response times
    // empty): Σ minutes over Σ calls of the streets and months that have minutes.
    let district: BTreeMap<String, String> = sample_csv("streets.csv")
        .into_iter()
        .map(|r| (r["street_code"].clone(), r["district_code"].clone()))
        .collect();
    let mut minutes: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in sample_csv("emergency_monthly.csv") {
        if q3_23.contains(&r["month"].as_str()) && !r["response_minutes_total"].is_empty() {
            let e = minutes
                .entry(district[&r["street_code"]].clone())
                .or_default();
            e.0 += r["response_minutes_total"].parse::<f64>().unwrap();
            e.1 += r["emergency_calls"].parse::<f64>().unwrap();
        }
    }
    for (d, (m, c)) in &minutes {
        close(get(&raw, d, "2023-Q3", "mean_response_minutes"), m / c);
    }
}

#[test]
fn the_sample_ships_a_quarterly_report() {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let tmp = tempdir();
    let dir = tmp.path().join("r");
    let fw = root().join(SAMPLE);
    let o = kapok(&[
        "report",
        fw.to_str().unwrap(),
        "--per",
        "quarter",
        "-o",
        dir.to_str().unwrap(),
    ]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["period"], "2023-Q4");
    assert_eq!(manifest["previous_period"], "2023-Q3");
    // The framework's quarterly title (`[report] title_quarter`), not its monthly one.
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains("<title>广州市红棉指数季度报告（区） 2023-Q4</title>"),
        "the quarterly title"
    );
    assert_eq!(manifest["options"]["per"], "quarter");
    let file = std::fs::File::open(dir.join("results.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut seen = BTreeSet::new();
    let mut rows = 0;
    for b in reader {
        let b = b.unwrap();
        rows += b.num_rows();
        let p = b.column_by_name("period").unwrap();
        let p = datafusion::arrow::compute::cast(p, &datafusion::arrow::datatypes::DataType::Utf8)
            .unwrap();
        let p = p.as_string::<i32>();
        seen.extend((0..p.len()).map(|i| p.value(i).to_string()));
    }
    let expected: BTreeSet<String> = (2022..=2023)
        .flat_map(|y| (1..=4).map(move |q| format!("{y}-Q{q}")))
        .collect();
    assert_eq!(
        seen, expected,
        "2022-Q1 … 2023-Q4, with 2022-Q4 for year-on-year"
    );
    assert_eq!(rows, 11 * 8);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("2023-Q4") && html.contains("2023-Q3"));
    // Rank changes are against 2023-Q3: the change column of `kapok rank` is the rank in
    // 2023-Q3 minus the rank in 2023-Q4, both read from `kapok score`.
    let scores = tmp.path().join("s.csv");
    let o = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "--per",
        "quarter",
        "-o",
        scores.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let csv = Csv::read(&scores);
    let (u, p, r) = (csv.col("unit"), csv.col("period"), csv.col("rank.hongmian"));
    let rank = |unit: &str, period: &str| -> i64 {
        csv.rows
            .iter()
            .find(|row| row[u] == unit && row[p] == period)
            .unwrap()[r]
            .parse()
            .unwrap()
    };
    let o = kapok(&[
        "rank",
        fw.to_str().unwrap(),
        "--per",
        "quarter",
        "--lang",
        "en",
    ]);
    let (out, _) = texts(&o);
    assert!(out.contains("2023-Q4 (change against 2023-Q3)"), "{out}");
    let mut checked = 0;
    for line in out.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 3 || !t[2].starts_with("4401") {
            continue;
        }
        let change = rank(t[2], "2023-Q3") - rank(t[2], "2023-Q4");
        let shown = match change {
            0 => "=".to_string(),
            c if c > 0 => format!("↑{c}"),
            c => format!("↓{}", -c),
        };
        assert_eq!(
            t[0].parse::<i64>().unwrap(),
            rank(t[2], "2023-Q4"),
            "{line}"
        );
        assert_eq!(t[1], shown, "{line}");
        checked += 1;
    }
    assert_eq!(checked, 11, "{out}");
}

#[test]
fn flagged_quarters_are_in_the_reports_notes_in_both_languages() {
    let m: String = MONTHLY
        .lines()
        .filter(|l| !l.contains("2023-06"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempdir();
    let fw = write(
        dir.path(),
        &Case {
            monthly: &m,
            ..Case::default()
        },
    );
    for (lang, wanted) in [
        ("en", "2023-Q2 for every unit (2023-06 missing)"),
        ("zh", "2023-Q2 全部单位（缺 2023-06）"),
    ] {
        let out = dir.path().join(format!("r-{lang}"));
        let o = kapok(&[
            "report",
            &fw,
            "--per",
            "quarter",
            "--incomplete",
            "accept",
            "--lang",
            lang,
            "-o",
            out.to_str().unwrap(),
        ]);
        let (_, err) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(html.contains(wanted), "{lang}: no {wanted:?} in the report");
        let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        assert!(manifest.contains("\"period\": \"2023-Q2\""), "{manifest}");
    }
}
