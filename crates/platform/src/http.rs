//! The HTTP edge shared by every route: request ids, one tracing span per request, metrics, the
//! processing and body timeouts, the body size limit, panics turned into 500s, and the guarantee that
//! every error answer, including the framework's own (unknown route, wrong method, bad path or query),
//! is `application/problem+json`.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::error::PlatformCode;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `work` as part of the request `id` (work done for a request on another task, a batch's:
/// what it records names that request).
pub async fn in_request<F: std::future::Future>(id: Option<String>, work: F) -> F::Output {
    match id {
        Some(id) => CURRENT_REQUEST_ID.scope(id, work).await,
        None => work.await,
    }
}

/// Limits applied at the edge.
#[derive(Debug, Clone, Copy)]
pub struct EdgeLimits {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Longest a handler may work on one request before the caller gets 503 `request_timeout`.
    pub request_timeout: Duration,
    /// Longest a client may take to send its body before it gets 408 `request_timeout`.
    pub body_timeout: Duration,
    /// Longest a file upload (a body of a media type such as `audio/*`, `image/*` or
    /// `application/octet-stream`, or a browser's `multipart/form-data` file form) may take in all:
    /// sending and checking large files takes minutes.
    pub upload_timeout: Duration,
}

/// Whether a request carries a file rather than a JSON or form body: it gets the upload timeout.
pub fn is_upload(req: &Request) -> bool {
    let media = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    ["audio/", "image/", "video/", "application/octet-stream", "application/pdf", "multipart/form-data"]
        .iter()
        .any(|p| media.starts_with(p))
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(15),
            upload_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Wraps a router in the edge layers. The order matters: the request id and span are outermost, so that
/// everything inside (including panics and timeouts) is logged and answered with the request's id.
pub fn edge<S: Clone + Send + Sync + 'static>(router: Router<S>, limits: EdgeLimits, metrics: Metrics) -> Router<S> {
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(middleware::from_fn(refuse_nul_in_uri))
        .layer(middleware::from_fn(problem_for_framework_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(limits, timeouts))
        .layer(middleware::from_fn_with_state(metrics, record_metrics))
        .layer(middleware::from_fn(request_id_and_span))
}

async fn unknown_route(req: Request) -> ApiError {
    ApiError::new(PlatformCode::RouteNotFound, format!("No route matches {} {}.", req.method(), req.uri().path()))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(PlatformCode::MethodNotAllowed, format!("{} is not allowed on {}.", req.method(), req.uri().path()))
}

/// Accepts a caller's request id when it is reasonable (1–128 visible ASCII characters), else makes one.
fn request_id_from(req: &Request) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| crate::ids::new_id().to_string(), str::to_owned)
}

async fn request_id_and_span(req: Request, next: Next) -> Response {
    let request_id = request_id_from(&req);
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
        route = route.as_deref().unwrap_or(""),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let id_for_task = request_id.clone();
    let mut response = CURRENT_REQUEST_ID.scope(id_for_task, next.run(req)).instrument(span.clone()).await;
    let status = response.status();
    span.record("status", status.as_u16());
    span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!("request finished");
        } else {
            tracing::debug!("request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

async fn record_metrics(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(req).await;
    // Unmatched paths share one label so that scanners cannot blow up the series count.
    let route = route.as_deref().unwrap_or("unmatched");
    metrics.observe_request(method.as_str(), route, response.status().as_u16(), started.elapsed());
    response
}

async fn timeouts(State(limits): State<EdgeLimits>, req: Request, next: Next) -> Response {
    let limit = if is_upload(&req) { limits.upload_timeout } else { limits.request_timeout };
    let (parts, body) = req.into_parts();
    let body = Body::new(tower_http::timeout::TimeoutBody::new(limits.body_timeout, body));
    let req = Request::from_parts(parts, body);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            PlatformCode::ProcessingTimeout,
            format!("The request took longer than {} s to process.", limit.as_secs_f64()),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        .into_response(),
    }
}

/// PostgreSQL text cannot hold the NUL character; a path or query carrying one is refused up front.
async fn refuse_nul_in_uri(req: Request, next: Next) -> Response {
    let uri = req.uri().to_string();
    if uri.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0') {
        return ApiError::new(PlatformCode::InvalidCharacter, "The path or query contains the NUL character (%00).")
            .into_response();
    }
    next.run(req).await
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// The framework's own rejections (path, query, and any other extractor) answer in plain text; this turns
/// every error answer that is not yet a problem into one, keeping its status, headers and message. An
/// HTML page (the web app's error and form pages) is left as it is: it is meant for a person.
async fn problem_for_framework_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) || is_html(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match body.collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).trim().to_owned(),
        Err(_) => String::new(),
    };
    let detail = if text.is_empty() || status.is_server_error() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    let mut problem = ApiError::for_status(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}

