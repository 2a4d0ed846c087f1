//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Brief, BriefSummary};
use super::service;
use crate::brands::dto::{FileNameQuery, TaskFile};
use crate::model::BriefId;

/// Start a brief for a company (its task managers).
#[utoipa::path(post, path = "/v1/briefs", tag = "tasks", security(("bearer" = [])),
    request_body = dto::NewBrief,
    responses((status = 201, body = Brief),
              (status = 404, description = "no such organization, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_brief(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewBrief>,
) -> Result<(StatusCode, Json<Brief>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, &req).await?)))
}

/// A brief with its steps' standing, audience, style cards and attachments.
#[utoipa::path(get, path = "/v1/briefs/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = BriefId, Path)), responses((status = 200, body = Brief),
    (status = 404, description = "no such brief, or not yours to see", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_brief(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BriefId>,
) -> Result<Json<Brief>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change a brief, one step or many at a time, confirming steps as the client does.
#[utoipa::path(patch, path = "/v1/briefs/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = BriefId, Path)), request_body = dto::BriefEdit,
    responses((status = 200, body = Brief),
              (status = 409, description = "`brief_used`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn edit_brief(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BriefId>,
    Json(req): Json<dto::BriefEdit>,
) -> Result<Json<Brief>, ApiError> {
    Ok(Json(service::edit(&ctx, &principal, id, &req).await?))
}

/// A company's briefs, most recently changed first.
#[utoipa::path(get, path = "/v1/orgs/{id}/briefs", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams), responses((status = 200, body = Page<BriefSummary>)))]
pub async fn org_briefs(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<BriefSummary>>, ApiError> {
    Ok(Json(service::of_org(&ctx, &principal, id, &page).await?))
}

/// Attach a file (up to 200 MB) to a brief that is not a task yet, as the raw request body; its media
/// type is read from its first bytes.
#[utoipa::path(post, path = "/v1/briefs/{id}/attachments", tag = "tasks", security(("bearer" = [])),
    params(("id" = BriefId, Path), FileNameQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = TaskFile),
              (status = 409, description = "`brief_used`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn attach_to_brief(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BriefId>,
    Query(q): Query<FileNameQuery>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TaskFile>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::attach(&ctx, &principal, id, &q.name, body).await?)))
}
