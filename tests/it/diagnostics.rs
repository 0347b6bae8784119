//! Annotated bad-input fixtures: every `# expect: LINE:COL MESSAGE` line of a file in
//! `tests/fixtures/bad/` must be reported by `kapok check`, and nothing else.

use super::util::{kapok, root, texts};

/// `(line, col, message)` of every diagnostic in rendered `kapok check` output.
fn rendered(stderr: &str) -> Vec<(usize, usize, String)> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(msg) = l.strip_prefix("error: ") {
            let loc = lines[i + 1].rsplit(':').take(2).collect::<Vec<_>>();
            let col: usize = loc[0].trim().parse().unwrap();
            let line: usize = loc[1].trim().parse().unwrap();
            out.push((line, col, msg.to_string()));
        }
    }
    out
}

fn expected(text: &str) -> Vec<(usize, usize, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let (pos, msg) = e.split_once(' ').unwrap();
            let (line, col) = pos.split_once(':').unwrap();
            (line.parse().unwrap(), col.parse().unwrap(), msg.to_string())
        })
        .collect()
}

#[test]
fn every_bad_fixture_reports_exactly_its_expected_diagnostics() {
    let dir = root().join("tests/fixtures/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "bad fixtures are missing");
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let want = expected(&std::fs::read_to_string(&f).unwrap());
        assert!(!want.is_empty(), "{rel} has no `# expect:` line");
        let out = kapok(&["check", &rel]);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{rel}: exit code\n{err}");
        let got = rendered(&err);
        assert_eq!(got.len(), want.len(), "{rel}: number of diagnostics\n{err}");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(
                (w.0, w.1),
                (g.0, g.1),
                "{rel}: position of `{}`\n{err}",
                w.2
            );
            assert!(g.2.starts_with(&w.2), "{rel}: `{}` vs `{}`", g.2, w.2);
        }
        assert!(
            err.contains(&format!("{rel}: {} error", want.len())),
            "{rel}: summary line\n{err}"
        );
    }
}

#[test]
fn three_mistakes_are_three_diagnostics_with_hints_and_underlines() {
    let out = kapok(&["check", "tests/fixtures/bad/three_mistakes.toml"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("help: did you mean `minmax`?"), "{err}");
    assert!(err.contains("help: did you mean `safety`?"), "{err}");
    assert!(err.contains("^^^^^^^ not a known method"), "{err}");
    super::util::snapshot("check_three_mistakes.txt", &err);
}

#[test]
fn invalid_toml_is_one_diagnostic_with_position() {
    let dir = super::util::tempdir();
    let f = dir.path().join("broken.toml");
    std::fs::write(&f, "[index]\nid = \"x\nname = 1\n").unwrap();
    let out = kapok(&["check", f.to_str().unwrap()]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
    assert!(err.contains("broken.toml:2:"), "{err}");
}

#[test]
fn a_missing_framework_file_is_an_io_error() {
    let out = kapok(&["check", "indicators/no-such-file.toml"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("indicators/no-such-file.toml"), "{err}");
}
