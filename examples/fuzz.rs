//! kapok's fuzz harness: random and mutated inputs for the framework reader, constant
//! expressions, the expression checker and CSV/XLSX intake, on stable Rust.
//!
//! ```text
//! cargo run --example fuzz -- --seconds 3600 [--target NAME]... [--seed N] [--save DIR]
//! ```
//!
//! Targets: `framework` (framework text: the shipped frameworks, the bad fixtures and the
//! catalogue's frameworks mutated by bytes, tokens and lines, and generated ones), `constant`
//! (`framework::formula::constant`), `expr` (`expr::analyse`, `expr::to_sql`, and the expression
//! checked and evaluated against a small table), `csv` and `xlsx` (a small framework scored
//! over a mutated or generated monthly table).
//!
//! Properties: no panic, no crash (stack overflow, abort), no hang (a per-input time budget),
//! and every error has exit code 1 or 2 and a non-empty message; spans and column ranges lie
//! inside the text they point into. Inputs run in a child process (this same program) on a
//! thread with the 8 MiB stack of kapok's main thread, so a crash is caught, its input saved
//! and the run goes on. Every failing input (shrunk when the failure is an in-process one) is
//! saved as `tests/fuzz-regressions/<target>/<hash>.<ext>` and listed in `found.tsv` there;
//! `tests/it/fuzz_regressions.rs` replays them all. Input `i` of a target depends only on the
//! seed, the target and `i`, so a run is reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kapok::framework::{self, SourceFile, expr, formula};

/// Every target, in round-robin order.
pub const TARGETS: [&str; 5] = ["framework", "constant", "expr", "csv", "xlsx"];

/// Environment variable that makes a process a child: `gen TARGET SEED FROM` or
/// `replay TARGET PATH`.
pub const CHILD_ENV: &str = "KAPOK_FUZZ_CHILD";

/// Stack size of the thread that runs one input: that of kapok's main thread.
const STACK: usize = 8 << 20;

#[allow(dead_code)]
fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child_main(&spec);
        return;
    }
    let mut seconds = 60u64;
    let mut seed = 0x4B41_504F_4B5F_465Au64;
    let mut targets: Vec<String> = Vec::new();
    let mut save = Some(root().join("tests/fuzz-regressions"));
    let mut print: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--seconds" => seconds = value().parse().unwrap_or_else(|_| usage("--seconds N")),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage("--seed N")),
            "--target" => targets.push(value()),
            "--save" => save = Some(PathBuf::from(value())),
            "--no-save" => save = None,
            "--print" => print = Some(value().parse().unwrap_or_else(|_| usage("--print I"))),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    for t in &targets {
        if !TARGETS.contains(&t.as_str()) {
            usage(&format!("unknown target {t}"));
        }
    }
    if let Some(i) = print {
        // Input `i` of one target, to reproduce a failure the run reported by its number.
        let [t] = targets.as_slice() else {
            usage("--print I needs exactly one --target");
        };
        let input = Target::new(t).input(seed, i);
        std::io::Write::write_all(&mut std::io::stdout(), &input).expect("stdout");
        return;
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|s| s.to_string()).collect();
    }
    let exe = std::env::current_exe().expect("the harness knows its own path");
    let child = ChildCommand {
        program: exe,
        args: Vec::new(),
    };
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    let report = supervise(
        &child,
        &refs,
        seed,
        Limit::Seconds(seconds),
        save.as_deref(),
        true,
    );
    println!("{}", report.summary());
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: cargo run --example fuzz -- [--seconds N] [--target {}]... [--seed N] [--save DIR | --no-save]\n       cargo run --example fuzz -- --target T --seed N --print I   (write input I, to reproduce a failure)",
        TARGETS.join("|")
    );
    std::process::exit(2)
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------
// Random numbers: SplitMix64.
// ---------------------------------------------------------------------------------------

