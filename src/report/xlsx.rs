//! `results.xlsx`: the period's ranking, dimension scores, indicator scores, raw values and
//! imputed values, the methodology and an about sheet — bold frozen headers, fitted column
//! widths, a period column on every data sheet, numbers stored at full precision and shown with
//! decimals fitted to each column ([`shown`]), rank changes as numbers shown as `↑2` / `↓1` / `=`,
//! imputed cells shaded (with a note on the raw value, up to [`NOTES_MOST`]) and listed; reproducible byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Note, Workbook, Worksheet, XlsxError};
use unicode_width::UnicodeWidthStr;

use super::{Report, describe};
use crate::error::Error;
use crate::evaluate::RankChange;

/// Significant figures a column's typical value is shown with.
const SIG: i32 = 3;

/// Most decimals a value is shown with.
const MAX_DECIMALS: usize = 6;

/// Least decimals a score is shown with (units two hundredths apart can differ in rank).
const SCORE_DECIMALS: usize = 2;

/// Number format of a rank change: places climbed as `↑2`, fallen as `↓1`, none as `=`.
pub const CHANGE_FORMAT: &str = "\"↑\"0;\"↓\"0;\"=\"";

/// Fill colour of an imputed cell.
pub const IMPUTED_FILL: &str = "FFF2CC";

/// How a number is shown: decimals, and whether thousands are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shown {
    /// Digits after the decimal point.
    pub decimals: usize,
    /// Thousands separated by commas.
    pub thousands: bool,
}

impl Shown {
    /// The Excel number format.
    fn format(self) -> String {
        let int = if self.thousands { "#,##0" } else { "0" };
        match self.decimals {
            0 => int.into(),
            d => format!("{int}.{}", "0".repeat(d)),
        }
    }

    /// The text Excel shows for `v`, for column widths.
    fn text(self, v: f64) -> String {
        let s = format!("{v:.*}", self.decimals);
        if !self.thousands {
            return s;
        }
        let (sign, rest) = s.split_at(usize::from(s.starts_with('-')));
        let (int, frac) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{sign}{grouped}{frac}")
    }
}

/// How to show a column of values: the decimals that give its typical (median) magnitude
/// [`SIG`] significant figures, at least `min_decimals` and at most [`MAX_DECIMALS`]
/// (0.0316 → 4 decimals, 5.2 → 2, 1234 → 0), with thousands separated from 10,000 on.
pub fn shown(values: &[f64], min_decimals: usize) -> Shown {
    let mut mags: Vec<f64> = values
        .iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    // The median by selection, not a sort of the column (a sheet's columns at grid scale).
    let half = mags.len() / 2;
    let median = (!mags.is_empty()).then(|| *mags.select_nth_unstable_by(half, f64::total_cmp).1);
    let decimals = median.map_or(0, |m| {
        (SIG - 1 - m.log10().floor() as i32).clamp(0, MAX_DECIMALS as i32) as usize
    });
    Shown {
        decimals: decimals.max(min_decimals),
        thousands: mags.iter().any(|&m| m >= 1e4),
    }
}

