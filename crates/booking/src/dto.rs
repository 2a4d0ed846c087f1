//! Booking's request and response types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::commission::Figures;
use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::state::BookingStatus;
use identity::party::Party;

/// Create or change an artist profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtistRequest {
    /// A band: the organization (kind `band`) whose managers keep the profile. Only when creating.
    pub organization_id: Option<Uuid>,
    pub stage_name: Option<String>,
    pub bio: Option<String>,
    pub genres: Option<Vec<String>>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Minor units.
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub currency: Option<String>,
    /// Such as {"instagram": "https://..."}.
    pub social_links: Option<serde_json::Map<String, serde_json::Value>>,
    /// Links to photos, videos and recordings.
    pub media: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Artist {
    pub id: ArtistId,
    pub owner: Party,
    pub stage_name: String,
    pub bio: String,
    pub genres: Vec<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub currency: String,
    pub social_links: serde_json::Value,
    pub media: serde_json::Value,
    /// `budding`, `mid_scale`, `international` or `custom`: sets the commission.
    pub category: String,
    /// Set by an admin: the price range no longer suggests the category.
    pub category_locked: bool,
    /// Distance from the searched point, in km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArtistSearch {
    /// Words in the name, genres and bio (ranked).
    pub q: Option<String>,
    pub genre: Option<String>,
    /// With `lng` and `radius_km`: artists based within that distance.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_km: Option<f64>,
    /// A budget (minor units): artists whose price range overlaps [budget_min, budget_max].
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    /// Artists with no confirmed booking on this day (UTC).
    pub available_on: Option<chrono::NaiveDate>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An admin sets (and locks) an artist's category, or unlocks it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    /// `budding`, `mid_scale`, `international` or `custom`.
    pub category: String,
    /// Keep it whatever the price range says (default true).
    pub locked: Option<bool>,
    /// For `custom`: the commission policy.
    pub policy: Option<crate::commission::Policy>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct CategoryHistoryItem {
    pub from_cat: String,
    pub to_cat: String,
    pub locked: bool,
    pub changed_by: Option<Uuid>,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueRequest {
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i32>,
    pub amenities: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Venue {
    pub id: VenueId,
    pub owner: Party,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: i32,
    pub amenities: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VenueSearch {
    pub city: Option<String>,
    pub min_capacity: Option<i32>,
    pub max_capacity: Option<i32>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoterRequest {
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Promoter {
    pub id: PromoterId,
    pub owner: Party,
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub verified: bool,
    /// 0–100 (50 to start).
    pub trust_score: i32,
}

/// An admin verifies a promoter or sets its trust score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoterReview {
    pub verified: Option<bool>,
    pub trust_score: Option<i32>,
}

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Money {
    #[sqlx(skip)]
    pub deposit: i64,
    #[sqlx(skip)]
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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
}
