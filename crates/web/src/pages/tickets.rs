//! A fan's tickets, each with the QR code the door scans: given away, put up for resale within the
//! organizer's cap (and withdrawn), and, once refunded, shown with what came back to the wallet.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::pagination::PageParams;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use ticketing::model::TicketId;
use uuid::Uuid;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// Tickets on one page of the list (newest first; older ones follow a link).
const TICKETS_PER_PAGE: u32 = 50;

/// A ticket as the list shows it.
pub struct TicketCard {
    pub id: String,
    pub event_id: String,
    pub event: String,
    pub when: String,
    pub tier: String,
    pub price: String,
    pub state: String,
    pub code: String,
    pub checked_in: Option<String>,
    /// Whether its holder may give it away now.
    pub transferable: bool,
    /// Whether it may be put up for resale now, and for at most how much (as typed).
    pub resale_cap: Option<String>,
    /// Its active resale listing: (listing id, price).
    pub listed: Option<(String, String)>,
    /// What a refund gave back.
    pub refunded: Option<String>,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct Tickets {
    layout: Layout,
    tickets: Vec<TicketCard>,
    /// The next (older) page's link.
    next: Option<String>,
    error: Option<String>,
}

/// `?cursor=`: the page of older tickets to show.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TicketsQuery {
    cursor: Option<String>,
}

pub async fn mine(State(ctx): State<AppContext>, session: Session, Query(q): Query<TicketsQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin("/me/tickets");
    }
    match tickets_page(&ctx, &session, q.cursor, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

async fn tickets_page(
    ctx: &AppContext,
    session: &Session,
    cursor: Option<String>,
    error: Option<String>,
) -> Result<Tickets, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such page."))?;
    let params = PageParams { limit: Some(TICKETS_PER_PAGE), cursor };
    let list = ticketing::orders::service::my_tickets(ctx, principal, &params).await?;
    let next = list.next_cursor.as_deref().map(|c| format!("/me/tickets?cursor={c}"));
    // One read per event (with its resale cap and listings), however many tickets of it the fan holds.
    let mut events = std::collections::HashMap::new();
    let mut listings = std::collections::HashMap::new();
    for id in list.items.iter().map(|t| t.event_id).collect::<std::collections::BTreeSet<_>>() {
        let event = ticketing::events::service::get(ctx, Some(principal), id).await.ok();
        if event.is_some() {
            for l in ticketing::aftersale::service::listings(ctx, Some(principal), id).await?.items {
                listings.insert(l.ticket_id, l);
            }
        }
        events.insert(id, event);
    }
    let mut cards = Vec::new();
    for t in list.items {
        let summary = events.get(&t.event_id).and_then(Option::as_ref);
        let listing = listings.get(&t.id);
        let usable = t.state == "valid" && t.checked_in_at.is_none();
        let cap = summary.map(|e| i128::from(t.price) * i128::from(e.resale_cap_bps) / 10_000);
        cards.push(TicketCard {
            resale_cap: cap
                .filter(|_| usable && t.resaleable && listing.is_none())
                .map(|c| format::plain(i64::try_from(c).unwrap_or(i64::MAX), &t.currency)),
            listed: listing.map(|l| (l.id.to_string(), format::money(l.price, &l.currency))),
            refunded: (t.state == "refunded")
                .then(|| format!("Refunded to your wallet ({})", format::money(t.price, &t.currency))),
            id: t.id.to_string(),
            event_id: t.event_id.to_string(),
            event: summary.map(|e| e.title.clone()).unwrap_or_else(|| "An event".to_owned()),
            when: summary.map(|e| format::when(e.starts_at)).unwrap_or_default(),
            tier: t.tier_name,
            price: if t.price == 0 { "Free".to_owned() } else { format::money(t.price, &t.currency) },
            transferable: t.transferable && usable && listing.is_none(),
            state: t.state,
            code: t.code,
            checked_in: t.checked_in_at.map(format::when),
        });
    }
    Ok(Tickets { layout: Layout::new("My tickets", session), tickets: cards, next, error })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SellForm {
    price: String,
}

/// Puts a ticket up for resale at a price within the organizer's cap.
pub async fn sell(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<TicketId>,
    Form(form): Form<SellForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/tickets") };
    let result = async {
        let ticket = ticketing::orders::service::ticket(&ctx, principal, id).await?;
        let price = format::parse_money(&form.price, &ticket.currency).ok_or_else(|| {
            ApiError::invalid_field("price", "invalid_format", "must be an amount such as 25 or 25.50")
        })?;
        ticketing::aftersale::service::list(&ctx, principal, id, price).await
    }
    .await;
    after(&ctx, &session, result, "Your ticket is up for resale.").await
}

#[derive(Deserialize, Default)]
pub struct Empty {}

/// Withdraws the fan's resale listing.
pub async fn withdraw(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<Uuid>,
    Form(_): Form<Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/tickets") };
    let result = ticketing::aftersale::service::unlist(&ctx, principal, id).await;
    after(&ctx, &session, result, "Your ticket is no longer for resale.").await
}

/// Back to the tickets, or the tickets with what went wrong on top.
async fn after<T>(ctx: &AppContext, session: &Session, result: Result<T, ApiError>, message: &str) -> Response {
    match result {
        Ok(_) => super::done("/me/tickets", message),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let message = err
                .field_errors()
                .first()
                .map_or_else(|| err.detail().to_owned(), |e| format!("The price {}.", e.message));
            match tickets_page(ctx, session, None, Some(message)).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(session, &other),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

/// The ticket's QR code (SVG), for its holder only.
pub async fn qr(State(ctx): State<AppContext>, session: Session, Path(id): Path<TicketId>) -> Response {
    let Some(principal) = &session.principal else { return StatusCode::NOT_FOUND.into_response() };
    match ticketing::orders::service::ticket(&ctx, principal, id).await {
        Ok(ticket) => match ticketing::qr::svg(&ticket.qr_payload) {
            Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "private, no-store")], svg)
                .into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Err(err) => err.status().into_response(),
    }
}