/// A cell of a sheet.
enum Cell {
    Text(String),
    /// A score: at least [`SCORE_DECIMALS`] decimals, more when the column's scores are small.
    Score(Option<f64>),
    /// A measured value, shown as its column's values are ([`shown`]).
    Value(Option<f64>),
    /// A value shown a given way (a list mixing indicators shows each as its column does).
    Fixed(f64, Shown),
    /// A whole number (rank).
    Int(Option<u32>),
    /// A change of rank: places climbed, negative when fallen.
    Change(i64),
    /// A share shown as a percentage.
    Pct(f64),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

struct Sheet {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// Columns kept in view when scrolling right (code and name).
    freeze_cols: u16,
    /// Widest a column may be made, in characters.
    max_width: usize,
    /// Header with filter buttons (tables of units and nodes, not the about sheet).
    filter: bool,
    /// Imputed cells `(row, column)` of `rows`, with the note to attach (if any).
    imputed: BTreeMap<(usize, usize), Option<String>>,
}

impl Sheet {
    fn new(name: &'static str, header: Vec<String>, rows: Vec<Vec<Cell>>) -> Sheet {
        Sheet {
            name,
            header,
            rows,
            freeze_cols: 0,
            max_width: 24,
            filter: true,
            imputed: BTreeMap::new(),
        }
    }
}

/// The sheets' names, in order, for a language.
pub fn sheet_names(zh: bool) -> [&'static str; 7] {
    if zh {
        [
            "排名",
            "维度得分",
            "指标得分",
            "原始值",
            "插补值",
            "方法说明",
            "概况",
        ]
    } else {
        [
            "ranking",
            "dimension scores",
            "indicator scores",
            "raw values",
            "imputed values",
            "methodology",
            "about",
        ]
    }
}

/// The value imputed for unit `u` and indicator column `j`, if its raw value was missing and
/// imputation filled it.
fn imputed_value(rep: &Report, u: usize, j: usize) -> Option<f64> {
    let r = rep.r;
    let filled = rep.imputed[[u, j]];
    (r.panel.values[[rep.p, u, j]].is_nan() && filled.is_finite()).then_some(filled)
}

/// Every imputed cell of the period: `(unit, indicator column, value)`, units in report order.
fn imputed_cells(rep: &Report) -> Vec<(usize, usize, f64)> {
    let ni = rep.r.panel.indicators.len();
    rep.units()
        .iter()
        .copied()
        .flat_map(|u| (0..ni).filter_map(move |j| imputed_value(rep, u, j).map(|v| (u, j, v))))
        .collect()
}

/// The imputation method of indicator column `j`, in words.
fn impute_method(rep: &Report, j: usize) -> String {
    let node = rep.r.panel.indicators[j];
    rep.fw.nodes[node]
        .indicator()
        .map_or(String::new(), |spec| {
            describe::impute(&rep.fw.impute_of(spec), rep.lang)
        })
}

/// How the imputed cell of unit `u` and indicator column `j` was filled: the step of the
/// imputation that filled it and, for values from other periods, the period(s) they came from.
fn filled_how(rep: &Report, u: usize, j: usize) -> String {
    let Some(f) = rep.r.provenance.get(rep.p, u, j) else {
        return impute_method(rep, j);
    };
    let how = describe::impute(&f.method, rep.lang);
    if f.from.is_empty() {
        return how;
    }
    let from = &f.from;
    if rep.zh() {
        format!("{how}（取自 {}）", from.join("、"))
    } else {
        format!("{how} (from {})", from.join(", "))
    }
}

/// Unit code, name and the period: the first cells of a unit's row.
fn unit_cells(rep: &Report, u: usize) -> Vec<Cell> {
    let panel = &rep.r.panel;
    vec![
        text(&panel.units[u]),
        text(rep.unit_name(u)),
        text(rep.period_name()),
    ]
}

/// Headers of [`unit_cells`].
fn unit_header(rep: &Report) -> Vec<String> {
    [
        rep.t("代码", "unit"),
        rep.t("名称", "name"),
        rep.t("统计期", "period"),
    ]
    .map(String::from)
    .to_vec()
}

/// The change of unit `u`'s index rank: a number, or `新`/`new` and `–` as text.
fn change_cell(rep: &Report, u: usize, before: usize) -> Cell {
    match rep.r.rank_change(0, before, rep.p, u) {
        RankChange::Up(k) => Cell::Change(i64::from(k)),
        RankChange::Down(k) => Cell::Change(-i64::from(k)),
        RankChange::Same => Cell::Change(0),
        RankChange::New => text(rep.t("新", "new")),
        RankChange::Unranked => text("–"),
    }
}

fn ranking(rep: &Report, name: &'static str) -> Sheet {
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let units = rep.units();
    let groups = rep.has_groups();
    let any_note = units.iter().any(|&u| rep.status_note(u).is_some());
    let trends = rep.trends();
    let year_ago = trends.as_ref().and_then(|tr| tr.year_ago[rep.p]);
    let yoy_score = year_ago.is_some() && trends.as_ref().is_some_and(|tr| tr.comparable);
    let mut header = vec![t("排名", "rank")];
    if rep.prev.is_some() {
        header.extend([t("变化", "change"), t("上期排名", "previous rank")]);
    }
    if year_ago.is_some() {
        header.extend([
            t("同比", "year on year"),
            t("去年同期排名", "rank a year earlier"),
        ]);
    }
    header.extend(unit_header(rep));
    if groups {
        header.extend([t("所属组", "group"), t("组内排名", "rank in group")]);
    }
    header.push(rep.name(0).to_string());
    if yoy_score {
        header.extend([
            t("去年同期得分", "score a year earlier"),
            t("得分同比变化", "score change on a year"),
        ]);
    }
    if trends.is_some() {
        header.push(t("趋势", "trend"));
    }
    if any_note {
        header.push(t("说明", "note"));
    }
    let rows = units
        .iter()
        .map(|&u| {
            let mut row = vec![Cell::Int(rep.rank(u, 0))];
            if let Some(q) = rep.prev {
                row.extend([change_cell(rep, u, q), Cell::Int(rep.prev_rank(u))]);
            }
            if let Some(q) = year_ago {
                let before = Some(rep.r.rank(q, u, 0)).filter(|&k| k > 0);
                row.extend([change_cell(rep, u, q), Cell::Int(before)]);
            }
            row.extend(unit_cells(rep, u));
            if groups {
                let g = rep.r.panel.group_name(u, rep.lang).unwrap_or("");
                row.extend([text(g), Cell::Int(rep.group_rank(u))]);
            }
            row.push(Cell::Score(rep.score(u, 0)));
            if let (true, Some(q), Some(tr)) = (yoy_score, year_ago, &trends) {
                let before = rep.r.scores[[q, u, 0]];
                let d = tr.yoy(rep.p, u, 0);
                row.extend([
                    Cell::Score(before.is_finite().then_some(before)),
                    Cell::Score(d.is_finite().then_some(d)),
                ]);
            }
            if let Some(tr) = &trends {
                // The arrow and the class in words (see crate::trend for the rule).
                row.push(text(tr.class_of(rep.p, u, 0).map_or(String::new(), |c| {
                    format!("{} {}", c.arrow(), c.label(rep.lang))
                })));
            }
            if any_note {
                row.push(text(rep.status_note(u).unwrap_or("")));
            }
            row
        })
        .collect();
    Sheet {
        max_width: 40,
        ..Sheet::new(name, header, rows)
    }
}

/// Score and rank per dimension.
fn dimensions(rep: &Report, name: &'static str) -> Sheet {
    let dims = rep.dims();
    let mut header = vec![rep.t("排名", "rank").to_string()];
    header.extend(unit_header(rep));
    for &d in &dims {
        header.push(rep.name(d).to_string());
        header.push(format!("{}{}", rep.name(d), rep.t(" 排名", " rank")));
    }
    let rows = rep
        .units()
        .iter()
        .copied()
        .map(|u| {
            let mut row = vec![Cell::Int(rep.rank(u, 0))];
            row.extend(unit_cells(rep, u));
            for &d in &dims {
                row.push(Cell::Score(rep.score(u, d)));
                row.push(Cell::Int(rep.rank(u, d)));
            }
            row
        })
        .collect();
    Sheet {
        freeze_cols: 3,
        ..Sheet::new(name, header, rows)
    }
}

/// An indicator's name with its unit of measure.
fn with_measure(rep: &Report, node: usize) -> String {
    let unit = rep.fw.nodes[node]
        .indicator()
        .map_or("", |s| s.unit.get(rep.lang));
    match (unit.is_empty(), rep.zh()) {
        (true, _) => rep.name(node).to_string(),
        (false, true) => format!("{}（{unit}）", rep.name(node)),
        (false, false) => format!("{} ({unit})", rep.name(node)),
    }
}

/// Imputed cells above which the raw values sheet shades them without a note on each: the
/// imputed values sheet lists every one with its method, and tens of thousands of notes are
/// no reading (Excel draws each), nor small (at grid scale, 37,860 notes took 200 MB to write).
pub const NOTES_MOST: usize = 1000;

/// One row per unit, one column per indicator: scores (`raw` false) or raw values, imputed
/// ones shaded — and, on raw values, filled in and noted with the method (up to
/// [`NOTES_MOST`] imputed cells).
fn indicators(rep: &Report, name: &'static str, raw: bool) -> Sheet {
    let inds = &rep.r.panel.indicators;
    let noted = raw && imputed_cells(rep).len() <= NOTES_MOST;
    let mut header = unit_header(rep);
    let first = header.len();
    header.extend(inds.iter().map(|&n| {
        if raw {
            with_measure(rep, n)
        } else {
            rep.name(n).to_string()
        }
    }));
    let mut imputed = BTreeMap::new();
    let rows = rep
        .units()
        .iter()
        .copied()
        .enumerate()
        .map(|(i, u)| {
            let mut row = unit_cells(rep, u);
            row.extend((0..inds.len()).map(|j| {
                let filled = imputed_value(rep, u, j);
                if filled.is_some() {
                    let note = noted.then(|| {
                        let m = filled_how(rep, u, j);
                        if rep.zh() {
                            format!("插补值（{m}）")
                        } else {
                            format!("imputed ({m})")
                        }
                    });
                    imputed.insert((i, first + j), note);
                }
                if raw {
                    Cell::Value(rep.raw(u, j).or(filled))
                } else {
                    Cell::Score(rep.score(u, inds[j]))
                }
            }));
            row
        })
        .collect();
    Sheet {
        freeze_cols: 2,
        imputed,
        ..Sheet::new(name, header, rows)
    }
}

/// Every imputed value: unit, indicator, period, value (shown as its raw-value column) and method.
fn imputed_list(rep: &Report, name: &'static str) -> Sheet {
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let mut header = unit_header(rep);
    header.extend([
        t("指标代码", "indicator id"),
        t("指标", "indicator"),
        t("计量单位", "unit of measure"),
        t("插补值", "imputed value"),
        t("插补方法", "method"),
    ]);
    let inds = &rep.r.panel.indicators;
    let units = rep.units();
    let cells = imputed_cells(rep);
    // Each column with an imputed cell, once (not once per cell: at grid scale that was
    // 37,000 sorts of 20,849 values).
    let columns: BTreeSet<usize> = cells.iter().map(|&(_, j, _)| j).collect();
    let column_shown: BTreeMap<usize, Shown> = columns
        .into_iter()
        .map(|j| {
            let col: Vec<f64> = units
                .iter()
                .filter_map(|&u| rep.raw(u, j).or(imputed_value(rep, u, j)))
                .collect();
            (j, shown(&col, 0))
        })
        .collect();
    let rows = cells
        .into_iter()
        .map(|(u, j, v)| {
            let node = inds[j];
            let spec = rep.fw.nodes[node].indicator();
            let mut row = unit_cells(rep, u);
            row.extend([
                text(&rep.fw.nodes[node].id),
                text(rep.name(node)),
                text(spec.map_or("", |s| s.unit.get(rep.lang))),
                Cell::Fixed(v, column_shown[&j]),
                text(filled_how(rep, u, j)),
            ]);
            row
        })
        .collect();
    Sheet {
        freeze_cols: 2,
        max_width: 40,
        ..Sheet::new(name, header, rows)
    }
}

/// Every node with its effective methods.
fn methodology(rep: &Report, name: &'static str) -> Sheet {
    let fw = rep.fw;
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let header = vec![
        t("层级", "level"),
        t("代码", "id"),
        t("名称", "name"),
        t("上级", "parent"),
        t("单位", "unit"),
        t("方向", "direction"),
        t("权重", "weight"),
        t("有效权重", "effective weight"),
        t("计算公式", "formula"),
        t("缺失值插补", "imputation"),
        t("异常值处理", "outlier treatment"),
        t("标准化", "normalisation"),
        t("聚合方法", "aggregation"),
    ];
    let rows = rep
        .node_rows()
        .into_iter()
        .map(|r| {
            let n = &fw.nodes[r.node];
            vec![
                text(r.level),
                text(&n.id),
                text(rep.name(r.node)),
                text(n.parent.map_or("", |p| fw.nodes[p].id.as_str())),
                text(r.unit),
                text(r.direction),
                if r.node == 0 {
                    text("")
                } else {
                    Cell::Value(Some(n.weight))
                },
                Cell::Pct(r.effective),
                text(r.expr.trim()),
                text(r.impute),
                text(r.treat),
                text(r.normalise),
                text(r.aggregate),
            ]
        })
        .collect();
    Sheet {
        freeze_cols: 3,
        max_width: 50,
        ..Sheet::new(name, header, rows)
    }
}

/// Key–value facts about the report: index, periods, counts, rules, files, notes, warnings.
fn about(rep: &Report, name: &'static str, imputed_sheet: &str) -> Sheet {
    let fw = rep.fw;
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let imputed = imputed_cells(rep).len();
    let unnoted = match (imputed > NOTES_MOST, rep.zh()) {
        (false, _) => String::new(),
        (true, true) => format!("（多于 {NOTES_MOST} 个，原始值表不逐格加批注）"),
        (true, false) => {
            format!(" (more than {NOTES_MOST}: no note on each in the raw value sheet)")
        }
    };
    let imputed_text = match (imputed, rep.zh()) {
        (0, _) => "0".to_string(),
        (n, true) => {
            format!(
                "{n} 个：在指标得分与原始值表中以浅黄色底纹标出，逐项列于“{imputed_sheet}”表{unnoted}"
            )
        }
        (n, false) => format!(
            "{n}: shaded light yellow in the indicator score and raw value sheets, listed on the “{imputed_sheet}” sheet{unnoted}"
        ),
    };
    let mut about: Vec<(String, String)> = vec![
        (t("指数", "index"), rep.name(0).to_string()),
        (t("统计期", "period"), rep.period_name().to_string()),
        (
            t("比较期", "previous period"),
            rep.prev_name().unwrap_or("").to_string(),
        ),
        (t("单位数", "units"), rep.units().len().to_string()),
        (t("维度数", "dimensions"), rep.dims().len().to_string()),
        (
            t("指标数", "indicators"),
            rep.r.panel.indicators.len().to_string(),
        ),
        (t("插补值", "imputed values"), imputed_text),
        (
            t("单位筛选", "screening"),
            describe::screen(&fw.defaults.screen, rep.lang),
        ),
        (t("排名规则", "ranking"), rep.rank_rule()),
        (t("框架文件", "framework"), rep.framework_path.clone()),
        (
            t("框架 sha256", "framework sha256"),
            rep.framework_sha.clone(),
        ),
        (
            t("kapok 版本", "kapok version"),
            env!("CARGO_PKG_VERSION").into(),
        ),
    ];
    // Change and trend: the comparison a year earlier, the trend rule and the headline.
    if let Some(tr) = rep.trends() {
        if let Some(q) = tr.year_ago[rep.p] {
            about.insert(
                3,
                (
                    t("同比比较期", "a year earlier"),
                    rep.r.panel.periods[q].clone(),
                ),
            );
        }
        about.push((
            t("趋势", "trend"),
            crate::trend::legend(tr.rule.window, tr.rule.t, !tr.comparable, rep.lang),
        ));
        about.push((t("摘要", "headline"), rep.headline()));
    }
    if let Some(rb) = &rep.robustness {
        let a = &rb.analysis;
        let settings: Vec<String> = super::robustness::settings(&rb.unc)
            .iter()
            .map(|s| s.text(rep.lang))
            .collect();
        about.push((
            t("稳健性分析设定", "robustness inputs"),
            settings.join(if rep.zh() { "；" } else { "; " }),
        ));
        about.push((
            t("稳健性模拟次数", "robustness runs"),
            a.plan.runs.len().to_string(),
        ));
        about.push((t("随机种子", "seed"), a.plan.seed.to_string()));
        about.push((
            t("抽样方式", "sampling"),
            a.plan.sampling.map_or("", |s| s.name()).to_string(),
        ));
        if let Some((n, _)) = &rb.sensitivity {
            about.push((
                t(
                    "敏感度分析（Saltelli 设计）",
                    "sensitivity (Saltelli design)",
                ),
                format!("N = {n}, {} runs", n * (rb.unc.inputs.len() + 2)),
            ));
        }
        for m in rb.messages() {
            about.push((t("名次稳健性", "rank stability"), m.text(rep.lang)));
        }
    }
    for n in rep.period_notes() {
        about.push((t("本期说明", "note"), n));
    }
    for w in rep.warnings {
        about.push((t("计算提示", "warning"), w.clone()));
    }
    let rows = about
        .into_iter()
        .map(|(k, v)| vec![text(k), text(v)])
        .collect();
    Sheet {
        max_width: 100,
        filter: false,
        ..Sheet::new(name, vec![t("项目", "key"), t("内容", "value")], rows)
    }
}

/// The workbook's sheets, each made when the one before has been written (made together
/// first, they added 60–80 MB to the grid report's peak).
fn sheets<'r>(rep: &'r Report) -> impl Iterator<Item = Sheet> + 'r {
    let n = sheet_names(rep.zh());
    let main: [fn(&Report, [&'static str; 7]) -> Sheet; 7] = [
        |rep, n| ranking(rep, n[0]),
        |rep, n| dimensions(rep, n[1]),
        |rep, n| indicators(rep, n[2], false),
        |rep, n| indicators(rep, n[3], true),
        |rep, n| imputed_list(rep, n[4]),
        |rep, n| methodology(rep, n[5]),
        |rep, n| about(rep, n[6], n[4]),
    ];
    let [ranks, sens] = robustness_sheet_names(rep.zh());
    let robust = rep.robustness.iter().flat_map(move |rb| {
        let intervals = std::iter::once_with(move || rank_intervals(rep, rb, ranks));
        let indices = rb.sensitivity.iter();
        intervals.chain(indices.map(move |(_, s)| sensitivity(rep, rb, s, sens)))
    });
    main.into_iter().map(move |f| f(rep, n)).chain(robust)
}

/// The names of the sheets a report with a robustness analysis adds: the rank statistics
/// and (with two or more uncertain inputs) the sensitivity indices.
pub fn robustness_sheet_names(zh: bool) -> [&'static str; 2] {
    if zh {
        ["名次区间", "敏感度"]
    } else {
        ["rank intervals", "sensitivity"]
    }
}

/// Each unit's rank statistics over the robustness runs (as `kapok robustness` writes them
/// to ranks.csv), in nominal order.
fn rank_intervals(rep: &Report, rb: &super::robustness::Robustness, name: &'static str) -> Sheet {
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let a = &rb.analysis;
    let mut header = vec![t("排名", "rank")];
    header.extend(unit_header(rep));
    header.extend([
        t("名次区间下限（5%）", "q5"),
        t("名次区间上限（95%）", "q95"),
        t("中位名次", "median"),
        t("平均名次", "mean"),
        t("最好名次", "min"),
        t("最差名次", "max"),
        t("有效模拟次数", "runs"),
    ]);
    let rows = rep
        .units()
        .iter()
        .copied()
        .filter_map(|u| {
            let i = a.units.iter().position(|k| *k == rep.r.panel.units[u])?;
            let s = a.rank_stats[i]?;
            let mut row = vec![Cell::Int(Some(s.nominal).filter(|&k| k > 0))];
            row.extend(unit_cells(rep, u));
            let v = |x: f64| Cell::Value(x.is_finite().then_some(x));
            let k = |x: u32| Cell::Int((s.runs > 0).then_some(x));
            row.extend([
                v(s.q5),
                v(s.q95),
                v(s.median),
                v(s.mean),
                k(s.min),
                k(s.max),
                Cell::Int(Some(s.runs as u32)),
            ]);
            Some(row)
        })
        .collect();
    Sheet {
        freeze_cols: 3,
        ..Sheet::new(name, header, rows)
    }
}

/// The sensitivity indices of each uncertain input (as sensitivity.csv), with the reader's
/// name of the input and its interaction share.
fn sensitivity(
    rep: &Report,
    rb: &super::robustness::Robustness,
    sens: &[crate::robustness::Sensitivity],
    name: &'static str,
) -> Sheet {
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let header = vec![
        t("设定", "input"),
        t("说明", "description"),
        t("一阶指数 Si", "si"),
        "si_q5".into(),
        "si_q95".into(),
        t("总效应指数 STi", "sti"),
        "sti_q5".into(),
        "sti_q95".into(),
        t("交互部分 STi − Si", "interaction (sti − si)"),
    ];
    let rows = sens
        .iter()
        .map(|s| {
            let v = |x: f64| Cell::Value(x.is_finite().then_some(x));
            vec![
                text(s.input.clone()),
                text(
                    super::robustness::setting_of(&rb.unc, &s.input)
                        .map_or_else(String::new, |st| st.text(rep.lang)),
                ),
                v(s.si),
                v(s.si_q5),
                v(s.si_q95),
                v(s.sti),
                v(s.sti_q5),
                v(s.sti_q95),
                v(s.sti - s.si),
            ]
        })
        .collect();
    Sheet {
        max_width: 40,
        ..Sheet::new(name, header, rows)
    }
}

/// How each column's numbers are shown: scores and values by [`shown`] over the column.
fn column_shown(sheet: &Sheet) -> Vec<Shown> {
    (0..sheet.header.len())
        .map(|c| {
            let (mut values, mut min_decimals) = (Vec::new(), 0);
            for row in &sheet.rows {
                match row.get(c) {
                    Some(Cell::Score(v)) => {
                        values.extend(*v);
                        min_decimals = SCORE_DECIMALS;
                    }
                    Some(Cell::Value(v)) => values.extend(*v),
                    _ => {}
                }
            }
            shown(&values, min_decimals)
        })
        .collect()
}

/// The cell formats of a workbook, made once each.
struct Formats {
    int: Format,
    change: Format,
    pct: Format,
    imputed: Format,
    numbers: BTreeMap<(Shown, bool), Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            int: Format::new().set_num_format("0"),
            change: Format::new().set_num_format(CHANGE_FORMAT),
            pct: Format::new().set_num_format("0.00%"),
            imputed: Format::new().set_background_color(IMPUTED_FILL),
            numbers: BTreeMap::new(),
        }
    }

    /// The format of a number shown as `s`, shaded when imputed.
    fn number(&mut self, s: Shown, imputed: bool) -> &Format {
        self.numbers.entry((s, imputed)).or_insert_with(|| {
            let f = Format::new().set_num_format(s.format());
            if imputed {
                f.set_background_color(IMPUTED_FILL)
            } else {
                f
            }
        })
    }

    /// The format of `style`.
    fn of(&mut self, style: Style) -> &Format {
        match style {
            Style::Int => &self.int,
            Style::Change => &self.change,
            Style::Pct => &self.pct,
            Style::Blank => &self.imputed,
            Style::Number(s, imputed) => self.number(s, imputed),
        }
    }
}

