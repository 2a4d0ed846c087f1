//! The area's SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{Priority, ProjectId, ProjectRole, ProjectStatus};

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub organization_id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub team_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub status: ProjectStatus,
    pub priority: Priority,
    pub kind: String,
    pub budget_minor: Option<i64>,
    pub budget_currency: Option<String>,
    pub estimated_hours: Option<i32>,
    pub actual_hours: i32,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, p: &ProjectRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO projects (id, organization_id, slug, name, description, team_id, client_id, status, priority, kind,
                               budget_minor, budget_currency, estimated_hours, actual_hours, start_date, due_date,
                               completed_on, tags, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        p.id as _,
        p.organization_id,
        p.slug,
        p.name,
        p.description,
        p.team_id,
        p.client_id,
        p.status as _,
        p.priority as _,
        p.kind,
        p.budget_minor,
        p.budget_currency,
        p.estimated_hours,
        p.actual_hours,
        p.start_date,
        p.due_date,
        p.completed_on,
        &p.tags,
        p.created_by,
        p.created_at,
        p.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every changeable field of the project.
pub async fn update(conn: &mut PgConnection, p: &ProjectRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE projects SET slug = $2, name = $3, description = $4, team_id = $5, client_id = $6, status = $7,
                             priority = $8, kind = $9, budget_minor = $10, budget_currency = $11, estimated_hours = $12,
                             actual_hours = $13, start_date = $14, due_date = $15, completed_on = $16, tags = $17,
                             updated_at = $18
         WHERE id = $1",
        p.id as _,
        p.slug,
        p.name,
        p.description,
        p.team_id,
        p.client_id,
        p.status as _,
        p.priority as _,
        p.kind,
        p.budget_minor,
        p.budget_currency,
        p.estimated_hours,
        p.actual_hours,
        p.start_date,
        p.due_date,
        p.completed_on,
        &p.tags,
        p.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The names of these projects.
pub async fn names(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!("SELECT id, name FROM projects WHERE id = ANY($1)", ids).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

pub async fn project(conn: &mut PgConnection, id: ProjectId, lock: bool) -> sqlx::Result<Option<ProjectRow>> {
    if lock {
        sqlx::query_as!(
            ProjectRow,
            r#"SELECT id AS "id: ProjectId", organization_id, slug, name, description, team_id, client_id,
                      status AS "status: ProjectStatus", priority AS "priority: Priority", kind, budget_minor,
                      budget_currency, estimated_hours, actual_hours, start_date, due_date, completed_on, tags,
                      created_by, created_at, updated_at
               FROM projects WHERE id = $1 FOR UPDATE"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            ProjectRow,
            r#"SELECT id AS "id: ProjectId", organization_id, slug, name, description, team_id, client_id,
                      status AS "status: ProjectStatus", priority AS "priority: Priority", kind, budget_minor,
                      budget_currency, estimated_hours, actual_hours, start_date, due_date, completed_on, tags,
                      created_by, created_at, updated_at
               FROM projects WHERE id = $1"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    }
}

/// The organization's projects, newest first, after the cursor; all of them (`everything`) or those
/// `user` is a member of.
pub async fn projects_of_org(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    everything: bool,
    status: Option<ProjectStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ProjectRow>> {
    sqlx::query_as!(
        ProjectRow,
        r#"SELECT p.id AS "id: ProjectId", p.organization_id, p.slug, p.name, p.description, p.team_id, p.client_id,
                  p.status AS "status: ProjectStatus", p.priority AS "priority: Priority", p.kind, p.budget_minor,
                  p.budget_currency, p.estimated_hours, p.actual_hours, p.start_date, p.due_date, p.completed_on,
                  p.tags, p.created_by, p.created_at, p.updated_at
           FROM projects p
           WHERE p.organization_id = $1
             AND ($3 OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $2))
             AND ($4::text IS NULL OR p.status = $4)
             AND ($5::timestamptz IS NULL OR (p.created_at, p.id) < ($5, $6::uuid))
           ORDER BY p.created_at DESC, p.id DESC
           LIMIT $7"#,
        org,
        user,
        everything,
        status.map(ProjectStatus::as_str),
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The projects `user` is a member of, in any organization, newest first.
pub async fn projects_of_member(
    conn: &mut PgConnection,
    user: Uuid,
    status: Option<ProjectStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ProjectRow>> {
    sqlx::query_as!(
        ProjectRow,
        r#"SELECT p.id AS "id: ProjectId", p.organization_id, p.slug, p.name, p.description, p.team_id, p.client_id,
                  p.status AS "status: ProjectStatus", p.priority AS "priority: Priority", p.kind, p.budget_minor,
                  p.budget_currency, p.estimated_hours, p.actual_hours, p.start_date, p.due_date, p.completed_on,
                  p.tags, p.created_by, p.created_at, p.updated_at
           FROM project_members m JOIN projects p ON p.id = m.project_id
           WHERE m.user_id = $1 AND ($2::text IS NULL OR p.status = $2)
             AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4::uuid))
           ORDER BY p.created_at DESC, p.id DESC
           LIMIT $5"#,
        user,
        status.map(ProjectStatus::as_str),
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Copy)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub role: ProjectRole,
    pub added_at: DateTime<Utc>,
}

pub async fn member_role(conn: &mut PgConnection, project: ProjectId, user: Uuid) -> sqlx::Result<Option<ProjectRole>> {
    sqlx::query_scalar!(
        r#"SELECT role AS "role: ProjectRole" FROM project_members WHERE project_id = $1 AND user_id = $2"#,
        project as _,
        user
    )
    .fetch_optional(conn)
    .await
}

pub async fn members(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as!(
        MemberRow,
        r#"SELECT user_id, role AS "role: ProjectRole", added_at FROM project_members
           WHERE project_id = $1 ORDER BY added_at, user_id"#,
        project as _
    )
    .fetch_all(conn)
    .await
}

/// Adds the member or changes their role; answers the role they had before, if any.
pub async fn put_member(
    conn: &mut PgConnection,
    project: ProjectId,
    user: Uuid,
    role: ProjectRole,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<ProjectRole>> {
    let before = sqlx::query_scalar!(
        r#"SELECT role AS "role: ProjectRole" FROM project_members WHERE project_id = $1 AND user_id = $2 FOR UPDATE"#,
        project as _,
        user
    )
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO project_members (project_id, user_id, role, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role",
        project as _,
        user,
        role as _,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(before)
}

pub async fn remove_member(conn: &mut PgConnection, project: ProjectId, user: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2", project as _, user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn manager_count(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM project_members WHERE project_id = $1 AND role = 'manager'"#,
        project as _
    )
    .fetch_one(conn)
    .await
}

/// The project's managers (members with the `manager` role).
pub async fn managers(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT user_id FROM project_members WHERE project_id = $1 AND role = 'manager' ORDER BY user_id",
        project as _
    )
    .fetch_all(conn)
    .await
}
