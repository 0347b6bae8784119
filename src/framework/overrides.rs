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

    /// The whole method given for `kind`, if any.
    pub fn method(&self, kind: MethodKind) -> Option<&str> {
        self.methods
            .iter()
            .rev()
            .find(|(k, _)| *k == kind)
            .map(|(_, t)| t.as_str())
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
        for (id, w) in &o.weights {
            self.set_weight(id, *w)?;
        }
        for id in &o.exclude {
            self.exclude(id)?;
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
        let Some(p) = self.nodes[i].parent else {
            return Ok(()); // already excluded
        };
        self.nodes[p].children.retain(|&c| c != i);
        self.nodes[i].parent = None;
        if self.nodes[p].children.is_empty() {
            return Err(Error::Usage(format!(
                "excluding `{id}`: `{}` would have no indicator left",
                self.nodes[p].id
            )));
        }
        if self.nodes[p]
            .children
            .iter()
            .all(|&c| self.nodes[c].weight == 0.0)
        {
            return Err(Error::Usage(format!(
                "excluding `{id}`: every weight under `{}` would be zero",
                self.nodes[p].id
            )));
        }
        Ok(())
    }

    /// Whether node `i` was taken out of the framework with [`Framework::exclude`].
    pub fn is_excluded(&self, i: usize) -> bool {
        i != 0 && self.nodes[i].parent.is_none()
    }
}
