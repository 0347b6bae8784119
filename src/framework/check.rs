//! `check`: the raw TOML tree → a validated [`Framework`], or every problem at once.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, Diagnostics, Severity, SourceFile, did_you_mean};
use super::expr;
use super::methods::{self, Scope};
use super::model::*;
use super::read::{Sink, Sp, TableReader};
use crate::pipeline::methods::{Direction, Impute};

/// Largest weight: weights are relative, and sums of weights times scores must stay finite.
pub const MAX_WEIGHT: f64 = 1e12;

/// File extensions kapok reads, by format.
pub const DATA_EXTENSIONS: &[&str] = &["csv", "parquet", "arrow", "ipc", "feather", "xlsx"];

/// Checks a framework's text. `dir` is the directory source paths are relative to.
pub fn check(file: SourceFile, dir: &Path) -> Result<Framework, Diagnostics> {
    let text = file.text.clone();
    let root = match DeTable::parse(&text) {
        Ok(root) => root,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let d = Diagnostic::error(span, format!("invalid TOML: {}", e.message().trim()))
                .with_label("here");
            return Err(Diagnostics {
                file,
                items: vec![d],
            });
        }
    };
    let mut sink = Sink::default();
    let fw = Checker {
        sink: &mut sink,
        dir,
        text: &text,
    }
    .framework(root.get_ref(), root.span());
    let mut items = sink.diags;
    items.sort_by_key(|d| (d.span.start, d.span.end));
    let errors = items.iter().any(|d| d.severity == Severity::Error);
    match fw {
        Some(mut fw) if !errors => {
            fw.file = file;
            fw.warnings = items;
            Ok(fw)
        }
        _ => Err(Diagnostics { file, items }),
    }
}

struct Checker<'s> {
    sink: &'s mut Sink,
    dir: &'s Path,
    text: &'s str,
}

/// A node as read, before the tree is built.
struct RawNode {
    id: Sp<String>,
    name: Name,
    /// `parent`: one id or several (empty: the index).
    parents: Vec<Sp<String>>,
    /// `weight`: one number (under every parent) or one per parent (empty: 1).
    weights: Vec<Sp<f64>>,
    /// The weight `[weights]` gives (under the first parent).
    weight_override: Option<Sp<f64>>,
    kind: NodeKind,
    is_dimension: bool,
    /// `formula`, compiled once the node's children are known.
    formula: Option<Sp<String>>,
    /// `direction = "lower"` on the index or a dimension: its span.
    lower: Option<Range<usize>>,
}

fn placeholder_name() -> Name {
    Text::default()
}

