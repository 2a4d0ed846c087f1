//! All of notify's SQL.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationTemplate {
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Whether the notification is also emailed by default (each user may choose otherwise).
    pub email: bool,
    pub updated_at: DateTime<Utc>,
}

pub async fn template(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<Option<NotificationTemplate>> {
    sqlx::query_as("SELECT kind, title, body, email, updated_at FROM notification_templates WHERE kind = $1")
        .bind(kind)
        .fetch_optional(db)
        .await
}

pub async fn templates(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<NotificationTemplate>> {
    sqlx::query_as("SELECT kind, title, body, email, updated_at FROM notification_templates ORDER BY kind")
        .fetch_all(db)
        .await
}

pub async fn upsert_template(conn: &mut PgConnection, t: &NotificationTemplate) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind) DO UPDATE SET title = $2, body = $3, email = $4, updated_at = $5",
    )
    .bind(&t.kind)
    .bind(&t.title)
    .bind(&t.body)
    .bind(t.email)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// The event kind, such as `organization.member_added`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

const NOTIFICATION_COLUMNS: &str = "id, kind, title, body, data, read_at IS NOT NULL AS read, created_at";

pub struct NewNotification<'a> {
    pub id: Uuid,
    pub user: Uuid,
    pub event: Uuid,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub data: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

/// Inserts the notification unless this event already notified this user; tells listening streams.
pub async fn insert_notification(conn: &mut PgConnection, n: &NewNotification<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notifications (id, user_id, event_id, kind, title, body, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id, user_id) DO NOTHING",
    )
    .bind(n.id)
    .bind(n.user)
    .bind(n.event)
    .bind(n.kind)
    .bind(n.title)
    .bind(n.body)
    .bind(n.data)
    .bind(n.now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        let signal = serde_json::json!({"user_id": n.user, "id": n.id}).to_string();
        sqlx::query("SELECT pg_notify($1, $2)").bind(crate::stream::CHANNEL).bind(signal).execute(conn).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// A user's notifications, newest first, before `before`.
pub async fn notifications(
    db: impl PgExecutor<'_>,
    user: Uuid,
    unread_only: bool,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    sqlx::query_as(&format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notifications
         WHERE user_id = $1 AND ($2 = false OR read_at IS NULL) AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(user)
    .bind(unread_only)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A user's notifications after `after`, oldest first (for the stream).
pub async fn notifications_after(
    db: impl PgExecutor<'_>,
    user: Uuid,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    sqlx::query_as(&format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(user)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn newest_id(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(user)
        .fetch_optional(db)
        .await
}

pub async fn unread_count(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user)
        .fetch_one(db)
        .await
}

pub async fn mark_read(db: impl PgExecutor<'_>, user: Uuid, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let found: Option<bool> = sqlx::query_scalar(
        "UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $1 AND user_id = $2 RETURNING true",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

pub async fn mark_all_read(db: impl PgExecutor<'_>, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
        .bind(user)
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}
