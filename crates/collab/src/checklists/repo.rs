//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::ProjectId;

#[derive(Debug, Clone)]
pub struct ChecklistRow {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub title: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: Uuid,
    pub checklist_id: Uuid,
    pub position: i32,
    pub body: String,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
}

pub async fn insert(conn: &mut PgConnection, c: &ChecklistRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO project_checklists (id, project_id, title, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        c.id,
        c.project_id as _,
        c.title,
        c.created_by,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds items at the end of a checklist (the caller holds the checklist's lock), in order.
pub async fn append(conn: &mut PgConnection, checklist: Uuid, bodies: &[String]) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = bodies.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query!(
        "INSERT INTO project_checklist_items (id, checklist_id, position, body)
         SELECT u.id, $1, coalesce((SELECT max(position) + 1 FROM project_checklist_items WHERE checklist_id = $1), 0)
                          + u.n - 1, u.body
         FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS u(id, body, n)",
        checklist,
        &ids,
        bodies
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many checklists the project has.
pub async fn count(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM project_checklists WHERE project_id = $1"#, project as _)
        .fetch_one(conn)
        .await
}

/// One checklist, locked when asked (adding items).
pub async fn checklist(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<ChecklistRow>> {
    if lock {
        sqlx::query_as!(
            ChecklistRow,
            r#"SELECT id, project_id AS "project_id: ProjectId", title, created_by, created_at
               FROM project_checklists WHERE id = $1 FOR UPDATE"#,
            id
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            ChecklistRow,
            r#"SELECT id, project_id AS "project_id: ProjectId", title, created_by, created_at
               FROM project_checklists WHERE id = $1"#,
            id
        )
        .fetch_optional(conn)
        .await
    }
}

pub async fn checklists(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<ChecklistRow>> {
    sqlx::query_as!(
        ChecklistRow,
        r#"SELECT id, project_id AS "project_id: ProjectId", title, created_by, created_at
           FROM project_checklists WHERE project_id = $1 ORDER BY created_at, id"#,
        project as _
    )
    .fetch_all(conn)
    .await
}

/// The items of these checklists, in order.
pub async fn items(conn: &mut PgConnection, checklists: &[Uuid]) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as!(
        ItemRow,
        "SELECT id, checklist_id, position, body, done_at, done_by FROM project_checklist_items
         WHERE checklist_id = ANY($1) ORDER BY checklist_id, position",
        checklists
    )
    .fetch_all(conn)
    .await
}

/// The item and its checklist.
pub async fn item(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ItemRow>> {
    sqlx::query_as!(
        ItemRow,
        "SELECT id, checklist_id, position, body, done_at, done_by FROM project_checklist_items WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Ticks an item (keeping who ticked it first) or unticks it.
pub async fn tick(conn: &mut PgConnection, id: Uuid, done: bool, by: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE project_checklist_items
         SET done_at = CASE WHEN $2 THEN coalesce(done_at, $4) END, done_by = CASE WHEN $2 THEN coalesce(done_by, $3) END
         WHERE id = $1",
        id,
        done,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
