//! The area's request and response bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A pack of credits on sale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pack {
    pub credits: i32,
    /// The discount in basis points (500 is 5%).
    pub discount_bps: i32,
    /// Minor units of `currency`.
    pub price: i64,
    pub currency: String,
    pub price_display: String,
}

/// A company's credits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Credits {
    pub org_id: Uuid,
    /// Credits free to spend on new tasks.
    pub available: i64,
    /// Credits held by open tasks.
    pub held: i64,
    /// The ledger accounts (their statements list every movement).
    pub available_account_id: Uuid,
    pub held_account_id: Uuid,
    pub packs: Vec<Pack>,
}

/// Buy a pack. Send an `Idempotency-Key`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyCredits {
    /// 50, 100, 250 (5% off) or 500 (10% off).
    pub credits: i32,
    /// `wallet` (the company's balance, the default) or `card` (charged to the caller).
    pub source: Option<String>,
    pub provider: Option<String>,
    pub card_number: Option<String>,
    pub payment_method: Option<String>,
}
