//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Checklist, ItemTick, NewChecklist, NewChecklistItem};
use super::service;
use crate::model::ProjectId;

/// Make a checklist (the project's managers and editors; at most 50 a project, 200 items each).
#[utoipa::path(post, path = "/v1/projects/{id}/checklists", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    request_body = NewChecklist,
    responses((status = 201, body = Checklist),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a bad title or item, or too many", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_checklist(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Json(req): Json<NewChecklist>,
) -> Result<(StatusCode, Json<Checklist>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, id, req).await?)))
}

/// A project's checklists with their items, oldest first.
#[utoipa::path(get, path = "/v1/projects/{id}/checklists", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<Checklist>),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn project_checklists(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Checklist>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// Add an item at the end of a checklist (the project's managers and editors).
#[utoipa::path(post, path = "/v1/checklists/{id}/items", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = NewChecklistItem,
    responses((status = 201, body = Checklist),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such checklist, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a bad item, or the checklist is full", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_checklist_item(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<NewChecklistItem>,
) -> Result<(StatusCode, Json<Checklist>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::add_item(&ctx, &principal, id, req).await?)))
}

/// Tick an item, or untick it (anyone on the project but its viewers); answers its checklist.
#[utoipa::path(put, path = "/v1/checklist-items/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ItemTick,
    responses((status = 200, body = Checklist),
              (status = 403, description = "`forbidden`: a viewer of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such item, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn tick_checklist_item(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<ItemTick>,
) -> Result<Json<Checklist>, ApiError> {
    Ok(Json(service::tick(&ctx, &principal, id, req).await?))
}
