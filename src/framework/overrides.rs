//! Changes to a checked framework for one run: whole methods, single method parameters,
//! weights and excluded indicators. The command line's `--normalize`, `--set`, `--weight`
//! options and each row of a robustness run table are [`Overrides`].

use super::methods::{self, CliMethod, parse_cli};
use super::{Framework, Over};
use crate::error::Error;

/// A kind of method that a run can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MethodKind {
    /// Unit screening (`screen`).
    Screen,
    /// Imputation (`impute`).
    Impute,
    /// Outlier treatment (`treat`).
    Treat,
    /// Normalisation (`normalize`).
    Normalize,
    /// Aggregation (`aggregate`).
    Aggregate,
}

impl MethodKind {
    /// Every kind, in pipeline order.
    pub const ALL: [MethodKind; 5] = [
        MethodKind::Screen,
        MethodKind::Impute,
        MethodKind::Treat,
        MethodKind::Normalize,
        MethodKind::Aggregate,
    ];

    /// The name as written in frameworks and options (`normalize`).
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Screen => "screen",
            MethodKind::Impute => "impute",
            MethodKind::Treat => "treat",
            MethodKind::Normalize => "normalize",
            MethodKind::Aggregate => "aggregate",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<MethodKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kinds' names, for messages (`screen, impute, …`).
    pub fn names() -> String {
        Self::ALL.map(MethodKind::name).join(", ")
    }

    /// Whether the kind acts before normalisation ends, so that changing it changes the
    /// normalised indicator values (everything but aggregation).
    pub fn upstream(self) -> bool {
        self != MethodKind::Aggregate
    }
}

/// One changed parameter of a default method (`--set treat.winmax=3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetParam {
    /// The method kind.
    pub kind: MethodKind,
    /// The parameter (`winmax`).
    pub param: String,
    /// The value as `--set` accepts it (a TOML value; a bare word is a string).
    pub value: String,
}

impl SetParam {
    /// Reads `KIND.PARAM=VALUE`.
    pub fn parse(text: &str) -> Result<SetParam, String> {
        let (key, value) = text.split_once('=').ok_or_else(|| {
            format!("--set {text}: expected KIND.PARAM=VALUE, e.g. normalize.range=[1,100]")
        })?;
        let (kind, param) = Self::key(key).map_err(|e| format!("--set {text}: {e}"))?;
        Ok(SetParam {
            kind,
            param,
            value: value.trim().to_string(),
        })
    }

    /// Reads `KIND.PARAM` (a `set:` column of a run table, a key of `[uncertainty] set`).
    pub fn key(key: &str) -> Result<(MethodKind, String), String> {
        let (kind, param) = key
            .trim()
            .split_once('.')
            .ok_or_else(|| "expected KIND.PARAM, e.g. normalize.range".to_string())?;
        let kind = MethodKind::parse(kind.trim())
            .ok_or_else(|| format!("`{kind}` is not a method kind ({})", MethodKind::names()))?;
        let param = param.trim();
        if param.is_empty() {
            return Err("expected KIND.PARAM, e.g. normalize.range".to_string());
        }
        Ok((kind, param.to_string()))
    }

    /// `treat.winmax`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.kind.name(), self.param)
    }
}

impl std::fmt::Display for SetParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}={}", self.kind.name(), self.param, self.value)
    }
}

/// `TARGET=METHOD` of a method given for one node or level (`Conn=geometric`,
/// `level:2=geometric`), or `None` for a whole default (`geometric`, `{ method = … }`).
pub fn per_node(text: &str) -> Option<(&str, &str)> {
    let t = text.trim();
    if t.starts_with(['{', '[', '"', '\'']) {
        return None;
    }
    let (target, method) = t.split_once('=')?;
    let target = target.trim();
    let ok = !target.is_empty()
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    ok.then_some((target, method.trim()))
}

/// Changes to a framework for one run. Empty = the framework as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Whole default methods, as the command line accepts them (`zscore`,
    /// `{ method = "minmax", range = [1, 100] }`).
    pub methods: Vec<(MethodKind, String)>,
    /// Single parameters of default methods, applied after `methods`.
    pub sets: Vec<SetParam>,
    /// Node weights (`id`, weight), applied after the methods.
    pub weights: Vec<(String, f64)>,
    /// Indicators taken out of the framework (ids).
    pub exclude: Vec<String>,
}

