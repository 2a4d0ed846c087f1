//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::EventId;

/// Put the event's on-sale behind a waiting room, or change its settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomSettings {
    /// When the sale opens: everyone who joined before gets a place drawn at random then. Changes only
    /// until the room opens; must be in the future.
    pub opens_at: DateTime<Utc>,
    /// Places admitted a minute (1–1,000,000; default 1,200). Adjustable while the room is open.
    pub rate_per_minute: Option<i32>,
    /// How long an admitted buyer has to order, in minutes (1–60; default 5).
    pub window_minutes: Option<i32>,
    /// Most places one client address may take (1–100,000; default 10).
    pub per_address: Option<i32>,
}

/// A waiting room.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitingRoom {
    pub event_id: EventId,
    pub opens_at: DateTime<Utc>,
    /// `scheduled` (taking places before the opening), `open` (admitting) or `closed`.
    pub state: String,
    pub rate_per_minute: i32,
    pub window_minutes: i32,
    pub per_address: i32,
    /// Places given so far.
    pub places: i64,
    /// Every place up to this one has been admitted.
    pub admitted_through: i64,
    /// How long the last place in line can expect to wait, in seconds, if tickets remain.
    pub estimated_wait_seconds: i64,
    pub closed_at: Option<DateTime<Utc>>,
    /// `sold_out`, `event_ended` or `not_on_sale`.
    pub closed_reason: Option<String>,
    /// For the event's organizer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<RoomStats>,
}

/// How a room is doing, for its organizer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoomStats {
    /// Places not admitted yet.
    pub waiting: i64,
    /// Admitted buyers whose pass is live and has bought nothing yet.
    pub live_passes: i64,
    /// Orders placed with a pass.
    pub orders: i64,
    /// Orders placed with a pass in the last minute: the rate the sale is being served at.
    pub orders_last_minute: i64,
}

/// The caller's place in a waiting room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Place {
    pub event_id: EventId,
    /// `waiting` (before the opening, or in line), `admitted` (the pass is live: order now), `used` (the
    /// pass bought its order), `expired` (the window ended unused) or `closed` (the sale sold out or
    /// ended).
    pub status: String,
    /// The place in line; none until the draw at the opening for those who joined before it.
    pub position: Option<i64>,
    /// Places in line before this one.
    pub ahead: Option<i64>,
    /// Seconds until admission at the room's rate, if tickets remain; none before the draw.
    pub estimated_wait_seconds: Option<i64>,
    pub opens_at: DateTime<Utc>,
    pub joined_at: DateTime<Utc>,
    /// The signed pass, while it is live: send it as the order's `pass`.
    pub pass: Option<String>,
    pub pass_expires_at: Option<DateTime<Utc>>,
    /// The order the pass bought.
    pub order_id: Option<Uuid>,
    /// Why the room closed, when it did.
    pub closed_reason: Option<String>,
}
