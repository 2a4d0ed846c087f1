//! How pages show money and times.

use chrono::{DateTime, Utc};

/// An amount in minor units, in its currency (`12.50 EUR`).
pub fn money(minor: i64, currency: &str) -> String {
    match ledger::model::Currency::parse(currency) {
        Some(currency) => currency.display(minor),
        None => format!("{minor} {currency}"),
    }
}

/// A moment as people read it: `Sat 12 Dec 2026, 20:00 UTC`.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%a %-d %b %Y, %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_times_read_as_people_write_them() {
        assert_eq!(money(1250, "EUR"), "12.50 EUR");
        assert_eq!(money(500, "JPY"), "500 JPY");
        let at = DateTime::parse_from_rfc3339("2026-12-12T20:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(when(at), "Sat 12 Dec 2026, 20:00 UTC");
    }
}
