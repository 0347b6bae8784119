//! The bad-input catalogue: every `tests/catalogue/<case>/case.toml` is one run of kapok on a
//! copy of its directory, with the exit code, message fragments and file effects it must have.
//!
//! `case.toml` (first line: a `#` comment saying what the case is about):
//!
//! ```toml
//! # What the case is about, one line.
//! args = ["check", "f.toml"]        # kapok arguments, run in a copy of the case dir
//! exit = 2                          # expected exit code: 0, 1 or 2
//! stderr = ["f.toml:7:10", "COPY"]  # fragments stderr must contain
//! stdout = []                       # fragments stdout must contain
//! may_write = []                    # files (or directories) the run may create or change
//! absent = []                       # files that must not exist afterwards
//! known_bug = "…"                   # optional: the case fails today for this reason
//! ```
//!
//! Every case runs; all failures are reported together, by case name. A case marked
//! `known_bug` that fails is printed, not failed; one that passes is printed so the mark can
//! go. `KAPOK_CASE=<substring>` runs only the matching cases.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::{files_under, root, tempdir};

/// Longest a case may run before it counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Text in standard error that means kapok crashed instead of reporting an error.
const CRASH_TEXT: [&str; 4] = [
    "panicked",
    "RUST_BACKTRACE",
    "stack overflow",
    "fatal runtime error",
];

/// One `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    args: Vec<String>,
    exit: i32,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    stdout: Vec<String>,
    #[serde(default)]
    may_write: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    known_bug: Option<String>,
}

/// The catalogue directory.
fn catalogue() -> PathBuf {
    root().join("tests/catalogue")
}

