//! The message table: every warning and note that can reach a report, with its text for
//! readers in Chinese and in English side by side, and the English original for logs.
//!
//! Readers' texts name indicators and units by their display names, without ids or backticks;
//! the log text (`Display`) keeps the ids, as standard error always showed them. One arm of
//! `Warning::texts` or `Note::texts` writes both languages, so neither can be left out.

use std::fmt;

use crate::data::list;
use crate::framework::{Framework, Lang};

/// At most this many items of a list are written in a reader's text.
const SHOWN: usize = 10;

/// One indicator's values beyond its base or frozen normalisation bounds (see
/// [`Warning::OutsideBounds`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Beyond {
    /// The indicator's node index.
    pub node: usize,
    /// Its id (for the log).
    pub id: String,
    /// How many values, over all periods.
    pub values: usize,
    /// The periods with such values.
    pub periods: Vec<String>,
    /// Capped to the bounds (`true`) or scored beyond them.
    pub capped: bool,
}

/// A warning of the run (data reading and evaluation, over all periods).
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// An indicator has no value for any unit in some periods (e.g. a year-on-year ratio in the
    /// first year): it is left out of those periods' aggregation.
    EmptyIndicator {
        /// The indicator's node index.
        node: usize,
        /// Its id (for the log).
        id: String,
        /// The periods.
        periods: Vec<String>,
    },
    /// Unit-periods removed by screening (`unit period` each).
    Screened(Vec<String>),
    /// Unit-periods without an index score (too few indicators present).
    NoIndexScore(Vec<String>),
    /// Calendar periods inside the data's range that no source has.
    PeriodGap {
        /// First period of the data.
        from: String,
        /// Last period of the data.
        to: String,
        /// The periods without data.
        missing: Vec<String>,
    },
    /// Units without a row in some periods that other units have (`key (p1, p2, …)` each).
    UnitHoles(Vec<String>),
    /// A periodic source has no row for unit-periods that another source has.
    SourceRows {
        /// The source's name.
        source: String,
        /// `unit period` each.
        missing: Vec<String>,
    },
    /// Unit keys with spaces around them were trimmed.
    TrimmedKeys {
        /// The source's name.
        source: String,
        /// How the log names the source.
        what: String,
        /// Each key with where it is.
        keys: Vec<String>,
    },
    /// Values of an indicator lay beyond its base or frozen normalisation bounds.
    OutsideBounds(Vec<Beyond>),
    /// A text column was read as numbers under the source's rules (separators, percentages,
    /// missing markers).
    ReadAsNumbers {
        /// The source's name.
        source: String,
        /// How the log names the source.
        what: String,
        /// The column.
        column: String,
        /// What was read how, and where first (for the log).
        detail: String,
    },
    /// Under `--per quarter|year`, unit-periods that lack months, published anyway under the
    /// `[rollup] incomplete` rule `prorate` or `accept`. Every one is listed (a period lacking
    /// the same months for every unit is one item).
    IncompletePeriods {
        /// `prorate` or `accept`.
        rule: String,
        /// How many unit-periods.
        count: usize,
        /// Each flagged period: unit key (empty: every unit), period, missing months.
        items: Vec<(String, String, Vec<String>)>,
    },
    /// Under `--per quarter|year` and `incomplete = "refuse"`, periods the data start or end
    /// inside of (so incomplete for every unit), left out.
    PartialPeriodsLeftOut {
        /// Each period with its missing months.
        periods: Vec<(String, Vec<String>)>,
        /// The data's first month (or quarter).
        first: String,
        /// The data's last month (or quarter).
        last: String,
        /// The latest period that is published, if any.
        latest: Option<String>,
    },
}

/// A unit's reason for having no rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusNote {
    /// Screened out for too little data.
    Screened,
    /// The index could not be computed.
    NoIndex,
    /// Scored, but outside the `[rank] only` condition.
    NotRanked,
}

/// A note on the reported period.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// An indicator has no value in the period and is left out of the aggregation.
    IndicatorEmpty {
        /// The indicator's node index.
        node: usize,
    },
    /// Units lack an indicator; some or none were imputed.
    Missing {
        /// The indicator's node index.
        node: usize,
        /// Units without a value.
        missing: usize,
        /// Values filled by imputation.
        imputed: usize,
    },
    /// Missing values of an indicator were filled from other periods of the same units
    /// (panel imputation): which units, how, and from which periods.
    FilledFromPeriods {
        /// The indicator's node index.
        node: usize,
        /// The units' names in the report's language.
        units: Vec<String>,
        /// The imputation step that filled them (`carry_forward`, `carry_backward`,
        /// `interpolate`).
        method: crate::pipeline::Impute,
        /// The periods the values came from: one, or the two neighbours of an interpolation.
        from: Vec<String>,
    },
    /// Values of an indicator were winsorised.
    Winsorised {
        /// The indicator's node index.
        node: usize,
        /// How many values.
        values: usize,
    },
    /// Winsorising did not remove an indicator's skew, so it was log-transformed.
    LogTransformed {
        /// The indicator's node index.
        node: usize,
    },
    /// A unit has no rank.
    Unit {
        /// The unit's key.
        key: String,
        /// Its name in the report's language.
        name: String,
        /// Why.
        status: StatusNote,
    },
    /// Values of an indicator in this period lay beyond its base or frozen bounds.
    OutsideBounds {
        /// The indicator's node index.
        node: usize,
        /// How many values.
        values: usize,
        /// Capped to the bounds (`true`) or scored beyond them.
        capped: bool,
    },
    /// Scores are normalised within each period: comparable between units of a period, not
    /// across periods.
    ScoresPerPeriod,
    /// Texts shown in the other language because the framework or the data give none in the
    /// report's language.
    Untranslated {
        /// Framework texts without a translation (names of nodes, the description, units of
        /// measurement), as shown.
        texts: Vec<String>,
        /// How many unit names have none.
        units: usize,
    },
}

