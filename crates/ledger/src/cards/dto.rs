//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A card to keep on file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedCard {
    /// `sandbox` or `stripe`; the server's default provider when absent.
    pub provider: Option<String>,
    /// Sandbox only: `4242424242424242` (charges succeed) or `4000000000000002` (charges are declined).
    #[schema(example = "4242424242424242")]
    pub card_number: Option<String>,
    /// Stripe only: a PaymentMethod (`pm_...`) attached to the customer `customer` for use off session
    /// (a SetupIntent confirmed by Stripe.js does that).
    pub payment_method: Option<String>,
    /// Stripe only: the customer (`cus_...`) the PaymentMethod is attached to.
    pub customer: Option<String>,
}

/// A card on file, masked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SavedCard {
    pub id: Uuid,
    /// `sandbox` or `stripe`.
    pub provider: String,
    /// The card, masked: `•••• 4242`, `pm_•••visa`.
    pub display: String,
    pub created_at: DateTime<Utc>,
}
