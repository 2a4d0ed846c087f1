//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{EventId, OrderId};

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<super::repo::SplitRow> for Split {
    fn from(r: super::repo::SplitRow) -> Self {
        Self {
            role: r.role,
            recipient_type: r.recipient_type.as_str().to_owned(),
            recipient_id: r.recipient_id,
            bps: r.bps,
        }
    }
}

impl From<super::repo::LinkRow> for AttributionLink {
    fn from(r: super::repo::LinkRow) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            partner_id: r.partner_id,
            kind: r.kind.as_str().to_owned(),
            code: r.code,
            share_type: r.share_type.as_str().to_owned(),
            share_value: r.share_value,
            created_at: r.created_at,
        }
    }
}

impl From<super::repo::AttributionRow> for Attribution {
    fn from(r: super::repo::AttributionRow) -> Self {
        Self {
            order_id: r.order_id,
            link_id: r.link_id,
            code: r.code,
            partner_id: r.partner_id,
            state: r.state.as_str().to_owned(),
            order_amount: r.order_amount,
            amount: r.amount,
            created_at: r.created_at,
        }
    }
}

/// One tier's sales.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TierSales {
    pub tier_id: Uuid,
    pub name: String,
    pub price: i64,
    pub currency: String,
    pub quantity: i32,
    /// Tickets issued (refunded ones included).
    pub sold: i64,
    pub refunded: i64,
    pub checked_in: i64,
    /// What its tickets brought in, less refunds (minor units).
    pub revenue: i64,
}

/// Tickets sold on one day (the event's time zone).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DaySales {
    pub day: chrono::NaiveDate,
    pub tickets: i64,
    /// Face value of the tickets sold that day (minor units).
    pub revenue: i64,
}

/// An event's sales for its organizer: by tier, by day, and in total, with what its escrow holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SalesReport {
    pub event_id: EventId,
    pub currency: String,
    pub tiers: Vec<TierSales>,
    /// Every day with a sale, oldest first.
    pub days: Vec<DaySales>,
    pub sold: i64,
    pub refunded: i64,
    pub checked_in: i64,
    /// Face value of every ticket issued.
    pub gross: i64,
    pub refunds: i64,
    pub net: i64,
    /// The event's escrow balance: ticket money waiting for settlement.
    pub escrow: i64,
    pub settled_at: Option<DateTime<Utc>>,
}
