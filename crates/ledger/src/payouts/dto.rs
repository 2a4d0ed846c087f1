//! Request and response bodies of payout methods and withdrawals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutMethodRequest {
    /// `bank_account`, `paypal` or `stripe_connect`.
    pub kind: String,
    /// For a bank account.
    pub iban: Option<String>,
    pub account_holder: Option<String>,
    /// For PayPal.
    pub email: Option<String>,
    /// For Stripe Connect (`acct_...`).
    pub stripe_account_id: Option<String>,
    /// Make it the default method.
    #[serde(default)]
    pub make_default: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayoutMethod {
    pub id: Uuid,
    pub kind: String,
    /// Who pays it out: `stripe` (Connect transfers) or `sandbox`.
    pub provider: String,
    /// The method, masked: `DE89 •••• 3000`, `a•••@example.com`, `acct_•••1234`.
    pub display: String,
    pub is_default: bool,
    /// `unverified`, `verified` or `failed`.
    pub verification: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutMethodList {
    pub items: Vec<PayoutMethod>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// Minor units.
    #[schema(minimum = 1)]
    pub amount: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    pub payout_method_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Withdrawal {
    pub id: Uuid,
    pub payout_method_id: Uuid,
    pub amount: i64,
    pub fee: i64,
    pub currency: String,
    /// `queued`, `processing`, `paid`, `failed` or `cancelled`.
    pub state: String,
    /// Whether it waits for (or had) an admin's approval.
    pub needs_approval: bool,
    pub approved_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    /// The provider's reference of the payout (a Stripe transfer `tr_...`), once paid.
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalList {
    pub items: Vec<Withdrawal>,
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    pub decision: String,
    pub reason: Option<String>,
}

impl From<super::repo::PayoutMethodRow> for PayoutMethod {
    fn from(r: super::repo::PayoutMethodRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            provider: r.provider.as_str().to_owned(),
            display: r.display,
            is_default: r.is_default,
            verification: r.verification.as_str().to_owned(),
            created_at: r.created_at,
        }
    }
}

impl From<super::repo::WithdrawalRow> for Withdrawal {
    fn from(r: super::repo::WithdrawalRow) -> Self {
        Self {
            id: r.id,
            payout_method_id: r.payout_method_id,
            amount: r.amount,
            fee: r.fee,
            currency: r.currency,
            state: r.state.as_str().to_owned(),
            needs_approval: r.needs_approval,
            approved_at: r.approved_at,
            failure_reason: r.failure_reason,
            provider_ref: r.provider_ref,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
