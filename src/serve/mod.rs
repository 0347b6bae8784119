//! `kapok serve`: one page to move weights and see the ranking respond, and the JSON API
//! behind it. The data are read once ([`Model::load`]); every request is a [`Query`] scored
//! by re-aggregating one period's kept normalised values. The page (HTML, CSS and JavaScript)
//! is embedded in the binary; nothing is fetched from elsewhere and nothing is written.
//!
//! | route | answer |
//! |---|---|
//! | `GET /?…` | the page, in the state the query describes |
//! | `GET /api/score?…` | the ranking of a query (JSON) |
//! | `GET /api/meta?lang=…` | the framework's tree, periods and method choices (JSON) |
//! | `GET /api/ranking.csv?…`, `/api/ranking.xlsx?…` | the query's period as `kapok score --period P -o` writes it |
//! | `GET /api/intervals?…` | rank intervals of the declared uncertainty analysis (JSON) |
//! | `GET /api/reach?…` | best and worst rank within the declared weight ranges (JSON) |
//! | `GET /api/ping` | a no-op (JSON `{}`), for measuring the round trip |

pub mod json;
pub mod model;
pub mod page;
pub mod query;
pub mod reach;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use model::Model;
pub use query::{BadRequest, Query};

/// The shared state of the handlers.
#[derive(Clone)]
struct App {
    model: Arc<Model>,
    /// Only requests addressed to a loopback name are answered (bound to loopback).
    loopback_only: bool,
}

/// The router of the page and the API over `model`. `loopback_only` refuses requests whose
/// `Host` is not a loopback name (`localhost`, `127.0.0.1`, `[::1]`), which keeps a web page
/// elsewhere from reading the server through a DNS name it controls.
pub fn router(model: Arc<Model>, loopback_only: bool) -> Router {
    let app = App {
        model,
        loopback_only,
    };
    Router::new()
        .route("/", get(page_handler))
        .route("/api/score", get(score_handler))
        .route("/api/meta", get(meta_handler))
        .route("/api/ranking.csv", get(csv_handler))
        .route("/api/ranking.xlsx", get(xlsx_handler))
        .route("/api/intervals", get(intervals_handler))
        .route("/api/reach", get(reach_handler))
        .route(
            "/api/ping",
            get(|| async { json_response(StatusCode::OK, "{}".into()) }),
        )
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, &BadRequest::query("no such page"))
        })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &BadRequest::query("only GET requests are answered: the server changes nothing"),
            )
        })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether a `Host` header names this machine's loopback interface.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses requests to other names when bound to loopback, and sets the headers every answer
/// carries.
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let mut res = if app.loopback_only && !is_loopback_host(host) {
        error_response(
            StatusCode::FORBIDDEN,
            &BadRequest::query(format!(
                "this server answers requests to localhost only, not to `{host}`"
            )),
        )
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A JSON answer.
fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// An error as JSON: `{"error": "w.safety: …", "param": "w.safety"}`.
fn error_response(status: StatusCode, e: &BadRequest) -> Response {
    let body = serde_json::json!({ "error": e.to_string(), "param": e.param });
    json_response(status, body.to_string())
}

/// Runs `f` on the model off the async workers (scoring is CPU work) and answers with its
/// result, or HTTP 400 naming the parameter.
async fn with_model<F>(app: &App, f: F) -> Response
where
    F: FnOnce(&Model) -> Result<Response, BadRequest> + Send + 'static,
{
    let model = app.model.clone();
    match tokio::task::spawn_blocking(move || f(&model)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error_response(StatusCode::BAD_REQUEST, &e),
        Err(_) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &BadRequest::query("the request could not be answered"),
        ),
    }
}

fn parse(raw: Option<String>) -> Result<Query, BadRequest> {
    Query::parse(raw.as_deref().unwrap_or(""))
}

/// Answers a JSON route: the query read, `answer` asked of the model, the JSON written.
async fn json_route(
    app: &App,
    raw: Option<String>,
    answer: fn(&Model, &Query) -> Result<serde_json::Value, BadRequest>,
) -> Response {
    with_model(app, move |m| {
        let q = parse(raw)?;
        Ok(json_response(StatusCode::OK, answer(m, &q)?.to_string()))
    })
    .await
}

async fn score_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    json_route(&app, raw, |m, q| Ok(json::score(m, &m.score(q)?))).await
}

async fn meta_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    json_route(&app, raw, |m, q| Ok(json::meta(m, q.lang))).await
}

async fn intervals_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    json_route(&app, raw, |m, q| {
        Ok(json::intervals(m, m.period(q)?, m.intervals(q)?.as_ref()))
    })
    .await
}

async fn reach_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    json_route(&app, raw, |m, q| {
        Ok(json::reach(m, m.period(q)?, m.reach(q)?.as_ref()))
    })
    .await
}

async fn page_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    with_model(&app, move |m| {
        let (status, html) = page::render(m, raw.as_deref().unwrap_or(""));
        Ok((
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, page::CSP),
            ],
            html,
        )
            .into_response())
    })
    .await
}

/// The query's period as `kapok score --period P` writes it, as a download.
fn ranking_file(m: &Model, raw: Option<String>, xlsx: bool) -> Result<Response, BadRequest> {
    let q = parse(raw)?;
    let s = m.score(&q)?;
    let batch = json::ranking_batch(m, &s)?;
    let fail = |e: String| BadRequest::query(format!("writing the table: {e}"));
    let (bytes, mime, ext) = if xlsx {
        (
            crate::io::xlsx_bytes(&batch, "results").map_err(|e| fail(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            crate::io::csv_bytes(&batch).map_err(fail)?,
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    let name = json::download_name(m, &s, ext);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn csv_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    with_model(&app, move |m| ranking_file(m, raw, false)).await
}

async fn xlsx_handler(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    with_model(&app, move |m| ranking_file(m, raw, true)).await
}

/// Resolves on Ctrl-C, or on SIGTERM where there are signals (a service manager stopping it).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds `addr` (before the data are read, so that a port in use is said at once).
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, crate::Error> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        crate::Error::Usage(format!(
            "cannot listen on {addr}: {e}{}",
            if e.kind() == std::io::ErrorKind::AddrInUse {
                "\nhint: another program uses this port; choose another with --port (0 picks a free one)"
            } else {
                ""
            }
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| crate::Error::Usage(format!("cannot listen on {addr}: {e}")))?;
    Ok(listener)
}

/// Serves `model` on `listener` (from [`bind`]) until Ctrl-C or SIGTERM.
pub fn run(model: Model, listener: std::net::TcpListener) -> Result<(), crate::Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::Error::Usage(format!("cannot start the server: {e}")))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| crate::Error::Usage(format!("cannot listen: {e}")))?;
        let loopback = listener
            .local_addr()
            .map_err(|e| crate::Error::Usage(format!("cannot listen: {e}")))?
            .ip()
            .is_loopback();
        let app = router(Arc::new(model), loopback);
        serve(listener, app, stop_signal())
            .await
            .map_err(|e| crate::Error::Usage(format!("the server stopped: {e}")))
    })
}
