//! CLI snapshots: help texts and the ranking table.

use super::util::{kapok, snapshot, texts};

#[test]
fn help_texts() {
    for (args, name) in [
        (vec!["--help"], "help.txt"),
        (vec!["score", "--help"], "help_score.txt"),
        (vec!["rank", "--help"], "help_rank.txt"),
        (vec!["check", "--help"], "help_check.txt"),
        (vec!["robustness", "--help"], "help_robustness.txt"),
        (vec!["weights", "--help"], "help_weights.txt"),
    ] {
        let out = kapok(&args);
        assert_eq!(out.status.code(), Some(0));
        snapshot(name, &texts(&out).0);
    }
}

#[test]
fn rank_table_in_both_languages() {
    // Normalised per period (the snapshot predates the sample's base year; its base-year
    // scores are checked in `reference.rs`).
    let out = kapok(&[
        "rank",
        "indicators/hongmian.toml",
        "--period",
        "2023-06",
        "--set",
        "normalize.over=period",
    ]);
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

#[test]
fn overrides_on_the_coinr_example() {
    use super::util::{Csv, tempdir};
    let dir = tempdir();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // z-scores are negative for half the units: a geometric mean refuses them, with a hint.
    let run = kapok(&[
        "score",
        "indicators/asem.toml",
        "--normalize",
        "zscore",
        "--aggregate",
        "geometric",
        "-o",
        &out("a.csv"),
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs positive values") && err.contains("mean = 100, sd = 10"),
        "{err}"
    );
    assert!(!dir.path().join("a.csv").exists());
    // The suggested remedies work.
    for (i, args) in [
        vec![
            "--normalize",
            "{ method = \"zscore\", mean = 100, sd = 10 }",
            "--aggregate",
            "geometric",
        ],
        vec![
            "--set",
            "normalize.range=[1,100]",
            "--aggregate",
            "geometric",
        ],
        vec![
            "--normalize",
            "zscore",
            "--set",
            "normalize.mean=100",
            "--set",
            "normalize.sd=10",
            "--aggregate",
            "harmonic",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let path = out(&format!("ok{i}.csv"));
        let mut all = vec!["score", "indicators/asem.toml", "-o", &path];
        all.extend(args.iter().copied());
        let run = kapok(&all);
        assert_eq!(run.status.code(), Some(0), "{args:?}: {}", texts(&run).1);
        let csv = Csv::read(std::path::Path::new(&path));
        assert_eq!(csv.rows.len(), 51);
    }
    // minmax to [1, 100] under --set: every indicator score lies in [1, 100].
    let csv = Csv::read(std::path::Path::new(&out("ok1.csv")));
    let c = csv.col("score.LPI");
    assert!(csv.rows.iter().all(|r| {
        let v: f64 = r[c].parse().unwrap();
        (1.0..=100.0).contains(&v)
    }));
    // Bad --set calls are usage errors that say what is wrong.
    for (arg, msg) in [
        ("normalize.rnage=[1,2]", "did you mean `range`"),
        ("normalise.range=[1,2]", "not a method kind"),
        ("normalize", "KIND.PARAM=VALUE"),
    ] {
        let run = kapok(&[
            "score",
            "indicators/asem.toml",
            "--set",
            arg,
            "-o",
            &out("bad.csv"),
        ]);
        let (_, err) = texts(&run);
        assert_eq!(run.status.code(), Some(2), "{arg}: {err}");
        assert!(err.contains(msg), "{arg}: {err}");
    }
}

#[test]
fn rank_table_shows_scores_as_precisely_as_they_are_ranked() {
    // The HDI ranks on 3 decimals ([rank] digits = 3): the table shows UNDP's published values.
    let out = kapok(&["rank", "indicators/undp-hdi.toml", "--lang", "en"]);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let che = stdout.lines().find(|l| l.contains("CHE")).unwrap();
    assert!(che.contains(" 0.967 "), "{che}");
    // The district index has no digits: two decimals.
    // Normalised per period (the snapshot predates the sample's base year; its base-year
    // scores are checked in `reference.rs`).
    let out = kapok(&[
        "rank",
        "indicators/hongmian.toml",
        "--period",
        "2023-06",
        "--set",
        "normalize.over=period",
    ]);
    assert!(
        texts(&out)
            .0
            .lines()
            .any(|l| l.contains("440104") && l.contains('.'))
    );
}

/// A `[weights]` table (what `kapok serve` exports) weighs exactly as the same `--weight`
/// options: the same scores and ranks in every period, byte for byte.
#[test]
fn a_weights_table_weighs_as_the_weight_options() {
    let dir = crate::util::tempdir();
    let fw = dir.path().join("h.toml");
    let text = crate::util::framework_text_anywhere("indicators/hongmian.toml");
    std::fs::write(
        &fw,
        format!("{text}\n[weights]\npublic_safety = 3\nhotline = 0\ntheft_rate = 2.5\n"),
    )
    .unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let out = crate::util::kapok(&["score", fw.to_str().unwrap(), "-o", a.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::util::texts(&out).1);
    let out = crate::util::kapok(&[
        "score",
        "indicators/hongmian.toml",
        "--weight",
        "public_safety=3",
        "--weight",
        "hotline=0",
        "--weight",
        "theft_rate=2.5",
        "-o",
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::util::texts(&out).1);
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert_eq!(a, b, "[weights] and --weight give different results");
    // And the weights changed something: the official run differs.
    let c = dir.path().join("c.csv");
    let out = crate::util::kapok(&[
        "score",
        "indicators/hongmian.toml",
        "-o",
        c.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_ne!(std::fs::read(c).unwrap(), a);
}

/// `--normalize '{ method = "dist2ref", reference = U }'` as a default measures every indicator
/// against unit U: U's normalised values are all 1 (`1 − (x_U − x)/(x_U − min)` at `x = x_U`),
/// so its every score is 1 under arithmetic means; another unit is measured against U. A
/// reference that is no unit is named.
#[test]
fn dist2ref_as_a_default_measures_against_one_unit() {
    let dir = crate::util::tempdir();
    let norm = dir.path().join("n.csv");
    let scores = dir.path().join("s.csv");
    let d2r = r#"{ method = "dist2ref", reference = "GBR" }"#;
    for (extra, out) in [(&["--stage", "normalised"][..], &norm), (&[][..], &scores)] {
        let mut args = vec!["score", "indicators/asem.toml", "--normalize", d2r];
        args.extend(extra);
        args.extend(["-o", out.to_str().unwrap()]);
        let o = crate::util::kapok(&args);
        assert!(o.status.success(), "{}", crate::util::texts(&o).1);
    }
    let norm = crate::util::Csv::read(&norm);
    let gbr = norm.rows.iter().find(|r| r[0] == "GBR").unwrap();
    let first = norm.col("group") + 1;
    assert_eq!(gbr.len() - first, 49);
    assert!(gbr[first..].iter().all(|v| v == "1.0"), "{gbr:?}");
    let scores = crate::util::Csv::read(&scores);
    let row = scores.rows.iter().find(|r| r[0] == "GBR").unwrap();
    let index: f64 = row[scores.col("score.Index")].parse().unwrap();
    assert!((index - 1.0).abs() < 1e-12, "{index}");
    let row = scores.rows.iter().find(|r| r[0] == "DEU").unwrap();
    let index: f64 = row[scores.col("score.Index")].parse().unwrap();
    assert!((index - 1.0).abs() > 1e-3, "DEU scores as GBR: {index}");

    let o = crate::util::kapok(&[
        "rank",
        "indicators/asem.toml",
        "--normalize",
        r#"{ method = "dist2ref", reference = "XXX" }"#,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(crate::util::texts(&o).1.contains("reference unit `XXX`"));
}

/// `--set KIND.method=M` switches the method and keeps the parameters the new one takes:
/// ASEM's screen (`byNA`, `min_availability`, `after_impute`) switched off scores as before
/// (screening kept every unit), and an unknown method is named.
#[test]
fn set_method_switches_and_keeps_what_the_new_method_takes() {
    let dir = crate::util::tempdir();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    for (extra, out) in [(&["--set", "screen.method=none"][..], &a), (&[][..], &b)] {
        let mut args = vec!["score", "indicators/asem.toml"];
        args.extend(extra);
        args.extend(["-o", out.to_str().unwrap()]);
        let o = crate::util::kapok(&args);
        assert!(o.status.success(), "{}", crate::util::texts(&o).1);
    }
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    let o = crate::util::kapok(&[
        "rank",
        "indicators/asem.toml",
        "--set",
        "screen.method=nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        crate::util::texts(&o)
            .1
            .contains("--set screen.method=nope")
    );
}

/// `--aggregate NODE=METHOD` and `--aggregate level:N=METHOD` give those nodes their own
/// aggregation, exactly as `aggregate = "…"` in their tables does; `--normalize NODE=METHOD`
/// gives every indicator under the node its own normalisation.
#[test]
fn methods_per_node_and_level_are_the_frameworks_own() {
    let dir = crate::util::tempdir();
    let text = crate::util::framework_text_anywhere("indicators/asem.toml");
    let own = |ids: &[&str], line: &str| -> std::path::PathBuf {
        let mut t = text.clone();
        for id in ids {
            let at = format!("id = \"{id}\"\n");
            assert!(t.contains(&at), "{id}");
            t = t.replacen(&at, &format!("{at}{line}\n"), 1);
        }
        let path = dir.path().join(format!("{}.toml", ids.join("-")));
        std::fs::write(&path, t).unwrap();
        path
    };
    let score = |fw: &str, extra: &[&str], name: &str| -> Vec<u8> {
        let out = dir.path().join(name);
        let mut args = vec!["score", fw];
        args.extend(extra);
        args.extend(["-o", out.to_str().unwrap()]);
        let o = crate::util::kapok(&args);
        assert!(o.status.success(), "{args:?}: {}", crate::util::texts(&o).1);
        std::fs::read(out).unwrap()
    };
    let asem = "indicators/asem.toml";
    let plain = score(asem, &[], "plain.csv");
    // One node.
    let file = own(&["Conn"], "aggregate = \"geometric\"");
    let by_option = score(asem, &["--aggregate", "Conn=geometric"], "a.csv");
    assert_eq!(by_option, score(file.to_str().unwrap(), &[], "b.csv"));
    assert_ne!(by_option, plain);
    // A level: the index's children.
    let file = own(&["Conn", "Sust"], "aggregate = \"harmonic\"");
    let by_option = score(asem, &["--aggregate", "level:1=harmonic"], "c.csv");
    assert_eq!(by_option, score(file.to_str().unwrap(), &[], "d.csv"));
    // The indicators under a node (a pillar's, read from the file).
    let physical: Vec<String> = text
        .split("[[indicator]]")
        .skip(1)
        .filter(|block| block.contains("parent = \"Physical\""))
        .filter_map(|block| {
            let line = block.lines().find(|l| l.starts_with("id = "))?;
            Some(
                line.trim_start_matches("id = ")
                    .trim_matches('"')
                    .to_string(),
            )
        })
        .collect();
    assert!(physical.len() >= 3, "{physical:?}");
    let ids: Vec<&str> = physical.iter().map(String::as_str).collect();
    let file = own(&ids, "normalize = \"rank\"");
    let by_option = score(asem, &["--normalize", "Physical=rank"], "e.csv");
    assert_eq!(by_option, score(file.to_str().unwrap(), &[], "f.csv"));
    assert_ne!(by_option, plain);
}
