//! The area's request and response bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// `wallet` (the promoter's balance: the user's, or the organization's) or `card` (charged to the
    /// caller, whose wallet then pays).
    pub source: Option<String>,
    pub provider: Option<String>,
    pub card_number: Option<String>,
    pub payment_method: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// `release` (to the artist, as at completion), `refund` (all back to the organizer) or `split`.
    pub outcome: String,
    /// For `split`: the artist's share of the escrow, basis points (the rest goes back).
    pub artist_bps: Option<i64>,
    #[serde(default)]
    pub note: String,
}
