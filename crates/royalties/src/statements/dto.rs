//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{PeriodRow, RecoupmentRow, StatementRow, StoredLine};
use crate::model::{PayeeId, ReportId, StatementId};

/// The month to close.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// `YYYY-MM`, a month that has ended: the reports whose period ends in it are settled.
    pub period: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Period {
    pub period: String,
    pub reports: Vec<Uuid>,
    pub closed_at: DateTime<Utc>,
}

impl From<PeriodRow> for Period {
    fn from(r: PeriodRow) -> Self {
        Self { period: r.period, reports: r.reports, closed_at: r.closed_at }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodList {
    pub items: Vec<Period>,
}

/// What closing a month made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Closed {
    pub period: Period,
    pub statements: Vec<StatementSummary>,
    /// The platform's distribution fee per currency, posted to its fees account.
    pub fees: Vec<Fee>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fee {
    pub currency: String,
    pub exact: String,
    pub amount: i64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoyaltyStatementQuery {
    /// `YYYY-MM`: one month's statements.
    pub period: Option<String>,
}

/// `json` (the default), `csv` or `pdf`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// A payee's statement for a month, amounts in minor units of `currency`. The balance is minus what is
/// still to recoup: `closing_balance = opening_balance + earned - payable`, `payable = earned - recouped`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementSummary {
    pub id: StatementId,
    pub label_id: Uuid,
    pub period: String,
    pub payee_id: PayeeId,
    pub payee_name: String,
    /// `label` or `person`.
    pub payee_kind: String,
    pub currency: String,
    pub opening_balance: i64,
    /// The lines' total: the exact total rounded once.
    pub earned: i64,
    pub recouped: i64,
    /// Posted to the payee's pending earnings in the ledger.
    pub payable: i64,
    pub closing_balance: i64,
    /// The exact total before rounding.
    pub exact: String,
    /// The ledger entry of the payable amount (none when nothing was payable).
    pub entry_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<StatementRow> for StatementSummary {
    fn from(r: StatementRow) -> Self {
        Self {
            id: r.id,
            label_id: r.org_id,
            period: r.period,
            payee_id: r.payee_id,
            payee_name: r.payee_name,
            payee_kind: r.payee_kind.as_str().into(),
            currency: r.currency,
            opening_balance: r.opening_balance,
            earned: r.earned,
            recouped: r.recouped,
            payable: r.payable,
            closing_balance: r.closing_balance,
            exact: r.exact,
            entry_id: r.entry_id,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementList {
    pub items: Vec<StatementSummary>,
}

/// A statement line: a recording (or a release sold whole) at a store in a territory for a use type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoyaltyStatementLine {
    pub release_id: Option<Uuid>,
    pub track_id: Option<Uuid>,
    pub title: String,
    pub store: String,
    pub territory: String,
    pub use_type: String,
    pub usages: i64,
    /// The exact amount in the payee's currency.
    pub exact: String,
    /// Minor units: the floor of `exact`, or one more (largest remainder).
    pub amount: i64,
}

impl From<StoredLine> for RoyaltyStatementLine {
    fn from(l: StoredLine) -> Self {
        Self {
            release_id: l.release_id,
            track_id: l.track_id,
            title: l.title,
            store: l.store,
            territory: l.territory,
            use_type: l.use_type,
            usages: l.usages,
            exact: l.exact,
            amount: l.amount,
        }
    }
}

/// What a statement recouped of a release's advances and expenses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recoupment {
    pub release_id: Uuid,
    /// Still to recoup before this statement.
    pub outstanding: i64,
    pub recouped: i64,
}

impl From<RecoupmentRow> for Recoupment {
    fn from(r: RecoupmentRow) -> Self {
        Self { release_id: r.release_id, outstanding: r.outstanding, recouped: r.recouped }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoyaltyStatement {
    #[serde(flatten)]
    pub summary: StatementSummary,
    pub lines: Vec<RoyaltyStatementLine>,
    pub recoupments: Vec<Recoupment>,
}

/// A payee's part of a report's money.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProofPayee {
    pub payee_id: Option<Uuid>,
    pub name: String,
    /// `label` or `person`.
    pub kind: String,
    pub amount: String,
}

/// One currency of a report, accounted for: `total = unmatched + fee + Σ payees`, and `difference` is
/// what is left (zero, to the last unit, when the books reconcile).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProofCurrency {
    pub currency: String,
    /// The report's net revenue (the sum of its summaries' NetRevenue).
    pub total: String,
    pub unmatched: String,
    /// The platform's distribution fee.
    pub fee: String,
    pub payees: Vec<ProofPayee>,
    pub difference: String,
    pub exact: bool,
}

/// The proof that a report's money is all accounted for, exactly.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Proof {
    pub report_id: ReportId,
    pub currencies: Vec<ProofCurrency>,
    pub exact: bool,
}
