//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::commission::Figures;
use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::state::BookingStatus;

/// Terms proposed in one round.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// The fee (the guarantee, for flat and versus deals), minor units.
    pub fee: i64,
    pub currency: String,
    /// Deposit at signing, basis points of the fee (default 3,000).
    pub deposit_bps: Option<i32>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `flat` (default), `door` (a share of the event's net ticket revenue) or `versus` (the greater).
    pub deal_type: Option<String>,
    /// For door and versus deals: the artist's share of net ticket revenue, basis points.
    pub door_bps: Option<i32>,
    /// Technical and hospitality rider.
    #[serde(default)]
    pub rider: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub message: String,
}

/// An organizer's offer to an artist.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub artist_id: ArtistId,
    /// The promoter profile making it (yours, or your organization's).
    pub promoter_id: PromoterId,
    pub venue_id: Option<VenueId>,
    /// The ticketed event it is for, if any.
    pub event_id: Option<Uuid>,
    pub terms: Terms,
}

/// An artist applies to an event open for applications.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub artist_id: ArtistId,
    #[serde(default)]
    pub message: String,
}

/// Open an event for artists' applications.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCall {
    pub promoter_id: PromoterId,
    pub closes_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Proposal {
    pub step: i32,
    /// `organizer` or `artist`.
    pub side: String,
    pub fee: i64,
    pub currency: String,
    pub deposit_bps: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub deal_type: String,
    pub door_bps: i32,
    pub rider: serde_json::Value,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// What was agreed, fixed at acceptance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Agreement {
    pub terms: Proposal,
    pub category: String,
    pub figures: Figures,
    pub agreed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    pub id: BookingId,
    pub artist_id: ArtistId,
    pub artist_name: String,
    pub promoter_id: PromoterId,
    pub promoter_name: String,
    pub venue_id: Option<VenueId>,
    pub venue_name: Option<String>,
    pub event_id: Option<Uuid>,
    pub status: BookingStatus,
    /// `offer` or `application`.
    pub origin: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Proposals made so far (at most 3; the fourth step is the artist's answer).
    pub step: i32,
    /// Whose move it is: `organizer` or `artist`.
    pub turn: Option<String>,
    /// When the booking is cancelled if the side whose turn it is does nothing.
    pub deadline_at: Option<DateTime<Utc>>,
    /// What the side whose turn it is may do: `propose`, `accept`, `decline`.
    pub can: Vec<String>,
    pub proposals: Vec<Proposal>,
    pub agreement: Option<Agreement>,
    /// Once agreed: what is due and what was paid.
    pub money: Option<Money>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The money of an agreed booking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Money {
    pub deposit: i64,
    pub balance: i64,
    pub deposit_paid_at: Option<DateTime<Utc>>,
    pub balance_paid_at: Option<DateTime<Utc>>,
    /// The balance was due 24 hours before the show and is not paid.
    pub balance_overdue: bool,
    /// When the escrow was released to the artist and the platform.
    pub settled_at: Option<DateTime<Utc>>,
    pub dispute_reason: Option<String>,
    pub disputed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingList {
    pub items: Vec<Booking>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
}

impl From<super::repo::ProposalRow> for Proposal {
    fn from(r: super::repo::ProposalRow) -> Self {
        Self {
            step: r.step,
            side: r.side.as_str().to_owned(),
            fee: r.fee,
            currency: r.currency,
            deposit_bps: r.deposit_bps,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            deal_type: r.deal_type,
            door_bps: r.door_bps,
            rider: r.rider,
            message: r.message,
            created_at: r.created_at,
        }
    }
}

impl From<super::repo::MoneyRow> for Money {
    /// The amounts (`deposit`, `balance`) come from the agreement, not the row; they start at 0.
    fn from(r: super::repo::MoneyRow) -> Self {
        Self {
            deposit: 0,
            balance: 0,
            deposit_paid_at: r.deposit_paid_at,
            balance_paid_at: r.balance_paid_at,
            balance_overdue: r.balance_overdue,
            settled_at: r.settled_at,
            dispute_reason: r.dispute_reason,
            disputed_by: r.disputed_by.map(|s| s.as_str().to_owned()),
        }
    }
}
