//! `kapok serve` over HTTP and as a library: the API against the command line (the oracle is
//! always `kapok score … -o FILE`, never a number taken from kapok itself), exports, bad
//! requests, random query strings, and a load of concurrent clients.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

use super::server::{Client, Server, get};
use super::util::{Csv, framework_text_anywhere, kapok, root, tempdir, texts};

#[test]
fn the_server_answers_a_ping_and_names_a_bad_parameter() {
    let s = Server::start("indicators/hongmian.toml", &[]);
    let r = s.get("/api/ping");
    assert_eq!((r.status, r.text().as_str()), (200, "{}"));
    let r = s.get("/api/score?w.safty=2");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["param"], "w.safty");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    assert!(
        s.says("Ctrl-C to stop", Duration::from_secs(30)),
        "{}",
        s.stderr.lock().unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// The command line as the oracle.

/// `kapok score FRAMEWORK ARGS… -o OUT`, which must succeed.
fn cli_score(framework: &str, args: &[String], out: &Path) {
    let mut all: Vec<String> = vec!["score".into(), framework.into()];
    all.extend(args.iter().cloned());
    all.extend(["-o".into(), out.display().to_string()]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let o = kapok(&refs);
    assert!(
        o.status.success(),
        "kapok {} failed: {}",
        all.join(" "),
        texts(&o).1
    );
}

/// The parameters of a query string, decoded, in order.
fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The command-line options that ask what `query` asks, written by hand from the parameter
/// table of the README (`period=P` → `--period P`, `w.ID=W` → `--weight ID=W`, `normalize`,
/// `aggregate` and `lang` alike); without a period, `--period LATEST` (none when empty).
fn cli_args(query: &str, latest: &str) -> Vec<String> {
    let mut period = (!latest.is_empty()).then(|| latest.to_string());
    let mut out = Vec::new();
    for (k, v) in pairs(query) {
        match k.as_str() {
            "period" => period = Some(v),
            "normalize" | "aggregate" | "lang" => out.extend([format!("--{k}"), v]),
            _ => {
                let id = k.strip_prefix("w.").expect("a weight parameter");
                out.extend(["--weight".to_string(), format!("{id}={v}")]);
            }
        }
    }
    match period {
        Some(p) => [vec!["--period".to_string(), p], out].concat(),
        None => out,
    }
}

/// Splits a command line as a POSIX shell does for words (single and double quotes,
/// backslash escapes; no expansions).
fn shell_split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            let n = chars.next().unwrap();
                            if !"\"\\$`".contains(n) {
                                cur.push('\\');
                            }
                            cur.push(n);
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().unwrap());
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                }
                in_word = false;
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[test]
fn shell_split_reads_what_a_shell_reads() {
    assert_eq!(
        shell_split(
            r#"--period 2023-12 --normalize '{ method = "minmax" }' --weight 'a b=1' 'x'\''y' "q\"r""#
        ),
        [
            "--period",
            "2023-12",
            "--normalize",
            r#"{ method = "minmax" }"#,
            "--weight",
            "a b=1",
            "x'y",
            "q\"r"
        ]
    );
    assert!(shell_split("  ").is_empty());
}

/// One unit's line of a ranking.
#[derive(Clone, Debug)]
struct Line {
    unit: String,
    name: String,
    rank: Option<u32>,
    score: Option<f64>,
    /// Scores of the index's children, in the answer's `dims` order.
    dims: Vec<Option<f64>>,
}

fn number(field: &str) -> Option<f64> {
    (!field.is_empty()).then(|| {
        field
            .parse()
            .unwrap_or_else(|_| panic!("a number: {field}"))
    })
}

/// The ranking of `period` (every row when the table has no period column) in a `kapok score`
/// table, best first as kapok orders every ranking: by rank, then unit key; unranked last.
fn csv_ranking(csv: &Csv, period: &str, index: &str, dims: &[String]) -> Vec<Line> {
    let pcol = csv.header.iter().position(|h| h == "period");
    let (unit, name) = (csv.col("unit"), csv.col("name"));
    let (score, rank) = (
        csv.col(&format!("score.{index}")),
        csv.col(&format!("rank.{index}")),
    );
    let dcols: Vec<usize> = dims
        .iter()
        .map(|d| csv.col(&format!("score.{d}")))
        .collect();
    let mut v: Vec<Line> = csv
        .rows
        .iter()
        .filter(|r| pcol.is_none_or(|c| r[c] == period))
        .map(|r| Line {
            unit: r[unit].clone(),
            name: r[name].clone(),
            rank: number(&r[rank]).map(|x| x as u32),
            score: number(&r[score]),
            dims: dcols.iter().map(|&c| number(&r[c])).collect(),
        })
        .collect();
    v.sort_by(|a, b| {
        (a.rank.unwrap_or(u32::MAX), &a.unit).cmp(&(b.rank.unwrap_or(u32::MAX), &b.unit))
    });
    v
}

/// The ranking of an `/api/score` answer, in its order.
fn api_ranking(answer: &Value) -> Vec<Line> {
    let f = |v: &Value| v.as_f64();
    answer["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| Line {
            unit: u["unit"].as_str().unwrap().to_string(),
            name: u["name"].as_str().unwrap().to_string(),
            rank: u["rank"].as_u64().map(|r| r as u32),
            score: f(&u["score"]),
            dims: u["dims"].as_array().unwrap().iter().map(f).collect(),
        })
        .collect()
}

/// Two scores agree: both missing, or within 1e-9 (relative to their size when above 1).
fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => false,
    }
}

/// Asserts that two rankings list the same units in the same order with the same ranks and
/// scores (names are compared by the caller); returns how many scores were bit-identical.
fn assert_same_ranking(label: &str, api: &[Line], cli: &[Line]) -> usize {
    assert_eq!(
        api.iter().map(|l| &l.unit).collect::<Vec<_>>(),
        cli.iter().map(|l| &l.unit).collect::<Vec<_>>(),
        "{label}: units or their order differ"
    );
    let mut exact = 0;
    for (a, c) in api.iter().zip(cli) {
        assert_eq!(a.rank, c.rank, "{label}: rank of {}", a.unit);
        assert!(
            close(a.score, c.score),
            "{label}: score of {}: api {:?}, cli {:?}",
            a.unit,
            a.score,
            c.score
        );
        exact += usize::from(a.score.map(f64::to_bits) == c.score.map(f64::to_bits));
        assert_eq!(a.dims.len(), c.dims.len(), "{label}: dims of {}", a.unit);
        for (j, (x, y)) in a.dims.iter().zip(&c.dims).enumerate() {
            assert!(
                close(*x, *y),
                "{label}: dimension {j} of {}: api {x:?}, cli {y:?}",
                a.unit
            );
        }
    }
    exact
}

