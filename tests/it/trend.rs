//! Change and trend on a small synthetic panel whose expectations are worked out by hand:
//! changes against the previous month and a year earlier, rolling means, trend classes, the
//! non-comparable case, the report's headline sentences, and `kapok rank --compare`.

use std::path::Path;

use super::util::{Csv, kapok, one_indicator_framework, tempdir, texts};

/// One dimension `d` with one indicator `v = x`, normalised with `NORM`: with `none`, every
/// score is `x` itself (the index is the mean of its one dimension, the dimension of its one
/// indicator).
const FRAMEWORK_HEAD: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }

[units]
key = "code"
name = "name"
period = "month"

[defaults]
normalize = NORM

[trend]
window = 4
rolling = 3
min_periods = 4

"#;

/// Months 2022-01 … 2023-03 (k = 0 … 14) of four units:
/// - A (Alpha) = 10 + k, a steady rise;
/// - B (Bravo) = 14 + [0, 3, −1, 2][k mod 4], with no row in 2023-02;
/// - C (Charlie) = 30 − 2k, a steady fall;
/// - D (Delta) = 8 + [0, 2, −1, 1][k mod 4], flat and noisy.
fn monthly() -> String {
    let mut s = String::from("code,name,month,x\n");
    for k in 0..15i32 {
        let (y, m) = (2022 + k / 12, k % 12 + 1);
        let month = format!("{y}-{m:02}");
        let b = 14 + [0, 3, -1, 2][(k % 4) as usize];
        let d = 8 + [0, 2, -1, 1][(k % 4) as usize];
        s.push_str(&format!("A,Alpha,{month},{}\n", 10 + k));
        if month != "2023-02" {
            s.push_str(&format!("B,Bravo,{month},{b}\n"));
        }
        s.push_str(&format!("C,Charlie,{month},{}\n", 30 - 2 * k));
        s.push_str(&format!("D,Delta,{month},{d}\n"));
    }
    s
}

fn setup(dir: &Path, norm: &str) -> String {
    std::fs::write(
        dir.join("f.toml"),
        one_indicator_framework(FRAMEWORK_HEAD, "x").replace("NORM", norm),
    )
    .unwrap();
    std::fs::write(dir.join("monthly.csv"), monthly()).unwrap();
    dir.join("f.toml").to_string_lossy().into_owned()
}

/// `kapok score` of 2023-03 as a CSV.
fn score_march(norm: &str) -> Csv {
    let dir = tempdir();
    let fw = setup(dir.path(), norm);
    let out = dir.path().join("out.csv");
    let o = kapok(&[
        "score",
        &fw,
        "--period",
        "2023-03",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    Csv::read(&out)
}

fn cell<'a>(csv: &'a Csv, unit: &str, col: &str) -> &'a str {
    let c = csv.col(col);
    let row = csv.rows.iter().find(|r| r[0] == unit).unwrap();
    &row[c]
}

fn num(csv: &Csv, unit: &str, col: &str) -> Option<f64> {
    let s = cell(csv, unit, col);
    (!s.is_empty()).then(|| s.parse().unwrap())
}

