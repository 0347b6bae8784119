//! The fuzz harness (`examples/fuzz.rs`) inside `cargo test`: every input it ever found is
//! replayed, and a short fixed-seed run checks the harness itself.
//!
//! Inputs run in a child process (this test binary, re-run on [`fuzz_child`]), so a stack
//! overflow or abort is a reported failure, not a dead test run. Inputs listed in
//! `tests/fuzz-regressions/known.toml` fail for a known reason still being fixed: they are
//! printed, not failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::root;

#[path = "../../examples/fuzz.rs"]
#[allow(dead_code)]
mod harness;

/// One entry of `known.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Known {
    target: String,
    /// The saved input (file name under the target's directory).
    file: String,
    /// The failure signature the harness reports for it.
    signature: String,
    /// What is wrong and where in the code.
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownList {
    #[serde(default)]
    known: Vec<Known>,
}

fn regressions() -> PathBuf {
    root().join("tests/fuzz-regressions")
}

fn known() -> Vec<Known> {
    match std::fs::read_to_string(regressions().join("known.toml")) {
        Ok(t) => {
            toml::from_str::<KnownList>(&t)
                .expect("tests/fuzz-regressions/known.toml is valid")
                .known
        }
        Err(_) => Vec::new(),
    }
}

/// How this test binary re-runs itself as a fuzz child.
fn child_command() -> harness::ChildCommand {
    harness::ChildCommand {
        program: std::env::current_exe().unwrap(),
        args: [
            "fuzz_regressions::fuzz_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// Does nothing, except in a child started by the harness, where it runs the inputs it is
/// given and exits.
#[test]
fn fuzz_child() {
    if let Ok(spec) = std::env::var(harness::CHILD_ENV) {
        harness::child_main(&spec);
        std::process::exit(0);
    }
}

/// Replays one saved input in a child: `Ok` or the failure text.
fn replay(target: &str, path: &Path) -> Result<(), String> {
    let c = child_command();
    let mut child = Command::new(&c.program)
        .args(&c.args)
        .env(
            harness::CHILD_ENV,
            format!("replay {target} {}", path.display()),
        )
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("hang: no result within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stdout.lines().any(|l| l.trim() == "@OK") {
        return Ok(());
    }
    if let Some(f) = stdout.lines().find_map(|l| l.strip_prefix("@F 0 ")) {
        return Err(f.replace('\t', ": ").trim_end_matches(": ").to_string());
    }
    let tail: String = stderr.trim().chars().take(600).collect();
    Err(format!("crash ({:?}): {tail}", out.status))
}

#[test]
fn every_saved_fuzz_input_passes() {
    let known = known();
    let (mut failed, mut still, mut fixed) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0;
    for target in harness::TARGETS {
        let dir = regressions().join(target);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            n += 1;
            let k = known.iter().find(|k| k.target == target && k.file == name);
            match (replay(target, &f), k) {
                (Ok(()), None) => {}
                (Ok(()), Some(k)) => fixed.push(format!("{target}/{name} (was: {})", k.reason)),
                (Err(e), Some(k)) => still.push(format!("{target}/{name}: {}\n    {e}", k.reason)),
                (Err(e), None) => failed.push(format!("{target}/{name}: {e}")),
            }
        }
    }
    println!(
        "fuzz regressions: {n} inputs, {} known failures, {} new failures",
        still.len(),
        failed.len()
    );
    for s in &still {
        println!("known fuzz failure (not failing the suite): {s}");
    }
    for f in &fixed {
        println!("known fuzz failure now passes; remove it from known.toml: {f}");
    }
    assert!(
        failed.is_empty(),
        "saved fuzz inputs fail:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_known_fuzz_failure_names_a_saved_input() {
    for k in known() {
        assert!(
            regressions().join(&k.target).join(&k.file).is_file(),
            "known.toml lists {}/{}, which is not saved",
            k.target,
            k.file
        );
        assert!(!k.reason.trim().is_empty() && !k.signature.trim().is_empty());
    }
}

/// A short fixed-seed run of every target: the harness generates, runs and checks inputs,
/// and finds nothing that is not already known.
#[test]
fn a_short_fuzz_run_finds_nothing_new() {
    let known = known();
    let child = child_command();
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for (target, n) in [
        ("framework", 400),
        ("constant", 400),
        ("expr", 80),
        ("csv", 150),
        ("xlsx", 150),
    ] {
        let report =
            harness::supervise(&child, &[target], 7, harness::Limit::Inputs(n), None, false);
        let (ran, secs) = report.per_target.get(target).copied().unwrap_or_default();
        counts.push(format!("{target}: {ran} inputs in {secs:.1} s"));
        assert_eq!(ran, n, "{target}: the harness ran every input");
        for (t, sig, msg, _) in report.failures {
            if !known.iter().any(|k| k.target == t && k.signature == sig) {
                failures.push(format!("[{t}] {sig}: {msg}"));
            }
        }
    }
    println!("short fuzz run: {}", counts.join(", "));
    assert!(
        failures.is_empty(),
        "the short fuzz run found new failures (run `cargo run --example fuzz` to save them):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_same_seed_gives_the_same_inputs() {
    for target in harness::TARGETS {
        let t = harness::Target::new(target);
        let a: Vec<Vec<u8>> = (0..20).map(|i| t.input(3, i)).collect();
        let b: Vec<Vec<u8>> = (0..20).map(|i| t.input(3, i)).collect();
        assert!(a == b, "{target}: the same seed gives other inputs");
        let c: Vec<Vec<u8>> = (0..20).map(|i| t.input(4, i)).collect();
        assert!(a != c, "{target}: another seed gives the same inputs");
    }
}