/// Asserts that an XLSX download holds, cell for cell, what the CSV file holds.
fn assert_xlsx_is_csv(label: &str, xlsx: &[u8], csv: &Path) {
    let mut wb = Xlsx::new(Cursor::new(xlsx.to_vec()))
        .unwrap_or_else(|e| panic!("{label}: the XLSX download does not open: {e}"));
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let csv = Csv::read(csv);
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows.len(), csv.rows.len() + 1, "{label}: XLSX rows");
    for (r, want) in std::iter::once(&csv.header).chain(&csv.rows).enumerate() {
        let got = rows[r];
        for (c, field) in want.iter().enumerate() {
            let cell = got.get(c).unwrap_or(&Data::Empty);
            let same = match cell {
                Data::Empty => field.is_empty(),
                Data::String(s) => s == field,
                Data::Float(x) => field.parse::<f64>().is_ok_and(|y| close(Some(*x), Some(y))),
                Data::Int(x) => field.parse::<i64>() == Ok(*x),
                other => panic!("{label}: unexpected cell {other:?}"),
            };
            assert!(
                same,
                "{label}: XLSX row {r} column {} is {cell:?}, the CSV has `{field}`",
                csv.header[c]
            );
        }
    }
}

/// English unit names from a data file's columns, for `lang=en`.
fn names_from(file: &str, key: &str, name: &str) -> HashMap<String, String> {
    let csv = Csv::read(&root().join(file));
    let (k, n) = (csv.col(key), csv.col(name));
    csv.rows
        .iter()
        .map(|r| (r[k].clone(), r[n].clone()))
        .collect()
}

/// The index's name in `lang`, read from the framework file.
fn index_name(framework: &str, lang: &str) -> String {
    let t: toml::Table = std::fs::read_to_string(root().join(framework))
        .unwrap()
        .parse()
        .unwrap();
    let name = &t["index"]["name"];
    name.get(lang)
        .or(name.get("zh"))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| name.as_str().unwrap())
        .to_string()
}

/// A query checked against the command line, and the extra checks to run on it.
struct Case {
    query: &'static str,
    /// Also compare the XLSX download byte for byte with `kapok score -o F.xlsx`.
    xlsx_bytes: bool,
    /// Also append the answer's TOML fragment to a copy of the framework and check that the
    /// copy, run without `--weight`, ranks as the query does.
    toml: bool,
}

const fn case(query: &'static str) -> Case {
    Case {
        query,
        xlsx_bytes: false,
        toml: false,
    }
}

