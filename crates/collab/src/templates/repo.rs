//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::dto::{TemplateChecklist, TemplateRole};

#[derive(Debug, Clone)]
pub struct TemplateRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub folders: Vec<String>,
    pub roles: Json<Vec<TemplateRole>>,
    pub checklists: Json<Vec<TemplateChecklist>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, t: &TemplateRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO project_templates (id, organization_id, name, description, kind, folders, roles, checklists,
                                        created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        t.id,
        t.organization_id,
        t.name,
        t.description,
        t.kind,
        &t.folders,
        t.roles as _,
        t.checklists as _,
        t.created_by,
        t.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn template(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<TemplateRow>> {
    sqlx::query_as!(
        TemplateRow,
        r#"SELECT id, organization_id, name, description, kind, folders,
                  roles AS "roles: Json<Vec<TemplateRole>>", checklists AS "checklists: Json<Vec<TemplateChecklist>>",
                  created_by, created_at
           FROM project_templates WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn templates(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<TemplateRow>> {
    sqlx::query_as!(
        TemplateRow,
        r#"SELECT id, organization_id, name, description, kind, folders,
                  roles AS "roles: Json<Vec<TemplateRole>>", checklists AS "checklists: Json<Vec<TemplateChecklist>>",
                  created_by, created_at
           FROM project_templates WHERE organization_id = $1 ORDER BY lower(name)"#,
        org
    )
    .fetch_all(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM project_templates WHERE id = $1", id).execute(conn).await?;
    Ok(())
}
