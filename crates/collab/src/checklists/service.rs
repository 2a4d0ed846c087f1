//! Making checklists, adding items, ticking them.

use identity::auth::Principal;
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Checklist, ChecklistItem, ItemTick, NewChecklist, NewChecklistItem};
use super::repo::{self, ChecklistRow, ItemRow};
use crate::error::CollabError;
use crate::model::{ProjectId, ProjectRole};
use crate::projects::service::visible_project;

/// The most checklists a project keeps, and items a checklist holds.
pub const MAX_CHECKLISTS: i64 = 50;
pub const MAX_ITEMS: usize = 200;

fn makers(role: ProjectRole) -> Result<(), ApiError> {
    if matches!(role, ProjectRole::Manager | ProjectRole::Editor) {
        Ok(())
    } else {
        Err(ApiError::new(platform::PlatformCode::Forbidden, "The project's managers and editors make checklists."))
    }
}

pub(crate) fn check_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::invalid_field("title", "invalid_length", "must be 1 to 200 characters"));
    }
    Ok(title.to_owned())
}

pub(crate) fn check_items(field: &str, items: &[String]) -> Result<Vec<String>, ApiError> {
    if items.len() > MAX_ITEMS {
        return Err(ApiError::invalid_field(field, "too_many", "a checklist holds at most 200 items"));
    }
    items
        .iter()
        .map(|i| {
            let body = i.trim();
            if body.is_empty() || body.chars().count() > 500 {
                Err(ApiError::invalid_field(field, "invalid_length", "each item is 1 to 500 characters"))
            } else {
                Ok(body.to_owned())
            }
        })
        .collect()
}

fn view(c: ChecklistRow, items: &[ItemRow]) -> Checklist {
    let items: Vec<ChecklistItem> = items
        .iter()
        .filter(|i| i.checklist_id == c.id)
        .map(|i| ChecklistItem {
            id: i.id,
            body: i.body.clone(),
            done: i.done_at.is_some(),
            done_at: i.done_at,
            done_by: i.done_by,
        })
        .collect();
    Checklist {
        id: c.id,
        project_id: c.project_id,
        title: c.title,
        done: items.iter().filter(|i| i.done).count(),
        items,
        created_at: c.created_at,
    }
}

/// Makes a checklist in the caller's transaction (a new project's, from its template).
pub(crate) async fn make(
    conn: &mut PgConnection,
    project: ProjectId,
    title: String,
    items: &[String],
    by: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ChecklistRow, ApiError> {
    if repo::count(&mut *conn, project).await? >= MAX_CHECKLISTS {
        return Err(ApiError::invalid_field("title", "too_many", "a project keeps at most 50 checklists"));
    }
    let row = ChecklistRow { id: Uuid::now_v7(), project_id: project, title, created_by: by, created_at: now };
    repo::insert(&mut *conn, &row).await?;
    repo::append(conn, row.id, items).await?;
    Ok(row)
}

/// Makes a checklist (the project's managers and editors), at most 50 a project.
pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
    req: NewChecklist,
) -> Result<Checklist, ApiError> {
    let title = check_title(&req.title)?;
    let items = check_items("items", &req.items)?;
    let mut tx = ctx.db.begin().await?;
    // The project's row is locked: checklists made at once count one after the other.
    let (_, role) = visible_project(&mut tx, principal, project, true).await?;
    makers(role)?;
    let row = make(&mut tx, project, title, &items, principal.user_id.0, ctx.clock.now()).await?;
    let items = repo::items(&mut tx, &[row.id]).await?;
    tx.commit().await?;
    Ok(view(row, &items))
}

/// The project's checklists, oldest first, for its members.
pub async fn list(ctx: &AppContext, principal: &Principal, project: ProjectId) -> Result<Vec<Checklist>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_project(&mut conn, principal, project, false).await?;
    let lists = repo::checklists(&mut conn, project).await?;
    let ids: Vec<Uuid> = lists.iter().map(|c| c.id).collect();
    let items = repo::items(&mut conn, &ids).await?;
    Ok(lists.into_iter().map(|c| view(c, &items)).collect())
}

/// The checklist and the caller's role in its project; not found for anyone outside it.
async fn visible_checklist(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<(ChecklistRow, ProjectRole), ApiError> {
    let c = repo::checklist(&mut *conn, id, lock).await?.ok_or(CollabError::NotFound("checklist"))?;
    let (_, role) = visible_project(conn, principal, c.project_id, false).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("checklist").into() } else { e }
    })?;
    Ok((c, role))
}

/// Adds an item at the end (the project's managers and editors).
pub async fn add_item(
    ctx: &AppContext,
    principal: &Principal,
    checklist: Uuid,
    req: NewChecklistItem,
) -> Result<Checklist, ApiError> {
    let body = check_items("body", std::slice::from_ref(&req.body))?;
    let mut tx = ctx.db.begin().await?;
    let (row, role) = visible_checklist(&mut tx, principal, checklist, true).await?;
    makers(role)?;
    if repo::items(&mut tx, &[row.id]).await?.len() >= MAX_ITEMS {
        return Err(ApiError::invalid_field("body", "too_many", "a checklist holds at most 200 items"));
    }
    repo::append(&mut tx, row.id, &body).await?;
    let items = repo::items(&mut tx, &[row.id]).await?;
    tx.commit().await?;
    Ok(view(row, &items))
}

/// Ticks an item or unticks it: anyone on the project but its viewers.
pub async fn tick(ctx: &AppContext, principal: &Principal, item: Uuid, req: ItemTick) -> Result<Checklist, ApiError> {
    let mut tx = ctx.db.begin().await?;
    let found = repo::item(&mut tx, item).await?.ok_or(CollabError::NotFound("item"))?;
    let (row, role) = visible_checklist(&mut tx, principal, found.checklist_id, false).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("item").into() } else { e }
    })?;
    if !role.may_post() {
        return Err(ApiError::new(platform::PlatformCode::Forbidden, "The project's viewers read its checklists."));
    }
    repo::tick(&mut tx, item, req.done, principal.user_id.0, ctx.clock.now()).await?;
    let items = repo::items(&mut tx, &[row.id]).await?;
    tx.commit().await?;
    Ok(view(row, &items))
}
