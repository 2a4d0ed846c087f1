//! The durable job queue: jobs are rows in PostgreSQL, enqueued in the transaction of the change that
//! causes them (an outbox: a rolled-back change leaves no job, a committed one always has its job).
//! Workers claim jobs with `FOR UPDATE SKIP LOCKED` under a lease, so any number of workers in any number
//! of processes share the queue without running a job twice at once, and the jobs of a worker that died
//! (even by SIGKILL) are taken up again when its lease expires. Jobs run at least once: handlers are
//! idempotent. A job scheduled for a later `run_at` is a timer.
//!
//! Written here rather than taken from a crate: the queue must enqueue inside our own sqlx transactions
//! and use our clock, and the whole of it is a few hundred lines (see docs/architecture.md).

pub mod admin;
pub mod cron;
mod worker;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

pub use worker::{Handler, Job, JobFailure, Registry, WorkerConfig, run};

/// The channel an enqueue notifies (on commit), so that idle workers start at once.
pub const NOTIFY_CHANNEL: &str = "backline_jobs";

/// A kind of job and how it is retried. Declared once, as a constant, by the domain that owns it.
#[derive(Debug, Clone, Copy)]
pub struct JobKind {
    /// Dotted snake_case, for example `mail.deliver`.
    pub name: &'static str,
    /// Attempts before the job is dead.
    pub max_attempts: i32,
    /// First retry delay; it doubles with each attempt up to `backoff_max`, with jitter.
    pub backoff_base: std::time::Duration,
    pub backoff_max: std::time::Duration,
    /// How long a worker holds a job before others may take it up (renewed while it runs).
    pub lease: std::time::Duration,
}

impl JobKind {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            max_attempts: 10,
            backoff_base: std::time::Duration::from_secs(5),
            backoff_max: std::time::Duration::from_secs(6 * 3600),
            lease: std::time::Duration::from_secs(300),
        }
    }

    #[must_use]
    pub const fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n;
        self
    }

    #[must_use]
    pub const fn backoff(mut self, base: std::time::Duration, max: std::time::Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    #[must_use]
    pub const fn lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    kind: JobKind,
    payload: serde_json::Value,
    run_at: Option<DateTime<Utc>>,
    priority: i16,
    unique_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: JobKind, payload: impl Serialize) -> Self {
        Self {
            kind,
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
            run_at: None,
            priority: 0,
            unique_key: None,
        }
    }

    /// Runs no earlier than `at` (a timer).
    #[must_use]
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Higher runs first among due jobs.
    #[must_use]
    pub fn priority(mut self, priority: i16) -> Self {
        self.priority = priority;
        self
    }

    /// At most one unfinished job holds `key`: enqueueing another while it is queued or running does nothing.
    #[must_use]
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// A job that does nothing but wait `sleep_ms` (0 by default): for checking a deployment's workers and
/// for measuring the queue itself.
pub const NOOP: JobKind = JobKind::new("system.noop").max_attempts(5).lease(std::time::Duration::from_secs(10));

/// The hourly sweep: finished jobs older than a week, rate-limit windows and login failures older than
/// a day.
pub const CLEANUP: JobKind = JobKind::new("system.cleanup").max_attempts(3);

/// Registers the platform's own job kinds, and the cleanup schedule.
/// The queue's figures for `/metrics`: jobs waiting (due now) and dead, by kind, and how long the oldest
/// due job has waited.
pub fn metrics_collector() -> crate::metrics::Collector {
    std::sync::Arc::new(|pool: sqlx::PgPool| {
        Box::pin(async move {
            use crate::metrics::Sample;
            let waiting = sqlx::query!(
                r#"SELECT kind, count(*) AS "waiting!", extract(epoch FROM now() - min(run_at))::float8 AS "oldest!"
                   FROM jobs WHERE state = 'queued' AND run_at <= now() GROUP BY kind ORDER BY kind"#
            )
            .fetch_all(&pool)
            .await?;
            let dead = sqlx::query!(
                r#"SELECT kind, count(*) AS "dead!" FROM jobs WHERE state = 'dead' GROUP BY kind ORDER BY kind"#
            )
            .fetch_all(&pool)
            .await?;
            let mut samples = Vec::new();
            let mut oldest: f64 = 0.0;
            for row in waiting {
                oldest = oldest.max(row.oldest);
                samples.push(
                    Sample::new(
                        "backline_jobs_waiting",
                        "Jobs due to run and not started, by kind.",
                        row.waiting as f64,
                    )
                    .label("kind", row.kind),
                );
            }
            for row in dead {
                samples.push(
                    Sample::new(
                        "backline_jobs_dead",
                        "Jobs that failed every attempt (retry them from the admin), by kind.",
                        row.dead as f64,
                    )
                    .label("kind", row.kind),
                );
            }
            samples.push(Sample::new(
                "backline_jobs_oldest_waiting_seconds",
                "How long the longest-waiting due job has waited (0 when none waits).",
                oldest,
            ));
            Ok(samples)
        })
    })
}

