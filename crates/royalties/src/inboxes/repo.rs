//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct InboxRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub store_id: Uuid,
    pub folder: String,
    pub format: String,
    pub csv_store: Option<String>,
    pub enabled: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn insert(conn: &mut PgConnection, r: &InboxRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_inboxes (id, org_id, store_id, folder, format, csv_store, enabled, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        r.id,
        r.org_id,
        r.store_id,
        r.folder,
        r.format,
        r.csv_store,
        r.enabled,
        r.created_by,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inboxes: one by id, a label's, or every enabled one.
pub async fn inboxes(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    org: Option<Uuid>,
    enabled_only: bool,
) -> sqlx::Result<Vec<InboxRow>> {
    sqlx::query_as!(
        InboxRow,
        "SELECT id, org_id, store_id, folder, format, csv_store, enabled, created_by, created_at, last_polled_at, last_error
         FROM royalty_inboxes
         WHERE ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR org_id = $2) AND (enabled OR NOT $3)
         ORDER BY created_at, id LIMIT 1000",
        id,
        org,
        enabled_only
    )
    .fetch_all(conn)
    .await
}

/// The names of the files the inbox has taken (or turned down) already.
pub async fn seen(conn: &mut PgConnection, inbox: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT name FROM royalty_inbox_files WHERE inbox_id = $1", inbox).fetch_all(conn).await
}

/// Records what became of a file. Two polls at once may both take it: the report's unique message id
/// lets one through and turns the other down as a duplicate, and the file keeps the report it made.
pub async fn record(
    conn: &mut PgConnection,
    inbox: Uuid,
    name: &str,
    size: i64,
    report: Option<Uuid>,
    outcome: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_inbox_files (inbox_id, name, size, report_id, outcome, taken_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (inbox_id, name) DO UPDATE SET size = EXCLUDED.size, report_id = EXCLUDED.report_id,
             outcome = EXCLUDED.outcome, taken_at = EXCLUDED.taken_at
         WHERE royalty_inbox_files.report_id IS NULL AND EXCLUDED.report_id IS NOT NULL",
        inbox,
        name,
        size,
        report,
        outcome,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct FileRow {
    pub name: String,
    pub size: i64,
    pub report_id: Option<Uuid>,
    pub outcome: String,
    pub taken_at: DateTime<Utc>,
}

/// The inbox's latest files.
pub async fn files(conn: &mut PgConnection, inbox: Uuid, limit: i64) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        "SELECT name, size, report_id, outcome, taken_at FROM royalty_inbox_files WHERE inbox_id = $1
         ORDER BY taken_at DESC, name LIMIT $2",
        inbox,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn polled(conn: &mut PgConnection, inbox: Uuid, error: Option<&str>, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_inboxes SET last_polled_at = $2, last_error = $3 WHERE id = $1", inbox, now, error)
        .execute(conn)
        .await?;
    Ok(())
}
