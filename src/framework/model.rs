//! The checked framework: a validated tree of nodes with resolved methods. Code that evaluates
//! an index accepts only this type, never the raw TOML.

use std::ops::Range;
use std::path::PathBuf;

use super::diag::{Diagnostic, SourceFile};
use crate::pipeline::methods::{Aggregate, Direction, Impute, Normalise, ScreenMethod, Treat};

/// A text shown to readers — a name, a description, a unit label — in Chinese, English or both.
///
/// In a framework file it is written either as a plain string, which is the same text in every
/// language (a proper name, a symbol such as `%`), or as `{ zh = "…", en = "…" }` with at least
/// one of the two. A language left out falls back, visibly, to the other: [`Text::get`] returns
/// the other language's text and [`Text::lacks`] tells that it did, so a report can mark it and
/// list what has no translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    /// The same text in every language (a plain string).
    Same(String),
    /// Text per language; at least one is `Some`.
    Each {
        /// Simplified Chinese.
        zh: Option<String>,
        /// English.
        en: Option<String>,
    },
}

/// A display name (a [`Text`]).
pub type Name = Text;

/// Language of display texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Simplified Chinese.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The other language.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The BCP 47 tag (`zh-CN`, `en`), for HTML `lang` attributes.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

impl Text {
    /// The same text in every language.
    pub fn same(text: impl Into<String>) -> Self {
        Text::Same(text.into())
    }

    /// A text given in both languages.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text::Each {
            zh: Some(zh.into()),
            en: Some(en.into()),
        }
    }

    /// The text in `lang`, or — when it has none — in the other language (see [`Text::lacks`]).
    pub fn get(&self, lang: Lang) -> &str {
        match self {
            Text::Same(s) => s,
            Text::Each { .. } => self
                .own(lang)
                .or_else(|| self.own(lang.other()))
                .unwrap_or(""),
        }
    }

    /// The text written for `lang` itself: a plain string, or that language's entry.
    pub fn own(&self, lang: Lang) -> Option<&str> {
        match (self, lang) {
            (Text::Same(s), _) => Some(s),
            (Text::Each { zh, .. }, Lang::Zh) => zh.as_deref(),
            (Text::Each { en, .. }, Lang::En) => en.as_deref(),
        }
    }

    /// True when the text has no entry for `lang`, so that [`Text::get`] falls back to the
    /// other language.
    pub fn lacks(&self, lang: Lang) -> bool {
        self.own(lang).is_none()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Same(String::new())
    }
}

/// Which data columns identify units, periods and groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Units {
    /// Unit key column.
    pub key: String,
    /// Unit display-name column: one for every language (a plain string) or one per language
    /// (`{ zh = "district_name", en = "district_name_en" }`); the texts are column names.
    pub name: Option<Text>,
    /// Period column.
    pub period: Option<String>,
    /// Group column, written like `name`: one column for every language, or one per language
    /// (`{ zh = "district_name", en = "district_name_en" }`). Units are grouped by the values of
    /// [`Units::group_column`]; the others only name the groups.
    pub group: Option<Text>,
}

impl Units {
    /// The data columns holding unit names, each once (Chinese first).
    pub fn name_columns(&self) -> Vec<&str> {
        columns(self.name.as_ref())
    }

    /// The data columns holding group names, each once (Chinese first).
    pub fn group_columns(&self) -> Vec<&str> {
        columns(self.group.as_ref())
    }

    /// The column whose values say which group a unit is in: the first of
    /// [`Units::group_columns`].
    pub fn group_column(&self) -> Option<&str> {
        self.group_columns().first().copied()
    }
}

