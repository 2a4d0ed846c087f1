//! Domain events: a fact worth telling someone about ("account.verified", "booking.offer_received").
//! A domain emits an event in the transaction of the change; an `events.dispatch` job, enqueued in the
//! same transaction, turns it into in-app notifications, emails and webhook deliveries (see the `notify`
//! crate). A rolled-back change tells no one.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jobs::{self, JobKind, NewJob};

/// The job that fans an event out to its channels.
pub const DISPATCH: JobKind = JobKind::new("events.dispatch").max_attempts(8);

#[derive(Debug, Clone)]
pub struct Event {
    /// `domain.what_happened`, for example `organization.member_added`.
    pub kind: &'static str,
    /// The users to notify.
    pub recipients: Vec<Uuid>,
    /// The organization whose webhooks hear of it.
    pub organization: Option<Uuid>,
    /// Values the templates and webhook payloads may use.
    pub data: Value,
}

/// The channel the real-time stream listens on: `{"user_id": ..., "id": ...}` announces a notification;
/// `{"user_id": ..., "progress": {...}}` is a passing progress report (not kept, not replayed);
/// `{"topic": ..., "data": {...}}` a passing report to a topic's followers (see [`crate::stream`]).
pub const STREAM_CHANNEL: &str = "backline_stream";

/// Pushes a progress report to `user`'s open streams, on every node (an SSE event `progress` whose data
/// is `progress`). Nothing is kept: a client that is not connected misses it and reads the state instead.
pub async fn progress(conn: &mut PgConnection, user: Uuid, progress: &Value) -> sqlx::Result<()> {
    let payload = serde_json::json!({"user_id": user, "progress": progress}).to_string();
    sqlx::query!("SELECT pg_notify($1, $2)", STREAM_CHANNEL, payload).execute(conn).await?;
    Ok(())
}

/// Records the event and enqueues its dispatch, in the caller's transaction.
pub async fn emit(conn: &mut PgConnection, event: Event, now: DateTime<Utc>) -> sqlx::Result<Uuid> {
    let id = crate::ids::new_id();
    sqlx::query!(r#"INSERT INTO domain_events (id, kind, recipients, organization_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)"#, id, event.kind, &event.recipients, event.organization, &event.data, now)
    .execute(&mut *conn)
    .await?;
    jobs::enqueue(
        conn,
        NewJob::new(DISPATCH, serde_json::json!({ "event_id": id })).unique(format!("event:{id}")),
        now,
    )
    .await?;
    Ok(id)
}

/// A recorded event, as its dispatcher reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: Uuid,
    pub kind: String,
    pub recipients: Vec<Uuid>,
    pub organization_id: Option<Uuid>,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
}

/// The event `id`, locked for its dispatch when `lock`.
pub async fn get(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<StoredEvent>> {
    if lock {
        sqlx::query_as!(
            StoredEvent,
            "SELECT id, kind, recipients, organization_id, data, created_at, dispatched_at FROM domain_events WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            StoredEvent,
            "SELECT id, kind, recipients, organization_id, data, created_at, dispatched_at FROM domain_events WHERE id = $1",
            id
        )
        .fetch_optional(conn)
        .await
    }
}

/// Records that the event was turned into notifications and deliveries.
pub async fn mark_dispatched(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE domain_events SET dispatched_at = $2 WHERE id = $1"#, id, now).execute(conn).await?;
    Ok(())
}
