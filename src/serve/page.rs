//! The page of `kapok serve`: one HTML document with its CSS and JavaScript inline, and the
//! state its URL describes (the framework's tree and the ranking) embedded as JSON, so that the
//! first paint needs no second request and a shared link shows its ranking at once.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::json;
use super::model::Model;
use super::query::Query;
use crate::framework::Lang;

const HTML: &str = include_str!("page/index.html");
const CSS: &str = include_str!("page/app.css");
const JS: &str = include_str!("page/app.js");

/// The page's Content-Security-Policy: nothing is loaded from elsewhere; scripts and styles
/// are the page's own, inline.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` escaped.
fn script_json(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Text made safe in HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for the query string `raw`: HTTP 200 with the query's ranking, or HTTP 400 with
/// the framework's own ranking and the error shown.
pub fn render(m: &Model, raw: &str) -> (StatusCode, String) {
    let (status, lang, init) = match Query::parse(raw).and_then(|q| Ok((m.score(&q)?, q))) {
        Ok((s, q)) => (
            StatusCode::OK,
            q.lang,
            json!({ "meta": json::meta(m, q.lang), "score": json::score(m, &s) }),
        ),
        Err(e) => {
            let lang = if raw.split('&').any(|kv| kv == "lang=en") {
                Lang::En
            } else {
                Lang::Zh
            };
            let q = Query {
                lang,
                ..Query::default()
            };
            let score = m
                .score(&q)
                .map(|s| json::score(m, &s))
                .unwrap_or(Value::Null);
            (
                StatusCode::BAD_REQUEST,
                lang,
                json!({ "meta": json::meta(m, lang), "score": score,
                        "error": { "error": e.to_string(), "param": e.param } }),
            )
        }
    };
    let html = HTML
        .replace("{{lang}}", lang.tag())
        .replace("{{title}}", &escape(m.fw.index().name.get(lang)))
        .replace("{{css}}", CSS)
        .replace("{{js}}", JS)
        .replace("{{init}}", &script_json(&init));
    (status, html)
}
