//! Data as departments send it: encodings, numbers written as text, Excel quirks, empty files.
//!
//! The `intake-*` cases of the bad-input catalogue (`tests/catalogue/`) are written by
//! [`write_intake_catalogue`] (`cargo test --test it write_intake_catalogue -- --ignored`) and
//! checked by [`intake_catalogue_cases_hold`].

use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

use super::util::{Csv, root, tempdir, texts};

/// A framework over one source `d` (unit key `code`, name column `name`, indicators `x`, `y`),
/// with `extra` lines added to the source.
fn framework(path: &str, extra: &str) -> String {
    format!(
        r#"[index]
id = "idx"
name = {{ zh = "指数", en = "Index" }}

[units]
key = "code"
name = "name"

[[source]]
name = "d"
path = "{path}"
{extra}
[[indicator]]
id = "x"
name = {{ zh = "甲", en = "X" }}
direction = "higher"

[[indicator]]
id = "y"
name = {{ zh = "乙", en = "Y" }}
direction = "lower"
"#
    )
}

/// The three street names outside GB2312 (but in GBK and GB18030).
const STREETS: &str = "code,name,x,y\n440103,茶滘,10,5\n440104,东漖,20,7\n440105,石碁,15,6\n";

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "{text} is in GBK");
    bytes.into_owned()
}

fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.set_properties(&kapok::io::reproducible_properties().unwrap());
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1").unwrap();
    build(ws);
    wb.save_to_buffer().unwrap()
}

/// The header and three units of [`STREETS`] written as Excel cells from row `first` (0-based).
fn streets_sheet(ws: &mut rust_xlsxwriter::Worksheet, first: u32) {
    for (j, h) in ["code", "name", "x", "y"].iter().enumerate() {
        ws.write_string(first, j as u16, *h).unwrap();
    }
    for (i, (code, name, x, y)) in [
        (440103, "茶滘", 10, 5),
        (440104, "东漖", 20, 7),
        (440105, "石碁", 15, 6),
    ]
    .iter()
    .enumerate()
    {
        let r = first + 1 + i as u32;
        ws.write_number(r, 0, *code as f64).unwrap();
        ws.write_string(r, 1, *name).unwrap();
        ws.write_number(r, 2, *x as f64).unwrap();
        ws.write_number(r, 3, *y as f64).unwrap();
    }
}

