//! The worker: claims due jobs of the kinds it knows, runs up to `concurrency` at once, renews their
//! leases while they run, records each outcome (success; retry with exponential backoff and jitter;
//! dead after the kind's last attempt), returns expired leases to the queue, and enqueues recurring
//! schedules when they fall due. It wakes on the enqueue notification, on its poll interval, and when a
//! job finishes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgListener;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::cron::Cron;
use super::{JobKind, NOTIFY_CHANNEL, NewJob, enqueue};
use crate::context::AppContext;

/// A claimed job, as its handler sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub max_attempts: i32,
}

impl Job {
    /// A field of the payload, read as `T`; a job without it can never succeed (permanent failure).
    pub fn field<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, JobFailure> {
        serde_json::from_value(self.payload[name].clone())
            .map_err(|_| JobFailure::permanent(format!("the payload has no valid {name}")))
    }
}

/// Why a job did not succeed.
#[derive(Debug)]
pub struct JobFailure {
    pub message: String,
    /// Retrying cannot help (bad payload): the job is dead at once.
    pub permanent: bool,
}

impl JobFailure {
    pub fn retry(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), permanent: false }
    }

    pub fn permanent(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), permanent: true }
    }
}

impl From<anyhow::Error> for JobFailure {
    fn from(err: anyhow::Error) -> Self {
        Self::retry(format!("{err:#}"))
    }
}

impl From<sqlx::Error> for JobFailure {
    fn from(err: sqlx::Error) -> Self {
        Self::retry(err)
    }
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send>>;
/// A finished handler task: its id and outcome, or how it died.
type Finished = Result<(tokio::task::Id, Result<(), JobFailure>), tokio::task::JoinError>;
pub type Handler = Arc<dyn Fn(AppContext, Job) -> HandlerFuture + Send + Sync>;

struct Schedule {
    name: &'static str,
    cron: Cron,
    cron_text: String,
    kind: JobKind,
    payload: Value,
}

/// Whether a worker with this context can run a kind's jobs (see [`Registry::register_where`]).
pub type Able = fn(&AppContext) -> bool;

/// The job kinds a worker runs, with their handlers, and the recurring schedules it keeps.
#[derive(Default)]
pub struct Registry {
    kinds: HashMap<&'static str, (JobKind, Handler)>,
    /// Kinds that only a worker with something configured can run, and how to tell.
    needs: HashMap<&'static str, Able>,
    schedules: Vec<Schedule>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<F, Fut>(&mut self, kind: JobKind, handler: F)
    where
        F: Fn(AppContext, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx, job| Box::pin(handler(ctx, job)));
        self.kinds.insert(kind.name, (kind, handler));
    }

    /// [`Registry::register`] for a kind that needs something a worker may lack (a virus scanner):
    /// a worker whose context fails `able` does not claim these jobs, which wait for a worker that
    /// can run them instead of failing on one that cannot until they are dead.
    pub fn register_where<F, Fut>(&mut self, kind: JobKind, able: Able, handler: F)
    where
        F: Fn(AppContext, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        self.needs.insert(kind.name, able);
        self.register(kind, handler);
    }

    /// Enqueues a `kind` job with `payload` at every time `cron` (five fields, UTC) names.
    pub fn schedule(&mut self, name: &'static str, cron: &str, kind: JobKind, payload: Value) -> Result<(), String> {
        let parsed = Cron::parse(cron)?;
        self.schedules.push(Schedule { name, cron: parsed, cron_text: cron.to_owned(), kind, payload });
        Ok(())
    }

