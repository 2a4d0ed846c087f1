//! SQL for administration: user search, status changes, roles, security events, the audit log and
//! permission templates.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::repo::UserRow;
use crate::admin::dto::EventQuery;
use crate::model::{Severity, TemplateId, UserId, UserStatus};

#[derive(Debug, Clone)]
pub struct PermissionTemplateRow {
    pub id: TemplateId,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SecurityEventRow {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub kind: String,
    pub severity: Severity,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

pub async fn search_users(
    conn: &mut PgConnection,
    q: Option<&str>,
    status: Option<UserStatus>,
    after: Option<UserId>,
    limit: i64,
) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as!(UserRow, r#"SELECT u.id AS "id: UserId", u.email, u.username, u.display_name, u.password_hash, u.status AS "status: UserStatus", u.email_verified_at, u.avatar_url, u.timezone, u.locale, u.notification_prefs, u.needs_approval, u.approved_at, u.locked_until, u.created_at, ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS "roles!"
         FROM users u
         WHERE ($1::text IS NULL OR u.email ILIKE $1 OR u.username ILIKE $1 OR u.display_name ILIKE $1)
           AND ($2::text IS NULL OR u.status = $2)
           AND ($3::uuid IS NULL OR u.id > $3)
         ORDER BY u.id LIMIT $4"#, q.map(like_pattern), status as _, after as _, limit)
    .fetch_all(conn)
    .await
}

pub async fn set_status(
    conn: &mut PgConnection,
    user: UserId,
    status: UserStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE users SET status = $2, updated_at = $3 WHERE id = $1"#, user as _, status as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn approve(conn: &mut PgConnection, user: UserId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE users SET approved_at = $2, updated_at = $2 WHERE id = $1"#, user as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn replace_roles(
    conn: &mut PgConnection,
    user: UserId,
    roles: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM user_roles WHERE user_id = $1 AND role <> ALL($2)"#, user as _, roles)
        .execute(&mut *conn)
        .await?;
    crate::accounts::repo::grant_roles(conn, user, roles, now).await
}

pub async fn security_events(
    conn: &mut PgConnection,
    q: &EventQuery,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<SecurityEventRow>> {
    sqlx::query_as!(SecurityEventRow, r#"SELECT id, user_id, kind, severity AS "severity: Severity", ip, user_agent, details, created_at FROM security_events
         WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR severity = $2) AND ($3::text IS NULL OR kind = $3)
           AND ($4::uuid IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5"#, q.user_id, &q.severity as _, &q.kind as _, before, limit)
    .fetch_all(conn)
    .await
}

pub async fn templates(conn: &mut PgConnection) -> sqlx::Result<Vec<PermissionTemplateRow>> {
    sqlx::query_as!(PermissionTemplateRow, r#"SELECT id AS "id: TemplateId", name, description, permissions, created_at, updated_at FROM permission_templates ORDER BY name"#)
    .fetch_all(conn)
    .await
}

pub async fn template(conn: &mut PgConnection, id: TemplateId) -> sqlx::Result<Option<PermissionTemplateRow>> {
    sqlx::query_as!(PermissionTemplateRow, r#"SELECT id AS "id: TemplateId", name, description, permissions, created_at, updated_at FROM permission_templates WHERE id = $1"#, id as _)
    .fetch_optional(conn)
    .await
}

pub async fn upsert_template(conn: &mut PgConnection, t: &PermissionTemplateRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO permission_templates (id, name, description, permissions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET name = $2, description = $3, permissions = $4, updated_at = $6"#,
        t.id as _,
        &t.name,
        &t.description,
        &t.permissions,
        t.created_at,
        t.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether any organization member holds the template as their role.
pub async fn template_in_use(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM org_members WHERE role = $1) AS "exists!""#, name)
        .fetch_one(conn)
        .await
}

pub async fn delete_template(conn: &mut PgConnection, id: TemplateId) -> sqlx::Result<bool> {
    Ok(sqlx::query!(r#"DELETE FROM permission_templates WHERE id = $1"#, id as _).execute(conn).await?.rows_affected()
        == 1)
}
