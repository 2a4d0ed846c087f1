//! Ticketing's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::auth::{AuthUser, MaybeAuthUser};
use platform::error::ProblemBody;
use platform::idempotency;
use platform::pagination::Page;
use platform::{ApiError, AppContext, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::TicketingSettings;
use crate::dto;
use crate::model::{EventId, OrderId, TicketId, TierId};
use crate::service::{aftersale, checkin, events, orders, profiles, settlement, tiers};

/// Create an event (a draft), organized by the caller or by one of their organizations.
#[utoipa::path(post, path = "/v1/events", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewEvent, responses((status = 201, body = dto::Event),
    (status = 404, description = "The organization does not exist or the caller is not in it", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewEvent>,
) -> Result<(StatusCode, Json<dto::Event>), ApiError> {
    Ok((StatusCode::CREATED, Json(events::create(&ctx, &principal, req).await?)))
}

/// Search published events: full text (ranked), category, tag, dates, city. Cursor-paged.
#[utoipa::path(get, path = "/v1/events", tag = "ticketing", params(dto::EventSearch),
    responses((status = 200, body = Page<dto::EventSummary>)))]
pub async fn search_events(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::EventSearch>,
) -> Result<Json<Page<dto::EventSummary>>, ApiError> {
    Ok(Json(events::search(&ctx, q).await?))
}

/// An event. Drafts are visible to their organizer only.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::Event), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn event(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(events::get(&ctx, principal.as_ref(), id).await?))
}

/// Change an event (its organizer).
#[utoipa::path(patch, path = "/v1/events/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::EventPatch, responses((status = 200, body = dto::Event)))]
pub async fn update_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::EventPatch>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(events::update(&ctx, &principal, id, req).await?))
}

