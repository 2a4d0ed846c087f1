//! The durable job queue: outbox atomicity, retries and the dead state, leases, timers, uniqueness,
//! schedules, and workers competing for one queue.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use platform::AppContext;
use platform::clock::{ManualClock, SharedClock, SystemClock};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry, WorkerConfig};
use testkit::TestDb;
use tokio::sync::oneshot;
use uuid::Uuid;

const RECORD: JobKind =
    JobKind::new("test.record").backoff(Duration::from_millis(10), Duration::from_millis(20)).max_attempts(3);
const FAIL: JobKind =
    JobKind::new("test.fail").backoff(Duration::from_millis(10), Duration::from_millis(20)).max_attempts(3);

const PICKY: JobKind = JobKind::new("test.picky");

/// A registry with one kind that only a worker with a virus scanner configured runs.
fn picky_registry(worker: &'static str) -> Registry {
    let mut registry = Registry::new();
    registry.register_where(
        PICKY,
        |ctx| ctx.storage.scans(),
        move |ctx: AppContext, job: Job| async move { Ok(ran(&ctx, &job, worker).await?) },
    );
    registry
}

/// Notes that `worker` ran `job`.
async fn ran(ctx: &AppContext, job: &Job, worker: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO job_runs (job_id, worker) VALUES ($1, $2)")
        .bind(job.id)
        .bind(worker)
        .execute(&ctx.db)
        .await?;
    Ok(())
}

/// A database with a table the test handlers write to.
async fn db() -> TestDb {
    let db = TestDb::new().await;
    sqlx::raw_sql(
        "CREATE TABLE job_runs (job_id uuid NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
         GRANT SELECT, INSERT ON job_runs TO backline_app",
    )
    .execute(&mut db.owner().await)
    .await
    .unwrap();
    db
}

fn ctx(db: &TestDb, clock: SharedClock) -> AppContext {
    AppContext::new(db.pool.clone(), "http://backline.test").with_clock(clock)
}

fn registry(worker: &'static str) -> Registry {
    let mut registry = Registry::new();
    registry.register(RECORD, move |ctx: AppContext, job: Job| async move {
        ran(&ctx, &job, worker).await?;
        Ok(())
    });
    registry.register(FAIL, move |ctx: AppContext, job: Job| async move {
        ran(&ctx, &job, worker).await?;
        if job.payload["permanent"] == true {
            Err(JobFailure::permanent("bad payload"))
        } else {
            Err(JobFailure::retry(format!("failure {}", job.attempts)))
        }
    });
    registry
}

/// Starts a worker; stop it by sending on the returned channel.
fn start(
    ctx: AppContext,
    registry: Registry,
    name: &str,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let (stop, _, handle) = start_watched(ctx, registry, name);
    (stop, handle)
}

/// [`start`], with the count of the worker's passes over timers, schedules and the queue.
fn start_watched(
    ctx: AppContext,
    registry: Registry,
    name: &str,
) -> (oneshot::Sender<()>, tokio::sync::watch::Receiver<u64>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let (tx, rx) = oneshot::channel();
    let (passes, watched) = tokio::sync::watch::channel(0);
    let config = WorkerConfig {
        concurrency: 8,
        poll_interval: Duration::from_millis(20),
        id: name.to_owned(),
        passes: Some(passes),
    };
    let handle = tokio::spawn(jobs::run(ctx, Arc::new(registry), config, async move {
        let _ = rx.await;
    }));
    (tx, watched, handle)
}

/// Waits until the worker has made a whole pass that began after this call: whatever was due by the
/// clock's time now, it has seen. (A pass that was under way when this was called counts for nothing,
/// hence two.)
async fn looked_again(passes: &mut tokio::sync::watch::Receiver<u64>) {
    let from = *passes.borrow_and_update();
    tokio::time::timeout(Duration::from_secs(10), passes.wait_for(|n| *n >= from + 2))
        .await
        .expect("the worker keeps making passes")
        .expect("the worker is running");
}

async fn enqueue(db: &TestDb, job: NewJob) -> Option<Uuid> {
    let mut conn = db.pool.acquire().await.unwrap();
    jobs::enqueue(&mut conn, job, Utc::now()).await.unwrap()
}