/// Checks every case's `/api/score`, `/api/ranking.csv`, `/api/ranking.xlsx` and `export`
/// against `kapok score` on the command line; `en_names` are the expected English unit names
/// (`None`: the framework has none, the Chinese ones are shown).
fn api_against_cli(framework: &str, cases: &[Case], en_names: Option<HashMap<String, String>>) {
    let t0 = Instant::now();
    let dir = tempdir();
    let official_csv = dir.path().join("official.csv");
    // The official run of every period (ranks without weights), while the server starts.
    let s = std::thread::scope(|sc| {
        sc.spawn(|| cli_score(framework, &[], &official_csv));
        Server::start(framework, &[])
    });
    let official = Csv::read(&official_csv);
    let index = official.header[official
        .header
        .iter()
        .position(|h| h.starts_with("score."))
        .unwrap()]
    .trim_start_matches("score.")
    .to_string();
    let latest = official
        .header
        .iter()
        .position(|h| h == "period")
        .map(|c| official.rows.iter().map(|r| r[c].clone()).max().unwrap())
        .unwrap_or_default();
    let mut exact = 0;
    let mut total = 0;
    for (n, case) in cases.iter().enumerate() {
        let q = case.query;
        let label = format!("{framework} ?{q}");
        let r = s.get(&format!("/api/score?{q}"));
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let answer = r.json();
        let period = answer["period"].as_str().unwrap().to_string();
        if !pairs(q).iter().any(|(k, _)| k == "period") {
            assert_eq!(period, latest, "{label}: the default period is the latest");
        }
        let en = pairs(q).iter().any(|(k, v)| k == "lang" && v == "en");
        let dims: Vec<String> = answer["dims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert_eq!(answer["index"]["id"], index.as_str(), "{label}");
        assert_eq!(
            answer["index"]["name"],
            index_name(framework, if en { "en" } else { "zh" }),
            "{label}"
        );

        // The command line, asked the same in the user's own spelling.
        let args = cli_args(q, &latest);
        let csv_path = dir.path().join(format!("q{n}.csv"));
        cli_score(framework, &args, &csv_path);
        let csv = Csv::read(&csv_path);
        let cli = csv_ranking(&csv, &period, &index, &dims);
        let api = api_ranking(&answer);
        exact += assert_same_ranking(&label, &api, &cli);
        total += api.len();

        // Names, official ranks and rank changes.
        let official_lines = csv_ranking(&official, &period, &index, &[]);
        let official_rank: HashMap<&str, Option<u32>> = official_lines
            .iter()
            .map(|l| (l.unit.as_str(), l.rank))
            .collect();
        for (u, (a, c)) in answer["units"]
            .as_array()
            .unwrap()
            .iter()
            .zip(api.iter().zip(&cli))
        {
            let want_name = match (&en_names, en) {
                (Some(names), true) => &names[&c.unit],
                _ => &c.name,
            };
            assert_eq!(&a.name, want_name, "{label}: name of {}", a.unit);
            let off = official_rank[a.unit.as_str()];
            assert_eq!(
                u["official_rank"].as_u64().map(|r| r as u32),
                off,
                "{label}: official rank of {}",
                a.unit
            );
            let change = match (off, a.rank) {
                (Some(o), Some(r)) => Value::from(i64::from(o) - i64::from(r)),
                _ => Value::Null,
            };
            assert_eq!(u["change"], change, "{label}: change of {}", a.unit);
            let status = u["status"].as_str().unwrap();
            assert_eq!(
                status == "scored",
                a.score.is_some(),
                "{label}: status {status} of {}",
                a.unit
            );
        }
        for (k, v) in pairs(q) {
            if let Some(id) = k.strip_prefix("w.") {
                assert_eq!(
                    answer["weights"][id].as_f64(),
                    Some(v.parse::<f64>().unwrap()),
                    "{label}: weight of {id}"
                );
            }
        }

        // The shared link: the canonical query answers the same.
        let canonical = answer["query"].as_str().unwrap();
        let again = s.get(&format!("/api/score?{canonical}"));
        assert_eq!(again.status, 200, "{label}: ?{canonical}");
        assert_eq!(
            again.json(),
            answer,
            "{label}: ?{canonical} answers otherwise"
        );

        // Downloads.
        let d = s.get(&format!("/api/ranking.csv?{q}"));
        assert_eq!(d.status, 200, "{label}: {}", d.text());
        assert!(
            d.body == std::fs::read(&csv_path).unwrap(),
            "{label}: /api/ranking.csv differs from kapok score {}",
            args.join(" ")
        );
        let x = s.get(&format!("/api/ranking.xlsx?{q}"));
        assert_eq!(x.status, 200, "{label}: {}", x.text());
        assert_xlsx_is_csv(&label, &x.body, &csv_path);
        if case.xlsx_bytes {
            let xlsx_path = dir.path().join(format!("q{n}.xlsx"));
            cli_score(framework, &args, &xlsx_path);
            assert!(
                x.body == std::fs::read(&xlsx_path).unwrap(),
                "{label}: /api/ranking.xlsx differs from kapok score -o F.xlsx"
            );
        }

        // `export.options` pasted into the command line.
        let options = shell_split(answer["export"]["options"].as_str().unwrap());
        let mine: Vec<String> = args
            .chunks(2)
            .filter(|o| o[0] != "--lang")
            .flat_map(|o| o.to_vec())
            .collect();
        if options != mine {
            let pasted = dir.path().join(format!("q{n}-pasted.csv"));
            cli_score(framework, &options, &pasted);
            assert!(
                std::fs::read(&pasted).unwrap() == std::fs::read(&csv_path).unwrap(),
                "{label}: the exported options {options:?} rank otherwise"
            );
        }
        let command = answer["export"]["command"].as_str().unwrap();
        assert!(
            command.starts_with(&format!("kapok rank {framework}")),
            "{label}: {command}"
        );

        // The TOML fragment appended to the framework.
        if case.toml {
            let fragment = answer["export"]["toml"].as_str().unwrap();
            assert!(fragment.contains("[weights]"), "{label}: {fragment}");
            let copy = dir.path().join(format!("q{n}.toml"));
            std::fs::write(
                &copy,
                format!("{}\n{fragment}", framework_text_anywhere(framework)),
            )
            .unwrap();
            let out = dir.path().join(format!("q{n}-toml.csv"));
            let without_weights: Vec<String> = args
                .chunks(2)
                .filter(|o| o[0] != "--weight")
                .flat_map(|o| o.to_vec())
                .collect();
            cli_score(copy.to_str().unwrap(), &without_weights, &out);
            let from_toml = csv_ranking(&Csv::read(&out), &period, &index, &dims);
            assert_same_ranking(&format!("{label} (TOML fragment)"), &api, &from_toml);
        }
    }
    eprintln!(
        "{framework}: {} queries against the command line, {exact} of {total} index scores bit-identical, {:.1} s",
        cases.len(),
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn api_rankings_and_downloads_equal_the_command_line_on_the_districts() {
    api_against_cli(
        "indicators/hongmian.toml",
        &[
            Case {
                xlsx_bytes: true,
                toml: true,
                ..case("w.public_safety=3&w.hotline=0.5")
            },
            case("period=2023%E5%B9%B46%E6%9C%88&w.sense_of_safety=0&w.copolicing=2&lang=en"),
            case("period=2023-6&normalize=zscore&w.theft_rate=2&w.clearance_rate=0"),
            case("normalize=rank&aggregate=geometric&w.emergency=4&lang=en"),
            case(
                "period=2022-03&normalize=%7B+method+%3D+%22minmax%22%2C+range+%3D+%5B1%2C+10%5D+%7D&aggregate=geometric&w.personal_safety=2.5",
            ),
            case(""),
            case("w.public_safety=1000000&w.personal_safety=0.000001&w.telecom_fraud_yoy=0"),
        ],
        Some(names_from(
            "data/districts.csv",
            "district_code",
            "district_name_en",
        )),
    );
}

#[test]
fn api_rankings_and_downloads_equal_the_command_line_on_the_streets() {
    api_against_cli(
        "indicators/hongmian-streets.toml",
        &[
            Case {
                toml: true,
                ..case("w.public_safety=3&w.copolicing=0")
            },
            case("period=2023-6&w.hotline=0&w.emergency=2&lang=en"),
            case(
                "period=2023%E5%B9%B41%E6%9C%88&normalize=zscore&w.theft_rate=0&w.burglary_rate=3",
            ),
            // A geometric mean fails here (goalposts scores of 0): a generalised mean instead.
            case(
                "normalize=rank&aggregate=%7B+method+%3D+%22generalised%22%2C+p+%3D+2+%7D&w.sense_of_safety=5",
            ),
        ],
        None,
    );
}

#[test]
fn api_rankings_and_downloads_equal_the_command_line_without_periods() {
    api_against_cli(
        "indicators/asem.toml",
        &[
            case(""),
            Case {
                toml: true,
                ..case("w.Conn=2&w.Flights=0&normalize=zscore")
            },
            case(
                "normalize=%7B+method+%3D+%22minmax%22%2C+range+%3D+%5B1%2C+100%5D+%7D&aggregate=geometric&w.Physical=0&lang=en",
            ),
        ],
        None,
    );
}

// ---------------------------------------------------------------------------------------------
// Bad requests.

/// A request to a running server, written byte for byte (for methods and heads the client
/// does not send); the answer is read to the end of the connection.
fn raw_request(addr: &str, request: &[u8]) -> super::server::Response {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reads the answer");
    super::server::parse(&raw)
}

/// Percent-encodes a parameter's value as a browser's form would.
fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Every answer of ours, refusals included, is neither sniffed, cached nor referred.
fn assert_safe_headers(label: &str, r: &super::server::Response) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(r.header(name), Some(value), "{label}: {name}");
    }
}

#[test]
fn bad_requests_are_refused_naming_the_parameter() {
    let s = Server::start("indicators/hongmian.toml", &[]);
    let zero_public_safety = "w.theft_rate=0&w.burglary_rate=0&w.telecom_fraud_rate=0&w.fraud_loss_per_capita=0&w.telecom_fraud_yoy=0&w.clearance_rate=0";
    let zero_dims = "w.public_safety=0&w.personal_safety=0&w.dispute_resolution=0&w.copolicing=0&w.emergency=0&w.hotline=0&w.sense_of_safety=0";
    let long = format!("w.public_safety={}", "1".repeat(8 * 1024));
    let many: Vec<String> = (0..513).map(|i| format!("w.n{i}=1")).collect();
    let many = many.join("&");
    let normalize = |m: &str| format!("normalize={}", enc(m));
    // (path and query, status, the parameter named (any of; none: the query as a whole), a
    // piece of the message)
    let score_cases: Vec<(String, u16, &[&str], &str)> = vec![
        (
            "w.public_safty=2".into(),
            400,
            &["w.public_safty"],
            "did you mean `public_safety`",
        ),
        (
            "w.copolicng=1&w.hotline=2".into(),
            400,
            &["w.copolicng"],
            "did you mean `copolicing`",
        ),
        (
            "w.nowhere=1".into(),
            400,
            &["w.nowhere"],
            "no node has the id",
        ),
        (
            "w.public_safety=abc".into(),
            400,
            &["w.public_safety"],
            "not a number",
        ),
        (
            "w.public_safety=-1".into(),
            400,
            &["w.public_safety"],
            "≥ 0",
        ),
        (
            "w.public_safety=-0.5".into(),
            400,
            &["w.public_safety"],
            "≥ 0",
        ),
        (
            "w.public_safety=NaN".into(),
            400,
            &["w.public_safety"],
            "finite",
        ),
        (
            "w.public_safety=nan".into(),
            400,
            &["w.public_safety"],
            "finite",
        ),
        (
            "w.public_safety=inf".into(),
            400,
            &["w.public_safety"],
            "finite",
        ),
        (
            "w.public_safety=-inf".into(),
            400,
            &["w.public_safety"],
            "finite",
        ),
        (
            "w.public_safety=infinity".into(),
            400,
            &["w.public_safety"],
            "finite",
        ),
        (
            "w.public_safety=1e7".into(),
            400,
            &["w.public_safety"],
            "at most",
        ),
        (
            "w.public_safety=1000000.5".into(),
            400,
            &["w.public_safety"],
            "at most",
        ),
        (
            "w.public_safety=1e400".into(),
            400,
            &["w.public_safety"],
            "",
        ),
        (
            "w.public_safety=".into(),
            400,
            &["w.public_safety"],
            "not a number",
        ),
        (
            "w.public_safety=0x10".into(),
            400,
            &["w.public_safety"],
            "not a number",
        ),
        (
            "w.public_safety=1,5".into(),
            400,
            &["w.public_safety"],
            "not a number",
        ),
        (
            "w.public_safety=%E4%B8%89".into(),
            400,
            &["w.public_safety"],
            "not a number",
        ),
        ("w.=1".into(), 400, &["w."], ""),
        ("w.hongmian=2".into(), 400, &["w.hongmian"], "the index"),
        (
            zero_public_safety.into(),
            400,
            &[
                "w.theft_rate",
                "w.burglary_rate",
                "w.telecom_fraud_rate",
                "w.fraud_loss_per_capita",
                "w.telecom_fraud_yoy",
                "w.clearance_rate",
            ],
            "zero",
        ),
        (
            zero_dims.into(),
            400,
            &[
                "w.public_safety",
                "w.personal_safety",
                "w.dispute_resolution",
                "w.copolicing",
                "w.emergency",
                "w.hotline",
                "w.sense_of_safety",
            ],
            "zero",
        ),
        (
            "normalize=minmaxx".into(),
            400,
            &["normalize"],
            "unknown normalize method",
        ),
        (
            "aggregate=median".into(),
            400,
            &["aggregate"],
            "unknown aggregate method",
        ),
        ("normalize=".into(), 400, &["normalize"], ""),
        ("aggregate=".into(), 400, &["aggregate"], ""),
        (normalize("{"), 400, &["normalize"], ""),
        (
            normalize("{ method = \"minmax\", range = [1] }"),
            400,
            &["normalize"],
            "",
        ),
        (
            format!(
                "aggregate={}",
                enc("{ method = \"generalised\", p = \"x\" }")
            ),
            400,
            &["aggregate"],
            "",
        ),
        // The server reads no file a request names.
        (
            normalize("{ method=\"minmax\", over=\"some.csv\" }"),
            400,
            &["normalize"],
            "not a period",
        ),
        (
            normalize("{ method = \"minmax\", bounds = \"some.csv\" }"),
            400,
            &["normalize"],
            "file",
        ),
        (
            normalize("{ method = \"minmax\", bounds = \"/etc/passwd\" }"),
            400,
            &["normalize"],
            "file",
        ),
        (
            normalize("{ method = \"minmax\", bounds = \"data/districts.csv\" }"),
            400,
            &["normalize"],
            "file",
        ),
        (
            normalize("{ method = \"minmax\", bounds = \"../data/districts.csv\" }"),
            400,
            &["normalize"],
            "file",
        ),
        // A method that cannot score this period, or another one (the command line refuses
        // it: `kapok score --period 2023-12 --aggregate geometric` fails on 2022-01).
        (
            "normalize=zscore&aggregate=geometric".into(),
            400,
            &["aggregate"],
            "positive",
        ),
        (
            "period=2023-12&aggregate=geometric".into(),
            400,
            &["aggregate"],
            "period 2022-01",
        ),
        ("period=1999-01".into(), 400, &["period"], "no data"),
        ("period=2023-13".into(), 400, &["period"], ""),
        ("period=last+tuesday".into(), 400, &["period"], ""),
        ("period=".into(), 400, &["period"], "no period"),
        (
            "period=2023-12&period=2023-11".into(),
            400,
            &["period"],
            "more than once",
        ),
        (
            "w.public_safety=1&w.public_safety=2".into(),
            400,
            &["w.public_safety"],
            "more than once",
        ),
        ("lang=en&lang=en".into(), 400, &["lang"], "more than once"),
        (
            "perid=2023-12".into(),
            400,
            &["perid"],
            "did you mean `period`",
        ),
        (
            "weight.public_safety=2".into(),
            400,
            &["weight.public_safety"],
            "unknown parameter",
        ),
        ("foo=1".into(), 400, &["foo"], "unknown parameter"),
        ("lang=fr".into(), 400, &["lang"], "not a language"),
        ("lang=".into(), 400, &["lang"], ""),
        ("=3".into(), 400, &[], "without a name"),
        (long, 400, &[], "bytes"),
        (many, 400, &[], "parameters"),
    ];
    let mut checked = 0;
    for route in ["/api/score", "/api/ranking.csv", "/api/ranking.xlsx", "/"] {
        for (q, status, params, words) in &score_cases {
            let path = format!("{route}?{q}");
            let label: String = path.chars().take(200).collect();
            let r = s.get(&path);
            assert_eq!(r.status, *status, "{label}: {}", r.text());
            assert_safe_headers(&label, &r);
            if route == "/" {
                // The page shows the official ranking and the error.
                let html = r.text();
                assert!(
                    r.header("content-type").unwrap().starts_with("text/html"),
                    "{label}"
                );
                assert!(
                    params.is_empty() || params.iter().any(|p| html.contains(p)),
                    "{label}: the page names none of {params:?}"
                );
                checked += 1;
                continue;
            }
            assert_eq!(
                r.header("content-type"),
                Some("application/json; charset=utf-8"),
                "{label}"
            );
            let e = r.json();
            let message = e["error"].as_str().expect("an error message");
            match e["param"].as_str() {
                None => assert!(params.is_empty(), "{label}: no parameter named: {e}"),
                Some(p) => {
                    assert!(
                        params.contains(&p),
                        "{label}: names {p}, expected one of {params:?}"
                    );
                    assert!(message.starts_with(&format!("{p}: ")), "{label}: {message}");
                }
            }
            assert!(
                message.contains(words),
                "{label}: `{message}` lacks `{words}`"
            );
            checked += 1;
        }
    }
    // The other routes read the same parameters.
    for (path, param) in [
        ("/api/meta?lang=fr", "lang"),
        ("/api/meta?foo=1", "foo"),
        ("/api/intervals?period=1999-01", "period"),
        ("/api/intervals?period=2023-12&period=2023-11", "period"),
        ("/api/reach?period=1999-01", "period"),
        ("/api/reach?normalize=bogus", "normalize"),
        ("/api/reach?aggregate=bogus", "aggregate"),
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert_eq!(r.json()["param"], param, "{path}");
        checked += 1;
    }
    // No such page.
    for path in [
        "/nope",
        "/api/scores",
        "/api/score/",
        "/API/score",
        "/api",
        "/index.html",
        "/api/ranking.pdf",
        "/../etc/passwd",
        "/%2e%2e/Cargo.toml",
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_safe_headers(path, &r);
        assert_eq!(r.json()["param"], Value::Null, "{path}");
        checked += 1;
    }
    // Only loopback names are answered.
    for (host, status) in [
        ("evil.example", 403),
        ("localhost.evil.example", 403),
        ("127.0.0.1.evil.example", 403),
        ("evil.example:80", 403),
        ("", 403),
        ("localhost", 200),
        ("LOCALHOST:8080", 200),
        ("127.0.0.1", 200),
        ("[::1]:8080", 200),
    ] {
        let r = get(&s.addr, "/api/ping", host);
        assert_eq!(r.status, status, "Host: {host}: {}", r.text());
        assert_safe_headers(&format!("Host: {host}"), &r);
        if status == 403 {
            assert!(
                r.json()["error"].as_str().unwrap().contains("localhost"),
                "{host}"
            );
        }
        checked += 1;
    }
    let r = raw_request(
        &s.addr,
        b"GET /api/ping HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 403, "no Host header");
    // Other methods.
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        for path in ["/api/score?w.public_safety=2", "/"] {
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
                s.addr
            );
            let r = raw_request(&s.addr, req.as_bytes());
            assert_eq!(r.status, 405, "{method} {path}");
            assert!(
                r.json()["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("only GET")),
                "{method} {path}: {}",
                r.text()
            );
            checked += 1;
        }
    }
    let head = format!(
        "HEAD /api/ping HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.addr
    );
    let r = raw_request(&s.addr, head.as_bytes());
    assert_eq!((r.status, r.body.len()), (200, 0), "HEAD");
    // Requests HTTP itself refuses (characters a URL may not hold unencoded): no answer of
    // ours, but no harm either.
    for target in ["/api/score?normalize={a|b}", "/api/score?w.a=\"1\""] {
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        );
        let r = raw_request(&s.addr, req.as_bytes());
        assert_eq!(r.status, 400, "{target}");
    }
    // Still answering, and still right.
    assert_eq!(s.get("/api/ping").status, 200);
    let r = s.get("/api/score?w.public_safety=2");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["weights"]["public_safety"], 2.0);
    eprintln!("{checked} bad or foreign requests refused as they should be");
}

