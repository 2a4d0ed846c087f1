//! `Idempotency-Key` for money-moving requests. The request's work runs in one transaction with the row
//! that stores its answer, so a crash can never leave an effect without its key. Concurrent requests
//! with one key wait on a transaction-scoped advisory lock, then find the stored answer: exactly one
//! effect. A retry with the same key and the same request gets the first answer; the same key with a
//! different request is refused (`idempotency_key_reused`). Keys are kept at least 24 hours.
//!
//! A request that must call a provider (a card charge, a refund) does so with no transaction open:
//! [`run_prepared`] first claims the key in a short transaction of its own (a row with no answer yet),
//! then calls, then does its work and stores the answer. A second request with a claimed key is told
//! `409 idempotency_key_in_use` rather than waiting on a held connection; a claim whose request died
//! lapses after [`CLAIM_TIMEOUT`], and a request that fails gives its claim back.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::db::HotWrite;
use crate::error::ApiError;
use crate::error::PlatformCode;

pub const HEADER: &str = "idempotency-key";

/// How long a key is remembered.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// How long a claimed key with no answer yet is held for its request: longer than any provider call
/// may take, after which the request is taken to have died and the key may be claimed again.
pub const CLAIM_TIMEOUT: chrono::Duration = chrono::Duration::minutes(2);

/// The key sent with a request, checked (1–255 visible ASCII characters).
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let key = value.to_str().map_err(|_| bad_key())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_key());
    }
    Ok(Some(key.to_owned()))
}

fn bad_key() -> ApiError {
    ApiError::new(PlatformCode::InvalidIdempotencyKey, "Idempotency-Key must be 1 to 255 visible ASCII characters.")
}

/// What the request was: its route and body, so a reused key with a different request is caught.
pub fn fingerprint(route: &str, body: &impl Serialize) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(body).unwrap_or_default());
    hasher.finalize().to_vec()
}

/// The answer of an idempotent request, and whether it was replayed from an earlier one.
#[derive(Debug)]
pub struct Outcome<T> {
    pub value: T,
    pub status: StatusCode,
    pub replayed: bool,
}

/// Runs `work` once per `(scope, key)`: in a transaction that also stores its answer. `scope` names who
/// may use the key (a user, say), so that two callers' keys never meet.
pub async fn run<T, W>(
    pool: &PgPool,
    scope: &str,
    key: Option<&str>,
    fingerprint: &[u8],
    status: StatusCode,
    now: DateTime<Utc>,
    work: W,
) -> Result<Outcome<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    W: AsyncFnOnce(&mut PgConnection) -> Result<T, ApiError>,
{
    let mut conn = pool.acquire().await?;
    transact(&mut conn, scope, key, fingerprint, status, now, work, |value| (value, None)).await
}

/// [`run`] on a connection the caller already holds (one it authenticated the caller on, say), for work
/// that may end with a [`HotWrite`]: sent with the `COMMIT`, after the answer is stored.
#[allow(clippy::too_many_arguments)]
pub async fn run_on<T, W>(
    conn: &mut PgConnection,
    scope: &str,
    key: Option<&str>,
    fingerprint: &[u8],
    status: StatusCode,
    now: DateTime<Utc>,
    work: W,
) -> Result<Outcome<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    W: AsyncFnOnce(&mut PgConnection) -> Result<(T, Option<HotWrite>), ApiError>,
{
    transact(conn, scope, key, fingerprint, status, now, work, |done| done).await
}

