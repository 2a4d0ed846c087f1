//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::FileId;

#[derive(Debug, Clone)]
pub struct HandoverRow {
    pub id: Uuid,
    pub file_id: FileId,
    pub version: i32,
    pub taker: String,
    pub target_id: Uuid,
    pub handed_by: Uuid,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, h: &HandoverRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO project_file_handovers (id, file_id, version, taker, target_id, handed_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        h.id,
        h.file_id as _,
        h.version,
        h.taker,
        h.target_id,
        h.handed_by,
        h.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A version's handovers, oldest first.
pub async fn of_version(conn: &mut PgConnection, file: FileId, version: i32) -> sqlx::Result<Vec<HandoverRow>> {
    sqlx::query_as!(
        HandoverRow,
        r#"SELECT id, file_id AS "file_id: FileId", version, taker, target_id, handed_by, created_at
           FROM project_file_handovers WHERE file_id = $1 AND version = $2 ORDER BY created_at, id"#,
        file as _,
        version
    )
    .fetch_all(conn)
    .await
}
