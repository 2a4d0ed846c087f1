//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::TierId;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<super::repo::TierRow> for Tier {
    fn from(r: super::repo::TierRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            price: r.price,
            currency: r.currency,
            quantity: r.quantity,
            sold: r.sold,
            held: r.held,
            available: r.available,
            sales_start: r.sales_start,
            sales_end: r.sales_end,
            min_per_order: r.min_per_order,
            max_per_order: r.max_per_order,
            max_per_buyer: r.max_per_buyer,
            visibility: r.visibility.as_str().to_owned(),
            transferable: r.transferable,
            resaleable: r.resaleable,
            refundable: r.refundable,
            position: r.position,
        }
    }
}
