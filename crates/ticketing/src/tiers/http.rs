//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};
use crate::model::{EventId, TierId};

/// Add a ticket tier to an event.
#[utoipa::path(post, path = "/v1/events/{id}/tiers", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::TierRequest, responses((status = 201, body = dto::Tier)))]
pub async fn create_tier(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::TierRequest>,
) -> Result<(StatusCode, Json<dto::Tier>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save(&ctx, &principal, id, None, req).await?)))
}

/// Change a ticket tier; its quantity never goes below what is sold or reserved.
#[utoipa::path(patch, path = "/v1/events/{id}/tiers/{tier_id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path), ("tier_id" = TierId, Path)), request_body = dto::TierRequest,
    responses((status = 200, body = dto::Tier)))]
pub async fn update_tier(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, tier_id)): Path<(EventId, TierId)>,
    Json(req): Json<dto::TierRequest>,
) -> Result<Json<dto::Tier>, ApiError> {
    Ok(Json(service::save(&ctx, &principal, id, Some(tier_id), req).await?))
}