/// SplitMix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    /// The generator of input `i` of `target` under `seed`.
    pub fn for_input(seed: u64, target: &str, i: u64) -> Self {
        let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in target.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        let mut r = Rng(h ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_s(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// Mutation of text and bytes.
// ---------------------------------------------------------------------------------------

const INTERESTING: &[&str] = &[
    "0",
    "-1",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "-0",
    "1.7976931348623157e308",
    "9223372036854775808",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[1, 2]",
    "{ method = \"minmax\" }",
    "true",
    "'",
    "\"",
    "\\",
    "\n",
    "#",
    "=",
    "[[indicator]]",
    "[[dimension]]",
    "[defaults]",
    "\u{0}",
    "\u{feff}",
    "é",
    "指数",
    "\r\n",
    "lag(x, 0)",
    "1/0",
    "((((((((((1))))))))))",
    "2023-1",
    "NA",
    "1,234",
    "12%",
    "１２３",
    " U03 ",
];

/// Applies one to four random byte, token or line edits to `input`; `others` are donors of
/// lines.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(12) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                let b = *rng.pick(b"\"'[]{}=,.#\n\r\\0123456789-+eE \t\x00\xff");
                v.insert(i, b);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                v.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            4 | 5 => {
                let i = rng.below(len + 1);
                let s = rng.pick_s(INTERESTING).as_bytes();
                v.splice(i..i, s.iter().copied());
            }
            6 | 7 => {
                // Replace a token (a run of word characters or a number) by an interesting one.
                let toks = tokens(&v);
                if let Some(&(s, e)) = (!toks.is_empty()).then(|| rng.pick(&toks)) {
                    let rep = if rng.chance(3) {
                        let (s2, e2) = *rng.pick(&toks);
                        v[s2..e2].to_vec()
                    } else {
                        rng.pick_s(INTERESTING).as_bytes().to_vec()
                    };
                    v.splice(s..e, rep);
                }
            }
            8 => {
                let mut lines = split_lines(&v);
                if !lines.is_empty() {
                    let i = rng.below(lines.len());
                    match rng.below(3) {
                        0 => {
                            lines.remove(i);
                        }
                        1 => {
                            let l = lines[i].clone();
                            lines.insert(rng.below(lines.len() + 1), l);
                        }
                        _ => {
                            let j = rng.below(lines.len());
                            lines.swap(i, j);
                        }
                    }
                    v = lines.concat();
                }
            }
            9 if !others.is_empty() => {
                let d: &Vec<u8> = rng.pick(others);
                let donor = split_lines(d);
                if !donor.is_empty() {
                    let l = rng.pick(&donor).clone();
                    let mut lines = split_lines(&v);
                    lines.insert(rng.below(lines.len() + 1), l);
                    v = lines.concat();
                }
            }
            10 if len > 0 => v.truncate(rng.below(len)),
            _ => {
                // Repeat a small chunk many times (long names, deep nesting).
                if len > 0 {
                    let i = rng.below(len);
                    let n = 1 + rng.below((len - i).min(8));
                    let chunk = v[i..i + n].to_vec();
                    let times = 2 + rng.below(200);
                    let rep: Vec<u8> = chunk.iter().copied().cycle().take(n * times).collect();
                    v.splice(i..i, rep);
                }
            }
        }
    }
    v
}

fn tokens(v: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in v.iter().enumerate() {
        let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b >= 0x80;
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, v.len()));
    }
    out
}

