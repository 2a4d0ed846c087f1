//! Saving a project's structure as a template, listing and removing templates, and giving a new
//! project its template's structure.

use identity::auth::Principal;
use identity::party::Party;
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::dto::{NewTemplate, Template, TemplateChecklist, TemplateRole};
use super::repo::{self, TemplateRow};
use crate::PROJECTS_MANAGE;
use crate::error::CollabError;
use crate::model::{ProjectId, ProjectRole};
use crate::projects::repo::ProjectRow;

impl From<TemplateRow> for Template {
    fn from(t: TemplateRow) -> Self {
        Self {
            id: t.id,
            organization_id: t.organization_id,
            name: t.name,
            description: t.description,
            kind: t.kind,
            folders: t.folders,
            roles: t.roles.0,
            checklists: t.checklists.0,
            created_by: t.created_by,
            created_at: t.created_at,
        }
    }
}

async fn may_manage_projects(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    if identity::party::may_act_for(conn, principal, Party::Organization(org), PROJECTS_MANAGE).await? {
        Ok(())
    } else {
        Err(identity::error::IdentityError::Forbidden(PROJECTS_MANAGE.into()).into())
    }
}

/// Saves a project's structure as a template of its organization: its folders, its members' roles
/// and its checklists (their items, unticked). The project's managers save it.
pub async fn save(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
    req: NewTemplate,
) -> Result<Template, ApiError> {
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field("name", "invalid_length", "must be 1 to 200 characters"));
    }
    let description = req.description.trim().to_owned();
    if description.chars().count() > 4000 {
        return Err(ApiError::invalid_field("description", "too_long", "must be at most 4,000 characters"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (p, _) = crate::projects::service::managed_project(&mut tx, principal, project).await?;
    let folders = crate::files::repo::folders(&mut tx, project).await?.into_iter().map(|(path, _)| path).collect();
    let roles = crate::projects::repo::members(&mut tx, project)
        .await?
        .into_iter()
        .map(|m| TemplateRole { user_id: m.user_id, role: m.role.as_str().to_owned() })
        .collect();
    let lists = crate::checklists::repo::checklists(&mut tx, project).await?;
    let ids: Vec<Uuid> = lists.iter().map(|c| c.id).collect();
    let items = crate::checklists::repo::items(&mut tx, &ids).await?;
    let checklists = lists
        .into_iter()
        .map(|c| TemplateChecklist {
            items: items.iter().filter(|i| i.checklist_id == c.id).map(|i| i.body.clone()).collect(),
            title: c.title,
        })
        .collect();
    let row = TemplateRow {
        id: Uuid::now_v7(),
        organization_id: p.organization_id,
        name,
        description,
        kind: p.kind.clone(),
        folders,
        roles: Json(roles),
        checklists: Json(checklists),
        created_by: principal.user_id.0,
        created_at: now,
    };
    repo::insert(&mut tx, &row).await.map_err(CollabError::from)?;
    platform::audit::Entry::new(principal.actor(), "project.template", "project_template", row.id)
        .organization(p.organization_id)
        .after(json!({"name": row.name, "from": project}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.into())
}

/// The organization's templates, by name, for those who start its projects.
pub async fn list(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<Vec<Template>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    may_manage_projects(&mut conn, principal, org).await?;
    Ok(repo::templates(&mut conn, org).await?.into_iter().map(Template::from).collect())
}

/// One template, for those who start its organization's projects; 404 for anyone else.
pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Template, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let t = repo::template(&mut conn, id).await?.ok_or(CollabError::NotFound("template"))?;
    may_manage_projects(&mut conn, principal, t.organization_id)
        .await
        .map_err(|_| ApiError::from(CollabError::NotFound("template")))?;
    Ok(t.into())
}

/// Removes a template (projects made from it keep what they got).
pub async fn delete(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let t = repo::template(&mut tx, id).await?.ok_or(CollabError::NotFound("template"))?;
    may_manage_projects(&mut tx, principal, t.organization_id)
        .await
        .map_err(|_| ApiError::from(CollabError::NotFound("template")))?;
    repo::delete(&mut tx, id).await?;
    platform::audit::Entry::new(principal.actor(), "project.template_delete", "project_template", id)
        .organization(t.organization_id)
        .before(json!({"name": t.name}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The template a new project of `org` is made from: `422` on `template_id` for a template of another
/// organization, or none.
pub(crate) async fn for_new_project(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<TemplateRow, ApiError> {
    repo::template(conn, id)
        .await?
        .filter(|t| t.organization_id == org)
        .ok_or_else(|| ApiError::invalid_field("template_id", "not_found", "names no template of the organization"))
}

/// Gives a new project its template's structure, in the project's transaction: its folders, its
/// checklists (nothing ticked), and its members' roles, to each person who may still hold theirs (a
/// member of the organization, or a client from outside it) within the plan's limits; the manager
/// and the client the project names keep the roles they were given. Answers who was added.
pub(crate) async fn apply(
    conn: &mut PgConnection,
    template: &TemplateRow,
    project: &ProjectRow,
    (by, now): (Uuid, chrono::DateTime<chrono::Utc>),
) -> Result<Vec<(Uuid, ProjectRole)>, ApiError> {
    for folder in &template.folders {
        crate::files::repo::add_folder(&mut *conn, project.id, folder, by, now).await?;
    }
    for c in template.checklists.iter() {
        crate::checklists::service::make(&mut *conn, project.id, c.title.clone(), &c.items, by, now).await?;
    }
    let mut added = Vec::new();
    for r in template.roles.iter() {
        let Some(role) = ProjectRole::parse(&r.role) else { continue };
        if crate::projects::repo::member_role(&mut *conn, project.id, r.user_id).await?.is_some() {
            continue;
        }
        // Someone who may no longer hold the role (gone from the organization, a member now where a
        // client was) is left out.
        if crate::projects::service::check_member(&mut *conn, "template_id", project.organization_id, r.user_id, role)
            .await
            .is_err()
        {
            continue;
        }
        crate::plans::service::room_for_person(&mut *conn, project.organization_id, r.user_id, now).await?;
        crate::projects::repo::put_member(&mut *conn, project.id, r.user_id, role, by, now).await?;
        added.push((r.user_id, role));
    }
    Ok(added)
}
