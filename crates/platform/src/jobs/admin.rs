//! Reading and repairing the queue: counts by kind and state, the jobs in a state, one job, and putting
//! a dead job back in the queue.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

crate::text_enum! {
    /// Where a job stands.
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Dead = "dead",
        Cancelled = "cancelled",
    }
}

/// How many jobs of a kind are in a state.
#[derive(Debug)]
pub struct KindCountRow {
    pub kind: String,
    pub state: JobState,
    pub count: i64,
}

/// A job as the queue holds it.
#[derive(Debug)]
pub struct JobRow {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub priority: i16,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub unique_key: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub async fn counts(pool: &PgPool) -> sqlx::Result<Vec<KindCountRow>> {
    sqlx::query_as!(
        KindCountRow,
        r#"SELECT kind, state AS "state: JobState", count(*) AS "count!" FROM jobs GROUP BY kind, state ORDER BY kind, state"#
    )
    .fetch_all(pool)
    .await
}

/// Jobs in `state` (and of `kind`), newest first, before the id `before`.
pub async fn list(
    pool: &PgPool,
    state: Option<JobState>,
    kind: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as!(JobRow, r#"SELECT id, kind, payload, state AS "state: JobState", priority, run_at, attempts, max_attempts, unique_key, locked_by,  locked_until, last_error, created_at, finished_at FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
           AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"#, state.map(JobState::as_str), kind, before, limit)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as!(JobRow, r#"SELECT id, kind, payload, state AS "state: JobState", priority, run_at, attempts, max_attempts, unique_key, locked_by,  locked_until, last_error, created_at, finished_at FROM jobs WHERE id = $1"#, id).fetch_optional(pool).await
}

/// Puts a dead job back in the queue with a fresh set of attempts; `None` when there is no such dead job.
pub async fn retry(pool: &PgPool, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<Option<JobRow>> {
    let mut tx = pool.begin().await?;
    let job: Option<JobRow> = sqlx::query_as!(JobRow, r#"UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2, finished_at = NULL
         WHERE id = $1 AND state = 'dead' RETURNING id, kind, payload, state AS "state: JobState", priority, run_at, attempts, max_attempts, unique_key, locked_by,  locked_until, last_error, created_at, finished_at"#, id, now)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(job) = &job {
        sqlx::query!(r#"SELECT pg_notify($1, $2)"#, super::NOTIFY_CHANNEL, &job.kind).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(job)
}
