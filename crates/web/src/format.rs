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

/// An amount typed in major units (`25`, `25.5`, `25.50`) in minor units of `currency`; `None` when it
/// is not a number with at most the currency's decimals.
pub fn parse_money(text: &str, currency: &str) -> Option<i64> {
    let exponent = u32::from(ledger::model::Currency::parse(currency)?.exponent());
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if fraction.len() > exponent as usize {
        return None;
    }
    let unit = 10i64.checked_pow(exponent)?;
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 =
        if fraction.is_empty() { 0 } else { format!("{fraction:0<width$}", width = exponent as usize).parse().ok()? };
    whole.checked_mul(unit)?.checked_add(fraction)
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

    #[test]
    fn typed_amounts_become_minor_units_at_the_currency_s_precision() {
        assert_eq!(parse_money("25", "EUR"), Some(2500));
        assert_eq!(parse_money("25.5", "EUR"), Some(2550));
        assert_eq!(parse_money("25,05", "EUR"), Some(2505));
        assert_eq!(parse_money("0", "EUR"), Some(0));
        assert_eq!(parse_money("25.505", "EUR"), None);
        assert_eq!(parse_money("-1", "EUR"), None);
        assert_eq!(parse_money("abc", "EUR"), None);
        assert_eq!(parse_money("500", "JPY"), Some(500));
        assert_eq!(parse_money("5.5", "JPY"), None);
        assert_eq!(parse_money("1", "XXX"), None);
    }
}
