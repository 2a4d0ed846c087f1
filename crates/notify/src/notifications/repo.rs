//! The SQL of notifications and their templates, checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A row of `notification_templates`.
#[derive(Debug, Clone)]
pub struct TemplateRow {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub email: bool,
    pub updated_at: DateTime<Utc>,
}

pub async fn template(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<Option<TemplateRow>> {
    sqlx::query_as!(
        TemplateRow,
        "SELECT kind, title, body, email, updated_at FROM notification_templates WHERE kind = $1",
        kind
    )
    .fetch_optional(db)
    .await
}

pub async fn templates(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TemplateRow>> {
    sqlx::query_as!(
        TemplateRow,
        "SELECT kind, title, body, email, updated_at FROM notification_templates ORDER BY kind"
    )
    .fetch_all(db)
    .await
}

pub async fn upsert_template(conn: &mut PgConnection, t: &TemplateRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind) DO UPDATE SET title = $2, body = $3, email = $4, updated_at = $5",
        t.kind,
        t.title,
        t.body,
        t.email,
        t.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A notification as stored (its read time reduced to whether it was read).
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

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

/// Inserts the notification unless this event already notified this user; tells listening streams. Its
/// position comes from the user's counter, whose row stays locked until the caller commits: the user's
/// notifications commit in the order of their positions.
pub async fn insert_notification(conn: &mut PgConnection, n: &NewNotification<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "WITH next AS (
             INSERT INTO notification_counters (user_id, seq) VALUES ($2, 1)
             ON CONFLICT (user_id) DO UPDATE SET seq = notification_counters.seq + 1
             RETURNING seq
         )
         INSERT INTO notifications (id, user_id, event_id, kind, title, body, data, created_at, seq)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, next.seq FROM next
         ON CONFLICT (event_id, user_id) DO NOTHING",
        n.id,
        n.user,
        n.event,
        n.kind,
        n.title,
        n.body,
        n.data,
        n.now
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        let signal = serde_json::json!({"user_id": n.user, "id": n.id}).to_string();
        sqlx::query!("SELECT pg_notify($1, $2)", platform::events::STREAM_CHANNEL, signal).execute(conn).await?;
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
) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as!(
        NotificationRow,
        r#"SELECT id, kind, title, body, data, read_at IS NOT NULL AS "read!", created_at FROM notifications
           WHERE user_id = $1 AND ($2 = false OR read_at IS NULL) AND ($3::uuid IS NULL OR id < $3)
           ORDER BY id DESC LIMIT $4"#,
        user,
        unread_only,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// A user's notifications after position `after`, in the order they were committed (for the stream),
/// each with its position.
pub async fn notifications_after(
    db: impl PgExecutor<'_>,
    user: Uuid,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, NotificationRow)>> {
    let rows = sqlx::query!(
        r#"SELECT seq, id, kind, title, body, data, read_at IS NOT NULL AS "read!", created_at FROM notifications
           WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"#,
        user,
        after,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let row = NotificationRow {
                id: r.id,
                kind: r.kind,
                title: r.title,
                body: r.body,
                data: r.data,
                read: r.read,
                created_at: r.created_at,
            };
            (r.seq, row)
        })
        .collect())
}

/// The position of the user's newest notification (0 when they have none).
pub async fn newest_position(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<i64> {
    let seq =
        sqlx::query_scalar!(r#"SELECT max(seq) FROM notifications WHERE user_id = $1"#, user).fetch_one(db).await?;
    Ok(seq.unwrap_or(0))
}

/// The position of one of the user's notifications (the id a reconnecting client last received).
pub async fn position_of(db: impl PgExecutor<'_>, user: Uuid, id: Uuid) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(r#"SELECT seq FROM notifications WHERE user_id = $1 AND id = $2"#, user, id)
        .fetch_optional(db)
        .await
}

pub async fn unread_count(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user
    )
    .fetch_one(db)
    .await
}

pub async fn mark_read(db: impl PgExecutor<'_>, user: Uuid, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        r#"UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $1 AND user_id = $2 RETURNING true AS "found!""#,
        id,
        user,
        now
    )
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

pub async fn mark_all_read(db: impl PgExecutor<'_>, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL", user, now)
        .execute(db)
        .await?
        .rows_affected())
}