// ---------------------------------------------------------------------------------------------
// Random query strings.

/// The districts' model, read once for the property tests.
fn districts_model() -> &'static kapok::serve::Model {
    static MODEL: OnceLock<kapok::serve::Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = root().join("indicators/hongmian.toml");
        let fw = kapok::load(&path).expect("the framework loads");
        kapok::serve::Model::load(fw, path, None).expect("the model loads")
    })
}

/// A random parameter name: mostly known ones (every node id of the districts), sometimes
/// near misses, empty pieces or any text.
fn name_strategy(ids: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::sample::select(ids).prop_map(|id| format!("w.{id}")),
        1 => Just("period".to_string()),
        1 => Just("normalize".to_string()),
        1 => Just("aggregate".to_string()),
        1 => Just("lang".to_string()),
        1 => prop::sample::select(vec![
            "w.", "w", "", " ", "w.hongmian", "w.public_safty", "perid", "W.hotline", "w.w.hotline",
            "w.%", "lang ", "w.公共安全", "period\u{0}", "normalise",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
    .boxed()
}

/// A random value: mostly weights, periods and methods that make sense, sometimes numbers
/// out of range, other spellings or any text.
fn value_strategy() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0.0f64..10.0).prop_map(|w| format!("{w}")),
        2 => (0u32..20).prop_map(|w| w.to_string()),
        1 => prop::sample::select(vec![
            "0", "0.0", "1e6", "1e-300", "1e300", "1e7", "1000000.0001", "-1", "-0", "NaN", "inf",
            "-inf", "abc", "", " 2 ", "2,5", "0x10", "1_000", "+3", ".5", "5.", "1e", "%", "%FF",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "2023-12", "2023-6", "2023-06", "2023年6月", "2022-01", "2022-1", "2023", "2023-Q4",
            "1999-01", "2023-13", "latest", "2023-12-01",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "zscore", "rank", "minmax", "arithmetic", "geometric", "harmonic", "borda",
            "{ method = \"minmax\", range = [1, 10] }",
            "{ method = \"zscore\", mean = 100, sd = 10 }",
            "{ method = \"generalised\", p = 2 }",
            "{ method = \"minmax\", over = \"panel\" }",
            "{ method = \"minmax\", bounds = \"bounds.csv\" }",
            "{", "}", "[1, 2]", "\"zscore\"", "{ method = \"zscore\", sd = -1 }", "median",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec!["zh", "en", "fr", "EN", ""]).prop_map(str::to_string),
        1 => "\\PC{0,12}",
    ]
    .boxed()
}

