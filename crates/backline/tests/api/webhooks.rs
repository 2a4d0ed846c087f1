//! Outgoing webhooks: signed deliveries verified by an independent implementation, secret rotation,
//! failure handling; and the job administration routes.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::support::{app, create_org, drain_jobs, join, signed_in, signed_in_admin};

#[derive(Default)]
struct Receiver {
    received: Mutex<Vec<(HeaderMap, Vec<u8>)>>,
    status: AtomicU16,
}

/// A webhook receiver on a loopback port, answering `status`.
async fn receiver() -> (Arc<Receiver>, String) {
    let state = Arc::new(Receiver { status: AtomicU16::new(200), ..Receiver::default() });
    let shared = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let shared = shared.clone();
            async move {
                shared.received.lock().unwrap().push((headers, body.to_vec()));
                StatusCode::from_u16(shared.status.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, url)
}

/// Verifies a `Backline-Signature` with Python's own hmac module: an implementation that is not ours.
fn python_verifies(header: &str, body: &[u8], secret: &str) -> bool {
    let script = r#"
import hashlib, hmac, sys
header, secret, body = sys.argv[1], sys.argv[2], sys.stdin.buffer.read()
parts = [p.split("=", 1) for p in header.split(",")]
t = next(v for k, v in parts if k == "t")
expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
sys.exit(0 if any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1") else 1)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, header, secret])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), body).unwrap();
    child.wait().unwrap().success()
}

#[tokio::test]
async fn deliveries_are_signed_so_an_independent_receiver_can_verify_them() {
    let app = app().await;
    let (hook, url) = receiver().await;
    let (owner, _, _) = signed_in(&app, "hook_owner").await;
    let (member, _, _) = signed_in(&app, "hook_member").await;
    let org = create_org(&app, &owner, "hooked").await;
    let created = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": url, "event_kinds": ["organization.member_added"]}))
        .send()
        .await;
    created.assert_status(StatusCode::CREATED);
    let created = created.value();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let stored: String =
        sqlx::query_scalar("SELECT secrets::text FROM webhook_endpoints").fetch_one(&app.db.pool).await.unwrap();
    assert!(!stored.contains(&secret), "the secret is sealed at rest");

    join(&app, &owner, &org, &member, "hook_member@example.com", "member").await;
    drain_jobs(&app).await;
    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let signature = headers["backline-signature"].to_str().unwrap();
    assert!(python_verifies(signature, body, &secret), "{signature}");
    assert!(!python_verifies(signature, b"{\"tampered\":true}", &secret));
    assert!(!python_verifies(signature, body, "whsec_wrong"));
    let event: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["type"], "organization.member_added");
    assert_eq!(event["organization_id"], org.as_str());
    assert_eq!(event["data"]["member_name"], "hook_member display");

    let id = created["id"].as_str().unwrap();
    let log = app.get(&format!("/v1/orgs/{org}/webhooks/{id}/deliveries")).bearer(&owner).send().await.value();
    assert_eq!(log["items"][0]["state"], "delivered");
    assert_eq!(log["items"][0]["last_status"], 200);
    assert!(log["items"][0]["response_ms"].is_number());

    // During a rotation both secrets sign, so a receiver verifies with either.
    let rotated = app.post(&format!("/v1/orgs/{org}/webhooks/{id}/rotate-secret")).bearer(&owner).send().await.value();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/orgs/{org}/webhooks/{id}/test"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    let received = hook.received.lock().unwrap().clone();
    let (headers, body) = received.last().unwrap();
    let signature = headers["backline-signature"].to_str().unwrap();
    assert_eq!(signature.matches("v1=").count(), 2, "{signature}");
    assert!(python_verifies(signature, body, &secret) && python_verifies(signature, body, &new_secret));
    // A test delivery is shaped like every other: it names the endpoint's organization.
    let test: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(test["type"], "webhook.test");
    assert_eq!(test["organization_id"], org.as_str());
    assert_eq!(test["data"]["endpoint_id"], id);
    // A day later only the new one signs.
    app.clock.advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let owner = crate::support::login(&app, "hook_owner", crate::support::PASSWORD).await.value()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/orgs/{org}/webhooks/{id}/test"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    let received = hook.received.lock().unwrap().clone();
    let (headers, body) = received.last().unwrap();
    let signature = headers["backline-signature"].to_str().unwrap();
    assert_eq!(signature.matches("v1=").count(), 1);
    assert!(python_verifies(signature, body, &new_secret) && !python_verifies(signature, body, &secret));
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_its_owners_told() {
    let app = app().await;
    let (hook, url) = receiver().await;
    hook.status.store(500, Ordering::SeqCst);
    let (owner, _, _) = signed_in(&app, "failing_owner").await;
    let org = create_org(&app, &owner, "failing").await;
    let created = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": url, "event_kinds": ["*"]}))
        .send()
        .await
        .value();
    let id = created["id"].as_str().unwrap().to_owned();
    // Fourteen failures so far; the fifteenth disables it.
    sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 14").execute(&app.db.pool).await.unwrap();
    app.post(&format!("/v1/orgs/{org}/webhooks/{id}/test"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    let list = app.get(&format!("/v1/orgs/{org}/webhooks")).bearer(&owner).send().await.value();
    assert_eq!(list["items"][0]["enabled"], false);
    assert!(list["items"][0]["disabled_reason"].as_str().unwrap().contains("15 failed deliveries"));
    let notes = app.get("/v1/me/notifications").bearer(&owner).send().await.value();
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "webhook.endpoint_disabled"), "{notes}");
    // A manager enables it again once the receiver is fixed.
    hook.status.store(204, Ordering::SeqCst);
    let enabled = app
        .patch(&format!("/v1/orgs/{org}/webhooks/{id}"))
        .bearer(&owner)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .value();
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["consecutive_failures"], 0);
}

#[tokio::test]
async fn webhook_requests_are_checked_and_strangers_see_nothing() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "wh_owner").await;
    let (stranger, _, _) = signed_in(&app, "wh_stranger").await;
    let org = create_org(&app, &owner, "wh-org").await;
    let bad = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": "ftp://x", "event_kinds": ["nope"]}))
        .send()
        .await;
    let problem = bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["url", "event_kinds[0]"]);
    let created = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": "https://example.com/hook", "event_kinds": ["*"]}))
        .send()
        .await
        .value();
    let id = created["id"].as_str().unwrap();
    for (method, path) in [
        (axum::http::Method::GET, format!("/v1/orgs/{org}/webhooks")),
        (axum::http::Method::DELETE, format!("/v1/orgs/{org}/webhooks/{id}")),
        (axum::http::Method::POST, format!("/v1/orgs/{org}/webhooks/{id}/rotate-secret")),
        (axum::http::Method::GET, format!("/v1/orgs/{org}/webhooks/{id}/deliveries")),
        (axum::http::Method::POST, format!("/v1/orgs/{org}/webhooks/{id}/test")),
    ] {
        app.request(method, &path).bearer(&stranger).send().await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    let list = app.get(&format!("/v1/orgs/{org}/webhooks")).bearer(&owner).send().await.value();
    assert!(!list.to_string().contains("whsec_"), "secrets are never listed");
    app.delete(&format!("/v1/orgs/{org}/webhooks/{id}"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn admins_see_job_counts_and_retry_dead_jobs() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (user, _, _) = signed_in(&app, "not_admin").await;
    app.get("/v1/admin/jobs/stats").bearer(&user).send().await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, last_error, created_at, updated_at, finished_at)
         VALUES (gen_random_uuid(), 'system.noop', '{}', 'dead', now(), 5, 5, 'boom', now(), now(), now()) RETURNING id",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let stats = app.get("/v1/admin/jobs/stats").bearer(&admin).send().await.value();
    assert!(
        stats["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "system.noop" && c["state"] == "dead" && c["count"] == 1)
    );
    let dead = app.get("/v1/admin/jobs?state=dead").bearer(&admin).send().await.value();
    assert_eq!(dead["items"][0]["last_error"], "boom");
    app.get("/v1/admin/jobs?state=bogus")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let retried = app.post(&format!("/v1/admin/jobs/{id}/retry")).bearer(&admin).send().await;
    retried.assert_status(StatusCode::OK);
    assert_eq!(retried.value()["state"], "queued");
    app.post(&format!("/v1/admin/jobs/{id}/retry"))
        .bearer(&admin)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "job_not_dead");
    drain_jobs(&app).await;
    assert_eq!(app.get(&format!("/v1/admin/jobs/{id}")).bearer(&admin).send().await.value()["state"], "succeeded");
}

#[tokio::test]
async fn by_default_deliveries_never_reach_internal_addresses() {
    let app = app().await;
    let (hook, url) = receiver().await;
    let (owner, _, _) = signed_in(&app, "ssrf_owner").await;
    let org = create_org(&app, &owner, "ssrf-org").await;
    let created = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": url, "event_kinds": ["*"]}))
        .send()
        .await
        .value();
    let id = created["id"].as_str().unwrap();
    app.post(&format!("/v1/orgs/{org}/webhooks/{id}/test"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    crate::support::drain_jobs_with(&app, notify::webhooks::DeliveryPolicy::default()).await;
    assert!(hook.received.lock().unwrap().is_empty(), "nothing may be sent to a loopback address");
    let log = app.get(&format!("/v1/orgs/{org}/webhooks/{id}/deliveries")).bearer(&owner).send().await.value();
    assert!(log["items"][0]["last_error"].as_str().unwrap().contains("internal address"), "{log}");
}

/// A receiver that takes the connection and never answers: the delivery gives up at its 10-second
/// timeout, records why and waits for its retry, and a job beside it (a mail) is not held up by it.
#[tokio::test]
async fn a_stalled_receiver_times_out_and_is_retried_without_holding_other_jobs() {
    let app = app().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Accepts, reads nothing, answers nothing; the connections stay open until the process ends.
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(120));
        drop(held);
    });
    let (owner, _, _) = signed_in(&app, "stalled_owner").await;
    let org = create_org(&app, &owner, "stalled").await;
    let created = app
        .post(&format!("/v1/orgs/{org}/webhooks"))
        .bearer(&owner)
        .json(&json!({"url": url, "event_kinds": ["*"]}))
        .send()
        .await
        .value();
    let id = created["id"].as_str().unwrap().to_owned();
    drain_jobs(&app).await;
    app.post(&format!("/v1/orgs/{org}/webhooks/{id}/test"))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);

    let mail = tempfile::tempdir().unwrap();
    let registry = std::sync::Arc::new(backline::job_registry(
        platform::mail::Transport::File(platform::mail::FileTransport::new(mail.path())),
        notify::webhooks::DeliveryPolicy { allow_private_targets: true },
        None,
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = platform::jobs::WorkerConfig { concurrency: 4, ..platform::jobs::WorkerConfig::default() };
    let worker = tokio::spawn(platform::jobs::run(app.ctx.clone(), registry, config, async {
        let _ = stopped.await;
    }));
    let started = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // A mail queued while the delivery hangs goes out at once.
    crate::support::register(&app, "meanwhile").await;
    let deadline = started + std::time::Duration::from_secs(5);
    while std::fs::read_dir(mail.path()).unwrap().next().is_none() {
        assert!(std::time::Instant::now() < deadline, "the mail waited for the stalled delivery");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The delivery gives up at its timeout and waits for its retry.
    let deadline = started + std::time::Duration::from_secs(30);
    let (attempts, error) = loop {
        let row = sqlx::query!(
            "SELECT attempts, state, last_error FROM jobs WHERE kind = 'webhook.deliver' ORDER BY created_at DESC LIMIT 1"
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        if row.state == "queued" && row.attempts == 1 {
            break (row.attempts, row.last_error.unwrap_or_default());
        }
        assert!(std::time::Instant::now() < deadline, "the delivery never gave up: {}", row.state);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_secs(9) && took < std::time::Duration::from_secs(25), "{took:?}");
    assert_eq!(attempts, 1);
    let failure = sqlx::query_scalar!(
        r#"SELECT last_error AS "e!" FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC LIMIT 1"#,
        id.parse::<uuid::Uuid>().unwrap()
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(format!("{error} {failure}").contains("timed out"), "{error} / {failure}");
    let _ = stop.send(());
    worker.await.unwrap().unwrap();
}