fn split_lines(v: &[u8]) -> Vec<Vec<u8>> {
    v.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------------------

const COLUMNS: &[&str] = &[
    "cases",
    "population",
    "level",
    "month",
    "code",
    "name",
    "nosuch",
    "\"cases\"",
    "CASES",
];

const FUNCS: &[&str] = &[
    "ln", "log10", "exp", "sqrt", "power", "abs", "lag", "round", "coalesce", "nullif", "random",
    "now", "greatest", "least", "sin", "log", "floor", "unnest", "count", "sum", "avg", "pi",
];

/// A random expression of bounded size; occasionally a long sum or deep nesting.
pub fn gen_expr(rng: &mut Rng, constant: bool) -> String {
    match rng.below(40) {
        0 => {
            let n = 1 + rng.below(600);
            let term = if constant { "1" } else { "cases" };
            vec![term; n].join(" + ")
        }
        1 => {
            let d = 1 + rng.below(300);
            format!("{}1{}", "(".repeat(d), ")".repeat(d))
        }
        2 => {
            let d = 1 + rng.below(200);
            format!("{}1", "-".repeat(d))
        }
        _ => {
            let mut s = String::new();
            expr_into(rng, constant, 0, &mut s);
            s
        }
    }
}

fn expr_into(rng: &mut Rng, constant: bool, depth: usize, s: &mut String) {
    let leaf = depth > 6 || rng.chance(3);
    if leaf {
        match rng.below(if constant { 8 } else { 12 }) {
            0 => s.push_str(&rng.below(1000).to_string()),
            1 => {
                s.push_str(rng.pick_s(&["0", "0.0", "-0", "1e308", "1e-320", "1e400", "00", "1."]))
            }
            2 => s.push_str(&format!("{}.{}", rng.below(100), rng.below(1000))),
            3 => s.push_str(rng.pick_s(&["'a'", "''", "NULL", "true", "'2023-01'", "x'ff'"])),
            4 => s.push_str(rng.pick_s(&["9223372036854775807", "9223372036854775808", "1e18"])),
            5 => s.push_str(rng.pick_s(&["pi()", "e", "nan", "inf"])),
            6 | 7 => s.push_str(&rng.below(10).to_string()),
            _ => s.push_str(rng.pick_s(COLUMNS)),
        }
        return;
    }
    match rng.below(9) {
        0..=2 => {
            expr_into(rng, constant, depth + 1, s);
            s.push_str(rng.pick_s(&[
                " + ", " - ", " * ", " / ", " % ", " ^ ", " > ", " = ", " AND ", " || ", "/", "*",
                " <> ", " OR ",
            ]));
            expr_into(rng, constant, depth + 1, s);
        }
        3 => {
            s.push('(');
            expr_into(rng, constant, depth + 1, s);
            s.push(')');
        }
        4 => {
            s.push_str(rng.pick_s(&["-", "+", "NOT ", "- -"]));
            expr_into(rng, constant, depth + 1, s);
        }
        5 | 6 => {
            let f = if !constant && rng.chance(3) {
                "lag"
            } else {
                rng.pick_s(FUNCS)
            };
            s.push_str(f);
            s.push('(');
            let n = rng.below(4);
            for k in 0..n {
                if k > 0 {
                    s.push_str(", ");
                }
                expr_into(rng, constant, depth + 1, s);
            }
            s.push(')');
        }
        7 => {
            s.push_str("CASE WHEN ");
            expr_into(rng, constant, depth + 1, s);
            s.push_str(" THEN ");
            expr_into(rng, constant, depth + 1, s);
            s.push_str(" ELSE ");
            expr_into(rng, constant, depth + 1, s);
            s.push_str(" END");
        }
        _ => {
            s.push_str("CAST(");
            expr_into(rng, constant, depth + 1, s);
            s.push_str(rng.pick_s(&[" AS DOUBLE)", " AS INT)", " AS VARCHAR)", " AS DATE)"]));
        }
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn gen_method(rng: &mut Rng, kind: &str) -> String {
    use kapok::framework::methods as known;
    // kapok's own method names, and a few near misses.
    let (names, misspelt): (&[&str], &[&str]) = match kind {
        "impute" => (known::IMPUTE_METHODS, &["mean_grp", "nope"]),
        "treat" => (known::TREAT_METHODS, &["winsorize", "bad"]),
        "normalize" => (known::NORMALISE_METHODS, &["minmx"]),
        "screen" => (known::SCREEN_METHODS, &[]),
        _ => (known::AGGREGATE_METHODS, &["sum"]),
    };
    let names: Vec<&str> = names.iter().chain(misspelt).copied().collect();
    let m = rng.pick(&names);
    if rng.chance(2) {
        return toml_str(m);
    }
    let params = [
        "range",
        "min",
        "max",
        "p",
        "winmax",
        "skew",
        "kurt",
        "a",
        "b",
        "penalty",
        "scale",
        "target",
        "min_share",
        "stage",
        "factor",
        "reference",
        "rnage",
    ];
    let mut s = format!("{{ method = {}", toml_str(m));
    for _ in 0..rng.below(4) {
        let p = rng.pick(&params);
        let v = match rng.below(6) {
            0 => format!("[{}, {}]", gen_num(rng), gen_num(rng)),
            1 => toml_str(rng.pick_s(&["negative", "positive", "after_impute", "x"])),
            _ => gen_num(rng),
        };
        s.push_str(&format!(", {p} = {v}"));
    }
    s.push_str(" }");
    s
}

fn gen_num(rng: &mut Rng) -> String {
    rng.pick_s(&[
        "0", "1", "-1", "2", "0.5", "100", "1e308", "inf", "nan", "-inf", "3", "10", "1e-300",
    ])
    .to_string()
}

/// A random framework, valid or nearly so, over the columns of [`DATA_FRAMEWORK`]'s tables.
pub fn gen_framework(rng: &mut Rng) -> String {
    let mut s = String::new();
    s.push_str("[index]\nid = \"idx\"\nname = { zh = \"指数\", en = \"Index\" }\n");
    if rng.chance(4) {
        s.push_str(&format!("aggregate = {}\n", gen_method(rng, "aggregate")));
    }
    s.push_str("\n[units]\nkey = \"code\"\nname = \"name\"\n");
    if !rng.chance(4) {
        s.push_str("period = \"month\"\n");
    }
    if rng.chance(4) {
        s.push_str("group = \"grp\"\n");
    }
    if rng.chance(2) {
        s.push_str("\n[defaults]\n");
        for kind in ["impute", "treat", "normalize", "aggregate", "screen"] {
            if rng.chance(2) {
                s.push_str(&format!("{kind} = {}\n", gen_method(rng, kind)));
            }
        }
    }
    for src in ["units", "monthly"] {
        s.push_str(&format!(
            "\n[[source]]\nname = \"{src}\"\npath = \"{src}.csv\"\n"
        ));
        if rng.chance(8) {
            s.push_str("query = \"SELECT * FROM monthly\"\n");
        }
    }
    if rng.chance(6) {
        s.push_str("\n[rank]\nonly = \"population > 1000\"\ndigits = 2\n");
    }
    let dims = rng.below(4);
    let mut parents: Vec<String> = vec!["idx".into()];
    for d in 0..dims {
        let parent = if rng.chance(5) {
            rng.pick_s(&["d0", "d1", "nosuch", "i0", "d2"]).to_string()
        } else {
            "idx".to_string()
        };
        s.push_str(&format!(
            "\n[[dimension]]\nid = \"d{d}\"\nname = {{ zh = \"维\", en = \"D\" }}\nparent = \"{parent}\"\n"
        ));
        if rng.chance(3) {
            s.push_str(&format!("weight = {}\n", gen_num(rng)));
        }
        if rng.chance(5) {
            s.push_str(&format!("aggregate = {}\n", gen_method(rng, "aggregate")));
        }
        parents.push(format!("d{d}"));
    }
    for i in 0..rng.below(7) {
        let parent = if rng.chance(8) {
            "nosuch".to_string()
        } else {
            rng.pick(&parents).clone()
        };
        let e = if rng.chance(4) {
            gen_expr(rng, false)
        } else {
            rng.pick_s(&["cases", "level", "cases / population * 1000", "lag(cases)"])
                .to_string()
        };
        s.push_str(&format!(
            "\n[[indicator]]\nid = \"i{i}\"\nname = {{ zh = \"指\", en = \"I\" }}\nparent = \"{parent}\"\ndirection = {}\nexpr = {}\n",
            toml_str(rng.pick_s(&["higher", "lower", "up"])),
            toml_str(&e)
        ));
        for kind in ["impute", "treat", "normalize"] {
            if rng.chance(5) {
                s.push_str(&format!("{kind} = {}\n", gen_method(rng, kind)));
            }
        }
        if rng.chance(5) {
            s.push_str(&format!("weight = {}\n", gen_num(rng)));
        }
        if rng.chance(8) {
            s.push_str("denominator = \"population\"\ndenominator_scale = 1000\n");
        }
    }
    s
}

/// A random monthly table for [`DATA_FRAMEWORK`].
pub fn gen_csv(rng: &mut Rng) -> Vec<u8> {
    let mut header = vec!["code", "month", "cases", "level"];
    if rng.chance(6) {
        let i = rng.below(header.len());
        header.remove(i);
    }
    if rng.chance(6) {
        header.push(rng.pick_s(&["cases", "extra", "", "code"]));
    }
    if rng.chance(8) {
        let (a, b) = (rng.below(header.len()), rng.below(header.len()));
        header.swap(a, b);
    }
    let mut s = String::new();
    if rng.chance(10) {
        s.push('\u{feff}');
    }
    s.push_str(&header.join(","));
    s.push('\n');
    let rows = rng.below(12);
    for _ in 0..rows {
        let cells: Vec<String> = header
            .iter()
            .map(|h| match *h {
                "code" => rng
                    .pick(&["1", "2", "3", "1", "2", "3", "4", " 3", "1.0", "", "x"])
                    .to_string(),
                "month" => rng
                    .pick(&[
                        "2023-01", "2023-02", "2023-01", "2023-02", "2023-1", "", "2023-13",
                    ])
                    .to_string(),
                _ => cell_value(rng),
            })
            .collect();
        s.push_str(&cells.join(","));
        s.push_str(if rng.chance(10) { "\r\n" } else { "\n" });
    }
    s.into_bytes()
}

fn cell_value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => rng
            .pick(&[
                "",
                "NA",
                "-",
                "—",
                "无",
                "\"1,234\"",
                "12%",
                "１２３",
                "nan",
                "inf",
                "-inf",
                "1e400",
                "-0",
                "\"a\nb\"",
                "\"\"",
                "0x10",
                "true",
            ])
            .to_string(),
        1 => "0".into(),
        2 => format!("-{}", rng.below(100)),
        3 => format!("{}.{}", rng.below(100), rng.below(100)),
        _ => (1 + rng.below(50)).to_string(),
    }
}

/// A random monthly workbook for [`DATA_FRAMEWORK`], as bytes.
pub fn gen_xlsx(rng: &mut Rng) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Formula, Workbook};
    let mut wb = Workbook::new();
    if let Ok(p) = kapok::io::reproducible_properties() {
        wb.set_properties(&p);
    }
    let ws = wb.add_worksheet();
    let header = ["code", "month", "cases", "level"];
    let title = rng.chance(8);
    let top = u32::from(title);
    if title {
        let _ = ws.write_string(0, 0, "月度数据");
    }
    let ncols = if rng.chance(6) { 1 + rng.below(6) } else { 4 };
    for c in 0..ncols {
        let h = header.get(c).copied().unwrap_or("extra");
        let _ = ws.write_string(top, c as u16, h);
    }
    let rows = rng.below(10) as u32;
    for r in 1..=rows {
        for c in 0..ncols as u16 {
            let row = top + r;
            let res = match (c, rng.below(14)) {
                (_, 0) => ws.write_blank(row, c, &rust_xlsxwriter::Format::new()),
                (_, 1) => ws.write_formula(row, c, Formula::new("=1/0")),
                (_, 2) => ws.write_boolean(row, c, rng.chance(2)),
                (_, 3) => ws.write_datetime(
                    row,
                    c,
                    ExcelDateTime::from_ymd(2023, 1 + rng.below(12) as u8, 1).unwrap(),
                ),
                (_, 4) => ws.write_string(row, c, cell_value(rng)),
                (_, 5) => ws.write_number(row, c, f64::from(rng.below(1000) as u32) / 7.0),
                (0, _) => {
                    if rng.chance(2) {
                        ws.write_number(row, c, (1 + rng.below(4)) as f64)
                    } else {
                        ws.write_string(row, c, rng.pick_s(&["1", "2", "3", " 2"]))
                    }
                }
                (1, _) => ws.write_string(row, c, rng.pick_s(&["2023-01", "2023-02"])),
                _ => ws.write_number(row, c, rng.below(60) as f64),
            };
            let _ = res;
        }
    }
    if rows > 2 && rng.chance(8) {
        let _ = ws.merge_range(
            top + 1,
            2,
            top + 2,
            2,
            "merged",
            &rust_xlsxwriter::Format::new(),
        );
    }
    let bytes = wb.save_to_buffer().unwrap_or_default();
    if rng.chance(10) {
        mutate(rng, &bytes, &[])
    } else {
        bytes
    }
}

