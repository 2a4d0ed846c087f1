//! Ticketing's request and response types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::{CategoryId, EventId, OrderId, TicketId, TierId};
use crate::state::EventStatus;
use identity::party::Party;

/// Create an event (a draft).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Organize it as this organization (needs `events.manage` there); else the caller organizes it.
    pub organization_id: Option<Uuid>,
    #[schema(example = "Nova Beats live")]
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the venue, such as `Europe/Berlin`.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// Most tickets of all tiers together.
    pub capacity: Option<i32>,
    #[serde(default)]
    pub venue: Venue,
    pub cover_url: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Resale price cap in basis points of face value (10,000 = face value; the default).
    pub resale_cap_bps: Option<i32>,
}

/// Change an event; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    pub capacity: Option<i32>,
    pub venue: Option<Venue>,
    pub cover_url: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub resale_cap_bps: Option<i32>,
}

/// Where an event takes place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EventVenue)]
pub struct Venue {
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: EventId,
    pub organizer: Party,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub venue: Venue,
    pub cover_url: Option<String>,
    pub category: Option<CategoryRef>,
    pub tags: Vec<String>,
    pub status: EventStatus,
    pub resale_cap_bps: i32,
    /// The tiers the caller may see: public ones, or all of them for the organizer.
    pub tiers: Vec<Tier>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventSummary {
    pub id: EventId,
    pub organizer: Party,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub city: Option<String>,
    pub venue_name: Option<String>,
    pub cover_url: Option<String>,
    pub category: Option<String>,
    pub status: EventStatus,
    /// Full-text relevance when searching by `q`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventSearch {
    /// Words to look for in the title, venue, city and description (ranked).
    pub q: Option<String>,
    /// A category slug (its subcategories included).
    pub category: Option<String>,
    pub tag: Option<String>,
    /// Events starting at or after this time (default: now).
    pub from: Option<DateTime<Utc>>,
    /// Events starting before this time.
    pub to: Option<DateTime<Utc>>,
    pub city: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Change an event's status.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `published`, `postponed`, `cancelled`, `completed` or `draft`.
    pub status: EventStatus,
    /// Shown to ticket holders when the event is cancelled or postponed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Minor units; 0 for free tickets.
    pub price: Option<i64>,
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    pub quantity: Option<i32>,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    pub min_per_order: Option<i32>,
    pub max_per_order: Option<i32>,
    /// Most tickets of this tier one buyer may buy for the event (no limit when absent).
    pub max_per_buyer: Option<i32>,
    /// `public` (listed) or `hidden` (sold only to those who know its id).
    pub visibility: Option<String>,
    pub transferable: Option<bool>,
    pub resaleable: Option<bool>,
    pub refundable: Option<bool>,
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Tier {
    pub id: TierId,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    pub quantity: i32,
    pub sold: i32,
    pub held: i32,
    /// Tickets on sale now: quantity − sold − held.
    pub available: i32,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    pub min_per_order: i32,
    pub max_per_order: i32,
    pub max_per_buyer: Option<i32>,
    pub visibility: String,
    pub transferable: bool,
    pub resaleable: bool,
    pub refundable: bool,
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemRequest {
    pub tier_id: TierId,
    pub quantity: i32,
}

/// Reserve tickets: they are held for the buyer until paid or until the hold expires.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub items: Vec<OrderItemRequest>,
    /// An attribution link's code: the order counts for that creator or sponsor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct OrderItem {
    pub tier_id: TierId,
    pub tier_name: String,
    pub quantity: i32,
    pub unit_price: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    pub event_id: EventId,
    /// `pending` (tickets held until `expires_at`), `paid`, `expired` or `cancelled`.
    pub state: String,
    /// What is due, in minor units.
    pub amount: i64,
    pub currency: String,
    pub items: Vec<OrderItem>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_id: Option<Uuid>,
    /// The tickets issued once paid.
    pub tickets: Vec<Ticket>,
    pub created_at: DateTime<Utc>,
}

/// Pay an order: with a card through a payment provider, or from the wallet's available balance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayOrder {
    /// `card` (default) or `wallet`.
    pub source: Option<String>,
    /// For cards: `sandbox` or `stripe` (the server's default when absent).
    pub provider: Option<String>,
    /// Sandbox test card (see docs/ledger.md).
    pub card_number: Option<String>,
    /// Stripe PaymentMethod (`pm_...`).
    pub payment_method: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ticket {
    pub id: TicketId,
    pub event_id: EventId,
    pub tier_id: TierId,
    pub tier_name: String,
    pub holder_id: Uuid,
    /// `valid` or `refunded`.
    pub state: String,
    /// The current code (24 characters); it changes when the ticket is transferred or resold.
    pub code: String,
    /// The signed payload a QR code carries (verify with the event's check-in key).
    pub qr_payload: String,
    pub price: i64,
    pub currency: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub transferable: bool,
    pub resaleable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketList {
    pub items: Vec<Ticket>,
}

/// An event's public check-in key, for scanners that verify tickets offline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckinKey {
    pub event_id: EventId,
    /// `Ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, unpadded base64url.
    pub public_key: String,
    /// The same key in hex.
    pub public_key_hex: String,
    /// How a payload is built: `BL1.<event id as 32 hex digits>.<code>.<signature>`, the signature being
    /// Ed25519 over `BL1.<event id>.<code>` in unpadded base64url.
    pub payload_format: String,
}

/// One scan at the door: a code typed in, or the payload read from a QR code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// The event the door belongs to: a code of another event is refused.
    pub event_id: EventId,
    pub code: String,
}

/// Scans recorded offline, uploaded later.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    pub scans: Vec<OfflineScan>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineScan {
    pub code: String,
    /// When the scanner read it.
    pub scanned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanResult {
    /// Whether the holder may enter.
    pub accepted: bool,
    /// `checked_in`, `already_checked_in`, `revoked` (the ticket was transferred or resold: an old code),
    /// `refunded`, `foreign_event`, `invalid_signature` or `unknown_code`.
    pub outcome: String,
    pub code: String,
    pub ticket_id: Option<TicketId>,
    pub tier_name: Option<String>,
    /// When the ticket was checked in (by this scan, or by the first one).
    pub checked_in_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<ScanResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct TierAttendance {
    pub tier_id: TierId,
    pub tier_name: String,
    pub sold: i64,
    pub checked_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attendance {
    pub event_id: EventId,
    pub sold: i64,
    pub checked_in: i64,
    pub tiers: Vec<TierAttendance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub slug: String,
    pub name: String,
    pub icon: String,
    pub color: String,
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryList {
    /// Ordered by parent, then position.
    pub items: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub slug: String,
    pub name: String,
    /// The parent category's slug.
    pub parent: Option<String>,
    #[serde(default)]
    pub icon: String,
    /// `#rrggbb`.
    pub color: Option<String>,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct TagCount {
    pub name: String,
    /// Events using it.
    pub use_count: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagList {
    pub items: Vec<TagCount>,
}

/// Refund all or part of a ticket (the event's organizer).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketRefundRequest)]
pub struct RefundRequest {
    /// Minor units; what is left of the ticket's price when absent.
    pub amount: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Refund {
    pub ticket_id: TicketId,
    pub amount: i64,
    /// What the holder got back in all.
    pub refunded_amount: i64,
    /// `valid` (partly refunded) or `refunded`.
    pub state: String,
}

/// Offer a ticket to someone, by email or by user id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub to_email: Option<String>,
    pub to_user_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Transfer {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub event_id: EventId,
    pub event_title: String,
    pub tier_name: String,
    pub from_user: Uuid,
    pub to_email: String,
    /// `pending`, `accepted`, `declined` or `cancelled`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransferList {
    /// Offers to the caller.
    pub incoming: Vec<Transfer>,
    /// Offers by the caller.
    pub outgoing: Vec<Transfer>,
}

/// List a ticket for resale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingRequest {
    /// Minor units; at most the face value times the event's resale cap.
    pub price: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Listing {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub event_id: EventId,
    pub tier_name: String,
    pub price: i64,
    pub currency: String,
    /// `active`, `sold` or `cancelled`.
    pub state: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingList {
    pub items: Vec<Listing>,
}

/// Who receives a share of an event's ticket revenue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// `artist`, `venue`, `platform`, or another party's name.
    pub role: String,
    /// `user`, `organization` or `platform`.
    pub recipient_type: String,
    /// The user or organization (none for the platform).
    pub recipient_id: Option<Uuid>,
    /// Basis points; an event's splits sum to exactly 10,000.
    pub bps: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Splits {
    pub items: Vec<Split>,
    /// Set at the first sale: the splits no longer change.
    pub frozen_at: Option<DateTime<Utc>>,
    /// Whether these are the defaults (70% artist and 20% venue to the organizer, 10% platform).
    pub defaults: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitsRequest {
    pub items: Vec<Split>,
}

/// An attribution link for a creator or sponsor; orders placed with its code are attributed to them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttributionLink {
    pub partner_id: Uuid,
    /// `creator` or `sponsor`.
    pub kind: String,
    /// `percent` (of each attributed order's net, in basis points) or `fixed` (minor units per order).
    pub share_type: String,
    pub share_value: i64,
    /// The code buyers use (4–40 of A-Z a-z 0-9 _ -); generated when absent.
    pub code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AttributionLink {
    pub id: Uuid,
    pub event_id: EventId,
    pub partner_id: Uuid,
    pub kind: String,
    pub code: String,
    pub share_type: String,
    pub share_value: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Attribution {
    pub order_id: OrderId,
    pub link_id: Uuid,
    pub code: String,
    pub partner_id: Uuid,
    /// `pending`, `approved`, `rejected` or `paid`.
    pub state: String,
    /// The order's amount.
    pub order_amount: i64,
    /// Paid at settlement.
    pub amount: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttributionList {
    pub links: Vec<AttributionLink>,
    pub attributions: Vec<Attribution>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approve` or `reject`.
    pub decision: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWallet {
    /// `stellar` or `stellar_testnet`.
    pub network: String,
    /// A Stellar account address (`G...`, 56 characters, checksum checked).
    pub address: String,
    #[serde(default)]
    pub label: String,
    /// Make it the primary address of its network (the first one is).
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[schema(as = WalletAddress)]
pub struct Wallet {
    pub id: Uuid,
    pub network: String,
    pub address: String,
    pub label: String,
    pub is_primary: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = WalletAddressList)]
pub struct WalletList {
    pub items: Vec<Wallet>,
}

/// A fan's profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FanProfile {
    #[serde(default)]
    pub favorite_genres: Vec<String>,
    #[serde(default)]
    pub interests: Vec<String>,
    /// Earned per attended event (read only).
    #[serde(default)]
    pub loyalty_points: i64,
    /// Events the fan was checked in at (read only).
    #[serde(default)]
    pub events_attended: i64,
}

/// A creator's rate for one kind of work.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub service: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
}

/// A content creator's profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatorProfile {
    /// Such as video, photo, review, stream.
    #[serde(default)]
    pub content_types: Vec<String>,
    #[serde(default)]
    pub rates: Vec<Rate>,
    /// Links to work (http(s) URLs).
    #[serde(default)]
    pub portfolio: Vec<String>,
}

/// A sponsor's profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SponsorProfile {
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub industry: String,
    /// Budget per event, minor units.
    pub budget: Option<i64>,
    pub budget_currency: Option<String>,
    #[serde(default)]
    pub target_audience: String,
}
