//! A read replica (PostgreSQL streaming replication), by configuration. Reads that may be a moment
//! behind (public searches, the directory, analytics, statements) go to it through
//! [`crate::AppContext::reader`] while it is up and within the lag bound; every write, every read that
//! must see the caller's own write, and those reads too while the replica is down or behind, go to the
//! primary. A watcher measures the replica once a second; `/readyz` and `/metrics` say what it found.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// What the watcher last found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicaState {
    /// `streaming` (in use), `lagging` (behind by more than the bound: bypassed), `down` (unreachable
    /// or not a replica: bypassed), or `unknown` (not measured yet: bypassed).
    pub status: &'static str,
    /// Seconds behind the primary; 0 when it has replayed everything the primary had written.
    pub lag_seconds: Option<f64>,
    /// Why it is bypassed.
    pub reason: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

pub struct Replica {
    pool: PgPool,
    max_lag: Duration,
    state: RwLock<ReplicaState>,
    reads: AtomicU64,
    bypassed: AtomicU64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("max_lag", &self.max_lag).field("state", &self.state()).finish()
    }
}

impl Replica {
    /// A replica reached through `pool`, used while it is at most `max_lag` behind. Not used until the
    /// first measurement says it may be.
    pub fn new(pool: PgPool, max_lag: Duration) -> Self {
        Self {
            pool,
            max_lag,
            state: RwLock::new(ReplicaState { status: "unknown", lag_seconds: None, reason: None, checked_at: None }),
            reads: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> ReplicaState {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The pool to read from: the replica's when it is in use, else none (and the read is counted as
    /// bypassed).
    pub fn pool_for_read(&self) -> Option<&PgPool> {
        if self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).status == "streaming" {
            self.reads.fetch_add(1, Ordering::Relaxed);
            Some(&self.pool)
        } else {
            self.bypassed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// Reads served by the replica, and reads sent to the primary because it was not usable.
    pub fn counts(&self) -> (u64, u64) {
        (self.reads.load(Ordering::Relaxed), self.bypassed.load(Ordering::Relaxed))
    }

    /// Measures the replica against the primary: how far its replay is behind what the primary had
    /// written when asked. Each side has two seconds to answer.
    pub async fn check(&self, primary: &PgPool, now: DateTime<Utc>) {
        let state = match self.measure(primary).await {
            Ok(lag) if lag <= self.max_lag.as_secs_f64() => {
                ReplicaState { status: "streaming", lag_seconds: Some(lag), reason: None, checked_at: Some(now) }
            }
            Ok(lag) => ReplicaState {
                status: "lagging",
                lag_seconds: Some(lag),
                reason: Some(format!(
                    "{lag:.1} s behind the primary, over the bound of {} s",
                    self.max_lag.as_secs_f64()
                )),
                checked_at: Some(now),
            },
            Err(reason) => {
                ReplicaState { status: "down", lag_seconds: None, reason: Some(reason), checked_at: Some(now) }
            }
        };
        let previous = std::mem::replace(
            &mut *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner),
            state.clone(),
        );
        if previous.status != state.status {
            match state.status {
                "streaming" => tracing::info!(lag = ?state.lag_seconds, "the read replica is in use"),
                _ => tracing::warn!(status = state.status, reason = ?state.reason, "the read replica is bypassed"),
            }
        }
    }

    async fn measure(&self, primary: &PgPool) -> Result<f64, String> {
        let limit = Duration::from_secs(2);
        let written: String = tokio::time::timeout(
            limit,
            sqlx::query_scalar!(r#"SELECT pg_current_wal_lsn()::text AS "lsn!""#).fetch_one(primary),
        )
        .await
        .map_err(|_| "the primary did not answer within 2 s".to_owned())?
        .map_err(|e| format!("the primary: {e}"))?;
        let row = tokio::time::timeout(
            limit,
            sqlx::query!(
                r#"SELECT pg_is_in_recovery() AS "replica!",
                          coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false) AS "caught_up!",
                          extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since"#,
                written
            )
            .fetch_one(&self.pool),
        )
        .await
        .map_err(|_| "no answer within 2 s".to_owned())?
        .map_err(|e| e.to_string())?;
        if !row.replica {
            return Err("not a replica (it is not in recovery): writes there would not reach the primary".to_owned());
        }
        if row.caught_up {
            return Ok(0.0);
        }
        // Behind what the primary had written: as far as the last transaction it replayed.
        Ok(row.since.unwrap_or(f64::INFINITY).max(0.0))
    }
}

/// Measures the replica once a second, for as long as the process runs.
pub async fn watch(replica: Arc<Replica>, primary: PgPool, clock: crate::clock::SharedClock) {
    loop {
        replica.check(&primary, clock.now()).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
