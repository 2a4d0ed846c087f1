//! Notifications: events become in-app notifications and emails per the user's preferences, the
//! notification center, the per-user email limit, and the real-time stream.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;

use crate::support::{PASSWORD, app, create_org, drain_jobs, join, signed_in};

#[tokio::test]
async fn verifying_an_account_notifies_its_owner_in_app() {
    let app = app().await;
    let (token, _, _) = signed_in(&app, "newcomer").await;
    drain_jobs(&app).await;
    let list = app.get("/v1/me/notifications").bearer(&token).send().await.value();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["kind"], "account.verified");
    assert_eq!(items[0]["title"], "Welcome to Backline");
    assert!(items[0]["body"].as_str().unwrap().contains("newcomer display"), "template variables are filled: {list}");
    assert_eq!(app.get("/v1/me/notifications/unread-count").bearer(&token).send().await.value()["unread"], 1);
    let id = items[0]["id"].as_str().unwrap();
    app.post(&format!("/v1/me/notifications/{id}/read"))
        .bearer(&token)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/me/notifications/unread-count").bearer(&token).send().await.value()["unread"], 0);
    let unread = app.get("/v1/me/notifications?unread_only=true").bearer(&token).send().await.value();
    assert!(unread["items"].as_array().unwrap().is_empty());
    // Dispatch is idempotent: running it again adds nothing.
    drain_jobs(&app).await;
    assert_eq!(
        app.get("/v1/me/notifications").bearer(&token).send().await.value()["items"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn another_users_notification_is_not_found() {
    let app = app().await;
    let (alice, _, _) = signed_in(&app, "alice_n").await;
    let (bob, _, _) = signed_in(&app, "bob_n").await;
    drain_jobs(&app).await;
    let alices = app.get("/v1/me/notifications").bearer(&alice).send().await.value();
    let id = alices["items"][0]["id"].as_str().unwrap();
    app.post(&format!("/v1/me/notifications/{id}/read"))
        .bearer(&bob)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get("/v1/me/notifications/unread-count").bearer(&alice).send().await.value()["unread"], 1);
    let all = app.post("/v1/me/notifications/read-all").bearer(&bob).send().await.value();
    assert_eq!(all["updated"], 1, "bob marks only his own");
    assert_eq!(app.get("/v1/me/notifications/unread-count").bearer(&alice).send().await.value()["unread"], 1);
}

#[tokio::test]
async fn preferences_choose_the_channels_and_unavailable_ones_are_refused() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "prefs_owner").await;
    let (member, _, _) = signed_in(&app, "prefs_member").await;
    let org = create_org(&app, &owner, "prefs-org").await;
    let res = app
        .patch("/v1/me")
        .bearer(&owner)
        .json(&json!({"notification_preferences": {"organization.member_added": {"sms": true}}}))
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "channel_unavailable"
    );
    // Member joins: by default the owner is told in-app and by email.
    join(&app, &owner, &org, &member, "prefs_member@example.com", "member").await;
    drain_jobs(&app).await;
    let mails = |to: &'static str, subject: &'static str| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM mail_outbox WHERE to_address = $1 AND subject = $2")
                .bind(to)
                .bind(subject)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let subject = "prefs_member display joined prefs-org org";
    assert_eq!(mails("prefs_owner@example.com", subject).await, 1);
    let notes = app.get("/v1/me/notifications").bearer(&owner).send().await.value();
    let added = notes["items"].as_array().unwrap().iter().find(|n| n["kind"] == "organization.member_added").cloned();
    let added = added.unwrap_or_else(|| panic!("no member_added notification: {notes}"));
    assert_eq!(added["data"]["role"], "member");

    // With email and in-app switched off for that kind, the next one reaches neither.
    app.patch("/v1/me")
        .bearer(&owner)
        .json(&json!({"notification_preferences": {"organization.member_added": {"email": false, "in_app": false}}}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (second, _, _) = signed_in(&app, "prefs_second").await;
    join(&app, &owner, &org, &second, "prefs_second@example.com", "viewer").await;
    drain_jobs(&app).await;
    assert_eq!(mails("prefs_owner@example.com", "prefs_second display joined prefs-org org").await, 0);
    let notes = app.get("/v1/me/notifications").bearer(&owner).send().await.value();
    assert!(notes["items"].as_array().unwrap().iter().all(|n| n["data"]["member_name"] != "prefs_second display"));
}

#[tokio::test]
async fn a_user_gets_at_most_twenty_emails_an_hour() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "inbox").await;
    drain_jobs(&app).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    for _ in 0..21 {
        let event = platform::events::Event {
            kind: "account.password_changed",
            recipients: vec![user_id.parse().unwrap()],
            organization: None,
            data: json!({}),
        };
        platform::events::emit(&mut tx, event, app.clock_now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    drain_jobs(&app).await;
    let emails: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE to_address = 'inbox@example.com' AND subject = 'Your password was changed'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(emails, 20, "the 21st stays in-app only");
    let unread = app.get("/v1/me/notifications/unread-count").bearer(&token).send().await.value();
    assert_eq!(unread["unread"], 22, "every one is in the notification center (and the welcome)");
    // The next hour, email flows again.
    app.clock.advance(chrono::Duration::hours(1));
    let mut conn = app.db.pool.acquire().await.unwrap();
    let event = platform::events::Event {
        kind: "account.password_changed",
        recipients: vec![user_id.parse().unwrap()],
        organization: None,
        data: json!({}),
    };
    platform::events::emit(&mut conn, event, app.clock_now()).await.unwrap();
    drop(conn);
    drain_jobs(&app).await;
    let emails: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE to_address = 'inbox@example.com' AND subject = 'Your password was changed'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(emails, 21);
}

#[tokio::test]
async fn admins_edit_templates_and_values_cannot_inject_template_syntax() {
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let (user, _, _) = signed_in(&app, "templated").await;
    app.put("/v1/admin/notification-templates/account.verified")
        .bearer(&user)
        .json(&json!({"title": "x", "body": "y", "email": false}))
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let bad = app
        .put("/v1/admin/notification-templates/account.verified")
        .bearer(&admin)
        .json(&json!({"title": "Hi {{ bad-name }}", "body": "y", "email": false}))
        .send()
        .await;
    assert_eq!(
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "invalid_variable"
    );
    app.put("/v1/admin/notification-templates/account.verified")
        .bearer(&admin)
        .json(&json!({"title": "Hello {{display_name}}", "body": "You are {{username}}.", "email": false}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    // A display name that looks like template syntax is printed as it is.
    let body = json!({"email": "sneaky@example.com", "username": "sneaky", "display_name": "{{username}}", "password": PASSWORD});
    app.post("/v1/auth/register")
        .ip(&crate::support::fresh_ip())
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let token = crate::support::mailed_token(&app, "sneaky@example.com").await;
    app.post("/v1/auth/verify-email").json(&json!({"token": token})).send().await.assert_status(StatusCode::OK);
    drain_jobs(&app).await;
    let access = crate::support::login(&app, "sneaky", PASSWORD).await.value();
    let notes = app.get("/v1/me/notifications").bearer(access["access_token"].as_str().unwrap()).send().await.value();
    assert_eq!(notes["items"][0]["title"], "Hello {{username}}");
    assert_eq!(notes["items"][0]["body"], "You are sneaky.");
}

/// Reads the next SSE event (an `id:` and `data:` block) from a streaming body.
pub(crate) async fn next_event(body: &mut Body) -> (String, serde_json::Value) {
    let mut buffer = String::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
        if let Some(end) = buffer.find("\n\n") {
            let block = buffer[..end].to_owned();
            if !block.contains("data:") {
                buffer.drain(..end + 2);
                continue;
            }
            let id = block.lines().find_map(|l| l.strip_prefix("id:")).unwrap_or_default().trim().to_owned();
            let data = block.lines().find_map(|l| l.strip_prefix("data:")).unwrap_or_default().trim().to_owned();
            return (id, serde_json::from_str(&data).unwrap());
        }
    }
}

#[tokio::test]
async fn the_stream_pushes_new_notifications_and_resumes_after_last_event_id() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "listener").await;
    drain_jobs(&app).await;
    let emit = |n: usize| {
        let pool = app.db.pool.clone();
        let user: uuid::Uuid = user_id.parse().unwrap();
        let now = app.clock_now();
        async move {
            let mut tx = pool.begin().await.unwrap();
            for _ in 0..n {
                let event = platform::events::Event {
                    kind: "account.password_changed",
                    recipients: vec![user],
                    organization: None,
                    data: json!({}),
                };
                platform::events::emit(&mut tx, event, now).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    };
    let open = |last: Option<String>| {
        let mut req = Request::get("/v1/me/stream").header("authorization", format!("Bearer {token}"));
        if let Some(last) = last {
            req = req.header("last-event-id", last);
        }
        let req = req.body(Body::empty()).unwrap();
        let router = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
        async move { tower::ServiceExt::oneshot(router, req).await.unwrap() }
    };
    let res = open(None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    emit(1).await;
    drain_jobs(&app).await;
    let (first_id, first) = next_event(&mut body).await;
    assert_eq!(first["kind"], "account.password_changed");
    assert_eq!(first["id"].as_str().unwrap(), first_id);
    drop(body);

    // While disconnected, two more arrive; reconnecting with Last-Event-ID delivers exactly those.
    emit(2).await;
    drain_jobs(&app).await;
    let mut body = open(Some(first_id.clone())).await.into_body();
    let (second, _) = next_event(&mut body).await;
    let (third, _) = next_event(&mut body).await;
    // Exactly the two that arrived meanwhile, each once (their order is the order they were written,
    // which two job workers may do in either order of their ids).
    let (user, first): (uuid::Uuid, uuid::Uuid) = (user_id.parse().unwrap(), first_id.parse().unwrap());
    let newer: Vec<String> = sqlx::query_scalar!(
        r#"SELECT id::text AS "id!" FROM notifications WHERE user_id = $1 AND id <> $2 ORDER BY seq DESC LIMIT 2"#,
        user,
        first
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut got = vec![second.clone(), third.clone()];
    got.sort();
    let mut want = newer;
    want.sort();
    assert_eq!(got, want, "none repeated, none missed: {first_id} {second} {third}");
    let bad = open(Some("not-an-id".into())).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn html_email_escapes_every_value() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "html_owner").await;
    let org = create_org(&app, &owner, "html-org").await;
    let body = json!({"email": "html_member@example.com", "username": "html_member", "display_name": "<script>alert(1)</script>", "password": PASSWORD});
    app.post("/v1/auth/register")
        .ip(&crate::support::fresh_ip())
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let token = crate::support::mailed_token(&app, "html_member@example.com").await;
    app.post("/v1/auth/verify-email").json(&json!({"token": token})).send().await.assert_status(StatusCode::OK);
    let member =
        crate::support::login(&app, "html_member", PASSWORD).await.value()["access_token"].as_str().unwrap().to_owned();
    join(&app, &owner, &org, &member, "html_member@example.com", "member").await;
    drain_jobs(&app).await;
    let (text, html): (String, Option<String>) = sqlx::query_as(
        "SELECT body_text, body_html FROM mail_outbox WHERE to_address = 'html_owner@example.com' AND subject LIKE '%joined%'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let html = html.expect("an HTML alternative");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(text.contains("<script>alert(1)</script> joined"), "the text part is verbatim: {text}");
}

/// Notifications committed in another order than their ids (a transaction that made its id first and
/// committed last) all reach an open stream, each once: the stream follows the order of commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_committed_out_of_id_order_all_reach_the_stream_once() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "racer").await;
    drain_jobs(&app).await;
    let user: uuid::Uuid = user_id.parse().unwrap();
    let now = app.clock_now();
    const ROUNDS: usize = 10;
    let mut events = Vec::new();
    {
        let mut tx = app.db.pool.begin().await.unwrap();
        for _ in 0..ROUNDS * 2 {
            let event = platform::events::Event {
                kind: "account.password_changed",
                recipients: vec![user],
                organization: None,
                data: json!({}),
            };
            events.push(platform::events::emit(&mut tx, event, now).await.unwrap());
        }
        tx.commit().await.unwrap();
    }
    let req =
        Request::get("/v1/me/stream").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let router = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
    let mut body = tower::ServiceExt::oneshot(router, req).await.unwrap().into_body();

    let insert = move |pool: sqlx::PgPool, id: uuid::Uuid, event: uuid::Uuid| async move {
        let mut tx = pool.begin().await.unwrap();
        let data = json!({});
        let n = notify::notifications::repo::NewNotification {
            id,
            user,
            event,
            kind: "account.password_changed",
            title: "Raced",
            body: "",
            data: &data,
            now,
        };
        notify::notifications::repo::insert_notification(&mut tx, &n).await.unwrap();
        tx
    };
    let mut sent = std::collections::BTreeSet::new();
    let mut received = Vec::new();
    for round in 0..ROUNDS {
        // The slow one makes its (earlier) id and inserts first, then waits to commit ...
        let slow_id = platform::ids::new_id();
        let slow = insert(app.db.pool.clone(), slow_id, events[2 * round]).await;
        // ... while the fast one, with a later id, commits as soon as it can.
        let fast_id = platform::ids::new_id();
        assert!(fast_id > slow_id);
        let pool = app.db.pool.clone();
        let event = events[2 * round + 1];
        let fast = tokio::spawn(async move { insert(pool, fast_id, event).await.commit().await.unwrap() });
        // The stream runs meanwhile: whatever it can send before the slow one commits, it sends.
        while let Ok(event) = tokio::time::timeout(Duration::from_millis(300), next_event(&mut body)).await {
            received.push(event.0);
        }
        slow.commit().await.unwrap();
        fast.await.unwrap();
        sent.extend([slow_id.to_string(), fast_id.to_string()]);
    }
    while received.len() < ROUNDS * 2 {
        received.push(next_event(&mut body).await.0);
    }
    let unique: std::collections::BTreeSet<String> = received.iter().cloned().collect();
    assert_eq!(unique.len(), received.len(), "none twice: {received:?}");
    assert_eq!(unique, sent, "every notification reached the stream");
}

/// An SMTP server that takes the connection and never greets: the delivery gives up at the transport's
/// timeout, records why and is retried, and while it waits it holds no database connection or lock
/// (no session of the test database is left idle in a transaction), so requests are not starved.
#[tokio::test]
async fn a_silent_smtp_server_times_the_delivery_out_without_holding_the_database() {
    let app = app().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(8).collect();
        std::thread::sleep(std::time::Duration::from_secs(120));
        drop(held);
    });
    let smtp = platform::mail::SmtpTransport::with_timeout(
        &format!("smtp://127.0.0.1:{port}"),
        platform::mail::FROM,
        std::time::Duration::from_secs(3),
    )
    .unwrap();
    let registry = std::sync::Arc::new(backline::job_registry(
        platform::mail::Transport::Smtp(Box::new(smtp)),
        notify::webhooks::DeliveryPolicy { allow_private_targets: true },
        None,
    ));
    let message = platform::mail::Message {
        to: "someone@example.com".into(),
        subject: "Hello".into(),
        body_text: "Hi".into(),
        body_html: None,
    };
    let mut conn = app.db.pool.acquire().await.unwrap();
    let id = platform::mail::enqueue(&mut conn, &message, app.clock_now()).await.unwrap();
    drop(conn);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = platform::jobs::WorkerConfig { concurrency: 2, ..platform::jobs::WorkerConfig::default() };
    let worker = tokio::spawn(platform::jobs::run(app.ctx.clone(), registry, config, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let waiting: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pg_stat_activity
           WHERE datname = current_database() AND state LIKE 'idle in transaction%'"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(waiting, 0, "a delivery waiting on the server holds a transaction open");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let error = loop {
        let row = sqlx::query!("SELECT attempts, delivered_at, last_error FROM mail_outbox WHERE id = $1", id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        if row.attempts == 1 {
            assert!(row.delivered_at.is_none());
            break row.last_error.unwrap_or_default();
        }
        assert!(std::time::Instant::now() < deadline, "the delivery never gave up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(error.to_lowercase().contains("time"), "{error}");
    let job = sqlx::query!("SELECT state, attempts FROM jobs WHERE kind = 'mail.deliver'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 1), "retried later");
    let _ = stop.send(());
    worker.await.unwrap().unwrap();
}