/// The format a cell is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Style {
    Int,
    Change,
    Pct,
    /// An imputed cell without a value: shaded.
    Blank,
    /// A number shown as its [`Shown`] says, shaded when imputed.
    Number(Shown, bool),
}

/// The style of `cell` in a column shown as `col` (`None`: text, or nothing written).
fn style(cell: &Cell, col: Shown, imputed: bool) -> Option<Style> {
    match cell {
        Cell::Text(_) | Cell::Int(None) => None,
        Cell::Int(Some(_)) => Some(Style::Int),
        Cell::Change(_) => Some(Style::Change),
        Cell::Pct(v) => v.is_finite().then_some(Style::Pct),
        Cell::Score(None) | Cell::Value(None) => imputed.then_some(Style::Blank),
        Cell::Score(Some(_)) | Cell::Value(Some(_)) => Some(Style::Number(col, imputed)),
        Cell::Fixed(_, s) => Some(Style::Number(*s, imputed)),
    }
}

/// The style most of a column's cells have (as they are when not imputed), if any: the
/// column's format, which its cells of that style take without a format of their own (one
/// lookup of a cell's format, a hash of the whole `Format`, was a fifth of the workbook's time
/// at grid scale). None for a column with text in it: a cell written without a format takes
/// its column's, and the text would take a number format it never had.
fn column_style(sheet: &Sheet, c: usize, col: Shown) -> Option<Style> {
    let mut counts: BTreeMap<Style, usize> = BTreeMap::new();
    for row in &sheet.rows {
        match row.get(c) {
            Some(Cell::Text(t)) if !t.is_empty() => return None,
            Some(cell) => {
                if let Some(s) = style(cell, col, false) {
                    *counts.entry(s).or_default() += 1;
                }
            }
            None => {}
        }
    }
    // The most common; of equally common ones, the first in `Style`'s order.
    let most = counts.values().copied().max()?;
    counts.into_iter().find(|&(_, n)| n == most).map(|(s, _)| s)
}

