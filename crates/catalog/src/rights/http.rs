//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
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
