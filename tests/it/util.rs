//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the kapok binary from the repository root.
pub fn kapok(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the kapok binary runs")
}

/// Standard output and error as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Flags of every headless Chromium the tests start: no sandbox (CI runs as root), no GPU, and
/// no connection of Chromium's own (the machines' network is closed).
pub const CHROMIUM_HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Whether golden files should be rewritten.
pub fn bless() -> bool {
    std::env::var_os("KAPOK_BLESS").is_some()
}

/// Compares `actual` with the snapshot file, or rewrites it when blessing.
pub fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if bless() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with KAPOK_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs; KAPOK_BLESS=1 rewrites it"
    );
}

/// A parsed CSV file: header and rows of fields (no quoting beyond what kapok writes).
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Reads a CSV file written by kapok.
    pub fn read(path: &Path) -> Csv {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header = split(lines.next().unwrap());
        let rows = lines.map(split).collect();
        Csv { header, rows }
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The text of a sample framework (a path under the repository) with its data and tile paths
/// made absolute, so that a test can write a changed copy anywhere.
pub fn framework_text_anywhere(framework: &str) -> String {
    let data = format!("\"{}/data/", root().display());
    std::fs::read_to_string(root().join(framework))
        .unwrap()
        .replace("path = \"../data/", &format!("path = {data}"))
        .replace("tiles = \"../data/", &format!("tiles = {data}"))
}

/// A scratch directory removed at the end of the test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A three-unit, two-month framework used by several test modules; `AGG` is the default
/// aggregation method of its nodes.
pub const SMALL_FRAMEWORK: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
name = "name"
period = "month"

[defaults]
aggregate = "AGG"

[[source]]
name = "units"
path = "units.csv"

[[source]]
name = "monthly"
path = "monthly.csv"

[[dimension]]
id = "d"
name = { zh = "维", en = "D" }

[[indicator]]
id = "rate"
name = { zh = "率", en = "Rate" }
parent = "d"
direction = "higher"
expr = "cases / population * 1000"

[[indicator]]
id = "level"
name = { zh = "水平", en = "Level" }
parent = "d"
direction = "lower"
expr = "level"
"#;

/// Units table of [`SMALL_FRAMEWORK`].
pub const SMALL_UNITS: &str = "code,name,population\n1,甲,1000\n2,乙,2000\n3,丙,3000\n";
/// Monthly table of [`SMALL_FRAMEWORK`].
pub const SMALL_MONTHLY: &str = "code,month,cases,level\n1,2023-01,10,5\n2,2023-01,30,7\n3,2023-01,20,6\n1,2023-02,12,5\n2,2023-02,28,8\n3,2023-02,25,4\n";

/// Writes [`SMALL_FRAMEWORK`] (with aggregation `agg`) and its two tables into `dir`; returns
/// the framework's path.
pub fn small_framework(dir: &Path, agg: &str) -> PathBuf {
    let fw = dir.join("f.toml");
    std::fs::write(&fw, SMALL_FRAMEWORK.replace("AGG", agg)).unwrap();
    std::fs::write(dir.join("units.csv"), SMALL_UNITS).unwrap();
    std::fs::write(dir.join("monthly.csv"), SMALL_MONTHLY).unwrap();
    fw
}

/// Every file under `dir`, as sorted paths relative to it with `/` separators.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap();
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Names in `dir` that look like kapok's temporary files or directories.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".kapok-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A framework of one dimension `d` with one indicator `v` (higher is better) over the source
/// `monthly.csv`: `head` is everything above the sources (`[index]`, `[units]`, `[defaults]`,
/// …, ending with a blank line) and `expr` the indicator's expression.
pub fn one_indicator_framework(head: &str, expr: &str) -> String {
    format!(
        r#"{head}[[source]]
name = "monthly"
path = "monthly.csv"

[[dimension]]
id = "d"
name = {{ zh = "维", en = "D" }}

[[indicator]]
id = "v"
name = {{ zh = "值", en = "Value" }}
parent = "d"
direction = "higher"
expr = "{expr}"
"#
    )
}
