//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::model::{DistributionId, ReleaseId, StoreId};

platform::text_enum! {
    /// Where a delivery to one store stands.
    pub enum DistributionState {
        /// Waiting for its time.
        Pending = "pending",
        /// Waiting for another attempt after a failed one.
        Queued = "queued",
        Delivering = "delivering",
        /// The batch is in the store's inbox; its acknowledgement is awaited.
        Delivered = "delivered",
        /// The store confirmed it (live, or taken down).
        Acknowledged = "acknowledged",
        Failed = "failed",
    }
}

platform::text_enum! {
    /// What the latest message says.
    pub enum DistributionAction { Release = "release", Takedown = "takedown" }
}

#[derive(Debug, Clone)]
pub struct DistributionRow {
    pub id: DistributionId,
    pub release_id: ReleaseId,
    pub store_id: StoreId,
    pub store_name: String,
    pub state: DistributionState,
    pub action: DistributionAction,
    pub deliver_at: DateTime<Utc>,
    pub attempts: i32,
    pub message_id: Option<String>,
    pub batch: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Schedules (or schedules again) the release's delivery to a store; answers the distribution's id.
pub async fn schedule(
    conn: &mut PgConnection,
    release: ReleaseId,
    store: StoreId,
    action: DistributionAction,
    deliver_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<DistributionId> {
    sqlx::query_scalar!(
        r#"INSERT INTO distributions (id, release_id, store_id, state, action, deliver_at, created_at, updated_at)
           VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6)
           ON CONFLICT (release_id, store_id) DO UPDATE SET state = 'pending', action = EXCLUDED.action,
               deliver_at = EXCLUDED.deliver_at, last_error = NULL, updated_at = EXCLUDED.updated_at
           RETURNING id AS "id: DistributionId""#,
        DistributionId::new() as _,
        release as _,
        store as _,
        action as _,
        deliver_at,
        now
    )
    .fetch_one(conn)
    .await
}

/// The distribution, locked until commit.
pub async fn lock(conn: &mut PgConnection, id: DistributionId) -> sqlx::Result<Option<DistributionRow>> {
    sqlx::query_as!(
        DistributionRow,
        r#"SELECT d.id AS "id: DistributionId", d.release_id AS "release_id: ReleaseId", d.store_id AS "store_id: StoreId",
                  s.name AS store_name, d.state AS "state: DistributionState", d.action AS "action: DistributionAction",
                  d.deliver_at, d.attempts, d.message_id, d.batch, d.last_error, d.delivered_at, d.acknowledged_at,
                  d.created_at, d.updated_at
           FROM distributions d JOIN stores s ON s.id = d.store_id WHERE d.id = $1 FOR UPDATE OF d"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The release's distributions by store name.
pub async fn of_release(conn: &mut PgConnection, release: ReleaseId) -> sqlx::Result<Vec<DistributionRow>> {
    sqlx::query_as!(
        DistributionRow,
        r#"SELECT d.id AS "id: DistributionId", d.release_id AS "release_id: ReleaseId", d.store_id AS "store_id: StoreId",
                  s.name AS store_name, d.state AS "state: DistributionState", d.action AS "action: DistributionAction",
                  d.deliver_at, d.attempts, d.message_id, d.batch, d.last_error, d.delivered_at, d.acknowledged_at,
                  d.created_at, d.updated_at
           FROM distributions d JOIN stores s ON s.id = d.store_id WHERE d.release_id = $1 ORDER BY lower(s.name)"#,
        release as _
    )
    .fetch_all(conn)
    .await
}

/// The distributions of a label's releases, the newest release first, then by store name.
pub async fn of_label(conn: &mut PgConnection, org: uuid::Uuid, limit: i64) -> sqlx::Result<Vec<DistributionRow>> {
    sqlx::query_as!(
        DistributionRow,
        r#"SELECT d.id AS "id: DistributionId", d.release_id AS "release_id: ReleaseId", d.store_id AS "store_id: StoreId",
                  s.name AS store_name, d.state AS "state: DistributionState", d.action AS "action: DistributionAction",
                  d.deliver_at, d.attempts, d.message_id, d.batch, d.last_error, d.delivered_at, d.acknowledged_at,
                  d.created_at, d.updated_at
           FROM distributions d JOIN stores s ON s.id = d.store_id JOIN releases r ON r.id = d.release_id
           WHERE r.org_id = $1
           ORDER BY r.created_at DESC, r.id, lower(s.name)
           LIMIT $2"#,
        org,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Distributions delivered to a store and waiting for its acknowledgement.
pub async fn awaiting_ack(conn: &mut PgConnection, store: StoreId) -> sqlx::Result<Vec<DistributionRow>> {
    sqlx::query_as!(
        DistributionRow,
        r#"SELECT d.id AS "id: DistributionId", d.release_id AS "release_id: ReleaseId", d.store_id AS "store_id: StoreId",
                  s.name AS store_name, d.state AS "state: DistributionState", d.action AS "action: DistributionAction",
                  d.deliver_at, d.attempts, d.message_id, d.batch, d.last_error, d.delivered_at, d.acknowledged_at,
                  d.created_at, d.updated_at
           FROM distributions d JOIN stores s ON s.id = d.store_id
           WHERE d.store_id = $1 AND d.state = 'delivered' ORDER BY d.delivered_at LIMIT 1000"#,
        store as _
    )
    .fetch_all(conn)
    .await
}

/// Stores with deliveries waiting for an acknowledgement.
pub async fn stores_awaiting_ack(conn: &mut PgConnection) -> sqlx::Result<Vec<StoreId>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT store_id AS "store_id: StoreId" FROM distributions WHERE state = 'delivered'"#
    )
    .fetch_all(conn)
    .await
}

/// Begins an attempt: its message id and batch are recorded before anything is sent.
pub async fn start(
    conn: &mut PgConnection,
    id: DistributionId,
    message_id: &str,
    batch: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE distributions SET state = 'delivering', attempts = attempts + 1, message_id = $2, batch = $3,
                last_error = NULL, updated_at = $4
         WHERE id = $1",
        id as _,
        message_id,
        batch,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an attempt's or an acknowledgement's outcome.
pub async fn finish(
    conn: &mut PgConnection,
    id: DistributionId,
    state: DistributionState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE distributions SET state = $2, last_error = $3, updated_at = $4,
                delivered_at = CASE WHEN $2 = 'delivered' THEN $4 ELSE delivered_at END,
                acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN $4 ELSE acknowledged_at END
         WHERE id = $1",
        id as _,
        state as _,
        error,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
