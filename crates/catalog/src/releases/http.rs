//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    Discography, Release, ReleaseList, ReleaseQuery, ReleaseRequest, ReleaseReviewRequest, ValidationReport,
};
use super::service;
use crate::model::{ReleaseId, StoreId};

/// Which store a message is for.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ErnQuery {
    pub store: StoreId,
}

/// Create a release (a draft) for a label.
#[utoipa::path(post, path = "/v1/releases", tag = "catalog", security(("bearer" = [])),
    request_body = ReleaseRequest,
    responses((status = 201, body = Release),
              (status = 409, description = "`identifier_taken`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`, `not_a_label`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<ReleaseRequest>,
) -> Result<(StatusCode, Json<Release>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, req).await?)))
}

/// A release with its credits, track list and review notes (its label's staff and review staff).
#[utoipa::path(get, path = "/v1/releases/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), responses((status = 200, body = Release)))]
pub async fn release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change a release (a draft, or one with changes requested).
#[utoipa::path(patch, path = "/v1/releases/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = ReleaseRequest,
    responses((status = 200, body = Release),
              (status = 409, description = "`not_editable`, `identifier_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<ReleaseRequest>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, req).await?))
}

/// A label's catalog, newest first.
#[utoipa::path(get, path = "/v1/labels/{id}/releases", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), ReleaseQuery), responses((status = 200, body = ReleaseList)))]
pub async fn label_releases(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<ReleaseQuery>,
) -> Result<Json<ReleaseList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id, query).await?))
}

/// An artist's releases that are out in stores or scheduled for them, newest first (public). `id` is
/// the artist profile that a label linked its artist to.
#[utoipa::path(get, path = "/v1/artists/{id}/releases", tag = "catalog",
    params(("id" = Uuid, Path)), responses((status = 200, body = Discography)))]
pub async fn artist_releases(
    State(ctx): State<AppContext>,
    Path(id): Path<Uuid>,
) -> Result<Json<Discography>, ApiError> {
    Ok(Json(service::discography(&ctx, id, false).await?))
}

/// Staff's review queue: submitted releases, oldest submission first.
#[utoipa::path(get, path = "/v1/admin/releases", tag = "catalog", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = ReleaseList)))]
pub async fn release_review_queue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(page): Query<PageParams>,
) -> Result<Json<ReleaseList>, ApiError> {
    Ok(Json(service::queue(&ctx, &principal, page).await?))
}

/// Every problem that would stop the release's submission now.
#[utoipa::path(get, path = "/v1/releases/{id}/validation", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), responses((status = 200, body = ValidationReport)))]
pub async fn release_validation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<ValidationReport>, ApiError> {
    Ok(Json(service::validate(&ctx, &principal, id).await?))
}

/// Submit the release for review; a release with problems is refused with all of them in `errors`.
#[utoipa::path(post, path = "/v1/releases/{id}/submit", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    responses((status = 200, body = Release),
              (status = 409, description = "`invalid_transition`, `no_upc_source`, `no_registrant`, `codes_exhausted`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`release_not_ready`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn submit_release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::submit(&ctx, &principal, id).await?))
}

/// Take back a submission before it is reviewed (→ draft).
#[utoipa::path(post, path = "/v1/releases/{id}/withdraw", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    responses((status = 200, body = Release),
              (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn withdraw_release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::withdraw(&ctx, &principal, id).await?))
}

/// Staff: approve a submitted release, or request changes with notes per field.
#[utoipa::path(post, path = "/v1/releases/{id}/review", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = ReleaseReviewRequest,
    responses((status = 200, body = Release),
              (status = 403, description = "`transition_not_permitted`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn review_release(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<ReleaseReviewRequest>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::review(&ctx, &principal, id, req).await?))
}

/// Assign the release a UPC from the label's pool or GS1 prefix now (one it has stays).
#[utoipa::path(post, path = "/v1/releases/{id}/upc", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    responses((status = 200, body = Release),
              (status = 409, description = "`no_upc_source`, `codes_exhausted`, `not_editable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn assign_upc(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::assign(&ctx, &principal, id).await?))
}

/// The DDEX ERN 4.3 NewReleaseMessage that delivering the release to the store would send now (valid
/// against the official XSD).
#[utoipa::path(get, path = "/v1/releases/{id}/ern", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path), ErnQuery),
    responses((status = 200, body = String, content_type = "application/xml"),
              (status = 409, description = "`no_dpid`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`release_not_ready`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn release_ern(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Query(query): Query<ErnQuery>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let xml = service::ern(&ctx, &principal, id, query.store).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml))
}

/// Upload the release's cover art as the request body (a square RGB JPEG or PNG of at least 3000 × 3000
/// pixels, sent as `image/jpeg`, `image/png` or `application/octet-stream`). The image is decoded whole;
/// a refused file leaves nothing behind.
#[utoipa::path(put, path = "/v1/releases/{id}/artwork", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    request_body(content = String, content_type = "application/octet-stream", description = "The JPEG or PNG image"),
    responses((status = 200, body = Release),
              (status = 409, description = "`not_editable`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 413, description = "`payload_too_large`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed` (field artwork: unsupported_format, corrupt_file, not_rgb, not_square, too_small, too_large)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads by this account or from this address this hour; see Retry-After", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_artwork(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    body: axum::body::Body,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(service::upload_artwork(&ctx, &principal, id, body).await?))
}

/// The release's cover art.
#[utoipa::path(get, path = "/v1/releases/{id}/artwork", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    responses((status = 200, body = String, content_type = "image/jpeg", description = "The JPEG or PNG image"),
              (status = 206, description = "The one byte range a Range header (bytes=first-last) asked for, with Content-Range"),
              (status = 416, description = "No byte of the file satisfies the Range header (Content-Range: bytes */size)")))]
pub async fn download_artwork(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download_artwork(&ctx, &principal, id, headers.get(axum::http::header::RANGE)).await
}
