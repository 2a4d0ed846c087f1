//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};
use crate::model::{EventId, OrderId};

/// The event's sales (those who manage it): by tier, by day in the event's time zone, in total, and
/// the escrow holding the money until settlement.
#[utoipa::path(get, path = "/v1/events/{id}/sales", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::SalesReport),
    (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn sales(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::SalesReport>, ApiError> {
    Ok(Json(service::sales(&ctx, &principal, id).await?))
}

/// The event's revenue splits (its organizer): the defaults until set, frozen at the first sale.
#[utoipa::path(get, path = "/v1/events/{id}/splits", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::Splits)))]
pub async fn splits(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Splits>, ApiError> {
    Ok(Json(service::splits(&ctx, &principal, id).await?))
}

/// Set the event's revenue splits: basis points summing to exactly 10,000, before the first sale.
#[utoipa::path(put, path = "/v1/events/{id}/splits", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::SplitsRequest,
    responses((status = 200, body = dto::Splits),
              (status = 409, description = "`splits_frozen`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_splits(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::SplitsRequest>,
) -> Result<Json<dto::Splits>, ApiError> {
    Ok(Json(service::set_splits(&ctx, &principal, id, req.items).await?))
}

/// Create an attribution link for a creator or sponsor; orders placed with its code are attributed.
#[utoipa::path(post, path = "/v1/events/{id}/attribution-links", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::NewAttributionLink,
    responses((status = 201, body = dto::AttributionLink)))]
pub async fn add_attribution_link(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::NewAttributionLink>,
) -> Result<(StatusCode, Json<dto::AttributionLink>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::add_link(&ctx, &principal, id, req).await?)))
}

/// The event's attribution links and attributed orders (its organizer).
#[utoipa::path(get, path = "/v1/events/{id}/attribution-links", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::AttributionList)))]
pub async fn attributions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::AttributionList>, ApiError> {
    Ok(Json(service::attribution_list(&ctx, &principal, id).await?))
}

/// Approve or reject an attributed order (the event's organizer); approved ones are paid at settlement.
#[utoipa::path(post, path = "/v1/attributions/{order_id}/decision", tag = "ticketing", security(("bearer" = [])),
    params(("order_id" = OrderId, Path)), request_body = dto::Decision,
    responses((status = 200, body = dto::Attribution)))]
pub async fn decide_attribution(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(order_id): Path<OrderId>,
    Json(req): Json<dto::Decision>,
) -> Result<Json<dto::Attribution>, ApiError> {
    Ok(Json(service::decide(&ctx, &principal, order_id, &req.decision).await?))
}