// ---------------------------------------------------------------------------------------
// Corpora and the small data framework.
// ---------------------------------------------------------------------------------------

/// The framework the `expr`, `csv` and `xlsx` targets run: `EXPR` is the first indicator's
/// expression, `EXT` the monthly table's extension.
pub const DATA_FRAMEWORK: &str = r#"[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
name = "name"
period = "month"

[[source]]
name = "units"
path = "units.csv"

[[source]]
name = "monthly"
path = "monthly.EXT"

[[dimension]]
id = "d"
name = { zh = "维", en = "D" }

[[indicator]]
id = "rate"
name = { zh = "率", en = "Rate" }
parent = "d"
direction = "higher"
expr = EXPR

[[indicator]]
id = "level"
name = { zh = "水平", en = "Level" }
parent = "d"
direction = "lower"
expr = "level"
"#;

/// The units table of [`DATA_FRAMEWORK`].
pub const UNITS: &str = "code,name,population\n1,甲,1000\n2,乙,2000\n3,丙,3000\n";
/// The monthly table of [`DATA_FRAMEWORK`].
pub const MONTHLY: &str = "code,month,cases,level\n1,2023-01,10,5\n2,2023-01,30,7\n3,2023-01,20,6\n1,2023-02,12,5\n2,2023-02,28,8\n3,2023-02,25,4\n";