/// The transaction of [`run`] and [`run_on`]; `split` tells the answer from the hot write, if any.
#[allow(clippy::too_many_arguments)]
async fn transact<T, R, W>(
    conn: &mut PgConnection,
    scope: &str,
    key: Option<&str>,
    fingerprint: &[u8],
    status: StatusCode,
    now: DateTime<Utc>,
    work: W,
    split: fn(R) -> (T, Option<HotWrite>),
) -> Result<Outcome<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    W: AsyncFnOnce(&mut PgConnection) -> Result<R, ApiError>,
{
    let mut tx = sqlx::Connection::begin(conn).await?;
    if let Some(key) = key {
        lock_key(&mut tx, scope, key).await?;
        if let Some(outcome) = stored(&mut tx, scope, key, fingerprint, status, now).await? {
            return Ok(outcome);
        }
    }
    let (value, last) = split(work(&mut tx).await?);
    if let Some(key) = key {
        sqlx::query!(r#"INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, key) DO UPDATE SET fingerprint = $3, status = $4, response = $5, created_at = $6"#, scope, key, fingerprint, i32::from(status.as_u16()), serde_json::to_value(&value).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?, now)
        .execute(&mut *tx)
        .await?;
    }
    match last {
        Some(last) => crate::db::commit_with(tx, last).await?,
        None => tx.commit().await?,
    }
    Ok(Outcome { value, status, replayed: false })
}

/// Serializes the requests of one key until the caller's transaction ends.
async fn lock_key(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#, format!("idempotency:{scope}:{key}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored answer of `(scope, key)`, if the key was used within the retention period: replayed when
/// the request is the same, refused (`idempotency_key_reused`) when it is not.
async fn stored<T: DeserializeOwned>(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
    status: StatusCode,
    now: DateTime<Utc>,
) -> Result<Option<Outcome<T>>, ApiError> {
    let stored = sqlx::query!(
        "SELECT fingerprint, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > $3",
        scope,
        key,
        now - RETENTION
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| (r.fingerprint, r.status, r.response));
    let Some((stored_fingerprint, stored_status, response)) = stored else { return Ok(None) };
    if stored_fingerprint != fingerprint {
        return Err(ApiError::new(
            PlatformCode::IdempotencyKeyReused,
            "This Idempotency-Key was used with a different request.",
        ));
    }
    let Some(response) = response else {
        // Claimed by a request still running, or by one that died (its claim lapses).
        let claimed_at: DateTime<Utc> =
            sqlx::query_scalar!(r#"SELECT created_at FROM idempotency_keys WHERE scope = $1 AND key = $2"#, scope, key)
                .fetch_one(&mut *conn)
                .await?;
        if claimed_at > now - CLAIM_TIMEOUT {
            return Err(ApiError::new(
                PlatformCode::IdempotencyKeyInUse,
                "A request with this Idempotency-Key is still being processed; retry it shortly.",
            )
            .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1")));
        }
        return Ok(None);
    };
    let value = serde_json::from_value(response).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let status = stored_status.and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok()).unwrap_or(status);
    Ok(Some(Outcome { value, status, replayed: true }))
}

/// An idempotent request: who sends it (`scope`, so two callers' keys never meet), its headers (with
/// the `Idempotency-Key`), its route and its body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a, B> {
    pub scope: &'a str,
    pub headers: &'a HeaderMap,
    pub route: &'a str,
    pub body: &'a B,
}

/// Runs a request's `work` once per `Idempotency-Key` and scope, and answers it as JSON with `status`;
/// a replay says so in the `Idempotent-Replayed` header.
pub async fn respond<T, W, B>(
    pool: &PgPool,
    request: Request<'_, B>,
    status: StatusCode,
    now: DateTime<Utc>,
    work: W,
) -> Result<axum::response::Response, ApiError>
where
    T: Serialize + DeserializeOwned,
    W: AsyncFnOnce(&mut PgConnection) -> Result<T, ApiError>,
    B: Serialize,
{
    let key = key_from(request.headers)?;
    let fingerprint = fingerprint(request.route, request.body);
    let outcome = run(pool, request.scope, key.as_deref(), &fingerprint, status, now, work).await?;
    Ok(answer(outcome))
}

/// [`respond`] on a connection the caller holds, for work that may end with a [`HotWrite`] (see
/// [`run_on`]).
pub async fn respond_on<T, W, B>(
    conn: &mut PgConnection,
    request: Request<'_, B>,
    status: StatusCode,
    now: DateTime<Utc>,
    work: W,
) -> Result<axum::response::Response, ApiError>
where
    T: Serialize + DeserializeOwned,
    W: AsyncFnOnce(&mut PgConnection) -> Result<(T, Option<HotWrite>), ApiError>,
    B: Serialize,
{
    let key = key_from(request.headers)?;
    let fingerprint = fingerprint(request.route, request.body);
    let outcome = run_on(conn, request.scope, key.as_deref(), &fingerprint, status, now, work).await?;
    Ok(answer(outcome))
}

/// The answer of a request made without a key, as [`respond_on`] gives it (work done for several
/// requests at once, outside any one request's transaction).
pub fn answered<T: Serialize>(status: StatusCode, value: T) -> axum::response::Response {
    answer(Outcome { value, status, replayed: false })
}

/// An idempotent request's answer as JSON; a replay says so in the `Idempotent-Replayed` header.
fn answer<T: Serialize>(outcome: Outcome<T>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let replayed = axum::http::HeaderValue::from_static(if outcome.replayed { "true" } else { "false" });
    (outcome.status, [("idempotent-replayed", replayed)], crate::Json(outcome.value)).into_response()
}

/// [`respond`] for a request whose work needs a step outside any database transaction first (a call to
/// a payment provider, which must not hold a pooled connection open): see [`run_prepared`].
pub async fn respond_prepared<T, P, Prep, W, B>(
    pool: &PgPool,
    request: Request<'_, B>,
    status: StatusCode,
    now: DateTime<Utc>,
    prepare: Prep,
    work: W,
) -> Result<axum::response::Response, ApiError>
where
    T: Serialize + DeserializeOwned,
    Prep: AsyncFnOnce() -> Result<P, ApiError>,
    W: AsyncFnOnce(&mut PgConnection, P) -> Result<T, ApiError>,
    B: Serialize,
{
    let key = key_from(request.headers)?;
    let fingerprint = fingerprint(request.route, request.body);
    let outcome = run_prepared(pool, request.scope, key.as_deref(), &fingerprint, status, now, prepare, work).await?;
    Ok(answer(outcome))
}

/// [`run`] for work that needs a step outside any transaction first: the key is claimed (or its stored
/// answer replayed) before `prepare` runs, so that `prepare` runs once per key however often the
/// request is sent, and never for a request already answered (whose object may since ask for
/// something else, such as a booking's balance after its deposit). `prepare` should itself be keyed
/// by the same key where it calls a provider, so that a retry after a lapsed claim is the same call.
#[allow(clippy::too_many_arguments)]
pub async fn run_prepared<T, P, Prep, W>(
    pool: &PgPool,
    scope: &str,
    key: Option<&str>,
    fingerprint: &[u8],
    status: StatusCode,
    now: DateTime<Utc>,
    prepare: Prep,
    work: W,
) -> Result<Outcome<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    Prep: AsyncFnOnce() -> Result<P, ApiError>,
    W: AsyncFnOnce(&mut PgConnection, P) -> Result<T, ApiError>,
{
    let Some(key) = key else {
        let prepared = prepare().await?;
        return run(pool, scope, None, fingerprint, status, now, async |conn| work(conn, prepared).await).await;
    };
    {
        let mut tx = pool.begin().await?;
        lock_key(&mut tx, scope, key).await?;
        if let Some(outcome) = stored(&mut tx, scope, key, fingerprint, status, now).await? {
            return Ok(outcome);
        }
        sqlx::query!(r#"INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) VALUES ($1, $2, $3, NULL, NULL, $4)
             ON CONFLICT (scope, key) DO UPDATE SET fingerprint = $3, status = NULL, response = NULL, created_at = $4"#, scope, key, fingerprint, now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let answered = async {
        let prepared = prepare().await?;
        let mut tx = pool.begin().await?;
        let value = work(&mut tx, prepared).await?;
        sqlx::query!(
            r#"UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2"#,
            scope,
            key,
            i32::from(status.as_u16()),
            serde_json::to_value(&value).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Outcome { value, status, replayed: false })
    }
    .await;
    if answered.is_err() {
        // Nothing was answered: the key is free for a retry.
        sqlx::query!(r#"DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response IS NULL"#, scope, key)
            .execute(pool)
            .await?;
    }
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let mut headers = HeaderMap::new();
        assert_eq!(key_from(&headers).unwrap(), None);
        headers.insert(HEADER, "a".repeat(255).parse().unwrap());
        assert!(key_from(&headers).unwrap().is_some());
        headers.insert(HEADER, "a".repeat(256).parse().unwrap());
        assert_eq!(key_from(&headers).unwrap_err().code(), "invalid_idempotency_key");
        headers.insert(HEADER, "has space".parse().unwrap());
        assert!(key_from(&headers).is_err());
    }

    #[test]
    fn fingerprints_differ_by_route_and_body() {
        let a = fingerprint("POST /x", &serde_json::json!({"amount": 1}));
        assert_eq!(a, fingerprint("POST /x", &serde_json::json!({"amount": 1})));
        assert_ne!(a, fingerprint("POST /x", &serde_json::json!({"amount": 2})));
        assert_ne!(a, fingerprint("POST /y", &serde_json::json!({"amount": 1})));
    }
}
