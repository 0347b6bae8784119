//! The report's `results.xlsx` read back with calamine: numeric rank changes with an arrow
//! format, a period column on every data sheet, decimals fitted to each column, imputed cells
//! shaded, noted and listed.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Style, Xlsx};

use super::util::{kapok, tempdir, texts};

/// Four districts, two months, two indicators; `share` of 丙 is missing in 2023-02 and imputed
/// with the mean of the others.
const FRAMEWORK: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
name = "name"
period = "month"

[defaults]
impute = "mean"

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
id = "share"
name = { zh = "占比", en = "Share" }
unit = "比例"
parent = "d"
direction = "higher"
expr = "share"

[[indicator]]
id = "visits"
name = { zh = "访问量", en = "Visits" }
unit = "次"
parent = "d"
direction = "higher"
expr = "visits"
"#;

const UNITS: &str = "code,name\nA,甲\nB,乙\nC,丙\nD,丁\n";

/// By hand (min-max to 0–100, mean of the two): 2023-01 ranks B 1, D 2, C 3, A 4;
/// 2023-02 (丙's share imputed as 0.033867) D 100, A 26.5, C 23.1, B 14.3 → D 1, A 2, C 3, B 4.
const MONTHLY: &str = "code,month,share,visits
A,2023-01,0.01,1000
B,2023-01,0.05,30000
C,2023-01,0.03,9000
D,2023-01,0.04,20000
A,2023-02,0.0316,12000
B,2023-02,0.02,15000
C,2023-02,,9000
D,2023-02,0.05,30000
";

/// `(unit, rank, change)` in 2023-02, by hand from [`MONTHLY`].
const RANKS: [(&str, f64, f64); 4] = [
    ("D", 1.0, 1.0),
    ("A", 2.0, 2.0),
    ("C", 3.0, 0.0),
    ("B", 4.0, -3.0),
];

const IMPUTED: f64 = (0.0316 + 0.02 + 0.05) / 3.0;

/// Writes the framework and its data into `dir`, runs `kapok report … ARGS` and reads the
/// workbook.
fn report(dir: &Path, args: &[&str]) -> Xlsx<Cursor<Vec<u8>>> {
    std::fs::write(dir.join("f.toml"), FRAMEWORK).unwrap();
    std::fs::write(dir.join("units.csv"), UNITS).unwrap();
    std::fs::write(dir.join("monthly.csv"), MONTHLY).unwrap();
    let out_dir = dir.join("r");
    let fw = dir.join("f.toml");
    let mut all = vec![
        "report",
        fw.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ];
    all.extend(args);
    let out = kapok(&all);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let bytes = std::fs::read(out_dir.join("results.xlsx")).unwrap();
    Xlsx::new(Cursor::new(bytes)).unwrap()
}

/// A sheet's cells (header first) and styles.
struct Sheet {
    rows: Vec<Vec<Data>>,
    styles: calamine::StyleRange,
}