fn framework_corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("indicators"), root().join("tests/fixtures/bad")];
    if let Ok(rd) = std::fs::read_dir(root().join("tests/catalogue")) {
        let mut cases: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        cases.sort();
        dirs.extend(cases);
    }
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "toml")
                && !f.ends_with("case.toml")
                && let Ok(b) = std::fs::read(&f)
            {
                out.push(b);
            }
        }
    }
    out.push(
        DATA_FRAMEWORK
            .replace("EXPR", "\"cases\"")
            .replace("EXT", "csv")
            .into_bytes(),
    );
    out
}

/// The inputs of one target: a fixed corpus and a way to make input `i`.
pub struct Target {
    name: &'static str,
    corpus: Vec<Vec<u8>>,
}

impl Target {
    /// The target called `name`.
    pub fn new(name: &str) -> Target {
        let name = *TARGETS
            .iter()
            .find(|t| **t == name)
            .unwrap_or_else(|| panic!("unknown target {name}"));
        let corpus = match name {
            "framework" => framework_corpus(),
            "constant" => [
                "1/3",
                "2 * (1 + 0.5)",
                "ln(10)",
                "power(2, 10)",
                "sqrt(2) / 2",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
            "expr" => [
                "cases / population * 1000",
                "lag(cases)",
                "cases - lag(cases, 2)",
                "CASE WHEN level > 5 THEN 1 ELSE 0 END",
                "ln(cases + 1)",
                "coalesce(level, 0) / nullif(cases, 0)",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
            "csv" => vec![MONTHLY.as_bytes().to_vec()],
            _ => Vec::new(),
        };
        Target { name, corpus }
    }

    /// File extension of saved inputs.
    pub fn ext(&self) -> &'static str {
        match self.name {
            "framework" => "toml",
            "csv" => "csv",
            "xlsx" => "xlsx",
            _ => "txt",
        }
    }

    /// Input `i` under `seed`.
    pub fn input(&self, seed: u64, i: u64) -> Vec<u8> {
        let mut rng = Rng::for_input(seed, self.name, i);
        match self.name {
            "framework" => {
                if rng.chance(3) {
                    let g = gen_framework(&mut rng).into_bytes();
                    if rng.chance(2) {
                        mutate(&mut rng, &g, &self.corpus)
                    } else {
                        g
                    }
                } else {
                    let base = rng.pick(&self.corpus).clone();
                    mutate(&mut rng, &base, &self.corpus)
                }
            }
            "constant" | "expr" => {
                let constant = self.name == "constant";
                if rng.chance(2) {
                    gen_expr(&mut rng, constant).into_bytes()
                } else {
                    let base = rng.pick(&self.corpus).clone();
                    let others: Vec<Vec<u8>> = Vec::new();
                    mutate(&mut rng, &base, &others)
                }
            }
            "csv" => {
                if rng.chance(2) {
                    gen_csv(&mut rng)
                } else {
                    let donor = gen_csv(&mut rng);
                    mutate(&mut rng, MONTHLY.as_bytes(), &[donor])
                }
            }
            _ => gen_xlsx(&mut rng),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running one input and checking the properties.
// ---------------------------------------------------------------------------------------

static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "panic".to_string()
        };
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("panic at {at}: {msg}"));
    }));
}

/// A property violation: a short signature (what and where, for deduplication) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What and where, without input-specific text.
    pub signature: String,
    /// The whole story.
    pub message: String,
}

fn fail(signature: &str, message: String) -> Failure {
    Failure {
        signature: signature.to_string(),
        message,
    }
}

/// Runs one input of `target` in this process (on an 8 MiB thread, panics caught).
pub fn run_one(target: &str, input: &[u8]) -> Result<(), Failure> {
    let target = target.to_string();
    let input = input.to_vec();
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || std::panic::catch_unwind(|| check_one(&target, &input)))
        .expect("a thread starts");
    match handle.join() {
        Ok(Ok(r)) => r,
        Ok(Err(_)) | Err(_) => {
            let p = PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| "panic".to_string());
            let sig = p.split(": ").next().unwrap_or("panic").to_string();
            Err(Failure {
                signature: sig,
                message: p,
            })
        }
    }
}

fn check_range(what: &str, text: &str, r: &std::ops::Range<usize>) -> Result<(), Failure> {
    if r.start > r.end
        || r.end > text.len()
        || !text.is_char_boundary(r.start)
        || !text.is_char_boundary(r.end)
    {
        return Err(fail(
            &format!("{what}: range outside the text"),
            format!("{what}: range {r:?} in a text of {} bytes", text.len()),
        ));
    }
    Ok(())
}

fn check_error(e: &kapok::Error) -> Result<(), Failure> {
    let code = e.exit_code();
    let msg = match e {
        kapok::Error::Framework(d) => d.render(),
        other => other.to_string(),
    };
    if code != 1 && code != 2 {
        return Err(fail("exit code", format!("exit code {code} for: {msg}")));
    }
    if msg.trim().is_empty() {
        return Err(fail("empty message", format!("empty message: {e:?}")));
    }
    Ok(())
}