/// The column names of a per-language text of columns, each once, Chinese first.
fn columns(t: Option<&Text>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    if let Some(t) = t {
        for c in [t.own(Lang::Zh), t.own(Lang::En)].into_iter().flatten() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// How ranks are computed (`[rank]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RankSpec {
    /// SQL condition over the data: only the units (per period) for which it is true are
    /// ranked; the others are scored but get no rank and take no place in the ranking.
    pub only: Option<String>,
    /// Span of `only` in the framework file.
    pub only_span: Range<usize>,
    /// Offset of the condition's first character in the file, when it is written as is.
    pub only_offset: Option<usize>,
    /// Scores are rounded to this many decimals before ranking (ties share the lower rank).
    pub digits: Option<u32>,
}

/// One data source.
#[derive(Clone, Debug)]
pub struct Source {
    /// Table name.
    pub name: String,
    /// Path as written in the framework (relative to the framework file).
    pub path: String,
    /// Resolved path.
    pub resolved: PathBuf,
    /// Sheet of an XLSX workbook.
    pub sheet: Option<String>,
    /// SQL whose result replaces the file's table.
    pub query: Option<String>,
    /// Span of `query` in the framework file.
    pub query_span: Option<Range<usize>>,
    /// Span of `name` in the framework file.
    pub name_span: Range<usize>,
    /// Joined into the indicator table (false: lookup only).
    pub join: bool,
    /// How a CSV or Excel file is read: encoding, number style, missing markers, header row.
    pub intake: Intake,
}

/// How numbers written as text are read (`numbers` of a source).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumberStyle {
    /// Only plain numbers (`1234`, `-0.5`, `1e3`); a column of numbers in another style, or a
    /// number column with stray words, is an error naming the cells.
    #[default]
    Plain,
    /// Also thousands separators (`1,234`), percentages (`12%` = 0.12), full-width digits and
    /// signs (`１２３`, `－`, `．`) and the usual missing-value markers (`-`, `—`, `/`, `NA`, `无`, …).
    Lenient,
}

/// Per-source reading options for CSV and Excel files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intake {
    /// Character encoding of a CSV file (an `encoding_rs` label such as `gbk`); default UTF-8.
    pub encoding: Option<String>,
    /// How numbers written as text are read.
    pub numbers: NumberStyle,
    /// Cell texts that mean "missing", in any number style.
    pub missing: Vec<String>,
    /// The 1-based line (CSV) or sheet row (Excel) holding the header; rows above it are
    /// skipped. Default: the first non-empty row.
    pub header_row: Option<usize>,
}

/// Aggregation of a node: method and required share of present children.
#[derive(Clone, Debug, PartialEq)]
pub struct AggSpec {
    /// Method.
    pub method: Aggregate,
    /// Minimum share (0–1) of children that must be present.
    pub min_share: f64,
}

/// Normalisation of an indicator, with the unit key a `dist2ref` refers to and the values its
/// bounds (min/max, mean/sd) are taken from.
#[derive(Clone, Debug, PartialEq)]
pub struct NormSpec {
    /// Method (for `dist2ref`, the row is resolved per period).
    pub method: Normalise,
    /// Reference unit key for `dist2ref`.
    pub reference: Option<String>,
    /// Which values the method's bounds come from (`over`).
    pub over: Over,
    /// What happens to a value outside bounds taken from other periods (`outside`).
    pub outside: Outside,
}

/// Which values a normalisation's bounds (min/max, mean/sd, ranks) are computed over.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Over {
    /// Each period on its own: scores compare units within a period only.
    #[default]
    Period,
    /// Every period present in the data (COINr's purse normalisation with `global = TRUE`).
    Panel,
    /// The periods from `first` to `last` (canonical period texts, inclusive): later periods
    /// are measured against the base.
    Base {
        /// First period of the base (canonical text, e.g. `2022-01`).
        first: String,
        /// Last period of the base (canonical text, e.g. `2022-12`).
        last: String,
    },
    /// Bounds read from a file kapok wrote earlier (one row per indicator).
    Frozen(std::path::PathBuf),
}

/// How a value outside bounds taken from other periods (base or frozen) is scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Outside {
    /// Clipped to the bounds, as goalposts are by default.
    #[default]
    Cap,
    /// Scored on the same line beyond the bounds (below the low or above the high end).
    Extend,
}

impl NormSpec {
    /// A normalisation over each period on its own, capping nothing.
    pub fn per_period(method: Normalise) -> Self {
        Self {
            method,
            reference: None,
            over: Over::Period,
            outside: Outside::Cap,
        }
    }

    /// Whether scores of different periods are on one scale: the method does not depend on
    /// the data (goalposts, fixed scaling, none) or its bounds are not taken per period.
    pub fn comparable_across_periods(&self) -> bool {
        matches!(
            self.method,
            Normalise::Goalposts { .. } | Normalise::Scaled { .. } | Normalise::None
        ) || self.over != Over::Period
    }
}

