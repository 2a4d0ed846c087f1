//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{Handover, NewHandover};
use super::service;
use crate::model::FileId;
use crate::takers::Takers;

/// Hand an approved version to an object of another domain: `release_artwork` (the release's cover
/// art), `track_audio` (the track's audio), `task_deliverable` (a file the task's freelancer delivers)
/// or `contract_annex` (an annex of the booking's contract, which both sides then sign again). The
/// project's managers, editors and client hand over; the object's domain takes the file by its own
/// rules and answers its refusals itself (404, 403, 409, 422 as its own upload would).
#[utoipa::path(post, path = "/v1/project-files/{id}/versions/{version}/handovers", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)),
    request_body = NewHandover,
    responses((status = 201, body = Handover),
              (status = 403, description = "`forbidden`: a commenter or viewer of the project; or the object's own rule refused the caller", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such file or version, or not yours; or no such object, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`not_approved`: the version is not approved; `file_quarantined`; or the object's own state refused it", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: the field to is not a kind of taker; or the object's domain refused the file (its format, size)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn hand_over_file_version(
    State(ctx): State<AppContext>,
    Extension(takers): Extension<Takers>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
    Json(req): Json<NewHandover>,
) -> Result<(StatusCode, Json<Handover>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::hand_over(&ctx, &takers, &principal, id, version, req).await?)))
}

/// Where a version went, oldest first.
#[utoipa::path(get, path = "/v1/project-files/{id}/versions/{version}/handovers", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)),
    responses((status = 200, body = Vec<Handover>),
              (status = 404, description = "no such file or version, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn file_version_handovers(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
) -> Result<Json<Vec<Handover>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id, version).await?))
}
