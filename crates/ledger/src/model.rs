//! The ledger's value types: ids, currencies, owners.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

platform::id_type!(
    /// A ledger account.
    AccountId
);
platform::id_type!(
    /// A journal entry.
    EntryId
);

/// ISO 4217 codes Backline settles in, with their minor-unit exponent, plus `CREDIT` (marketplace
/// credits, whole units).
pub const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("GHS", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("ZAR", 2),
    ("CREDIT", 0),
];

/// A currency Backline knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Option<Self> {
        let code = raw.trim().to_ascii_uppercase();
        CURRENCIES.iter().any(|(c, _)| *c == code).then_some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point.
    pub fn exponent(&self) -> u8 {
        CURRENCIES.iter().find(|(c, _)| *c == self.0).map_or(2, |(_, e)| *e)
    }
}

/// Who an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Owner {
    User(Uuid),
    Organization(Uuid),
    Event(Uuid),
    Booking(Uuid),
    Platform,
}

impl Owner {
    pub fn parts(self) -> (&'static str, Option<Uuid>) {
        match self {
            Self::User(id) => ("user", Some(id)),
            Self::Organization(id) => ("organization", Some(id)),
            Self::Event(id) => ("event", Some(id)),
            Self::Booking(id) => ("booking", Some(id)),
            Self::Platform => ("platform", None),
        }
    }

    pub fn from_parts(kind: &str, id: Option<Uuid>) -> Option<Self> {
        match (kind, id) {
            ("user", Some(id)) => Some(Self::User(id)),
            ("organization", Some(id)) => Some(Self::Organization(id)),
            ("event", Some(id)) => Some(Self::Event(id)),
            ("booking", Some(id)) => Some(Self::Booking(id)),
            ("platform", None) => Some(Self::Platform),
            _ => None,
        }
    }
}

/// Kinds of account. Only the platform's external clearing accounts may go below zero: they mirror money
/// outside Backline (what a payment provider owes us, what we owe a bank).
pub mod kinds {
    pub const AVAILABLE: &str = "available";
    pub const PENDING: &str = "pending";
    pub const HELD: &str = "held";
    pub const ESCROW: &str = "escrow";
    pub const REVENUE: &str = "revenue";
    pub const FEES: &str = "fees";
    pub const CLEARING: &str = "clearing";

    pub fn may_go_negative(owner_is_platform: bool, kind: &str) -> bool {
        owner_is_platform && kind == CLEARING
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert_eq!(Currency::parse("credit").unwrap().as_str(), "CREDIT");
        assert!(Currency::parse("XXX").is_none());
        assert!(Currency::parse("EURO").is_none());
    }
}
