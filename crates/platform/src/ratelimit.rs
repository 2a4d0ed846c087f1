//! Rate limits that hold across every Backline process serving one database: fixed-window counters in
//! PostgreSQL, one atomic upsert per hit.

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
    let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
    let counted = sqlx::query!(
        "INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           window_start = CASE WHEN r.window_start + $3::interval <= $2 THEN $2 ELSE r.window_start END,
           hits         = CASE WHEN r.window_start + $3::interval <= $2 THEN 1 ELSE r.hits + 1 END
         RETURNING hits, window_start",
        key,
        now,
        sqlx::postgres::types::PgInterval::try_from(window).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?
    )
    .fetch_one(db)
    .await?;
    let (hits, window_start) = (counted.hits, counted.window_start);
    if u32::try_from(hits).unwrap_or(u32::MAX) > limit.max {
        let retry_after = ((window_start + window) - now).num_seconds().max(1);
        return Err(too_many(retry_after));
    }
    Ok(())
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
#[derive(Clone)]
pub struct PerClient {
    pub pool: sqlx::PgPool,
    pub clock: crate::clock::SharedClock,
    pub limit: Limit,
}

pub async fn per_client(
    axum::extract::State(state): axum::extract::State<PerClient>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let exempt = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics");
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let (false, Some(ip)) = (exempt, peer)
        && let Err(refusal) = hit(&state.pool, &format!("client:{ip}"), state.limit, state.clock.now()).await
    {
        return refusal.into_response();
    }
    next.run(req).await
}