/// Writes one cell, without a format of its own when it has its column's style (`column`),
/// and records its width as shown in `widest`.
fn write_cell(
    ws: &mut Worksheet,
    (r, c): (u32, u16),
    cell: &Cell,
    (col, column): (Shown, Option<Style>),
    imputed: bool,
    fmt: &mut Formats,
    widest: &mut Widest,
) -> Result<(), XlsxError> {
    let Some(style) = style(cell, col, imputed) else {
        if let Cell::Text(s) = cell {
            if !s.is_empty() {
                ws.write_string(r, c, s)?;
            }
            widest.chars(s.lines().map(UnicodeWidthStr::width).max().unwrap_or(0));
        }
        return Ok(());
    };
    let v = match (cell, style) {
        (_, Style::Blank) => {
            ws.write_blank(r, c, fmt.of(style))?;
            return Ok(());
        }
        (Cell::Int(Some(v)), _) => {
            widest.chars(digits(u64::from(*v)));
            f64::from(*v)
        }
        (Cell::Change(k), _) => {
            widest.chars(digits(k.unsigned_abs()) + 1);
            *k as f64
        }
        (Cell::Pct(v), _) => {
            widest.chars(format!("{:.2}%", v * 100.0).len());
            *v
        }
        (Cell::Score(Some(v)) | Cell::Value(Some(v)), _) => widest.number(*v, col),
        (Cell::Fixed(v, s), _) => widest.number(*v, *s),
        _ => unreachable!("every other cell has no style"),
    };
    if column == Some(style) {
        ws.write_number(r, c, v)?;
    } else {
        ws.write_number_with_format(r, c, v, fmt.of(style))?;
    }
    Ok(())
}

