//! `/healthz`, `/readyz` and `/metrics`.

use std::sync::Arc;

use axum::http::StatusCode;
use platform::AppContext;
use platform::clock::SystemClock;
use platform::db::{self, PoolSettings};
use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
use platform::http::EdgeLimits;
use testkit::{TestApp, TestDb};

use crate::support::app;

#[tokio::test]
async fn healthz_answers() {
    let app = app().await;
    let res = app.get("/healthz").send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "ok");
}

#[tokio::test]
async fn readyz_is_ready_on_a_migrated_database() {
    let app = app().await;
    let res = app.get("/readyz").send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "ready");
}

#[tokio::test]
async fn readyz_refuses_while_migrations_are_pending() {
    let db = TestDb::empty().await;
    let ctx = AppContext::new(db.pool.clone(), "http://backline.test");
    let router = backline::app(ctx, EdgeLimits::default(), None);
    let res = tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get("/readyz").body(axum::body::Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    db::migrate_as_owner(&db.owner_options(), Some(db::APP_ROLE)).await.unwrap();
    assert_eq!(db::readiness(&db.pool).await, db::Readiness::Ready);
}

/// The service's role reads and writes rows and nothing else, and PostgreSQL itself says so: no DDL,
/// no disabling a trigger, no change or removal of an audit row or a ledger posting (refused by the
/// grants, before the tables' triggers would refuse them too), no TRUNCATE, no rewriting the migration
/// history, no switching triggers off for the session.
#[tokio::test]
async fn the_service_role_is_refused_everything_but_reading_and_writing_rows() {
    let app = app().await;
    crate::ledger::funded(&app.db.pool, uuid::Uuid::now_v7(), 100).await;
    crate::support::signed_in(&app, "audited").await;
    let pool = &app.db.pool;
    let role: String = sqlx::query_scalar!(r#"SELECT current_user AS "u!""#).fetch_one(pool).await.unwrap();
    assert_eq!(role, db::APP_ROLE);
    let refused = [
        ("ALTER TABLE postings DISABLE TRIGGER postings_append_only", "must be owner of table postings"),
        ("ALTER TABLE audit_log DISABLE TRIGGER ALL", "must be owner of table audit_log"),
        ("UPDATE audit_log SET action = 'forged'", "permission denied for table audit_log"),
        ("DELETE FROM audit_log", "permission denied for table audit_log"),
        ("DELETE FROM postings", "permission denied for table postings"),
        ("UPDATE postings SET amount = amount * 2", "permission denied for table postings"),
        ("DELETE FROM journal_entries", "permission denied for table journal_entries"),
        ("UPDATE ticket_chain SET action = 'refund'", "permission denied for table ticket_chain"),
        ("TRUNCATE users", "permission denied for table users"),
        ("CREATE TABLE mine (id int)", "permission denied for schema public"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "permission denied for schema public"),
        ("DROP TABLE sessions", "must be owner of table sessions"),
        (
            "CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only()",
            "permission denied for table users",
        ),
        ("DELETE FROM _sqlx_migrations", "permission denied for table _sqlx_migrations"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("CREATE ROLE intruder", "permission denied to create role"),
    ];
    for (sql, reason) in refused {
        let err = sqlx::raw_sql(sql).execute(pool).await.expect_err(sql);
        let db_err = err.as_database_error().unwrap_or_else(|| panic!("{sql}: {err}"));
        assert_eq!(db_err.code().as_deref(), Some("42501"), "{sql}: {err}");
        assert!(db_err.message().contains(reason), "{sql}: {}", db_err.message());
    }
    // What it may do: read and append to the append-only tables, read the migration history.
    let (audit, postings, migrations): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM postings), (SELECT count(*) FROM _sqlx_migrations)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(audit > 0 && postings > 0 && migrations > 30, "{audit} {postings} {migrations}");
}

#[tokio::test]
async fn readyz_refuses_while_the_database_is_down_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig { ephemeral: true, ..EmbeddedConfig::new(dir.path()) };
    let start = move || EmbeddedPostgres::start(&config);
    let mut cluster = tokio::task::spawn_blocking(start.clone()).await.unwrap().unwrap();
    let settings = PoolSettings { max_connections: 2, acquire_timeout: std::time::Duration::from_millis(500) };
    let pool = db::connect(cluster.connect_options("postgres"), settings).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let ctx = AppContext::new(pool.clone(), "http://backline.test").with_clock(Arc::new(SystemClock));
    let check = |ctx: AppContext| async move {
        let router = backline::app(ctx, EdgeLimits::default(), None);
        let req = axum::http::Request::get("/readyz").body(axum::body::Body::empty()).unwrap();
        let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
        let status = res.status();
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        (status, serde_json::from_slice::<serde_json::Value>(&body).unwrap())
    };
    assert_eq!(check(ctx.clone()).await.0, StatusCode::OK);

    tokio::task::spawn_blocking(move || {
        cluster.stop();
        drop(cluster);
    })
    .await
    .unwrap();
    let (status, problem) = check(ctx.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["code"], "database_unreachable");

    let _cluster = tokio::task::spawn_blocking(start).await.unwrap().unwrap();
    assert_eq!(check(ctx).await.0, StatusCode::OK, "ready again once the database is back");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_the_pool() {
    let app: TestApp = app().await;
    for _ in 0..3 {
        app.get("/healthz").send().await.assert_status(StatusCode::OK);
    }
    app.get("/missing/123").send().await;
    let res = app.get("/metrics").send().await;
    res.assert_status(StatusCode::OK);
    assert!(res.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text();
    assert!(text.contains(r#"backline_http_requests_total{method="GET",route="/healthz",status="200"} 3"#), "{text}");
    // Unknown paths are pooled under one label.
    assert!(text.contains(r#"backline_http_requests_total{method="GET",route="unmatched",status="404"} 1"#), "{text}");
    assert!(!text.contains("/missing/123"), "{text}");
    assert!(
        text.contains(r#"backline_http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#),
        "{text}"
    );
    assert!(text.contains("backline_db_pool_max_connections 10"), "{text}");
}

/// `/metrics` reads the queue at each scrape: jobs waiting and dead by kind, and the oldest wait; and the
/// webhook deliveries that are failing.
#[tokio::test]
async fn metrics_report_jobs_waiting_and_dead_by_kind_and_failing_deliveries() {
    let app: TestApp = app().await;
    let at = chrono::Utc::now() - chrono::Duration::minutes(10);
    let mut conn = app.db.pool.acquire().await.unwrap();
    for (kind, state) in [("metrics.probe", "queued"), ("metrics.probe", "queued"), ("metrics.broken", "dead")] {
        sqlx::query!(
            "INSERT INTO jobs (id, kind, payload, state, run_at, max_attempts, created_at, updated_at)
             VALUES ($1, $2, '{}', $3, $4, 3, $4, $4)",
            platform::ids::new_id(),
            kind,
            state,
            at
        )
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    // Webhook deliveries: one retrying after a failure, one given up, one delivered (not counted).
    let (token, user, _) = crate::support::signed_in(&app, "metrics_owner").await;
    let org = crate::support::create_org(&app, &token, "metrics-org").await;
    let endpoint = platform::ids::new_id();
    sqlx::query!(
        "INSERT INTO webhook_endpoints (id, organization_id, url, event_kinds, secrets, created_by, created_at, updated_at)
         VALUES ($1, $2, 'https://hooks.example/x', '{booking.confirmed}', '[]', $3, now(), now())",
        endpoint,
        uuid::Uuid::parse_str(&org).unwrap(),
        uuid::Uuid::parse_str(&user).unwrap()
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    for (state, attempts) in [("pending", 2), ("failed", 8), ("delivered", 1)] {
        let event = platform::events::emit(
            &mut conn,
            platform::events::Event {
                kind: "booking.confirmed",
                recipients: vec![],
                organization: None,
                data: serde_json::json!({}),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        sqlx::query!(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, state, attempts, created_at)
             VALUES ($1, $2, $3, $4, $5, now())",
            platform::ids::new_id(),
            endpoint,
            event,
            state,
            attempts
        )
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let text = app.get("/metrics").send().await.text();
    assert!(text.contains(r#"backline_webhook_deliveries_failing{state="retrying"} 1"#), "{text}");
    assert!(text.contains(r#"backline_webhook_deliveries_failing{state="failed"} 1"#), "{text}");
    assert!(text.contains(r#"backline_jobs_waiting{kind="metrics.probe"} 2"#), "{text}");
    assert!(text.contains(r#"backline_jobs_dead{kind="metrics.broken"} 1"#), "{text}");
    assert_eq!(text.matches("# TYPE backline_jobs_waiting gauge").count(), 1, "{text}");
    let oldest: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("backline_jobs_oldest_waiting_seconds "))
        .expect("the oldest wait")
        .parse()
        .unwrap();
    assert!((590.0..1200.0).contains(&oldest), "about ten minutes: {oldest}");
}

/// The business figures an operator watches: tickets sold by state and payments by outcome, every
/// outcome named (zero included), equal to what the database holds.
#[tokio::test]
async fn metrics_report_tickets_sold_and_payments_by_outcome() {
    let app = app().await;
    let empty = app.get("/metrics").send().await.text();
    assert!(empty.contains(r#"backline_tickets_sold{state="valid"} 0"#), "{empty}");
    assert!(empty.contains(r#"backline_payments{state="failed"} 0"#), "{empty}");
    crate::support::load_demo(&app).await;
    let text = app.get("/metrics").send().await.text();
    let tickets = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE state = 'valid') AS "valid!", count(*) FILTER (WHERE state = 'refunded') AS "refunded!"
           FROM tickets"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(tickets.valid > 0, "the demo sells tickets");
    assert!(text.contains(&format!(r#"backline_tickets_sold{{state="valid"}} {}"#, tickets.valid)), "{text}");
    assert!(text.contains(&format!(r#"backline_tickets_sold{{state="refunded"}} {}"#, tickets.refunded)), "{text}");
    // Payments through the sandbox: two captured, one declined, one authorized.
    let (token, _, _) = crate::support::signed_in(&app, "metrics-payer").await;
    for (card, capture) in [
        ("4242424242424242", "automatic"),
        ("4242424242424242", "automatic"),
        ("4000000000000002", "automatic"),
        ("4242424242424242", "manual"),
    ] {
        let body = serde_json::json!({"amount": 1000, "currency": "EUR", "card_number": card, "capture": capture});
        let res = app.post("/v1/payments").bearer(&token).json(&body).send().await;
        assert!(res.status.is_success(), "{card} {capture}: {}", res.status);
    }
    let text = app.get("/metrics").send().await.text();
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE state = 'captured') AS "captured!", count(*) FILTER (WHERE state = 'failed') AS "failed!",
                  count(*) FILTER (WHERE state = 'authorized') AS "authorized!"
           FROM payment_intents"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(counts.captured >= 2 && counts.failed >= 1 && counts.authorized >= 1, "the sandbox recorded them");
    assert!(text.contains(&format!(r#"backline_payments{{state="captured"}} {}"#, counts.captured)), "{text}");
    assert!(text.contains(&format!(r#"backline_payments{{state="failed"}} {}"#, counts.failed)), "{text}");
    assert!(text.contains(&format!(r#"backline_payments{{state="authorized"}} {}"#, counts.authorized)), "{text}");
    for state in ["initiated", "authorized", "captured", "failed", "cancelled", "refunded"] {
        assert_eq!(text.matches(&format!(r#"backline_payments{{state="{state}"}} "#)).count(), 1, "{state}: {text}");
    }
    assert_eq!(text.matches("# TYPE backline_payments gauge").count(), 1, "{text}");
}

/// Point-in-time recovery as docs/operations.md describes it, on a real cluster: WAL archived by
/// `archive_command`, a base backup by `pg_basebackup`, money moved before and after a chosen instant;
/// the cluster recovered from the base backup and the archive to that instant holds what was committed
/// before it, not what came after, and its ledger audits clean.
#[tokio::test]
async fn point_in_time_recovery_brings_back_the_ledger_as_it_was_at_the_chosen_instant() {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = platform::embedded::find_bin_dir(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    // PostgreSQL (an unprivileged user when the tests run as root) writes the archive.
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut config = EmbeddedConfig { ephemeral: true, ..EmbeddedConfig::new(dir.path().join("primary")) };
    config.settings.push("archive_mode=on".to_owned());
    config.settings.push(format!("archive_command=cp %p {}/%f", archive.display()));
    let primary = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await.unwrap().unwrap();
    let settings = PoolSettings { max_connections: 4, ..PoolSettings::default() };
    let pool = db::connect(primary.connect_options("postgres"), settings).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let before_backup = crate::ledger::funded(&pool, uuid::Uuid::now_v7(), 1_000).await;

    std::fs::create_dir_all(dir.path().join("restored")).unwrap();
    let base = dir.path().join("restored/pgdata");
    let output = std::process::Command::new(bin.join("pg_basebackup"))
        .args(["--checkpoint=fast", "--wal-method=stream", "--pgdata"])
        .arg(&base)
        .args(["--dbname", &primary.url("postgres")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let after_backup = crate::ledger::funded(&pool, uuid::Uuid::now_v7(), 2_000).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let instant: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar!(r#"SELECT clock_timestamp() AS "t!""#).fetch_one(&pool).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let too_late = crate::ledger::funded(&pool, uuid::Uuid::now_v7(), 3_000).await;
    // The segment holding the last writes goes to the archive.
    let segment: String =
        sqlx::query_scalar!(r#"SELECT pg_walfile_name(pg_switch_wal()) AS "w!""#).fetch_one(&pool).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !archive.join(&segment).exists() {
        assert!(std::time::Instant::now() < deadline, "{segment} was never archived");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    pool.close().await;
    tokio::task::spawn_blocking(move || drop(primary)).await.unwrap();

    // Recovery: the base backup, the archive, the instant; then promoted to a primary of its own.
    std::fs::write(base.join("recovery.signal"), "").unwrap();
    let mut config = EmbeddedConfig { ephemeral: true, ..EmbeddedConfig::new(dir.path().join("restored")) };
    config.settings.push(format!("restore_command=cp {}/%f %p", archive.display()));
    config.settings.push(format!("recovery_target_time={}", instant.format("%Y-%m-%d %H:%M:%S%.6f+00")));
    config.settings.push("recovery_target_action=promote".to_owned());
    let restored = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await.unwrap().unwrap();
    let pool = db::connect(restored.connect_options("postgres"), settings).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let mut wait = 0;
    while sqlx::query_scalar!(r#"SELECT pg_is_in_recovery() AS "r!""#).fetch_one(&mut *conn).await.unwrap() {
        wait += 1;
        assert!(wait < 300, "recovery never finished");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let balances = sqlx::query!(
        "SELECT id, balance FROM ledger_accounts WHERE id = ANY($1)",
        &[before_backup.0, after_backup.0, too_late.0][..]
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let of = |id: uuid::Uuid| balances.iter().find(|r| r.id == id).map(|r| r.balance);
    assert_eq!(of(before_backup.0), Some(1_000), "in the base backup");
    assert_eq!(of(after_backup.0), Some(2_000), "replayed from the archive up to the instant");
    assert_eq!(of(too_late.0), None, "committed after the instant: not recovered");
    assert!(ledger::accounts::repo::audit(&mut conn).await.unwrap().is_clean());
}

/// A configured replica that is not one (a primary, here) is never read from: it is reported down with
/// the reason, reads go to the primary and are counted as bypassed, and the service stays ready.
#[tokio::test]
async fn a_replica_that_is_down_or_not_a_replica_is_bypassed_and_reported() {
    let other = TestDb::new().await;
    let replica = Arc::new(platform::replica::Replica::new(other.pool.clone(), std::time::Duration::from_secs(5)));
    let db = TestDb::new().await;
    let ctx = AppContext::new(db.pool.clone(), "http://backline.test").with_replica(replica.clone());
    assert!(std::ptr::eq(ctx.reader(), &ctx.db), "not used before it is measured");
    replica.check(&ctx.db, chrono::Utc::now()).await;
    let state = replica.state();
    assert_eq!(state.status, "down");
    assert!(state.reason.unwrap().contains("not a replica"));
    assert!(std::ptr::eq(ctx.reader(), &ctx.db));
    assert_eq!(replica.counts(), (0, 2));
    let router = backline::app(ctx.clone(), EdgeLimits::default(), None);
    let res = tower::ServiceExt::oneshot(
        router.clone(),
        axum::http::Request::get("/readyz").body(axum::body::Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the primary serves");
    let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    let ready: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ready["replica"]["status"], "down", "{ready}");
    let res = tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    let text = String::from_utf8(http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes().to_vec())
        .unwrap();
    assert!(
        text.contains("backline_replica_up 0") && text.contains("backline_replica_bypassed_reads_total 2"),
        "{text}"
    );
    // Unreachable: a closed pool answers nothing.
    other.pool.close().await;
    replica.check(&ctx.db, chrono::Utc::now()).await;
    assert_eq!(replica.state().status, "down");
}