    pub fn kind_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.kinds.keys().map(|k| (*k).to_owned()).collect();
        names.sort();
        names
    }

    /// The kinds a worker with `ctx` claims: every kind but those it is not able to run.
    pub fn kinds_for(&self, ctx: &AppContext) -> Vec<String> {
        let mut names = self.kind_names();
        names.retain(|name| self.needs.get(name.as_str()).is_none_or(|able| able(ctx)));
        names
    }

    fn kind(&self, name: &str) -> Option<&(JobKind, Handler)> {
        self.kinds.get(name)
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once by this worker.
    pub concurrency: usize,
    /// Longest wait between looks at the queue when nothing wakes the worker.
    pub poll_interval: Duration,
    /// Names this worker in `locked_by`.
    pub id: String,
    /// Counts the worker's passes (timers, schedules and expired leases looked at, then the queue), each
    /// at the clock's time when it began: whoever must know that the worker has looked since some
    /// moment (a test, before it says that nothing was due) waits for two more.
    pub passes: Option<tokio::sync::watch::Sender<u64>>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 32,
            poll_interval: Duration::from_millis(500),
            id: format!("{}-{}", hostname(), crate::ids::new_id().simple()),
            passes: None,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".into())
}

/// The delay before retry number `attempts + 1`: base × 2^(attempts − 1), capped, times a jitter
/// between 0.5 and 1.5 derived from the job id (so retries of many jobs spread out).
pub fn backoff(kind: &JobKind, attempts: i32, job: Uuid) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(30);
    let raw = kind.backoff_base.saturating_mul(2u32.saturating_pow(exponent)).min(kind.backoff_max);
    let seed = job.as_u128() ^ u128::from(u32::try_from(attempts).unwrap_or(0));
    let jitter = 0.5 + (seed % 1000) as f64 / 1000.0;
    raw.mul_f64(jitter)
}

/// Runs the worker until `stop` resolves; then lets the jobs in flight finish and returns.
pub async fn run(
    ctx: AppContext,
    registry: Arc<Registry>,
    config: WorkerConfig,
    stop: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let kinds = registry.kinds_for(&ctx);
    let unable: Vec<String> = registry.kind_names().into_iter().filter(|k| !kinds.contains(k)).collect();
    if !unable.is_empty() {
        tracing::info!(worker = %config.id, kinds = ?unable, "this worker leaves these kinds to workers able to run them");
    }
    let leases: Vec<f64> =
        kinds.iter().map(|k| registry.kind(k).map_or(300.0, |(kind, _)| kind.lease.as_secs_f64())).collect();
    let renew_every = registry.kinds.values().map(|(k, _)| k.lease).min().unwrap_or(Duration::from_secs(300)) / 3;
    let mut listener = PgListener::connect_with(&ctx.db).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    sync_schedules(&ctx, &registry).await?;
    tracing::info!(worker = %config.id, kinds = ?kinds, concurrency = config.concurrency, "job worker started");

    tokio::pin!(stop);
    let mut stopping = false;
    let mut in_flight: JoinSet<Result<(), JobFailure>> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Job> = HashMap::new();
    let mut last_housekeeping = Instant::now() - Duration::from_secs(60);
    let mut last_renewal = Instant::now();
    loop {
        let now = ctx.clock.now();
        if !stopping {
            let housekeeping = last_housekeeping.elapsed() >= Duration::from_secs(1).min(config.poll_interval);
            if housekeeping {
                reap_expired(&ctx, now).await?;
                run_due_schedules(&ctx, &registry, now).await?;
                last_housekeeping = Instant::now();
            }
            let capacity = config.concurrency.saturating_sub(in_flight.len());
            if capacity > 0 {
                for job in claim(&ctx, &kinds, &leases, capacity, &config.id, now).await? {
                    let Some((_, handler)) = registry.kind(&job.kind) else { continue };
                    // Every line a job logs carries its kind, id and attempt.
                    let span = tracing::info_span!("job", kind = %job.kind, id = %job.id, attempt = job.attempts);
                    let handle =
                        in_flight.spawn(tracing::Instrument::instrument(handler(ctx.clone(), job.clone()), span));
                    running.insert(handle.id(), job);
                }
            }
            if let Some(passes) = config.passes.as_ref().filter(|_| housekeeping) {
                passes.send_modify(|n| *n += 1);
            }
        } else if in_flight.is_empty() {
            break;
        }

        // Record whatever has finished, then go round again to fill the freed places.
        let mut finished = Vec::new();
        while let Some(result) = in_flight.try_join_next_with_id() {
            finished.push(result);
        }
        if finished.is_empty() {
            let wait = if in_flight.len() >= config.concurrency || stopping {
                Duration::from_secs(3600)
            } else {
                config.poll_interval
            };
            tokio::select! {
                Some(result) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    finished.push(result);
                    // Let the other runnable jobs finish too, so that outcomes and claims go in batches
                    // rather than one round trip per job.
                    tokio::task::yield_now().await;
                    while let Some(result) = in_flight.try_join_next_with_id() {
                        finished.push(result);
                    }
                }
                notified = listener.recv(), if !stopping => {
                    if let Err(err) = notified {
                        tracing::warn!(error = %err, "job notifications interrupted; polling until they resume");
                        tokio::time::sleep(config.poll_interval).await;
                    }
                }
                () = tokio::time::sleep(wait) => {}
                () = &mut stop, if !stopping => {
                    tracing::info!(in_flight = in_flight.len(), "job worker stopping: finishing the jobs in flight");
                    stopping = true;
                }
            }
        }
        if !finished.is_empty() {
            record(&ctx, &registry, &config.id, &mut running, finished).await?;
        }
        if last_renewal.elapsed() >= renew_every && !running.is_empty() {
            renew_leases(&ctx, &config.id, &running, &kinds, &leases).await?;
            last_renewal = Instant::now();
        }
    }
    tracing::info!(worker = %config.id, "job worker stopped");
    Ok(())
}