impl Sheet {
    fn read(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Sheet {
        let range = wb.worksheet_range(name).unwrap();
        assert_eq!(range.start(), Some((0, 0)), "{name} starts at A1");
        Sheet {
            rows: range.rows().map(<[Data]>::to_vec).collect(),
            styles: wb.worksheet_style(name).unwrap(),
        }
    }

    fn col(&self, header: &str) -> usize {
        self.rows[0]
            .iter()
            .position(|h| *h == Data::String(header.into()))
            .unwrap_or_else(|| panic!("no column {header} in {:?}", self.rows[0]))
    }

    /// The data row of unit `code` (the column `代码`/`unit`).
    fn row(&self, code_col: usize, code: &str) -> usize {
        (1..self.rows.len())
            .find(|&r| self.rows[r][code_col] == Data::String(code.into()))
            .unwrap_or_else(|| panic!("no row {code}"))
    }

    fn num(&self, r: usize, c: usize) -> f64 {
        match &self.rows[r][c] {
            Data::Float(v) => *v,
            other => panic!("({r}, {c}) is not a number: {other:?}"),
        }
    }

    fn style(&self, r: usize, c: usize) -> Option<&Style> {
        self.styles.get((r as u32, c as u32))
    }

    fn format(&self, r: usize, c: usize) -> String {
        self.style(r, c)
            .and_then(|s| s.number_format.as_ref())
            .map_or("General".into(), |f| f.format_code.clone())
    }

    /// The cell's fill colour as `RRGGBB`, if it is filled.
    fn fill(&self, r: usize, c: usize) -> Option<String> {
        let fill = self.style(r, c)?.fill.as_ref()?;
        if !fill.is_visible() {
            return None;
        }
        let c = fill.get_color()?;
        Some(format!("{:02X}{:02X}{:02X}", c.red, c.green, c.blue))
    }
}

#[test]
fn rank_changes_are_numbers_shown_with_arrows() {
    let tmp = tempdir();
    let mut wb = report(tmp.path(), &[]);
    let s = Sheet::read(&mut wb, "排名");
    let (code, rank, change, prev) = (
        s.col("代码"),
        s.col("排名"),
        s.col("变化"),
        s.col("上期排名"),
    );
    for (unit, k, d) in RANKS {
        let r = s.row(code, unit);
        assert_eq!(s.num(r, rank), k, "{unit}");
        assert_eq!(s.num(r, change), d, "{unit}: places climbed");
        assert_eq!(s.num(r, prev) - s.num(r, rank), d, "{unit}");
        assert_eq!(s.format(r, change), "\"↑\"0;\"↓\"0;\"=\"", "{unit}");
    }
}

#[test]
fn every_data_sheet_has_a_period_column() {
    let tmp = tempdir();
    let mut wb = report(tmp.path(), &[]);
    assert_eq!(
        wb.sheet_names(),
        [
            "排名",
            "维度得分",
            "指标得分",
            "原始值",
            "插补值",
            "方法说明",
            "概况"
        ]
    );
    for name in ["排名", "维度得分", "指标得分", "原始值", "插补值"] {
        let s = Sheet::read(&mut wb, name);
        let p = s.col("统计期");
        assert!(s.rows.len() > 1, "{name} has rows");
        for row in &s.rows[1..] {
            assert_eq!(row[p], Data::String("2023-02".into()), "{name}");
        }
    }
    let mut wb = report(
        tmp.path(),
        &["--force", "--lang", "en", "--period", "2023-01"],
    );
    for name in [
        "ranking",
        "dimension scores",
        "indicator scores",
        "raw values",
    ] {
        let s = Sheet::read(&mut wb, name);
        let p = s.col("period");
        assert_eq!(s.rows.len(), 5, "{name}: four units");
        for row in &s.rows[1..] {
            assert_eq!(row[p], Data::String("2023-01".into()), "{name}");
        }
    }
    let s = Sheet::read(&mut wb, "imputed values");
    assert_eq!(
        s.rows.len(),
        1,
        "nothing imputed in 2023-01: the header alone"
    );
}

#[test]
fn values_are_stored_in_full_and_shown_with_three_significant_figures() {
    let tmp = tempdir();
    let mut wb = report(tmp.path(), &[]);
    let s = Sheet::read(&mut wb, "原始值");
    let (code, share, visits) = (s.col("代码"), s.col("占比（比例）"), s.col("访问量（次）"));
    let a = s.row(code, "A");
    assert_eq!(s.num(a, share), 0.0316);
    // The column's median, 0.0339, to 3 significant figures: 4 decimals, so 0.0316 not 0.03.
    assert_eq!(s.format(a, share), "0.0000");
    assert_eq!(s.num(a, visits), 12000.0);
    assert_eq!(s.format(a, visits), "#,##0");
    // Scores: at least 2 decimals.
    let s = Sheet::read(&mut wb, "排名");
    let score = s.col("指数");
    assert_eq!(s.format(1, score), "0.00");
    assert_eq!(s.num(s.row(s.col("代码"), "D"), score), 100.0);
}

#[test]
fn imputed_cells_are_shaded_and_listed() {
    let tmp = tempdir();
    let mut wb = report(tmp.path(), &[]);
    let shade = Some("FFF2CC".to_string());
    for (name, share) in [("原始值", "占比（比例）"), ("指标得分", "占比")] {
        let s = Sheet::read(&mut wb, name);
        let (code, share) = (s.col("代码"), s.col(share));
        for unit in ["A", "B", "C", "D"] {
            let r = s.row(code, unit);
            let want = if unit == "C" { shade.clone() } else { None };
            assert_eq!(s.fill(r, share), want, "{name} {unit}");
            assert_eq!(s.fill(r, share + 1), None, "{name} {unit}: visits observed");
        }
    }
    let s = Sheet::read(&mut wb, "原始值");
    let c = s.row(s.col("代码"), "C");
    assert!((s.num(c, s.col("占比（比例）")) - IMPUTED).abs() < 1e-12);

    let s = Sheet::read(&mut wb, "插补值");
    assert_eq!(s.rows.len(), 2, "one imputed value");
    let cell = |h: &str| s.rows[1][s.col(h)].clone();
    for (h, want) in [
        ("统计期", "2023-02"),
        ("代码", "C"),
        ("名称", "丙"),
        ("指标代码", "share"),
        ("指标", "占比"),
        ("计量单位", "比例"),
        ("插补方法", "均值插补"),
    ] {
        assert_eq!(cell(h), Data::String(want.into()), "{h}");
    }
    let v = s.col("插补值");
    assert!((s.num(1, v) - IMPUTED).abs() < 1e-12);
    assert_eq!(s.format(1, v), "0.0000", "as in its raw-value column");

    let about = Sheet::read(&mut wb, "概况");
    let line = about
        .rows
        .iter()
        .find(|r| r[0] == Data::String("插补值".into()))
        .expect("the about sheet counts imputed values");
    assert!(line[1].to_string().starts_with("1 个"), "{:?}", line[1]);
}
