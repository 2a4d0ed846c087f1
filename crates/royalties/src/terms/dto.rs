//! The area's request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::{DealRow, RateRow};

/// A day's exchange rate: one unit of `base` is `rate` units of `quote`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub day: NaiveDate,
    /// ISO 4217, such as `USD`.
    pub base: String,
    pub quote: String,
    /// A positive decimal as text, up to 10 decimal places (`"0.9231"`): kept exactly.
    pub rate: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeRate {
    pub day: NaiveDate,
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub entered_at: DateTime<Utc>,
}

impl From<RateRow> for ExchangeRate {
    fn from(r: RateRow) -> Self {
        Self { day: r.day, base: r.base, quote: r.quote, rate: r.rate, entered_at: r.entered_at }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateList {
    pub items: Vec<ExchangeRate>,
}

/// How many rates an import entered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateImport {
    pub imported: u64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RateQuery {
    pub base: Option<String>,
    pub quote: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The label's distribution deal from a date on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealRequest {
    /// The platform's fee, in basis points of net revenue (0 to 10,000).
    pub fee_bp: i32,
    /// The first day it applies to (reports whose period starts on or after it); not in a closed month.
    pub effective_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealTerm {
    pub effective_from: NaiveDate,
    pub fee_bp: i32,
    pub set_at: DateTime<Utc>,
}

impl From<DealRow> for DealTerm {
    fn from(r: DealRow) -> Self {
        Self { effective_from: r.effective_from, fee_bp: r.fee_bp, set_at: r.set_at }
    }
}

/// A label's deal: the fee in force today and every term ever set, the latest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deal {
    pub fee_bp: i32,
    /// Whether the fee is the platform's default (no term set yet for today).
    pub default: bool,
    pub history: Vec<DealTerm>,
}
