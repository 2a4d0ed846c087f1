//! Request and response bodies of payments, refunds and provider webhooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::PaymentRow;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Minor units.
    #[schema(minimum = 1)]
    pub amount: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// `sandbox` or `stripe`; the server's default provider when absent.
    pub provider: Option<String>,
    /// Sandbox only. `4242424242424242` succeeds, `4000000000000002` is declined, `4000000000003220`
    /// waits for a later provider webhook.
    #[schema(example = "4242424242424242")]
    pub card_number: Option<String>,
    /// Stripe only: the PaymentMethod collected by Stripe.js or a mobile SDK (`pm_...`).
    pub payment_method: Option<String>,
    /// `automatic` (default) captures at once; `manual` only authorizes.
    pub capture: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentIntent {
    pub id: Uuid,
    pub provider: String,
    pub provider_ref: String,
    pub amount: i64,
    pub currency: String,
    /// `initiated`, `authorized`, `captured`, `failed`, `cancelled` or `refunded`.
    pub state: String,
    pub capture_method: String,
    pub refunded_amount: i64,
    /// Part of the amount whose refund is under way (asked of the provider, not yet answered).
    pub refund_pending: i64,
    pub description: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stripe only, while the payment waits for the customer (3-D Secure, say): the secret Stripe.js
    /// needs to finish it (`stripe.handleNextAction`). Shown once, in the answer that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Minor units; the whole remaining amount when absent.
    pub amount: Option<i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    pub received: bool,
    /// False when this event was delivered before (nothing was applied again).
    pub first_delivery: bool,
}

impl From<PaymentRow> for PaymentIntent {
    fn from(row: PaymentRow) -> Self {
        Self {
            id: row.id,
            provider: row.provider.as_str().to_owned(),
            provider_ref: row.provider_ref,
            amount: row.amount,
            currency: row.currency,
            state: row.state.as_str().to_owned(),
            capture_method: row.capture_method.as_str().to_owned(),
            refunded_amount: row.refunded_amount,
            refund_pending: row.refund_pending,
            description: row.description,
            failure_reason: row.failure_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            client_secret: None,
        }
    }
}

/// The payer's answer to the sandbox's 3-D Secure challenge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxAuthentication {
    /// `true` to approve the payment, `false` to fail it.
    pub approve: bool,
}
