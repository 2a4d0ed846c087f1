//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Audience, Brand, TaskFile};
use super::service;
use crate::model::{AudienceId, TaskFileId};

/// A company's brand with its logo and assets: for its task managers, staff, and freelancers working on
/// (or offered) one of its tasks.
#[utoipa::path(get, path = "/v1/orgs/{id}/brand", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Brand),
    (status = 404, description = "no such organization, or not yours to see", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn org_brand(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Brand>, ApiError> {
    Ok(Json(service::brand(&ctx, &principal, id).await?))
}

/// Write the company's brand (its task managers).
#[utoipa::path(put, path = "/v1/orgs/{id}/brand", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = dto::BrandInput,
    responses((status = 200, body = Brand),
              (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn save_org_brand(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<dto::BrandInput>,
) -> Result<Json<Brand>, ApiError> {
    Ok(Json(service::put_brand(&ctx, &principal, id, &req).await?))
}

/// Upload the brand's logo (a PNG, JPEG or SVG image, replacing the one before) or an asset (any file
/// up to 200 MB), as the raw request body; its media type is read from its first bytes.
#[utoipa::path(post, path = "/v1/orgs/{id}/brand/files", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), dto::BrandFileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = TaskFile),
              (status = 422, description = "the kind or name is wrong, or a logo is not an image", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_brand_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<dto::BrandFileQuery>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TaskFile>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::upload_brand_file(&ctx, &principal, id, &q, body).await?)))
}

/// Download a company's file (a brand file or a brief's attachment), whole or by `Range`.
#[utoipa::path(get, path = "/v1/task-files/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskFileId, Path)),
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream", description = "The file, with its media type"),
              (status = 206, description = "The one byte range a Range header asked for, with Content-Range"),
              (status = 404, description = "no such file, or not yours to see", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn download_task_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskFileId>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download(&ctx, &principal, id, headers.get(axum::http::header::RANGE)).await
}

/// Delete a brand file, or an attachment of a brief that is not a task yet.
#[utoipa::path(delete, path = "/v1/task-files/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskFileId, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "`brief_used`, `file_kept`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_task_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskFileId>,
) -> Result<StatusCode, ApiError> {
    service::delete_file(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A company's saved audiences, by name.
#[utoipa::path(get, path = "/v1/orgs/{id}/audiences", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Audience>)))]
pub async fn org_audiences(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Audience>>, ApiError> {
    Ok(Json(service::audiences(&ctx, &principal, id).await?))
}

/// Save a new audience for the company.
#[utoipa::path(post, path = "/v1/orgs/{id}/audiences", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = dto::AudienceInput,
    responses((status = 201, body = Audience),
              (status = 409, description = "`audience_exists`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_audience(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<dto::AudienceInput>,
) -> Result<(StatusCode, Json<Audience>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save_audience(&ctx, &principal, id, None, &req).await?)))
}

/// Replace one of the company's audiences.
#[utoipa::path(put, path = "/v1/orgs/{id}/audiences/{audience}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("audience" = AudienceId, Path)), request_body = dto::AudienceInput,
    responses((status = 200, body = Audience)))]
pub async fn save_audience(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, audience)): Path<(Uuid, AudienceId)>,
    Json(req): Json<dto::AudienceInput>,
) -> Result<Json<Audience>, ApiError> {
    Ok(Json(service::save_audience(&ctx, &principal, id, Some(audience), &req).await?))
}

/// Delete one of the company's audiences that no brief uses.
#[utoipa::path(delete, path = "/v1/orgs/{id}/audiences/{audience}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("audience" = AudienceId, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "`audience_in_use`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_audience(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, audience)): Path<(Uuid, AudienceId)>,
) -> Result<StatusCode, ApiError> {
    service::delete_audience(&ctx, &principal, id, audience).await?;
    Ok(StatusCode::NO_CONTENT)
}