async fn state_of(db: &TestDb, id: Uuid) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT state, attempts, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Waits (up to 10 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn runs(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM job_runs").fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_job_and_a_committed_one_always_has_it() {
    let db = db().await;
    let mut tx = db.pool.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})), Utc::now()).await.unwrap();
    tx.rollback().await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&db.pool).await.unwrap();
    assert_eq!(count, 0);

    let mut tx = db.pool.begin().await.unwrap();
    let id = jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})), Utc::now()).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let (stop, worker) = start(ctx(&db, Arc::new(SystemClock)), registry("w1"), "w1");
    eventually("the job succeeds", || async { state_of(&db, id).await.0 == "succeeded" }).await;
    assert_eq!(runs(&db).await, 1);
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn failures_retry_with_backoff_until_dead_and_permanent_ones_die_at_once() {
    let db = db().await;
    let retried = enqueue(&db, NewJob::new(FAIL, serde_json::json!({}))).await.unwrap();
    let permanent = enqueue(&db, NewJob::new(FAIL, serde_json::json!({"permanent": true}))).await.unwrap();
    let (stop, worker) = start(ctx(&db, Arc::new(SystemClock)), registry("w1"), "w1");
    eventually("both are dead", || async {
        state_of(&db, retried).await.0 == "dead" && state_of(&db, permanent).await.0 == "dead"
    })
    .await;
    let (_, attempts, error) = state_of(&db, retried).await;
    assert_eq!(attempts, 3, "max_attempts of the kind");
    assert_eq!(error.as_deref(), Some("failure 3"));
    assert_eq!(state_of(&db, permanent).await.1, 1);
    let gaps: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM at - lag(at) OVER (ORDER BY at))::float8 FROM job_runs WHERE job_id = $1 ORDER BY at OFFSET 1",
    )
    .bind(retried)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(gaps.len(), 2);
    assert!(gaps.iter().all(|g| *g >= 0.004), "retries wait for their backoff: {gaps:?}");

    // An admin puts the dead job back; it runs (and fails) again.
    let retried_job = jobs::admin::retry(&db.pool, retried, Utc::now()).await.unwrap().unwrap();
    assert_eq!(retried_job.state.as_str(), "queued");
    eventually("dead again after a fresh set of attempts", || async {
        let (state, attempts, _) = state_of(&db, retried).await;
        state == "dead" && attempts == 3
    })
    .await;
    assert!(jobs::admin::retry(&db.pool, Uuid::now_v7(), Utc::now()).await.unwrap().is_none());
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn jobs_of_a_worker_whose_lease_expired_are_taken_up_again() {
    let db = db().await;
    let id = enqueue(&db, NewJob::new(RECORD, serde_json::json!({}))).await.unwrap();
    // A worker claimed it, then died without a word.
    sqlx::query("UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'ghost', locked_until = now() + interval '1 hour' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    let clock = ManualClock::at(Utc::now());
    let (stop, mut passes, worker) = start_watched(ctx(&db, Arc::new(clock.clone())), registry("w1"), "w1");
    looked_again(&mut passes).await;
    assert_eq!(runs(&db).await, 0, "not before the lease expires");
    clock.advance(chrono::Duration::hours(1) + chrono::Duration::seconds(1));
    eventually("taken up and finished", || async { state_of(&db, id).await.0 == "succeeded" }).await;
    assert_eq!(state_of(&db, id).await.1, 2, "the lost run counts as an attempt");
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_timer_fires_at_its_time_and_not_before() {
    let db = db().await;
    let clock = ManualClock::at(Utc::now());
    let due = platform::clock::Clock::now(&clock) + chrono::Duration::hours(72);
    let id = {
        let mut conn = db.pool.acquire().await.unwrap();
        jobs::enqueue(
            &mut conn,
            NewJob::new(RECORD, serde_json::json!({})).at(due),
            platform::clock::Clock::now(&clock),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let (stop, mut passes, worker) = start_watched(ctx(&db, Arc::new(clock.clone())), registry("w1"), "w1");
    clock.advance(chrono::Duration::hours(72) - chrono::Duration::seconds(1));
    looked_again(&mut passes).await;
    assert_eq!(state_of(&db, id).await.0, "queued", "one second early it has not fired");
    clock.advance(chrono::Duration::seconds(1));
    eventually("the timer fires", || async { state_of(&db, id).await.0 == "succeeded" }).await;
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_uniqueness_key_holds_one_unfinished_job() {
    let db = db().await;
    let first = enqueue(&db, NewJob::new(RECORD, serde_json::json!({})).unique("booking:42:deadline")).await;
    assert!(first.is_some());
    assert!(enqueue(&db, NewJob::new(RECORD, serde_json::json!({})).unique("booking:42:deadline")).await.is_none());
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(jobs::cancel_unique(&mut conn, "booking:42:deadline", Utc::now()).await.unwrap());
    drop(conn);
    assert!(
        enqueue(&db, NewJob::new(RECORD, serde_json::json!({})).unique("booking:42:deadline")).await.is_some(),
        "free again once cancelled"
    );
}

/// Many jobs in one statement: the uniqueness keys hold across the batch and against jobs already
/// queued, keyless jobs are all kept, and each job keeps its kind, payload and time.
#[tokio::test]
async fn many_jobs_are_queued_at_once_and_their_keys_still_hold() {
    let db = db().await;
    assert!(enqueue(&db, NewJob::new(RECORD, serde_json::json!({"n": 0})).unique("batch:held")).await.is_some());
    let later = Utc::now() + chrono::Duration::hours(1);
    let batch = [
        NewJob::new(RECORD, serde_json::json!({"n": 1})).unique("batch:a"),
        NewJob::new(RECORD, serde_json::json!({"n": 2})).unique("batch:a"),
        NewJob::new(RECORD, serde_json::json!({"n": 3})).unique("batch:held"),
        NewJob::new(FAIL, serde_json::json!({"n": 4})).at(later),
        NewJob::new(FAIL, serde_json::json!({"n": 5})),
    ];
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(jobs::enqueue_many(&mut conn, &batch, Utc::now()).await.unwrap(), 3);
    assert_eq!(jobs::enqueue_many(&mut conn, &[], Utc::now()).await.unwrap(), 0);
    let rows = sqlx::query!(
        r#"SELECT kind, (payload->>'n')::int8 AS "n!", unique_key, run_at > now() + interval '30 minutes' AS "later!"
           FROM jobs WHERE kind LIKE 'test.%' ORDER BY (payload->>'n')::int8"#
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let expected = [
        ("test.record", 0, Some("batch:held"), false),
        ("test.record", 1, Some("batch:a"), false),
        ("test.fail", 4, None, true),
        ("test.fail", 5, None, false),
    ];
    let got: Vec<(&str, i64, Option<&str>, bool)> =
        rows.iter().map(|r| (r.kind.as_str(), r.n, r.unique_key.as_deref(), r.later)).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn competing_workers_run_every_job_exactly_once() {
    let db = db().await;
    let mut tx = db.pool.begin().await.unwrap();
    for _ in 0..300 {
        jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})), Utc::now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (stop_a, a) = start(ctx(&db, Arc::new(SystemClock)), registry("a"), "a");
    let (stop_b, b) = start(ctx(&db, Arc::new(SystemClock)), registry("b"), "b");
    eventually("all 300 done", || async {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state = 'succeeded'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        done == 300
    })
    .await;
    stop_a.send(()).unwrap();
    stop_b.send(()).unwrap();
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    let (total, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT job_id) FROM job_runs").fetch_one(&db.pool).await.unwrap();
    assert_eq!((total, distinct), (300, 300), "none lost, none run twice");
    let per_worker: Vec<i64> =
        sqlx::query_scalar("SELECT count(*) FROM job_runs GROUP BY worker").fetch_all(&db.pool).await.unwrap();
    assert_eq!(per_worker.len(), 2, "both workers took part: {per_worker:?}");
}

#[tokio::test]
async fn a_schedule_enqueues_once_per_due_time_across_workers() {
    let db = db().await;
    let clock = ManualClock::at("2026-03-01T10:00:30Z".parse().unwrap());
    let scheduled = || {
        let mut r = registry("s");
        r.schedule("test.every_quarter", "*/15 * * * *", RECORD, serde_json::json!({"from": "schedule"})).unwrap();
        r
    };
    let (stop_a, mut passes_a, a) = start_watched(ctx(&db, Arc::new(clock.clone())), scheduled(), "a");
    let (stop_b, mut passes_b, b) = start_watched(ctx(&db, Arc::new(clock.clone())), scheduled(), "b");
    looked_again(&mut passes_a).await;
    looked_again(&mut passes_b).await;
    assert_eq!(runs(&db).await, 0, "not due yet");
    clock.set("2026-03-01T10:15:00Z".parse().unwrap());
    eventually("the 10:15 run", || async { runs(&db).await == 1 }).await;
    // Both workers have looked at the schedule since it fell due; the run was enqueued once.
    looked_again(&mut passes_a).await;
    looked_again(&mut passes_b).await;
    eventually("the run finished", || async {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        open == 0
    })
    .await;
    assert_eq!(runs(&db).await, 1, "two workers, one run");
    let next: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT next_run_at FROM job_schedules WHERE name = 'test.every_quarter'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(next, "2026-03-01T10:30:00Z".parse::<chrono::DateTime<Utc>>().unwrap());
    for (stop, worker) in [(stop_a, a), (stop_b, b)] {
        stop.send(()).unwrap();
        worker.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn the_cleanup_sweep_removes_old_finished_jobs_only() {
    let db = db().await;
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, run_at, max_attempts, created_at, updated_at, finished_at) VALUES
           (gen_random_uuid(), 'test.record', '{}', 'succeeded', now(), 1, now(), now(), now() - interval '8 days'),
           (gen_random_uuid(), 'test.record', '{}', 'succeeded', now(), 1, now(), now(), now() - interval '6 days'),
           (gen_random_uuid(), 'test.record', '{}', 'dead', now(), 1, now(), now(), now() - interval '30 days')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut registry = registry("c");
    jobs::register_system(&mut registry);
    let id = enqueue(&db, NewJob::new(jobs::CLEANUP, serde_json::json!({}))).await.unwrap();
    let (stop, worker) = start(ctx(&db, Arc::new(SystemClock)), registry, "c");
    eventually("the sweep ran", || async { state_of(&db, id).await.0 == "succeeded" }).await;
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE kind = 'test.record' ORDER BY state")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, ["dead", "succeeded"], "the week-old success goes; dead jobs stay for admins");
    let scheduled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM job_schedules WHERE name = 'system.cleanup' AND cron = '17 * * * *'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(scheduled, 1);
}

#[tokio::test]
async fn higher_priority_runs_first_among_due_jobs() {
    let db = db().await;
    let mut tx = db.pool.begin().await.unwrap();
    let now = Utc::now();
    let low = jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})), now).await.unwrap().unwrap();
    let high =
        jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})).priority(10), now).await.unwrap().unwrap();
    let later =
        jobs::enqueue(&mut tx, NewJob::new(RECORD, serde_json::json!({})).priority(5), now).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let (tx, rx) = oneshot::channel();
    let config =
        WorkerConfig { concurrency: 1, poll_interval: Duration::from_millis(20), id: "p".into(), passes: None };
    let worker =
        tokio::spawn(jobs::run(ctx(&db, Arc::new(SystemClock)), Arc::new(registry("p")), config, async move {
            let _ = rx.await;
        }));
    eventually("all three ran", || async { runs(&db).await == 3 }).await;
    tx.send(()).unwrap();
    worker.await.unwrap().unwrap();
    let order: Vec<Uuid> =
        sqlx::query_scalar("SELECT job_id FROM job_runs ORDER BY at").fetch_all(&db.pool).await.unwrap();
    assert_eq!(order, [high, later, low]);
}

