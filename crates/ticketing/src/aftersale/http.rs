//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::auth::{AuthUser, MaybeAuthUser};
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json, idempotency};
use std::sync::Arc;

use super::{dto, service};
use crate::model::{EventId, TicketId};
use crate::orders::http::Settings;

/// Refund all or part of a ticket to its holder's wallet (the event's organizer). Refused for tiers that
/// are not refundable, unless the event is cancelled. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/tickets/{id}/refund", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::RefundRequest,
    responses((status = 201, body = dto::Refund),
              (status = 409, description = "`already_refunded`, `not_refundable`, `event_settled`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn refund_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<TicketId>,
    Json(req): Json<dto::RefundRequest>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let route = format!("POST /v1/tickets/{id}/refund");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond(&ctx.db, request, StatusCode::CREATED, now, async |conn| {
        service::refund(conn, &principal, id, &req, now).await
    })
    .await
}

/// Offer a ticket to someone (by email or user id); it becomes theirs when they accept, with a new code.
#[utoipa::path(post, path = "/v1/tickets/{id}/transfers", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = dto::TransferRequest,
    responses((status = 201, body = dto::Transfer),
              (status = 409, description = "`not_transferable`, `ticket_busy`, `ticket_not_valid`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn offer_transfer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<dto::TransferRequest>,
) -> Result<(StatusCode, Json<dto::Transfer>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::offer(&ctx, &principal, id, req).await?)))
}

/// Transfers offered to and by the caller.
#[utoipa::path(get, path = "/v1/me/transfers", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::TransferList)))]
pub async fn my_transfers(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::TransferList>, ApiError> {
    Ok(Json(service::transfers(&ctx, &principal).await?))
}

/// Decide on a transfer: `accept` or `decline` (its recipient), `cancel` (its sender).
#[utoipa::path(post, path = "/v1/transfers/{id}/{decision}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("decision" = String, Path, description = "accept, decline or cancel")),
    responses((status = 200, body = dto::Transfer),
              (status = 409, description = "`transfer_decided`, `buyer_limit`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide_transfer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, decision)): Path<(uuid::Uuid, String)>,
) -> Result<Json<dto::Transfer>, ApiError> {
    Ok(Json(service::decide(&ctx, &principal, id, &decision).await?))
}

/// List a ticket for resale, at most at its face value times the event's resale cap.
#[utoipa::path(post, path = "/v1/tickets/{id}/listings", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = dto::ListingRequest,
    responses((status = 201, body = dto::Listing),
              (status = 409, description = "`not_resaleable`, `ticket_busy`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn list_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<dto::ListingRequest>,
) -> Result<(StatusCode, Json<dto::Listing>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::list(&ctx, &principal, id, req.price).await?)))
}

/// Withdraw a resale listing.
#[utoipa::path(post, path = "/v1/listings/{id}/cancel", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = dto::Listing)))]
pub async fn cancel_listing(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<dto::Listing>, ApiError> {
    Ok(Json(service::unlist(&ctx, &principal, id).await?))
}

/// Tickets of an event listed for resale, cheapest first.
#[utoipa::path(get, path = "/v1/events/{id}/listings", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::ListingList)))]
pub async fn event_listings(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::ListingList>, ApiError> {
    Ok(Json(service::listings(&ctx, principal.as_ref(), id).await?))
}

/// Buy a listed ticket (card or wallet); it is re-issued to the buyer with a new code. Send an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/listings/{id}/buy", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = crate::orders::dto::PayOrder,
    responses((status = 201, body = crate::orders::dto::Ticket),
              (status = 409, description = "`listing_closed`, `own_listing`, `insufficient_funds`, `buyer_limit`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn buy_listing(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<Settings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<crate::orders::dto::PayOrder>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let key = idempotency::key_from(&headers)?;
    let shop = crate::orders::service::Shop::of(&ctx, &settings.ledger);
    let route = format!("POST /v1/listings/{id}/buy");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || service::charge_listing(&shop, &principal, id, &req, key.as_deref(), now).await,
        async |conn, charged| {
            let purchase = service::Purchase { listing: id, how: &req, retry_key: key.as_deref(), charged };
            service::buy(conn, &shop, &settings.ticketing, &principal, purchase, now).await
        },
    )
    .await
}
