//! Every TOML example in `indicators/README.md` is a valid framework.

use kapok::framework::{SourceFile, check};

use super::util::root;

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