/// `items` as a reader's list: at most [`SHOWN`], then how many more, in `lang`.
fn items<T: fmt::Display>(items: &[T], lang: Lang) -> String {
    let shown: Vec<String> = items.iter().take(SHOWN).map(T::to_string).collect();
    let more = items.len().saturating_sub(SHOWN);
    match (lang, more) {
        (_, 0) => shown.join(if lang == Lang::Zh { "、" } else { ", " }),
        (Lang::Zh, _) => format!("{} 等 {} 项", shown.join("、"), items.len()),
        (Lang::En, k) => format!("{} and {k} more", shown.join(", ")),
    }
}

/// `[zh, en]` picked by `lang`.
fn pick([zh, en]: [String; 2], lang: Lang) -> String {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

impl Warning {
    /// The text for readers in `lang` (names from `fw`).
    pub fn text(&self, fw: &Framework, lang: Lang) -> String {
        pick(self.texts(fw, lang), lang)
    }

    /// The texts for readers, `[zh, en]`; lists are written in `lang`'s style and indicators
    /// named in `lang`.
    fn texts(&self, fw: &Framework, lang: Lang) -> [String; 2] {
        let l = |v: &[String]| items(v, lang);
        match self {
            Warning::EmptyIndicator { node, periods, .. } => {
                let name = fw.nodes[*node].name.get(lang);
                let n = periods.len();
                [
                    format!(
                        "指标“{name}”在 {n} 个期间没有任何单位的数据（{}），这些期间不计入聚合。",
                        l(periods)
                    ),
                    format!(
                        "Indicator “{name}” has no value for any unit in {n} period(s) ({}); it is left out of those periods' aggregation.",
                        l(periods)
                    ),
                ]
            }
            Warning::Screened(hits) => [
                format!("{} 个单位-期间因数据不足未参评：{}。", hits.len(), l(hits)),
                format!(
                    "{} unit-period(s) screened out for too little data: {}.",
                    hits.len(),
                    l(hits)
                ),
            ],
            Warning::NoIndexScore(hits) => [
                format!(
                    "{} 个单位-期间因指标过少无法计算指数：{}。",
                    hits.len(),
                    l(hits)
                ),
                format!(
                    "{} unit-period(s) without an index score (too few indicators present): {}.",
                    hits.len(),
                    l(hits)
                ),
            ],
            Warning::PeriodGap { from, to, missing } => [
                format!(
                    "{from} 至 {to} 之间有 {} 个期间没有任何数据：{}。",
                    missing.len(),
                    l(missing)
                ),
                format!(
                    "{} period(s) between {from} and {to} have no data in any source: {}.",
                    missing.len(),
                    l(missing)
                ),
            ],
            Warning::UnitHoles(holes) => [
                format!(
                    "{} 个单位在其他单位有数据的部分期间缺少记录：{}。",
                    holes.len(),
                    l(holes)
                ),
                format!(
                    "{} unit(s) have no row in some periods that other units have: {}.",
                    holes.len(),
                    l(holes)
                ),
            ],
            Warning::SourceRows { source, missing } => [
                format!(
                    "数据源“{source}”缺少 {} 个单位-期间的记录，相应数值按缺失处理：{}。",
                    missing.len(),
                    l(missing)
                ),
                format!(
                    "Source “{source}” has no row for {} unit-period(s); their values are missing: {}.",
                    missing.len(),
                    l(missing)
                ),
            ],
            Warning::TrimmedKeys { source, keys, .. } => [
                format!(
                    "数据源“{source}”中有 {} 个单位代码带有多余空格，已去除。",
                    keys.len()
                ),
                format!(
                    "Source “{source}”: spaces around {} unit code(s) were removed.",
                    keys.len()
                ),
            ],
            Warning::OutsideBounds(beyond) => {
                let total: usize = beyond.iter().map(|b| b.values).sum();
                let each: Vec<String> = beyond
                    .iter()
                    .map(|b| {
                        let name = fw.nodes[b.node].name.get(lang);
                        match (lang, b.capped) {
                            (Lang::Zh, true) => format!("“{name}” {} 个（封顶）", b.values),
                            (Lang::Zh, false) => format!("“{name}” {} 个（延伸计分）", b.values),
                            (Lang::En, true) => format!("“{name}” {} (capped)", b.values),
                            (Lang::En, false) => format!("“{name}” {} (extended)", b.values),
                        }
                    })
                    .collect();
                [
                    format!(
                        "{} 项指标共有 {total} 个值超出标准化基准范围，按各指标规定的超界处理方式计分：{}。",
                        beyond.len(),
                        l(&each)
                    ),
                    format!(
                        "{total} value(s) of {} indicator(s) lie beyond their base or frozen normalisation bounds and are capped or scored beyond them, as each indicator declares: {}.",
                        beyond.len(),
                        l(&each)
                    ),
                ]
            }
            Warning::ReadAsNumbers { source, column, .. } => [
                format!(
                    "数据源“{source}”的“{column}”列中以文字书写的数字（千位分隔符、百分数、缺失标记等）已按数值读取，详见运行日志。"
                ),
                format!(
                    "Source “{source}”: numbers written as text in column “{column}” (thousands separators, percentages, missing markers) were read as numbers; the run's log has the details."
                ),
            ],
            Warning::IncompletePeriods { rule, count, items } => {
                let zh: Vec<String> = items
                    .iter()
                    .map(|(u, p, m)| match u.as_str() {
                        "" => format!("{p} 全部单位（缺 {}）", m.join("、")),
                        u => format!("{u} {p}（缺 {}）", m.join("、")),
                    })
                    .collect();
                let how = if rule == "prorate" {
                    "合计类数据按整期月数折算"
                } else {
                    "按现有月份计算"
                };
                [
                    format!(
                        "{count} 个单位-期间缺少月度数据，按 incomplete = \"{rule}\"（{how}）发布，请谨慎比较：{}。",
                        zh.join("；")
                    ),
                    format!("{}.", incomplete_en(rule, *count, items, |v| v.join("; "))),
                ]
            }
            Warning::PartialPeriodsLeftOut {
                periods,
                first,
                last,
                latest,
            } => {
                let names: Vec<String> = periods.iter().map(|(p, _)| p.clone()).collect();
                let zh: Vec<String> = periods
                    .iter()
                    .map(|(p, m)| format!("{p}（缺 {}）", m.join("、")))
                    .collect();
                let latest_zh = latest
                    .as_ref()
                    .map(|p| format!("最新发布期间为 {p}。"))
                    .unwrap_or_default();
                [
                    format!(
                        "数据范围为 {first} 至 {last}，{} 对所有单位均不完整，按 incomplete = \"refuse\" 不予发布：{}。{latest_zh}如需以现有月份发布，请使用 --incomplete prorate（合计值按整期折算）或 --incomplete accept，或在 [rollup] 中设置 incomplete。",
                        l(&names),
                        l(&zh)
                    ),
                    format!(
                        "{}.",
                        capitalise(&partial_en(periods, first, last, latest.as_ref(), l))
                    ),
                ]
            }
        }
    }
}

/// `s` with its first letter in upper case.
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The English text of [`Warning::IncompletePeriods`], lists written by `l`, without a final
/// full stop.
fn incomplete_en(
    rule: &str,
    count: usize,
    items: &[(String, String, Vec<String>)],
    l: impl Fn(&[String]) -> String,
) -> String {
    let en: Vec<String> = items
        .iter()
        .map(|(u, p, m)| match u.as_str() {
            "" => format!("{p} for every unit ({} missing)", m.join(", ")),
            u => format!("{u} {p} ({} missing)", m.join(", ")),
        })
        .collect();
    let how = if rule == "prorate" {
        "sums scaled to the whole period"
    } else {
        "from the months there are"
    };
    format!(
        "{count} unit-period(s) lack months and are published under incomplete = \"{rule}\" ({how}); compare them with care: {}",
        l(&en)
    )
}

/// The English text of [`Warning::PartialPeriodsLeftOut`], lists written by `l`, without a
/// final full stop.
fn partial_en(
    periods: &[(String, Vec<String>)],
    first: &str,
    last: &str,
    latest: Option<&String>,
    l: impl Fn(&[String]) -> String,
) -> String {
    let names: Vec<String> = periods.iter().map(|(p, _)| p.clone()).collect();
    let en: Vec<String> = periods
        .iter()
        .map(|(p, m)| format!("{p} ({} missing)", m.join(", ")))
        .collect();
    let latest = latest
        .map(|p| format!("; the latest period published is {p}"))
        .unwrap_or_default();
    format!(
        "the data run from {first} to {last}, so {} is incomplete for every unit and is left out under incomplete = \"refuse\": {}{latest}. To publish it from the months there are, use --incomplete prorate (sums scaled to the whole period) or --incomplete accept, or set `incomplete` in [rollup]",
        l(&names),
        l(&en)
    )
}

/// The English original, for logs and standard error.
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::EmptyIndicator { id, periods, .. } => write!(
                f,
                "indicator `{id}` has no value for any unit in {} period(s) ({}); it is left out of those periods' aggregation",
                periods.len(),
                list(periods)
            ),
            Warning::Screened(hits) => write!(
                f,
                "{} unit-period(s) removed by screening: {}",
                hits.len(),
                list(hits)
            ),
            Warning::NoIndexScore(hits) => write!(
                f,
                "{} unit-period(s) without an index score (too few indicators present): {}",
                hits.len(),
                list(hits)
            ),
            Warning::PeriodGap { from, to, missing } => write!(
                f,
                "{} period(s) between {from} and {to} have no data in any source: {}",
                missing.len(),
                list(missing)
            ),
            Warning::UnitHoles(holes) => write!(
                f,
                "{} unit(s) have no row in some periods that other units have: {}",
                holes.len(),
                list(holes)
            ),
            Warning::SourceRows { source, missing } => write!(
                f,
                "source `{source}` has no row for {} unit-period(s), their values are missing: {}",
                missing.len(),
                list(missing)
            ),
            Warning::TrimmedKeys { what, keys, .. } => write!(
                f,
                "{what}: {} unit key(s) had spaces around them and were trimmed: {}",
                keys.len(),
                list(keys)
            ),
            Warning::ReadAsNumbers {
                what,
                column,
                detail,
                ..
            } => write!(f, "{what}: column `{column}` read as numbers: {detail}"),
            Warning::OutsideBounds(beyond) => {
                let each: Vec<String> = beyond
                    .iter()
                    .map(|b| {
                        format!(
                            "`{}` {} in {} ({})",
                            b.id,
                            b.values,
                            list(&b.periods),
                            if b.capped { "capped" } else { "extended" }
                        )
                    })
                    .collect();
                write!(
                    f,
                    "{} value(s) of {} indicator(s) beyond their base or frozen normalisation bounds, scored by each indicator's `outside` rule: {}",
                    beyond.iter().map(|b| b.values).sum::<usize>(),
                    beyond.len(),
                    each.join("; ")
                )
            }
            Warning::IncompletePeriods { rule, count, items } => {
                f.write_str(&incomplete_en(rule, *count, items, |v| v.join("; ")))
            }
            Warning::PartialPeriodsLeftOut {
                periods,
                first,
                last,
                latest,
            } => f.write_str(&partial_en(periods, first, last, latest.as_ref(), list)),
        }
    }
}

