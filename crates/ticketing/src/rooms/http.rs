//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::auth::{AuthUser, MaybeAuthUser};
use platform::error::ProblemBody;
use platform::stream::Hub;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};
use crate::model::EventId;

/// The event's waiting room: its state, opening, rate and line; its organizer also sees how the sale is
/// being served.
#[utoipa::path(get, path = "/v1/events/{id}/waiting-room", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::WaitingRoom), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn waiting_room(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::WaitingRoom>, ApiError> {
    Ok(Json(service::get(&ctx, principal.as_ref(), id).await?))
}

/// Put the event's on-sale behind a waiting room, or change it (its organizer): the opening until the
/// room opens, the rate, the purchase window and the limit per client address at any time before it
/// closes.
#[utoipa::path(put, path = "/v1/events/{id}/waiting-room", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::RoomSettings,
    responses((status = 200, body = dto::WaitingRoom),
              (status = 409, description = "`room_opened`, `room_closed`, `not_on_sale`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn configure_waiting_room(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::RoomSettings>,
) -> Result<Json<dto::WaitingRoom>, ApiError> {
    Ok(Json(service::configure(&ctx, &principal, id, req).await?))
}

/// Remove the waiting room (its organizer), before it opens or once it has closed.
#[utoipa::path(delete, path = "/v1/events/{id}/waiting-room", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)),
    responses((status = 204, description = "Removed"),
              (status = 409, description = "`room_opened`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_waiting_room(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<StatusCode, ApiError> {
    service::remove(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a place in the waiting room (a verified account; one place each). Before the opening the place
/// is drawn at random when the room opens; after it, it is the next at the end. Joining again answers
/// the same place (200).
#[utoipa::path(post, path = "/v1/events/{id}/waiting-room/places", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)),
    responses((status = 201, body = dto::Place), (status = 200, description = "The place the caller holds already", body = dto::Place),
              (status = 409, description = "`room_closed`, `not_on_sale`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`address_limit`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn join_waiting_room(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Response, ApiError> {
    let (place, created) = service::join(&ctx, &principal, id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(place)).into_response())
}

/// The caller's place: position, places ahead, the estimated wait, and the pass once admitted.
#[utoipa::path(get, path = "/v1/events/{id}/waiting-room/places/me", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)),
    responses((status = 200, body = dto::Place), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn my_place(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Place>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal, id).await?))
}

/// Server-Sent Events: the caller's place as it changes (`event: place`): at the draw, as the line
/// moves, at admission (with the pass), and when the room closes, which everyone hears at once.
#[utoipa::path(get, path = "/v1/events/{id}/waiting-room/stream", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
              (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn follow_waiting_room(
    State(ctx): State<AppContext>,
    Extension(hub): Extension<Arc<Hub>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Response, ApiError> {
    Ok(service::follow(&ctx, &hub, &principal, id).await?.into_response())
}
