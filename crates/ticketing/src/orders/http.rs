//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json, idempotency};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

use super::{dto, service, together};
use crate::TicketingSettings;
use crate::model::{EventId, OrderId, TicketId};

/// Reserve tickets: held for the buyer for the hold period (15 minutes by default); the answer says
/// what is due. A free order is issued at once. With `"pay": "wallet"` the order is paid from the
/// buyer's wallet in the same request and the answer carries its tickets: the cheapest way to buy in a
/// hot on-sale (such purchases arriving together are bought in one transaction, each answered as its
/// own). An `Idempotency-Key` makes retries safe; a purchase sent with one is made in a transaction of
/// its own, its answer stored with it. For a second after a purchase found a tier sold out, the node
/// answers `sold_out` to orders for more than was left from memory; with an `Idempotency-Key` the
/// database always answers.
#[utoipa::path(post, path = "/v1/events/{id}/orders", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::NewOrder,
    responses((status = 201, body = dto::Order),
              (status = 403, description = "`pass_required`, `pass_invalid`, `pass_expired`, `email_not_verified`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`sold_out`, `not_on_sale`, `pass_used`, `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reserve(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<Settings>>,
    Extension(purchases): Extension<Arc<together::Purchases>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<EventId>,
    Json(req): Json<dto::NewOrder>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let sold_out = purchases.work().memory();
    let seller = service::Seller { secrets: &ctx.secrets, sold_out };
    // In a sold-out on-sale's crowd, those refused from memory never take a connection; and those
    // that waited for one while a purchase found the tier sold out are refused once they have it,
    // before any statement.
    let from_memory = idempotency::key_from(&headers)?.is_none();
    if from_memory {
        service::sold_out_from_memory(seller, &principal, id, &req, now)?;
        // Paid at once without a key: bought together with the purchases of the event arriving at the
        // same moment on this node, in one transaction (see `together`).
        if req.pay.as_deref() == Some("wallet") && req.attribution.is_none() {
            let order = purchases.ask(together::Ask::new(principal, id, req)?).await?;
            return Ok(idempotency::answered(StatusCode::CREATED, order));
        }
    }
    let mut conn = ctx.db.acquire().await?;
    if from_memory && let Some(refused) = sold_out.refusal(id, &req.items, sold_out.now()) {
        return Err(refused);
    }
    let route = format!("POST /v1/events/{id}/orders");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_on(&mut conn, request, StatusCode::CREATED, now, async |conn| match req.pay.as_deref() {
        None => Ok((service::reserve(conn, seller, &settings.ticketing, &principal, id, &req, now).await?, None)),
        Some("wallet") => {
            let (order, sold) = service::buy_now(conn, seller, &principal, id, &req, now).await?;
            Ok((order, Some(sold)))
        }
        Some(_) => Err(ApiError::invalid_field("pay", "invalid_value", "must be wallet (or absent, to pay later)")),
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
    let shop = service::Shop::of(&ctx, &settings.ledger);
    let route = format!("POST /v1/orders/{id}/pay");
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || service::charge_order(&shop, &principal, id, &req, key.as_deref(), now).await,
        async |conn, charged| {
            let payment = service::Payment { order: id, body: &req, retry_key: key.as_deref(), charged };
            service::pay(conn, &shop, &principal, payment, now).await
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
    Ok(Json(service::cancel(&ctx, &principal, id).await?))
}

/// An order of the caller.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = OrderId, Path)), responses((status = 200, body = dto::Order)))]
pub async fn order(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrderId>,
) -> Result<Json<dto::Order>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/v1/me/orders", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = Vec<dto::Order>)))]
pub async fn my_orders(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<dto::Order>>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal).await?))
}

/// The caller's tickets, newest first, with their codes and signed QR payloads. Cursor-paged.
#[utoipa::path(get, path = "/v1/me/tickets", tag = "ticketing", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<dto::Ticket>)))]
pub async fn my_tickets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<dto::Ticket>>, ApiError> {
    Ok(Json(service::my_tickets(&ctx, &principal, &page).await?))
}

/// A ticket: to its holder, or to the event's organizer.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = TicketId, Path)), responses((status = 200, body = dto::Ticket)))]
pub async fn ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<dto::Ticket>, ApiError> {
    Ok(Json(service::ticket(&ctx, &principal, id).await?))
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
    let ticket = service::ticket(&ctx, &principal, id).await?;
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
    let ticket = service::ticket(&ctx, &principal, id).await?;
    let png =
        crate::qr::png(&ticket.qr_payload, q.scale.unwrap_or(8)).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(image("image/png", png))
}

/// What the handlers need besides the application context.
pub struct Settings {
    pub ticketing: TicketingSettings,
    pub ledger: ledger::LedgerSettings,
}