pub fn register_system(registry: &mut Registry) {
    registry.register(CLEANUP, |ctx: crate::context::AppContext, _job: Job| async move {
        let now = ctx.clock.now();
        let jobs = sqlx::query!(r#"DELETE FROM jobs WHERE state IN ('succeeded', 'cancelled') AND finished_at < $1::timestamptz - interval '7 days'"#, now)
        .execute(&ctx.db)
        .await?
        .rows_affected();
        let windows = sqlx::query!(r#"DELETE FROM rate_limits WHERE window_start < $1::timestamptz - interval '1 day'"#, now)
            .execute(&ctx.db)
            .await?
            .rows_affected();
        tracing::info!(jobs, windows, "cleanup");
        Ok(())
    });
    if let Err(err) = registry.schedule("system.cleanup", "17 * * * *", CLEANUP, serde_json::json!({})) {
        tracing::error!(%err, "the cleanup schedule is invalid");
    }
    registry.register(NOOP, |_ctx, job: Job| async move {
        let sleep_ms = job.payload["sleep_ms"].as_u64().unwrap_or(0);
        if sleep_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(sleep_ms.min(60_000))).await;
        }
        Ok(())
    });
}

/// Enqueues in the caller's transaction. Returns the new job's id, or `None` when an unfinished job
/// already holds its uniqueness key.
pub async fn enqueue(conn: &mut PgConnection, job: NewJob, now: DateTime<Utc>) -> sqlx::Result<Option<Uuid>> {
    let id = crate::ids::new_id();
    let inserted: Option<Uuid> = sqlx::query_scalar!(
        r#"INSERT INTO jobs (id, kind, payload, priority, run_at, max_attempts, unique_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING
         RETURNING id"#,
        id,
        job.kind.name,
        &job.payload,
        job.priority,
        job.run_at.unwrap_or(now),
        job.kind.max_attempts,
        job.unique_key.as_deref(),
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_some() {
        // Delivered when the transaction commits; never if it rolls back.
        sqlx::query!(r#"SELECT pg_notify($1, $2)"#, NOTIFY_CHANNEL, job.kind.name).execute(conn).await?;
    }
    Ok(inserted)
}

/// Enqueues many jobs in the caller's transaction with one statement (and one wake-up per kind): what a
/// set-based sweep hands on. Jobs whose uniqueness key an unfinished job (or an earlier one of the same
/// call) holds are passed by. Returns how many were enqueued.
pub async fn enqueue_many(conn: &mut PgConnection, jobs: &[NewJob], now: DateTime<Utc>) -> sqlx::Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = jobs.iter().map(|_| crate::ids::new_id()).collect();
    let kinds: Vec<&str> = jobs.iter().map(|j| j.kind.name).collect();
    let payloads: Vec<serde_json::Value> = jobs.iter().map(|j| j.payload.clone()).collect();
    let priorities: Vec<i16> = jobs.iter().map(|j| j.priority).collect();
    let run_at: Vec<DateTime<Utc>> = jobs.iter().map(|j| j.run_at.unwrap_or(now)).collect();
    let attempts: Vec<i32> = jobs.iter().map(|j| j.kind.max_attempts).collect();
    let keys: Vec<Option<String>> = jobs.iter().map(|j| j.unique_key.clone()).collect();
    let inserted = sqlx::query!(
        r#"INSERT INTO jobs (id, kind, payload, priority, run_at, max_attempts, unique_key, created_at, updated_at)
           SELECT j.id, j.kind, j.payload, j.priority, j.run_at, j.max_attempts, j.unique_key, $8, $8
           FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int2[], $5::timestamptz[], $6::int4[], $7::text[])
                AS j (id, kind, payload, priority, run_at, max_attempts, unique_key)
           ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING"#,
        &ids,
        &kinds as &[&str],
        &payloads,
        &priorities,
        &run_at,
        &attempts,
        &keys as &[Option<String>],
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted > 0 {
        let mut names = kinds;
        names.sort_unstable();
        names.dedup();
        for name in names {
            sqlx::query!(r#"SELECT pg_notify($1, $2)"#, NOTIFY_CHANNEL, name).execute(&mut *conn).await?;
        }
    }
    Ok(inserted)
}

/// Lets a running job give up its uniqueness key, so that the next enqueue with that key makes a new
/// job rather than being absorbed by this one: for a job that catches up with work (the next one will
/// see what arrives after this one has looked). Committed on its own, before the job looks.
pub async fn release_unique(pool: &sqlx::PgPool, job: Uuid) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE jobs SET unique_key = NULL WHERE id = $1 AND state = 'running'"#, job).execute(pool).await?;
    Ok(())
}

/// Cancels the unfinished job holding `key` (a timer no longer wanted); returns whether there was one.
pub async fn cancel_unique(conn: &mut PgConnection, key: &str, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2, locked_by = NULL, locked_until = NULL
         WHERE unique_key = $1 AND state = 'queued'"#,
        key,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