/// CRC-32 (IEEE), for [`stored_zip`].
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of uncompressed entries.
fn stored_zip(entries: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in entries {
        let (crc, len, offset) = (crc32(body.as_bytes()), body.len() as u32, out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(0u16.to_le_bytes()); // stored
            v.extend(0u16.to_le_bytes()); // time
            v.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend(crc.to_le_bytes());
            v.extend(len.to_le_bytes());
            v.extend(len.to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(name.as_bytes());
        out.extend(body.as_bytes());
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend([0u8; 6]); // comment length, disk, internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A minimal workbook with one sheet `Sheet1` whose `<sheetData>` is `rows`, written by hand:
/// unlike Excel (and rust_xlsxwriter), some programs save formulas without their values.
fn raw_xlsx(rows: &str) -> Vec<u8> {
    let ns = "http://schemas.openxmlformats.org";
    let rels = format!("{ns}/package/2006/relationships");
    let office = format!("{ns}/officeDocument/2006/relationships");
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    stored_zip(&[
        (
            "[Content_Types].xml",
            format!(
                r#"{xml}<Types xmlns="{ns}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
            ),
        ),
        (
            "_rels/.rels",
            format!(
                r#"{xml}<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"{xml}<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{office}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"{xml}<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{office}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"{xml}<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
            ),
        ),
    ])
}

/// Sheet rows of [`STREETS`] with C3 a formula saved without its value.
fn uncached_formula_rows() -> String {
    let s = |r: &str, v: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>"#);
    let n = |r: &str, v: &str| format!(r#"<c r="{r}"><v>{v}</v></c>"#);
    let mut rows = format!(
        r#"<row r="1">{}{}{}{}</row>"#,
        s("A1", "code"),
        s("B1", "name"),
        s("C1", "x"),
        s("D1", "y")
    );
    for (r, code, name, x, y) in [
        (2, "440103", "茶滘", Some("10"), "5"),
        (3, "440104", "东漖", None, "7"),
        (4, "440105", "石碁", Some("15"), "6"),
    ] {
        let x = match x {
            Some(v) => n(&format!("C{r}"), v),
            None => format!(r#"<c r="C{r}"><f>C2*2</f></c>"#),
        };
        rows.push_str(&format!(
            r#"<row r="{r}">{}{}{x}{}</row>"#,
            n(&format!("A{r}"), code),
            s(&format!("B{r}"), name),
            n(&format!("D{r}"), y)
        ));
    }
    rows
}

fn empty_table(path: &Path, arrow: bool) {
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]));
    let batch = RecordBatch::new_empty(schema.clone());
    let file = std::fs::File::create(path).unwrap();
    if arrow {
        let mut w = datafusion::arrow::ipc::writer::FileWriter::try_new(file, &schema).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
    } else {
        let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
}

/// One catalogue case.
struct Case {
    name: &'static str,
    about: &'static str,
    args: Vec<&'static str>,
    exit: i32,
    stderr: Vec<&'static str>,
    stdout: Vec<&'static str>,
    files: Vec<(&'static str, Vec<u8>)>,
    may_write: Vec<&'static str>,
}

fn case(name: &'static str, about: &'static str, exit: i32) -> Case {
    Case {
        name,
        about,
        args: vec!["check", "f.toml"],
        exit,
        stderr: Vec::new(),
        stdout: Vec::new(),
        files: Vec::new(),
        may_write: Vec::new(),
    }
}

impl Case {
    fn csv(mut self, extra: &str, data: &[u8]) -> Self {
        self.files
            .push(("f.toml", framework("d.csv", extra).into_bytes()));
        self.files.push(("d.csv", data.to_vec()));
        self
    }
    fn xlsx(mut self, extra: &str, data: Vec<u8>) -> Self {
        self.files
            .push(("f.toml", framework("d.xlsx", extra).into_bytes()));
        self.files.push(("d.xlsx", data));
        self
    }
    fn err(mut self, frags: &[&'static str]) -> Self {
        self.stderr.extend(frags);
        self
    }
    fn out(mut self, frags: &[&'static str]) -> Self {
        self.stdout.extend(frags);
        self
    }
    fn args(mut self, args: &[&'static str]) -> Self {
        self.args = args.to_vec();
        self
    }
}

fn cases() -> Vec<Case> {
    let tmp = tempdir();
    let bin = |arrow: bool| {
        let p = tmp.path().join("t");
        empty_table(&p, arrow);
        std::fs::read(&p).unwrap()
    };
    let parquet0 = bin(false);
    let arrow0 = bin(true);
    let three_x = |a: &str, b: &str, c: &str| {
        format!("code,name,x,y\n440103,荔湾,{a},5\n440104,越秀,{b},7\n440105,海珠,{c},6\n")
    };
    let mut gbk_bad = gbk("code,name,x,y\n440103,茶滘,10,5\n");
    gbk_bad.extend(b"440104,\x81\x20,20,7\n440105,x,15,6\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(STREETS.as_bytes());
    let zero = |name: &'static str, cmd: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![cmd, "f.toml"];
        args.extend(extra);
        let mut c = case(
            name,
            "a 0-row Parquet source: no panic, the source is named",
            1,
        )
        .err(&["source `d`", "d.parquet", "no rows"]);
        c.args = args;
        c.files
            .push(("f.toml", framework("d.parquet", "").into_bytes()));
        c.files.push(("d.parquet", parquet0.clone()));
        c
    };
    let mut out =
        vec![
            case(
                "intake-gbk-undeclared",
                "a GBK CSV (Chinese Excel's export) without `encoding`",
                1,
            )
            .csv("", &gbk(STREETS))
            .err(&[
                "source `d`",
                "d.csv",
                "line 2",
                "not UTF-8",
                "encoding = \"gbk\"",
            ]),
            case(
                "intake-gbk-declared",
                "a GBK CSV with `encoding = \"gbk\"`: 茶滘, 东漖, 石碁 are in GBK",
                0,
            )
            .csv("encoding = \"gbk\"\n", &gbk(STREETS))
            .args(&["rank", "f.toml"])
            .out(&["茶滘", "东漖", "石碁", "440104"]),
            case(
                "intake-gb18030-declared",
                "the same bytes declared as GB18030",
                0,
            )
            .csv("encoding = \"gb18030\"\n", &gbk(STREETS))
            .args(&["rank", "f.toml"])
            .out(&["茶滘", "石碁"]),
            case(
                "intake-gbk-bad-byte",
                "a declared GBK file with a broken byte pair on line 3",
                1,
            )
            .csv("encoding = \"gbk\"\n", &gbk_bad)
            .err(&["source `d`", "line 3", "not valid GBK", "0x81"]),
            case(
                "intake-utf8-bom",
                "a UTF-8 CSV with a byte-order mark (Excel's “CSV UTF-8”)",
                0,
            )
            .csv("", &bom)
            .args(&["rank", "f.toml"])
            .out(&["茶滘", "440103"]),
            case(
                "intake-encoding-unknown",
                "an unknown encoding label is a framework error",
                2,
            )
            .csv("encoding = \"gbk2312\"\n", STREETS.as_bytes())
            .err(&["f.toml:12:12", "unknown encoding `gbk2312`", "gb18030"]),
            case(
                "intake-encoding-on-xlsx",
                "`encoding` is for CSV files only",
                2,
            )
            .xlsx("encoding = \"gbk\"\n", xlsx(|ws| streets_sheet(ws, 0)))
            .err(&["f.toml:12:12", "`encoding` only applies to .csv files"]),
            case(
                "intake-thousands-plain",
                "`1,234` without `numbers = \"lenient\"`",
                1,
            )
            .csv(
                "",
                three_x("\"1,234\"", "\"2,345\"", "\"12,000\"").as_bytes(),
            )
            .err(&[
                "source `d`",
                "column `x`",
                "line 2 `1,234`",
                "numbers = \"lenient\"",
            ]),
            case(
                "intake-thousands-lenient",
                "`1,234` read under `numbers = \"lenient\"`, with a warning",
                0,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("\"1,234\"", "\"2,345\"", "\"12,000\"").as_bytes(),
            )
            .err(&[
                "column `x` read as numbers",
                "3 with thousands separators",
                "line 2 `1,234`",
            ]),
            case(
                "intake-percent-lenient",
                "`12%` read as 0.12 under `numbers = \"lenient\"`",
                0,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("12%", "30%", "7.5%").as_bytes(),
            )
            .err(&["3 percentages", "12% = 0.12"]),
            case(
                "intake-percent-mixed",
                "`12%` next to `0.5`: which is meant?",
                1,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("12%", "0.5", "7%").as_bytes(),
            )
            .err(&[
                "column `x` mixes percentages and plain numbers",
                "line 2 `12%`",
                "line 3 `0.5`",
            ]),
            case(
                "intake-fullwidth-plain",
                "full-width digits without `numbers = \"lenient\"`",
                1,
            )
            .csv("", three_x("１２", "２０", "１５").as_bytes())
            .err(&["column `x` holds numbers written as text", "line 2 `１２`"]),
            case(
                "intake-fullwidth-lenient",
                "full-width digits, point and minus under lenient",
                0,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("１２．５", "－２", "１５").as_bytes(),
            )
            .err(&["3 with full-width characters", "line 2 `１２．５`"]),
            case(
                "intake-markers-plain",
                "`-` and `无` among numbers without `numbers = \"lenient\"`",
                1,
            )
            .csv("", three_x("-", "20", "无").as_bytes())
            .err(&["column `x`", "line 2 `-`", "line 4 `无`"]),
            case(
                "intake-markers-only-plain",
                "a column of `NA`, `/`, `—` and one number",
                1,
            )
            .csv("", three_x("NA", "/", "12").as_bytes())
            .err(&[
                "column `x` holds numbers written as text",
                "line 2 `NA`",
                "line 3 `/`",
            ]),
            case(
                "intake-markers-lenient",
                "missing-value markers under lenient are missing values",
                0,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("—", "20", "N/A").as_bytes(),
            )
            .err(&["2 missing-value marker(s)", "line 2 `—`"]),
            case(
                "intake-missing-declared",
                "`missing = [\"未报\"]` in the default number style",
                0,
            )
            .csv(
                "missing = [\"未报\"]\n",
                three_x("未报", "20", "15").as_bytes(),
            )
            .err(&["1 missing-value marker(s)", "line 2 `未报`"]),
            case(
                "intake-missing-blank",
                "a blank missing-value marker is a framework error",
                2,
            )
            .csv("missing = [\" \"]\n", STREETS.as_bytes())
            .err(&["f.toml:12:12", "cannot be blank"]),
            case("intake-numbers-unknown", "an unknown number style", 2)
                .csv("numbers = \"lenien\"\n", STREETS.as_bytes())
                .err(&["f.toml:12:11", "unknown number style `lenien`", "lenient"]),
            case(
                "intake-stray-word-lenient",
                "a word among numbers under lenient",
                1,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("\"1,200\"", "待核实", "15").as_bytes(),
            )
            .err(&["column `x`", "line 3 `待核实`", "missing"]),
            case(
                "intake-decimal-comma",
                "`1,5` could be a decimal comma: not read as 15",
                1,
            )
            .csv(
                "numbers = \"lenient\"\n",
                three_x("\"1,5\"", "2", "3").as_bytes(),
            )
            .err(&["column `x`", "line 2 `1,5`"]),
            case(
                "intake-csv-title-row",
                "a title line above the CSV header",
                1,
            )
            .csv("", format!("2023年1月 报表,,,\n{STREETS}").as_bytes())
            .err(&["source `d`", "line 1 looks like a title", "header_row = 2"]),
            case(
                "intake-csv-header-row",
                "`header_row = 2` skips the title line",
                0,
            )
            .csv(
                "header_row = 2\n",
                format!("2023年1月 报表,,,\n{STREETS}").as_bytes(),
            )
            .args(&["rank", "f.toml"])
            .out(&["茶滘"]),
            case("intake-header-row-zero", "`header_row = 0`", 2)
                .csv("header_row = 0\n", STREETS.as_bytes())
                .err(&["f.toml:12:14", "≥ 1"]),
            case(
                "intake-header-row-past-end",
                "`header_row` past the end of the file",
                1,
            )
            .csv("header_row = 9\n", STREETS.as_bytes())
            .err(&["source `d`", "line 9"]),
            case(
                "intake-csv-ragged-row",
                "a row with more fields than the header",
                1,
            )
            .csv(
                "",
                b"code,name,x,y\n440103,a,1,2\n440104,b,3,4,5\n440105,c,5,6\n",
            )
            .err(&["source `d`", "line 3 has 5 fields", "header (line 1) has 4"]),
            case(
                "intake-csv-short-row",
                "a row cut short: fewer fields than the header",
                1,
            )
            .csv("", b"code,name,x,y\n440103,a,1,2\n440104,b\n440105,c,5,6\n")
            .err(&[
                "source `d`",
                "line 3 has 2 fields",
                "header (line 1) has 4",
                "before column `x`",
            ]),
            case("intake-csv-open-quote", "a quote that is never closed", 1)
                .csv(
                    "",
                    b"code,name,x,y\n440103,a,1,2\n440104,\"b,3,4\n440105,c,5,6\n",
                )
                .err(&["source `d`", "line 3", "not closed"]),
            case(
                "intake-csv-duplicate-header",
                "two columns with the same name",
                1,
            )
            .csv("", b"code,name,x,x,y\n440103,a,1,1,2\n440104,b,3,3,4\n")
            .err(&["source `d`", "columns 3 and 4 are both named `x`"]),
            case(
                "intake-csv-empty-header",
                "a column with values but no header",
                1,
            )
            .csv("", b"code,name,,x,y\n440103,a,9,1,2\n440104,b,9,3,4\n")
            .err(&["source `d`", "line 1", "header of column 3 is empty"]),
            case("intake-empty-file", "a 0-byte CSV", 1)
                .csv("", b"")
                .err(&["source `d`", "d.csv", "0 bytes"]),
            case("intake-header-only", "a CSV with a header and no rows", 1)
                .csv("", b"code,name,x,y\n")
                .err(&["source `d`", "d.csv", "no data rows"]),
            case(
                "intake-blank-rows-only",
                "a header, then only blank and `,,,` lines",
                1,
            )
            .csv("", b"code,name,x,y\r\n\r\n,,,\r\n")
            .err(&["source `d`", "no data rows"]),
            case(
                "intake-all-empty-column",
                "an indicator column with no value in any row",
                1,
            )
            .csv(
                "",
                b"code,name,x,y\n440103,a,,2\n440104,b,,4\n440105,c,,3\n",
            )
            .err(&["indicator `x`", "no value", "column `x`", "source `d`"]),
            case(
                "intake-query-no-rows",
                "a source query that selects nothing",
                1,
            )
            .csv(
                "query = \"SELECT * FROM d WHERE x > 1000\"\n",
                STREETS.as_bytes(),
            )
            .err(&["query of source `d` returned no rows"]),
            zero("intake-parquet-0-rows-check", "check", &[]),
            zero("intake-parquet-0-rows-score", "score", &["-o", "out.csv"]),
            zero("intake-parquet-0-rows-rank", "rank", &[]),
            zero("intake-parquet-0-rows-audit", "audit", &[]),
            zero("intake-parquet-0-rows-report", "report", &["-o", "rep"]),
            {
                let mut c = case(
                    "intake-parquet-0-bytes",
                    "an empty file named .parquet (a failed download)",
                    1,
                )
                .err(&["source `d`", "d.parquet", "the file is empty (0 bytes)"]);
                c.files
                    .push(("f.toml", framework("d.parquet", "").into_bytes()));
                c.files.push(("d.parquet", Vec::new()));
                c
            },
            {
                let mut c = case("intake-parquet-not-parquet", "a CSV file named .parquet", 1)
                    .err(&["source `d`", "d.parquet", "Parquet"]);
                c.files
                    .push(("f.toml", framework("d.parquet", "").into_bytes()));
                c.files.push(("d.parquet", STREETS.as_bytes().to_vec()));
                c
            },
            {
                let mut c = case("intake-arrow-0-rows", "a 0-row Arrow IPC source", 1).err(&[
                    "source `d`",
                    "d.arrow",
                    "no rows",
                ]);
                c.files
                    .push(("f.toml", framework("d.arrow", "").into_bytes()));
                c.files.push(("d.arrow", arrow0));
                c
            },
            case(
                "intake-xlsx-formula-uncached",
                "a formula cell saved without its value",
                1,
            )
            .xlsx("", raw_xlsx(&uncached_formula_rows()))
            .err(&["source `d`", "Sheet1!C3 `=C2*2`", "without a saved value"]),
            case("intake-xlsx-merged", "merged cells in the data", 1)
                .xlsx(
                    "",
                    xlsx(|ws| {
                        streets_sheet(ws, 0);
                        ws.merge_range(2, 3, 3, 3, "7", &Format::new()).unwrap();
                    }),
                )
                .err(&["source `d`", "merged cells Sheet1!D3:D4", "unmerge"]),
            case(
                "intake-xlsx-title-row",
                "a merged title row above the header",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    ws.merge_range(0, 0, 0, 3, "2023年1月 报表", &Format::new())
                        .unwrap();
                    streets_sheet(ws, 1);
                }),
            )
            .err(&[
                "source `d`",
                "Sheet1!A1 `2023年1月 报表` looks like a title",
                "header_row = 2",
            ]),
            case(
                "intake-xlsx-header-row",
                "`header_row = 2` below a merged title",
                0,
            )
            .xlsx(
                "header_row = 2\n",
                xlsx(|ws| {
                    ws.merge_range(0, 0, 0, 3, "2023年1月 报表", &Format::new())
                        .unwrap();
                    streets_sheet(ws, 1);
                }),
            )
            .args(&["rank", "f.toml"])
            .out(&["东漖", "440105"]),
            case("intake-xlsx-date-header", "a header cell that is a date", 1)
                .xlsx(
                    "",
                    xlsx(|ws| {
                        streets_sheet(ws, 0);
                        let date = Format::new().set_num_format("yyyy-mm-dd");
                        ws.write_datetime_with_format(
                            0,
                            4,
                            ExcelDateTime::from_ymd(2023, 1, 1).unwrap(),
                            &date,
                        )
                        .unwrap();
                        ws.write_number(1, 4, 1.0).unwrap();
                    }),
                )
                .err(&["source `d`", "Sheet1!E1", "is a date (`2023-01-01`)"]),
            case(
                "intake-xlsx-empty-header",
                "a column with values and an empty header cell",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    streets_sheet(ws, 0);
                    ws.write_number(3, 5, 1.0).unwrap();
                }),
            )
            .err(&[
                "source `d`",
                "Sheet1!F1: the header cell is empty",
                "first Sheet1!F4",
            ]),
            case(
                "intake-xlsx-excel-error",
                "an Excel error value in a cell",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    streets_sheet(ws, 0);
                    ws.write_formula(3, 2, Formula::new("=1/0").set_result("#DIV/0!"))
                        .unwrap();
                }),
            )
            .err(&["source `d`", "Sheet1!C4", "column `x`", "#DIV/0!"]),
            case(
                "intake-xlsx-thousands-text",
                "`1,234` typed as text in Excel",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    streets_sheet(ws, 0);
                    ws.write_string(1, 2, "1,234").unwrap();
                    ws.write_string(2, 2, "2,000").unwrap();
                }),
            )
            .err(&[
                "source `d`",
                "column `x`",
                "cell Sheet1!C2 `1,234`",
                "numbers = \"lenient\"",
            ]),
            case(
                "intake-xlsx-header-only",
                "a sheet with a header and no rows",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    for (j, h) in ["code", "name", "x", "y"].iter().enumerate() {
                        ws.write_string(0, j as u16, *h).unwrap();
                    }
                }),
            )
            .err(&["source `d`", "d.xlsx", "no data rows"]),
            case(
                "intake-xlsx-keys-numbers-and-text",
                "a key column of numbers and text cells: `440103`, never `440103.0`",
                0,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    streets_sheet(ws, 0);
                    ws.write_string(2, 0, "440104").unwrap();
                }),
            )
            .args(&["rank", "f.toml"])
            .out(&["440103", "440104", "440105"]),
            case(
                "intake-xlsx-date-in-stray-cell",
                "a date among numbers is named as a date, not as serial 44927",
                1,
            )
            .xlsx(
                "",
                xlsx(|ws| {
                    streets_sheet(ws, 0);
                    let date = Format::new().set_num_format("yyyy-mm-dd");
                    ws.write_datetime_with_format(
                        2,
                        3,
                        ExcelDateTime::from_ymd(2023, 1, 1).unwrap(),
                        &date,
                    )
                    .unwrap();
                }),
            )
            .err(&["source `d`", "column `y`", "cell Sheet1!D3 `2023-01-01`"]),
            {
                let mut c = case("intake-framework-gbk", "a framework file saved as GBK", 2)
                    .err(&["f.toml:3:17", "not UTF-8", "save it as UTF-8"]);
                c.files.push(("f.toml", gbk(&framework("d.csv", ""))));
                c.files.push(("d.csv", STREETS.as_bytes().to_vec()));
                c
            },
            case(
                "intake-numbers-on-parquet",
                "`numbers` does not apply to Parquet",
                2,
            )
            .err(&[
                "f.toml:12:11",
                "`numbers` only applies to .csv and .xlsx files",
            ]),
        ];
    if let Some(c) = out
        .iter_mut()
        .find(|c| c.name == "intake-numbers-on-parquet")
    {
        c.files.push((
            "f.toml",
            framework("d.parquet", "numbers = \"lenient\"\n").into_bytes(),
        ));
    }
    for c in &mut out {
        if c.args.contains(&"out.csv") {
            c.may_write.push("out.csv");
        }
        if c.args.contains(&"rep") {
            c.may_write.push("rep");
        }
    }
    out
}

