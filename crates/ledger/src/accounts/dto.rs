//! Request and response bodies of the ledger API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::model::AccountId;
use crate::repo::{Account, Entry, Posting};

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
