//! The READMEs stay true: every TOML example in `indicators/README.md` is a valid framework,
//! and the README's claims that can be checked (list sizes, the sample's counts, the report's
//! files and sheets) match what kapok does.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use kapok::chart::ChartOptions;
use kapok::framework::{SourceFile, check};

use super::util::{files_under, kapok, root, tempdir, texts};

#[test]
fn every_toml_block_in_the_format_reference_checks() {
    let text = std::fs::read_to_string(root().join("indicators/README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_end()) {
            (None, "```toml") => cur = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(!blocks.is_empty(), "no ```toml block found");
    for (i, b) in blocks.iter().enumerate() {
        let file = SourceFile::new(format!("README block {}", i + 1), b.as_str());
        if let Err(d) = check(file, &root().join("indicators")) {
            panic!("{}", d.render());
        }
    }
}

#[test]
fn the_sample_frameworks_check_with_their_data() {
    for f in [
        "indicators/hongmian.toml",
        "indicators/hongmian-streets.toml",
    ] {
        let out = super::util::kapok(&["check", f]);
        let (stdout, err) = super::util::texts(&out);
        assert_eq!(out.status.code(), Some(0), "{f}: {err}");
        assert!(stdout.contains("ok"), "{stdout}");
        assert!(stdout.contains("24 period(s)"), "{stdout}");
    }
}

/// The README's text.
fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The text after the first `start` in `text`, up to the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("the README no longer says “{start}”"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no “{end}” after “{start}” in the README"));
    &text[from..from + len]
}

/// A count written in the README, in figures or as a word.
fn count(s: &str) -> usize {
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    s.parse()
        .ok()
        .or_else(|| WORDS.iter().position(|w| *w == s))
        .unwrap_or_else(|| panic!("“{s}” is no count"))
}

#[test]
fn the_readme_list_sizes_are_the_reports() {
    let text = readme().replace('\n', " ");
    let report = between(
        &text,
        "the lists show the top and bottom ",
        " in the report",
    );
    assert_eq!(
        count(report),
        kapok::report::TOP_N,
        "README: top and bottom {report}"
    );
    let default = between(
        &text,
        "in the report and ",
        " by default (`ChartOptions::top_n`",
    );
    assert_eq!(count(default), ChartOptions::default().top_n);
}

/// The count written just before `label` in `words` (“11 districts”).
fn count_before(words: &[&str], label: &str) -> usize {
    let at = words
        .iter()
        .position(|w| *w == label)
        .unwrap_or_else(|| panic!("no “{label}” in {words:?}"));
    count(words[at.checked_sub(1).expect("a count before the label")])
}

/// The words of what `kapok check FRAMEWORK` prints (“… 7 dimension(s), 28 indicator(s) …”).
fn checked(framework: &str) -> Vec<String> {
    let out = kapok(&["check", framework]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    stdout
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', ';']).to_string())
        .collect()
}

#[test]
fn the_readme_counts_of_the_sample_are_the_datas() {
    let text = readme().replace('\n', " ");
    // “… of Guangzhou's 11 districts: 7 dimensions, 28 indicators, from eight sources”
    let clause = between(
        &text,
        "`indicators/hongmian.toml` is a Red-Cotton-style monthly index of Guangzhou's ",
        " sources",
    );
    let words: Vec<&str> = clause
        .split_whitespace()
        .map(|w| w.trim_end_matches([':', ',']))
        .collect();
    let facts = checked("indicators/hongmian.toml");
    let facts: Vec<&str> = facts.iter().map(String::as_str).collect();
    for (said, fact) in [
        ("districts", "unit(s)"),
        ("dimensions", "dimension(s)"),
        ("indicators", "indicator(s)"),
    ] {
        let n = count_before(&facts, fact);
        assert_eq!(count_before(&words, said), n, "README: {said}");
    }
    let sources = count(words[words.len() - 1]);
    assert_eq!(
        sources,
        count_before(&facts, "source(s)"),
        "README: sources"
    );
    let streets = between(&text, "is the same index over the ", " streets and towns");
    let facts = checked("indicators/hongmian-streets.toml");
    let facts: Vec<&str> = facts.iter().map(String::as_str).collect();
    let n = count_before(&facts, "unit(s)");
    assert_eq!(count(streets), n, "README: streets");
}

#[test]
fn the_readme_names_the_reports_files_and_sheets() {
    let text = readme();
    let section = between(&text, "\n## The report\n", "\n## ");
    // The first column of the table of files: `index.html`, `charts/<name>.png`, …
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| &l[..l.find('`').unwrap()])
        .collect();
    assert!(listed.contains(&"results.xlsx"), "{listed:?}");
    let xlsx_row = between(section, "| `results.xlsx` | sheets ", "): ");
    let (zh, en) = xlsx_row.split_once(" (").unwrap();
    let zh: Vec<&str> = zh.split(" / ").collect();
    let en: Vec<&str> = en
        .trim_end_matches(" with `--lang en`")
        .split(", ")
        .map(|s| s.trim_matches('`'))
        .collect();

    let tmp = tempdir();
    for (lang, sheets) in [("zh", &zh), ("en", &en)] {
        let dir = tmp.path().join(lang);
        let out = kapok(&[
            "report",
            "indicators/hongmian.toml",
            "--lang",
            lang,
            "-o",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
        let files = files_under(&dir);
        for f in &files {
            let covered = listed.iter().any(|l| match l.split_once("<name>") {
                Some((dir, ext)) => f.starts_with(dir) && f.ends_with(ext),
                None => f == l,
            });
            assert!(covered, "the README's table of files does not list {f}");
        }
        for l in &listed {
            let (head, tail) = l.split_once("<name>").unwrap_or((l, ""));
            let present = files
                .iter()
                .any(|f| f.starts_with(head) && f.ends_with(tail));
            assert!(present, "the README lists {l}, the bundle has no such file");
        }
        let bytes = std::fs::read(dir.join("results.xlsx")).unwrap();
        let wb = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(&wb.sheet_names(), sheets, "the README's sheets ({lang})");
    }
}
