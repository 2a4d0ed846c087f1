//! The OpenAPI 3.1 document's shared parts, and the interactive viewer at `/docs`.
//!
//! The viewer is Swagger UI, served from files in this crate (`assets/swagger-ui`, refreshed with
//! `scripts/fetch-swagger-ui.sh`), so that `/docs` works with no internet access.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, ServerBuilder};

const BUNDLE_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const FAVICON: &[u8] = include_bytes!("../assets/swagger-ui/favicon-32x32.png");

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Backline API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
"#;

// Kept out of the page so that a strict Content-Security-Policy (no inline script) can hold.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: true
});
"##;

/// `/docs` and its assets.
pub fn docs_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/docs", get(|| async { Html(INDEX) }))
        .route("/docs/", get(|| async { Html(INDEX) }))
        .route("/docs/assets/init.js", get(|| async { asset("text/javascript; charset=utf-8", INIT_JS.as_bytes()) }))
        .route(
            "/docs/assets/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", BUNDLE_JS) }),
        )
        .route("/docs/assets/swagger-ui.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/docs/assets/favicon-32x32.png", get(|| async { asset("image/png", FAVICON) }))
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// Adds what every Backline document shares: the bearer security scheme and the server entry.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An access token or an API key (`bk_...`)."))
                .build(),
        ),
    );
    doc.servers = Some(vec![ServerBuilder::new().url("/").description(Some("This Backline server")).build()]);
    add_common_responses(&mut doc);
    describe_every_response(&mut doc);
    doc
}

/// Declares on every operation the answers the edge gives to any route (see docs/api.md), so that the
/// document lists every status a client can receive.
fn add_common_responses(doc: &mut OpenApi) {
    let problem = || {
        RefOr::T(
            ResponseBuilder::new()
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in &mut doc.paths.paths {
        let under_api = path.starts_with("/v1/");
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let has_body = operation.request_body.is_some();
            let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut common: Vec<&str> = vec!["503"];
            if under_api {
                common.push("429");
            }
            if has_body || has_params {
                common.extend(["400", "422"]);
            }
            if has_body {
                common.extend(["408", "413", "415"]);
            }
            if secured {
                common.extend(["401", "403"]);
            }
            if path.contains('{') {
                common.push("404");
            }
            for status in common {
                operation.responses.responses.entry(status.to_owned()).or_insert_with(problem);
            }
        }
    }
}

/// OpenAPI requires a description on every response; where a handler gave none, use the status's phrase.
fn describe_every_response(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    let phrase = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response");
                    response.description = phrase.to_owned();
                }
            }
        }
    }
}
