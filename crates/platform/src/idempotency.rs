//! `Idempotency-Key` for money-moving requests. The request's work runs in one transaction with the row
//! that stores its answer, so a crash can never leave an effect without its key. Concurrent requests
//! with one key wait on a transaction-scoped advisory lock, then find the stored answer: exactly one
//! effect. A retry with the same key and the same request gets the first answer; the same key with a
//! different request is refused (`idempotency_key_reused`). Keys are kept at least 24 hours.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";

/// How long a key is remembered.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);

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
    ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters.")
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
    let mut tx = pool.begin().await?;
    let Some(key) = key else {
        let value = work(&mut tx).await?;
        tx.commit().await?;
        return Ok(Outcome { value, status, replayed: false });
    };
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("idempotency:{scope}:{key}"))
        .execute(&mut *tx)
        .await?;
    if let Some(outcome) = stored(&mut tx, scope, key, fingerprint, status, now).await? {
        return Ok(outcome);
    }
    let value = work(&mut tx).await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, key) DO UPDATE SET fingerprint = $3, status = $4, response = $5, created_at = $6",
    )
    .bind(scope)
    .bind(key)
    .bind(fingerprint)
    .bind(i32::from(status.as_u16()))
    .bind(serde_json::to_value(&value).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome { value, status, replayed: false })
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
    let stored: Option<(Vec<u8>, Option<i32>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT fingerprint, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > $3",
    )
    .bind(scope)
    .bind(key)
    .bind(now - RETENTION)
    .fetch_optional(conn)
    .await?;
    let Some((stored_fingerprint, stored_status, response)) = stored else { return Ok(None) };
    if stored_fingerprint != fingerprint {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
        ));
    }
    let value =
        serde_json::from_value(response.unwrap_or_default()).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
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
    respond_prepared(pool, request, status, now, async || Ok(()), async |conn, ()| work(conn).await).await
}

/// [`respond`] for a request whose work needs a step outside the database transaction first (a card
/// charge through a payment provider, which must not hold a pooled connection open): a retry is
/// answered from the stored answer before anything else, so that `prepare` never runs again for a
/// request that has been answered (the current state may since ask for something else, such as a
/// booking's balance after its deposit). `prepare` must itself be idempotent, keyed by the same
/// `Idempotency-Key`, for two first tries that race.
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
    use axum::response::IntoResponse;
    let key = key_from(request.headers)?;
    let fingerprint = fingerprint(request.route, request.body);
    let answered = match key.as_deref() {
        Some(key) => {
            let mut conn = pool.acquire().await?;
            stored(&mut conn, request.scope, key, &fingerprint, status, now).await?
        }
        None => None,
    };
    let outcome = match answered {
        Some(outcome) => outcome,
        None => {
            let prepared = prepare().await?;
            run(pool, request.scope, key.as_deref(), &fingerprint, status, now, async |conn| work(conn, prepared).await)
                .await?
        }
    };
    let replayed = axum::http::HeaderValue::from_static(if outcome.replayed { "true" } else { "false" });
    Ok((outcome.status, [("idempotent-replayed", replayed)], crate::Json(outcome.value)).into_response())
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