/// Every case directory, sorted by name.
fn case_dirs() -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(catalogue()) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// Reads and checks a case's `case.toml`; the error says what is wrong with it.
fn read_case(dir: &Path) -> Result<Case, String> {
    let path = dir.join("case.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("no case.toml: {e}"))?;
    let first = text.lines().next().unwrap_or("");
    let description = first.strip_prefix('#').map(str::trim).unwrap_or("");
    if description.is_empty() {
        return Err("case.toml must start with a `# description` comment".into());
    }
    let case: Case = toml::from_str(&text).map_err(|e| format!("case.toml: {e}"))?;
    if !(0..=2).contains(&case.exit) {
        return Err(format!("exit = {} is not 0, 1 or 2", case.exit));
    }
    if case.args.is_empty() {
        return Err("args is empty".into());
    }
    if case
        .known_bug
        .as_deref()
        .is_some_and(|b| b.trim().is_empty())
    {
        return Err("known_bug is empty; say what is wrong".into());
    }
    Ok(case)
}

/// Copies `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// The outcome of one run of kapok.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

/// Runs kapok in `dir` with `args` (and the environment variables `env`), killing it after
/// [`TIMEOUT`].
fn run(dir: &Path, args: &[String], env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kapok binary starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        timed_out,
    }
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Whether `file` is covered by a `may_write` entry (the file itself or a directory above it).
fn may_write(case: &Case, file: &str) -> bool {
    case.may_write.iter().any(|w| {
        let w = w.trim_end_matches('/');
        file == w || file.starts_with(&format!("{w}/"))
    })
}

/// For a case with CSV or Excel files: the problems of running it again with every table kapok
/// reads from them written to a temporary file and read back (`KAPOK_SPILL_BYTES=0`, as large
/// tables are). It must exit, print and write as `first` did (its directory, run and files),
/// with tables kept in memory.
fn read_back_alike(
    dir: &Path,
    case: &Case,
    first: (&Path, &Run, &BTreeMap<String, Vec<u8>>),
) -> Vec<String> {
    let tabular = files_under(dir)
        .iter()
        .any(|f| f.ends_with(".csv") || f.ends_with(".xlsx"));
    if !tabular {
        return Vec::new();
    }
    let (first_dir, first, first_files) = first;
    let work = tempdir();
    copy_dir(dir, work.path());
    let r = run(work.path(), &case.args, &[("KAPOK_SPILL_BYTES", "0")]);
    let mut problems = Vec::new();
    let here = |text: &str, d: &Path| text.replace(&d.display().to_string(), "<dir>");
    let printed = |r: &Run, d: &Path| (r.code, here(&r.stdout, d), here(&r.stderr, d));
    if printed(&r, work.path()) != printed(first, first_dir) {
        problems.push(format!(
            "with tables read back from a file: exit {:?}, stdout {:?}, stderr {:?}",
            r.code, r.stdout, r.stderr
        ));
    }
    let files = contents(work.path());
    if &files != first_files {
        let differ: Vec<&String> = files
            .keys()
            .chain(first_files.keys())
            .filter(|f| files.get(*f) != first_files.get(*f))
            .collect();
        problems.push(format!(
            "with tables read back from a file, these files differ: {differ:?}"
        ));
    }
    problems
}

/// Runs one case; returns every way it failed (empty: it passed).
fn check_case(dir: &Path) -> Vec<String> {
    let case = match read_case(dir) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let work = tempdir();
    copy_dir(dir, work.path());
    let before = contents(work.path());
    let r = run(work.path(), &case.args, &[]);
    let mut problems = Vec::new();
    if r.timed_out {
        problems.push(format!("hung: killed after {} s", TIMEOUT.as_secs()));
    }
    match r.code {
        None => problems.push("killed by a signal (crash or abort)".into()),
        Some(c) if c != case.exit => problems.push(format!("exit {c}, expected {}", case.exit)),
        Some(_) => {}
    }
    for t in CRASH_TEXT {
        if r.stderr.contains(t) {
            problems.push(format!("stderr shows a crash (`{t}`)"));
        }
    }
    for f in &case.stderr {
        if !r.stderr.contains(f.as_str()) {
            problems.push(format!("stderr lacks `{f}`"));
        }
    }
    for f in &case.stdout {
        if !r.stdout.contains(f.as_str()) {
            problems.push(format!("stdout lacks `{f}`"));
        }
    }
    let after = contents(work.path());
    problems.extend(read_back_alike(dir, &case, (work.path(), &r, &after)));
    for (f, bytes) in &before {
        if may_write(&case, f) {
            continue;
        }
        match after.get(f) {
            None => problems.push(format!("file lost: {f}")),
            Some(b) if b != bytes => problems.push(format!("file changed: {f}")),
            Some(_) => {}
        }
    }
    for f in after.keys() {
        if !before.contains_key(f) && !may_write(&case, f) {
            problems.push(format!("file written outside may_write: {f}"));
        }
    }
    for f in &case.absent {
        if work.path().join(f).exists() {
            problems.push(format!("{f} exists but must be absent"));
        }
    }
    if !problems.is_empty() {
        let mut tail = String::new();
        for (label, text) in [("stderr", &r.stderr), ("stdout", &r.stdout)] {
            let t = text.trim();
            if !t.is_empty() {
                let short: String = t.chars().take(800).collect();
                tail.push_str(&format!(
                    "\n      {label}: {}",
                    short.replace('\n', "\n        ")
                ));
            }
        }
        problems.push(format!("(args {:?}){tail}", case.args));
    }
    problems
}

#[test]
fn every_catalogue_case_holds() {
    let filter = std::env::var("KAPOK_CASE").unwrap_or_default();
    let dirs: Vec<PathBuf> = case_dirs()
        .into_iter()
        .filter(|d| name_of(d).contains(&filter))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(String, Vec<String>)>> = Default::default();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(d) = dirs.get(i) else { break };
                    let problems = check_case(d);
                    results.lock().unwrap().push((name_of(d), problems));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort();
    let (mut failed, mut known, mut fixed) = (Vec::new(), Vec::new(), Vec::new());
    for (name, problems) in &results {
        let bug = read_case(&catalogue().join(name))
            .ok()
            .and_then(|c| c.known_bug);
        match (problems.is_empty(), bug) {
            (true, None) => {}
            (true, Some(b)) => fixed.push(format!("{name} (was: {b})")),
            (false, Some(b)) => known.push(format!("{name}: {b}\n    {}", problems.join("\n    "))),
            (false, None) => failed.push(format!("{name}:\n    {}", problems.join("\n    "))),
        }
    }
    println!(
        "catalogue: {} cases run, {} passed, {} known bugs, {} failed",
        results.len(),
        results.len() - failed.len() - known.len(),
        known.len(),
        failed.len()
    );
    for k in &known {
        println!("known bug (not failing the suite): {k}");
    }
    for f in &fixed {
        println!("known_bug case now passes; remove its known_bug mark: {f}");
    }
    assert!(
        failed.is_empty(),
        "{} catalogue case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn every_catalogue_case_is_well_formed() {
    let dirs = case_dirs();
    let mut bad = Vec::new();
    let mut by_exit = [0usize; 3];
    let mut known = 0;
    for d in &dirs {
        match read_case(d) {
            Ok(c) => {
                by_exit[c.exit as usize] += 1;
                known += usize::from(c.known_bug.is_some());
            }
            Err(e) => bad.push(format!("{}: {e}", name_of(d))),
        }
    }
    println!(
        "catalogue: {} cases (exit 0: {}, exit 1: {}, exit 2: {}; {known} marked known_bug)",
        dirs.len(),
        by_exit[0],
        by_exit[1],
        by_exit[2]
    );
    assert!(
        bad.is_empty(),
        "malformed catalogue cases:\n{}",
        bad.join("\n")
    );
}
