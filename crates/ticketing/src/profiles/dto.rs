//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl From<super::repo::WalletRow> for Wallet {
    fn from(r: super::repo::WalletRow) -> Self {
        Self {
            id: r.id,
            network: r.network,
            address: r.address,
            label: r.label,
            is_primary: r.is_primary,
            created_at: r.created_at,
        }
    }
}
