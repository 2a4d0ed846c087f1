//! Request and response bodies of the ledger API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use uuid::Uuid;

use super::repo::{AccountRow, EntryRow, PostingRow, StatementLineRow};
use crate::model::{AccountId, EntryId};

#[derive(Debug, Serialize, ToSchema)]
pub struct Wallet {
    /// Every account of the caller, by currency and kind, with its balance in minor units.
    pub accounts: Vec<Account>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Start (inclusive); default: the account's creation.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default: now.
    pub to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegRequest {
    pub account_id: AccountId,
    /// Minor units; positive raises the account's balance, negative lowers it.
    pub amount: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// What the adjustment is for; recorded on the entry.
    #[schema(min_length = 1, max_length = 500)]
    pub memo: String,
    /// At least two legs, summing to zero in each currency.
    #[schema(min_items = 2)]
    pub postings: Vec<LegRequest>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub memo: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryWithPostings {
    #[serde(flatten)]
    pub entry: Entry,
    pub postings: Vec<Posting>,
}

/// An account and its balance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub owner_type: String,
    pub owner_id: Option<Uuid>,
    pub kind: String,
    pub currency: String,
    pub allow_negative: bool,
    /// Minor units.
    pub balance: i64,
    pub created_at: DateTime<Utc>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Self {
            id: r.id,
            owner_type: r.owner_type.as_str().to_owned(),
            owner_id: r.owner_id,
            kind: r.kind,
            currency: r.currency,
            allow_negative: r.allow_negative,
            balance: r.balance,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    pub id: EntryId,
    pub kind: String,
    pub memo: String,
    pub reverses: Option<EntryId>,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            memo: r.memo,
            reverses: r.reverses,
            metadata: r.metadata,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Posting {
    pub account_id: AccountId,
    pub amount: i64,
    pub currency: String,
}

impl From<PostingRow> for Posting {
    fn from(r: PostingRow) -> Self {
        Self { account_id: r.account_id, amount: r.amount, currency: r.currency }
    }
}

impl EntryWithPostings {
    pub fn new(entry: EntryRow, postings: Vec<PostingRow>) -> Self {
        Self { entry: entry.into(), postings: postings.into_iter().map(Posting::from).collect() }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    pub entry_id: EntryId,
    pub kind: String,
    pub memo: String,
    /// Positive raised the balance, negative lowered it.
    pub amount: i64,
    /// The balance after this line.
    pub balance: i64,
    pub at: DateTime<Utc>,
}

impl From<StatementLineRow> for StatementLine {
    fn from(r: StatementLineRow) -> Self {
        Self { entry_id: r.entry_id, kind: r.kind, memo: r.memo, amount: r.amount, balance: r.balance, at: r.at }
    }
}

/// A statement of `account` over `[from, to)`: the opening balance, each posting with the balance after
/// it, and the closing balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub account: Account,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub opening_balance: i64,
    pub closing_balance: i64,
    pub lines: Vec<StatementLine>,
}