impl StatusNote {
    /// The text for readers in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        let [zh, en] = match self {
            StatusNote::Screened => ["数据不足，未参评", "screened out (too little data)"],
            StatusNote::NoIndex => ["指数无法计算", "index could not be computed"],
            StatusNote::NotRanked => ["不参与排名", "not ranked"],
        };
        if lang == Lang::Zh { zh } else { en }
    }
}

impl Note {
    /// The text for readers in `lang` (names from `fw`).
    pub fn text(&self, fw: &Framework, lang: Lang) -> String {
        pick(self.texts(fw, lang), lang)
    }

    fn texts(&self, fw: &Framework, lang: Lang) -> [String; 2] {
        let name = |node: &usize| fw.nodes[*node].name.get(lang);
        match self {
            Note::IndicatorEmpty { node } => [
                format!("指标“{}”本期无数据，未参与聚合。", name(node)),
                format!(
                    "Indicator “{}” has no value in this period and is left out of the aggregation.",
                    name(node)
                ),
            ],
            Note::Missing {
                node,
                missing,
                imputed: 0,
            } => [
                format!(
                    "指标“{}”有 {missing} 个单位缺失数据，未插补，相应单位按其余指标聚合。",
                    name(node)
                ),
                format!(
                    "Indicator “{}” is missing for {missing} unit(s), not imputed: their scores aggregate the other indicators.",
                    name(node)
                ),
            ],
            Note::Missing {
                node,
                missing,
                imputed,
            } => [
                format!(
                    "指标“{}”有 {missing} 个单位缺失数据，插补 {imputed} 个。",
                    name(node)
                ),
                format!(
                    "Indicator “{}” is missing for {missing} unit(s); {imputed} imputed.",
                    name(node)
                ),
            ],
            Note::FilledFromPeriods {
                node,
                units,
                method,
                from,
            } => {
                let (who, what) = (items(units, lang), name(node));
                match (method, from.as_slice()) {
                    (crate::pipeline::Impute::Interpolate { .. }, [a, b]) => [
                        format!("{who}“{what}”数据缺失，按 {a} 与 {b} 数据线性插值。"),
                        format!(
                            "{who}: “{what}” data missing, interpolated between the {a} and {b} values."
                        ),
                    ],
                    (crate::pipeline::Impute::Interpolate { .. }, _) => [
                        format!(
                            "{who}“{what}”数据缺失，沿用最近的 {} 数据。",
                            from.join("、")
                        ),
                        format!(
                            "{who}: “{what}” data missing, the nearest ({}) values used.",
                            from.join(", ")
                        ),
                    ],
                    (crate::pipeline::Impute::CarryBackward { .. }, _) => [
                        format!("{who}“{what}”数据缺失，采用其后 {} 数据。", from.join("、")),
                        format!(
                            "{who}: “{what}” data missing, {} values carried back.",
                            from.join(", ")
                        ),
                    ],
                    _ => [
                        format!("{who}“{what}”数据缺失，沿用 {} 数据。", from.join("、")),
                        format!(
                            "{who}: “{what}” data missing, {} values carried forward.",
                            from.join(", ")
                        ),
                    ],
                }
            }
            Note::Winsorised { node, values } => [
                format!("指标“{}”缩尾处理 {values} 个值。", name(node)),
                format!("Indicator “{}”: {values} value(s) winsorised.", name(node)),
            ],
            Note::LogTransformed { node } => [
                format!("指标“{}”缩尾未能消除偏态，改为对数变换。", name(node)),
                format!(
                    "Indicator “{}”: winsorising did not remove the skew; log-transformed instead.",
                    name(node)
                ),
            ],
            Note::Unit { key, name, status } => [
                format!("{key} {name}：{}", status.text(Lang::Zh)),
                format!("{key} {name}: {}", status.text(Lang::En)),
            ],
            Note::OutsideBounds {
                node,
                values,
                capped: true,
            } => [
                format!(
                    "指标“{}”本期有 {values} 个值超出标准化基准范围，按上下限封顶计分。",
                    name(node)
                ),
                format!(
                    "Indicator “{}”: {values} value(s) lie beyond its normalisation bounds this period and are scored at the bounds.",
                    name(node)
                ),
            ],
            Note::OutsideBounds {
                node,
                values,
                capped: false,
            } => [
                format!(
                    "指标“{}”本期有 {values} 个值超出标准化基准范围，按同一标尺延伸计分（可能低于下限或高于上限）。",
                    name(node)
                ),
                format!(
                    "Indicator “{}”: {values} value(s) lie beyond its normalisation bounds this period and are scored on the same scale beyond them.",
                    name(node)
                ),
            ],
            Note::ScoresPerPeriod => [
                "各期得分分别标准化：得分只在同一期间内可比，跨期间请比较排名而非得分。".into(),
                "Scores are normalised within each period: they compare units within a period only; across periods, compare ranks, not scores.".into(),
            ],
            Note::Untranslated { texts, units } => {
                let texts = items(texts, lang);
                let zh = match (texts.is_empty(), units) {
                    (false, 0) => format!("以下文字框架未提供中文，以英文显示：{texts}。"),
                    (true, k) => format!("{k} 个单位的名称数据未提供中文，以英文显示。"),
                    (false, k) => format!(
                        "以下文字框架未提供中文，以英文显示：{texts}；另有 {k} 个单位的名称。"
                    ),
                };
                let en = match (texts.is_empty(), units) {
                    (false, 0) => {
                        format!("No English text in the framework, shown in Chinese: {texts}.")
                    }
                    (true, k) => format!(
                        "The data give no English name for {k} unit(s); their names are shown in Chinese."
                    ),
                    (false, k) => format!(
                        "No English text in the framework, shown in Chinese: {texts}; and the names of {k} unit(s) in the data."
                    ),
                };
                [zh, en]
            }
        }
    }
}

