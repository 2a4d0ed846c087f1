//! The SQL of webhook endpoints and their deliveries, checked at compile time.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Where a delivery stands. Stored as text; an unknown value fails to decode (a logged 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// A row of `webhook_endpoints`.
#[derive(Debug)]
pub struct EndpointRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_kinds: Vec<String>,
    /// The sealed signing secrets (see the service's `StoredSecret`).
    pub secrets: Value,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
}

pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: &'a str,
    pub description: &'a str,
    pub event_kinds: &'a [String],
    pub secrets: &'a Value,
    pub created_by: Uuid,
}

pub async fn insert_endpoint(
    conn: &mut PgConnection,
    new: &NewEndpoint<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<EndpointRow> {
    sqlx::query_as!(
        EndpointRow,
        "INSERT INTO webhook_endpoints (id, organization_id, url, description, event_kinds, secrets, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         RETURNING id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at",
        new.id,
        new.organization_id,
        new.url,
        new.description,
        new.event_kinds,
        new.secrets,
        new.created_by,
        now
    )
    .fetch_one(conn)
    .await
}

/// An organization's endpoint, locked for a change.
pub async fn endpoint_for_update(conn: &mut PgConnection, org: Uuid, id: Uuid) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        "SELECT id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at
         FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 FOR UPDATE",
        id,
        org
    )
    .fetch_optional(conn)
    .await
}

pub async fn endpoint(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        "SELECT id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at
         FROM webhook_endpoints WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

pub async fn endpoints_of(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        "SELECT id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at
         FROM webhook_endpoints WHERE organization_id = $1 ORDER BY created_at, id",
        org
    )
    .fetch_all(conn)
    .await
}

pub struct EndpointChange<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_kinds: &'a [String],
    pub enabled: bool,
}

/// Changes an endpoint; enabling a disabled one clears its failures, disabling it says who did.
pub async fn update_endpoint(
    conn: &mut PgConnection,
    id: Uuid,
    change: &EndpointChange<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<EndpointRow> {
    sqlx::query_as!(
        EndpointRow,
        "UPDATE webhook_endpoints SET url = $2, description = $3, event_kinds = $4, enabled = $5, updated_at = $6,
                disabled_reason = CASE WHEN $5 THEN NULL ELSE coalesce(disabled_reason, 'disabled by a manager') END,
                consecutive_failures = CASE WHEN $5 AND NOT enabled THEN 0 ELSE consecutive_failures END
         WHERE id = $1
         RETURNING id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at",
        id,
        change.url,
        change.description,
        change.event_kinds,
        change.enabled,
        now
    )
    .fetch_one(conn)
    .await
}

pub async fn delete_endpoint(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM webhook_endpoints WHERE id = $1", id).execute(conn).await?;
    Ok(())
}

pub async fn set_secrets(
    conn: &mut PgConnection,
    id: Uuid,
    secrets: &Value,
    now: DateTime<Utc>,
) -> sqlx::Result<EndpointRow> {
    sqlx::query_as!(
        EndpointRow,
        "UPDATE webhook_endpoints SET secrets = $2, updated_at = $3 WHERE id = $1
         RETURNING id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at",
        id,
        secrets,
        now
    )
    .fetch_one(conn)
    .await
}

/// The enabled endpoints of `org` that want events of `kind`.
pub async fn subscribed(conn: &mut PgConnection, org: Uuid, kind: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM webhook_endpoints WHERE organization_id = $1 AND enabled AND ($2 = ANY(event_kinds) OR '*' = ANY(event_kinds))",
        org,
        kind
    )
    .fetch_all(conn)
    .await
}

/// Counts a failed delivery against the endpoint; answers the failures in a row.
pub async fn count_endpoint_failure(conn: &mut PgConnection, endpoint: Uuid) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures",
        endpoint
    )
    .fetch_one(conn)
    .await
}

pub async fn reset_endpoint_failures(conn: &mut PgConnection, endpoint: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1", endpoint).execute(conn).await?;
    Ok(())
}

pub async fn disable_endpoint(conn: &mut PgConnection, endpoint: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1 AND enabled",
        endpoint,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A row of `webhook_deliveries`, as its log shows it.
#[derive(Debug)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub state: DeliveryState,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub response_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// An endpoint's latest deliveries, newest first.
pub async fn deliveries(conn: &mut PgConnection, endpoint: Uuid) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as!(
        DeliveryRow,
        r#"SELECT id, event_id, state AS "state: DeliveryState", attempts, last_status, last_error, response_ms, created_at, delivered_at
           FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 200"#,
        endpoint
    )
    .fetch_all(conn)
    .await
}

/// Adds a delivery of `event` to `endpoint` unless there is one; answers the new delivery's id.
pub async fn insert_delivery(
    conn: &mut PgConnection,
    id: Uuid,
    endpoint: Uuid,
    event: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id",
        id,
        endpoint,
        event,
        now
    )
    .fetch_optional(conn)
    .await
}

/// What a delivery carries: its endpoint, its event, and where it stands.
pub struct DeliveryTarget {
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub state: DeliveryState,
}

pub async fn delivery_target(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<DeliveryTarget>> {
    sqlx::query_as!(
        DeliveryTarget,
        r#"SELECT endpoint_id, event_id, state AS "state: DeliveryState" FROM webhook_deliveries WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Gives a delivery up, with the reason where there is a new one.
pub async fn fail_delivery(db: impl PgExecutor<'_>, id: Uuid, reason: Option<&str>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET state = 'failed', last_error = coalesce($2, last_error) WHERE id = $1",
        id,
        reason
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delivered(
    conn: &mut PgConnection,
    id: Uuid,
    status: Option<i32>,
    response_ms: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = NULL, response_ms = $3,
                state = 'delivered', delivered_at = $4
         WHERE id = $1",
        id,
        status,
        response_ms,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps what a receiver answered to an attempt that failed.
pub async fn record_response(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: Option<i32>,
    response_ms: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE webhook_deliveries SET last_status = $2, response_ms = $3 WHERE id = $1",
        id,
        status,
        response_ms
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Counts a failed attempt; answers the attempts so far.
pub async fn count_attempt(conn: &mut PgConnection, id: Uuid, status: Option<i32>, error: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3 WHERE id = $1 RETURNING attempts",
        id,
        status,
        error
    )
    .fetch_one(conn)
    .await
}

/// Deliveries being retried after a failure, and deliveries given up.
pub async fn failing_counts(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE state = 'pending') AS "retrying!", count(*) FILTER (WHERE state = 'failed') AS "failed!"
           FROM webhook_deliveries WHERE state = 'failed' OR (state = 'pending' AND attempts > 0)"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.retrying, row.failed))
}