async fn claim(
    ctx: &AppContext,
    kinds: &[String],
    leases: &[f64],
    limit: usize,
    worker: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as!(Job, r#"WITH next AS (
             SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1 AND kind = ANY($2)
             ORDER BY priority DESC, run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = $5, updated_at = $1,
                locked_until = $1 + make_interval(secs => (SELECT l.lease FROM unnest($2::text[], $3::float8[]) AS l(kind, lease)
                                                            WHERE l.kind = j.kind))
         FROM next WHERE j.id = next.id
         RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts"#, now, kinds, leases, i64::try_from(limit).unwrap_or(i64::MAX), worker)
    .fetch_all(&ctx.db)
    .await
}

/// Stores the outcome of finished jobs: successes in one statement, failures one by one.
async fn record(
    ctx: &AppContext,
    registry: &Registry,
    worker: &str,
    running: &mut HashMap<tokio::task::Id, Job>,
    finished: Vec<Finished>,
) -> sqlx::Result<()> {
    let now = ctx.clock.now();
    let mut succeeded = Vec::new();
    for outcome in finished {
        let (task, result) = match outcome {
            Ok((task, result)) => (task, result),
            Err(join_error) => (join_error.id(), Err(JobFailure::retry("the handler panicked"))),
        };
        let Some(job) = running.remove(&task) else { continue };
        match result {
            Ok(()) => succeeded.push(job.id),
            Err(failure) => {
                let Some((kind, _)) = registry.kind(&job.kind) else { continue };
                let dead = failure.permanent || job.attempts >= job.max_attempts;
                let retry_at =
                    now + chrono::Duration::from_std(backoff(kind, job.attempts, job.id)).unwrap_or_default();
                if dead {
                    tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %failure.message, "job is dead");
                } else {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %failure.message, %retry_at, "job failed; will retry");
                }
                sqlx::query!(
                    r#"UPDATE jobs SET state = $3, run_at = $4, last_error = $5, updated_at = $6, locked_by = NULL,
                            locked_until = NULL, finished_at = CASE WHEN $3::text = 'dead' THEN $6::timestamptz END
                     WHERE id = $1 AND locked_by = $2 AND state = 'running'"#,
                    job.id,
                    worker,
                    if dead { "dead" } else { "queued" },
                    retry_at,
                    &failure.message,
                    now
                )
                .execute(&ctx.db)
                .await?;
            }
        }
    }
    if !succeeded.is_empty() {
        // Only while this worker still holds the lease: a job whose lease expired belongs to someone else.
        sqlx::query!(r#"UPDATE jobs SET state = 'succeeded', finished_at = $3, updated_at = $3, locked_by = NULL, locked_until = NULL,
                    last_error = NULL
             WHERE id = ANY($1) AND locked_by = $2 AND state = 'running'"#, &succeeded, worker, now)
        .execute(&ctx.db)
        .await?;
    }
    Ok(())
}