/// Delete an event that has no tickets sold or reserved (a soft delete).
#[utoipa::path(delete, path = "/v1/events/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 204, description = "Deleted"),
    (status = 409, description = "`event_has_tickets`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<StatusCode, ApiError> {
    events::delete(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move an event through its lifecycle (see docs/ticketing.md for who may make which transition).
#[utoipa::path(post, path = "/v1/events/{id}/status", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::StatusChange,
    responses((status = 200, body = dto::Event),
              (status = 409, description = "`invalid_transition`, `event_not_over`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 403, description = "`transition_not_permitted`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_status(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::StatusChange>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(events::change_status(&ctx, &principal, id, req).await?))
}

/// The events the caller organizes, drafts included.
#[utoipa::path(get, path = "/v1/me/events", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = Vec<dto::EventSummary>)))]
pub async fn my_events(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<dto::EventSummary>>, ApiError> {
    Ok(Json(events::mine(&ctx, &principal).await?))
}

/// Add a ticket tier to an event.
#[utoipa::path(post, path = "/v1/events/{id}/tiers", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::TierRequest, responses((status = 201, body = dto::Tier)))]
pub async fn create_tier(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::TierRequest>,
) -> Result<(StatusCode, Json<dto::Tier>), ApiError> {
    Ok((StatusCode::CREATED, Json(tiers::save(&ctx, &principal, id, None, req).await?)))
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
    Ok(Json(tiers::save(&ctx, &principal, id, Some(tier_id), req).await?))
}

/// Reserve tickets: held for the buyer for the hold period (15 minutes by default); the answer says
/// what is due. A free order is issued at once. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/events/{id}/orders", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::NewOrder,
    responses((status = 201, body = dto::Order),
              (status = 409, description = "`sold_out`, `not_on_sale`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reserve(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<Settings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<EventId>,
    Json(req): Json<dto::NewOrder>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let route = format!("POST /v1/events/{id}/orders");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond(&ctx.db, request, StatusCode::CREATED, now, async |conn| {
        orders::reserve(conn, &ctx.secrets, &settings.ticketing, &principal, id, &req, now).await
    })
    .await
}

/// Pay a pending order (with a card, or from the wallet) and receive its tickets. Send an
/// `Idempotency-Key`: it also keys the card payment.
#[utoipa::path(post, path = "/v1/orders/{id}/pay", tag = "ticketing", security(("bearer" = [])),
    params(("id" = OrderId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::PayOrder,
    responses((status = 201, body = dto::Order),
              (status = 402, description = "`payment_failed`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`order_expired`, `order_not_pending`, `not_on_sale`, `insufficient_funds`, `payment_pending`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn pay(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<Settings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<OrderId>,
    Json(req): Json<dto::PayOrder>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let key = idempotency::key_from(&headers)?;
    let shop = orders::Shop::of(&ctx, &settings.ledger);
    let route = format!("POST /v1/orders/{id}/pay");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || orders::charge_order(&shop, &principal, id, &req, key.as_deref(), now).await,
        async |conn, charged| {
            let payment = orders::Payment { order: id, body: &req, retry_key: key.as_deref(), charged };
            orders::pay(conn, &shop, &principal, payment, now).await
        },
    )
    .await
}

/// Give up a pending order; its tickets go back on sale.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "ticketing", security(("bearer" = [])),
    params(("id" = OrderId, Path)), responses((status = 200, body = dto::Order)))]
pub async fn cancel_order(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrderId>,
) -> Result<Json<dto::Order>, ApiError> {
    Ok(Json(orders::cancel(&ctx, &principal, id).await?))
}

/// An order of the caller.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = OrderId, Path)), responses((status = 200, body = dto::Order)))]
pub async fn order(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrderId>,
) -> Result<Json<dto::Order>, ApiError> {
    Ok(Json(orders::get(&ctx, &principal, id).await?))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/v1/me/orders", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = Vec<dto::Order>)))]
pub async fn my_orders(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<dto::Order>>, ApiError> {
    Ok(Json(orders::mine(&ctx, &principal).await?))
}

/// The caller's tickets, with their codes and signed QR payloads.
#[utoipa::path(get, path = "/v1/me/tickets", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::TicketList)))]
pub async fn my_tickets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::TicketList>, ApiError> {
    Ok(Json(orders::my_tickets(&ctx, &principal).await?))
}

/// A ticket: to its holder, or to the event's organizer.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path)), responses((status = 200, body = dto::Ticket)))]
pub async fn ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<dto::Ticket>, ApiError> {
    Ok(Json(orders::ticket(&ctx, &principal, id).await?))
}

fn image(content_type: &'static str, body: Vec<u8>) -> Response {
    use axum::response::IntoResponse;
    let headers = [
        (axum::http::header::CONTENT_TYPE, content_type),
        // The code is its holder's secret: never kept in shared caches.
        (axum::http::header::CACHE_CONTROL, "private, no-store"),
    ];
    (headers, body).into_response()
}

/// The ticket's QR code as SVG (its holder, or the event's organizer).
#[utoipa::path(get, path = "/v1/tickets/{id}/qr.svg", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path)),
    responses((status = 200, description = "The QR code of the signed payload", content_type = "image/svg+xml", body = String)))]
pub async fn ticket_qr_svg(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Response, ApiError> {
    let ticket = orders::ticket(&ctx, &principal, id).await?;
    let svg = crate::qr::svg(&ticket.qr_payload).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(image("image/svg+xml", svg.into_bytes()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PngQuery {
    /// Pixels per module (1–32, default 8).
    pub scale: Option<u32>,
}

/// The ticket's QR code as PNG (its holder, or the event's organizer).
#[utoipa::path(get, path = "/v1/tickets/{id}/qr.png", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path), PngQuery),
    responses((status = 200, description = "The QR code of the signed payload", content_type = "image/png", body = Vec<u8>)))]
pub async fn ticket_qr_png(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Query(q): Query<PngQuery>,
) -> Result<Response, ApiError> {
    let ticket = orders::ticket(&ctx, &principal, id).await?;
    let png =
        crate::qr::png(&ticket.qr_payload, q.scale.unwrap_or(8)).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(image("image/png", png))
}

/// The event's public Ed25519 key, to verify ticket payloads offline.
#[utoipa::path(get, path = "/v1/events/{id}/checkin-key", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::CheckinKey)))]
pub async fn checkin_key(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::CheckinKey>, ApiError> {
    Ok(Json(events::checkin_key(&ctx, principal.as_ref(), id).await?))
}

/// Scan a ticket at the door: a code typed in or a QR payload. Always answers the outcome; only
/// `checked_in` lets the holder in.
#[utoipa::path(post, path = "/v1/checkin/scan", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::Scan, responses((status = 200, body = dto::ScanResult),
    (status = 404, description = "No such event, or the caller does not work its door", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn scan(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::Scan>,
) -> Result<Json<dto::ScanResult>, ApiError> {
    Ok(Json(checkin::scan(&ctx, &principal, req).await?))
}

/// Upload scans made offline; for each ticket the first scan wins. One result per scan, in order.
#[utoipa::path(post, path = "/v1/events/{id}/checkin/batch", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::ScanBatch, responses((status = 200, body = dto::BatchResult)))]
pub async fn scan_batch(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::ScanBatch>,
) -> Result<Json<dto::BatchResult>, ApiError> {
    Ok(Json(checkin::batch(&ctx, &principal, id, req.scans).await?))
}

/// Tickets sold and checked in, per tier (door staff and organizers).
#[utoipa::path(get, path = "/v1/events/{id}/attendance", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::Attendance)))]
pub async fn attendance(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Attendance>, ApiError> {
    Ok(Json(checkin::attendance(&ctx, &principal, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRequest {
    pub user_id: uuid::Uuid,
}

/// Let a user scan tickets at this event's door.
#[utoipa::path(post, path = "/v1/events/{id}/staff", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = StaffRequest, responses((status = 204, description = "Added")))]
pub async fn add_staff(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<StaffRequest>,
) -> Result<StatusCode, ApiError> {
    checkin::add_staff(&ctx, &principal, id, req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Event categories (a tree: `parent_id`), ordered for display.
#[utoipa::path(get, path = "/v1/event-categories", tag = "ticketing", responses((status = 200, body = dto::CategoryList)))]
pub async fn categories(State(ctx): State<AppContext>) -> Result<Json<dto::CategoryList>, ApiError> {
    Ok(Json(events::categories(&ctx).await?))
}

/// Add an event category (admins).
#[utoipa::path(post, path = "/v1/event-categories", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewCategory, responses((status = 201, body = dto::Category)))]
pub async fn add_category(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewCategory>,
) -> Result<(StatusCode, Json<dto::Category>), ApiError> {
    Ok((StatusCode::CREATED, Json(events::add_category(&ctx, &principal, req).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TagQuery {
    /// Tags starting with this text.
    pub prefix: Option<String>,
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/v1/event-tags", tag = "ticketing", params(TagQuery),
    responses((status = 200, body = dto::TagList)))]
pub async fn tags(State(ctx): State<AppContext>, Query(q): Query<TagQuery>) -> Result<Json<dto::TagList>, ApiError> {
    Ok(Json(events::tags(&ctx, q.prefix.as_deref()).await?))
}

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
        aftersale::refund(conn, &principal, id, &req, now).await
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
    Ok((StatusCode::CREATED, Json(aftersale::offer(&ctx, &principal, id, req).await?)))
}

/// Transfers offered to and by the caller.
#[utoipa::path(get, path = "/v1/me/transfers", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::TransferList)))]
pub async fn my_transfers(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::TransferList>, ApiError> {
    Ok(Json(aftersale::transfers(&ctx, &principal).await?))
}

/// Decide on a transfer: `accept` or `decline` (its recipient), `cancel` (its sender).
#[utoipa::path(post, path = "/v1/transfers/{id}/{decision}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("decision" = String, Path, description = "accept, decline or cancel")),
    responses((status = 200, body = dto::Transfer),
              (status = 409, description = "`transfer_decided`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide_transfer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, decision)): Path<(uuid::Uuid, String)>,
) -> Result<Json<dto::Transfer>, ApiError> {
    Ok(Json(aftersale::decide(&ctx, &principal, id, &decision).await?))
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
    Ok((StatusCode::CREATED, Json(aftersale::list(&ctx, &principal, id, req.price).await?)))
}

/// Withdraw a resale listing.
#[utoipa::path(post, path = "/v1/listings/{id}/cancel", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = dto::Listing)))]
pub async fn cancel_listing(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<dto::Listing>, ApiError> {
    Ok(Json(aftersale::unlist(&ctx, &principal, id).await?))
}

/// Tickets of an event listed for resale, cheapest first.
#[utoipa::path(get, path = "/v1/events/{id}/listings", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::ListingList)))]
pub async fn event_listings(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::ListingList>, ApiError> {
    Ok(Json(aftersale::listings(&ctx, principal.as_ref(), id).await?))
}

/// Buy a listed ticket (card or wallet); it is re-issued to the buyer with a new code. Send an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/listings/{id}/buy", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::PayOrder,
    responses((status = 201, body = dto::Ticket),
              (status = 409, description = "`listing_closed`, `own_listing`, `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn buy_listing(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<Settings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<dto::PayOrder>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let key = idempotency::key_from(&headers)?;
    let shop = orders::Shop::of(&ctx, &settings.ledger);
    let route = format!("POST /v1/listings/{id}/buy");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || aftersale::charge_listing(&shop, &principal, id, &req, key.as_deref(), now).await,
        async |conn, charged| {
            let purchase = aftersale::Purchase { listing: id, how: &req, retry_key: key.as_deref(), charged };
            aftersale::buy(conn, &shop, &settings.ticketing, &principal, purchase, now).await
        },
    )
    .await
}

/// Verify the event's ticket chain: every issue, transfer, resale, refund and check-in, unaltered and
/// none missing.
#[utoipa::path(get, path = "/v1/events/{id}/ticket-chain/verify", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = crate::chain::Verification)))]
pub async fn verify_chain(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<crate::chain::Verification>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    crate::service::visible_event(&mut conn, principal.as_ref(), id, false).await?;
    Ok(Json(crate::chain::verify(&mut conn, id).await?))
}

/// The event's revenue splits (its organizer): the defaults until set, frozen at the first sale.
#[utoipa::path(get, path = "/v1/events/{id}/splits", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::Splits)))]
pub async fn splits(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Splits>, ApiError> {
    Ok(Json(settlement::splits(&ctx, &principal, id).await?))
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
    Ok(Json(settlement::set_splits(&ctx, &principal, id, req.items).await?))
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
    Ok((StatusCode::CREATED, Json(settlement::add_link(&ctx, &principal, id, req).await?)))
}

/// The event's attribution links and attributed orders (its organizer).
#[utoipa::path(get, path = "/v1/events/{id}/attribution-links", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::AttributionList)))]
pub async fn attributions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::AttributionList>, ApiError> {
    Ok(Json(settlement::attribution_list(&ctx, &principal, id).await?))
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
    Ok(Json(settlement::decide(&ctx, &principal, order_id, &req.decision).await?))
}

/// Register a blockchain wallet address (Stellar; the checksum is checked). The first of a network is
/// its primary.
#[utoipa::path(post, path = "/v1/me/wallets", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewWallet, responses((status = 201, body = dto::Wallet),
    (status = 409, description = "`wallet_exists`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewWallet>,
) -> Result<(StatusCode, Json<dto::Wallet>), ApiError> {
    Ok((StatusCode::CREATED, Json(profiles::add_wallet(&ctx, &principal, req).await?)))
}

/// The caller's wallet addresses.
#[utoipa::path(get, path = "/v1/me/wallets", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::WalletList)))]
pub async fn wallets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::WalletList>, ApiError> {
    Ok(Json(profiles::wallets(&ctx, &principal).await?))
}

/// Make an address the primary of its network.
#[utoipa::path(post, path = "/v1/me/wallets/{id}/primary", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = dto::Wallet)))]
pub async fn primary_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<dto::Wallet>, ApiError> {
    Ok(Json(profiles::make_primary(&ctx, &principal, id).await?))
}

/// Remove a wallet address.
#[utoipa::path(delete, path = "/v1/me/wallets/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "Removed")))]
pub async fn remove_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    profiles::remove_wallet(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's fan profile, with loyalty points earned per attended event.
#[utoipa::path(get, path = "/v1/me/profiles/fan", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::FanProfile)))]
pub async fn fan_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::FanProfile>, ApiError> {
    Ok(Json(profiles::fan(&ctx, &principal).await?))
}

/// Set the caller's fan profile (favorite genres, interests).
#[utoipa::path(put, path = "/v1/me/profiles/fan", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::FanProfile, responses((status = 200, body = dto::FanProfile)))]
pub async fn set_fan_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::FanProfile>,
) -> Result<Json<dto::FanProfile>, ApiError> {
    Ok(Json(profiles::set_fan(&ctx, &principal, req).await?))
}

/// The caller's creator profile.
#[utoipa::path(get, path = "/v1/me/profiles/creator", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::CreatorProfile)))]
pub async fn creator_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::CreatorProfile>, ApiError> {
    Ok(Json(profiles::creator(&ctx, &principal).await?))
}

/// Set the caller's creator profile (content types, rates, portfolio).
#[utoipa::path(put, path = "/v1/me/profiles/creator", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::CreatorProfile, responses((status = 200, body = dto::CreatorProfile)))]
pub async fn set_creator_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::CreatorProfile>,
) -> Result<Json<dto::CreatorProfile>, ApiError> {
    Ok(Json(profiles::set_creator(&ctx, &principal, req).await?))
}

/// The caller's sponsor profile.
#[utoipa::path(get, path = "/v1/me/profiles/sponsor", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::SponsorProfile)))]
pub async fn sponsor_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::SponsorProfile>, ApiError> {
    Ok(Json(profiles::sponsor(&ctx, &principal).await?))
}

/// Set the caller's sponsor profile (brand, industry, budget, target audience).
#[utoipa::path(put, path = "/v1/me/profiles/sponsor", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::SponsorProfile, responses((status = 200, body = dto::SponsorProfile)))]
pub async fn set_sponsor_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::SponsorProfile>,
) -> Result<Json<dto::SponsorProfile>, ApiError> {
    Ok(Json(profiles::set_sponsor(&ctx, &principal, req).await?))
}

/// What the handlers need besides the application context.
pub struct Settings {
    pub ticketing: TicketingSettings,
    pub ledger: ledger::LedgerSettings,
}
