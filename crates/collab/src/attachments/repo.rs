//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ConversationId, FileId, MessageId, ScanStatus};

#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub conversation_id: ConversationId,
    pub uploaded_by: Uuid,
    pub message_id: Option<MessageId>,
    pub position: Option<i16>,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub file_id: Option<FileId>,
    pub file_version: Option<i32>,
    pub scan: ScanStatus,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, a: &AttachmentRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO message_attachments (id, conversation_id, uploaded_by, message_id, position, name, media_type, size,
                                          sha256, file_id, file_version, scan, scanned_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                 CASE WHEN $12::text = 'pending' THEN NULL ELSE $13::timestamptz END, $13)",
        a.id,
        a.conversation_id as _,
        a.uploaded_by,
        a.message_id as _,
        a.position,
        a.name,
        a.media_type,
        a.size,
        a.sha256,
        a.file_id as _,
        a.file_version,
        a.scan as _,
        a.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives the uploader's waiting uploads in `from` to a message of `to`, in the order given from
/// `first`; answers how many it took (each upload is taken once: a second message finds it taken).
pub async fn attach(
    conn: &mut PgConnection,
    ids: &[Uuid],
    uploader: Uuid,
    from: ConversationId,
    message: MessageId,
    to: ConversationId,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE message_attachments a SET message_id = $4, position = u.n - 1, conversation_id = $5
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)
         WHERE a.id = u.id AND a.uploaded_by = $2 AND a.conversation_id = $3 AND a.message_id IS NULL",
        ids,
        uploader,
        from as _,
        message as _,
        to as _
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The attachments of these messages, in order; a project file's only while the file is not deleted.
pub async fn of_messages(conn: &mut PgConnection, messages: &[Uuid]) -> sqlx::Result<Vec<AttachmentRow>> {
    sqlx::query_as!(
        AttachmentRow,
        r#"SELECT a.id, a.conversation_id AS "conversation_id: ConversationId", a.uploaded_by,
                  a.message_id AS "message_id: MessageId", a.position, a.name, a.media_type, a.size, a.sha256,
                  a.file_id AS "file_id: FileId", a.file_version, a.scan AS "scan: ScanStatus", a.created_at
           FROM message_attachments a LEFT JOIN project_files f ON f.id = a.file_id
           WHERE a.message_id = ANY($1) AND f.deleted_at IS NULL
           ORDER BY a.message_id, a.position"#,
        messages
    )
    .fetch_all(conn)
    .await
}

/// One attachment (a project file's only while the file is not deleted).
pub async fn attachment(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as!(
        AttachmentRow,
        r#"SELECT a.id, a.conversation_id AS "conversation_id: ConversationId", a.uploaded_by,
                  a.message_id AS "message_id: MessageId", a.position, a.name, a.media_type, a.size, a.sha256,
                  a.file_id AS "file_id: FileId", a.file_version, a.scan AS "scan: ScanStatus", a.created_at
           FROM message_attachments a LEFT JOIN project_files f ON f.id = a.file_id
           WHERE a.id = $1 AND f.deleted_at IS NULL"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Records a scan's verdict on every upload still waiting with this content.
pub async fn record_scan(
    conn: &mut PgConnection,
    sha256: &str,
    scan: ScanStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE message_attachments SET scan = $2, scan_note = $3, scanned_at = $4 WHERE sha256 = $1 AND scan = 'pending'",
        sha256,
        scan as _,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the uploads still waiting for a message that were made before `before`; answers how many.
pub async fn sweep(conn: &mut PgConnection, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM message_attachments WHERE message_id IS NULL AND created_at < $1", before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
