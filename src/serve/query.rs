//! What a request asks for: a period, weights, methods and a language, read from a URL's query
//! string. The page's own URL and the JSON API use the same names, so that a shared link and a
//! script's request mean the same thing:
//!
//! | parameter | meaning |
//! |---|---|
//! | `period=2023-12` | the period (any spelling `--period` accepts; default: the latest) |
//! | `w.<node id>=3` | a node's weight, as `--weight <id>=3` |
//! | `normalize=zscore` | the default normalisation, as `--normalize` spells it |
//! | `aggregate=geometric` | the default aggregation, as `--aggregate` spells it |
//! | `lang=en` | the language of names (`zh`, the default, or `en`) |
//!
//! Reading a query checks only its shape (known names, numbers, limits); whether an id, a
//! period or a method exists is checked against the framework when the query is scored.

use std::fmt;

use crate::framework::Lang;

/// Longest query string accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// Most parameters a query may have.
pub const MAX_PARAMS: usize = 512;
/// Largest weight accepted: weights are relative, and a larger one only hides a typo.
pub const MAX_WEIGHT: f64 = 1e6;
/// Longest method text accepted, in bytes.
const MAX_METHOD_BYTES: usize = 1024;

/// The parameters a query may have besides `w.<id>`.
const NAMES: [&str; 4] = ["period", "normalize", "aggregate", "lang"];

/// A request that cannot be answered, with the parameter at fault (HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRequest {
    /// The parameter at fault, as written in the query (`w.safety`); `None` for the query as a
    /// whole.
    pub param: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

