use platform::http::EdgeLimits;
use testkit::TestApp;

/// The whole Backline application over a fresh database.
pub async fn app() -> TestApp {
    TestApp::new(|ctx| backline::app(ctx, EdgeLimits::default(), None)).await
}

pub const PASSWORD: &str = "correct horse battery";

/// A distinct client address for each call, so that per-IP limits do not couple unrelated steps.
pub fn fresh_ip() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// Registers `username` (email `<username>@example.com`) and returns the answer's body.
pub async fn register(app: &TestApp, username: &str) -> serde_json::Value {
    let body = serde_json::json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "display_name": format!("{username} display"),
        "password": PASSWORD,
    });
    let res = app.post("/v1/auth/register").ip(&fresh_ip()).json(&body).send().await;
    res.assert_status(axum::http::StatusCode::CREATED);
    res.value()
}

/// The token in the newest email sent to `to`.
pub async fn mailed_token(app: &TestApp, to: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM mail_outbox WHERE to_address = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(&app.db.pool)
    .await
    .expect("a mail was sent");
    let start = body.find("token=").expect("a link with a token") + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

pub async fn login(app: &TestApp, login: &str, password: &str) -> testkit::TestResponse {
    app.post("/v1/auth/login")
        .ip(&fresh_ip())
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
}

/// Registers, verifies and signs in `username`; returns `(access token, user id, token pair)`.
pub async fn signed_in(app: &TestApp, username: &str) -> (String, String, serde_json::Value) {
    let user = register(app, username).await;
    let token = mailed_token(app, &format!("{username}@example.com")).await;
    app.post("/v1/auth/verify-email")
        .json(&serde_json::json!({"token": token}))
        .send()
        .await
        .assert_status(axum::http::StatusCode::OK);
    let pair = login(app, username, PASSWORD).await;
    pair.assert_status(axum::http::StatusCode::OK);
    let pair = pair.value();
    (pair["access_token"].as_str().unwrap().to_owned(), user["id"].as_str().unwrap().to_owned(), pair)
}

/// The access token of a demo user (after `load_demo`).
pub async fn demo_token(app: &TestApp, username: &str) -> String {
    let res = login(app, username, identity::demo::DEMO_PASSWORD).await;
    res.assert_status(axum::http::StatusCode::OK);
    res.value()["access_token"].as_str().unwrap().to_owned()
}

/// Puts an organization on `plan` without charge, as a platform admin grants it (an admin made for the
/// purpose): for tests whose organizations need more than Free allows.
pub async fn grant_plan(app: &TestApp, org: &str, plan: &str) {
    let (admin, _) =
        signed_in_with_roles(app, &format!("grant_{}", &org[org.len() - 8..]), "Granting Admin", &["admin"]).await;
    app.put(&format!("/v1/orgs/{org}/plan"))
        .bearer(&admin)
        .json(&serde_json::json!({"plan": plan, "complimentary": true}))
        .send()
        .await
        .assert_status(axum::http::StatusCode::OK);
}

/// Signs in a demo-style admin created directly in the database; returns its access token.
pub async fn signed_in_admin(app: &TestApp) -> String {
    signed_in_with_roles(app, "root_admin", "Root", &["admin"]).await.0
}

/// Signs in a user created directly in the database with global `roles` (`staff`, `admin`), as an
/// operator makes them (email `<username>@example.com`); returns the access token and the user's id.
pub async fn signed_in_with_roles(
    app: &TestApp,
    username: &str,
    display_name: &str,
    roles: &[&str],
) -> (String, String) {
    let hash = identity::password::hash(PASSWORD.to_owned()).await.unwrap();
    let mut conn = app.db.pool.acquire().await.unwrap();
    let id = identity::service::create_verified_user(
        &mut conn,
        &format!("{username}@example.com"),
        username,
        display_name,
        &hash,
        roles,
        app.clock_now(),
    )
    .await
    .unwrap();
    drop(conn);
    let res = login(app, username, PASSWORD).await;
    res.assert_status(axum::http::StatusCode::OK);
    (res.value()["access_token"].as_str().unwrap().to_owned(), id.0.to_string())
}

/// Creates an organization owned by the holder of `token`; returns its id.
pub async fn create_org(app: &TestApp, token: &str, slug: &str) -> String {
    let res = app
        .post("/v1/orgs")
        .bearer(token)
        .json(&serde_json::json!({"slug": slug, "name": format!("{slug} org"), "kind": "label"}))
        .send()
        .await;
    res.assert_status(axum::http::StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

/// Invites `email` to `org` as `role` and accepts with `invitee`'s token.
pub async fn join(app: &TestApp, owner: &str, org: &str, invitee: &str, email: &str, role: &str) {
    app.post(&format!("/v1/orgs/{org}/invitations"))
        .bearer(owner)
        .json(&serde_json::json!({"email": email, "role": role}))
        .send()
        .await
        .assert_status(axum::http::StatusCode::CREATED);
    let token = mailed_token(app, email).await;
    app.post("/v1/invitations/accept")
        .bearer(invitee)
        .json(&serde_json::json!({"token": token}))
        .send()
        .await
        .assert_status(axum::http::StatusCode::OK);
}

/// Runs every due job (with the application's real handlers) until none is left; returns how many ran.
pub async fn drain_jobs(app: &TestApp) -> i64 {
    // Test receivers listen on loopback.
    drain_jobs_with(app, notify::webhooks::DeliveryPolicy { allow_private_targets: true }).await
}

/// [`drain_jobs`] with a chosen webhook policy.
pub async fn drain_jobs_with(app: &TestApp, webhooks: notify::webhooks::DeliveryPolicy) -> i64 {
    drain_jobs_using(app, webhooks, None).await
}

/// [`drain_jobs`] with payouts going to Stripe through `stripe`.
pub async fn drain_jobs_with_stripe(app: &TestApp, stripe: ledger::stripe::Client) -> i64 {
    drain_jobs_using(app, notify::webhooks::DeliveryPolicy { allow_private_targets: true }, Some(stripe)).await
}

async fn drain_jobs_using(
    app: &TestApp,
    webhooks: notify::webhooks::DeliveryPolicy,
    stripe: Option<ledger::stripe::Client>,
) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let mail = platform::mail::Transport::File(platform::mail::FileTransport::new(dir.path()));
    let registry = std::sync::Arc::new(backline::job_registry(mail, webhooks, stripe));
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('succeeded', 'dead')")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = platform::jobs::WorkerConfig {
        concurrency: 8,
        poll_interval: std::time::Duration::from_millis(10),
        id: "test-drain".into(),
        passes: None,
    };
    let worker = tokio::spawn(platform::jobs::run(app.ctx.clone(), registry, config, async move {
        let _ = stop_rx.await;
    }));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE (state = 'queued' AND run_at <= $1) OR state = 'running'",
        )
        .bind(app.clock_now())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "jobs did not drain");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(());
    worker.await.unwrap().unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('succeeded', 'dead')")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    after - before
}