#[test]
fn changes_rolling_means_and_trends_by_hand() {
    let csv = score_march("\"none\"");
    // 2023-03 (k = 14): A 24, B 13, C 2, D 7 → ranks A 1, B 2, D 3, C 4.
    // 2023-02 (k = 13): A 23, B absent, C 4, D 10 → ranks A 1, D 2, C 3.
    // 2022-03 (k = 2): A 12, B 13, C 26, D 7 → ranks C 1, B 2, A 3, D 4.
    for id in ["idx", "d"] {
        let ch = format!("change.{id}");
        assert_eq!(num(&csv, "A", &ch), Some(1.0));
        assert_eq!(num(&csv, "B", &ch), None, "B has no row in 2023-02");
        assert_eq!(num(&csv, "C", &ch), Some(-2.0));
        assert_eq!(num(&csv, "D", &ch), Some(-3.0));
        let rc = format!("rank_change.{id}");
        assert_eq!(num(&csv, "A", &rc), Some(0.0));
        assert_eq!(num(&csv, "B", &rc), None);
        assert_eq!(num(&csv, "C", &rc), Some(-1.0));
        assert_eq!(num(&csv, "D", &rc), Some(-1.0));
        let yoy = format!("yoy.{id}");
        assert_eq!(num(&csv, "A", &yoy), Some(12.0));
        assert_eq!(num(&csv, "B", &yoy), Some(0.0));
        assert_eq!(num(&csv, "C", &yoy), Some(-24.0));
        assert_eq!(num(&csv, "D", &yoy), Some(0.0));
        let ry = format!("rank_yoy.{id}");
        assert_eq!(num(&csv, "A", &ry), Some(2.0));
        assert_eq!(num(&csv, "B", &ry), Some(0.0));
        assert_eq!(num(&csv, "C", &ry), Some(-3.0));
        assert_eq!(num(&csv, "D", &ry), Some(1.0));
        // Rolling mean of 2023-01 … 2023-03: A (22+23+24)/3, B (14 + 13)/2 with February
        // missing, C (6+4+2)/3, D (8+10+7)/3.
        let ro = format!("rolling.{id}");
        assert!((num(&csv, "A", &ro).unwrap() - 23.0).abs() < 1e-12);
        assert!((num(&csv, "B", &ro).unwrap() - 13.5).abs() < 1e-12);
        assert!((num(&csv, "C", &ro).unwrap() - 4.0).abs() < 1e-12);
        assert!((num(&csv, "D", &ro).unwrap() - 25.0 / 3.0).abs() < 1e-12);
        // Trend over 2022-12 … 2023-03: A rises by 1 a month (an exact line) → improving;
        // C falls → declining; D = 9, 8, 10, 7: b = −0.4, se = sqrt(4.2 / 2 / 5) = 0.648,
        // t = −0.62 → stable; B has 3 of the 4 months, fewer than min_periods = 4 → none.
        let tr = format!("trend.{id}");
        assert_eq!(cell(&csv, "A", &tr), "improving");
        assert_eq!(cell(&csv, "B", &tr), "");
        assert_eq!(cell(&csv, "C", &tr), "declining");
        assert_eq!(cell(&csv, "D", &tr), "stable");
    }
    // The columns come after the existing ones, in the documented order.
    let h = &csv.header;
    let first = h.iter().position(|c| c == "change.idx").unwrap();
    assert!(h.iter().position(|c| c == "raw.v").unwrap() < first);
    assert_eq!(
        &h[first..first + 6],
        [
            "change.idx",
            "rank_change.idx",
            "yoy.idx",
            "rank_yoy.idx",
            "rolling.idx",
            "trend.idx"
        ]
    );
    assert!(
        !h.iter().any(|c| c == "change.v"),
        "indicators have no change columns"
    );
}

#[test]
fn scores_normalised_per_period_claim_no_score_change() {
    // Min-max within each month: scores of different months are on different scales.
    let csv = score_march("\"minmax\"");
    for u in ["A", "B", "C", "D"] {
        for col in ["change.idx", "yoy.idx", "rolling.idx"] {
            assert_eq!(cell(&csv, u, col), "", "{col} of {u} must be empty");
        }
    }
    // Rank changes are still given (the ranks are those of the raw values).
    assert_eq!(num(&csv, "C", "rank_change.idx"), Some(-1.0));
    assert_eq!(num(&csv, "A", "rank_yoy.idx"), Some(2.0));
    // The trend is that of the rank: A is first in each of the last four months (1, 1, 1, 1),
    // so it is stable although its raw value rises; C is 4, 4, 3, 4 → −rank slope 0.1, stable.
    assert_eq!(cell(&csv, "A", "trend.idx"), "stable");
    assert_eq!(cell(&csv, "C", "trend.idx"), "stable");
}

#[test]
fn the_headline_in_both_languages() {
    let dir = tempdir();
    let path = setup(dir.path(), "\"none\"");
    let fw = kapok::load(Path::new(&path)).unwrap();
    let (r, _) = kapok::score(&fw, None).unwrap();
    let p = r.panel.period_index("2023-03").unwrap();
    let en = kapok::report::headline::sentences(&fw, &r, p, kapok::framework::Lang::En);
    assert_eq!(
        en,
        [
            "In 2023-03, Alpha leads the Index with a score of 24.0, followed by Bravo and Delta.",
            // Against February: nobody climbed; Delta (3rd) and Charlie (4th) fell one place.
            "Against 2023-02, Delta and Charlie fell most (down 1 place each).",
            "Against the same period last year (2022-03), Alpha rose most (up 2 places to 1st), and Charlie fell most (down 3 places to 4th).",
            // Mean |change| of D over A (1), C (2) and D (3): 2.
            "Of the dimensions, D moved most: units' scores changed by 2.00 on average since 2023-02.",
            "No indicator value had to be imputed in this period.",
        ]
    );
    let zh = kapok::report::headline::sentences(&fw, &r, p, kapok::framework::Lang::Zh);
    assert_eq!(
        zh,
        [
            "2023-03，Alpha以 24.0 的得分位列指数第一，Bravo、Delta分列第二、三位。",
            "与 2023-02 相比，Delta、Charlie均下降 1 位，降幅最大。",
            "与去年同期（2022-03）相比，Alpha上升 2 位（至第 1 位），升幅最大；Charlie下降 3 位（至第 4 位），降幅最大。",
            "各维度中，“维”变动最大，各单位得分较 2023-02 平均变动 2.00。",
            "本期没有缺失数据需要填补。",
        ]
    );
}