/// The number of decimal digits of `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The widest of a column's cells as shown, in character cells (CJK count 2), gathered as
/// the cells are written. A number's text with a fixed number of decimals is longest, of its
/// sign, where its magnitude is largest (rounding keeps the order, and a longer whole part is
/// the only way to a longer text), so only each way of showing's largest value and largest
/// negative one are ever formatted: formatting every cell was an eighth of the workbook's time
/// at grid scale.
#[derive(Default)]
struct Widest {
    /// The widest cell that is not a number shown with decimals.
    chars: usize,
    /// Per way of showing: the largest magnitude of a value with its sign bit clear, and of
    /// one with it set (`-0.0` is shown `-0.00`).
    numbers: Vec<(Shown, Option<f64>, Option<f64>)>,
}

impl Widest {
    /// A cell of `width` character cells.
    fn chars(&mut self, width: usize) {
        self.chars = self.chars.max(width);
    }

    /// A number shown as `s`; returns it.
    fn number(&mut self, v: f64, s: Shown) -> f64 {
        if !v.is_finite() {
            self.chars(s.text(v).len());
            return v;
        }
        let at = match self.numbers.iter().position(|n| n.0 == s) {
            Some(at) => at,
            None => {
                self.numbers.push((s, None, None));
                self.numbers.len() - 1
            }
        };
        let entry = &mut self.numbers[at];
        let most = if v.is_sign_negative() {
            &mut entry.2
        } else {
            &mut entry.1
        };
        if most.is_none_or(|m| v.abs() > m) {
            *most = Some(v.abs());
        }
        v
    }

