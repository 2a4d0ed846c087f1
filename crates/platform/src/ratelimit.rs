//! Rate limits that hold across every Backline process serving one database: fixed-window counters in
//! PostgreSQL, each hit counted by an atomic upsert before it is let through (the general per-client
//! limit counts the requests arriving at once in one upsert: see [`PerClient`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::ApiError;
use crate::error::PlatformCode;

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }
}

/// Counts one hit for `key`; refuses with 429 and `Retry-After` once the window's budget is spent.
pub async fn hit(db: impl PgExecutor<'_>, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<(), ApiError> {
    let counted = add(db, &[key.to_owned()], &[1], limit.window, now).await?;
    let (_, hits, window_start) =
        counted.into_iter().next().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no count")))?;
    match refusal(hits, window_start, limit, now) {
        Some(refused) => Err(refused),
        None => Ok(()),
    }
}

/// Adds `hits[i]` to `keys[i]`'s window (a new window when the last one ended, `window` long), keys in
/// order (so that two processes counting the same keys lock their rows in the same order); each key's
/// total and window start after.
async fn add(
    db: impl PgExecutor<'_>,
    keys: &[String],
    hits: &[i32],
    window: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64, DateTime<Utc>)>, ApiError> {
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    let window =
        sqlx::postgres::types::PgInterval::try_from(window).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let rows = sqlx::query!(
        r#"INSERT INTO rate_limits AS r (key, window_start, hits)
           SELECT k, $2, n FROM unnest($1::text[], $4::int4[]) AS u (k, n) ORDER BY k
           ON CONFLICT (key) DO UPDATE SET
             window_start = CASE WHEN r.window_start + $3::interval <= $2 THEN $2 ELSE r.window_start END,
             hits         = CASE WHEN r.window_start + $3::interval <= $2 THEN EXCLUDED.hits ELSE r.hits + EXCLUDED.hits END
           RETURNING key, hits, window_start"#,
        keys,
        now,
        window,
        hits
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, i64::from(r.hits), r.window_start)).collect())
}

/// The refusal of a request that is hit number `hits` of a window that began at `window_start`, when
/// that is over the limit.
fn refusal(hits: i64, window_start: DateTime<Utc>, limit: Limit, now: DateTime<Utc>) -> Option<ApiError> {
    if u32::try_from(hits).unwrap_or(u32::MAX) <= limit.max {
        return None;
    }
    let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
    let retry_after = ((window_start + window) - now).num_seconds().max(1);
    Some(too_many(retry_after))
}

/// 429 `rate_limited` with `Retry-After` in seconds.
pub fn too_many(retry_after_secs: i64) -> ApiError {
    ApiError::new(PlatformCode::RateLimited, format!("Too many requests; retry in {retry_after_secs} s.")).with_header(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_str(&retry_after_secs.to_string())
            .unwrap_or(axum::http::HeaderValue::from_static("60")),
    )
}

/// The general per-client limit: every request from one address counts against `limit`, across every
/// Backline process on the database. Health, readiness and metrics probes are not counted. A request
/// with no known peer address (in-process calls) is not counted either.
///
/// Every request is counted in PostgreSQL before it is let through, as [`hit`] does, but the requests
/// arriving at one process at once are counted together: one statement for all of them, on a
/// connection of the limit's own (so that counting never waits behind the requests it lets through
/// for the service's pool). A crowd of thousands costs a few statements instead of a connection taken,
/// a statement and a round trip each.
#[derive(Clone)]
pub struct PerClient {
    counter: std::sync::Arc<crate::batch::Batcher<Counter>>,
}

impl PerClient {
    /// The limit, counted over a connection of its own to `pool`'s database (opened on first use).
    pub fn new(pool: &sqlx::PgPool, clock: crate::clock::SharedClock, limit: Limit) -> Self {
        let counter = Counter { pool: crate::db::own_connection(pool), clock, limit };
        Self { counter: std::sync::Arc::new(crate::batch::Batcher::new(counter, MOST_COUNTED_AT_ONCE)) }
    }
}

/// A request's place in its key's window: the hits so far, this one included, and the window's start.
#[derive(Debug, Clone, Copy)]
struct Counted {
    hits: i64,
    window_start: DateTime<Utc>,
}

/// Counts the hits of all the requests waiting at once in one statement (see [`PerClient`]).
struct Counter {
    pool: sqlx::PgPool,
    clock: crate::clock::SharedClock,
    limit: Limit,
}

/// At most this many requests are counted by one statement.
const MOST_COUNTED_AT_ONCE: usize = 1000;

impl crate::batch::Work for Counter {
    type Ask = String;
    type Answer = Counted;

    /// Counts a batch of keys: each key's hits added at once, each request told its own place.
    async fn answer(&self, batch: &[String]) -> Result<Vec<Result<Counted, ApiError>>, ApiError> {
        let mut asked: std::collections::BTreeMap<&str, i32> = std::collections::BTreeMap::new();
        for key in batch {
            *asked.entry(key).or_insert(0) += 1;
        }
        let keys: Vec<String> = asked.keys().map(|k| (*k).to_owned()).collect();
        let hits: Vec<i32> = asked.values().copied().collect();
        let totals: std::collections::HashMap<String, (i64, DateTime<Utc>)> =
            add(&self.pool, &keys, &hits, self.limit.window, self.clock.now())
                .await?
                .into_iter()
                .map(|(key, total, start)| (key, (total, start)))
                .collect();
        // A key's requests take the last places of its window, in the order they came.
        Ok(batch
            .iter()
            .map(|key| match (totals.get(key), asked.get_mut(key.as_str())) {
                (Some(&(total, window_start)), Some(left)) => {
                    let hits = total - i64::from(*left) + 1;
                    *left -= 1;
                    Ok(Counted { hits, window_start })
                }
                _ => Err(ApiError::internal(anyhow::anyhow!("a rate counter's key was not counted"))),
            })
            .collect())
    }
}

pub async fn per_client(
    axum::extract::State(state): axum::extract::State<PerClient>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let exempt = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics");
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let (false, Some(ip)) = (exempt, peer) {
        let counter = state.counter.work();
        match state.counter.ask(format!("client:{ip}")).await {
            Ok(counted) => {
                if let Some(refusal) = refusal(counted.hits, counted.window_start, counter.limit, counter.clock.now()) {
                    return refusal.into_response();
                }
            }
            Err(err) => return err.into_response(),
        }
    }
    next.run(req).await
}