/// One declared uncertain input, as readers are told about it (see [`Robust`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    /// Weight noise: the smallest and the largest relative half-width (0.25 = ±25 %).
    Weights {
        /// Smallest noise.
        lo: f64,
        /// Largest noise.
        hi: f64,
    },
    /// Alternatives of a method kind (`normalize`, `aggregate`, `impute`, `treat`, `screen`).
    Method {
        /// The kind's name.
        kind: String,
        /// How many alternatives.
        count: usize,
    },
    /// Values of a method parameter (`treat.winmax`).
    Set {
        /// `KIND.PARAM`.
        param: String,
        /// How many values.
        count: usize,
    },
    /// Leaving out one of these many indicators, or none.
    Exclude {
        /// How many indicators are listed.
        count: usize,
    },
}

/// A percentage of a relative noise (0.25 → `25`, 0.125 → `12.5`).
fn noise_pct(x: f64) -> String {
    format!("{}", (x * 10_000.0).round() / 100.0)
}

impl Setting {
    /// A short name of the input for charts and tables, in `lang`.
    pub fn label(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Setting::Weights { .. } => if zh { "权重" } else { "weights" }.into(),
            Setting::Method { kind, .. } => method_kind(kind, lang).into(),
            Setting::Set { param, .. } => {
                if zh {
                    format!("参数 {param}")
                } else {
                    format!("parameter {param}")
                }
            }
            Setting::Exclude { .. } => if zh {
                "剔除指标"
            } else {
                "left-out indicator"
            }
            .into(),
        }
    }

    /// The input as a phrase for readers, `[zh, en]`.
    fn texts(&self) -> [String; 2] {
        let pct = |lo: f64, hi: f64| {
            if lo == hi {
                format!("±{}%", noise_pct(hi))
            } else {
                format!("±{}%–{}%", noise_pct(lo), noise_pct(hi))
            }
        };
        match self {
            Setting::Weights { lo, hi } => [
                format!("权重{}", pct(*lo, *hi)),
                format!("weights {}", pct(*lo, *hi)),
            ],
            Setting::Method { kind, count } => [
                format!("{}（{count} 种）", method_kind(kind, Lang::Zh)),
                format!("{} ({count} alternatives)", method_kind(kind, Lang::En)),
            ],
            Setting::Set { param, count } => [
                format!("参数 {param}（{count} 种取值）"),
                format!("parameter {param} ({count} values)"),
            ],
            Setting::Exclude { count } => [
                format!("剔除 {count} 项指标之一或不剔除"),
                format!("leaving out one of {count} indicators, or none"),
            ],
        }
    }

    /// The input as a phrase for readers in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        pick(self.texts(), lang)
    }
}