#[tokio::test]
async fn a_worker_leaves_the_jobs_it_cannot_run_to_one_that_can() {
    let db = db().await;
    let plain = ctx(&db, Arc::new(SystemClock));
    let scanner = platform::storage::Storage::temporary().unwrap().with_scanner(vec!["true".to_owned()]);
    let scanning = ctx(&db, Arc::new(SystemClock)).with_storage(scanner);
    assert!(picky_registry("plain").kinds_for(&plain).is_empty());
    assert_eq!(picky_registry("scanning").kinds_for(&scanning), vec![PICKY.name.to_owned()]);
    // The service's own: project files' scans go only to workers with a scanner.
    let mail = platform::mail::Transport::File(platform::mail::FileTransport::new(std::env::temp_dir()));
    let service = backline::job_registry(mail, notify::webhooks::DeliveryPolicy::default(), None);
    assert!(!service.kinds_for(&plain).contains(&"collab.file.scan".to_owned()));
    assert!(service.kinds_for(&scanning).contains(&"collab.file.scan".to_owned()));
    assert_eq!(service.kinds_for(&scanning).len(), service.kind_names().len());

    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(enqueue(&db, NewJob::new(PICKY, serde_json::json!({"n": n}))).await.unwrap());
    }
    // A worker without a scanner passes over them: not claimed, not tried, not failed.
    let (stop, mut passes, worker) = start_watched(plain, picky_registry("plain"), "plain");
    looked_again(&mut passes).await;
    looked_again(&mut passes).await;
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
    for id in &ids {
        assert_eq!(state_of(&db, *id).await, ("queued".to_owned(), 0, None));
    }
    assert_eq!(runs(&db).await, 0);
    // A worker with one runs them all.
    let (stop, worker) = start(scanning, picky_registry("scanning"), "scanning");
    eventually("the worker with a scanner ran every job", || async { runs(&db).await == 3 }).await;
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
    for id in &ids {
        assert_eq!(state_of(&db, *id).await.0, "succeeded");
    }
}