impl Overrides {
    /// True when nothing is changed.
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty()
            && self.sets.is_empty()
            && self.weights.is_empty()
            && self.exclude.is_empty()
    }

    /// The whole default method given for `kind`, if any (the last; `NODE=METHOD` ones aside).
    pub fn method(&self, kind: MethodKind) -> Option<&str> {
        self.methods
            .iter()
            .rev()
            .find(|(k, t)| *k == kind && per_node(t).is_none())
            .map(|(_, t)| t.as_str())
    }

    /// The `NODE=METHOD` (or `level:N=METHOD`) methods given for `kind`, in order.
    pub fn node_methods(&self, kind: MethodKind) -> impl Iterator<Item = (&str, &str, &str)> {
        self.methods
            .iter()
            .filter(move |(k, _)| *k == kind)
            .filter_map(|(_, t)| per_node(t).map(|(target, m)| (t.as_str(), target, m)))
    }
}

impl Framework {
    /// Applies `o` to the framework: methods, then parameters, then weights, then exclusions.
    /// Errors are usage errors naming the option as typed (`--set treat.winmax=x: …`).
    pub fn apply(&mut self, o: &Overrides) -> Result<(), Error> {
        for kind in MethodKind::ALL {
            let given = o.method(kind);
            let mine: Vec<&SetParam> = o.sets.iter().filter(|s| s.kind == kind).collect();
            if given.is_none() && mine.is_empty() {
                continue;
            }
            let mut text = match given {
                Some(t) => t.to_string(),
                None => self
                    .defaults
                    .source
                    .get(kind.name())
                    .cloned()
                    .unwrap_or_else(|| methods::builtin_default(kind.name()).to_string()),
            };
            for s in &mine {
                text = if s.param == "method" {
                    methods::switch_method(kind.name(), &text, &s.value)
                } else {
                    methods::set_param(&text, &s.param, &s.value)
                }
                .map_err(|e| Error::Usage(format!("--set {s}: {e}")))?;
            }
            let method = parse_cli(kind.name(), &text).map_err(|e| {
                // Name the options as typed: the composed method text alone hides a --set.
                let typed: Vec<String> = mine.iter().map(|s| format!("--set {s}")).collect();
                Error::Usage(if typed.is_empty() {
                    e
                } else {
                    format!("{}: {e}", typed.join(", "))
                })
            })?;
            self.set_method(method, &text)?;
            self.defaults.source.insert(kind.name().to_string(), text);
        }
        for kind in [MethodKind::Normalize, MethodKind::Aggregate] {
            for (typed, target, text) in o.node_methods(kind) {
                self.set_node_method(kind, target, text)
                    .map_err(|e| Error::Usage(format!("--{} {typed}: {e}", kind.name())))?;
            }
        }
        for kind in [MethodKind::Screen, MethodKind::Impute, MethodKind::Treat] {
            if let Some((typed, _, _)) = o.node_methods(kind).next() {
                return Err(Error::Usage(format!(
                    "--{} {typed}: only --normalize and --aggregate take NODE=METHOD",
                    kind.name()
                )));
            }
        }
        for (id, w) in &o.weights {
            self.set_weight(id, *w)?;
        }
        for id in &o.exclude {
            self.exclude(id)?;
        }
        Ok(())
    }