/// Sends one idempotent request twice with one key: the second is the first answer, replayed.
pub async fn assert_replayed<F: Future<Output = testkit::TestResponse>>(
    send: impl Fn() -> F,
    status: axum::http::StatusCode,
) -> serde_json::Value {
    let first = send().await;
    first.assert_status(status);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    let again = send().await;
    again.assert_status(status);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.value(), first.value(), "the replay is the first answer");
    first.value()
}

/// What was logged while a [`LogCapture`] was the thread's subscriber: each event's fields, and the
/// fields of the spans it was inside (innermost first, each with its name).
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub fields: std::collections::BTreeMap<String, String>,
    pub spans: Vec<(String, std::collections::BTreeMap<String, String>)>,
}

/// A tracing layer that records events with their spans' fields, for assertions on log lines.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<LoggedEvent>>>);

struct SpanFields(std::collections::BTreeMap<String, String>);

struct Visitor<'a>(&'a mut std::collections::BTreeMap<String, String>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}").trim_matches('"').to_owned());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for LogCapture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = std::collections::BTreeMap::new();
        attrs.record(&mut Visitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = std::collections::BTreeMap::new();
        event.record(&mut Visitor(&mut fields));
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .map(|span| {
                        let fields = span.extensions().get::<SpanFields>().map(|f| f.0.clone()).unwrap_or_default();
                        (span.name().to_owned(), fields)
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().push(LoggedEvent { fields, spans });
    }
}

impl LogCapture {
    /// Makes this capture the current thread's subscriber until the guard drops. The tests' runtime
    /// runs every task on the test's thread, so the server's and the worker's lines are captured too.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }

    pub fn events(&self) -> Vec<LoggedEvent> {
        self.0.lock().unwrap().clone()
    }
}

/// Loads every domain's demo data into the test's database, at the test clock's now.
pub async fn load_demo(app: &TestApp) {
    let env = platform::demo::DemoEnv {
        secrets: app.ctx.secrets.clone(),
        storage: app.ctx.storage.clone(),
        now: app.clock_now(),
    };
    platform::demo::load(&app.db.pool, &backline::demo_datasets(), &env).await.unwrap();
}