    /// The widest cell.
    fn width(&self) -> usize {
        let numbers = self.numbers.iter().flat_map(|&(s, pos, neg)| {
            let pos = pos.map(|m| s.text(m).len());
            pos.into_iter().chain(neg.map(|m| s.text(-m).len()))
        });
        numbers.fold(self.chars, usize::max)
    }
}

fn write_sheet(
    wb: &mut Workbook,
    sheet: &Sheet,
    head: &Format,
    fmt: &mut Formats,
) -> Result<(), XlsxError> {
    // Rows are written in order, so a sheet holds one row, not every cell (at grid scale, a
    // sheet's cells took hundreds of megabytes); the workbook is the same but for the rows'
    // optional `spans` attribute.
    let ws = wb.add_worksheet_with_low_memory()?;
    ws.set_name(sheet.name)?;
    ws.set_default_note_author("kapok");
    let shown = column_shown(sheet);
    let mut widths: Vec<Widest> = sheet
        .header
        .iter()
        .map(|h| Widest {
            chars: UnicodeWidthStr::width(h.as_str()).min(24),
            numbers: Vec::new(),
        })
        .collect();
    // Set before any row is written: a row takes its columns' formats as it is written out.
    let columns: Vec<Option<Style>> = (0..sheet.header.len())
        .map(|c| column_style(sheet, c, shown[c]))
        .collect();
    for (c, style) in columns.iter().enumerate() {
        if let Some(style) = style {
            ws.set_column_format(c as u16, fmt.of(*style))?;
        }
    }
    for (c, h) in sheet.header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, head)?;
    }
    // The imputed cells, in the order the cells are written (a lookup per cell was a search
    // of the map).
    let mut marks = sheet.imputed.iter().peekable();
    for (i, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            while marks.next_if(|(at, _)| **at < (i, c)).is_some() {}
            let mark = marks
                .next_if(|(at, _)| **at == (i, c))
                .map(|(_, note)| note);
            let pos = (i as u32 + 1, c as u16);
            let column = (shown[c], columns[c]);
            write_cell(ws, pos, cell, column, mark.is_some(), fmt, &mut widths[c])?;
            if let Some(Some(note)) = mark {
                ws.insert_note(pos.0, pos.1, &Note::new(note).add_author_prefix(false))?;
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        let w = (w.width() + 2).clamp(6, sheet.max_width);
        ws.set_column_width(c as u16, w as f64)?;
    }
    ws.set_freeze_panes(1, sheet.freeze_cols)?;
    if sheet.filter && !sheet.rows.is_empty() {
        ws.autofilter(
            0,
            0,
            sheet.rows.len() as u32,
            sheet.header.len().saturating_sub(1) as u16,
        )?;
    }
    Ok(())
}

