//! Every error class at the edge answers problem+json with a stable code, and request ids travel.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use platform::http::{EdgeLimits, edge};
use platform::{ApiError, Json};
use serde::Deserialize;
use testkit::TestApp;

use crate::support::app;

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    name: String,
    quantity: u32,
}

async fn echo(Json(body): Json<Echo>) -> Json<Echo> {
    Json(body)
}

async fn item(Path(id): Path<u32>) -> String {
    id.to_string()
}

/// Never answers: the edge's processing limit must.
async fn slow() -> &'static str {
    std::future::pending::<()>().await;
    "never"
}

async fn fails() -> Result<(), ApiError> {
    Err(ApiError::internal(anyhow::anyhow!("secret connection string postgres://admin:pw@db")))
}

async fn panics() -> &'static str {
    panic!("boom: internal detail")
}

/// A router with probe routes behind the same edge layers as the application.
async fn probe(limits: EdgeLimits) -> TestApp {
    TestApp::new(move |ctx| {
        let routes = Router::new()
            .route("/echo", post(echo))
            .route("/items/{id}", get(item))
            .route("/slow", get(slow))
            .route("/fails", get(fails))
            .route("/panics", get(panics));
        edge(routes, limits, ctx.metrics.clone()).with_state(ctx)
    })
    .await
}

fn small_limits() -> EdgeLimits {
    EdgeLimits {
        body_limit_bytes: 64,
        request_timeout: Duration::from_millis(200),
        body_timeout: Duration::from_millis(200),
        upload_timeout: Duration::from_millis(200),
    }
}

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let app = app().await;
    let res = app.get("/v1/no-such-thing").send().await;
    let problem = res.assert_problem(StatusCode::NOT_FOUND, "route_not_found");
    assert!(problem["detail"].as_str().unwrap().contains("/v1/no-such-thing"));
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let app = app().await;
    let res = app.post("/healthz").send().await;
    res.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let allow = res.header("allow").expect("Allow header");
    assert!(allow.contains("GET"), "{allow}");
}

#[tokio::test]
async fn body_over_the_limit_is_a_413_problem() {
    let app = probe(small_limits()).await;
    let big = serde_json::json!({"name": "x".repeat(100), "quantity": 1});
    app.post("/echo").json(&big).send().await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Exactly at the limit is accepted.
    let name_len = 64 - r#"{"name":"","quantity":1}"#.len();
    let at_limit = serde_json::json!({"name": "x".repeat(name_len), "quantity": 1});
    assert_eq!(serde_json::to_vec(&at_limit).unwrap().len(), 64);
    app.post("/echo").json(&at_limit).send().await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn body_without_json_content_type_is_a_415_problem() {
    let app = probe(EdgeLimits::default()).await;
    let res =
        app.post("/echo").header(header::CONTENT_TYPE, "text/plain").body(r#"{"name":"a","quantity":1}"#).send().await;
    res.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let res = app.post("/echo").body(r#"{"name":"a","quantity":1}"#).send().await;
    res.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let res = app
        .post("/echo")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    res.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = probe(EdgeLimits::default()).await;
    let res = app.post("/echo").header(header::CONTENT_TYPE, "application/json").body(r#"{"name": "a", "#).send().await;
    res.assert_problem(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn unknown_and_missing_fields_are_422_problems_naming_the_field() {
    let app = probe(EdgeLimits::default()).await;
    let res = app.post("/echo").json(&serde_json::json!({"name": "a", "quantity": 1, "role": "admin"})).send().await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "role");
    assert_eq!(problem["errors"][0]["code"], "unknown_field");

    let res = app.post("/echo").json(&serde_json::json!({"name": "a"})).send().await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "quantity");
    assert_eq!(problem["errors"][0]["code"], "required");

    let res = app.post("/echo").json(&serde_json::json!({"name": "a", "quantity": -1})).send().await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "quantity");
}

#[tokio::test]
async fn framework_rejections_become_problems() {
    let app = probe(EdgeLimits::default()).await;
    let res = app.get("/items/not-a-number").send().await;
    let problem = res.assert_problem(StatusCode::BAD_REQUEST, "bad_request");
    assert!(problem["detail"].as_str().unwrap().contains("parse"), "{problem}");
    app.get("/items/7").send().await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn slow_handler_is_a_503_timeout_problem() {
    let app = probe(small_limits()).await;
    let res = app.get("/slow").send().await;
    res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "request_timeout");
    assert_eq!(res.header("retry-after"), Some("1"));
}

/// A body whose sender stops after the first bytes.
struct Stalled {
    sent: bool,
}

impl axum::body::HttpBody for Stalled {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.sent {
            Poll::Pending
        } else {
            self.sent = true;
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(b"{\"name\":")))))
        }
    }
}