/// A method kind's name for readers.
fn method_kind(kind: &str, lang: Lang) -> &'static str {
    let zh = lang == Lang::Zh;
    match kind {
        "normalize" => {
            if zh {
                "标准化方法"
            } else {
                "normalisation"
            }
        }
        "aggregate" => {
            if zh {
                "聚合方法"
            } else {
                "aggregation"
            }
        }
        "impute" => {
            if zh {
                "缺失值插补方法"
            } else {
                "imputation"
            }
        }
        "treat" => {
            if zh {
                "异常值处理方法"
            } else {
                "outlier treatment"
            }
        }
        "screen" => {
            if zh {
                "单位筛选规则"
            } else {
                "screening"
            }
        }
        _ => {
            if zh {
                "方法"
            } else {
                "method"
            }
        }
    }
}

/// A range of nominal ranks whose order is not stable: from `.0` to `.1` (equal: units tied
/// at that rank).
pub type RankRange = (u32, u32);

/// What the report says about the robustness of the ranking (see [`crate::robustness`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Robust {
    /// Which rank differences are not meaningful under the declared uncertainty.
    Stability {
        /// The inputs that vary.
        settings: Vec<Setting>,
        /// Runs of the analysis.
        runs: usize,
        /// Ranks whose 5–95 % interval overlaps a neighbour's: each range is a group.
        groups: Vec<RankRange>,
        /// Ranks whose interval overlaps no other unit's.
        stable: Vec<u32>,
        /// The median width of the units' rank intervals, in ranks (`hi − lo`).
        spread: f64,
    },
    /// The framework declares no uncertainty: the report took weights ±`noise` on the index's
    /// children.
    Assumed {
        /// The noise (0.25 = ±25 %).
        noise: f64,
        /// Runs.
        runs: usize,
        /// Seed.
        seed: u64,
    },
    /// Some runs could not be evaluated and are left out of the statistics.
    Failed {
        /// How many failed.
        failed: usize,
        /// How many runs there were.
        runs: usize,
    },
}

