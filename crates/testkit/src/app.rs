//! `TestApp`: the real router, in-process, over a test database, with a clock the test controls.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::AppContext;
use platform::clock::ManualClock;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

use crate::TestDb;

pub struct TestApp {
    pub db: TestDb,
    pub ctx: AppContext,
    pub clock: ManualClock,
    router: Router,
    /// This application's own drops directory (directory stores write under it), removed with it.
    pub drops: tempfile::TempDir,
}

fn drops_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("backline-drops-").tempdir().expect("a temporary drops directory")
}

impl TestApp {
    /// Builds the application with `build` over a fresh database.
    pub async fn new(build: impl FnOnce(AppContext) -> Router) -> Self {
        Self::with_context(|ctx| ctx, build).await
    }

    /// [`TestApp::new`] with the context adjusted first (a scanner on its storage, ...), so that the
    /// application and the jobs a test runs share it.
    pub async fn with_context(
        adjust: impl FnOnce(AppContext) -> AppContext,
        build: impl FnOnce(AppContext) -> Router,
    ) -> Self {
        init_logging();
        let db = TestDb::new().await;
        let clock = ManualClock::at(now_truncated());
        let drops = drops_dir();
        let ctx = adjust(
            AppContext::new(db.pool.clone(), "http://backline.test")
                .with_clock(Arc::new(clock.clone()))
                .with_drops(drops.path()),
        );
        let router = build(ctx.clone());
        Self { db, ctx, clock, router, drops }
    }

    /// [`TestApp::new`] with a pool of at most `max_connections`, for tests of what holds connections.
    pub async fn with_pool_size(max_connections: u32, build: impl FnOnce(AppContext) -> Router) -> Self {
        init_logging();
        let db = TestDb::new().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(db.connect_options())
            .await
            .expect("connect the test database");
        let clock = ManualClock::at(now_truncated());
        let drops = drops_dir();
        let ctx =
            AppContext::new(pool, "http://backline.test").with_clock(Arc::new(clock.clone())).with_drops(drops.path());
        let router = build(ctx.clone());
        Self { db, ctx, clock, router, drops }
    }

    /// The application, to serve on a real port (for a browser).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The test clock's time.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        platform::clock::Clock::now(&self.clock)
    }

    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest { app: self, node: None, builder: Request::builder().method(method).uri(path), body: Body::empty() }
    }

    /// Sends a request built by hand.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send_to(self.router.clone(), request).await
    }
}

async fn send_to(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
    TestResponse { status: parts.status, headers: parts.headers, body }
}

/// A request under construction.
pub struct TestRequest<'a> {
    app: &'a TestApp,
    /// Another node of the application (another router over the same database), when not the app's.
    node: Option<Router>,
    builder: axum::http::request::Builder,
    body: Body,
}

impl TestRequest<'_> {
    #[must_use]
    pub fn header(mut self, name: impl TryInto<HeaderName>, value: &str) -> Self {
        if let Ok(name) = name.try_into() {
            self.builder = self.builder.header(name, HeaderValue::from_str(value).expect("header value"));
        }
        self
    }

    /// Sends the request as if from this client address (as the server sees it on a real connection).
    #[must_use]
    pub fn ip(mut self, ip: &str) -> Self {
        let addr: std::net::SocketAddr = format!("{ip}:40000").parse().expect("an IPv4 address");
        self.builder = self.builder.extension(axum::extract::ConnectInfo(addr));
        self
    }

    #[must_use]
    pub fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION, &format!("Bearer {token}"))
    }

    #[must_use]
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(serde_json::to_vec(value).expect("json"));
        self
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request to another node of the application: a router built over the same context,
    /// with its own in-process state (batches, memories), as a second server would have.
    #[must_use]
    pub fn to(mut self, node: &Router) -> Self {
        self.node = Some(node.clone());
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.builder.body(self.body).expect("a valid request");
        match self.node {
            Some(node) => send_to(node, request).await,
            None => self.app.send(request).await,
        }
    }
}

/// A collected response.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not the expected JSON ({err}): {}", self.text()))
    }

    pub fn value(&self) -> serde_json::Value {
        self.json()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.text());
        self
    }

    /// Asserts a problem+json answer with this status and code; returns the problem.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) -> serde_json::Value {
        self.assert_status(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text());
        let problem = self.value();
        assert_eq!(problem["code"], code, "problem: {problem}");
        assert_eq!(problem["status"], status.as_u16(), "problem: {problem}");
        assert_eq!(problem["type"], format!("urn:backline:problem:{code}"));
        assert!(problem["title"].is_string() && problem["detail"].is_string(), "problem: {problem}");
        assert_eq!(problem["request_id"].as_str(), self.header("x-request-id"), "problem: {problem}");
        problem
    }
}

/// Now, to the second: tests compare times that went through PostgreSQL (microseconds).
fn now_truncated() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// Server logs go through the test harness, so a failing test shows what the server said (`RUST_LOG`
/// sets the level; warnings and errors by default).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
