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

platform::text_enum! {
    /// Who an account belongs to (with its owner id, except for the platform's).
    pub enum OwnerType {
        User = "user",
        Organization = "organization",
        Event = "event",
        Booking = "booking",
        Platform = "platform",
    }
}

platform::text_enum! {
    /// A payment (or payout) provider: `sandbox` (deterministic test cards, no money moves outside
    /// Backline; see docs/ledger.md) or `stripe` (Stripe's PaymentIntents API).
    #[derive(Default)]
    pub enum Provider {
        #[default]
        Sandbox = "sandbox",
        Stripe = "stripe",
    }
}

platform::text_enum! {
    /// Whether a payment is captured at once or authorized for a later capture.
    pub enum CaptureMethod { Automatic = "automatic", Manual = "manual" }
}

platform::text_enum! {
    /// Where a payment intent stands.
    pub enum PaymentState {
        Initiated = "initiated",
        Authorized = "authorized",
        Captured = "captured",
        Failed = "failed",
        Cancelled = "cancelled",
        Refunded = "refunded",
    }
}

platform::text_enum! {
    /// How a payout method is paid.
    pub enum PayoutKind { BankAccount = "bank_account", Paypal = "paypal", StripeConnect = "stripe_connect" }
}

platform::text_enum! {
    /// Whether a payout method may be paid to.
    pub enum Verification { Unverified = "unverified", Verified = "verified", Failed = "failed" }
}

platform::text_enum! {
    /// Where a withdrawal stands.
    pub enum WithdrawalState {
        Queued = "queued",
        Processing = "processing",
        Paid = "paid",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

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

    /// An amount in minor units for people: `1234` EUR is `12.34 EUR`, `500` JPY is `500 JPY`.
    pub fn display(&self, minor: i64) -> String {
        let exponent = u32::from(self.exponent());
        if exponent == 0 {
            return format!("{minor} {}", self.0);
        }
        let unit = 10i64.pow(exponent);
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        let unit = unit.unsigned_abs();
        format!("{sign}{}.{:0width$} {}", abs / unit, abs % unit, self.0, width = exponent as usize)
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

impl From<identity::party::Party> for Owner {
    fn from(party: identity::party::Party) -> Self {
        match party {
            identity::party::Party::User(id) => Self::User(id),
            identity::party::Party::Organization(id) => Self::Organization(id),
        }
    }
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

    /// Whether an account takes its credits in slices (migration 0067): an event's escrow, which every
    /// sale of an on-sale credits at the same moment. Its credits do not queue behind one row lock;
    /// its debits still do, and are checked against the whole balance.
    pub fn takes_credits_in_slices(owner_type: &str, kind: &str) -> bool {
        owner_type == "event" && kind == ESCROW
    }
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// An IBAN with valid country, length and mod-97 check digits, in its electronic form (no spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iban(String);

impl Iban {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let iban: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if !iban.chars().all(|c| c.is_ascii_alphanumeric()) || iban.len() < 15 {
            return Err("is not an IBAN");
        }
        let country = &iban[..2];
        let expected =
            IBAN_LENGTHS.iter().find(|(c, _)| *c == country).map(|(_, l)| *l).ok_or("has an unknown country code")?;
        if iban.len() != expected {
            return Err("has the wrong length for its country");
        }
        if !iban[2..4].chars().all(|c| c.is_ascii_digit()) {
            return Err("is not an IBAN");
        }
        // Move the first four characters to the end, read letters as 10..35, and take the number mod 97.
        let rearranged = iban[4..].chars().chain(iban[..4].chars());
        let mut remainder: u32 = 0;
        for c in rearranged {
            let value = c.to_digit(36).ok_or("is not an IBAN")?;
            remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
        }
        if remainder != 1 {
            return Err("has wrong check digits");
        }
        Ok(Self(iban))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For display: the country and check digits, then the last four characters.
    pub fn masked(&self) -> String {
        format!("{} •••• {}", &self.0[..4], &self.0[self.0.len() - 4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans() {
        for ok in [
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "fr1420041010050500013m02606",
            "NO9386011117947",
            "BE68539007547034",
        ] {
            assert!(Iban::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Iban::parse("DE89 3704 0044 0532 0130 01").unwrap_err(), "has wrong check digits");
        assert_eq!(Iban::parse("DE89 3704 0044 0532 0130 0").unwrap_err(), "has the wrong length for its country");
        assert_eq!(Iban::parse("ZZ89 3704 0044 0532 0130 00").unwrap_err(), "has an unknown country code");
        assert_eq!(Iban::parse("not an iban").unwrap_err(), "is not an IBAN");
        assert_eq!(Iban::parse("DE89370400440532013000").unwrap().masked(), "DE89 •••• 3000");
    }

    /// Builds a valid IBAN for a country and digits, as a bank would: check digits = 98 − (n mod 97).
    fn make_iban(country: &str, bban: &str) -> String {
        let rearranged: String = format!("{bban}{country}00");
        let remainder = rearranged.chars().fold(0u32, |r, c| {
            let v = c.to_digit(36).unwrap();
            if v >= 10 { (r * 100 + v) % 97 } else { (r * 10 + v) % 97 }
        });
        format!("{country}{:02}{bban}", 98 - remainder)
    }

    proptest::proptest! {
        #[test]
        fn every_well_made_iban_parses_and_any_changed_digit_fails(digits in "[0-9]{18}", position in 4usize..22, delta in 1u32..10) {
            let iban = make_iban("DE", &digits);
            proptest::prop_assert!(Iban::parse(&iban).is_ok(), "{}", iban);
            let mut chars: Vec<char> = iban.chars().collect();
            let d = chars[position].to_digit(10).unwrap();
            chars[position] = char::from_digit((d + delta) % 10, 10).unwrap();
            let changed: String = chars.into_iter().collect();
            // mod 97 catches every single-digit substitution.
            proptest::prop_assert!(Iban::parse(&changed).is_err(), "{}", changed);
        }
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert_eq!(Currency::parse("credit").unwrap().as_str(), "CREDIT");
        assert!(Currency::parse("XXX").is_none());
        assert!(Currency::parse("EURO").is_none());
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(eur.display(1234), "12.34 EUR");
        assert_eq!(eur.display(5), "0.05 EUR");
        assert_eq!(eur.display(-1234), "-12.34 EUR");
        assert_eq!(Currency::parse("JPY").unwrap().display(500), "500 JPY");
        assert_eq!(Currency::parse("KWD").unwrap().display(1500), "1.500 KWD");
    }
}