fn catalogue() -> PathBuf {
    root().join("tests/catalogue")
}

fn toml_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| toml::Value::String(s.to_string()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// Every file of a generated `intake-*` case, `case.toml` included.
fn case_files(c: &Case) -> Vec<(String, Vec<u8>)> {
    let mut text = format!(
        "# {}\nargs = {}\nexit = {}\nstderr = {}\n",
        c.about,
        toml_list(&c.args),
        c.exit,
        toml_list(&c.stderr)
    );
    if !c.stdout.is_empty() {
        text.push_str(&format!("stdout = {}\n", toml_list(&c.stdout)));
    }
    if !c.may_write.is_empty() {
        text.push_str(&format!("may_write = {}\n", toml_list(&c.may_write)));
    }
    let mut files: Vec<(String, Vec<u8>)> = c
        .files
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    files.push(("case.toml".into(), text.into_bytes()));
    files
}

/// Writes the `intake-*` catalogue cases (run by hand when [`cases`] changes:
/// `cargo test --test it write_intake_catalogue -- --ignored`).
#[test]
#[ignore]
fn write_intake_catalogue() {
    for c in cases() {
        let dir = catalogue().join(c.name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in case_files(&c) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// The committed `intake-*` cases (run by the catalogue runner) are exactly the ones [`cases`]
/// describes, byte for byte: the binary fixtures stay reproducible.
#[test]
fn the_intake_catalogue_cases_are_current() {
    let want: Vec<&str> = cases().iter().map(|c| c.name).collect();
    let mut have: Vec<String> = std::fs::read_dir(catalogue())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("intake-"))
        .collect();
    have.sort();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(have, sorted, "run write_intake_catalogue");
    for c in cases() {
        let dir = catalogue().join(c.name);
        let files = case_files(&c);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        assert_eq!(on_disk, names, "{}", c.name);
        for (name, bytes) in files {
            let got = std::fs::read(dir.join(&name)).unwrap();
            assert!(
                got == bytes,
                "{}/{name} is stale: run write_intake_catalogue",
                c.name
            );
        }
    }
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kapok"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    (out.status.code().unwrap(), o, e)
}

/// Raw values of one indicator by unit key, from `score -o out.csv`.
fn raw_values(dir: &Path, indicator: &str) -> Vec<(String, String)> {
    let (code, _, err) = run_in(dir, &["score", "f.toml", "-o", "out.csv"]);
    assert_eq!(code, 0, "{err}");
    let csv = Csv::read(&dir.join("out.csv"));
    let (u, v) = (csv.col("unit"), csv.col(&format!("raw.{indicator}")));
    csv.rows
        .iter()
        .map(|r| (r[u].clone(), r[v].clone()))
        .collect()
}

#[test]
fn lenient_numbers_reach_the_scores_as_written() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("f.toml"),
        framework("d.csv", "numbers = \"lenient\"\n"),
    )
    .unwrap();
    // x: 1,234 → 1234; １２．５ → 12.5; "-" → missing. y: 12% → 0.12, 5% → 0.05, ５０％ → 0.5.
    std::fs::write(
        dir.path().join("d.csv"),
        "code,name,x,y\n440103,a,\"1,234\",12%\n440104,b,１２．５,5%\n440105,c,-,５０％\n440106,d,7,0%\n",
    )
    .unwrap();
    let x = raw_values(dir.path(), "x");
    assert_eq!(
        x,
        vec![
            ("440103".into(), "1234.0".into()),
            ("440104".into(), "12.5".into()),
            ("440105".into(), "".into()),
            ("440106".into(), "7.0".into()),
        ]
    );
    let y: Vec<String> = raw_values(dir.path(), "y")
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(y, vec!["0.12", "0.05", "0.5", "0.0"]);
}

#[test]
fn gbk_names_round_trip_and_keys_stay_as_written() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("f.toml"),
        framework("d.csv", "encoding = \"gbk\"\n"),
    )
    .unwrap();
    // Codes with a leading zero stay codes (`0101`, not 101).
    let text = STREETS.replace("440103", "0101");
    std::fs::write(dir.path().join("d.csv"), gbk(&text)).unwrap();
    let (code, _, err) = run_in(dir.path(), &["score", "f.toml", "-o", "out.csv"]);
    assert_eq!(code, 0, "{err}");
    let csv = Csv::read(&dir.path().join("out.csv"));
    let (u, n) = (csv.col("unit"), csv.col("name"));
    let got: Vec<(&str, &str)> = csv
        .rows
        .iter()
        .map(|r| (r[u].as_str(), r[n].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![("0101", "茶滘"), ("440104", "东漖"), ("440105", "石碁")]
    );
}

