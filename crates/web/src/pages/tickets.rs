//! A fan's tickets, each with the QR code the door scans.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::AppContext;
use ticketing::model::TicketId;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::Session;

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
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct Tickets {
    layout: Layout,
    tickets: Vec<TicketCard>,
}

pub async fn mine(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/tickets") };
    let list = match ticketing::orders::service::my_tickets(&ctx, principal).await {
        Ok(list) => list,
        Err(err) => return super::error(&session, &err),
    };
    let mut conn = match ctx.db.acquire().await {
        Ok(conn) => conn,
        Err(err) => return super::error(&session, &err.into()),
    };
    // One read per event, however many tickets of it the fan holds.
    let mut events = std::collections::HashMap::new();
    for id in list.items.iter().map(|t| t.event_id).collect::<std::collections::BTreeSet<_>>() {
        events.insert(id, ticketing::event_summary(&mut conn, id.0).await.ok().flatten());
    }
    let mut cards = Vec::new();
    for t in list.items {
        let summary = events.get(&t.event_id).and_then(Option::as_ref);
        cards.push(TicketCard {
            id: t.id.to_string(),
            event_id: t.event_id.to_string(),
            event: summary.map(|e| e.title.clone()).unwrap_or_else(|| "An event".to_owned()),
            when: summary.map(|e| format::when(e.starts_at)).unwrap_or_default(),
            tier: t.tier_name,
            price: if t.price == 0 { "Free".to_owned() } else { format::money(t.price, &t.currency) },
            transferable: t.transferable && t.state == "valid" && t.checked_in_at.is_none(),
            state: t.state,
            code: t.code,
            checked_in: t.checked_in_at.map(format::when),
        });
    }
    page(StatusCode::OK, &Tickets { layout: Layout::new("My tickets", &session), tickets: cards })
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
