//! Job queue benchmark: a backlog of no-op jobs worked down (throughput, none lost, none run twice),
//! enqueue-to-start latency on an idle queue, and a run in which worker processes are killed with
//! SIGKILL again and again. Run with `cargo bench -p backline --bench jobs`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use platform::AppContext;
use platform::jobs::{self, Job, JobKind, NewJob, Registry, WorkerConfig};

const BACKLOG: i64 = 100_000;
const KILL_BACKLOG: i64 = 20_000;

/// Inserts `n` no-op jobs in one statement.
async fn backlog(pool: &sqlx::PgPool, n: i64, payload: serde_json::Value) {
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, created_at, updated_at)
         SELECT gen_random_uuid(), 'system.noop', $2, now(), 5, now(), now() FROM generate_series(1, $1)",
    )
    .bind(n)
    .bind(payload)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn stop_channel()
-> (tokio::sync::watch::Sender<bool>, impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let make = move || {
        let mut rx = rx.clone();
        Box::pin(async move {
            let _ = rx.wait_for(|s| *s).await;
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    };
    (tx, make)
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let ctx = AppContext::new(db.pool.clone(), "http://bench.invalid");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("job queue benchmark: {cores} cores, PostgreSQL on the same machine");

    // Baseline: single-row UPDATEs, one statement at a time, against the same server.
    sqlx::raw_sql(&format!(
        "CREATE TABLE bench_counter (id int PRIMARY KEY, n bigint NOT NULL); GRANT ALL ON bench_counter TO {}",
        platform::db::APP_ROLE
    ))
    .execute(&mut db.owner().await)
    .await
    .unwrap();
    sqlx::query("INSERT INTO bench_counter VALUES (1, 0)").execute(&db.pool).await.unwrap();
    let started = Instant::now();
    let mut updates = 0u32;
    while started.elapsed() < Duration::from_secs(3) {
        sqlx::query("UPDATE bench_counter SET n = n + 1 WHERE id = 1").execute(&db.pool).await.unwrap();
        updates += 1;
    }
    let update_rate = f64::from(updates) / started.elapsed().as_secs_f64();

    // 1. Work down a backlog of no-op jobs with two workers of 64.
    backlog(&db.pool, BACKLOG, serde_json::json!({})).await;
    let (stop, stopped) = stop_channel();
    let started = Instant::now();
    let mut workers = Vec::new();
    for i in 0..2 {
        let mut registry = Registry::new();
        jobs::register_system(&mut registry);
        let config = WorkerConfig {
            concurrency: 64,
            poll_interval: Duration::from_millis(100),
            id: format!("bench-{i}"),
            passes: None,
        };
        workers.push(tokio::spawn(jobs::run(ctx.clone(), Arc::new(registry), config, stopped())));
    }
    while count(&db.pool, "SELECT count(*) FROM jobs WHERE state = 'succeeded'").await < BACKLOG {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let rate = BACKLOG as f64 / elapsed.as_secs_f64();
    let attempts = count(&db.pool, "SELECT coalesce(sum(attempts), 0)::int8 FROM jobs").await;
    let not_done = count(&db.pool, "SELECT count(*) FROM jobs WHERE state <> 'succeeded'").await;
    let _ = stop.send(true);
    for worker in workers {
        worker.await.unwrap().unwrap();
    }

    // 2. Enqueue-to-start latency on an idle queue.
    const PROBE: JobKind = JobKind::new("bench.probe");
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut registry = Registry::new();
    registry.register(PROBE, move |_ctx: AppContext, _job: Job| {
        let started_tx = started_tx.clone();
        async move {
            let _ = started_tx.send(Instant::now());
            Ok(())
        }
    });
    let (stop, stopped) = stop_channel();
    let config =
        WorkerConfig { concurrency: 8, poll_interval: Duration::from_millis(500), id: "probe".into(), passes: None };
    let worker = tokio::spawn(jobs::run(ctx.clone(), Arc::new(registry), config, stopped()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut latencies = Vec::new();
    for _ in 0..300 {
        let mut tx = db.pool.begin().await.unwrap();
        jobs::enqueue(&mut tx, NewJob::new(PROBE, serde_json::json!({})), Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
        let committed = Instant::now();
        let began = started_rx.recv().await.unwrap();
        latencies.push(began.saturating_duration_since(committed));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    worker.await.unwrap().unwrap();
    latencies.sort();
    let pct = |p: f64| latencies[((p / 100.0) * latencies.len() as f64).ceil() as usize - 1];

    // 3. Worker processes killed with SIGKILL again and again.
    sqlx::query("DELETE FROM jobs").execute(&db.pool).await.unwrap();
    backlog(&db.pool, KILL_BACKLOG, serde_json::json!({"sleep_ms": 5})).await;
    let url = db.url();
    let data_dir = tempfile::tempdir().unwrap();
    let spawn = || -> Child {
        Command::new(env!("CARGO_BIN_EXE_backline"))
            .env("DATABASE_URL", &url)
            .env("BACKLINE_DATA_DIR", data_dir.path())
            .env("RUST_LOG", "error")
            .args(["worker", "--concurrency", "32"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    let mut children = vec![spawn(), spawn()];
    let mut kills = 0;
    while count(&db.pool, "SELECT count(*) FROM jobs WHERE state = 'succeeded'").await < KILL_BACKLOG {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        if kills < 10 {
            let mut victim = children.remove(0);
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(victim.id() as libc::pid_t, libc::SIGKILL);
            }
            let _ = victim.wait();
            kills += 1;
            children.push(spawn());
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the killed run did not finish");
    }
    let kill_elapsed = started.elapsed();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let kill_dead = count(&db.pool, "SELECT count(*) FROM jobs WHERE state = 'dead'").await;
    let rerun = count(&db.pool, "SELECT count(*) FROM jobs WHERE attempts > 1").await;

    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| baseline: single-row UPDATEs/s, one statement at a time | {update_rate:.0} |");
    println!("| backlog of {BACKLOG} no-op jobs: jobs/s (2 workers × 64) | {rate:.0} (target ≥ 5000) |");
    println!("| jobs/s ÷ single-row UPDATEs/s | {:.2} |", rate / update_rate);
    println!(
        "| backlog: not succeeded / total attempts | {not_done} / {attempts} (none lost: 0; none twice: {BACKLOG}) |"
    );
    println!(
        "| enqueue-to-start on an idle queue: p50 / p99 / max | {:.2} ms / {:.2} ms / {:.2} ms (target p99 < 50 ms) |",
        pct(50.0).as_secs_f64() * 1000.0,
        pct(99.0).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
    println!(
        "| {KILL_BACKLOG} jobs, worker processes SIGKILLed {kills} times: done / dead / run again after a kill | {KILL_BACKLOG} / {kill_dead} / {rerun} in {:.1} s |",
        kill_elapsed.as_secs_f64()
    );
}