#[test]
fn excel_keys_are_whole_numbers_and_dates_are_iso() {
    let dir = tempdir();
    let mut fw = framework("d.xlsx", "");
    fw.push_str("[rank]\nonly = \"day <> '2023-01-01'\"\n");
    std::fs::write(dir.path().join("f.toml"), fw).unwrap();
    let book = xlsx(|ws| {
        streets_sheet(ws, 0);
        // One key typed as text: the column is text, the numbers in it read `440103`.
        ws.write_string(2, 0, "440104").unwrap();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        ws.write_string(0, 4, "day").unwrap();
        for r in 1..=3 {
            ws.write_datetime_with_format(
                r,
                4,
                ExcelDateTime::from_ymd(2023, 1, r as u8).unwrap(),
                &date,
            )
            .unwrap();
        }
    });
    std::fs::write(dir.path().join("d.xlsx"), book).unwrap();
    let (code, out, err) = run_in(dir.path(), &["rank", "f.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("440103.0"), "{out}");
    // 2023-01-01 (the first unit) is not ranked: the date compared as ISO text.
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("4401")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    let first = lines.iter().find(|l| l.contains("440103")).unwrap();
    assert!(first.trim_start().starts_with('–'), "{first}");
}

#[test]
fn zero_rows_never_panic_and_check_never_says_ok() {
    let dir = tempdir();
    std::fs::write(dir.path().join("f.toml"), framework("d.parquet", "")).unwrap();
    empty_table(&dir.path().join("d.parquet"), false);
    for args in [
        vec!["check", "f.toml"],
        vec!["score", "f.toml", "-o", "o.csv"],
        vec!["rank", "f.toml"],
        vec!["audit", "f.toml"],
        vec!["report", "f.toml", "-o", "rep"],
    ] {
        let (code, out, err) = run_in(dir.path(), &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.contains("source `d`") && err.contains("no rows"),
            "{err}"
        );
        assert!(
            !err.contains("panicked") && !out.contains("ok"),
            "{out}{err}"
        );
    }
    assert!(!dir.path().join("o.csv").exists() && !dir.path().join("rep").exists());
}
