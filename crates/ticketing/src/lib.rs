//! Ticketing: events with categories and tags, ticket tiers, orders that hold tickets until paid and
//! never oversell, tickets with signed codes a door scanner verifies offline, and check-in. Money goes
//! through the ledger: a sale moves the buyer's payment into the event's escrow account. See
//! docs/ticketing.md.

pub mod chain;
pub mod demo;
pub mod dto;
pub mod error;
mod http;
pub mod model;
pub mod qr;
pub mod repo;
pub mod service;
pub mod signing;
pub mod state;

use std::sync::Arc;

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The ledger entry kinds of ticket money (an event's escrow account).
pub mod entry_kinds {
    /// A buyer's payment moved into the event's escrow.
    pub const SALE: &str = "ticket.sale";
    /// A refund out of the event's escrow.
    pub const REFUND: &str = "ticket.refund";
}

/// What another domain may know of a ticketed event.
#[derive(Debug, Clone)]
pub struct EventSummary {
    pub id: uuid::Uuid,
    pub organizer: identity::party::Party,
    pub title: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

/// A live (not deleted) event, for other domains.
pub async fn event_summary(conn: &mut sqlx::PgConnection, id: uuid::Uuid) -> sqlx::Result<Option<EventSummary>> {
    Ok(repo::event(conn, model::EventId(id), false).await?.filter(|e| e.deleted_at.is_none()).map(|e| EventSummary {
        id: e.id.0,
        organizer: e.organizer(),
        title: e.title,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
    }))
}

/// An event's ticket money in `currency`: its escrow account, and what its sales brought in net of
/// refunds.
pub async fn ticket_money(
    conn: &mut sqlx::PgConnection,
    event: uuid::Uuid,
    currency: &ledger::model::Currency,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ledger::repo::Account, i64), ledger::error::LedgerError> {
    let escrow =
        ledger::service::account(conn, ledger::model::Owner::Event(event), ledger::model::kinds::ESCROW, currency, now)
            .await?;
    let net = ledger::service::net_flow(conn, escrow.id, &[entry_kinds::SALE, entry_kinds::REFUND]).await?;
    Ok((escrow, net))
}

/// Ticketing's settings.
#[derive(Debug, Clone)]
pub struct TicketingSettings {
    /// How long an unpaid order holds its tickets.
    pub hold: chrono::Duration,
    /// The platform's fee on a resale, in basis points of its price.
    pub resale_fee_bps: u32,
}

impl Default for TicketingSettings {
    fn default() -> Self {
        Self { hold: chrono::Duration::minutes(15), resale_fee_bps: 500 }
    }
}

/// Ticketing's routes; paying for tickets goes through the ledger with `ledger`'s providers.
pub fn router(settings: TicketingSettings, ledger: ledger::LedgerSettings) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(http::create_event, http::search_events))
        .routes(routes!(http::event, http::update_event, http::delete_event))
        .routes(routes!(http::change_status))
        .routes(routes!(http::my_events))
        .routes(routes!(http::create_tier))
        .routes(routes!(http::update_tier))
        .routes(routes!(http::reserve))
        .routes(routes!(http::pay))
        .routes(routes!(http::cancel_order))
        .routes(routes!(http::order))
        .routes(routes!(http::my_orders))
        .routes(routes!(http::my_tickets))
        .routes(routes!(http::ticket))
        .routes(routes!(http::ticket_qr_svg))
        .routes(routes!(http::ticket_qr_png))
        .routes(routes!(http::checkin_key))
        .routes(routes!(http::scan))
        .routes(routes!(http::scan_batch))
        .routes(routes!(http::attendance))
        .routes(routes!(http::add_staff))
        .routes(routes!(http::categories, http::add_category))
        .routes(routes!(http::tags))
        .routes(routes!(http::refund_ticket))
        .routes(routes!(http::offer_transfer))
        .routes(routes!(http::my_transfers))
        .routes(routes!(http::decide_transfer))
        .routes(routes!(http::list_ticket))
        .routes(routes!(http::cancel_listing))
        .routes(routes!(http::event_listings))
        .routes(routes!(http::buy_listing))
        .routes(routes!(http::verify_chain))
        .routes(routes!(http::splits, http::set_splits))
        .routes(routes!(http::add_attribution_link, http::attributions))
        .routes(routes!(http::decide_attribution))
        .routes(routes!(http::add_wallet, http::wallets))
        .routes(routes!(http::primary_wallet))
        .routes(routes!(http::remove_wallet))
        .routes(routes!(http::fan_profile, http::set_fan_profile))
        .routes(routes!(http::creator_profile, http::set_creator_profile))
        .routes(routes!(http::sponsor_profile, http::set_sponsor_profile))
        .layer(axum::Extension(Arc::new(http::Settings { ticketing: settings, ledger })))
}

/// Registers ticketing's jobs.
pub fn register(registry: &mut platform::jobs::Registry) {
    service::orders::register(registry);
    service::events::register(registry);
    service::aftersale::register(registry);
    service::settlement::register(registry);
}