fn check_one(target: &str, input: &[u8]) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(input);
    match target {
        "framework" => {
            let dir = std::env::temp_dir();
            match framework::check(SourceFile::new("f.toml", text.as_ref()), &dir) {
                Ok(fw) => {
                    for w in &fw.warnings {
                        check_range("warning span", &text, &w.span)?;
                    }
                    Ok(())
                }
                Err(d) => {
                    if d.error_count() == 0 {
                        return Err(fail(
                            "error without errors",
                            "check failed with no error".into(),
                        ));
                    }
                    for item in &d.items {
                        if item.span.end > text.len() || item.span.start > item.span.end {
                            return Err(fail(
                                "diagnostic span outside the file",
                                format!("{}: span {:?} of {}", item.message, item.span, text.len()),
                            ));
                        }
                    }
                    let r = d.render();
                    if !r.contains("f.toml:") {
                        return Err(fail(
                            "diagnostic without file:line:col",
                            format!("rendered without a location: {r}"),
                        ));
                    }
                    Ok(())
                }
            }
        }
        "constant" => match formula::constant(&text) {
            Ok(v) if !v.is_finite() => Err(fail(
                "constant not finite",
                format!("constant({text:?}) = {v}"),
            )),
            Ok(_) => Ok(()),
            Err(e) => {
                check_range("constant error", &text, &e.range)?;
                if e.message.trim().is_empty() {
                    return Err(fail("empty message", format!("constant({text:?})")));
                }
                Ok(())
            }
        },
        "expr" => {
            match expr::analyse(&text) {
                Ok(info) => {
                    for c in &info.columns {
                        check_range("column range", &text, &c.range)?;
                    }
                }
                Err(e) => {
                    check_range("expr error", &text, &e.range)?;
                    if e.message.trim().is_empty() {
                        return Err(fail("empty message", format!("analyse({text:?})")));
                    }
                    return Ok(());
                }
            }
            let _ = expr::to_sql(&text, "code", Some("month"));
            let fw = DATA_FRAMEWORK
                .replace("EXPR", &toml_str(&text))
                .replace("EXT", "csv");
            run_data(&fw, "csv", MONTHLY.as_bytes())
        }
        "csv" | "xlsx" => {
            let fw = DATA_FRAMEWORK
                .replace("EXPR", "\"cases / population * 1000\"")
                .replace("EXT", target);
            run_data(&fw, target, input)
        }
        other => panic!("unknown target {other}"),
    }
}

/// Writes the data framework, the units table and `monthly.<ext>` into a scratch directory and
/// runs `check` and `score` on them through the library.
fn run_data(fw_text: &str, ext: &str, monthly: &[u8]) -> Result<(), Failure> {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let fw_path = dir.path().join("f.toml");
    std::fs::write(&fw_path, fw_text).expect("scratch write");
    std::fs::write(dir.path().join("units.csv"), UNITS).expect("scratch write");
    std::fs::write(dir.path().join(format!("monthly.{ext}")), monthly).expect("scratch write");
    let fw = match kapok::load(&fw_path) {
        Ok(fw) => fw,
        Err(e) => return check_error(&e),
    };
    let stage = match kapok::DataStage::open(&fw, None) {
        Ok(s) => s,
        Err(e) => return check_error(&e),
    };
    if let Err(e) = stage.check_expressions(&fw) {
        return check_error(&e);
    }
    match kapok::score(&fw, None) {
        Ok(_) => Ok(()),
        Err(e) => check_error(&e),
    }
}