#[tokio::test]
async fn body_sent_too_slowly_is_a_408_problem() {
    let app = probe(EdgeLimits { request_timeout: Duration::from_secs(5), ..small_limits() }).await;
    let request = Request::post("/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::new(Stalled { sent: false }))
        .unwrap();
    let res = app.send(request).await;
    res.assert_problem(StatusCode::REQUEST_TIMEOUT, "request_timeout");
}

#[tokio::test]
async fn server_errors_hide_their_cause() {
    let app = probe(EdgeLimits::default()).await;
    for path in ["/fails", "/panics"] {
        let res = app.get(path).send().await;
        res.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
        let text = res.text();
        for secret in ["postgres://", "pw@db", "boom", "internal detail"] {
            assert!(!text.contains(secret), "{path} leaked {secret:?}: {text}");
        }
    }
}

#[tokio::test]
async fn request_id_is_taken_from_the_request_or_made() {
    let app = app().await;
    let res = app.get("/healthz").header("x-request-id", "trace-abc-123").send().await;
    assert_eq!(res.header("x-request-id"), Some("trace-abc-123"));

    let res = app.get("/healthz").send().await;
    let made = res.header("x-request-id").expect("a request id");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");

    // An unreasonable id (too long) is replaced rather than echoed.
    let res = app.get("/healthz").header("x-request-id", &"x".repeat(129)).send().await;
    assert_ne!(res.header("x-request-id"), Some("x".repeat(129).as_str()));
    let res = app.get("/healthz").header("x-request-id", &"y".repeat(128)).send().await;
    assert_eq!(res.header("x-request-id"), Some("y".repeat(128).as_str()));

    // Problems carry the same id in their body.
    let res = app.get("/nowhere").header("x-request-id", "req-404").send().await;
    assert_eq!(res.assert_problem(StatusCode::NOT_FOUND, "route_not_found")["request_id"], "req-404");
}

#[tokio::test]
async fn the_per_client_limit_is_shared_by_every_instance_on_the_database() {
    use platform::ratelimit::Limit;
    let limit = Limit::new(3, Duration::from_secs(60));
    let app = TestApp::new(|ctx| backline::app(ctx, EdgeLimits::default(), Some(limit))).await;
    // A second instance, as another process would be: its own router, the same database.
    let other = backline::app(app.ctx.clone(), EdgeLimits::default(), Some(limit));
    let from = |ip: &str, path: &str| {
        let addr: std::net::SocketAddr = format!("{ip}:5000").parse().unwrap();
        Request::get(path).extension(axum::extract::ConnectInfo(addr)).body(Body::empty()).unwrap()
    };
    app.send(from("203.0.113.5", "/v1/me")).await.assert_status(StatusCode::UNAUTHORIZED);
    let second = tower::ServiceExt::oneshot(other.clone(), from("203.0.113.5", "/v1/me")).await.unwrap();
    assert_eq!(second.status(), StatusCode::UNAUTHORIZED);
    app.send(from("203.0.113.5", "/v1/me")).await.assert_status(StatusCode::UNAUTHORIZED);
    let fourth = tower::ServiceExt::oneshot(other, from("203.0.113.5", "/v1/me")).await.unwrap();
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fourth.headers().contains_key("retry-after"));
    // Probes are never limited; other clients are not affected; the window reopens.
    app.send(from("203.0.113.5", "/healthz")).await.assert_status(StatusCode::OK);
    app.send(from("203.0.113.6", "/v1/me")).await.assert_status(StatusCode::UNAUTHORIZED);
    app.clock.advance(chrono::Duration::seconds(60));
    app.send(from("203.0.113.5", "/v1/me")).await.assert_status(StatusCode::UNAUTHORIZED);
}

/// Requests arriving at once are counted together (one statement for many), each in its own place:
/// from three addresses at once, through two instances, exactly the limit's number of requests of
/// each address get through in each window, the rest are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_client_limit_counts_a_crowd_exactly() {
    use platform::ratelimit::Limit;
    const MAX: usize = 40;
    let limit = Limit::new(MAX as u32, Duration::from_secs(60));
    let app = TestApp::new(|ctx| backline::app(ctx, EdgeLimits::default(), Some(limit))).await;
    let instances = [
        backline::app(app.ctx.clone(), EdgeLimits::default(), Some(limit)),
        backline::app(app.ctx.clone(), EdgeLimits::default(), Some(limit)),
    ];
    let addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
    for round in 0..3 {
        let mut sent = Vec::new();
        for n in 0..(MAX + 25) {
            for (a, ip) in addresses.iter().enumerate() {
                let router = instances[(n + a) % 2].clone();
                let addr: std::net::SocketAddr = format!("{ip}:5000").parse().unwrap();
                let req =
                    Request::get("/v1/me").extension(axum::extract::ConnectInfo(addr)).body(Body::empty()).unwrap();
                sent.push(tokio::spawn(
                    async move { (a, tower::ServiceExt::oneshot(router, req).await.unwrap().status()) },
                ));
            }
        }
        let mut through = [0; 3];
        let mut refused = [0; 3];
        for task in sent {
            match task.await.unwrap() {
                (a, StatusCode::UNAUTHORIZED) => through[a] += 1,
                (a, StatusCode::TOO_MANY_REQUESTS) => refused[a] += 1,
                (_, other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(through, [MAX; 3], "round {round}: through {through:?}, refused {refused:?}");
        assert_eq!(refused, [25; 3], "round {round}");
        let counted: Vec<i32> =
            sqlx::query_scalar!("SELECT hits FROM rate_limits WHERE key LIKE 'client:198.51.100.%' ORDER BY key")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(counted, vec![(MAX + 25) as i32; 3], "round {round}: every request counted once");
        app.clock.advance(chrono::Duration::seconds(60));
    }
}

#[tokio::test]
async fn the_nul_character_is_refused_before_it_reaches_the_database() {
    let app = probe(EdgeLimits::default()).await;
    let res = app
        .post("/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"name":"a\u0000","quantity":1}"#)
        .send()
        .await;
    let problem = res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_eq!(problem["errors"][0]["code"], "invalid_character");
    app.get("/items/1%00").send().await.assert_problem(StatusCode::BAD_REQUEST, "invalid_character");
    app.get("/items/1?q=%00").send().await.assert_problem(StatusCode::BAD_REQUEST, "invalid_character");
    // The real login route, which once answered 500 here.
    let real = crate::support::app().await;
    let res = real.post("/v1/auth/login").json(&serde_json::json!({"login": "a\u{0}", "password": "x"})).send().await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "login"
    );
}