/// Unit screening.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenSpec {
    /// Method.
    pub method: ScreenMethod,
    /// Units kept whatever their data.
    pub force_in: Vec<String>,
    /// Units dropped whatever their data.
    pub force_out: Vec<String>,
    /// Screen the imputed data instead of the data as read (COINr's example screens after
    /// imputing, where availability is complete by construction).
    pub after_impute: bool,
}

/// Methods used where a node or indicator sets none of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    /// Unit screening.
    pub screen: ScreenSpec,
    /// Imputation.
    pub impute: Impute,
    /// Outlier treatment.
    pub treat: Treat,
    /// Normalisation.
    pub normalise: NormSpec,
    /// Aggregation.
    pub aggregate: AggSpec,
    /// Each method as written (`normalize` → `{ method = "minmax", range = [0, 100] }`), so
    /// that `--set normalize.range=[1,10]` can change one parameter and keep the others.
    pub source: std::collections::BTreeMap<String, String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            screen: ScreenSpec {
                method: ScreenMethod::None,
                force_in: Vec::new(),
                force_out: Vec::new(),
                after_impute: false,
            },
            impute: Impute::None,
            treat: Treat::None,
            normalise: NormSpec::per_period(Normalise::MinMax { lo: 0.0, hi: 100.0 }),
            aggregate: AggSpec {
                method: Aggregate::Arithmetic,
                min_share: 0.0,
            },
            source: std::collections::BTreeMap::new(),
        }
    }
}

/// An indicator's own settings.
#[derive(Clone, Debug)]
pub struct IndicatorSpec {
    /// Unit of measurement, as shown to readers.
    pub unit: Text,
    /// Higher or lower is better.
    pub direction: Direction,
    /// SQL expression over data columns.
    pub expr: String,
    /// Where the expression text starts in the file (byte offset), when it maps one to one.
    pub expr_offset: Option<usize>,
    /// Span of the expression value (or of the indicator when `expr` is implied).
    pub expr_span: Range<usize>,
    /// Column the value is divided by (COINr's denominators), with its span.
    pub denominator: Option<(String, Range<usize>)>,
    /// The value is divided by `denominator / denominator_scale`.
    pub denominator_scale: f64,
    /// Imputation override.
    pub impute: Option<Impute>,
    /// Treatment override.
    pub treat: Option<Treat>,
    /// Normalisation override.
    pub normalise: Option<NormSpec>,
}

/// What a node is.
// A framework holds tens of nodes: boxing the indicator settings would save nothing that matters.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// The index or a dimension: aggregates its children (with an optional own method).
    Aggregate(Option<AggSpec>),
    /// A leaf computed from data.
    Indicator(IndicatorSpec),
}

/// A further parent of a node used under more than one parent (a shared indicator or
/// dimension), with the node's weight there.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// The parent node.
    pub parent: usize,
    /// Relative weight within that parent.
    pub weight: f64,
}

/// A node of the framework: a tree, or a DAG when nodes are shared by several parents.
#[derive(Clone, Debug)]
pub struct Node {
    /// Identifier.
    pub id: String,
    /// Display names.
    pub name: Name,
    /// First parent node (None for the index): where the node is shown in trees and what its
    /// level counts from.
    pub parent: Option<usize>,
    /// Further parents, each with the node's weight there (`parent = ["a", "b"]`).
    pub shared: Vec<Edge>,
    /// Children in file order.
    pub children: Vec<usize>,
    /// Relative weight within the (first) parent.
    pub weight: f64,
    /// The node's score is ranked lowest first (`direction = "lower"` on the index or a
    /// formula node); scores keep their sign. Indicators' scores are normalised so that
    /// higher is better, so this is false for every indicator.
    pub lower_is_better: bool,
    /// Span of the node's `id` value.
    pub span: Range<usize>,
    /// Index, dimension or indicator.
    pub kind: NodeKind,
}

impl Node {
    /// The node's formula, when its score is one (`formula = "…"`).
    pub fn formula(&self) -> Option<&crate::framework::formula::Formula> {
        match &self.kind {
            NodeKind::Aggregate(Some(AggSpec {
                method: Aggregate::Formula(f),
                ..
            })) => Some(f),
            _ => None,
        }
    }

