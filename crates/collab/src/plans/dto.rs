//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::{CURRENCY, Plan};
use super::repo::ChargeRow;

/// A plan of the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanOffer {
    /// `free`, `pro` or `team`.
    pub name: String,
    /// A month's price in minor units of `currency`.
    pub price_minor: i64,
    pub currency: String,
    /// Open projects (neither completed nor cancelled); `null` for no limit.
    pub open_projects: Option<i64>,
    /// People on the organization's projects besides its owners.
    pub collaborators: i64,
    pub storage_bytes: i64,
}

impl From<Plan> for PlanOffer {
    fn from(p: Plan) -> Self {
        Self {
            name: p.name.to_owned(),
            price_minor: p.price_minor,
            currency: CURRENCY.to_owned(),
            open_projects: p.open_projects,
            collaborators: p.collaborators,
            storage_bytes: p.storage_bytes,
        }
    }
}

/// What an organization uses of its plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanUsage {
    pub open_projects: i64,
    pub collaborators: i64,
    pub storage_bytes: i64,
}

/// A charge for a plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanCharge {
    pub id: Uuid,
    pub plan: String,
    /// What was charged: the plan's price less `credit_minor`.
    pub amount_minor: i64,
    /// An upgrade's: what was left unused of the period paid for the plan before, taken off its price.
    pub credit_minor: i64,
    pub currency: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `paid` or `failed`.
    pub outcome: String,
    pub reason: Option<String>,
    /// The ledger entry of a paid charge (on the organization's statement).
    pub entry_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<ChargeRow> for PlanCharge {
    fn from(c: ChargeRow) -> Self {
        Self {
            id: c.id,
            plan: c.plan,
            amount_minor: c.amount_minor,
            credit_minor: c.credit_minor,
            currency: c.currency,
            period_start: c.period_start,
            period_end: c.period_end,
            outcome: c.outcome,
            reason: c.reason,
            entry_id: c.entry_id,
            created_at: c.created_at,
        }
    }
}

/// An organization's plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrgPlan {
    pub organization_id: Uuid,
    pub plan: PlanOffer,
    /// The month paid for (none on Free).
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    /// The plan the next period will be on, when it changes at the period's end.
    pub next_plan: Option<String>,
    /// The next period is paid already.
    pub renewed: bool,
    /// Renewal charges that failed this period (retried daily until the period ends).
    pub renewal_failures: i32,
    /// Granted by the platform without charge.
    pub complimentary: bool,
    /// How renewals are paid: `card` (the card on file set for the plan, `card`) or `wallet` (the
    /// organization's).
    pub renews_by: String,
    /// The card renewals charge, masked, when one is set.
    pub card: Option<ledger::cards::dto::SavedCard>,
    pub usage: PlanUsage,
    /// The latest charges, newest first.
    pub charges: Vec<PlanCharge>,
}

/// A change of plan.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChoice {
    /// `free`, `pro` or `team`. A dearer plan starts now, its first month charged at once to the
    /// organization's wallet; a cheaper one (Free included) waits for the period's end.
    pub plan: String,
    /// Platform admins only: grant the plan without charge.
    #[serde(default)]
    pub complimentary: bool,
    /// How an upgrade's first month is paid: `wallet` (the organization's, the default) or `card`
    /// (charged to the caller, with `card_number` in the sandbox or Stripe's `payment_method`; the
    /// request's `Idempotency-Key` keys the charge). Renewals are paid by the plan's card on file when one is
    /// set (`PUT /v1/orgs/{id}/plan/card`), else from the organization's wallet.
    pub source: Option<String>,
    pub provider: Option<String>,
    pub card_number: Option<String>,
    pub payment_method: Option<String>,
}

/// The card on file an organization's plan renews by.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCard {
    /// One of the caller's cards on file (`POST /v1/me/cards`).
    pub card_id: Uuid,
}
