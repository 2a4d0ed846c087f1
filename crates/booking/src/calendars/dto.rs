//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedUrl {
    /// The secret URL (shown once; rotate to replace it).
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// One thing on a profile's calendar: an agreed booking or (for an artist) a hold on a date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgendaItem {
    /// `booking` or `hold`.
    pub kind: String,
    /// The booking, for a booking.
    pub booking_id: Option<uuid::Uuid>,
    /// A booking's status (`contracting`, `confirmed`, ...), or `active` for a hold.
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// "Artist for Promoter" for a booking; the hold's rank for a hold.
    pub title: String,
    pub location: Option<String>,
}

/// A profile's calendar for its own side: agreed bookings (cancelled ones left out) and active holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Agenda {
    pub name: String,
    pub items: Vec<AgendaItem>,
}