/// How a display text is written, for messages.
const TEXT_FORMS: &str = "a string or a table like { zh = \"…\", en = \"…\" }";

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Checker<'_> {
    /// Reports a weight below 0 or above [`MAX_WEIGHT`]; true when it is in range.
    fn weight_in_range(&mut self, w: &Sp<f64>) -> bool {
        if w.value < 0.0 {
            self.sink.push(
                Diagnostic::error(w.span.clone(), format!("weight {} is negative", w.value))
                    .with_label("weights must be ≥ 0"),
            );
            return false;
        }
        if w.value > MAX_WEIGHT {
            self.sink.push(
                Diagnostic::error(w.span.clone(), format!("weight {} is too large", w.value))
                    .with_label(format!("weights must be at most {MAX_WEIGHT:e}"))
                    .with_hint("weights are relative within a parent: 1, 2, 3 weigh the same as 1e12, 2e12, 3e12, and sums of huge weights overflow"),
            );
            return false;
        }
        true
    }

    /// The `[weights]` table: `id = weight` for any node but the index, overriding the weight
    /// its own table gives (what `kapok serve` exports, so that chosen weights can be appended
    /// to a framework as they are).
    fn weights(&mut self, t: &DeTable<'_>, index: &RawNode, raw: &mut [RawNode]) {
        for (k, v) in t.iter() {
            let id = k.get_ref().as_ref();
            let Some(w) = super::read::as_number(v.get_ref()) else {
                self.sink.push(
                    Diagnostic::error(
                        v.span(),
                        format!(
                            "the weight of `{id}` in [weights] must be a number, not {}",
                            super::read::type_name(v.get_ref())
                        ),
                    )
                    .with_label("expected a number"),
                );
                continue;
            };
            let w = Sp::new(w, v.span());
            if !self.weight_in_range(&w) {
                continue;
            }
            if id == index.id.value {
                self.sink.push(
                    Diagnostic::error(
                        k.span(),
                        format!("`{id}` is the index, which has no weight"),
                    )
                    .with_label("the index")
                    .with_hint("[weights] sets the weights of dimensions and indicators"),
                );
                continue;
            }
            match raw.iter_mut().find(|n| n.id.value == id) {
                Some(n) => n.weight_override = Some(w),
                None => {
                    let mut d = Diagnostic::error(k.span(), format!("no node has the id `{id}`"))
                        .with_label("unknown id");
                    if let Some(h) = did_you_mean(id, raw.iter().map(|n| n.id.value.as_str())) {
                        d = d.with_hint(h);
                    }
                    self.sink.push(d);
                }
            }
        }
    }

    fn framework(&mut self, root: &DeTable<'_>, span: Range<usize>) -> Option<Framework> {
        let mut r = TableReader::new(root, span.start..span.start, "the framework");
        let index = self.section(&mut r, "index");
        let units = self.section(&mut r, "units");
        let defaults = r.table(self.sink, "defaults");
        let rank = r.table(self.sink, "rank");
        let charts = r.table(self.sink, "charts");
        let report = r.table(self.sink, "report");
        let rollup = r.table(self.sink, "rollup");
        let trend = r.table(self.sink, "trend");
        let uncertainty = r.table(self.sink, "uncertainty");
        let weights = r.table(self.sink, "weights");
        let sources = self.array(&mut r, "source");
        let dims = self.array(&mut r, "dimension");
        let inds = self.array(&mut r, "indicator");
        r.finish(self.sink);

        let (units, per) = match units.and_then(|(t, s)| self.units(t, s)) {
            Some((u, per)) => (Some(u), per),
            None => (None, None),
        };
        let rollup = super::rollup::read(self.sink, rollup, per);
        let defaults = defaults.map_or_else(Defaults::default, |(t, s)| {
            self.defaults(t, s, units.as_ref())
        });
        let rank = rank.map_or_else(RankSpec::default, |(t, s)| self.rank(t, s));
        let charts = charts.map_or_else(ChartFiles::default, |(t, s)| self.charts(t, s));
        let report = report.map_or_else(Default::default, |(t, s)| {
            super::header::read(self.sink, t, s)
        });
        let trend = trend.map_or_else(Default::default, |(t, s)| {
            super::trend::read(self.sink, t, s)
        });
        let index = index.and_then(|(t, s)| self.index(t, s));
        let declared: Vec<String> = sources
            .iter()
            .filter_map(|(t, _)| t.get("name")?.get_ref().as_str().map(str::to_string))
            .collect();
        let sources: Vec<Source> = sources
            .iter()
            .filter_map(|(t, s)| self.source(t, s.clone(), &declared))
            .collect();
        self.unique_sources(&sources);
        if sources.iter().all(|s| !s.join) {
            self.sink.push(
                Diagnostic::error(
                    span.start..span.start,
                    "the framework has no data source to join",
                )
                .with_label("add a [[source]] table")
                .with_hint(
                    "declare at least one [[source]] with `name` and `path`, or run with --data",
                ),
            );
        }
        let mut raw = Vec::new();
        for (t, s) in &dims {
            raw.extend(self.node(t, s.clone(), true, units.as_ref()));
        }
        for (t, s) in &inds {
            raw.extend(self.node(t, s.clone(), false, units.as_ref()));
        }
        if inds.is_empty() {
            self.sink.push(
                Diagnostic::error(span.start..span.start, "the framework has no indicator")
                    .with_label("add an [[indicator]] table"),
            );
        }
        // `[uncertainty]` names nodes and methods: it is checked against the framework, or
        // only for what needs none when the rest of the file has errors.
        let unchecked = |sink: &mut Sink| {
            if let Some((t, s)) = &uncertainty {
                super::uncertainty::read(sink, t, s.clone(), self.text, None);
            }
        };
        let (Some((index, description)), Some(units)) = (index, units) else {
            unchecked(self.sink);
            return None;
        };
        if let Some((t, _)) = weights {
            self.weights(t, &index, &mut raw);
        }
        let Some(nodes) = self.tree(index, raw) else {
            unchecked(self.sink);
            return None;
        };
        let mut fw = Framework {
            file: SourceFile::new("", ""),
            dir: self.dir.to_path_buf(),
            description,
            units,
            defaults,
            rank,
            charts,
            report,
            trend,
            sources,
            nodes,
            warnings: Vec::new(),
            rollup,
            uncertainty: None,
        };
        fw.uncertainty = uncertainty
            .and_then(|(t, s)| super::uncertainty::read(self.sink, t, s, self.text, Some(&fw)));
        Some(fw)
    }

    fn section<'a, 'i>(
        &mut self,
        r: &mut TableReader<'a, 'i>,
        key: &str,
    ) -> Option<(&'a DeTable<'i>, Range<usize>)> {
        if r.key_span(key).is_none() {
            r.missing(self.sink, key, &format!("a [{key}] table"));
            r.get(key);
            return None;
        }
        r.table(self.sink, key)
    }

    fn array<'a, 'i>(
        &mut self,
        r: &mut TableReader<'a, 'i>,
        key: &str,
    ) -> Vec<(&'a DeTable<'i>, Range<usize>)> {
        let Some(v) = r.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.sink.push(
                Diagnostic::error(
                    v.span(),
                    format!("`{key}` must be written as [[{key}]] tables"),
                )
                .with_label("expected an array of tables"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match item.get_ref() {
                DeValue::Table(t) => Some((t, item.span())),
                _ => {
                    self.sink.push(
                        Diagnostic::error(item.span(), format!("each `{key}` must be a table"))
                            .with_label("expected a table"),
                    );
                    None
                }
            })
            .collect()
    }

    fn ident(&mut self, r: &mut TableReader<'_, '_>) -> Option<Sp<String>> {
        let id = r.req_str(self.sink, "id")?;
        if !is_ident(&id.value) {
            self.sink.push(
                Diagnostic::error(id.span.clone(), format!("`{}` is not a valid id", id.value))
                    .with_label("invalid id")
                    .with_hint("ids start with a letter and contain only letters, digits and `_`"),
            );
        }
        Some(id)
    }

    fn name(&mut self, r: &mut TableReader<'_, '_>) -> Option<Name> {
        if r.key_span("name").is_none() {
            r.missing(self.sink, "name", TEXT_FORMS);
            r.get("name");
            return None;
        }
        self.text(r, "name")
    }

    /// A display text (see [`text`]).
    fn text(&mut self, r: &mut TableReader<'_, '_>, key: &str) -> Option<Text> {
        text(self.sink, r, key)
    }

    fn index(&mut self, t: &DeTable<'_>, span: Range<usize>) -> Option<(RawNode, Option<Text>)> {
        let mut r = TableReader::new(t, span, "[index]");
        let id = self.ident(&mut r);
        let name = self.name(&mut r);
        let description = self.text(&mut r, "description");
        let (agg, formula, lower) = self.aggregate_keys(&mut r);
        r.finish(self.sink);
        let node = RawNode {
            id: id?,
            name: name?,
            parents: Vec::new(),
            weights: Vec::new(),
            weight_override: None,
            kind: NodeKind::Aggregate(agg),
            is_dimension: false,
            formula,
            lower,
        };
        Some((node, description))
    }

    fn units(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
    ) -> Option<(Units, Option<Sp<crate::period::Granularity>>)> {
        let mut r = TableReader::new(t, span, "[units]");
        let key = r.req_str(self.sink, "key");
        let name = self.text(&mut r, "name");
        let period = r.str(self.sink, "period");
        let group = self.text(&mut r, "group");
        let per = super::rollup::per(self.sink, &mut r);
        if let (Some(p), None) = (&per, &period) {
            self.sink.push(
                Diagnostic::error(p.span.clone(), "`per` needs a period column")
                    .with_label("no [units] period")
                    .with_hint("add `period = \"<column>\"` to [units]"),
            );
        }
        r.finish(self.sink);
        let units = Units {
            key: key?.value,
            name,
            period: period.map(|s| s.value),
            group,
        };
        Some((units, per))
    }

    fn defaults(&mut self, t: &DeTable<'_>, span: Range<usize>, units: Option<&Units>) -> Defaults {
        let mut r = TableReader::new(t, span, "[defaults]");
        let mut d = Defaults::default();
        if let Some(s) = r.get("screen").and_then(|v| methods::screen(v, self.sink)) {
            d.screen = s;
        }
        if let Some(v) = r.get("impute")
            && let Some(m) = methods::impute(v, self.sink)
        {
            self.group_needed(&m, v, units);
            d.impute = m;
        }
        if let Some(m) = r.get("treat").and_then(|v| methods::treat(v, self.sink)) {
            d.treat = m;
        }
        if let Some(m) = r
            .get("normalize")
            .and_then(|v| methods::normalise(v, self.sink, Scope::Defaults))
        {
            d.normalise = m;
        }
        if let Some(m) = r
            .get("aggregate")
            .and_then(|v| methods::aggregate(v, self.sink))
        {
            d.aggregate = m;
        }
        for key in ["screen", "impute", "treat", "normalize", "aggregate"] {
            if let Some(v) = t.get(key)
                && let Some(text) = self.text.get(v.span())
            {
                d.source.insert(key.to_string(), text.to_string());
            }
        }
        r.finish(self.sink);
        d
    }

    fn charts(&mut self, t: &DeTable<'_>, span: Range<usize>) -> ChartFiles {
        let mut r = TableReader::new(t, span, "[charts]");
        let mut file = |r: &mut TableReader<'_, '_>, key: &str, exts: &[&str]| {
            let p = r.str(self.sink, key)?;
            let ok = Path::new(&p.value)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)));
            if !ok {
                self.sink.push(
                    Diagnostic::error(
                        p.span,
                        format!("`{key}` must name a .{} file", exts.join(" or .")),
                    )
                    .with_label("unexpected file type"),
                );
                return None;
            }
            Some(self.dir.join(&p.value))
        };
        let tiles = file(&mut r, "tiles", &["csv"]);
        let geojson = file(&mut r, "geojson", &["geojson", "json"]);
        r.finish(self.sink);
        ChartFiles { tiles, geojson }
    }

    fn rank(&mut self, t: &DeTable<'_>, span: Range<usize>) -> RankSpec {
        let mut r = TableReader::new(t, span, "[rank]");
        let only = r.str(self.sink, "only");
        let digits = r.number(self.sink, "digits");
        r.finish(self.sink);
        let mut spec = RankSpec::default();
        if let Some(d) = digits {
            if d.value.fract() == 0.0 && (0.0..=15.0).contains(&d.value) {
                spec.digits = Some(d.value as u32);
            } else {
                self.sink.push(
                    Diagnostic::error(d.span, format!("`digits` = {} is invalid", d.value))
                        .with_label("a whole number from 0 to 15"),
                );
            }
        }
        if let Some(o) = only {
            let offset = self.value_offset(&o.value, o.span.clone());
            if let Err(e) = expr::analyse(&o.value) {
                let at = offset.map_or(o.span.clone(), |at| {
                    at + e.range.start..at + e.range.end.max(e.range.start + 1)
                });
                self.sink
                    .push(Diagnostic::error(at, e.message).with_label("in this condition"));
            }
            spec.only = Some(o.value);
            spec.only_span = o.span;
            spec.only_offset = offset;
        }
        spec
    }

    fn group_needed(&mut self, m: &Impute, v: &Spanned<DeValue<'_>>, units: Option<&Units>) {
        if m.needs_periods() && units.is_some_and(|u| u.period.is_none()) {
            self.sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "`{}` takes values from other periods, but the framework has no periods",
                        m.steps().iter().find(|s| s.is_panel()).map_or("", |s| s.name())
                    ),
                )
                .with_label("no [units] period")
                .with_hint("add `period = \"<column>\"` to [units], or use a method of one period such as \"median\""),
            );
        }
        if m.needs_groups() && units.is_some_and(|u| u.group.is_none()) {
            self.sink.push(
                Diagnostic::error(v.span(), "group imputation needs a group column")
                    .with_label("no [units] group")
                    .with_hint(
                        "add `group = \"<column>\"` to [units], or use \"mean\" / \"median\"",
                    ),
            );
        }
    }

    fn source(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        declared: &[String],
    ) -> Option<Source> {
        let mut r = TableReader::new(t, span, "a [[source]]");
        let name = r.req_str(self.sink, "name");
        if let Some(n) = &name {
            r.what = format!("source `{}`", n.value);
        }
        let path = r.req_str(self.sink, "path");
        let sheet = r.str(self.sink, "sheet");
        let query = r.str(self.sink, "query");
        let join = r.bool(self.sink, "join").is_none_or(|b| b.value);
        let intake = self.intake(&mut r);
        r.finish(self.sink);
        if let Some(p) = &path {
            let ext = Path::new(&p.value)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            if !DATA_EXTENSIONS.contains(&ext.as_str()) {
                self.sink.push(
                    Diagnostic::error(p.span.clone(), format!("kapok cannot read `.{ext}` files"))
                        .with_label("unknown file type")
                        .with_hint(format!("use one of: .{}", DATA_EXTENSIONS.join(", ."))),
                );
            }
            if let Some(s) = &sheet
                && ext != "xlsx"
            {
                self.sink.push(
                    Diagnostic::error(s.span.clone(), "`sheet` only applies to .xlsx files")
                        .with_label("not a workbook"),
                );
            }
            for (key, span, exts) in &intake.1 {
                if !exts.contains(&ext.as_str()) {
                    self.sink.push(
                        Diagnostic::error(
                            span.clone(),
                            format!("`{key}` only applies to .{} files", exts.join(" and .")),
                        )
                        .with_label(format!("not a .{} file", exts.join(" or ."))),
                    );
                }
            }
        }
        if let Some(q) = &query {
            let offset = self.value_offset(&q.value, q.span.clone());
            let tables: Vec<&str> = declared.iter().map(String::as_str).collect();
            for e in expr::check_query(&q.value, &tables) {
                self.sink.push(
                    Diagnostic::error(inside(offset, &q.span, &e.range), e.message)
                        .with_label("in this query"),
                );
            }
        }
        let name = name?;
        let path = path?;
        Some(Source {
            resolved: self.dir.join(&path.value),
            name_span: name.span.clone(),
            name: name.value,
            path: path.value,
            sheet: sheet.map(|s| s.value),
            query_span: query.as_ref().map(|q| q.span.clone()),
            query: query.map(|q| q.value),
            join,
            intake: intake.0,
        })
    }

    /// The reading options of a source (`encoding`, `numbers`, `missing`, `header_row`), with
    /// the span of each one set and the file types it applies to.
    #[allow(clippy::type_complexity)]
    fn intake(
        &mut self,
        r: &mut TableReader<'_, '_>,
    ) -> (
        Intake,
        Vec<(&'static str, Range<usize>, &'static [&'static str])>,
    ) {
        const TEXT: &[&str] = &["csv", "xlsx"];
        let mut out = Intake::default();
        let mut set = Vec::new();
        if let Some(e) = r.str(self.sink, "encoding") {
            match encoding_rs::Encoding::for_label_no_replacement(e.value.as_bytes()) {
                Some(enc) => out.encoding = Some(enc.name().to_string()),
                None => self.sink.push(
                    Diagnostic::error(e.span.clone(), format!("unknown encoding `{}`", e.value))
                        .with_label("not an encoding")
                        .with_hint(
                            "use \"gbk\" or \"gb18030\" for Chinese Excel's CSV export, \"utf-8\" (the default), \"big5\", \"utf-16le\", …",
                        ),
                ),
            }
            set.push(("encoding", e.span, &["csv"][..]));
        }
        if let Some(n) = r.str(self.sink, "numbers") {
            match n.value.as_str() {
                "plain" => out.numbers = NumberStyle::Plain,
                "lenient" => out.numbers = NumberStyle::Lenient,
                other => self.sink.push(
                    Diagnostic::error(n.span.clone(), format!("unknown number style `{other}`"))
                        .with_label("not a number style")
                        .with_hint(did_you_mean(other, ["plain", "lenient"]).unwrap_or_else(
                            || "use \"plain\" (the default) or \"lenient\"".to_string(),
                        )),
                ),
            }
            set.push(("numbers", n.span, TEXT));
        }
        if let Some(span) = r.key_span("missing")
            && let Some(list) = r.str_list(self.sink, "missing")
        {
            for m in list {
                if m.value.trim().is_empty() {
                    self.sink.push(
                        Diagnostic::error(m.span, "a missing-value marker cannot be blank")
                            .with_label("blank")
                            .with_hint("empty cells are always missing values"),
                    );
                } else {
                    out.missing.push(m.value.trim().to_string());
                }
            }
            set.push(("missing", span, TEXT));
        }
        if let Some(h) = r.get("header_row") {
            match h.get_ref() {
                DeValue::Integer(i) => match i.as_str().replace('_', "").parse::<usize>() {
                    Ok(n) if n >= 1 && i.radix() == 10 => out.header_row = Some(n),
                    _ => self.sink.push(
                        Diagnostic::error(h.span(), "`header_row` must be a line or row number ≥ 1")
                            .with_label("not a row number"),
                    ),
                },
                other => self.sink.push(
                    Diagnostic::error(
                        h.span(),
                        format!(
                            "`header_row` must be an integer (the 1-based row of the header), not {}",
                            super::read::type_name(other)
                        ),
                    )
                    .with_label("expected an integer"),
                ),
            }
            set.push(("header_row", h.span(), TEXT));
        }
        (out, set)
    }

    fn unique_sources(&mut self, sources: &[Source]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, s) in sources.iter().enumerate() {
            if seen.insert(&s.name, i).is_some() {
                let span = s.name_span.clone();
                self.sink.push(
                    Diagnostic::error(span, format!("two sources are named `{}`", s.name))
                        .with_label("duplicate source name"),
                );
            }
        }
    }

    fn node(
        &mut self,
        t: &DeTable<'_>,
        span: Range<usize>,
        is_dimension: bool,
        units: Option<&Units>,
    ) -> Option<RawNode> {
        let kind_name = if is_dimension {
            "dimension"
        } else {
            "indicator"
        };
        let mut r = TableReader::new(t, span.clone(), format!("a [[{kind_name}]]"));
        let id = self.ident(&mut r);
        if let Some(id) = &id {
            r.what = format!("{kind_name} `{}`", id.value);
        }
        let name = self.name(&mut r);
        let parents = self.parents(&mut r);
        let weights = self.node_weights(&mut r, parents.len());
        let (formula, lower);
        let kind = if is_dimension {
            let agg;
            (agg, formula, lower) = self.aggregate_keys(&mut r);
            NodeKind::Aggregate(agg)
        } else {
            let unit = self.text(&mut r, "unit").unwrap_or_default();
            let direction = r
                .req_str(self.sink, "direction")
                .and_then(|d| self.direction(&d));
            let expr_value = r.str(self.sink, "expr");
            let denominator = r.str(self.sink, "denominator");
            let denominator_scale = match r.number(self.sink, "denominator_scale") {
                Some(v) if v.value > 0.0 => v.value,
                Some(v) => {
                    self.sink.push(
                        Diagnostic::error(v.span, "`denominator_scale` must be > 0")
                            .with_label("not positive"),
                    );
                    1.0
                }
                None => 1.0,
            };
            let impute = r.get("impute").and_then(|v| {
                let m = methods::impute(v, self.sink)?;
                self.group_needed(&m, v, units);
                Some(m)
            });
            let treat = r.get("treat").and_then(|v| methods::treat(v, self.sink));
            let normalise = r
                .get("normalize")
                .and_then(|v| methods::normalise(v, self.sink, Scope::Own));
            let (text, expr_offset, expr_span) = match (&expr_value, &id) {
                (Some(e), _) => (
                    e.value.clone(),
                    self.value_offset(&e.value, e.span.clone()),
                    e.span.clone(),
                ),
                (None, Some(id)) => (id.value.clone(), None, id.span.clone()),
                (None, None) => (String::new(), None, span.clone()),
            };
            if expr_value.is_some() || id.is_some() {
                match expr::analyse(&text) {
                    Ok(info) => {
                        if info.uses_lag && units.is_some_and(|u| u.period.is_none()) {
                            self.sink.push(
                                Diagnostic::error(
                                    expr_span.clone(),
                                    "`lag(...)` needs a period column",
                                )
                                .with_label("no [units] period")
                                .with_hint("add `period = \"<column>\"` to [units]"),
                            );
                        }
                    }
                    Err(e) => {
                        let span = expr_offset.map_or(expr_span.clone(), |o| {
                            o + e.range.start..o + e.range.end.max(e.range.start + 1)
                        });
                        self.sink.push(
                            Diagnostic::error(span, e.message).with_label("in this expression"),
                        );
                    }
                }
            }
            r.finish(self.sink);
            // A node with other errors still takes part in the tree checks (duplicate ids,
            // parents); the framework is not returned while any error stands.
            return Some(RawNode {
                id: id?,
                name: name.unwrap_or_else(placeholder_name),
                parents,
                weights,
                weight_override: None,
                formula: None,
                lower: None,
                kind: NodeKind::Indicator(IndicatorSpec {
                    unit,
                    direction: direction.unwrap_or(Direction::Higher),
                    expr: text,
                    expr_offset,
                    expr_span,
                    denominator: denominator.map(|d| (d.value, d.span)),
                    denominator_scale,
                    impute,
                    treat,
                    normalise,
                }),
                is_dimension,
            });
        };
        r.finish(self.sink);
        Some(RawNode {
            id: id?,
            name: name.unwrap_or_else(placeholder_name),
            parents,
            weights,
            weight_override: None,
            kind,
            is_dimension,
            formula,
            lower,
        })
    }

    /// `parent`: one id or an array of ids.
    fn parents(&mut self, r: &mut TableReader<'_, '_>) -> Vec<Sp<String>> {
        match r.get("parent").map(|v| (v, v.get_ref())) {
            None => Vec::new(),
            Some((v, DeValue::String(p))) => vec![Sp::new(p.to_string(), v.span())],
            Some((_, DeValue::Array(items))) if !items.is_empty() => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::String(p) => Some(Sp::new(p.to_string(), item.span())),
                    other => {
                        self.sink.push(
                            Diagnostic::error(
                                item.span(),
                                format!(
                                    "a parent must be an id, not {}",
                                    super::read::type_name(other)
                                ),
                            )
                            .with_label("expected a string"),
                        );
                        None
                    }
                })
                .collect(),
            Some((v, _)) => {
                self.sink.push(
                    Diagnostic::error(
                        v.span(),
                        format!("`parent` in {} must be an id or an array of ids", r.what),
                    )
                    .with_label("expected \"id\" or [\"id\", \"id\"]"),
                );
                Vec::new()
            }
        }
    }

    /// `weight`: one number, or one per parent when the node has several.
    fn node_weights(&mut self, r: &mut TableReader<'_, '_>, parents: usize) -> Vec<Sp<f64>> {
        let Some(v) = r.get("weight") else {
            return Vec::new();
        };
        let weights: Vec<Sp<f64>> = match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|i| match super::read::as_number(i.get_ref()) {
                    Some(n) if n.is_finite() => Some(Sp::new(n, i.span())),
                    _ => {
                        self.sink.push(
                            Diagnostic::error(i.span(), "a weight must be a finite number")
                                .with_label("expected a number"),
                        );
                        None
                    }
                })
                .collect(),
            other => match super::read::as_number(other) {
                Some(n) if n.is_finite() => vec![Sp::new(n, v.span())],
                _ => {
                    self.sink.push(
                        Diagnostic::error(
                            v.span(),
                            format!(
                                "`weight` in {} must be a number (or one per parent)",
                                r.what
                            ),
                        )
                        .with_label("expected a number"),
                    );
                    return Vec::new();
                }
            },
        };
        if matches!(v.get_ref(), DeValue::Array(_)) && weights.len() != parents.max(1) {
            self.sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "{} weights for {} parent{}",
                        weights.len(),
                        parents.max(1),
                        if parents.max(1) == 1 { "" } else { "s" }
                    ),
                )
                .with_label("one weight per parent")
                .with_hint("write one number for the same weight under every parent, or one per parent in the order of `parent`"),
            );
            return Vec::new();
        }
        weights
            .into_iter()
            .filter(|w| self.weight_in_range(w))
            .collect()
    }

    /// `aggregate`, `formula` and `direction` of the index or a dimension.
    fn aggregate_keys(
        &mut self,
        r: &mut TableReader<'_, '_>,
    ) -> (Option<AggSpec>, Option<Sp<String>>, Option<Range<usize>>) {
        let agg = r
            .get("aggregate")
            .and_then(|v| methods::aggregate(v, self.sink));
        let formula = r.str(self.sink, "formula");
        if let (Some(f), Some(a)) = (&formula, r.key_span("aggregate")) {
            let line = self.text[..a.start].matches('\n').count() + 1;
            self.sink.push(
                Diagnostic::error(
                    f.span.clone(),
                    format!(
                        "{} has both a `formula` and an `aggregate` (line {line})",
                        r.what
                    ),
                )
                .with_label("a formula replaces the aggregation")
                .with_hint("keep one: the formula computes the score from the children's scores"),
            );
        }
        let lower = r
            .str(self.sink, "direction")
            .filter(|d| self.direction(d) == Some(Direction::Lower))
            .map(|d| d.span);
        (agg, formula, lower)
    }

    /// A `direction` value: `"higher"` or `"lower"`; anything else is reported.
    fn direction(&mut self, d: &Sp<String>) -> Option<Direction> {
        match d.value.as_str() {
            "higher" => Some(Direction::Higher),
            "lower" => Some(Direction::Lower),
            other => {
                self.sink.push(
                    Diagnostic::error(d.span.clone(), format!("unknown direction `{other}`"))
                        .with_label("expected \"higher\" or \"lower\"")
                        .with_hint_opt(did_you_mean(other, ["higher", "lower"])),
                );
                None
            }
        }
    }

    /// Byte offset in the file where a string value's text starts, when the text appears
    /// verbatim between the quotes (no escapes), so that positions inside it map one to one.
    fn value_offset(&self, value: &str, span: Range<usize>) -> Option<usize> {
        locate(self.text, value, span)
    }

    fn tree(&mut self, index: RawNode, raw: Vec<RawNode>) -> Option<Vec<Node>> {
        // Arena: index, dimensions, indicators (raw is already dimensions first).
        let mut all = vec![index];
        all.extend(raw);
        let mut ok = true;
        let mut ids: HashMap<String, usize> = HashMap::new();
        for (i, n) in all.iter().enumerate() {
            if let Some(&first) = ids.get(&n.id.value) {
                let line = self.line(all[first].id.span.start);
                self.sink.push(
                    Diagnostic::error(
                        n.id.span.clone(),
                        format!("duplicate id `{}` (first used on line {line})", n.id.value),
                    )
                    .with_label("already used")
                    .with_hint("every index, dimension and indicator id must be unique"),
                );
                ok = false;
            } else {
                ids.insert(n.id.value.clone(), i);
            }
        }
        // Every node's parents, each with the span naming it (the node's id for the index).
        let mut parents: Vec<Vec<(usize, Range<usize>)>> = vec![Vec::new(); all.len()];
        for (i, slot) in parents.iter_mut().enumerate().skip(1) {
            match self.resolve_parents(&all, &ids, i) {
                Some(p) => *slot = p,
                None => ok = false,
            }
        }
        let parents_resolved = parents.iter().skip(1).all(|p| !p.is_empty());
        if !self.acyclic(&all, &parents) {
            ok = false;
        }
        let mut nodes: Vec<Node> = all
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let w = |k: usize| {
                    let given = n.weights.get(k).or(n.weights.first());
                    match (&n.weight_override, k) {
                        (Some(o), 0) => o.value,
                        _ => given.map_or(1.0, |w| w.value),
                    }
                };
                Node {
                    id: n.id.value.clone(),
                    name: n.name.clone(),
                    parent: parents[i].first().map(|p| p.0),
                    shared: parents[i]
                        .iter()
                        .enumerate()
                        .skip(1)
                        .map(|(k, p)| Edge {
                            parent: p.0,
                            weight: w(k),
                        })
                        .collect(),
                    children: Vec::new(),
                    weight: w(0),
                    lower_is_better: n.lower.is_some(),
                    span: n.id.span.clone(),
                    kind: n.kind.clone(),
                }
            })
            .collect();
        for (i, ps) in parents.iter().enumerate() {
            for &(p, _) in ps {
                nodes[p].children.push(i);
            }
        }
        let formulas: Vec<bool> = all.iter().map(|n| n.formula.is_some()).collect();
        if !self.children_and_weights(&nodes, &formulas, parents_resolved) {
            ok = false;
        }
        for i in 0..all.len() {
            if !self.formula_and_direction(&all, &mut nodes, i) {
                ok = false;
            }
        }
        ok.then_some(nodes)
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.text[..offset].matches('\n').count() + 1
    }

    /// The parents of node `i` (the index when it names none), or `None` after reporting an
    /// unknown parent, an indicator as parent, or a parent named twice.
    fn resolve_parents(
        &mut self,
        all: &[RawNode],
        ids: &HashMap<String, usize>,
        i: usize,
    ) -> Option<Vec<(usize, Range<usize>)>> {
        let n = &all[i];
        if n.parents.is_empty() {
            return Some(vec![(0, n.id.span.clone())]);
        }
        let parent_ids: Vec<&str> = std::iter::once(all[0].id.value.as_str())
            .chain(
                all.iter()
                    .filter(|n| n.is_dimension)
                    .map(|n| n.id.value.as_str()),
            )
            .collect();
        let mut out: Vec<(usize, Range<usize>)> = Vec::new();
        let mut ok = true;
        for p in &n.parents {
            match ids.get(&p.value) {
                Some(&j) if out.iter().any(|o| o.0 == j) => {
                    self.sink.push(
                        Diagnostic::error(p.span.clone(), format!("parent `{}` is named twice", p.value))
                            .with_label("already a parent of this node")
                            .with_hint("name each parent once; a weight per parent says how much the node counts there"),
                    );
                    ok = false;
                }
                Some(&j) if j == i => {
                    self.sink.push(
                        Diagnostic::error(
                            p.span.clone(),
                            format!("`{}` names itself as its parent", p.value),
                        )
                        .with_label("a node cannot be its own parent"),
                    );
                    ok = false;
                }
                Some(&j) if j == 0 || all[j].is_dimension => out.push((j, p.span.clone())),
                Some(_) => {
                    self.sink.push(
                        Diagnostic::error(
                            p.span.clone(),
                            format!("parent `{}` is an indicator", p.value),
                        )
                        .with_label("indicators cannot have children")
                        .with_hint_opt(did_you_mean(&p.value, parent_ids.iter().copied())),
                    );
                    ok = false;
                }
                None => {
                    self.sink.push(
                        Diagnostic::error(p.span.clone(), format!("unknown parent `{}`", p.value))
                            .with_label("no dimension has this id")
                            .with_hint(
                                did_you_mean(&p.value, parent_ids.iter().copied()).unwrap_or_else(
                                    || format!("known parents: {}", parent_ids.join(", ")),
                                ),
                            ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// Reports every cycle among the parents (a node that leads back to itself instead of up
    /// to the index), naming where two of its links are declared; true when there is none.
    fn acyclic(&mut self, all: &[RawNode], parents: &[Vec<(usize, Range<usize>)>]) -> bool {
        // Depth-first over parent links: 0 unseen, 1 on the current path, 2 done.
        let mut state = vec![0u8; all.len()];
        let mut ok = true;
        for start in 1..all.len() {
            if state[start] != 0 {
                continue;
            }
            // (node, next parent to follow)
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (u, ref mut k)) = path.last_mut() {
                let Some((p, span)) = parents[u].get(*k).cloned() else {
                    state[u] = 2;
                    path.pop();
                    continue;
                };
                *k += 1;
                if p == 0 || state[p] == 2 {
                    continue;
                }
                if state[p] == 0 {
                    state[p] = 1;
                    path.push((p, 0));
                    continue;
                }
                // A back link u → p: the cycle is p → … → u → p.
                ok = false;
                let from = path.iter().position(|&(x, _)| x == p).unwrap_or(0);
                let members: Vec<&str> = path[from..]
                    .iter()
                    .map(|&(x, _)| all[x].id.value.as_str())
                    .collect();
                // Shown where the cycle's first member names the next one as its parent, with
                // the link that closes it (u naming p) in the hint.
                let (_, k_next) = path
                    .get(from + 1)
                    .map_or((u, 0), |&(x, _)| (x, path[from].1.saturating_sub(1)));
                let first_link = parents[p].get(k_next).map_or(span.clone(), |s| s.1.clone());
                let closing = self.line(span.start);
                self.sink.push(
                    Diagnostic::error(
                        first_link,
                        format!(
                            "cycle among the parents: {} → {}",
                            members.join(" → "),
                            members[0]
                        ),
                    )
                    .with_label("this parent leads back here")
                    .with_hint(format!(
                        "`{}` names `{}` as its parent on line {closing}; every dimension must lead up to the index",
                        all[u].id.value, all[p].id.value
                    )),
                );
            }
        }
        ok
    }

    /// Reports empty dimensions and parents whose children all weigh 0.
    fn children_and_weights(
        &mut self,
        nodes: &[Node],
        formulas: &[bool],
        parents_resolved: bool,
    ) -> bool {
        let mut ok = true;
        for (i, n) in nodes.iter().enumerate() {
            // A child whose parent did not resolve would make its intended parent look empty.
            if n.indicator().is_none() && n.children.is_empty() && parents_resolved {
                self.sink.push(
                    Diagnostic::error(n.span.clone(), format!("`{}` has no children", n.id))
                        .with_label("empty dimension")
                        .with_hint(
                            "give it indicators or dimensions with `parent = \"…\"`, or remove it",
                        ),
                );
                ok = false;
            } else if !formulas[i]
                && !n.children.is_empty()
                && n.children
                    .iter()
                    .all(|&c| nodes[c].weight_under(i, nodes[c].weight) == 0.0)
            {
                let c = n.children[0];
                self.sink.push(
                    Diagnostic::error(nodes[c].span.clone(), format!("every weight under `{}` is zero", n.id))
                        .with_label("weights cannot all be zero")
                        .with_hint("weights are relative within a parent: give at least one child a positive weight"),
                );
                ok = false;
            }
        }
        ok
    }

    /// Compiles node `i`'s formula over its children's ids, and checks `direction = "lower"`:
    /// on the index, or on a formula node whose every parent is a formula (a mean of scores
    /// that rank in opposite directions would mean nothing).
    fn formula_and_direction(&mut self, all: &[RawNode], nodes: &mut [Node], i: usize) -> bool {
        let mut ok = true;
        if let Some(text) = &all[i].formula {
            let names: Vec<&str> = nodes[i]
                .children
                .iter()
                .map(|&c| all[c].id.value.as_str())
                .collect();
            let offset = self.value_offset(&text.value, text.span.clone());
            match super::formula::Formula::compile(&text.value, &names) {
                Ok(f) => {
                    for (_, name) in names.iter().enumerate().filter(|(k, _)| !f.uses(*k)) {
                        self.sink.push(
                            Diagnostic::warning(
                                text.span.clone(),
                                format!(
                                    "`{name}` is a child of `{}`, but its formula does not use it",
                                    all[i].id.value
                                ),
                            )
                            .with_label("the formula")
                            .with_hint(format!(
                                "use `{name}` in the formula, or move it under another parent"
                            )),
                        );
                    }
                    nodes[i].kind = NodeKind::Aggregate(Some(AggSpec {
                        method: crate::pipeline::methods::Aggregate::Formula(f),
                        min_share: 0.0,
                    }));
                }
                Err(e) => {
                    self.sink.push(
                        Diagnostic::error(inside(offset, &text.span, &e.range), e.message)
                            .with_label("in this formula")
                            .with_hint(format!(
                                "a formula uses its children's ids and {}",
                                super::formula::SYNTAX
                            )),
                    );
                    ok = false;
                }
            }
        }
        if let Some(span) = &all[i].lower {
            let plain_parent = std::iter::once(nodes[i].parent)
                .flatten()
                .chain(nodes[i].shared.iter().map(|e| e.parent))
                .find(|&p| all[p].formula.is_none());
            if i != 0 && all[i].formula.is_none() {
                self.sink.push(
                    Diagnostic::error(span.clone(), format!("`direction` on dimension `{}` needs a formula", all[i].id.value))
                        .with_label("a mean of normalised scores ranks highest first")
                        .with_hint("direction = \"lower\" belongs on the index or on a dimension computed by a `formula`"),
                );
                ok = false;
            } else if let Some(p) = plain_parent.filter(|_| i != 0) {
                self.sink.push(
                    Diagnostic::error(span.clone(), format!("`{}` ranks lowest first, but its parent `{}` averages it as if higher were better", all[i].id.value, all[p].id.value))
                        .with_label("lower is better here")
                        .with_hint("a node ranked lowest first can be the index, or a child of formula nodes only"),
                );
                ok = false;
            }
        }
        ok
    }
}

/// The file range of `range` inside a string value that starts at `offset` (the whole value
/// at `span` when its text is not written verbatim).
fn inside(offset: Option<usize>, span: &Range<usize>, range: &Range<usize>) -> Range<usize> {
    offset.map_or(span.clone(), |o| {
        o + range.start..o + range.end.max(range.start + 1)
    })
}

/// Offset of `value`'s first character inside the TOML string literal at `span`.
pub fn locate(text: &str, value: &str, span: Range<usize>) -> Option<usize> {
    let raw = text.get(span.clone())?;
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * q.len() && raw.starts_with(q) && raw.ends_with(q) {
            let mut start = span.start + q.len();
            let mut inner = &raw[q.len()..raw.len() - q.len()];
            if q.len() == 3 {
                if let Some(rest) = inner.strip_prefix("\r\n") {
                    inner = rest;
                    start += 2;
                } else if let Some(rest) = inner.strip_prefix('\n') {
                    inner = rest;
                    start += 1;
                }
            }
            return (inner == value).then_some(start);
        }
    }
    None
}

/// The directory a framework file's sources are relative to.
pub fn base_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A display text: a plain string (the same in every language) or a table with `zh`, `en`
/// or both. Anything else is reported where it is written.
pub(super) fn text(sink: &mut Sink, r: &mut TableReader<'_, '_>, key: &str) -> Option<Text> {
    let v = r.get(key)?;
    let t = match v.get_ref() {
        DeValue::String(s) => return Some(Text::same(s.to_string())),
        DeValue::Table(t) => t,
        other => {
            sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "`{key}` in {} must be {TEXT_FORMS}, not {}",
                        r.what,
                        super::read::type_name(other)
                    ),
                )
                .with_label("expected a string or a { zh, en } table"),
            );
            return None;
        }
    };
    let mut tr = TableReader::new(t, v.span(), format!("the `{key}` of {}", r.what));
    let zh = tr.str(sink, "zh");
    let en = tr.str(sink, "en");
    let given = ["zh", "en"].iter().any(|k| tr.key_span(k).is_some());
    tr.finish(sink);
    if !given {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!("the `{key}` of {} gives no language", r.what),
            )
            .with_label("no `zh` or `en` here")
            .with_hint(format!("write {TEXT_FORMS}")),
        );
        return None;
    }
    (zh.is_some() || en.is_some()).then(|| Text::Each {
        zh: zh.map(|s| s.value),
        en: en.map(|s| s.value),
    })
}
