//! CLI snapshots: help texts and the ranking table.

use super::util::{kapok, snapshot, texts};

#[test]
fn help_texts() {
    for (args, name) in [
        (vec!["--help"], "help.txt"),
        (vec!["score", "--help"], "help_score.txt"),
        (vec!["rank", "--help"], "help_rank.txt"),
        (vec!["check", "--help"], "help_check.txt"),
    ] {
        let out = kapok(&args);
        assert_eq!(out.status.code(), Some(0));
        snapshot(name, &texts(&out).0);
    }
}

#[test]
fn rank_table_in_both_languages() {
    let out = kapok(&["rank", "indicators/hongmian.toml", "--period", "2023-06"]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    snapshot("rank_hongmian_2023-06.txt", &stdout);
    let out = kapok(&["rank", "indicators/hongmian.toml", "--lang", "en"]);
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains("Red Cotton Index") && stdout.contains("2023-12"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.contains("4401")).count(), 11);
}

#[test]
fn usage_errors_exit_2() {
    let out = kapok(&["score"]);
    assert_eq!(out.status.code(), Some(2));
    let out = kapok(&["score", "indicators/hongmian.toml", "--normalize", "minmx"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean `minmax`"), "{err}");
}

#[test]
fn method_overrides_apply_to_every_indicator_without_its_own() {
    let out = kapok(&[
        "rank",
        "indicators/hongmian.toml",
        "--normalize",
        "zscore",
        "--aggregate",
        "generalised",
        "--lang",
        "en",
    ]);
    let (_, err) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "generalised without p is refused: {err}"
    );
    assert!(err.contains("needs the parameter `p`"), "{err}");
    let out = kapok(&[
        "rank",
        "indicators/hongmian.toml",
        "--normalize",
        "{ method = \"minmax\", range = [1, 10] }",
        "--aggregate",
        "{ method = \"generalised\", p = 2 }",
    ]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        stdout.lines().filter(|l| l.contains("4401")).count() == 11,
        "{stdout}"
    );
}
