//! The area's request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{OutstandingRow, PayeeRow, RecoupableRow, ShareRow, SplitRow};
use crate::model::{PayeeId, RecoupableId, SplitId};

/// Invite someone to be paid a share: they receive an email and must accept within 14 days.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeRequest {
    pub name: String,
    pub email: String,
    /// The currency their statements are in (ISO 4217); the label's (EUR) when not given.
    pub currency: Option<String>,
}

/// Someone the label pays.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payee {
    pub id: PayeeId,
    pub label_id: Uuid,
    /// `label` (the release owner: every share no one else holds) or `person`.
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    pub currency: String,
    /// `invited`, `active` (paid) or `expired` (never accepted: the share went back to the label).
    pub status: String,
    pub invited_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl From<PayeeRow> for Payee {
    fn from(r: PayeeRow) -> Self {
        Self {
            id: r.id,
            label_id: r.org_id,
            kind: r.kind.as_str().into(),
            name: r.name,
            email: r.email,
            currency: r.currency,
            status: r.status.as_str().into(),
            invited_at: r.invited_at,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayeeList {
    pub items: Vec<Payee>,
}

/// A payee's settings the label may change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeChange {
    /// The currency of the payee's next statements (ISO 4217).
    pub currency: String,
}

/// The token from the invitation email.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub token: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    pub payee_id: PayeeId,
    /// Basis points (1 to 10,000); a split's shares sum to exactly 10,000.
    pub share_bp: i32,
}

/// A new split from a date on (a split starting the same day is replaced; earlier ones stay).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    /// Not in a closed month: paid periods are never rewritten.
    pub effective_from: NaiveDate,
    pub shares: Vec<ShareRequest>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Share {
    pub payee_id: PayeeId,
    pub name: String,
    pub kind: String,
    /// A share whose payee is not `active` is paid to the label.
    pub payee_status: String,
    pub share_bp: i32,
}

impl From<ShareRow> for Share {
    fn from(r: ShareRow) -> Self {
        Self {
            payee_id: r.payee_id,
            name: r.name,
            kind: r.kind.as_str().into(),
            payee_status: r.status.as_str().into(),
            share_bp: r.share_bp,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoyaltySplit {
    pub id: SplitId,
    pub effective_from: NaiveDate,
    pub reason: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub shares: Vec<Share>,
}

impl RoyaltySplit {
    pub fn new(r: SplitRow, shares: Vec<Share>) -> Self {
        Self {
            id: r.id,
            effective_from: r.effective_from,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
            shares,
        }
    }
}

/// Every split of a recording or release, the latest first: with none, the label takes everything.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SplitHistory {
    pub items: Vec<RoyaltySplit>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoupableRequest {
    pub payee_id: PayeeId,
    pub release_id: Uuid,
    /// `advance` or `expense`.
    pub kind: String,
    /// Minor units of the payee's currency, above zero.
    pub amount: i64,
    #[serde(default)]
    pub memo: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recoupable {
    pub id: RecoupableId,
    pub payee_id: PayeeId,
    pub payee_name: String,
    pub release_id: Uuid,
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub memo: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<RecoupableRow> for Recoupable {
    fn from(r: RecoupableRow) -> Self {
        Self {
            id: r.id,
            payee_id: r.payee_id,
            payee_name: r.payee_name,
            release_id: r.release_id,
            kind: r.kind.as_str().into(),
            amount: r.amount,
            currency: r.currency,
            memo: r.memo,
            recorded_at: r.recorded_at,
        }
    }
}

/// What is still to recoup from a payee's share of a release.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Outstanding {
    pub payee_id: PayeeId,
    pub release_id: Uuid,
    pub currency: String,
    pub outstanding: i64,
}

impl From<OutstandingRow> for Outstanding {
    fn from(r: OutstandingRow) -> Self {
        Self { payee_id: r.payee_id, release_id: r.release_id, currency: r.currency, outstanding: r.outstanding }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoupableList {
    pub items: Vec<Recoupable>,
    pub outstanding: Vec<Outstanding>,
}
