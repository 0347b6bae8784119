//! A framework cannot write or read outside its declared inputs, and its expressions are
//! bounded: checked through the kapok binary (a debug build in `cargo test`).

use std::path::Path;
use std::process::{Command, Output};

use crate::util::texts;

const CSV: &str = "code,x,y\nA,1,2\nB,2,3\nC,3,5\n";

fn framework(query: Option<&str>, expr: &str) -> String {
    let query = query.map_or(String::new(), |q| format!("query = \"{q}\"\n"));
    format!(
        r#"[index]
id = "i"
name = {{ zh = "指数", en = "Index" }}

[units]
key = "code"

[[source]]
name = "d"
path = "d.csv"
{query}
[[indicator]]
id = "x"
name = {{ zh = "x", en = "x" }}
direction = "higher"
expr = "{expr}"

[[indicator]]
id = "y"
name = {{ zh = "y", en = "y" }}
direction = "higher"
"#
    )
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the kapok binary runs")
}

fn setup(query: Option<&str>, expr: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), CSV).unwrap();
    std::fs::write(dir.path().join("f.toml"), framework(query, expr)).unwrap();
    dir
}

#[test]
fn copy_to_the_source_file_is_refused_and_leaves_it_byte_identical() {
    let dir = setup(Some("COPY (SELECT * FROM d) TO 'd.csv'"), "x");
    for args in [
        &["check", "f.toml"][..],
        &["check", "--no-data", "f.toml"],
        &["rank", "f.toml"],
    ] {
        let out = run_in(dir.path(), args);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        // line 11 is the query; its text starts after `query = "` (column 10)
        assert!(err.contains("f.toml:11:10"), "{err}");
        assert!(err.contains("`COPY` is not allowed"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("d.csv")).unwrap(),
            CSV
        );
    }
    let dir = setup(Some("COPY d TO 'new.csv' STORED AS CSV"), "x");
    let out = run_in(dir.path(), &["check", "f.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("new.csv").exists());
}

#[test]
fn create_external_table_of_an_undeclared_file_is_refused() {
    let dir = setup(
        Some("CREATE EXTERNAL TABLE secret STORED AS CSV LOCATION 'secret.csv'"),
        "x",
    );
    std::fs::write(dir.path().join("secret.csv"), "code,x\nA,1\n").unwrap();
    let out = run_in(dir.path(), &["check", "f.toml"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("f.toml:11:10"), "{err}");
    assert!(err.contains("`CREATE` is not allowed"), "{err}");
    // and a query cannot name it either
    let dir = setup(Some("SELECT * FROM secret"), "x");
    let out = run_in(dir.path(), &["check", "f.toml"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // `secret` starts at column 10 + len("SELECT * FROM ") = 24
    assert!(err.contains("f.toml:11:24"), "{err}");
    assert!(err.contains("unknown table `secret`"), "{err}");
}

#[test]
fn a_400_term_sum_is_checked_and_evaluated_and_100000_terms_are_refused() {
    let sum = |n: usize| vec!["x"; n].join(" + ");
    let dir = setup(None, &sum(400));
    let out = run_in(dir.path(), &["check", "f.toml"]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stdout.contains("data: 3 unit(s)"), "{stdout}");
    // the same sum in a source query
    let q = format!("SELECT code, {} AS x, y FROM d", sum(400));
    let dir = setup(Some(&q), "x");
    let out = run_in(dir.path(), &["check", "f.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);

    let dir = setup(None, &sum(100_000));
    let out = run_in(dir.path(), &["check", "--no-data", "f.toml"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{}", &err[..err.len().min(500)]);
    assert!(
        err.contains("399997 characters long; at most 10000"),
        "{}",
        &err[..500]
    );
    // the 10,001st character of the expression: column 9 + 10,000 on line 16
    assert!(err.contains("f.toml:16:10009"), "{}", &err[..500]);
    assert!(!err.contains("overflow"));
}
