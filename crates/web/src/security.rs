//! The headers every page carries: a strict Content-Security-Policy (scripts and styles only from this
//! origin, no inline script, no framing), no MIME sniffing, and no referrer to other sites.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
    object-src 'none'";

pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A browser that asks for a page no route answers gets an HTML page rather than the API's problem
/// document (API paths, and clients that do not ask for HTML, keep the problem+json answer).
pub async fn browser_not_found(request: Request, next: Next) -> Response {
    let wants_html = request.method() == axum::http::Method::GET
        && !request.uri().path().starts_with("/v1/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    let response = next.run(request).await;
    if !wants_html || response.status() != axum::http::StatusCode::NOT_FOUND {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let css = crate::assets::url("app.css");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Not found · Backline</title><link rel=\"stylesheet\" \
         href=\"{css}\"></head><body><main id=\"main\"><section class=\"panel narrow\"><h1>Not found</h1><p>There is no \
         page here.</p><p><a href=\"/\">Back to the start</a></p></section></main></body></html>"
    );
    let mut page = (axum::http::StatusCode::NOT_FOUND, axum::response::Html(html)).into_response();
    let headers = page.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    page
}
