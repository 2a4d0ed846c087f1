//! Live booking: the directory of artists, venues and promoters, and bookings negotiated in rounds of
//! proposals with turns and deadlines, under a server-enforced lifecycle. Commission comes from the
//! artist's category and the promoter's trust, fixed at agreement. See docs/booking.md.

pub mod calendar;
pub mod commission;
pub mod contract;
pub mod demo;
pub mod dto;
pub mod error;
mod http;
pub mod model;
pub mod repo;
pub mod service;
pub mod state;

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Booking's settings.
#[derive(Debug, Clone)]
pub struct BookingSettings {
    /// Whether an admin reviews a contract after both signatures before the booking is confirmed.
    pub admin_review: bool,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self { admin_review: true }
    }
}

pub fn router(settings: BookingSettings, ledger: ledger::LedgerSettings) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(http::create_artist, http::search_artists))
        .routes(routes!(http::artist, http::update_artist))
        .routes(routes!(http::set_category))
        .routes(routes!(http::category_history))
        .routes(routes!(http::create_venue, http::search_venues))
        .routes(routes!(http::venue, http::update_venue))
        .routes(routes!(http::create_promoter))
        .routes(routes!(http::promoter, http::update_promoter))
        .routes(routes!(http::review_promoter))
        .routes(routes!(http::offer))
        .routes(routes!(http::my_bookings))
        .routes(routes!(http::booking))
        .routes(routes!(http::propose))
        .routes(routes!(http::accept))
        .routes(routes!(http::decline))
        .routes(routes!(http::open_call))
        .routes(routes!(http::apply))
        .routes(routes!(http::contract))
        .routes(routes!(http::contract_pdf))
        .routes(routes!(http::sign))
        .routes(routes!(http::edit_contract))
        .routes(routes!(http::review_contract))
        .routes(routes!(http::pay_booking))
        .routes(routes!(http::complete_booking))
        .routes(routes!(http::cancel_booking))
        .routes(routes!(http::dispute_booking))
        .routes(routes!(http::resolve_dispute))
        .routes(routes!(http::artist_calendar))
        .routes(routes!(http::venue_calendar))
        .routes(routes!(http::calendar_feed))
        .routes(routes!(http::place_hold, http::holds))
        .routes(routes!(http::release_hold))
        .routes(routes!(http::challenge_hold))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
        .layer(axum::Extension(std::sync::Arc::new(ledger)))
}

/// Registers booking's jobs.
pub fn register(registry: &mut platform::jobs::Registry) {
    service::bookings::register(registry);
    service::contracts::register(registry);
    service::money::register(registry);
    service::holds::register(registry);
}