/// Percent-encodes every byte of `s`, or none, or only what a form would.
fn encode_strategy(s: String) -> BoxedStrategy<String> {
    let all: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
    let form: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
    prop::sample::select(vec![s, all, form]).boxed()
}

/// A query that mostly makes sense: weights of distinct nodes (now and then 0), a period in
/// some spelling, methods, a language; each piece encoded its own way.
fn sensible_strategy(ids: Vec<String>) -> BoxedStrategy<Vec<String>> {
    let weight = prop_oneof![
        7 => (0.0f64..10.0).prop_map(|w| format!("{w}")),
        1 => Just("0".to_string()),
    ];
    let option = |v: Vec<&'static str>| prop::option::of(prop::sample::select(v));
    (
        prop::sample::subsequence(ids, 0..5).prop_flat_map(move |ids| {
            let n = ids.len();
            (Just(ids), prop::collection::vec(weight.clone(), n))
        }),
        option(vec![
            "2023-12",
            "2023-6",
            "2023年6月",
            "2022-01",
            "2022-1",
            "2023-02",
        ]),
        option(vec![
            "zscore",
            "rank",
            "{ method = \"minmax\", range = [1, 10] }",
            "{ method = \"minmax\", over = \"panel\" }",
        ]),
        option(vec![
            "arithmetic",
            "geometric",
            "harmonic",
            "{ method = \"generalised\", p = 2 }",
        ]),
        option(vec!["zh", "en"]),
    )
        .prop_map(|((ids, ws), period, normalize, aggregate, lang)| {
            let mut v: Vec<(String, String)> = ids
                .into_iter()
                .zip(ws)
                .map(|(id, w)| (format!("w.{id}"), w))
                .collect();
            for (k, val) in [
                ("period", period),
                ("normalize", normalize),
                ("aggregate", aggregate),
                ("lang", lang),
            ] {
                if let Some(val) = val {
                    v.push((k.to_string(), val.to_string()));
                }
            }
            v
        })
        .prop_flat_map(|v| {
            v.into_iter()
                .map(|(k, val)| {
                    (encode_strategy(k), encode_strategy(val)).prop_map(|(k, v)| format!("{k}={v}"))
                })
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// A random query string: a sensible query, random pieces `name=value` (or a bare name,
/// empty pieces, `a=b=c`), or both mixed, joined by `&`; sometimes a huge number of pieces.
fn query_strategy(ids: Vec<String>) -> BoxedStrategy<String> {
    let piece = (name_strategy(ids.clone()), value_strategy(), 0u8..10)
        .prop_flat_map(|(n, v, shape)| (encode_strategy(n), encode_strategy(v), Just(shape)))
        .prop_map(|(n, v, shape)| match shape {
            0 => n,
            1 => String::new(),
            2 => format!("{n}={v}={v}"),
            _ => format!("{n}={v}"),
        });
    prop_oneof![
        8 => sensible_strategy(ids.clone()).prop_map(|p| p.join("&")),
        4 => prop::collection::vec(piece.clone(), 0..6).prop_map(|p| p.join("&")),
        4 => (sensible_strategy(ids), prop::collection::vec(piece.clone(), 1..3), any::<prop::sample::Index>())
            .prop_map(|(mut good, bad, at)| {
                let i = at.index(good.len() + 1);
                good.splice(i..i, bad);
                good.join("&")
            }),
        1 => (prop::collection::vec(piece, 1..4), 100usize..700)
            .prop_map(|(p, times)| vec![p.join("&"); times].join("&")),
    ]
    .boxed()
}

/// The decoded (and trimmed) parameter names of a query, as the server reads them.
fn decoded_names(raw: &str) -> Vec<String> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, _)| k.trim().to_string())
        .collect()
}

