//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{BriefId, StyleCardId, StyleCardStatus, TaskId};
use crate::styles::repo::CardRow;

#[derive(Debug, Clone)]
pub struct BriefRow {
    pub id: BriefId,
    pub org_id: Uuid,
    pub created_by: Uuid,
    pub title: String,
    pub content: serde_json::Value,
    pub confirmed: Vec<String>,
    pub audience_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert_brief(conn: &mut PgConnection, row: &BriefRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_briefs (id, org_id, created_by, title, content, confirmed, audience_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        row.id as _,
        row.org_id,
        row.created_by,
        row.title,
        row.content,
        &row.confirmed,
        row.audience_id,
        row.created_at,
        row.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One brief, locked for the transaction with `lock`.
pub async fn brief(conn: &mut PgConnection, id: BriefId, lock: bool) -> sqlx::Result<Option<BriefRow>> {
    if lock {
        sqlx::query_scalar!("SELECT id FROM task_briefs WHERE id = $1 FOR UPDATE", id as _)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query_as!(
        BriefRow,
        r#"SELECT id AS "id: BriefId", org_id, created_by, title, content, confirmed, audience_id, task_id, created_at,
                  updated_at
           FROM task_briefs WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// A company's briefs, most recently changed first, a page at a time.
pub async fn briefs_of(
    conn: &mut PgConnection,
    org: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<BriefRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        BriefRow,
        r#"SELECT id AS "id: BriefId", org_id, created_by, title, content, confirmed, audience_id, task_id, created_at,
                  updated_at
           FROM task_briefs
           WHERE org_id = $1 AND ($2::timestamptz IS NULL OR (updated_at, id) < ($2, $3))
           ORDER BY updated_at DESC, id DESC
           LIMIT $4"#,
        org,
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn update_brief(conn: &mut PgConnection, row: &BriefRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE task_briefs SET title = $2, content = $3, confirmed = $4, audience_id = $5, updated_at = $6
         WHERE id = $1",
        row.id as _,
        row.title,
        row.content,
        &row.confirmed,
        row.audience_id,
        row.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the brief as made into `task`.
pub async fn mark_used(conn: &mut PgConnection, id: BriefId, task: TaskId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE task_briefs SET task_id = $2, updated_at = $3 WHERE id = $1", id as _, task as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The brief's chosen cards, in order.
pub async fn styles(conn: &mut PgConnection, id: BriefId) -> sqlx::Result<Vec<CardRow>> {
    sqlx::query_as!(
        CardRow,
        r#"SELECT c.id AS "id: StyleCardId", c.title, c.deliverable_type, c.style_axis, c.colour_temperature, c.energy,
                  c.density, c.formality, c.colour_samples, c.industries, c.mood_keywords,
                  c.status AS "status: StyleCardStatus", c.sha256, c.media_type, c.width, c.height, c.size, c.phash,
                  c.created_at
           FROM task_brief_styles s JOIN task_style_cards c ON c.id = s.card_id
           WHERE s.brief_id = $1
           ORDER BY s.position"#,
        id as _
    )
    .fetch_all(conn)
    .await
}

/// The ids of the cards a brief of `org` chose (none when the brief is another company's).
pub async fn styles_of(conn: &mut PgConnection, id: BriefId, org: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("SELECT card_id FROM task_brief_styles WHERE brief_id = $1 AND org_id = $2", id as _, org)
        .fetch_all(conn)
        .await
}

/// Replaces the brief's chosen cards.
pub async fn set_styles(
    conn: &mut PgConnection,
    id: BriefId,
    org: Uuid,
    cards: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM task_brief_styles WHERE brief_id = $1", id as _).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO task_brief_styles (brief_id, card_id, org_id, position, chosen_at)
         SELECT $1, card, $2, (n - 1)::smallint, $4 FROM unnest($3::uuid[]) WITH ORDINALITY AS c (card, n)",
        id as _,
        org,
        cards,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
