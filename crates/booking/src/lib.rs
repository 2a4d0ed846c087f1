//! Live booking: the directory of artists, venues and promoters, and bookings negotiated in rounds of
//! proposals with turns and deadlines, under a server-enforced lifecycle. Commission comes from the
//! artist's category and the promoter's trust, fixed at agreement. See docs/booking.md.

pub mod bookings;
pub mod calendar;
pub mod calendars;
pub mod commission;
pub mod contract;
pub mod contracts;
pub mod demo;
pub mod error;
pub mod holds;
pub mod model;
pub mod money;
pub mod profiles;
pub mod state;

use identity::auth::Principal;
use platform::discussion::Discussion;
use platform::{ApiError, AppContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// For the thread attached to a booking: whoever may see the booking (either side's people, and
/// admins) takes part, and both sides' people are told of its messages. `None` for anyone else.
pub async fn discussion(
    conn: &mut sqlx::PgConnection,
    principal: &Principal,
    id: uuid::Uuid,
) -> Result<Option<Discussion>, ApiError> {
    let loaded = match bookings::service::load(conn, principal, model::BookingId(id), false).await {
        Ok(loaded) => loaded,
        Err(err) if err.status() == axum::http::StatusCode::NOT_FOUND => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut people = identity::party::people_to_notify(conn, loaded.artist.owner()).await?;
    people.extend(identity::party::people_to_notify(conn, loaded.promoter.owner()).await?);
    people.sort();
    people.dedup();
    let day = loaded.row.starts_at.format("%Y-%m-%d");
    Ok(Some(Discussion {
        title: format!("Booking: {} for {}, {day}", loaded.artist.stage_name, loaded.promoter.name),
        people,
    }))
}

/// For other domains' demo data: the bookings of the artist and promoter profiles `user` keeps, latest
/// show first.
pub async fn bookings_of_user(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    limit: i64,
) -> sqlx::Result<Vec<uuid::Uuid>> {
    let (artists, promoters) = profiles::repo::profiles_of(conn, user, &[]).await?;
    let rows = bookings::repo::bookings_of(conn, &artists, &promoters, None, limit).await?;
    Ok(rows.into_iter().map(|b| b.id.0).collect())
}

/// For other domains' demo data: the people of a booking's two sides, (the artist's, the promoter's).
pub async fn sides(
    conn: &mut sqlx::PgConnection,
    id: uuid::Uuid,
) -> sqlx::Result<Option<(Vec<uuid::Uuid>, Vec<uuid::Uuid>)>> {
    let Some(row) = bookings::repo::booking(conn, model::BookingId(id), false).await? else { return Ok(None) };
    let (Some(artist), Some(promoter)) = (
        profiles::repo::artist(conn, row.artist_id, false).await?,
        profiles::repo::promoter(conn, row.promoter_id).await?,
    ) else {
        return Ok(None);
    };
    let artist_side = identity::party::people_to_notify(conn, artist.owner()).await?;
    let promoter_side = identity::party::people_to_notify(conn, promoter.owner()).await?;
    Ok(Some((artist_side, promoter_side)))
}

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
        .routes(routes!(profiles::http::create_artist, profiles::http::search_artists))
        .routes(routes!(profiles::http::artist, profiles::http::update_artist))
        .routes(routes!(profiles::http::set_category))
        .routes(routes!(profiles::http::category_history))
        .routes(routes!(profiles::http::create_venue, profiles::http::search_venues))
        .routes(routes!(profiles::http::venue, profiles::http::update_venue))
        .routes(routes!(profiles::http::create_promoter))
        .routes(routes!(profiles::http::promoter, profiles::http::update_promoter))
        .routes(routes!(profiles::http::review_promoter))
        .routes(routes!(bookings::http::offer))
        .routes(routes!(bookings::http::my_bookings))
        .routes(routes!(bookings::http::staff_queue))
        .routes(routes!(bookings::http::booking))
        .routes(routes!(bookings::http::propose))
        .routes(routes!(bookings::http::accept))
        .routes(routes!(bookings::http::decline))
        .routes(routes!(bookings::http::open_call))
        .routes(routes!(bookings::http::apply))
        .routes(routes!(contracts::http::contract))
        .routes(routes!(contracts::http::contract_pdf))
        .routes(routes!(contracts::http::sign))
        .routes(routes!(contracts::http::edit_contract))
        .routes(routes!(contracts::http::review_contract))
        .routes(routes!(contracts::http::annex_contract_file))
        .routes(routes!(contracts::http::contract_annex))
        .routes(routes!(money::http::pay_booking))
        .routes(routes!(money::http::complete_booking))
        .routes(routes!(money::http::cancel_booking))
        .routes(routes!(money::http::dispute_booking))
        .routes(routes!(money::http::resolve_dispute))
        .routes(routes!(calendars::http::artist_calendar))
        .routes(routes!(calendars::http::venue_calendar))
        .routes(routes!(calendars::http::calendar_feed))
        .routes(routes!(calendars::http::artist_agenda))
        .routes(routes!(calendars::http::venue_agenda))
        .routes(routes!(holds::http::place_hold, holds::http::holds))
        .routes(routes!(holds::http::release_hold))
        .routes(routes!(holds::http::challenge_hold))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
        .layer(axum::Extension(std::sync::Arc::new(ledger)))
}

/// Registers booking's jobs.
pub fn register(registry: &mut platform::jobs::Registry) {
    bookings::service::register(registry);
    contracts::service::register(registry);
    money::service::register(registry);
    holds::service::register(registry);
}
