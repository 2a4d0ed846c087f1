//! The area's HTTP handlers.

use axum::extract::{Path, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{DistributionList, ScheduleRequest};
use super::service;
use crate::model::ReleaseId;

/// Deliver an approved release to stores (→ scheduled), or add stores to a scheduled one. Each delivery
/// fires at its time: `deliver_at`, or the store's lead time before the release date.
#[utoipa::path(post, path = "/v1/releases/{id}/distributions", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = ScheduleRequest,
    responses((status = 200, body = DistributionList),
              (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn schedule(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<ScheduleRequest>,
) -> Result<Json<DistributionList>, ApiError> {
    Ok(Json(service::schedule(&ctx, &principal, id, req).await?))
}

/// The release's deliveries, store by store.
#[utoipa::path(get, path = "/v1/releases/{id}/distributions", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), responses((status = 200, body = DistributionList)))]
pub async fn distributions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<DistributionList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// A label's distribution board: every delivery of its releases, the newest release first, then by store.
#[utoipa::path(get, path = "/v1/labels/{id}/distributions", tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = DistributionList)))]
pub async fn label_distributions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<DistributionList>, ApiError> {
    Ok(Json(service::of_label(&ctx, &principal, id).await?))
}

/// Take the release down: every store it went to gets a message without deals (→ takedown_requested;
/// taken_down once every store acknowledged).
#[utoipa::path(post, path = "/v1/releases/{id}/takedown", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)),
    responses((status = 200, body = DistributionList),
              (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn takedown(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
) -> Result<Json<DistributionList>, ApiError> {
    Ok(Json(service::takedown(&ctx, &principal, id).await?))
}