async fn renew_leases(
    ctx: &AppContext,
    worker: &str,
    running: &HashMap<tokio::task::Id, Job>,
    kinds: &[String],
    leases: &[f64],
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = running.values().map(|j| j.id).collect();
    sqlx::query!(r#"UPDATE jobs j SET locked_until = $3::timestamptz + make_interval(secs => (SELECT l.lease FROM unnest($4::text[], $5::float8[])
                                                                     AS l(kind, lease) WHERE l.kind = j.kind))
         WHERE id = ANY($1) AND locked_by = $2 AND state = 'running'"#, &ids, worker, ctx.clock.now(), kinds, leases)
    .execute(&ctx.db)
    .await?;
    Ok(())
}

/// Returns the jobs of workers whose lease ran out (they died, or stalled) to the queue, or declares them
/// dead when that was their last attempt.
pub(super) async fn reap_expired(ctx: &AppContext, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                finished_at = CASE WHEN attempts >= max_attempts THEN $1 END,
                locked_by = NULL, locked_until = NULL, run_at = $1, updated_at = $1,
                last_error = 'the worker running it stopped before it finished (lease expired)'
         WHERE state = 'running' AND locked_until < $1"#,
        now
    )
    .execute(&ctx.db)
    .await?;
    if done.rows_affected() > 0 {
        tracing::warn!(jobs = done.rows_affected(), "took up jobs whose worker's lease expired");
    }
    Ok(done.rows_affected())
}

async fn sync_schedules(ctx: &AppContext, registry: &Registry) -> sqlx::Result<()> {
    let now = ctx.clock.now();
    for schedule in &registry.schedules {
        let next = schedule.cron.next_after(now);
        sqlx::query!(r#"INSERT INTO job_schedules (name, kind, payload, cron, next_run_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload,
                 next_run_at = CASE WHEN job_schedules.cron = EXCLUDED.cron THEN job_schedules.next_run_at
                                    ELSE EXCLUDED.next_run_at END,
                 cron = EXCLUDED.cron, updated_at = EXCLUDED.updated_at"#, schedule.name, schedule.kind.name, &schedule.payload, &schedule.cron_text, next, now)
        .execute(&ctx.db)
        .await?;
    }
    Ok(())
}

/// Enqueues the job of every schedule that has fallen due (once, whichever worker gets there first).
async fn run_due_schedules(ctx: &AppContext, registry: &Registry, now: DateTime<Utc>) -> sqlx::Result<()> {
    if registry.schedules.is_empty() {
        return Ok(());
    }
    let mut tx = ctx.db.begin().await?;
    let due =
        sqlx::query!("SELECT name, next_run_at FROM job_schedules WHERE next_run_at <= $1 FOR UPDATE SKIP LOCKED", now)
            .fetch_all(&mut *tx)
            .await?;
    for (name, due_at) in due.into_iter().map(|r| (r.name, r.next_run_at)) {
        let Some(schedule) = registry.schedules.iter().find(|s| s.name == name) else { continue };
        let job = NewJob::new(schedule.kind, schedule.payload.clone())
            .unique(format!("schedule:{name}:{}", due_at.timestamp()));
        enqueue(&mut tx, job, now).await?;
        sqlx::query!(
            r#"UPDATE job_schedules SET next_run_at = $2, updated_at = $3 WHERE name = $1"#,
            &name,
            schedule.cron.next_after(now),
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half_to_one_and_a_half() {
        let kind = JobKind::new("t").backoff(Duration::from_secs(10), Duration::from_secs(60));
        let id = Uuid::from_u128(123_456_789);
        for (attempts, raw) in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 60.0), (30, 60.0)] {
            let delay = backoff(&kind, attempts, id).as_secs_f64();
            assert!(delay >= raw * 0.5 && delay <= raw * 1.5, "attempt {attempts}: {delay}");
        }
        assert_eq!(backoff(&kind, 2, id), backoff(&kind, 2, id), "deterministic for a job");
    }
}
