//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{EventId, TicketId};

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<super::repo::TransferRow> for Transfer {
    fn from(r: super::repo::TransferRow) -> Self {
        Self {
            id: r.id,
            ticket_id: r.ticket_id,
            event_id: r.event_id,
            event_title: r.event_title,
            tier_name: r.tier_name,
            from_user: r.from_user,
            to_email: r.to_email,
            state: r.state.as_str().to_owned(),
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

impl From<super::repo::ListingRow> for Listing {
    fn from(r: super::repo::ListingRow) -> Self {
        Self {
            id: r.id,
            ticket_id: r.ticket_id,
            event_id: r.event_id,
            tier_name: r.tier_name,
            price: r.price,
            currency: r.currency,
            state: r.state.as_str().to_owned(),
            created_at: r.created_at,
        }
    }
}