    /// The node's weight under `parent` (0 when it is not a child of `parent`), with the
    /// node's own weight `weight` under its first parent.
    pub fn weight_under(&self, parent: usize, weight: f64) -> f64 {
        if self.parent == Some(parent) {
            weight
        } else {
            self.shared
                .iter()
                .find(|e| e.parent == parent)
                .map_or(0.0, |e| e.weight)
        }
    }

    /// The indicator settings, when this is an indicator.
    pub fn indicator(&self) -> Option<&IndicatorSpec> {
        match &self.kind {
            NodeKind::Indicator(s) => Some(s),
            NodeKind::Aggregate(_) => None,
        }
    }
}

/// Files for the charts, declared in `[charts]` (paths resolved against the framework's
/// directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartFiles {
    /// Tile-grid positions of the units (`unit,row,col`), for the map when there is no GeoJSON.
    pub tiles: Option<PathBuf>,
    /// Unit boundaries (GeoJSON) for the choropleth map.
    pub geojson: Option<PathBuf>,
}

/// A validated framework.
#[derive(Clone, Debug)]
pub struct Framework {
    /// The file it was read from.
    pub file: SourceFile,
    /// Directory that source paths are relative to.
    pub dir: PathBuf,
    /// Free-text description.
    pub description: Option<Text>,
    /// Unit, period and group columns.
    pub units: Units,
    /// Default methods.
    pub defaults: Defaults,
    /// How ranks are computed.
    pub rank: RankSpec,
    /// Files the charts use.
    pub charts: ChartFiles,
    /// Header fields of the report (`[report]`).
    pub report: super::ReportHeader,
    /// Windows and thresholds of the change and trend columns (`[trend]`).
    pub trend: super::trend::TrendSpec,
    /// Data sources in file order.
    pub sources: Vec<Source>,
    /// Node arena: the index first, then dimensions, then indicators, each in file order.
    pub nodes: Vec<Node>,
    /// Warnings found while checking.
    pub warnings: Vec<Diagnostic>,
    /// Publication granularity (`[units] per`, `--per`) and rollup rules (`[rollup]`).
    pub rollup: super::rollup::RollupSpec,
    /// The declared inputs of a robustness analysis (`[uncertainty]`).
    pub uncertainty: Option<super::uncertainty::Uncertainty>,
}

impl Framework {
    /// The root node.
    pub fn index(&self) -> &Node {
        &self.nodes[0]
    }