/// Shrinks `input` while it fails with the same signature (greedy chunk deletion, bounded).
pub fn shrink(target: &str, input: &[u8], signature: &str) -> Vec<u8> {
    if target == "xlsx" {
        return input.to_vec();
    }
    let mut best = input.to_vec();
    let mut tries = 0;
    let mut chunk = best.len() / 2;
    while chunk >= 1 && tries < 200 {
        let mut i = 0;
        let mut progressed = false;
        while i < best.len() && tries < 200 {
            let end = (i + chunk).min(best.len());
            let mut cand = best[..i].to_vec();
            cand.extend_from_slice(&best[end..]);
            tries += 1;
            if std::str::from_utf8(&cand).is_ok()
                && run_one(target, &cand).is_err_and(|f| f.signature == signature)
            {
                best = cand;
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if !progressed {
            chunk /= 2;
        }
    }
    best
}

// ---------------------------------------------------------------------------------------
// Child processes and the supervisor.
// ---------------------------------------------------------------------------------------

/// Runs as a child: `gen TARGET SEED FROM` prints `@B i`, then `@E i` or
/// `@F i <signature>\t<message>\t<hex of the shrunk input>` for each input from `FROM` on;
/// `replay TARGET PATH` prints `@OK` or `@F …` for one saved input.
pub fn child_main(spec: &str) {
    install_panic_hook();
    let parts: Vec<&str> = spec.splitn(4, ' ').collect();
    let out = std::io::stdout();
    // Start on a fresh line: a test harness may have printed half a line before us.
    println!();
    let mut shrunk: BTreeSet<String> = BTreeSet::new();
    match parts.as_slice() {
        ["gen", target, seed, from] => {
            let t = Target::new(target);
            let seed: u64 = seed.parse().expect("seed");
            let from: u64 = from.parse().expect("from");
            for i in from.. {
                let input = t.input(seed, i);
                {
                    // The supervisor has gone: stop.
                    let mut o = out.lock();
                    if writeln!(o, "@B {i}").and_then(|_| o.flush()).is_err() {
                        return;
                    }
                }
                let line = match run_one(target, &input) {
                    Ok(()) => format!("@E {i}"),
                    Err(f) => {
                        // Shrink the first input of each signature only; the rest are repeats.
                        let small = if shrunk.insert(f.signature.clone()) {
                            shrink(target, &input, &f.signature)
                        } else {
                            input.clone()
                        };
                        format!(
                            "@F {i} {}\t{}\t{}",
                            oneline(&f.signature),
                            oneline(&f.message),
                            hex(&small)
                        )
                    }
                };
                let mut o = out.lock();
                let _ = writeln!(o, "{line}");
                let _ = o.flush();
            }
        }
        ["replay", target, path] => {
            let input = std::fs::read(path).expect("a saved input");
            let line = match run_one(target, &input) {
                Ok(()) => "@OK".to_string(),
                Err(f) => format!("@F 0 {}\t{}\t", oneline(&f.signature), oneline(&f.message)),
            };
            let mut o = out.lock();
            let _ = writeln!(o, "{line}");
            let _ = o.flush();
        }
        _ => panic!("bad {CHILD_ENV}: {spec}"),
    }
}

fn oneline(s: &str) -> String {
    s.replace(['\n', '\t', '\r'], " ")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// How to start a child process (the program and the arguments before the environment).
pub struct ChildCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// When the supervisor stops.
pub enum Limit {
    /// After this many seconds in all.
    Seconds(u64),
    /// After this many inputs per target.
    Inputs(u64),
}

/// What a run found.
#[derive(Default)]
pub struct Report {
    /// Per target: inputs run and seconds spent.
    pub per_target: BTreeMap<String, (u64, f64)>,
    /// Every failure: target, signature, message, saved file (if saved).
    pub failures: Vec<(String, String, String, Option<PathBuf>)>,
    /// How many inputs failed with each (target, signature).
    pub repeats: BTreeMap<(String, String), u64>,
}

impl Report {
    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let mut s = String::from("fuzz summary\n");
        for (t, (n, secs)) in &self.per_target {
            s.push_str(&format!("  {t:10} {n:8} inputs {secs:9.1} s\n"));
        }
        s.push_str(&format!("  {} distinct failure(s)\n", self.failures.len()));
        for (t, sig, msg, file) in &self.failures {
            let short: String = msg.chars().take(300).collect();
            let n = self
                .repeats
                .get(&(t.clone(), sig.clone()))
                .copied()
                .unwrap_or(1);
            s.push_str(&format!(
                "  [{t}] {sig} ({n} input(s))\n      {short}\n      saved: {}\n",
                file.as_ref()
                    .map_or("-".to_string(), |p| p.display().to_string())
            ));
        }
        s
    }
}

/// The outcome of a child process for one slice.
enum Event {
    Line(String),
    Done,
}

/// Budget per input before it counts as a hang.
fn budget(target: &str) -> Duration {
    match target {
        "framework" | "constant" => Duration::from_secs(20),
        _ => Duration::from_secs(60),
    }
}

/// Runs the targets round-robin in child processes until `limit`; saves failures under
/// `save/<target>/` (when given) and returns what it found.
pub fn supervise(
    child: &ChildCommand,
    targets: &[&str],
    seed: u64,
    limit: Limit,
    save: Option<&Path>,
    verbose: bool,
) -> Report {
    let start = Instant::now();
    let mut report = Report::default();
    let mut next: BTreeMap<&str, u64> = targets.iter().map(|t| (*t, 0)).collect();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut repeats: BTreeMap<(String, String), u64> = BTreeMap::new();
    if let Some(dir) = save
        && let Ok(text) = std::fs::read_to_string(dir.join("found.tsv"))
    {
        for l in text.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() >= 3 {
                seen.insert((f[0].to_string(), f[2].to_string()));
            }
        }
    }
    let slice = match limit {
        Limit::Seconds(s) => Duration::from_secs(s / (2 * targets.len() as u64).max(1))
            .clamp(Duration::from_secs(2), Duration::from_secs(60)),
        Limit::Inputs(_) => Duration::from_secs(3600),
    };
    loop {
        let mut all_done = true;
        for &t in targets {
            let elapsed = start.elapsed();
            let (deadline, max_inputs) = match limit {
                Limit::Seconds(s) => {
                    let total = Duration::from_secs(s);
                    if elapsed >= total {
                        continue;
                    }
                    (Instant::now() + slice.min(total - elapsed), u64::MAX)
                }
                Limit::Inputs(n) => {
                    if next[t] >= n {
                        continue;
                    }
                    (Instant::now() + Duration::from_secs(3600), n)
                }
            };
            all_done = false;
            let t0 = Instant::now();
            let from = next[t];
            let (done_to, found) = run_slice(child, t, seed, from, max_inputs, deadline);
            let secs = t0.elapsed().as_secs_f64();
            let e = report.per_target.entry(t.to_string()).or_default();
            e.0 += done_to - from;
            e.1 += secs;
            next.insert(t, done_to);
            for (i, sig, msg, bytes) in found {
                let target = Target::new(t);
                let bytes = bytes.unwrap_or_else(|| target.input(seed, i));
                let mut file = None;
                let key = (t.to_string(), sig.clone());
                if let Some(dir) = save
                    && seen.insert(key)
                {
                    file = Some(save_input(dir, t, target.ext(), &bytes, &sig, &msg));
                }
                let key = (t.to_string(), sig.clone());
                if let Some(n) = repeats.get_mut(&key) {
                    *n += 1;
                    continue;
                }
                repeats.insert(key, 1);
                if verbose {
                    println!(
                        "FOUND [{t}] input {i}: {sig}: {}",
                        msg.chars().take(300).collect::<String>()
                    );
                }
                report.failures.push((t.to_string(), sig, msg, file));
            }
            if verbose {
                println!(
                    "[{:7.0} s] {t}: inputs {from}..{done_to} in {secs:.1} s",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        if all_done {
            break;
        }
    }
    report.repeats = repeats;
    report
}

fn save_input(dir: &Path, target: &str, ext: &str, bytes: &[u8], sig: &str, msg: &str) -> PathBuf {
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let sub = dir.join(target);
    let _ = std::fs::create_dir_all(&sub);
    let path = sub.join(format!("{hash}.{ext}"));
    let _ = std::fs::write(&path, bytes);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("found.tsv"))
    {
        let short: String = oneline(msg).chars().take(400).collect();
        let _ = writeln!(f, "{target}\t{hash}.{ext}\t{sig}\t{short}");
    }
    path
}

type Found = Vec<(u64, String, String, Option<Vec<u8>>)>;

/// Runs one child from input `from` until `deadline` or `max` inputs; restarts it after a
/// crash or a hang. Returns the next input to run and the failures.
fn run_slice(
    child: &ChildCommand,
    target: &str,
    seed: u64,
    mut from: u64,
    max: u64,
    deadline: Instant,
) -> (u64, Found) {
    let mut found = Found::new();
    while from < max && Instant::now() < deadline {
        let mut proc = Command::new(&child.program)
            .args(&child.args)
            .env(CHILD_ENV, format!("gen {target} {seed} {from}"))
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the fuzz child starts");
        let (tx, rx) = mpsc::channel();
        let stdout = proc.stdout.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if tx2.send(Event::Line(l)).is_err() {
                    break;
                }
            }
            let _ = tx2.send(Event::Done);
        });
        let stderr = proc.stderr.take().unwrap();
        let err_tail = std::sync::Arc::new(Mutex::new(String::new()));
        let tail2 = err_tail.clone();
        let err_thread = std::thread::spawn(move || {
            for l in std::io::BufReader::new(stderr).lines() {
                let Ok(l) = l else { break };
                let mut t = tail2.lock().unwrap();
                t.push_str(&l);
                t.push('\n');
                if t.len() > 4000 {
                    let cut = t.len() - 2000;
                    let cut = (cut..t.len()).find(|&c| t.is_char_boundary(c)).unwrap_or(0);
                    *t = t[cut..].to_string();
                }
            }
        });
        let mut current: Option<(u64, Instant)> = None;
        let stop_reason: Option<&str>;
        loop {
            if from >= max || Instant::now() >= deadline {
                stop_reason = Some("slice");
                break;
            }
            let wait = match current {
                Some((_, t0)) => (t0 + budget(target)).saturating_duration_since(Instant::now()),
                None => Duration::from_secs(5),
            };
            match rx.recv_timeout(wait.max(Duration::from_millis(1))) {
                Ok(Event::Line(l)) => {
                    if let Some(i) = l.strip_prefix("@B ") {
                        current = i.trim().parse().ok().map(|i| (i, Instant::now()));
                    } else if let Some(i) = l.strip_prefix("@E ") {
                        current = None;
                        from = i.trim().parse::<u64>().unwrap_or(from) + 1;
                    } else if let Some(rest) = l.strip_prefix("@F ") {
                        current = None;
                        let (i, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                        let i: u64 = i.parse().unwrap_or(from);
                        let f: Vec<&str> = rest.splitn(3, '\t').collect();
                        found.push((
                            i,
                            f.first().unwrap_or(&"").to_string(),
                            f.get(1).unwrap_or(&"").to_string(),
                            f.get(2).map(|h| unhex(h)),
                        ));
                        from = i + 1;
                    }
                }
                Ok(Event::Done) => {
                    stop_reason = Some("exit");
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if current.is_some() {
                        stop_reason = Some("hang");
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stop_reason = Some("exit");
                    break;
                }
            }
        }
        let _ = proc.kill();
        let status = proc.wait();
        let _ = err_thread.join();
        let tail = err_tail.lock().unwrap().clone();
        match (stop_reason, current) {
            (Some("hang"), Some((i, _))) => {
                found.push((
                    i,
                    "hang".into(),
                    format!(
                        "no result within {} s; stderr: {}",
                        budget(target).as_secs(),
                        tail.trim()
                    ),
                    None,
                ));
                from = i + 1;
            }
            (Some("exit"), Some((i, _))) => {
                let first = tail
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .to_string();
                let sig = if first.contains("overflowed its stack") {
                    "crash: stack overflow".to_string()
                } else {
                    format!("crash: {}", first.chars().take(80).collect::<String>())
                };
                found.push((
                    i,
                    sig,
                    format!("child died ({status:?}); stderr: {}", oneline(tail.trim())),
                    None,
                ));
                from = i + 1;
            }
            (Some("exit"), None) => {
                // The child stopped between inputs: only a bug in the harness does that.
                eprintln!(
                    "fuzz child for {target} exited between inputs: {}",
                    tail.trim()
                );
                break;
            }
            _ => {}
        }
    }
    (from, found)
}
