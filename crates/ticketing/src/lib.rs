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
