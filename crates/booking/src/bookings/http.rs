//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};
use crate::model::BookingId;

/// Offer an artist a booking (→ offered; the artist answers within 72 hours).
#[utoipa::path(post, path = "/v1/bookings", tag = "booking", security(("bearer" = [])),
    request_body = dto::Offer, responses((status = 201, body = dto::Booking)))]
pub async fn offer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::Offer>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::offer(&ctx, &principal, req).await?)))
}

/// The caller's bookings, as artist or organizer, latest show first (cursor paging).
#[utoipa::path(get, path = "/v1/me/bookings", tag = "booking", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = dto::BookingList)))]
pub async fn my_bookings(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(page): Query<PageParams>,
) -> Result<Json<dto::BookingList>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal, &page).await?))
}

/// What waits for staff (admins): fully signed contracts to review and disputes to resolve, oldest first.
#[utoipa::path(get, path = "/v1/admin/bookings", tag = "booking", security(("bearer" = [])),
    responses((status = 200, body = dto::BookingList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn staff_queue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::BookingList>, ApiError> {
    Ok(Json(service::awaiting_staff(&ctx, &principal).await?))
}

/// A booking, with its proposals and what the caller may do next.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = dto::Booking)))]
pub async fn booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Propose terms (a counter-offer): only the side whose turn it is, at most three proposals.
#[utoipa::path(post, path = "/v1/bookings/{id}/proposals", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Terms,
    responses((status = 201, body = dto::Booking),
              (status = 409, description = "`not_your_turn`, `no_more_rounds`, `invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn propose(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Terms>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::propose(&ctx, &principal, id, req).await?)))
}

/// Accept the other side's last proposal (→ contracting); the terms and commission are fixed.
#[utoipa::path(post, path = "/v1/bookings/{id}/accept", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)),
    responses((status = 200, body = dto::Booking),
              (status = 409, description = "`not_your_turn`, `nothing_to_accept`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn accept(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(service::accept(&ctx, &principal, id).await?))
}

/// Walk away from a negotiation (either side).
#[utoipa::path(post, path = "/v1/bookings/{id}/decline", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Reason, responses((status = 200, body = dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decline(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Reason>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(service::decline(&ctx, &principal, id, &req.reason).await?))
}

/// Open a ticketed event for artists' applications.
#[utoipa::path(put, path = "/v1/events/{id}/open-call", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = dto::OpenCall, responses((status = 204, description = "Open")))]
pub async fn open_call(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<dto::OpenCall>,
) -> Result<StatusCode, ApiError> {
    service::open_call(&ctx, &principal, id, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Apply to play an event open for applications (→ inquiry; the organizer proposes first).
#[utoipa::path(post, path = "/v1/events/{id}/applications", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = dto::Application,
    responses((status = 201, body = dto::Booking),
              (status = 409, description = "`not_open`, `already_applied`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn apply(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<dto::Application>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::apply(&ctx, &principal, id, req).await?)))
}