fn write(rep: &Report, scratch: Option<&Path>) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    // Deflate level 3, as Excel itself writes: the grid report's workbook is made in 0.7× the
    // time of the default level 6, a few per cent larger.
    wb.set_zip_compression_level(3);
    if let Some(dir) = scratch {
        wb.set_tempdir(dir)?;
    }
    let props = crate::io::reproducible_properties()?.set_title(rep.name(0));
    wb.set_properties(&props);
    let head = Format::new()
        .set_bold()
        .set_background_color("F2F2F2")
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let mut fmt = Formats::new();
    for sheet in sheets(rep) {
        write_sheet(&mut wb, &sheet, &head, &mut fmt)?;
    }
    wb.save_to_buffer()
}

/// The workbook's bytes. Each sheet keeps one row in memory: the rows written go to a
/// scratch file (in `scratch`, else the system's temporary directory), removed once the
/// workbook is made.
pub fn workbook(rep: &Report, scratch: Option<&Path>) -> Result<Vec<u8>, Error> {
    write(rep, scratch).map_err(|e| Error::Data(format!("writing results.xlsx: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimals(values: &[f64]) -> usize {
        shown(values, 0).decimals
    }

    #[test]
    fn a_column_takes_the_format_most_of_its_cells_have() {
        let two = Shown {
            decimals: 2,
            thousands: false,
        };
        let three = Shown { decimals: 3, ..two };
        let column = |cells: Vec<Cell>| {
            let rows = cells.into_iter().map(|c| vec![c]).collect();
            column_style(&Sheet::new("s", vec!["h".into()], rows), 0, two)
        };
        // Ranks, with an unranked unit (no cell) and an empty text (none either).
        let ranks = vec![
            Cell::Int(Some(1)),
            Cell::Int(None),
            text(""),
            Cell::Int(Some(2)),
        ];
        assert_eq!(column(ranks), Some(Style::Int));
        // Text among them (a unit new this period): no column format, which the text would
        // take.
        let changes = vec![Cell::Change(1), text("new"), Cell::Change(-2)];
        assert_eq!(column(changes), None);
        // Values shown as the column is, and one listed with its own decimals.
        let values = vec![
            Cell::Value(Some(1.0)),
            Cell::Fixed(2.0, three),
            Cell::Value(None),
            Cell::Value(Some(3.0)),
        ];
        assert_eq!(column(values), Some(Style::Number(two, false)));
        // Equally common: the first in order; text only: none.
        assert_eq!(
            column(vec![Cell::Fixed(2.0, three), Cell::Pct(0.5)]),
            Some(Style::Pct)
        );
        assert_eq!(column(vec![Cell::Pct(f64::NAN)]), None);
        // An imputed cell is shaded: never its column's unshaded style; a missing one a blank.
        assert_eq!(
            style(&Cell::Value(Some(1.0)), two, true),
            Some(Style::Number(two, true))
        );
        assert_eq!(style(&Cell::Score(None), two, true), Some(Style::Blank));
        assert_eq!(style(&Cell::Score(None), two, false), None);
    }

    /// The width each cell's own text gives, as the workbook once measured every cell.
    fn widest_by_text(values: &[f64], s: Shown) -> usize {
        values.iter().map(|&v| s.text(v).len()).max().unwrap_or(0)
    }

    fn widest_by_extremes(values: &[f64], s: Shown) -> usize {
        let mut w = Widest::default();
        for &v in values {
            assert_eq!(w.number(v, s).to_bits(), v.to_bits());
        }
        w.width()
    }

    #[test]
    fn a_column_is_as_wide_as_its_widest_value_shown() {
        let two = Shown {
            decimals: 2,
            thousands: false,
        };
        // 9.996 is shown 10.00, wider than 9.99; a small negative value -0.00.
        assert_eq!(widest_by_extremes(&[9.99, 9.996], two), 5);
        assert_eq!(widest_by_extremes(&[0.5, -0.001], two), 5);
        assert_eq!(widest_by_extremes(&[-0.0], two), 5);
        let grouped = Shown {
            decimals: 0,
            thousands: true,
        };
        assert_eq!(widest_by_extremes(&[999.6, -12.0], grouped), 5, "1,000");
        assert_eq!(widest_by_extremes(&[f64::NAN, 1.0], two), 4);
        assert_eq!(widest_by_extremes(&[], two), 0);
        // Values shown two ways: the widest of either.
        let mut w = Widest::default();
        w.number(123.4, two);
        w.number(1.0, Shown { decimals: 6, ..two });
        w.chars(3);
        assert_eq!(w.width(), 8);
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(u64::from(u32::MAX)), 10);
    }

    proptest::proptest! {
        #[test]
        fn a_column_width_from_extremes_is_the_widest_text(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    -1e7..1e7f64,
                    // Halfway between two shown values, where rounding decides the text.
                    proptest::strategy::Strategy::prop_map(
                        (-10_000_000i64..10_000_000, 0..7i32),
                        |(i, k)| (i as f64 + 0.5) / 10f64.powi(k),
                    ),
                    proptest::num::f64::ANY,
                ],
                0..40,
            ),
            decimals in 0..=MAX_DECIMALS,
            thousands: bool,
        ) {
            let s = Shown { decimals, thousands };
            proptest::prop_assert_eq!(
                widest_by_extremes(&values, s),
                widest_by_text(&values, s)
            );
        }
    }

    #[test]
    fn a_column_is_shown_to_three_significant_figures_of_its_median() {
        assert_eq!(decimals(&[0.0316]), 4, "0.0316, not 0.03");
        assert_eq!(decimals(&[0.0316, 0.02, 0.05]), 4);
        assert_eq!(decimals(&[5.2, 3.1, 7.0]), 2);
        assert_eq!(decimals(&[1234.0, 987.0, 2000.0]), 0);
        assert_eq!(decimals(&[45.0, 50.0, 12.0]), 1);
        // The median decides, not a stray small value; zeros and NaN are no magnitude.
        assert_eq!(decimals(&[0.001, 40.0, 50.0, 0.0, f64::NAN]), 1);
        assert_eq!(decimals(&[1e-12]), MAX_DECIMALS);
        assert_eq!(decimals(&[]), 0);
        assert_eq!(decimals(&[0.0, 0.0]), 0);
        assert_eq!(shown(&[45.0, 50.0], SCORE_DECIMALS).decimals, 2);
    }

    #[test]
    fn large_values_have_thousands_separated() {
        let s = shown(&[12345.678, 9000.0], 0);
        assert_eq!(
            s,
            Shown {
                decimals: 0,
                thousands: true
            }
        );
        assert_eq!(s.format(), "#,##0");
        assert_eq!(s.text(12345.678), "12,346");
        assert_eq!(s.text(-1234567.0), "-1,234,567");
        let s = Shown {
            decimals: 2,
            thousands: true,
        };
        assert_eq!(s.format(), "#,##0.00");
        assert_eq!(s.text(999.5), "999.50");
        assert_eq!(
            Shown {
                decimals: 4,
                thousands: false
            }
            .format(),
            "0.0000"
        );
    }
}
