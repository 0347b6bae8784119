//! A small reader over the spanned TOML tree that records every type error and unknown key as a
//! diagnostic instead of stopping at the first one.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, did_you_mean};

/// A value with the byte range it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    /// The value.
    pub value: T,
    /// Where it is in the file.
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    /// Wraps a value and its span.
    pub fn new(value: T, span: Range<usize>) -> Self {
        Self { value, span }
    }
}

/// Collected diagnostics.
#[derive(Default)]
pub struct Sink {
    /// Everything reported so far.
    pub diags: Vec<Diagnostic>,
}

impl Sink {
    /// Records a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// Reads the keys of one TOML table, remembering which were used.
pub struct TableReader<'a, 'i> {
    table: &'a DeTable<'i>,
    /// Span of the whole table, for "missing key" diagnostics.
    pub span: Range<usize>,
    /// How the table is named in messages (`[units]`, "indicator `theft`").
    pub what: String,
    used: Vec<String>,
}

/// A human name for a TOML value's type.
pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A number from an integer or float value.
pub fn as_number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .ok()
            .map(|n| n as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        _ => None,
    }
}

impl<'a, 'i> TableReader<'a, 'i> {
    /// Starts reading `table`.
    pub fn new(table: &'a DeTable<'i>, span: Range<usize>, what: impl Into<String>) -> Self {
        Self {
            table,
            span,
            what: what.into(),
            used: Vec::new(),
        }
    }

    /// The raw value of `key`, marking it used.
    pub fn get(&mut self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.used.push(key.to_string());
        self.table.get(key)
    }

    /// Span of a key's name in the file.
    pub fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    fn wrong_type(&self, sink: &mut Sink, key: &str, v: &Spanned<DeValue<'_>>, want: &str) {
        sink.push(
            Diagnostic::error(
                v.span(),
                format!(
                    "`{key}` in {} must be {want}, not {}",
                    self.what,
                    type_name(v.get_ref())
                ),
            )
            .with_label(format!("expected {want}")),
        );
    }

    /// A string value; a value of another type is reported.
    pub fn str(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<String>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), v.span())),
            _ => {
                self.wrong_type(sink, key, v, "a string");
                None
            }
        }
    }

    /// A required string value; a missing one is reported.
    pub fn req_str(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<String>> {
        if self.table.get(key).is_none() {
            self.missing(sink, key, "a string");
            self.used.push(key.to_string());
            return None;
        }
        self.str(sink, key)
    }

    /// Reports that a required key is missing.
    pub fn missing(&self, sink: &mut Sink, key: &str, want: &str) {
        sink.push(
            Diagnostic::error(
                self.span.clone(),
                format!("{} has no `{key}` ({want})", self.what),
            )
            .with_label(format!("`{key}` is required here")),
        );
    }

    /// A number (integer or float).
    pub fn number(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<f64>> {
        let v = self.get(key)?;
        match as_number(v.get_ref()) {
            Some(n) if n.is_finite() => Some(Sp::new(n, v.span())),
            Some(_) => {
                sink.push(
                    Diagnostic::error(v.span(), format!("`{key}` must be a finite number"))
                        .with_label("not finite"),
                );
                None
            }
            None => {
                self.wrong_type(sink, key, v, "a number");
                None
            }
        }
    }

    /// A number, or a constant expression written as a string (`"ln(100)"`, `"1/3"`; see
    /// [`super::formula::constant`]). Errors inside the string point at the offending part.
    pub fn constant(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<f64>> {
        let v = self.get(key)?;
        let DeValue::String(text) = v.get_ref() else {
            return match as_number(v.get_ref()) {
                Some(_) => self.number(sink, key),
                None => {
                    self.wrong_type(
                        sink,
                        key,
                        v,
                        "a number or a constant expression like \"ln(100)\"",
                    );
                    None
                }
            };
        };
        let span = v.span();
        match super::formula::constant(text) {
            Ok(n) => Some(Sp::new(n, span)),
            Err(e) => {
                // Point inside the string when its text is written as is (no escapes).
                let quotes = (span.len().saturating_sub(text.len())) / 2;
                let at = if matches!(quotes, 1 | 3) && span.len() == text.len() + 2 * quotes {
                    let o = span.start + quotes;
                    o + e.range.start..o + e.range.end.max(e.range.start + 1)
                } else {
                    span
                };
                sink.push(
                    Diagnostic::error(at, format!("`{key}` in {}: {}", self.what, e.message))
                        .with_label("in this constant")
                        .with_hint(format!("a constant uses {}", super::formula::SYNTAX)),
                );
                None
            }
        }
    }

    /// A boolean.
    pub fn bool(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<bool>> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, v.span())),
            _ => {
                self.wrong_type(sink, key, v, "true or false");
                None
            }
        }
    }

    /// An array of strings.
    pub fn str_list(&mut self, sink: &mut Sink, key: &str) -> Option<Vec<Sp<String>>> {
        let v = self.get(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(sink, key, v, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Sp::new(s.to_string(), item.span())),
                DeValue::Integer(i) => out.push(Sp::new(i.as_str().to_string(), item.span())),
                other => sink.push(
                    Diagnostic::error(
                        item.span(),
                        format!("`{key}` must hold strings, not {}", type_name(other)),
                    )
                    .with_label("expected a string"),
                ),
            }
        }
        Some(out)
    }

    /// An array of exactly two numbers.
    pub fn pair(&mut self, sink: &mut Sink, key: &str) -> Option<Sp<[f64; 2]>> {
        let v = self.get(key)?;
        if let DeValue::Array(items) = v.get_ref() {
            let nums: Vec<f64> = items
                .iter()
                .filter_map(|i| as_number(i.get_ref()))
                .collect();
            if items.len() == 2 && nums.len() == 2 && nums.iter().all(|n| n.is_finite()) {
                return Some(Sp::new([nums[0], nums[1]], v.span()));
            }
        }
        self.wrong_type(sink, key, v, "an array of two numbers like [0, 100]");
        None
    }

    /// A sub-table.
    pub fn table(&mut self, sink: &mut Sink, key: &str) -> Option<(&'a DeTable<'i>, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some((t, v.span())),
            _ => {
                self.wrong_type(sink, key, v, "a table");
                None
            }
        }
    }

    /// Reports every key that was not read, suggesting the closest known key.
    pub fn finish(self, sink: &mut Sink) {
        for (k, _) in self.table.iter() {
            let name = k.get_ref().as_ref();
            if !self.used.iter().any(|u| u == name) {
                let known: Vec<&str> = self.used.iter().map(String::as_str).collect();
                let mut d =
                    Diagnostic::error(k.span(), format!("unknown key `{name}` in {}", self.what))
                        .with_label("not a known key")
                        .with_hint_opt(did_you_mean(name, known.iter().copied()));
                if d.hint.is_none() {
                    let mut list = known.clone();
                    list.sort_unstable();
                    list.dedup();
                    d = d.with_hint(format!("known keys: {}", list.join(", ")));
                }
                sink.push(d);
            }
        }
    }
}