impl BadRequest {
    /// A fault of parameter `param`.
    pub fn param(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// A fault of the query as a whole.
    pub fn query(message: impl Into<String>) -> Self {
        Self {
            param: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.param {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A request's period, weights, methods and language.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// The period as written (`None`: the latest).
    pub period: Option<String>,
    /// Node weights (`id`, weight) in the order written; each finite, ≥ 0 and ≤ [`MAX_WEIGHT`].
    pub weights: Vec<(String, f64)>,
    /// The default normalisation, as `--normalize` spells it.
    pub normalize: Option<String>,
    /// The default aggregation, as `--aggregate` spells it.
    pub aggregate: Option<String>,
    /// The language of names.
    pub lang: Lang,
}

impl Query {
    /// Reads a URL's query string (without the `?`; percent-encoded, `+` for a space). Every
    /// parameter is checked for its shape; a repeated or unknown one is refused.
    pub fn parse(raw: &str) -> Result<Query, BadRequest> {
        if raw.len() > MAX_QUERY_BYTES {
            return Err(BadRequest::query(format!(
                "the query is {} bytes long; at most {MAX_QUERY_BYTES} are accepted",
                raw.len()
            )));
        }
        let mut q = Query::default();
        let mut seen: Vec<String> = Vec::new();
        for (n, (name, value)) in form_urlencoded::parse(raw.as_bytes()).enumerate() {
            if n >= MAX_PARAMS {
                return Err(BadRequest::query(format!(
                    "the query has more than {MAX_PARAMS} parameters"
                )));
            }
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                if value.is_empty() {
                    continue; // `a=1&&b=2`, a trailing `&`
                }
                return Err(BadRequest::query(format!(
                    "a parameter without a name (`={value}`)"
                )));
            }
            if seen.iter().any(|s| s == name) {
                return Err(BadRequest::param(name, "given more than once"));
            }
            seen.push(name.to_string());
            q.set(name, value)?;
        }
        Ok(q)
    }

    /// Sets parameter `name` to `value`.
    fn set(&mut self, name: &str, value: &str) -> Result<(), BadRequest> {
        if let Some(id) = name.strip_prefix("w.") {
            if id.is_empty() {
                return Err(BadRequest::param(
                    name,
                    "expected w.<node id>, e.g. w.safety=2",
                ));
            }
            let w = weight(value).map_err(|m| BadRequest::param(name, m))?;
            self.weights.push((id.to_string(), w));
            return Ok(());
        }
        let method = |v: &str| -> Result<Option<String>, BadRequest> {
            if v.is_empty() {
                return Err(BadRequest::param(name, "no method given"));
            }
            if v.len() > MAX_METHOD_BYTES {
                return Err(BadRequest::param(
                    name,
                    format!(
                        "{} bytes long; at most {MAX_METHOD_BYTES} are accepted",
                        v.len()
                    ),
                ));
            }
            Ok(Some(v.to_string()))
        };
        match name {
            "period" => {
                if value.is_empty() {
                    return Err(BadRequest::param(
                        name,
                        "no period given (e.g. period=2023-12)",
                    ));
                }
                self.period = Some(value.to_string());
            }
            "normalize" => self.normalize = method(value)?,
            "aggregate" => self.aggregate = method(value)?,
            "lang" => {
                self.lang = match value {
                    "zh" => Lang::Zh,
                    "en" => Lang::En,
                    _ => {
                        return Err(BadRequest::param(
                            name,
                            format!("`{value}` is not a language (zh or en)"),
                        ));
                    }
                }
            }
            _ => {
                let hint = crate::framework::diag::did_you_mean(name, NAMES)
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(BadRequest::param(
                    name,
                    format!(
                        "unknown parameter{hint}; known: period, w.<node id>, normalize, aggregate, lang"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The query string that means this query, parameters in a fixed order (period, methods,
    /// weights, language; the default language left out): the page's shareable URL.
    pub fn to_query_string(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(p) = &self.period {
            s.append_pair("period", p);
        }
        if let Some(m) = &self.normalize {
            s.append_pair("normalize", m);
        }
        if let Some(m) = &self.aggregate {
            s.append_pair("aggregate", m);
        }
        for (id, w) in &self.weights {
            s.append_pair(&format!("w.{id}"), &format!("{w}"));
        }
        if self.lang == Lang::En {
            s.append_pair("lang", "en");
        }
        s.finish()
    }
}

/// Reads a weight: a finite number, ≥ 0, at most [`MAX_WEIGHT`].
fn weight(text: &str) -> Result<f64, String> {
    let w: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !w.is_finite() || w < 0.0 {
        return Err(format!("`{text}`: a weight must be a finite number ≥ 0"));
    }
    if w > MAX_WEIGHT {
        return Err(format!(
            "`{text}`: weights are relative; at most {} is accepted",
            MAX_WEIGHT as u64
        ));
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_parameter() {
        let q = Query::parse(
            "period=2023-12&w.safety=3&w.hotline=0.5&normalize=%7B+method+%3D+%22zscore%22+%7D&aggregate=geometric&lang=en",
        )
        .unwrap();
        assert_eq!(q.period.as_deref(), Some("2023-12"));
        assert_eq!(
            q.weights,
            vec![("safety".to_string(), 3.0), ("hotline".to_string(), 0.5)]
        );
        assert_eq!(q.normalize.as_deref(), Some("{ method = \"zscore\" }"));
        assert_eq!(q.aggregate.as_deref(), Some("geometric"));
        assert_eq!(q.lang, Lang::En);
    }

    #[test]
    fn the_empty_query_is_the_framework_as_it_is() {
        assert_eq!(Query::parse("").unwrap(), Query::default());
        assert_eq!(Query::parse("&&").unwrap(), Query::default());
    }

    #[test]
    fn refuses_with_the_parameter_named() {
        let bad = |raw: &str| Query::parse(raw).unwrap_err();
        assert_eq!(bad("w.a=x").param.as_deref(), Some("w.a"));
        assert!(bad("w.a=x").message.contains("not a number"));
        for w in ["-1", "NaN", "inf", "1e7", "-0.5"] {
            let e = bad(&format!("w.safety={w}"));
            assert_eq!(e.param.as_deref(), Some("w.safety"), "{w}");
        }
        assert_eq!(bad("w.=1").param.as_deref(), Some("w."));
        assert_eq!(bad("lang=fr").param.as_deref(), Some("lang"));
        assert_eq!(bad("period=").param.as_deref(), Some("period"));
        assert_eq!(bad("w.a=1&w.a=2").message, "given more than once");
        let e = bad("perid=2023-12");
        assert_eq!(e.param.as_deref(), Some("perid"));
        assert!(e.message.contains("did you mean `period`"), "{}", e.message);
        assert_eq!(bad("=3").param, None);
        assert!(
            bad(&"a".repeat(MAX_QUERY_BYTES + 1))
                .message
                .contains("bytes")
        );
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("w.n{i}=1")).collect();
        assert!(bad(&many.join("&")).message.contains("parameters"));
    }

    #[test]
    fn a_query_string_reads_back_as_the_same_query() {
        let q = Query {
            period: Some("2023-12".into()),
            weights: vec![("safety".into(), 2.5), ("a b".into(), 0.0)],
            normalize: Some("{ method = \"minmax\", range = [0, 100] }".into()),
            aggregate: Some("geometric".into()),
            lang: Lang::En,
        };
        let s = q.to_query_string();
        assert_eq!(Query::parse(&s).unwrap(), q);
        assert!(s.starts_with("period=2023-12&normalize="), "{s}");
    }
}
