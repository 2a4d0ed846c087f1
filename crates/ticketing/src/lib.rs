//! Ticketing: events with categories and tags, ticket tiers, orders that hold tickets until paid and
//! never oversell, tickets with signed codes a door scanner verifies offline, and check-in. Money goes
//! through the ledger: a sale moves the buyer's payment into the event's escrow account. See
//! docs/ticketing.md.

pub mod aftersale;
pub mod chain;
pub mod checkin;
pub mod demo;
pub mod error;
pub mod events;
pub mod model;
pub mod orders;
pub mod profiles;
pub mod qr;
pub mod rooms;
pub mod settlement;
pub mod signing;
pub mod state;
pub mod tiers;

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
    Ok(events::repo::event(conn, model::EventId(id), false).await?.filter(|e| e.deleted_at.is_none()).map(|e| {
        EventSummary {
            id: e.id.0,
            organizer: e.organizer(),
            title: e.title,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
        }
    }))
}

/// For the thread attached to an event (its organizing team's conversation about it): whoever manages
/// the event takes part (the organizer, the organizing organization's event managers, admins), and the
/// organizer's people are told of its messages. `None` for anyone else, ticket buyers included.
pub async fn discussion(
    conn: &mut sqlx::PgConnection,
    principal: &identity::auth::Principal,
    id: uuid::Uuid,
) -> Result<Option<platform::discussion::Discussion>, platform::ApiError> {
    let Some(event) = events::repo::event(conn, model::EventId(id), false).await?.filter(|e| e.deleted_at.is_none())
    else {
        return Ok(None);
    };
    if events::service::standing(conn, Some(principal), &event).await? == events::service::Standing::Public {
        return Ok(None);
    }
    let people = identity::party::people_to_notify(conn, event.organizer()).await?;
    let day = event.starts_at.format("%Y-%m-%d");
    Ok(Some(platform::discussion::Discussion { title: format!("Event: {}, {day}", event.title), people }))
}

/// For other domains' demo data: the events `user` organizes or created, (id, title), latest first.
pub async fn events_of_user(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
) -> sqlx::Result<Vec<(uuid::Uuid, String)>> {
    Ok(events::repo::events_of(conn, user).await?.into_iter().map(|e| (e.id.0, e.title)).collect())
}

/// An event's ticket money in `currency`: its escrow account, and what its sales brought in net of
/// refunds.
pub async fn ticket_money(
    conn: &mut sqlx::PgConnection,
    event: uuid::Uuid,
    currency: &ledger::model::Currency,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ledger::repo::AccountRow, i64), ledger::error::LedgerError> {
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

/// Ticketing's routes; paying for tickets goes through the ledger with `ledger`'s providers; `hub`
/// carries the waiting rooms' progress to their followers.
pub fn router(
    settings: TicketingSettings,
    ledger: ledger::LedgerSettings,
    hub: Arc<platform::stream::Hub>,
) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(events::http::create_event, events::http::search_events))
        .routes(routes!(events::http::event, events::http::update_event, events::http::delete_event))
        .routes(routes!(events::http::change_status))
        .routes(routes!(events::http::my_events))
        .routes(routes!(tiers::http::create_tier))
        .routes(routes!(tiers::http::update_tier))
        .routes(routes!(orders::http::reserve))
        .routes(routes!(orders::http::pay))
        .routes(routes!(orders::http::cancel_order))
        .routes(routes!(orders::http::order))
        .routes(routes!(orders::http::my_orders))
        .routes(routes!(orders::http::my_tickets))
        .routes(routes!(orders::http::ticket))
        .routes(routes!(orders::http::ticket_qr_svg))
        .routes(routes!(orders::http::ticket_qr_png))
        .routes(routes!(checkin::http::checkin_key))
        .routes(routes!(checkin::http::scan))
        .routes(routes!(checkin::http::scan_batch))
        .routes(routes!(checkin::http::attendance))
        .routes(routes!(checkin::http::add_staff))
        .routes(routes!(events::http::categories, events::http::add_category))
        .routes(routes!(events::http::tags))
        .routes(routes!(aftersale::http::refund_ticket))
        .routes(routes!(aftersale::http::offer_transfer))
        .routes(routes!(aftersale::http::my_transfers))
        .routes(routes!(aftersale::http::decide_transfer))
        .routes(routes!(aftersale::http::list_ticket))
        .routes(routes!(aftersale::http::cancel_listing))
        .routes(routes!(aftersale::http::event_listings))
        .routes(routes!(aftersale::http::buy_listing))
        .routes(routes!(chain::http::verify_chain))
        .routes(routes!(settlement::http::sales))
        .routes(routes!(settlement::http::splits, settlement::http::set_splits))
        .routes(routes!(settlement::http::add_attribution_link, settlement::http::attributions))
        .routes(routes!(settlement::http::decide_attribution))
        .routes(routes!(profiles::http::add_wallet, profiles::http::wallets))
        .routes(routes!(profiles::http::primary_wallet))
        .routes(routes!(profiles::http::remove_wallet))
        .routes(routes!(profiles::http::fan_profile, profiles::http::set_fan_profile))
        .routes(routes!(profiles::http::creator_profile, profiles::http::set_creator_profile))
        .routes(routes!(profiles::http::sponsor_profile, profiles::http::set_sponsor_profile))
        .routes(routes!(
            rooms::http::waiting_room,
            rooms::http::configure_waiting_room,
            rooms::http::remove_waiting_room
        ))
        .routes(routes!(rooms::http::join_waiting_room))
        .routes(routes!(rooms::http::my_place))
        .routes(routes!(rooms::http::follow_waiting_room))
        .layer(axum::Extension(Arc::new(orders::http::Settings { ticketing: settings, ledger })))
        .layer(axum::Extension(hub))
}

/// Registers ticketing's jobs.
pub fn register(registry: &mut platform::jobs::Registry) {
    orders::service::register(registry);
    events::service::register(registry);
    aftersale::service::register(registry);
    settlement::service::register(registry);
    rooms::service::register(registry);
    chain::service::register(registry);
}