fn is_html(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
}

fn is_problem(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Who is calling, as far as the connection tells: the peer address and the user agent (at most 512
/// characters). Recorded on sessions, security events and audit rows.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Ok(Self { ip, user_agent })
    }
}

/// A `Range` that no byte of the representation satisfies: answered `416` with `Content-Range: bytes */<size>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// The one byte range a `Range: bytes=…` header asks of a representation of `size` bytes (end exclusive):
/// `first-last`, `first-` or the suffix `-length`. `Ok(None)` when there is no header, or one this server
/// answers whole (another unit, several ranges, a malformed or backwards range: RFC 9110 lets a server
/// ignore `Range`); `Err(Unsatisfiable)` when the range starts past the end or asks for no byte.
pub fn byte_range(header: Option<&HeaderValue>, size: u64) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = header.and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some((unit, set)) = spec.trim().split_once('=') else { return Ok(None) };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = set.trim().split_once('-') else { return Ok(None) };
    let parse = |v: &str| v.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => Ok(None),
        (true, false) => match parse(last) {
            Some(0) => Err(Unsatisfiable),
            Some(_) if size == 0 => Err(Unsatisfiable),
            Some(n) => Ok(Some(size.saturating_sub(n)..size)),
            None => Ok(None),
        },
        (false, open) => {
            let Some(start) = parse(first) else { return Ok(None) };
            let end = if open {
                size
            } else {
                match parse(last) {
                    Some(last) if last >= start => last.saturating_add(1).min(size),
                    _ => return Ok(None),
                }
            };
            if start >= size { Err(Unsatisfiable) } else { Ok(Some(start..end)) }
        }
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    fn range(v: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
        byte_range(Some(&HeaderValue::from_str(v).unwrap()), size)
    }

    #[test]
    fn one_byte_range_is_read_at_its_boundaries() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(range("bytes=0-0", 10), Ok(Some(0..1)));
        assert_eq!(range("bytes=0-9", 10), Ok(Some(0..10)));
        assert_eq!(range("bytes=2-100", 10), Ok(Some(2..10)), "a last byte past the end means the end");
        assert_eq!(range("bytes=9-", 10), Ok(Some(9..10)));
        assert_eq!(range("bytes=10-", 10), Err(Unsatisfiable));
        assert_eq!(range("bytes=10-12", 10), Err(Unsatisfiable));
        assert_eq!(range("bytes=-1", 10), Ok(Some(9..10)));
        assert_eq!(range("bytes=-10", 10), Ok(Some(0..10)));
        assert_eq!(range("bytes=-11", 10), Ok(Some(0..10)), "a suffix longer than the file is the file");
        assert_eq!(range("bytes=-0", 10), Err(Unsatisfiable));
        assert_eq!(range("bytes=-5", 0), Err(Unsatisfiable));
        assert_eq!(range("Bytes=1-2", 10), Ok(Some(1..3)));
    }

    #[test]
    fn what_is_not_one_well_formed_byte_range_is_answered_whole() {
        for v in ["bytes=0-1,4-5", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=-", "bytes", "bytes=1"] {
            assert_eq!(range(v, 10), Ok(None), "{v}");
        }
    }
}
