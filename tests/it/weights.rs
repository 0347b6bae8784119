//! `kapok weights` and `--weights-from`: weights derived from the data, written as a
//! `[weights]` table that a framework takes as it is, and applied in a run.

use super::util::{kapok, root, tempdir, texts};

const ASEM: &str = "indicators/asem.toml";

/// The `id = weight` lines of a `[weights]` table.
fn weight_lines(toml: &str) -> Vec<(String, String)> {
    toml.lines()
        .skip_while(|l| *l != "[weights]")
        .skip(1)
        .map(|l| {
            let (id, w) = l.split_once(" = ").expect("id = weight");
            (id.to_string(), w.to_string())
        })
        .collect()
}

/// Runs kapok and returns standard output, failing with standard error.
fn ok(args: &[&str]) -> String {
    let out = kapok(args);
    let (stdout, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    stdout
}

/// `kapok score … -o FILE` with `extra` options; the file's text.
fn scores(fw: &str, extra: &[&str], out: &std::path::Path) -> String {
    let mut args = vec!["score", fw, "-o", out.to_str().unwrap()];
    args.extend(extra);
    ok(&args);
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn written_weights_round_trip_and_equal_weights_from() {
    let dir = tempdir();
    for method in ["pca", "balance"] {
        let written = ok(&["weights", ASEM, "--method", method]);
        let lines = weight_lines(&written);
        // Every node but the index, once; weights sum to 1 within each node.
        assert_eq!(lines.len(), 2 + 8 + 49, "{written}");
        assert!(written.contains(&format!("--method {method}")), "{written}");
        assert!(
            written.contains("data: iData.csv; the whole table"),
            "{written}"
        );
        // (1) applied in a run
        let from = scores(
            ASEM,
            &["--weights-from", method],
            &dir.path().join("from.csv"),
        );
        // (2) given one by one with --weight
        let mut extra: Vec<String> = Vec::new();
        for (id, w) in &lines {
            extra.push("--weight".into());
            extra.push(format!("{id}={w}"));
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let given = scores(ASEM, &extra, &dir.path().join("given.csv"));
        // (3) appended to the framework
        let text = std::fs::read_to_string(root().join(ASEM)).unwrap().replace(
            "../data/coinr-asem/iData.csv",
            root().join("data/coinr-asem/iData.csv").to_str().unwrap(),
        );
        let fw = dir.path().join("asem-weighted.toml");
        std::fs::write(&fw, format!("{text}\n{written}")).unwrap();
        let appended = scores(fw.to_str().unwrap(), &[], &dir.path().join("appended.csv"));
        assert_eq!(from, given, "{method}: --weights-from vs --weight");
        assert_eq!(
            from, appended,
            "{method}: --weights-from vs the appended table"
        );
        // and they differ from the framework's own (equal) weights
        let own = scores(ASEM, &[], &dir.path().join("own.csv"));
        assert_ne!(from, own, "{method}");
        // Same inputs, same bytes.
        assert_eq!(written, ok(&["weights", ASEM, "--method", method]));
    }
}

#[test]
fn equal_weights_are_all_one_and_score_as_the_framework() {
    // ASEM weighs every child 1 already: equal weights change nothing.
    let dir = tempdir();
    let written = ok(&["weights", ASEM, "--method", "equal"]);
    assert!(weight_lines(&written).iter().all(|(_, w)| w == "1"));
    let from = scores(
        ASEM,
        &["--weights-from", "equal"],
        &dir.path().join("a.csv"),
    );
    assert_eq!(from, scores(ASEM, &[], &dir.path().join("b.csv")));
}

#[test]
fn pca_weights_of_a_node_are_its_squared_loadings() {
    // The header's loadings of `Sust` squared are its children's weights (to rounding), and the
    // weights of each node sum to 1.
    let written = ok(&["weights", ASEM, "--method", "pca"]);
    let lines = weight_lines(&written);
    let w = |id: &str| -> f64 {
        lines
            .iter()
            .find(|(i, _)| i == id)
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    let sum: f64 = ["Environ", "Social", "SusEcFin"]
        .iter()
        .map(|id| w(id))
        .sum();
    assert!((sum - 1.0).abs() < 2e-6, "{sum}");
    let header: String = written
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ");
    let sust = header.split("Sust (").nth(1).expect("a line for Sust");
    for id in ["Environ", "Social", "SusEcFin"] {
        let loading: f64 = sust
            .split(&format!("{id} "))
            .nth(1)
            .and_then(|t| t.split([',', ' ']).next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (loading * loading - w(id)).abs() < 2e-3,
            "{id}: {loading} vs {}",
            w(id)
        );
    }
}

#[test]
fn weights_come_from_the_period_asked_for() {
    let dir = tempdir();
    let fw = "indicators/hongmian.toml";
    let june = ok(&["weights", fw, "--method", "pca", "--period", "2023-06"]);
    let latest = ok(&["weights", fw, "--method", "pca"]);
    assert!(june.contains("period 2023-06:"), "{june}");
    assert!(latest.contains("period 2023-12:"), "{latest}");
    assert_ne!(weight_lines(&june), weight_lines(&latest));
    // A ranking of June with --weights-from takes June's weights.
    let mut extra = vec!["--period".to_string(), "2023-06".to_string()];
    for (id, w) in weight_lines(&june) {
        extra.push("--weight".into());
        extra.push(format!("{id}={w}"));
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let out = dir.path().join("x.csv");
    assert_eq!(
        scores(fw, &["--period", "2023-06", "--weights-from", "pca"], &out),
        scores(fw, &extra, &dir.path().join("y.csv"))
    );
    // -o writes the same text as standard output.
    let file = dir.path().join("w.toml");
    ok(&[
        "weights",
        fw,
        "--method",
        "pca",
        "--period",
        "2023-06",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), june);
}

#[test]
fn bad_uses_exit_2() {
    for args in [
        vec!["weights", ASEM, "--method", "entropy"],
        vec!["weights", ASEM],
        vec!["score", ASEM, "--weights-from", "pcaa"],
        vec!["rank", ASEM, "--weights-from", "pca", "--weight", "Conn=2"],
        vec!["weights", ASEM, "--method", "pca", "--weight", "Conn=2"],
        vec!["weights", ASEM, "--method", "pca", "-o", ASEM],
    ] {
        let out = kapok(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", texts(&out).1);
    }
    let (_, err) = texts(&kapok(&["weights", ASEM, "--method", "entropy"]));
    assert!(err.contains("balance"), "{err}");
}

/// Three units in 2023, four in 2024, and a dimension of four indicators (one constant in 2024).
const SMALL: &str = r#"
[index]
id = "small"
name = "Small"
[units]
key = "unit"
period = "year"
[defaults]
normalize = "none"
[[source]]
name = "t"
path = "small.csv"
[[dimension]]
id = "d"
name = "D"
[[indicator]]
id = "a"
parent = "d"
name = "A"
direction = "higher"
[[indicator]]
id = "b"
parent = "d"
name = "B"
direction = "higher"
[[indicator]]
id = "c"
parent = "d"
name = "C"
direction = "higher"
[[indicator]]
id = "e"
parent = "d"
name = "E"
direction = "higher"
"#;

const SMALL_CSV: &str = "unit,year,a,b,c,e
u1,2023,1,2,3,4
u2,2023,2,3,1,5
u3,2023,3,1,2,6
u1,2024,1,2,3,5
u2,2024,2,3,1,5
u3,2024,3,1,2,5
u4,2024,4,5,6,5
";

#[test]
fn too_few_units_and_constant_children_are_data_errors_naming_node_and_period() {
    let dir = tempdir();
    let fw = dir.path().join("small.toml");
    std::fs::write(&fw, SMALL).unwrap();
    std::fs::write(dir.path().join("small.csv"), SMALL_CSV).unwrap();
    let fw = fw.to_str().unwrap();
    for method in ["pca", "balance"] {
        let out = kapok(&["weights", fw, "--method", method, "--period", "2023"]);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("deriving {method} weights of `d`, period 2023"))
                && err.contains("only 3 unit(s)")
                && err.contains("at least 4"),
            "{err}"
        );
        let out = kapok(&["weights", fw, "--method", method]);
        let (_, err) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("period 2024") && err.contains("child `e` has the same score"),
            "{err}"
        );
        let out = kapok(&["rank", fw, "--weights-from", method]);
        assert_eq!(out.status.code(), Some(1), "{}", texts(&out).1);
    }
    // Equal weights need no spread.
    let written = ok(&["weights", fw, "--method", "equal", "--period", "2023"]);
    assert!(written.contains("[weights]\nd = 1\na = 1\n"), "{written}");
}
