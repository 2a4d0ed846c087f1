//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{EventId, OrderId, TicketId, TierId};

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
    /// The waiting room's pass (`BLP1.…`): required while the event's on-sale is behind an open or
    /// scheduled waiting room. It buys one order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// Pay at once: `wallet` pays the order from the buyer's wallet in the same request (the money of a
    /// captured card payment waits there), and the answer is the paid order with its tickets. Without
    /// it the tickets are held, to be paid with `POST /v1/orders/{id}/pay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<super::repo::OrderItemRow> for OrderItem {
    fn from(r: super::repo::OrderItemRow) -> Self {
        Self { tier_id: r.tier_id, tier_name: r.tier_name, quantity: r.quantity, unit_price: r.unit_price }
    }
}