    /// The nodes `target` names: a node id, or `level:N` (every node N steps below the index).
    fn targets(&self, target: &str) -> Result<Vec<usize>, String> {
        let Some(level) = target.strip_prefix("level:") else {
            return Ok(vec![self.node_named(target)?]);
        };
        let level: usize = level.parse().map_err(|_| {
            format!("`{level}` is not a level (0 = the index, 1 = its children, …)")
        })?;
        let nodes: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.is_excluded(i) && self.depth(i) == level)
            .collect();
        if nodes.is_empty() {
            return Err(format!("the framework has no node at level {level}"));
        }
        Ok(nodes)
    }

    /// Gives the nodes `target` names their own method `text` of `kind` (normalisation: every
    /// indicator under them; aggregation: the index and dimensions among them).
    fn set_node_method(
        &mut self,
        kind: MethodKind,
        target: &str,
        text: &str,
    ) -> Result<(), String> {
        let nodes = self.targets(target)?;
        match parse_cli(kind.name(), text).map_err(|e| {
            e.strip_prefix(&format!("--{} {text}: ", kind.name()))
                .unwrap_or(&e)
                .to_string()
        })? {
            CliMethod::Aggregate(a) => {
                let mut any = false;
                for n in nodes {
                    if let super::NodeKind::Aggregate(own) = &mut self.nodes[n].kind {
                        *own = Some(a.clone());
                        any = true;
                    }
                }
                if !any {
                    return Err(format!(
                        "`{target}` names only indicators; an aggregation applies to the index and dimensions"
                    ));
                }
            }
            CliMethod::Normalise(m) => {
                let mut under: Vec<usize> = Vec::new();
                let mut stack = nodes;
                while let Some(n) = stack.pop() {
                    if self.nodes[n].indicator().is_some() {
                        under.push(n);
                    }
                    stack.extend(self.nodes[n].children.iter().copied());
                }
                for n in under {
                    if let super::NodeKind::Indicator(spec) = &mut self.nodes[n].kind {
                        spec.normalise = Some(m.clone());
                    }
                }
            }
            _ => return Err("only --normalize and --aggregate take NODE=METHOD".into()),
        }
        Ok(())
    }

    /// Makes `method` (written as `text`) the default of its kind.
    fn set_method(&mut self, method: CliMethod, text: &str) -> Result<(), Error> {
        match method {
            CliMethod::Impute(m) => {
                if m.needs_periods() && self.units.period.is_none() {
                    return Err(Error::Usage(format!(
                        "--impute {text}: takes values from other periods, but the framework has no [units] period column"
                    )));
                }
                if m.needs_groups() && self.units.group.is_none() {
                    return Err(Error::Usage(format!(
                        "--impute {text}: the framework has no [units] group column"
                    )));
                }
                self.defaults.impute = m;
            }
            CliMethod::Treat(m) => self.defaults.treat = m,
            CliMethod::Normalise(mut m) => {
                // A bounds file named outside the framework is relative to where kapok runs.
                if let Over::Frozen(p) = &mut m.over
                    && p.is_relative()
                    && let Ok(cwd) = std::env::current_dir()
                {
                    *p = cwd.join(&*p);
                }
                self.defaults.normalise = m;
            }
            CliMethod::Aggregate(m) => self.defaults.aggregate = m,
            CliMethod::Screen(m) => self.defaults.screen = m,
        }
        Ok(())
    }

    /// Takes indicator `id` out of the framework for one run: it leaves its parent's children
    /// (the other weights keep their ratios) and takes no part in screening or aggregation. The
    /// node stays in [`Framework::nodes`], without a parent; [`Framework::is_excluded`] tells.
    pub fn exclude(&mut self, id: &str) -> Result<(), Error> {
        let i = self
            .node_named(id)
            .map_err(|m| Error::Usage(format!("excluding `{id}`: {m}")))?;
        if self.nodes[i].indicator().is_none() {
            return Err(Error::Usage(format!(
                "excluding `{id}`: only indicators can be excluded, and `{id}` is an aggregate"
            )));
        }
        let parents = self.parents_of(i);
        if parents.is_empty() {
            return Ok(()); // already excluded
        }
        if let Some(&(p, _)) = parents
            .iter()
            .find(|(p, _)| self.nodes[*p].formula().is_some())
        {
            return Err(Error::Usage(format!(
                "excluding `{id}`: `{}` is computed by a formula that uses it",
                self.nodes[p].id
            )));
        }
        // Out of every parent it has (a shared indicator counts under several).
        for &(p, _) in &parents {
            self.nodes[p].children.retain(|&c| c != i);
        }
        self.nodes[i].parent = None;
        self.nodes[i].shared.clear();
        for &(p, _) in &parents {
            let children = &self.nodes[p].children;
            if children.is_empty() {
                return Err(Error::Usage(format!(
                    "excluding `{id}`: `{}` would have no indicator left",
                    self.nodes[p].id
                )));
            }
            if children
                .iter()
                .all(|&c| self.nodes[c].weight_under(p, self.nodes[c].weight) == 0.0)
            {
                return Err(Error::Usage(format!(
                    "excluding `{id}`: every weight under `{}` would be zero",
                    self.nodes[p].id
                )));
            }
        }
        Ok(())
    }

    /// Whether node `i` was taken out of the framework with [`Framework::exclude`].
    pub fn is_excluded(&self, i: usize) -> bool {
        i != 0 && self.nodes[i].parent.is_none()
    }
}
