//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{AudienceId, BriefId, FilePurpose, TaskFileId};

#[derive(Debug, Clone)]
pub struct BrandRow {
    pub name: String,
    pub colours: Vec<String>,
    pub fonts: Vec<String>,
    pub tone: Option<String>,
    pub dos: Vec<String>,
    pub donts: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

pub async fn brand(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<BrandRow>> {
    sqlx::query_as!(
        BrandRow,
        "SELECT name, colours, fonts, tone, dos, donts, updated_at FROM task_brands WHERE org_id = $1",
        org
    )
    .fetch_optional(conn)
    .await
}

pub async fn put_brand(
    conn: &mut PgConnection,
    org: Uuid,
    brand: &BrandRow,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_brands (org_id, name, colours, fonts, tone, dos, donts, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id) DO UPDATE SET name = $2, colours = $3, fonts = $4, tone = $5, dos = $6, donts = $7,
                                            updated_by = $8, updated_at = $9",
        org,
        brand.name,
        &brand.colours,
        &brand.fonts,
        brand.tone,
        &brand.dos,
        &brand.donts,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AudienceRow {
    pub id: AudienceId,
    pub org_id: Uuid,
    pub name: String,
    pub demographics: serde_json::Value,
    pub firmographics: serde_json::Value,
    pub psychographics: serde_json::Value,
    pub behaviour: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn audiences(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<AudienceRow>> {
    sqlx::query_as!(
        AudienceRow,
        r#"SELECT id AS "id: AudienceId", org_id, name, demographics, firmographics, psychographics, behaviour,
                  created_at, updated_at
           FROM task_audiences WHERE org_id = $1 ORDER BY name, id"#,
        org
    )
    .fetch_all(conn)
    .await
}

pub async fn audience(conn: &mut PgConnection, id: AudienceId) -> sqlx::Result<Option<AudienceRow>> {
    sqlx::query_as!(
        AudienceRow,
        r#"SELECT id AS "id: AudienceId", org_id, name, demographics, firmographics, psychographics, behaviour,
                  created_at, updated_at
           FROM task_audiences WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// Inserts or replaces an audience.
pub async fn put_audience(conn: &mut PgConnection, row: &AudienceRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_audiences (id, org_id, name, demographics, firmographics, psychographics, behaviour,
                                     created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET name = $3, demographics = $4, firmographics = $5, psychographics = $6,
                                        behaviour = $7, updated_at = $9",
        row.id as _,
        row.org_id,
        row.name,
        row.demographics,
        row.firmographics,
        row.psychographics,
        row.behaviour,
        row.created_at,
        row.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_audience(conn: &mut PgConnection, id: AudienceId) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM task_audiences WHERE id = $1", id as _).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: TaskFileId,
    pub org_id: Uuid,
    pub purpose: FilePurpose,
    pub brief_id: Option<Uuid>,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// A deliverable's task, version among its files of the name, and delivery round.
    pub task_id: Option<Uuid>,
    pub version: Option<i32>,
    pub round: Option<i16>,
}

pub async fn insert_file(conn: &mut PgConnection, row: &FileRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_files (id, org_id, purpose, brief_id, name, sha256, size, media_type, uploaded_by, created_at,
                                 task_id, version, round)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        row.id as _,
        row.org_id,
        row.purpose as _,
        row.brief_id,
        row.name,
        row.sha256,
        row.size,
        row.media_type,
        row.uploaded_by,
        row.created_at,
        row.task_id,
        row.version,
        row.round
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn file(conn: &mut PgConnection, id: TaskFileId) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: TaskFileId", org_id, purpose AS "purpose: FilePurpose", brief_id, name, sha256, size,
                  media_type, uploaded_by, created_at, task_id, version, round
           FROM task_files WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The brand's logo and assets, oldest first.
pub async fn brand_files(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: TaskFileId", org_id, purpose AS "purpose: FilePurpose", brief_id, name, sha256, size,
                  media_type, uploaded_by, created_at, task_id, version, round
           FROM task_files WHERE org_id = $1 AND purpose IN ('brand_logo', 'brand_asset')
           ORDER BY created_at, id"#,
        org
    )
    .fetch_all(conn)
    .await
}

/// A brief's attachments, oldest first.
pub async fn brief_files(conn: &mut PgConnection, brief: BriefId) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: TaskFileId", org_id, purpose AS "purpose: FilePurpose", brief_id, name, sha256, size,
                  media_type, uploaded_by, created_at, task_id, version, round
           FROM task_files WHERE brief_id = $1
           ORDER BY created_at, id"#,
        brief as _
    )
    .fetch_all(conn)
    .await
}

pub async fn delete_file(conn: &mut PgConnection, id: TaskFileId) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM task_files WHERE id = $1", id as _).execute(conn).await?;
    Ok(())
}

/// The company's logo, to be replaced by a new one.
pub async fn delete_logo(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM task_files WHERE org_id = $1 AND purpose = 'brand_logo'", org).execute(conn).await?;
    Ok(())
}

/// Whether the user works, or is offered work, for the company: on any of its tasks, or (with
/// `brief`) on the task made from that brief.
pub async fn works_for(conn: &mut PgConnection, user: Uuid, org: Uuid, brief: Option<Uuid>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM tasks t
               WHERE t.org_id = $2
                 AND ($3::uuid IS NULL OR t.id = (SELECT b.task_id FROM task_briefs b WHERE b.id = $3))
                 AND (t.assignee = $1
                      OR EXISTS (SELECT 1 FROM task_offers o WHERE o.task_id = t.id AND o.user_id = $1
                                                              AND o.status = 'offered'))
           ) AS "works!""#,
        user,
        org,
        brief
    )
    .fetch_one(conn)
    .await
}

/// The version a new deliverable of `name` gets in the task (the caller holds the task's row lock).
pub async fn next_version(conn: &mut PgConnection, task: Uuid, name: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(max(version), 0) + 1 AS "version!" FROM task_files WHERE task_id = $1 AND name = $2"#,
        task,
        name
    )
    .fetch_one(conn)
    .await
}

/// A task's deliverables: by name, newest version first.
pub async fn deliverables(conn: &mut PgConnection, task: Uuid) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: TaskFileId", org_id, purpose AS "purpose: FilePurpose", brief_id, name, sha256, size,
                  media_type, uploaded_by, created_at, task_id, version, round
           FROM task_files WHERE task_id = $1
           ORDER BY name, version DESC"#,
        task
    )
    .fetch_all(conn)
    .await
}

/// How many deliverables the task has for a delivery round.
pub async fn deliverables_in_round(conn: &mut PgConnection, task: Uuid, round: i16) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM task_files WHERE task_id = $1 AND round = $2"#, task, round)
        .fetch_one(conn)
        .await
}
