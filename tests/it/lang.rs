//! One language at a time: a report in Chinese or English shows names, unit labels, warnings
//! and notes in that language, and says where it had to fall back to the other.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use super::util::{files_under, kapok, root, tempdir, texts};

/// Runs `kapok report FRAMEWORK -o DIR --svg ARGS…` and returns `index.html` and the text of
/// every chart.
fn report(framework: &str, dir: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["report", framework, "-o", dir.to_str().unwrap(), "--svg"];
    all.extend(args);
    let out = kapok(&all);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let charts: String = files_under(dir)
        .iter()
        .filter(|f| f.ends_with(".svg"))
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    (html, charts)
}

/// Runs of Chinese characters in `s`.
fn han_runs(s: &str) -> Vec<String> {
    s.split(|c: char| !('\u{4e00}'..='\u{9fff}').contains(&c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The texts of a workbook's first sheet.
fn first_sheet_texts(dir: &Path) -> Vec<String> {
    let mut wb = Xlsx::new(Cursor::new(
        std::fs::read(dir.join("results.xlsx")).unwrap(),
    ))
    .unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .flatten()
        .filter_map(|c| match c {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_chinese_report_writes_warnings_and_units_in_chinese() {
    let tmp = tempdir();
    let (html, _) = report("indicators/hongmian.toml", tmp.path(), &[]);
    // The sample's one warning (a year-on-year indicator is empty in the first year), for
    // readers: the indicator's Chinese name, no id, no backticks, no English.
    assert!(
        html.contains("指标“电信网络诈骗同比”在 12 个期间没有任何单位的数据"),
        "the warning is not in Chinese"
    );
    for english in [
        "has no value for any unit",
        "telecom_fraud_yoy`",
        "`",
        "per 10k residents",
        "Monthly governance",
    ] {
        assert!(
            !html.contains(english),
            "the Chinese page shows {english:?}"
        );
    }
    assert!(html.contains("每万人") && html.contains("广州市 11 个区的月度社会治理"));
}

#[test]
fn an_english_report_shows_english_unit_names_everywhere() {
    let tmp = tempdir();
    let (html, charts) = report("indicators/hongmian.toml", tmp.path(), &["--lang", "en"]);
    for text in [&html, &charts] {
        assert!(text.contains("Liwan District") && text.contains("Huangpu District"));
        // The only Chinese left is the index's proper name in the English description.
        let han: Vec<String> = han_runs(text)
            .into_iter()
            .filter(|r| r != "红棉指数")
            .collect();
        assert!(
            han.is_empty(),
            "Chinese on the English page or charts: {han:?}"
        );
    }
    assert!(html.contains("Indicator “Telecom fraud cases, ratio to the same month a year earlier” has no value for any unit in 12 period(s)"));
    assert!(
        !html.contains("no English text"),
        "nothing lacks a translation"
    );
    let cells = first_sheet_texts(tmp.path());
    assert!(cells.contains(&"Liwan District".to_string()), "{cells:?}");
    assert!(cells.iter().all(|c| han_runs(c).is_empty()), "{cells:?}");
}

#[test]
fn an_english_report_shows_chinese_street_names_and_says_so() {
    let tmp = tempdir();
    let (html, _) = report(
        "indicators/hongmian-streets.toml",
        tmp.path(),
        &["--lang", "en"],
    );
    assert!(html.contains(
        "The data give no English name for 176 unit(s); their names are shown in Chinese."
    ));
    // Each Chinese name is marked as such for screen readers, fonts and translation tools.
    assert!(html.contains("<span lang=\"zh-CN\">沙面街道</span>"));
    assert!(!html.contains("<span lang=\"zh-CN\">Public"));
    // The districts the streets are grouped by have English names (`group = { zh, en }`):
    // in the ranking's group column and on the workbook's first sheet.
    assert!(
        html.contains("<td>Liwan District</td>"),
        "no English group name"
    );
    let districts: Vec<String> = han_runs(&html)
        .into_iter()
        .filter(|r| r.ends_with('区'))
        .collect();
    assert!(
        districts.is_empty(),
        "Chinese district names: {districts:?}"
    );
    let cells = first_sheet_texts(tmp.path());
    assert!(cells.contains(&"Yuexiu District".to_string()), "{cells:?}");
    assert!(!cells.contains(&"越秀区".to_string()), "{cells:?}");
}

#[test]
fn rank_in_english_heads_columns_with_english_names() {
    let out = kapok(&["rank", "indicators/hongmian.toml", "--lang", "en"]);
    let (table, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let header: String = table.lines().skip(2).take(5).collect::<Vec<_>>().join("\n");
    for word in ["Public order and", "Personal safety", "Emergency"] {
        assert!(header.contains(word), "{word} not in\n{header}");
    }
    assert!(!table.contains("public_safety") && !table.contains("hongmian "));
    assert!(table.contains("Liwan District") && !table.contains("荔湾区"));
    // Standard error keeps the English original of the warning, with the id.
    assert!(err.contains("indicator `telecom_fraud_yoy` has no value for any unit"));
}

#[test]
fn a_unit_name_column_missing_from_the_data_is_a_data_error() {
    let tmp = tempdir();
    let text = std::fs::read_to_string(root().join("indicators/hongmian.toml"))
        .unwrap()
        .replace(
            "en = \"district_name_en\"",
            "en = \"district_name_english\"",
        )
        .replace("\"../data/", &format!("\"{}/data/", root().display()));
    let fw = tmp.path().join("f.toml");
    std::fs::write(&fw, text).unwrap();
    let out = kapok(&["rank", fw.to_str().unwrap()]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[units] name is `district_name_english`, but the data have no column"),
        "{err}"
    );
}
