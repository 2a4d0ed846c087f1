//! The area's HTTP handlers.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{ClaimRequest, ClaimReview, RightsClaim, RightsOverview};
use super::service;
use crate::model::ReleaseId;

/// Claim a share of a right on the release or one of its tracks (its label's staff). A claim that takes
/// one right beyond the whole somewhere is flagged as a conflict, with those it meets.
#[utoipa::path(post, path = "/v1/releases/{id}/rights", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = ClaimRequest, responses((status = 201, body = RightsClaim)))]
pub async fn create_claim(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<ClaimRequest>,
) -> Result<(StatusCode, Json<RightsClaim>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, id, req).await?)))
}

/// The release's rights claims and their conflicts.
#[utoipa::path(get, path = "/v1/releases/{id}/rights", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), responses((status = 200, body = RightsOverview)))]
pub async fn rights(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<RightsOverview>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// Staff: verify a claim or reject it (a rejected claim no longer counts toward conflicts).
#[utoipa::path(post, path = "/v1/rights/{id}/review", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ClaimReview, responses((status = 200, body = RightsOverview)))]
pub async fn review_claim(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<ClaimReview>,
) -> Result<Json<RightsOverview>, ApiError> {
    Ok(Json(service::review(&ctx, &principal, id, req).await?))
}

/// Attach a document backing the claim (a PDF, JPEG or PNG of up to 50 MB, sent as the body; its label's
/// staff).
#[utoipa::path(put, path = "/v1/rights/{id}/documents", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), crate::tracks::http::UploadQuery),
    request_body(content = String, content_type = "application/pdf", description = "The document"),
    responses((status = 200, body = RightsClaim),
              (status = 429, description = "`rate_limited`: too many uploads by this account or from this address this hour; see Retry-After", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_document(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<crate::tracks::http::UploadQuery>,
    body: Body,
) -> Result<Json<RightsClaim>, ApiError> {
    Ok(Json(service::upload_document(&ctx, &principal, id, body, query.filename).await?))
}

/// A document of the claim.
#[utoipa::path(get, path = "/v1/rights/{id}/documents/{sha256}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("sha256" = String, Path)),
    responses((status = 200, body = String, content_type = "application/pdf", description = "The document"),
              (status = 206, description = "The one byte range a Range header (bytes=first-last) asked for, with Content-Range"),
              (status = 416, description = "No byte of the file satisfies the Range header (Content-Range: bytes */size)")))]
pub async fn download_document(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, sha256)): Path<(Uuid, String)>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download_document(&ctx, &principal, id, &sha256, headers.get(axum::http::header::RANGE)).await
}