/// `第2至第4名` / `ranks 2 to 4` (or `并列第3名` / `the units tied at rank 3`).
fn rank_range(&(a, b): &RankRange, lang: Lang) -> String {
    match (lang, b - a) {
        (Lang::Zh, 0) => format!("并列第{a}名"),
        (Lang::Zh, 1) => format!("第{a}与第{b}名"),
        (Lang::Zh, _) => format!("第{a}至第{b}名"),
        (Lang::En, 0) => format!("the units tied at rank {a}"),
        (Lang::En, 1) => format!("ranks {a} and {b}"),
        (Lang::En, _) => format!("ranks {a} to {b}"),
    }
}

impl Robust {
    /// The text for readers in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        pick(self.texts(lang), lang)
    }

    fn texts(&self, lang: Lang) -> [String; 2] {
        match self {
            Robust::Stability {
                settings,
                runs,
                groups,
                stable,
                spread,
            } => {
                let set = |l: Lang| {
                    let v: Vec<String> = settings.iter().map(|s| s.text(l)).collect();
                    match l {
                        Lang::Zh => v.join("、"),
                        Lang::En => match v.len() {
                            0 | 1 => v.join(""),
                            n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
                        },
                    }
                };
                let (zs, es) = (set(Lang::Zh), set(Lang::En));
                let ranges: Vec<String> = groups.iter().map(|g| rank_range(g, lang)).collect();
                let ranges = items(&ranges, lang);
                // Many stable ranks are counted, not listed.
                let many = stable.len() > SHOWN;
                let ranks = items(stable, lang);
                let zh_head = format!("在{zs}的设定下（模拟 {runs} 次），");
                let en_head = format!("Under {es} ({runs} runs), ");
                let why = [
                    "名次区间为 90% 的模拟结果所在的范围，与相邻单位的区间重叠即说明二者的先后并不确定。",
                    "A rank interval holds 90% of the simulated ranks; where it overlaps a neighbour's, which of the two comes first is uncertain.",
                ];
                let [zb, eb] = match (groups.is_empty(), stable.is_empty()) {
                    (true, _) => [
                        "各单位的名次区间互不重叠，名次之间的差异都是稳定的。".to_string(),
                        "no two units' rank intervals overlap: every difference in rank is stable."
                            .to_string(),
                    ],
                    (false, true) => [
                        format!("{ranges}之间的差异并不稳定，没有哪个名次是完全确定的。"),
                        format!(
                            "the differences between {ranges} are not stable; no rank is certain."
                        ),
                    ],
                    (false, false) if many => [
                        format!(
                            "{ranges}之间的差异并不稳定；其余 {} 个名次稳定。",
                            stable.len()
                        ),
                        format!(
                            "the differences between {ranges} are not stable; the other {} ranks are stable.",
                            stable.len()
                        ),
                    ],
                    (false, false) => [
                        format!("{ranges}之间的差异并不稳定；第{ranks}名的名次稳定。"),
                        format!(
                            "the differences between {ranges} are not stable; rank{} {ranks} {} stable.",
                            if stable.len() == 1 { "" } else { "s" },
                            if stable.len() == 1 { "is" } else { "are" }
                        ),
                    ],
                };
                // How far a typical unit's rank moves, when ranks move at all.
                let typical = format!("{spread}");
                let [zt, et] = if groups.is_empty() || *spread <= 0.0 {
                    [String::new(), String::new()]
                } else {
                    [
                        format!("一般单位的名次区间跨 {typical} 个名次。"),
                        format!(
                            " A typical unit's rank interval spans {typical} place{}.",
                            if *spread == 1.0 { "" } else { "s" }
                        ),
                    ]
                };
                [
                    format!("{zh_head}{zb}{zt}{}", why[0]),
                    format!("{en_head}{eb}{et} {}", why[1]),
                ]
            }
            Robust::Assumed { noise, runs, seed } => {
                let pct = noise_pct(*noise);
                [
                    format!(
                        "框架未声明不确定性设定，本报告按各维度权重±{pct}%随机变动、模拟 {runs} 次（随机种子 {seed}）进行分析。"
                    ),
                    format!(
                        "The framework declares no uncertain inputs; this report varies each dimension's weight by ±{pct}% at random over {runs} runs (seed {seed})."
                    ),
                ]
            }
            Robust::Failed { failed, runs } => [
                format!("{runs} 次模拟中有 {failed} 次无法计算，未计入统计。"),
                format!("{failed} of {runs} runs could not be evaluated and are left out."),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every message, with names that the framework below resolves.
    fn warnings() -> Vec<Warning> {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        vec![
            Warning::EmptyIndicator {
                node: 1,
                id: "yoy".into(),
                periods: v(&["2022-01", "2022-02"]),
            },
            Warning::Screened(v(&["440103 2023-01"])),
            Warning::NoIndexScore(v(&["440103 2023-01"])),
            Warning::PeriodGap {
                from: "2023-01".into(),
                to: "2023-06".into(),
                missing: v(&["2023-03"]),
            },
            Warning::UnitHoles(v(&["440103 (2023-02)"])),
            Warning::SourceRows {
                source: "police".into(),
                missing: v(&["440103 2023-02"]),
            },
            Warning::TrimmedKeys {
                source: "police".into(),
                what: "source `police` (police.csv)".into(),
                keys: v(&["line 3 \" 440103\""]),
            },
            Warning::ReadAsNumbers {
                source: "police".into(),
                what: "source `police` (police.csv)".into(),
                column: "cases".into(),
                detail: "2 with thousands separators, first line 3".into(),
            },
            Warning::OutsideBounds(vec![
                Beyond {
                    node: 1,
                    id: "yoy".into(),
                    values: 3,
                    periods: v(&["2023-01", "2023-02"]),
                    capped: true,
                },
                Beyond {
                    node: 1,
                    id: "yoy".into(),
                    values: 3,
                    periods: v(&["2023-01"]),
                    capped: false,
                },
            ]),
        ]
    }

    fn notes() -> Vec<Note> {
        let unit = |status| Note::Unit {
            key: "440103".into(),
            name: "荔湾区".into(),
            status,
        };
        vec![
            Note::IndicatorEmpty { node: 1 },
            Note::Missing {
                node: 1,
                missing: 2,
                imputed: 0,
            },
            Note::Missing {
                node: 1,
                missing: 2,
                imputed: 1,
            },
            Note::FilledFromPeriods {
                node: 1,
                units: vec!["荔湾区".into()],
                method: crate::pipeline::Impute::CarryForward {
                    max_periods: Some(2),
                    ends: crate::pipeline::Ends::None,
                },
                from: vec!["2023-11".into()],
            },
            Note::FilledFromPeriods {
                node: 1,
                units: vec!["荔湾区".into()],
                method: crate::pipeline::Impute::CarryBackward { max_periods: None },
                from: vec!["2024-01".into()],
            },
            Note::FilledFromPeriods {
                node: 1,
                units: vec!["荔湾区".into()],
                method: crate::pipeline::Impute::Interpolate {
                    ends: crate::pipeline::Ends::Nearest,
                },
                from: vec!["2023-10".into(), "2024-01".into()],
            },
            Note::FilledFromPeriods {
                node: 1,
                units: vec!["荔湾区".into()],
                method: crate::pipeline::Impute::Interpolate {
                    ends: crate::pipeline::Ends::Nearest,
                },
                from: vec!["2024-01".into()],
            },
            Note::Winsorised { node: 1, values: 3 },
            Note::LogTransformed { node: 1 },
            unit(StatusNote::Screened),
            unit(StatusNote::NoIndex),
            unit(StatusNote::NotRanked),
            Note::OutsideBounds {
                node: 1,
                values: 2,
                capped: true,
            },
            Note::OutsideBounds {
                node: 1,
                values: 2,
                capped: false,
            },
            Note::ScoresPerPeriod,
        ]
    }

    fn framework() -> Framework {
        let text = r#"
[index]
id = "i"
name = { zh = "指数", en = "Index" }
[units]
key = "k"
[[source]]
name = "t"
path = "t.csv"
[[indicator]]
id = "yoy"
name = { zh = "同比", en = "Year on year" }
parent = "i"
direction = "lower"
"#;
        crate::framework::check(
            crate::framework::SourceFile::new("t.toml", text),
            std::path::Path::new("."),
        )
        .expect("a valid framework")
    }

    fn has_han(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    /// Latin words of three or more letters: English left in a Chinese text.
    fn english_words(s: &str) -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_message_has_both_languages_for_readers() {
        let fw = framework();
        let all: Vec<[String; 2]> = warnings()
            .iter()
            .map(|w| [w.text(&fw, Lang::Zh), w.text(&fw, Lang::En)])
            .chain(
                notes()
                    .iter()
                    .map(|n| [n.text(&fw, Lang::Zh), n.text(&fw, Lang::En)]),
            )
            .collect();
        for [zh, en] in &all {
            assert!(has_han(zh), "{zh}");
            // Source and column names are the framework's and the data's own words.
            let words = zh.replace("police", "").replace("cases", "");
            assert!(english_words(&words).is_empty(), "English in {zh}");
            // The only Chinese in an English text is a unit's Chinese name from the data.
            assert!(!has_han(&en.replace("荔湾区", "")), "Chinese in {en}");
            for t in [zh, en] {
                assert!(!t.contains('`'), "backticks in {t}");
                assert!(!t.contains("yoy"), "an id in {t}");
            }
        }
        assert!(all[0][0].contains("同比") && all[0][1].contains("Year on year"));
    }

    #[test]
    fn the_log_keeps_the_english_original_with_ids() {
        let w = &warnings()[0];
        assert_eq!(
            w.to_string(),
            "indicator `yoy` has no value for any unit in 2 period(s) (2022-01, 2022-02); it is left out of those periods' aggregation"
        );
    }

    #[test]
    fn long_lists_say_how_many_more_in_the_language() {
        let v: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
        assert_eq!(
            items(&v, Lang::Zh),
            "1、2、3、4、5、6、7、8、9、10 等 12 项"
        );
        assert_eq!(
            items(&v, Lang::En),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"
        );
    }

    #[test]
    fn values_carried_from_another_period_are_said_in_words() {
        let fw = framework();
        let n = Note::FilledFromPeriods {
            node: 1,
            units: vec!["白云区".into(), "天河区".into()],
            method: crate::pipeline::Impute::CarryForward {
                max_periods: Some(2),
                ends: crate::pipeline::Ends::None,
            },
            from: vec!["2023-11".into()],
        };
        assert_eq!(
            n.text(&fw, Lang::Zh),
            "白云区、天河区“同比”数据缺失，沿用 2023-11 数据。"
        );
        assert_eq!(
            n.text(&fw, Lang::En),
            "白云区, 天河区: “Year on year” data missing, 2023-11 values carried forward."
        );
    }

    #[test]
    fn untranslated_texts_are_listed_in_the_report_language() {
        let fw = framework();
        let n = Note::Untranslated {
            texts: vec!["同比".into()],
            units: 176,
        };
        assert_eq!(
            n.text(&fw, Lang::En),
            "No English text in the framework, shown in Chinese: 同比; and the names of 176 unit(s) in the data."
        );
    }
}