    /// Indices of the indicator nodes, in file order.
    pub fn indicators(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].indicator().is_some())
            .collect()
    }

    /// Indices of the aggregate nodes (index and dimensions) in pre-order, each once: a
    /// shared node is visited under its first parent.
    pub fn aggregates_preorder(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            if self.nodes[i].indicator().is_none() {
                out.push(i);
                let own = self.nodes[i]
                    .children
                    .iter()
                    .rev()
                    .filter(|&&c| self.nodes[c].parent == Some(i));
                stack.extend(own);
            }
        }
        out
    }

    /// Indices of the aggregate nodes ordered so that every node comes after all of its
    /// children (post-order over every edge): the order they are scored in.
    pub fn aggregates_bottom_up(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut done = vec![false; self.nodes.len()];
        // (node, children visited): an explicit stack, as frameworks may be deep.
        let mut stack = vec![(0usize, false)];
        while let Some((i, expanded)) = stack.pop() {
            if done[i] || self.nodes[i].indicator().is_some() {
                continue;
            }
            if expanded {
                done[i] = true;
                out.push(i);
            } else {
                stack.push((i, true));
                stack.extend(self.nodes[i].children.iter().rev().map(|&c| (c, false)));
            }
        }
        out
    }

    /// Every parent of node `i` with the node's weight there (first parent first).
    pub fn parents_of(&self, i: usize) -> Vec<(usize, f64)> {
        let n = &self.nodes[i];
        n.parent
            .map(|p| (p, n.weight))
            .into_iter()
            .chain(n.shared.iter().map(|e| (e.parent, e.weight)))
            .collect()
    }

    /// How many steps node `i` is below the index: 0 for the index, 1 for its children (a
    /// "level" of `[uncertainty]` and of `--aggregate level:N=…`).
    pub fn depth(&self, mut i: usize) -> usize {
        let mut d = 0;
        while let Some(p) = self.nodes[i].parent {
            d += 1;
            i = p;
        }
        d
    }

    /// The node with identifier `id`.
    pub fn node_by_id(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Effective imputation of an indicator node.
    pub fn impute_of(&self, spec: &IndicatorSpec) -> Impute {
        spec.impute
            .clone()
            .unwrap_or_else(|| self.defaults.impute.clone())
    }

    /// Effective treatment of an indicator node.
    pub fn treat_of(&self, spec: &IndicatorSpec) -> Treat {
        spec.treat
            .clone()
            .unwrap_or_else(|| self.defaults.treat.clone())
    }

    /// Effective normalisation of an indicator node.
    pub fn normalise_of(&self, spec: &IndicatorSpec) -> NormSpec {
        spec.normalise
            .clone()
            .unwrap_or_else(|| self.defaults.normalise.clone())
    }

    /// Whether every indicator's scores are on one scale across periods (see
    /// [`NormSpec::comparable_across_periods`]), so that score changes over time mean something.
    /// When not, only ranks may be compared across periods.
    pub fn comparable_across_periods(&self) -> bool {
        self.nodes.iter().all(|n| {
            n.indicator()
                .is_none_or(|spec| self.normalise_of(spec).comparable_across_periods())
        })
    }

    /// Effective aggregation of an aggregate node.
    pub fn aggregate_of(&self, node: &Node) -> AggSpec {
        match &node.kind {
            NodeKind::Aggregate(Some(a)) => a.clone(),
            _ => self.defaults.aggregate.clone(),
        }
    }

    /// Effective weight of every node: the product of its normalised weights down the tree,
    /// summed over every path from the index when a node is shared by several parents; `NaN`
    /// (not defined) below a node whose method takes no weights (a formula, the benefit of the
    /// doubt).
    pub fn effective_weights(&self) -> Vec<f64> {
        let mut w = vec![0.0; self.nodes.len()];
        w[0] = 1.0;
        // Top-down: a node's weight is complete once every parent has passed it on.
        for i in self.aggregates_bottom_up().into_iter().rev() {
            let children = &self.nodes[i].children;
            // Below a formula or a benefit of the doubt weights do not enter: no share of the
            // index rests on a child by its weight.
            if !self.aggregate_of(&self.nodes[i]).method.uses_weights() {
                for &c in children {
                    w[c] = f64::NAN;
                }
                continue;
            }
            let under = |c: usize| self.nodes[c].weight_under(i, self.nodes[c].weight);
            let total: f64 = children.iter().map(|&c| under(c)).sum();
            for &c in children {
                if total > 0.0 {
                    w[c] += w[i] * under(c) / total;
                }
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index → d1 (a, b), d2 (b, c), with `b` shared: weight 1 in d1, 3 in d2; d2 weighs 3.
    fn shared() -> Framework {
        let text = r#"
[index]
id = "i"
name = "I"
[units]
key = "k"
[[source]]
name = "t"
path = "t.csv"
[[dimension]]
id = "d1"
name = "D1"
[[dimension]]
id = "d2"
name = "D2"
weight = 3
[[indicator]]
id = "a"
name = "A"
parent = "d1"
direction = "higher"
[[indicator]]
id = "b"
name = "B"
parent = ["d1", "d2"]
weight = [1, 3]
direction = "higher"
[[indicator]]
id = "c"
name = "C"
parent = "d2"
direction = "higher"
"#;
        crate::framework::check(SourceFile::new("t.toml", text), std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn a_shared_node_sums_its_weight_over_every_path() {
        let fw = shared();
        let id = |s: &str| fw.node_by_id(s).unwrap();
        let (d1, d2, a, b, c) = (id("d1"), id("d2"), id("a"), id("b"), id("c"));
        assert_eq!(fw.nodes[b].parent, Some(d1));
        assert_eq!(
            fw.nodes[b].shared,
            vec![Edge {
                parent: d2,
                weight: 3.0
            }]
        );
        assert_eq!(fw.nodes[d2].children, vec![b, c]);
        assert_eq!(fw.parents_of(b), vec![(d1, 1.0), (d2, 3.0)]);
        assert_eq!(fw.nodes[b].weight_under(d2, fw.nodes[b].weight), 3.0);
        assert_eq!(fw.nodes[a].weight_under(d2, 1.0), 0.0);
        // d1 1/4 of the index, d2 3/4; in d1 a and b 1/2 each; in d2 b 3/4 and c 1/4.
        let w = fw.effective_weights();
        let want = [
            (d1, 0.25),
            (d2, 0.75),
            (a, 0.125),
            (b, 0.125 + 0.5625),
            (c, 0.1875),
        ];
        for (n, x) in want {
            assert!(
                (w[n] - x).abs() < 1e-15,
                "{}: {} not {x}",
                fw.nodes[n].id,
                w[n]
            );
        }
        let leaves: f64 = fw.indicators().iter().map(|&i| w[i]).sum();
        assert!((leaves - 1.0).abs() < 1e-15);
        // Scored after both of its parents' other children, and each node once.
        let order = fw.aggregates_bottom_up();
        assert_eq!(order, vec![d1, d2, 0]);
        assert_eq!(fw.aggregates_preorder(), vec![0, d1, d2]);
        assert_eq!(fw.depth(b), 2);
    }

    #[test]
    fn excluding_a_shared_indicator_takes_it_out_of_every_parent() {
        let mut fw = shared();
        let id = |fw: &Framework, s: &str| fw.node_by_id(s).unwrap();
        let (d1, d2, b) = (id(&fw, "d1"), id(&fw, "d2"), id(&fw, "b"));
        fw.exclude("b").unwrap();
        assert!(fw.is_excluded(b));
        assert!(!fw.nodes[d1].children.contains(&b) && !fw.nodes[d2].children.contains(&b));
        let w = fw.effective_weights();
        assert_eq!(w[b], 0.0);
        assert_eq!(w[id(&fw, "a")], 0.25);
        assert_eq!(w[id(&fw, "c")], 0.75);
    }

    #[test]
    fn a_text_falls_back_to_the_other_language_and_says_so() {
        let both = Text::new("治安", "Public safety");
        assert_eq!(
            [both.get(Lang::Zh), both.get(Lang::En)],
            ["治安", "Public safety"]
        );
        assert!(!both.lacks(Lang::Zh) && !both.lacks(Lang::En));

        let zh_only = Text::Each {
            zh: Some("沙面街道".into()),
            en: None,
        };
        assert_eq!(zh_only.get(Lang::En), "沙面街道");
        assert!(zh_only.lacks(Lang::En) && !zh_only.lacks(Lang::Zh));
        assert_eq!(zh_only.own(Lang::En), None);

        // A plain string is the same text in every language: nothing is missing.
        let same = Text::same("%");
        assert_eq!([same.get(Lang::Zh), same.get(Lang::En)], ["%", "%"]);
        assert!(!same.lacks(Lang::En) && !same.lacks(Lang::Zh));
    }

    #[test]
    fn unit_name_columns_are_listed_once() {
        let units = |name| Units {
            key: "k".into(),
            name,
            period: None,
            group: None,
        };
        let per_lang = units(Some(Text::new("district_name", "district_name_en")));
        assert_eq!(
            per_lang.name_columns(),
            ["district_name", "district_name_en"]
        );
        assert_eq!(units(Some(Text::same("n"))).name_columns(), ["n"]);
        assert!(units(None).name_columns().is_empty());
    }

    #[test]
    fn groups_are_told_apart_by_their_first_column() {
        let units = |group| Units {
            key: "k".into(),
            name: None,
            period: None,
            group,
        };
        let per_lang = units(Some(Text::new("district_name", "district_name_en")));
        assert_eq!(
            per_lang.group_columns(),
            ["district_name", "district_name_en"]
        );
        assert_eq!(per_lang.group_column(), Some("district_name"));
        let en_only = units(Some(Text::Each {
            zh: None,
            en: Some("district_name_en".into()),
        }));
        assert_eq!(en_only.group_column(), Some("district_name_en"));
        assert_eq!(units(Some(Text::same("g"))).group_column(), Some("g"));
        assert_eq!(units(None).group_column(), None);
    }
}
