//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{PayRequest, Resolution};
use super::service;
use crate::model::BookingId;

/// Pay what is due (the deposit of a confirmed booking, the balance after it) from the promoter's wallet
/// or by card. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/bookings/{id}/pay", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = PayRequest,
    responses((status = 201, body = crate::bookings::dto::Booking),
              (status = 409, description = "`nothing_due`, `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn pay_booking(
    State(ctx): State<AppContext>,
    axum::Extension(ledger_settings): axum::Extension<std::sync::Arc<ledger::LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<BookingId>,
    Json(req): Json<PayRequest>,
) -> Result<axum::response::Response, ApiError> {
    let now = ctx.clock.now();
    let key = platform::idempotency::key_from(&headers)?;
    let payment = || service::Payment { booking: id, body: &req, retry_key: key.as_deref() };
    let route = format!("POST /v1/bookings/{id}/pay");
    let scope = principal.user_id.to_string();
    let request = platform::idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    platform::idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || service::charge(&ctx, &ledger_settings, &principal, &payment(), now).await,
        async |conn, ()| service::pay(conn, &principal, payment(), now).await,
    )
    .await
}

/// Mark a scheduled booking completed after its show (the organizer); the escrow is released.
#[utoipa::path(post, path = "/v1/bookings/{id}/complete", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = crate::bookings::dto::Booking),
    (status = 409, description = "`show_not_over`, `invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn complete_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<crate::bookings::dto::Booking>, ApiError> {
    Ok(Json(service::complete(&ctx, &principal, id).await?))
}

/// Cancel a booking past agreement: the cancelling side's penalty applies by the days left; the rest is
/// refunded.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = crate::bookings::dto::Reason, responses((status = 200, body = crate::bookings::dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<crate::bookings::dto::Reason>,
) -> Result<Json<crate::bookings::dto::Booking>, ApiError> {
    Ok(Json(service::cancel_confirmed(&ctx, &principal, id, &req.reason).await?))
}

/// Dispute a booking whose money is in escrow (either side); it is frozen until an admin decides.
#[utoipa::path(post, path = "/v1/bookings/{id}/dispute", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = crate::bookings::dto::Reason, responses((status = 200, body = crate::bookings::dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn dispute_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<crate::bookings::dto::Reason>,
) -> Result<Json<crate::bookings::dto::Booking>, ApiError> {
    Ok(Json(service::dispute(&ctx, &principal, id, &req.reason).await?))
}

/// Resolve a dispute (admins): release to the artist, refund the organizer, or split.
#[utoipa::path(post, path = "/v1/bookings/{id}/resolution", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = Resolution, responses((status = 200, body = crate::bookings::dto::Booking)))]
pub async fn resolve_dispute(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<Resolution>,
) -> Result<Json<crate::bookings::dto::Booking>, ApiError> {
    Ok(Json(service::resolve(&ctx, &principal, id, req).await?))
}