#[test]
fn rank_compare_prints_two_periods_side_by_side() {
    let dir = tempdir();
    let fw = setup(dir.path(), "\"none\"");
    // Any spelling of March 2022.
    for spelling in ["2022-03", "2022年3月", "202203"] {
        let o = kapok(&["rank", &fw, "--lang", "en", "--compare", spelling]);
        let (out, err) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(out.contains("Index — 2023-03 against 2022-03"), "{out}");
        let line = |unit: &str| -> Vec<String> {
            out.lines()
                .find(|l| l.split_whitespace().next() == Some(unit))
                .unwrap_or_else(|| panic!("no row {unit}: {out}"))
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        // unit, name, rank now, rank then, places, score now, score then, change.
        assert_eq!(
            line("A"),
            ["A", "Alpha", "1", "3", "↑2", "24.00", "12.00", "+12.00"]
        );
        assert_eq!(
            line("C"),
            ["C", "Charlie", "4", "1", "↓3", "2.00", "26.00", "-24.00"]
        );
        assert_eq!(
            line("D"),
            ["D", "Delta", "3", "4", "↑1", "7.00", "7.00", "+0.00"]
        );
    }
    // Not comparable: no score change column, and a note says why.
    let dir2 = tempdir();
    let fw2 = setup(dir2.path(), "\"minmax\"");
    let o = kapok(&["rank", &fw2, "--lang", "en", "--compare", "2022-03"]);
    let (out, _) = texts(&o);
    let header = out.lines().find(|l| l.contains("places")).unwrap();
    assert!(!header.contains("change"), "{out}");
    assert!(out.contains("not comparable"), "{out}");
    // A period the data do not have: exit 2 with the periods they have.
    let o = kapok(&["rank", &fw, "--compare", "2021-12"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--compare 2021-12: no data for 2021-12") && err.contains("2022-01 … 2023-03"),
        "{err}"
    );
    let o = kapok(&["rank", &fw, "--compare", "2022-13"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`2022-13` is not a period"), "{err}");
}

#[test]
fn the_rank_table_shows_trend_arrows_with_a_legend() {
    let dir = tempdir();
    let fw = setup(dir.path(), "\"none\"");
    let o = kapok(&["rank", &fw, "--lang", "en"]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let arrow = |unit: &str| -> String {
        let l = out
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(unit))
            .unwrap_or_else(|| panic!("no row {unit}: {out}"));
        l.split_whitespace().nth(4).unwrap().to_string()
    };
    assert_eq!(arrow("A"), "↗");
    assert_eq!(arrow("C"), "↘");
    assert_eq!(arrow("D"), "→");
    assert!(out.contains("↗ improving  → stable  ↘ declining"), "{out}");
}

#[test]
fn trend_settings_are_checked_where_they_are_written() {
    let dir = tempdir();
    let fw = setup(dir.path(), "\"none\"");
    let text = std::fs::read_to_string(&fw)
        .unwrap()
        .replace("window = 4", "window = 2")
        .replace("rolling = 3", "rolling = 3\nt = -1\nspan = 3");
    std::fs::write(&fw, text).unwrap();
    let o = kapok(&["check", &fw]);
    let (out, err) = texts(&o);
    let all = format!("{out}{err}");
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("`window` = 2 is invalid"), "{all}");
    assert!(all.contains("f.toml:15:"), "window is on line 15: {all}");
    assert!(all.contains("`t` = -1 is invalid"), "{all}");
    assert!(all.contains("unknown key `span` in [trend]"), "{all}");
}

#[test]
fn quarters_compare_with_the_quarter_before_and_the_same_quarter_a_year_earlier() {
    // Quarterly data and no [trend] table: the defaults for quarters (rolling 4, window 8).
    let dir = tempdir();
    let text = one_indicator_framework(FRAMEWORK_HEAD, "x")
        .replace("NORM", "\"none\"")
        .replace("window = 4\nrolling = 3\nmin_periods = 4\n", "");
    std::fs::write(dir.path().join("f.toml"), text).unwrap();
    // A = 10 + 2q, B = 30 − q over 2022-Q1 … 2023-Q4 (q = 0 … 7).
    let mut csv = String::from("code,name,month,x\n");
    for q in 0..8 {
        let period = format!("{}-Q{}", 2022 + q / 4, q % 4 + 1);
        csv.push_str(&format!("A,Alpha,{period},{}\n", 10 + 2 * q));
        csv.push_str(&format!("B,Bravo,{period},{}\n", 30 - q));
    }
    std::fs::write(dir.path().join("monthly.csv"), csv).unwrap();
    let fw = dir.path().join("f.toml");
    let out = dir.path().join("out.csv");
    let o = kapok(&[
        "score",
        fw.to_str().unwrap(),
        "--period",
        "2023年四季度",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let csv = Csv::read(&out);
    // 2023-Q4 (q = 7): A 24, B 23; 2023-Q3: A 22, B 24; 2022-Q4 (q = 3): A 16, B 27.
    assert_eq!(num(&csv, "A", "change.idx"), Some(2.0));
    assert_eq!(num(&csv, "B", "change.idx"), Some(-1.0));
    assert_eq!(num(&csv, "A", "yoy.idx"), Some(8.0));
    assert_eq!(num(&csv, "B", "yoy.idx"), Some(-4.0));
    // Ranks: 2023-Q3 B 1, A 2; 2023-Q4 A 1, B 2.
    assert_eq!(num(&csv, "A", "rank_change.idx"), Some(1.0));
    assert_eq!(num(&csv, "A", "rank_yoy.idx"), Some(1.0));
    // Rolling mean of the last 4 quarters: A (18+20+22+24)/4 = 21, B (26+25+24+23)/4 = 24.5.
    assert_eq!(num(&csv, "A", "rolling.idx"), Some(21.0));
    assert_eq!(num(&csv, "B", "rolling.idx"), Some(24.5));
    // Eight quarters on exact lines.
    assert_eq!(cell(&csv, "A", "trend.idx"), "improving");
    assert_eq!(cell(&csv, "B", "trend.idx"), "declining");
}

#[test]
fn the_headline_counts_imputed_values() {
    // Delta's value of 2023-03 is missing and filled with the mean of the others.
    let dir = tempdir();
    let path = setup(dir.path(), "\"none\"");
    let data = monthly().replace("D,Delta,2023-03,7\n", "D,Delta,2023-03,\n");
    std::fs::write(dir.path().join("monthly.csv"), data).unwrap();
    let mut fw = kapok::load(Path::new(&path)).unwrap();
    fw.defaults.impute = kapok::pipeline::Impute::Mean;
    let (r, _) = kapok::score(&fw, None).unwrap();
    let p = r.panel.period_index("2023-03").unwrap();
    let en = kapok::report::headline::sentences(&fw, &r, p, kapok::framework::Lang::En);
    assert_eq!(
        en.last().unwrap(),
        "1 indicator value was missing in this period and was imputed by the framework's methods (1 indicator)."
    );
    let zh = kapok::report::headline::sentences(&fw, &r, p, kapok::framework::Lang::Zh);
    assert_eq!(
        zh.last().unwrap(),
        "本期有 1 个指标值缺失，已按框架规定的方法填补（涉及 1 项指标）。"
    );
}

#[test]
fn the_report_opens_with_the_headline_and_shows_trends_and_year_on_year() {
    let dir = tempdir();
    let fw = setup(dir.path(), "\"none\"");
    let out = dir.path().join("rep");
    let o = kapok(&[
        "report",
        &fw,
        "--lang",
        "en",
        "--period",
        "2023-03",
        "-o",
        out.to_str().unwrap(),
    ]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    // Periods are kept on one line (a span that does not break at the hyphen).
    let head = html.find("<p class=\"headline\">In <span class=\"nw\">2023-03</span>, Alpha leads the Index with a score of 24.0, followed by Bravo and Delta. Against <span class=\"nw\">2023-02</span>, Delta and Charlie fell most").expect("the headline");
    // The headline comes before the first section.
    assert!(head < html.find("<section>").unwrap());
    // Trend arrows: Alpha ↗ (improving), Charlie ↘, Delta →; Bravo has none.
    assert!(html.contains("<td class=\"c trend improving\" title=\"improving\">↗</td>"));
    assert!(html.contains("<td class=\"c trend declining\" title=\"declining\">↘</td>"));
    assert!(html.contains("<td class=\"c trend stable\" title=\"stable\">→</td>"));
    // Year on year: Alpha climbed from 3rd in 2022-03; its score rose by 12.
    assert!(
        html.contains("<td class=\"c up\" title=\"2022-03: 3\">↑2</td>"),
        "{html}"
    );
    assert!(html.contains("<td class=\"n\">+12.00</td>"));
    assert!(html.contains("YoY: places climbed since 2022-03"));
}
