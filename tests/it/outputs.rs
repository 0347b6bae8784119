//! Outputs never destroy anything: `score -o`, `audit -o` and `report -o` refuse every file
//! kapok reads however its path is typed; an audit directory and a forced report replace only
//! what kapok wrote; a killed run's leftovers are put right; long names do not break charts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::util::{files_under, kapok, leftovers, small_framework, tempdir, texts};

/// Runs kapok in `dir`.
fn kapok_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the kapok binary runs")
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let b = std::fs::read(dir.join(&f)).unwrap();
            (f, b)
        })
        .collect()
}

/// Asserts a usage error (exit 2) whose message contains every fragment.
fn refused(out: &Output, fragments: &[&str]) {
    let (_, err) = texts(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for f in fragments {
        assert!(err.contains(f), "`{f}` not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// The small framework with a `[charts]` section naming tiles and a GeoJSON file.
fn framework_with_charts(dir: &Path) -> PathBuf {
    let fw = small_framework(dir, "arithmetic");
    let text = std::fs::read_to_string(&fw).unwrap().replace(
        "[defaults]",
        "[charts]\ntiles = \"tiles.csv\"\ngeojson = \"map.geojson\"\n\n[defaults]",
    );
    std::fs::write(&fw, text).unwrap();
    std::fs::write(dir.join("tiles.csv"), "unit,row,col\n1,0,0\n2,0,1\n3,1,0\n").unwrap();
    std::fs::write(
        dir.join("map.geojson"),
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("table.csv"), "x\n").unwrap();
    fw
}

#[test]
fn score_refuses_every_file_it_reads_however_the_path_is_typed() {
    let tmp = tempdir();
    let d = tmp.path();
    framework_with_charts(d);
    std::fs::create_dir(d.join("sub")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("monthly.csv"), d.join("link.csv")).unwrap();
    let before = snapshot(d);
    let abs = d.join("units.csv");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-o", "units.csv"], "units.csv"),
        (vec!["-o", "./monthly.csv"], "monthly.csv"),
        (vec!["-o", "sub/../units.csv"], "units.csv"),
        (vec!["-o", abs.to_str().unwrap()], "units.csv"),
        (vec!["-o", "f.toml"], "f.toml"),
        (vec!["-o", "tiles.csv"], "tiles.csv"),
        (vec!["-o", "./sub/../map.geojson"], "map.geojson"),
        #[cfg(unix)]
        (vec!["-o", "link.csv"], "link.csv"),
        // --data is an input too.
        (vec!["--data", "table.csv", "-o", "table.csv"], "table.csv"),
    ];
    for (extra, named) in cases {
        let mut args = vec!["score", "f.toml"];
        args.extend(&extra);
        let out = kapok_in(d, &args);
        refused(&out, &[named, "refusing to overwrite"]);
        assert_eq!(snapshot(d), before, "{extra:?} changed a file");
        assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    }
    // A new file beside the inputs is fine, and is written with ordinary permissions.
    let out = kapok_in(d, &["score", "f.toml", "-o", "scores.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(d.join("plain.txt"), "x").unwrap();
        let mode = |f: &str| std::fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("scores.csv"), mode("plain.txt"));
    }
}

#[test]
fn audit_refuses_inputs_and_foreign_directories() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");
    let before = snapshot(d);
    // A file or directory that is or holds an input.
    for (o, named) in [
        ("units.csv", "units.csv"),
        (".", "f.toml"),
        ("sub/..", "f.toml"),
    ] {
        std::fs::create_dir_all(d.join("sub")).unwrap();
        let out = kapok_in(d, &["audit", "f.toml", "-o", o]);
        refused(&out, &[named]);
        let out = kapok_in(d, &["audit", "f.toml", "-o", o, "--force"]);
        refused(&out, &[named]);
        std::fs::remove_dir(d.join("sub")).unwrap();
        assert_eq!(snapshot(d), before);
    }

    // A directory with someone else's files: refused without --force, naming them.
    let out_dir = d.join("tables");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("notes.txt"), "mine").unwrap();
    std::fs::write(out_dir.join("removal.csv.bak"), "mine too").unwrap();
    let out = kapok_in(d, &["audit", "f.toml", "-o", "tables"]);
    refused(&out, &["notes.txt", "removal.csv.bak", "--force"]);
    assert_eq!(files_under(&out_dir), ["notes.txt", "removal.csv.bak"]);

    // With --force the tables are written beside them; the other files are untouched.
    let out = kapok_in(d, &["audit", "f.toml", "-o", "tables", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    assert_eq!(std::fs::read(out_dir.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(out_dir.join("removal.csv.bak")).unwrap(),
        b"mine too"
    );
    assert!(out_dir.join("about.csv").is_file());
    assert!(leftovers(&out_dir).is_empty());

    // An earlier audit (only audit tables) is rewritten without --force, and a table this
    // audit does not write is removed so the directory holds one audit.
    let clean = d.join("clean");
    let out = kapok_in(d, &["audit", "f.toml", "-o", "clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let first = snapshot(&clean);
    std::fs::write(clean.join("about.csv"), "stale").unwrap();
    let had_pca = clean.join("pca_loadings.csv").exists();
    if !had_pca {
        std::fs::write(clean.join("pca_loadings.csv"), "stale").unwrap();
    }
    let out = kapok_in(d, &["audit", "f.toml", "-o", "clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    assert_eq!(snapshot(&clean), first);

    // A file where the directory should be.
    std::fs::write(d.join("plain"), "x").unwrap();
    let out = kapok_in(d, &["audit", "f.toml", "-o", "plain", "--force"]);
    refused(&out, &["plain", "not a directory"]);
    assert_eq!(std::fs::read(d.join("plain")).unwrap(), b"x");
}

/// Writes a report of the small framework to `dir` (relative to `d`) and asserts success.
fn small_report(d: &Path, dir: &str, extra: &[&str]) -> String {
    let mut args = vec!["report", "f.toml", "-o", dir];
    args.extend(extra);
    let out = kapok_in(d, &args);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

#[test]
fn report_force_deletes_nothing_its_manifest_does_not_list() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");

    // Today's trap: a two-key manifest.json beside a source tree.
    let tree = d.join("project");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("manifest.json"), r#"{"kapok": 1, "files": []}"#).unwrap();
    for i in 0..12 {
        std::fs::write(tree.join(format!("src/m{i:02}.rs")), "fn main() {}").unwrap();
    }
    let before = snapshot(&tree);
    let out = kapok_in(d, &["report", "f.toml", "-o", "project", "--force"]);
    refused(
        &out,
        &["not a kapok report manifest", "src/m00.rs", "and 4 more"],
    );
    assert_eq!(snapshot(&tree), before);

    // A real report with one extra file: refused, the file named.
    small_report(d, "r", &[]);
    let report = snapshot(&d.join("r"));
    std::fs::create_dir(d.join("r/charts/mine")).unwrap();
    std::fs::write(d.join("r/charts/mine/keep.txt"), "keep").unwrap();
    let out = kapok_in(d, &["report", "f.toml", "-o", "r", "--force"]);
    refused(&out, &["charts/mine/", "charts/mine/keep.txt"]);
    assert_eq!(
        std::fs::read(d.join("r/charts/mine/keep.txt")).unwrap(),
        b"keep"
    );
    std::fs::remove_dir_all(d.join("r/charts/mine")).unwrap();

    // A manifest that lists a path outside the report does not make it the report's.
    let m = std::fs::read_to_string(d.join("r/manifest.json")).unwrap();
    let evil = m.replacen("\"index.html\"", "\"../f.toml\"", 1);
    std::fs::write(d.join("r/manifest.json"), &evil).unwrap();
    let out = kapok_in(d, &["report", "f.toml", "-o", "r", "--force"]);
    refused(&out, &["not a kapok report manifest", "charts/"]);
    std::fs::write(d.join("r/manifest.json"), &m).unwrap();

    // The report alone is replaced.
    small_report(d, "r", &["--force", "--lang", "en"]);
    assert_eq!(
        files_under(&d.join("r")),
        report.keys().cloned().collect::<Vec<_>>()
    );
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));

    // A report directory that holds an input, or is the working directory.
    std::fs::copy(d.join("units.csv"), d.join("r/units.csv")).unwrap();
    let sub = d.join("r/f2.toml");
    std::fs::copy(d.join("f.toml"), &sub).unwrap();
    std::fs::write(
        &sub,
        std::fs::read_to_string(&sub)
            .unwrap()
            .replace("monthly.csv", "../monthly.csv"),
    )
    .unwrap();
    let out = kapok_in(d, &["report", "r/f2.toml", "-o", "r", "--force"]);
    refused(&out, &["f2.toml"]);
    assert!(sub.exists() && d.join("r/units.csv").exists());
}

#[test]
fn a_report_that_fails_while_its_files_are_written_leaves_the_previous_one() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");
    small_report(d, "r", &[]);
    let old = snapshot(&d.join("r"));
    // The GeoJSON is parsed as the report is made, its temporary directory begun: that
    // directory goes, the previous report stays.
    std::fs::write(d.join("bad.geojson"), "{ not json").unwrap();
    let out = kapok_in(
        d,
        &[
            "report",
            "f.toml",
            "-o",
            "r",
            "--force",
            "--geojson",
            "bad.geojson",
        ],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("bad.geojson"), "{err}");
    assert_eq!(snapshot(&d.join("r")), old);
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_killed_forced_report_is_put_right_by_the_next_run() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");
    small_report(d, "r", &[]);
    let old = snapshot(&d.join("r"));

    // Killed after moving the old report aside, before the new one was in place: the next
    // run puts the old one back (and, without --force, stops there).
    std::fs::rename(d.join("r"), d.join(".kapok-r.old-Ab12Cd")).unwrap();
    let out = kapok_in(d, &["report", "f.toml", "-o", "r"]);
    refused(&out, &["restored the previous report", "--force"]);
    assert_eq!(snapshot(&d.join("r")), old);
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));

    // Killed after the new report was in place, before the old one was removed: removed.
    copy_tree(&d.join("r"), &d.join(".kapok-r.old-Zz99Yy"));
    let err = small_report(d, "r", &["--force", "--lang", "en"]);
    assert!(err.contains("removed the replaced report"), "{err}");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));

    // A half-written new report and a leftover holding someone's file are reported, not
    // removed.
    std::fs::create_dir(d.join(".kapok-r.new-Qq11Ww")).unwrap();
    std::fs::write(d.join(".kapok-r.new-Qq11Ww/index.html"), "half").unwrap();
    copy_tree(&d.join("r"), &d.join(".kapok-r.old-Mm22Nn"));
    std::fs::write(d.join(".kapok-r.old-Mm22Nn/mine.txt"), "mine").unwrap();
    let err = small_report(d, "r", &["--force"]);
    assert!(err.contains(".kapok-r.new-Qq11Ww"), "{err}");
    assert!(err.contains(".kapok-r.old-Mm22Nn"), "{err}");
    assert!(d.join(".kapok-r.new-Qq11Ww/index.html").exists());
    assert!(d.join(".kapok-r.old-Mm22Nn/mine.txt").exists());
}

#[test]
fn concurrent_runs_keep_their_temporary_files_apart() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kapok"))
            .args(args)
            .current_dir(d)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Four runs write the same file and two reports go to one parent at the same time.
    let runs: Vec<_> = (0..4)
        .map(|_| spawn(&["score", "f.toml", "-o", "same.csv"]))
        .chain([
            spawn(&["report", "f.toml", "-o", "ra"]),
            spawn(&["report", "f.toml", "-o", "rb"]),
        ])
        .collect();
    for r in runs {
        let out = r.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    }
    let alone = d.join("alone.csv");
    let out = kapok(&[
        "score",
        d.join("f.toml").to_str().unwrap(),
        "-o",
        alone.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(d.join("same.csv")).unwrap(),
        std::fs::read(&alone).unwrap()
    );
    assert_eq!(snapshot(&d.join("ra")), snapshot(&d.join("rb")));
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

#[test]
fn the_manifest_records_every_option_and_is_the_same_however_paths_are_typed() {
    let tmp = tempdir();
    let d = tmp.path();
    std::fs::create_dir(d.join("fw")).unwrap();
    small_framework(&d.join("fw"), "arithmetic");
    std::fs::write(
        d.join("table.csv"),
        "code,name,month,population,cases,level\n1,甲,2023-01,1000,10,5\n2,乙,2023-01,2000,30,7\n\
         3,丙,2023-01,3000,20,6\n1,甲,2023-02,1000,12,5\n2,乙,2023-02,2000,28,8\n3,丙,2023-02,3000,25,4\n",
    )
    .unwrap();
    let abs = d.join("fw/f.toml");
    let options = [
        "--set",
        "normalize.range=[1,100]",
        "--weight",
        "rate=2",
        "--impute",
        "mean",
        "--treat",
        "none",
        "--aggregate",
        "geometric",
        "--lang",
        "en",
        "--svg",
    ];
    let typed = ["fw/f.toml", "./fw/../fw/f.toml", abs.to_str().unwrap()];
    let mut manifests = Vec::new();
    for (i, fw) in typed.iter().enumerate() {
        let dir = format!("r{i}");
        let mut args = vec!["report", fw, "-o", &dir];
        args.extend(options);
        let out = kapok_in(d, &args);
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
        manifests.push(std::fs::read(d.join(&dir).join("manifest.json")).unwrap());
        // The whole bundle, not only the manifest.
        assert_eq!(snapshot(&d.join(&dir)), snapshot(&d.join("r0")), "{fw}");
    }
    assert!(manifests.iter().all(|m| *m == manifests[0]));
    let m: serde_json::Value = serde_json::from_slice(&manifests[0]).unwrap();
    let o = &m["options"];
    assert_eq!(o["set"][0], "normalize.range=[1,100]");
    assert_eq!(o["weight"][0], "rate=2");
    assert_eq!(o["impute"], "mean");
    assert_eq!(o["treat"], "none");
    assert_eq!(o["aggregate"], "geometric");
    assert_eq!(o["lang"], "en");
    assert_eq!(o["svg"], true);
    assert_eq!(m["framework"]["path"], "f.toml");
    let paths: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["units.csv", "monthly.csv"]);

    // --data and --period too, relative to the framework's directory.
    for (i, data) in ["table.csv", "./fw/../table.csv"].iter().enumerate() {
        let dir = format!("d{i}");
        let out = kapok_in(
            d,
            &[
                "report",
                "fw/f.toml",
                "-o",
                &dir,
                "--data",
                data,
                "--period",
                "2023-01",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join(&dir).join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(m["options"]["data"], "../table.csv");
        assert_eq!(m["options"]["period"], "2023-01");
    }
}

#[test]
fn a_report_with_a_thousand_character_name_finishes_and_draws_every_chart() {
    let tmp = tempdir();
    let d = tmp.path();
    small_framework(d, "arithmetic");
    let long = format!("{}{}", "长".repeat(500), "x".repeat(500));
    let multi = "第一行\\n第二行".replace("\\n", "\n");
    std::fs::write(
        d.join("units.csv"),
        format!("code,name,population\n1,{long},1000\n2,\"{multi}\",2000\n3,丙,3000\n"),
    )
    .unwrap();
    std::fs::write(d.join("tiles.csv"), "unit,row,col\n1,0,0\n2,0,1\n3,1,0\n").unwrap();
    small_report(d, "r", &["--tiles", "tiles.csv"]);
    let charts: Vec<String> = files_under(&d.join("r"))
        .into_iter()
        .filter(|f| f.starts_with("charts/"))
        .collect();
    for name in super::charts::ALL {
        assert!(
            charts.contains(&format!("charts/{name}.png")),
            "{name}: {charts:?}"
        );
    }
    for c in &charts {
        let b = std::fs::read(d.join("r").join(c)).unwrap();
        assert!(b.starts_with(b"\x89PNG\r\n\x1a\n"), "{c}");
        let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
        // A name of 1,000 characters would be over 10,000 pixels wide.
        assert!(w <= 2500 && h <= 2500, "{c}: {w} × {h}");
    }
    // SVG charts carry the shortened name, on one line.
    small_report(d, "s", &["--svg"]);
    let svg = std::fs::read_to_string(d.join("s/charts/ranking.svg")).unwrap();
    assert!(
        svg.contains("长长长长…") || svg.contains("长…"),
        "no shortened name"
    );
    assert!(!svg.contains(&"长".repeat(100)));
    assert!(svg.contains("第一行 第二行"));
}