/// The parameter a refusal names, if any, is one of the query's.
fn check_refusal(raw: &str, e: &kapok::serve::BadRequest) -> Result<(), TestCaseError> {
    if let Some(p) = &e.param {
        prop_assert!(
            decoded_names(raw).contains(p),
            "{raw:?} refused naming {p:?}, which it does not hold: {e}"
        );
    }
    prop_assert!(!e.message.is_empty());
    Ok(())
}

#[test]
fn random_queries_never_panic_and_rank_as_the_whole_pipeline_does() {
    let m = districts_model();
    let ids: Vec<String> = m.fw.nodes.iter().map(|n| n.id.clone()).collect();
    let mut runner = TestRunner::new(Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    });
    let (scored, refused) = (Cell::new(0), Cell::new(0));
    let t0 = Instant::now();
    let result = runner.run(&query_strategy(ids), |raw| {
        let q = match kapok::serve::Query::parse(&raw) {
            Ok(q) => q,
            Err(e) => {
                refused.set(refused.get() + 1);
                return check_refusal(&raw, &e);
            }
        };
        let s = match m.score(&q) {
            Ok(s) => s,
            Err(e) => {
                refused.set(refused.get() + 1);
                return check_refusal(&raw, &e);
            }
        };
        scored.set(scored.get() + 1);
        // The whole pipeline (what `kapok score --period P` runs) with the same framework.
        let fw = m.framework(&q).expect("a scored query's framework");
        let full = kapok::evaluate(&fw, m.panel.clone()).map_err(|e| {
            TestCaseError::fail(format!(
                "{raw:?} scored by the server, but the command line refuses it: {e}"
            ))
        })?;
        let p = s.period;
        let n = s.ranks.iter().flatten().count() as u32;
        for (k, &u) in s.rows.iter().enumerate() {
            let want = full.rank(p, u, 0);
            prop_assert_eq!(
                s.ranks[k].unwrap_or(0),
                want,
                "{:?}: rank of unit {}",
                raw,
                u
            );
            prop_assert!(s.ranks[k].is_none_or(|r| (1..=n).contains(&r)));
            let (a, b) = (s.scores[[k, 0]], full.scores[[p, u, 0]]);
            prop_assert!(
                (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                "{:?}: score of unit {}: {} against {}",
                raw,
                u,
                a,
                b
            );
        }
        for u in 0..m.panel.units.len() {
            if !s.rows.contains(&u) {
                prop_assert_eq!(full.rank(p, u, 0), 0, "{:?}: unit {} unscored", raw, u);
            }
        }
        Ok(())
    });
    eprintln!(
        "random queries: {} scored, {} refused, {:.1} s",
        scored.get(),
        refused.get(),
        t0.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A query string as a browser sends it in a URL: every byte outside RFC 3986's query
/// characters percent-encoded (a `%` is left as it is, valid escape or not).
fn as_url_query(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn random_queries_over_http_are_answered_with_json() {
    let s = Server::start("indicators/hongmian.toml", &[]);
    let meta = s.get("/api/meta").json();
    let ids: Vec<String> = meta["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    // One keep-alive connection for every request: a dropped connection fails the test.
    let client = std::cell::RefCell::new(Client::connect(&s.addr).expect("connects"));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let counts = Cell::new((0, 0));
    let routes = prop::sample::select(vec!["/api/score", "/api/score", "/api/score", "/api/meta"]);
    let result = runner.run(&(routes, query_strategy(ids)), |(route, raw)| {
        let query = as_url_query(&raw);
        let path = format!("{route}?{query}");
        let r = client
            .borrow_mut()
            .get(&path)
            .map_err(|e| TestCaseError::fail(format!("{path}: no answer ({e})")))?;
        if r.header("connection") == Some("close") {
            *client.borrow_mut() = Client::connect(&s.addr).expect("connects");
        }
        // A request line beyond hyper's limit (64 KiB) is refused by HTTP itself, as it should
        // be (kapok refuses queries over 8 KiB; this one is far longer), and the connection
        // closed.
        if r.status == 414 && path.len() > 64 * 1024 {
            counts.set((counts.get().0, counts.get().1 + 1));
            return Ok(());
        }
        prop_assert!(
            r.status == 200 || r.status == 400,
            "{}: HTTP {}: {}",
            path,
            r.status,
            r.text()
        );
        prop_assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8"),
            "{}",
            path
        );
        let v: Value = serde_json::from_slice(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{path}: not JSON ({e})")))?;
        let (ok, bad) = counts.get();
        if r.status == 200 {
            counts.set((ok + 1, bad));
            if route == "/api/score" {
                prop_assert!(!v["units"].as_array().unwrap().is_empty(), "{}", path);
            }
        } else {
            counts.set((ok, bad + 1));
            prop_assert!(v["error"].is_string(), "{}: {}", path, v);
            if let Some(p) = v["param"].as_str() {
                prop_assert!(
                    decoded_names(&query).iter().any(|n| n == p),
                    "{}: names {:?}, not a parameter of the query",
                    path,
                    p
                );
            }
        }
        Ok(())
    });
    let (ok, bad) = counts.get();
    eprintln!("random queries over HTTP: {ok} answered, {bad} refused");
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(s.get("/api/ping").status, 200);
}

// ---------------------------------------------------------------------------------------------
// Load.

/// The ranking of an answer differs from the expected one: how, or `None`.
fn ranking_difference(api: &[Line], want: &[Line]) -> Option<String> {
    if api.len() != want.len() {
        return Some(format!("{} units, expected {}", api.len(), want.len()));
    }
    api.iter().zip(want).find_map(|(a, w)| {
        (a.unit != w.unit || a.rank != w.rank || !close(a.score, w.score)).then(|| {
            format!(
                "{} rank {:?} score {:?}, expected {} rank {:?} score {:?}",
                a.unit, a.rank, a.score, w.unit, w.rank, w.score
            )
        })
    })
}

#[test]
fn fifty_clients_rescoring_for_ten_seconds_get_the_command_lines_rankings() {
    const FRAMEWORK: &str = "indicators/hongmian-streets.toml";
    const CLIENTS: usize = 50;
    const LOAD: Duration = Duration::from_secs(10);
    let queries = [
        "period=2023-12&w.public_safety=3",
        "period=2023-6&w.hotline=0&w.emergency=2",
        "period=2023%E5%B9%B41%E6%9C%88&w.theft_rate=0&w.burglary_rate=3",
        "period=2022-07&w.sense_of_safety=4&w.copolicing=0.5",
        "period=2023-12&w.personal_safety=0.25&w.dispute_resolution=5&w.fire_rate=2",
    ];
    let index = "hongmian_streets";
    // The expected rankings, from the command line, while the server starts.
    let dir = tempdir();
    let (s, expected) = std::thread::scope(|sc| {
        let runs: Vec<_> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let out = dir.path().join(format!("load{i}.csv"));
                sc.spawn(move || {
                    cli_score(FRAMEWORK, &cli_args(q, ""), &out);
                    let csv = Csv::read(&out);
                    let period = csv.rows[0][csv.col("period")].clone();
                    csv_ranking(&csv, &period, index, &[])
                })
            })
            .collect();
        let s = Server::start(FRAMEWORK, &[]);
        let expected: Vec<Vec<Line>> = runs.into_iter().map(|h| h.join().unwrap()).collect();
        (s, expected)
    });
    for e in &expected {
        assert_eq!(e.len(), 176, "the streets");
    }
    let start = Instant::now();
    let deadline = start + LOAD;
    // Even clients keep one connection; odd ones open a new one per request.
    let per_client: Vec<(Vec<Duration>, Vec<String>)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (addr, expected, queries) = (&s.addr, &expected, &queries);
                sc.spawn(move || {
                    let mut times = Vec::new();
                    let mut errors = Vec::new();
                    let mut kept: Option<Client> = None;
                    let mut i = c;
                    while Instant::now() < deadline && errors.len() < 5 {
                        let q = i % queries.len();
                        i += 1;
                        let t = Instant::now();
                        let conn = match kept.take() {
                            Some(k) => Ok(k),
                            None => Client::connect(addr),
                        };
                        let answer = conn.and_then(|mut k| {
                            let r = k.get(&format!("/api/score?{}", queries[q]));
                            if c % 2 == 0 {
                                kept = Some(k);
                            }
                            r
                        });
                        let elapsed = t.elapsed();
                        let r = match answer {
                            Ok(r) => r,
                            Err(e) => {
                                errors.push(format!("client {c}, ?{}: {e}", queries[q]));
                                continue;
                            }
                        };
                        if r.status != 200 {
                            errors.push(format!(
                                "client {c}, ?{}: HTTP {}: {}",
                                queries[q],
                                r.status,
                                r.text()
                            ));
                            continue;
                        }
                        let v: Value = match serde_json::from_slice(&r.body) {
                            Ok(v) => v,
                            Err(e) => {
                                errors.push(format!("client {c}: not JSON: {e}"));
                                continue;
                            }
                        };
                        if let Some(d) = ranking_difference(&api_ranking(&v), &expected[q]) {
                            errors.push(format!("client {c}, ?{}: {d}", queries[q]));
                            continue;
                        }
                        times.push(elapsed);
                    }
                    (times, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = start.elapsed();
    let errors: Vec<&String> = per_client.iter().flat_map(|(_, e)| e).collect();
    let mut times: Vec<Duration> = per_client.iter().flat_map(|(t, _)| t.clone()).collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "load: {} clients, {} answers equal to the command line's in {:.1} s ({:.0}/s); latency median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        CLIENTS,
        times.len(),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64(),
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(*times.last().unwrap())
    );
    assert!(
        errors.is_empty(),
        "{} errors, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    for (c, (t, _)) in per_client.iter().enumerate() {
        assert!(!t.is_empty(), "client {c} got no answer in {LOAD:?}");
    }
    assert!(
        wall < LOAD + Duration::from_secs(60),
        "the load took {wall:?}"
    );
    assert_eq!(s.get("/api/ping").status, 200);
}

// ---------------------------------------------------------------------------------------------
// How far a unit can move, checked on the command line.

/// The ranks of every unit in `period` of `kapok score FRAMEWORK --period P --weight …`.
fn cli_ranks(framework: &str, period: &str, weights: &[(String, f64)]) -> HashMap<String, u32> {
    let dir = crate::util::tempdir();
    let out = dir.path().join("r.csv");
    let mut args = vec!["--period".to_string(), period.to_string()];
    for (id, w) in weights {
        args.push("--weight".into());
        args.push(format!("{id}={w}"));
    }
    cli_score(framework, &args, &out);
    let csv = Csv::read(&out);
    let index = "hongmian";
    csv_ranking(&csv, period, index, &[])
        .into_iter()
        .filter_map(|l| Some((l.unit, l.rank?)))
        .collect()
}

/// `/api/reach` on the districts: every unit's best and worst rank lies around its official
/// rank, each is reached — the weighting the answer gives for it, run on the command line, puts
/// the unit exactly there — the weightings lie in the declared ranges, and weightings drawn
/// here at random within the ranges rank every unit between its best and worst.
#[test]
fn reach_is_reached_on_the_command_line_and_bounds_random_weightings() {
    let fw = "indicators/hongmian.toml";
    let s = Server::start(fw, &[]);
    let period = "2023-12";
    let reach = s.get(&format!("/api/reach?period={period}"));
    assert_eq!(reach.status, 200, "{}", reach.text());
    let reach = reach.json();
    let ranges: Vec<(String, f64, f64)> = reach["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["low"].as_f64().unwrap(),
                r["high"].as_f64().unwrap(),
            )
        })
        .collect();
    // hongmian.toml declares ±25 % on the index's 7 dimensions: 2^7 corners + 1024 points.
    assert_eq!(ranges.len(), 7);
    assert_eq!(reach["corners"], 128);
    assert_eq!(reach["weightings"], 128 + 1024);
    let official = cli_ranks(fw, period, &[]);
    let units = reach["units"].as_array().unwrap();
    assert_eq!(units.len(), official.len());
    let weighting = |v: &Value| -> Vec<(String, f64)> {
        let map = v.as_object().unwrap();
        assert_eq!(map.len(), ranges.len());
        ranges
            .iter()
            .map(|(id, lo, hi)| {
                let w = map[id].as_f64().unwrap();
                assert!(
                    *lo - 1e-12 <= w && w <= *hi + 1e-12,
                    "{id}={w} outside [{lo}, {hi}]"
                );
                (id.clone(), w)
            })
            .collect()
    };
    let mut bounds = HashMap::new();
    let (mut moved, mut checked) = (0, 0);
    for u in units {
        let unit = u["unit"].as_str().unwrap().to_string();
        let (best, worst) = (
            u["best"].as_u64().unwrap() as u32,
            u["worst"].as_u64().unwrap() as u32,
        );
        let nominal = official[&unit];
        assert!(
            best <= nominal && nominal <= worst,
            "{unit}: {best} ≤ {nominal} ≤ {worst}"
        );
        moved += usize::from(best < worst);
        bounds.insert(unit.clone(), (best, worst));
        // Each extreme is reached by the weighting given for it (the CLI as the oracle), for
        // the first three units whose rank moves (each check is two runs of the CLI).
        if (best < nominal || worst > nominal) && checked < 3 {
            checked += 1;
            let b = cli_ranks(fw, period, &weighting(&u["best_weights"]));
            assert_eq!(b[&unit], best, "{unit}: its best weighting");
            let w = cli_ranks(fw, period, &weighting(&u["worst_weights"]));
            assert_eq!(w[&unit], worst, "{unit}: its worst weighting");
        }
    }
    assert!(moved >= 3, "only {moved} district(s) move within ±25 %");
    assert_eq!(checked, 3);
    // Random weightings within the ranges (a fixed linear congruential stream).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3 {
        let w: Vec<(String, f64)> = ranges
            .iter()
            .map(|(id, lo, hi)| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                (id.clone(), lo + (hi - lo) * u)
            })
            .collect();
        for (unit, rank) in cli_ranks(fw, period, &w) {
            let (best, worst) = bounds[&unit];
            assert!(
                best <= rank && rank <= worst,
                "{unit} ranks {rank} with {w:?}, outside its reach {best}–{worst}"
            );
        }
    }
}

/// A normalisation for part of the tree (`NODE=METHOD`) that names a bounds file is refused as
/// the default one is: a request never makes the server read a file.
#[test]
fn a_per_node_normalisation_naming_a_file_is_refused() {
    let m = districts_model();
    let raw = format!(
        "normalize={}",
        enc(r#"public_safety={ method = "minmax", bounds = "data/districts.csv" }"#)
    );
    let e = m
        .score(&kapok::serve::Query::parse(&raw).unwrap())
        .err()
        .expect("refused");
    assert_eq!(e.param.as_deref(), Some("normalize"), "{e}");
    assert!(e.message.contains("bounds from a file"), "{e}");
    // Without the file, the same per-node method scores.
    let raw = format!("normalize={}", enc("public_safety=rank"));
    assert!(m.score(&kapok::serve::Query::parse(&raw).unwrap()).is_ok());
}
