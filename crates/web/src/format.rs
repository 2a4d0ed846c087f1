//! How pages show money and times: in the viewer's time zone and with their locale's separators. The
//! session layer runs each request inside [`for_viewer`] with the signed-in user's profile settings;
//! anything rendered outside one (signed out, a background stream) reads as UTC and English.

use std::future::Future;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Whose eyes a page is for: their time zone and locale (a language tag such as `de-DE`).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub zone: Tz,
    pub locale: String,
}

impl Default for Viewer {
    fn default() -> Self {
        Self { zone: Tz::UTC, locale: "en".into() }
    }
}

impl Viewer {
    /// From a profile's settings; an unknown time zone reads as UTC.
    pub fn of(timezone: &str, locale: &str) -> Self {
        Self { zone: timezone.parse().unwrap_or(Tz::UTC), locale: locale.to_owned() }
    }

    /// The locale's digit-group and decimal separators.
    fn separators(&self) -> (&'static str, char) {
        let language = self.locale.split(['-', '_']).next().unwrap_or("en").to_ascii_lowercase();
        match language.as_str() {
            "de" | "es" | "it" | "nl" | "pt" | "da" | "tr" | "id" | "el" | "ro" | "hr" | "sl" => (".", ','),
            "fr" | "sv" | "nb" | "nn" | "no" | "fi" | "cs" | "sk" | "pl" | "ru" | "uk" | "hu" | "bg" | "et" | "lt"
            | "lv" => ("\u{202f}", ','),
            _ => (",", '.'),
        }
    }
}

tokio::task_local! {
    static VIEWER: Viewer;
}

/// Runs `work` (a request) with `viewer`'s settings for everything it formats.
pub async fn for_viewer<F: Future>(viewer: Viewer, work: F) -> F::Output {
    VIEWER.scope(viewer, work).await
}

/// The settings of the request being rendered.
pub fn viewer() -> Viewer {
    VIEWER.try_with(Clone::clone).unwrap_or_default()
}

/// An amount in minor units, in its currency, as the viewer writes numbers (`1,234.50 EUR`,
/// `1.234,50 EUR`).
pub fn money(minor: i64, currency: &str) -> String {
    money_for(&viewer(), minor, currency)
}

fn money_for(viewer: &Viewer, minor: i64, currency: &str) -> String {
    let Some(parsed) = ledger::model::Currency::parse(currency) else { return format!("{minor} {currency}") };
    let exponent = u32::from(parsed.exponent());
    let unit = 10u64.pow(exponent);
    let abs = minor.unsigned_abs();
    let (group, decimal) = viewer.separators();
    let digits = (abs / unit).to_string();
    let mut whole = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            whole.push_str(group);
        }
        whole.push(c);
    }
    let sign = if minor < 0 { "-" } else { "" };
    if exponent == 0 {
        format!("{sign}{whole} {currency}")
    } else {
        format!("{sign}{whole}{decimal}{:0width$} {currency}", abs % unit, width = exponent as usize)
    }
}

/// An amount as a form's input holds it: `1500.00`, no grouping, a point.
pub fn plain(minor: i64, currency: &str) -> String {
    money_for(&Viewer::default(), minor, currency).split(' ').next().unwrap_or_default().replace(',', "")
}

/// A moment in the viewer's time zone: `Sat 12 Dec 2026, 21:00 CET`.
pub fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&viewer().zone).format("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// A wait, roughly, as a person says it: `less than a minute`, `about 3 minutes`, `about 2 hours`.
pub fn duration_seconds(seconds: i64) -> String {
    match seconds {
        ..60 => "less than a minute".to_owned(),
        60..120 => "about a minute".to_owned(),
        120..3600 => format!("about {} minutes", (seconds + 30) / 60),
        3600..7200 => "about an hour".to_owned(),
        _ => format!("about {} hours", (seconds + 1800) / 3600),
    }
}

/// The time of day of a moment in the viewer's time zone: `23:00 CET`.
pub fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&viewer().zone).format("%H:%M %Z").to_string()
}

/// The viewer's calendar day of a moment.
pub fn day(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&viewer().zone).date_naive()
}

/// A moment as a `datetime-local` input holds it, in the viewer's time zone.
pub fn local_input(at: DateTime<Utc>) -> String {
    at.with_timezone(&viewer().zone).format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` value, read in the viewer's time zone (the earlier of an hour that happens twice;
/// `None` for an hour skipped by a clock change, or text that is not a date and time).
pub fn parse_local(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok()?;
    match viewer().zone.from_local_datetime(&naive) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// An amount typed in major units (`25`, `25.5`, `1,234.50`, `1.234,50`) in minor units of `currency`;
/// `None` when it is not a number with at most the currency's decimals. With both a point and a comma,
/// the last one is the decimal separator; a lone one is always decimal.
pub fn parse_money(text: &str, currency: &str) -> Option<i64> {
    let exponent = u32::from(ledger::model::Currency::parse(currency)?.exponent());
    let text: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '\u{202f}' | '\u{a0}' | '\'')).collect();
    let text = match (text.rfind('.'), text.rfind(',')) {
        (Some(p), Some(c)) if p > c => text.replace(',', ""),
        (Some(_), Some(_)) => text.replace('.', "").replace(',', "."),
        _ => text.replace(',', "."),
    };
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

/// A file size as people read it: 512 B, 4.2 KB, 38.1 MB, 1.20 GB (powers of 1,000, as file managers show).
pub fn bytes(size: i64) -> String {
    let size = size.max(0) as f64;
    match size {
        s if s < 1e3 => format!("{s} B"),
        // A size that would round up to the next unit's 1,000 is shown in that unit.
        s if s < 999.95e3 => format!("{:.1} KB", s / 1e3),
        s if s < 999.95e6 => format!("{:.1} MB", s / 1e6),
        s => format!("{:.2} GB", s / 1e9),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waits_read_as_people_say_them() {
        use super::duration_seconds as d;
        assert_eq!(d(0), "less than a minute");
        assert_eq!(d(59), "less than a minute");
        assert_eq!(d(60), "about a minute");
        assert_eq!(d(119), "about a minute");
        assert_eq!(d(120), "about 2 minutes");
        assert_eq!(d(3599), "about 60 minutes");
        assert_eq!(d(3600), "about an hour");
        assert_eq!(d(7200), "about 2 hours");
        assert_eq!(d(9000), "about 3 hours");
    }

    use super::*;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_000), "1.0 KB");
        assert_eq!(bytes(38_149_999), "38.1 MB");
        assert_eq!(bytes(999_949_999), "999.9 MB");
        assert_eq!(bytes(999_950_000), "1.00 GB");
        assert_eq!(bytes(1_200_000_000), "1.20 GB");
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn money_and_times_read_as_people_write_them() {
        assert_eq!(money(1250, "EUR"), "12.50 EUR");
        assert_eq!(money(123_456_789, "EUR"), "1,234,567.89 EUR");
        assert_eq!(money(-100_000, "EUR"), "-1,000.00 EUR");
        assert_eq!(money(500, "JPY"), "500 JPY");
        assert_eq!(when(at("2026-12-12T20:00:00Z")), "Sat 12 Dec 2026, 20:00 UTC");
        assert_eq!(plain(150_000, "EUR"), "1500.00");
        assert_eq!(plain(1_500, "JPY"), "1500");
    }

    #[tokio::test]
    async fn a_viewer_sees_their_time_zone_and_their_locale_s_separators() {
        let berlin = Viewer::of("Europe/Berlin", "de-DE");
        let shown = for_viewer(berlin.clone(), async {
            (money(123_456_789, "EUR"), when(at("2026-12-12T20:00:00Z")), when(at("2026-07-01T20:00:00Z")))
        })
        .await;
        assert_eq!(shown.0, "1.234.567,89 EUR");
        assert_eq!(shown.1, "Sat 12 Dec 2026, 21:00 CET");
        assert_eq!(shown.2, "Wed 1 Jul 2026, 22:00 CEST");
        let paris = for_viewer(Viewer::of("Europe/Paris", "fr"), async { money(123_456, "EUR") }).await;
        assert_eq!(paris, "1\u{202f}234,56 EUR");
        // An unknown zone reads as UTC; outside a request, everything is UTC and English.
        assert_eq!(Viewer::of("Mars/Olympus", "en").zone, Tz::UTC);
        assert_eq!(money(123_456, "EUR"), "1,234.56 EUR");
        // Typed times are read in the viewer's zone, both sides of a clock change.
        let typed = for_viewer(berlin, async {
            (
                parse_local("2026-12-12T21:00"),
                parse_local("2026-03-29T02:30"),
                parse_local("2026-10-25T02:30"),
                local_input(at("2026-12-12T20:00:00Z")),
            )
        })
        .await;
        assert_eq!(typed.0, Some(at("2026-12-12T20:00:00Z")));
        assert_eq!(typed.1, None, "02:30 does not exist on the morning clocks go forward");
        assert_eq!(typed.2, Some(at("2026-10-25T00:30:00Z")), "the earlier of the two 02:30s");
        assert_eq!(typed.3, "2026-12-12T21:00");
    }

    #[test]
    fn typed_amounts_become_minor_units_at_the_currency_s_precision() {
        assert_eq!(parse_money("25", "EUR"), Some(2500));
        assert_eq!(parse_money("25.5", "EUR"), Some(2550));
        assert_eq!(parse_money("25,05", "EUR"), Some(2505));
        assert_eq!(parse_money("1,234.50", "EUR"), Some(123_450));
        assert_eq!(parse_money("1.234,50", "EUR"), Some(123_450));
        assert_eq!(parse_money("1 234,50", "EUR"), Some(123_450));
        assert_eq!(parse_money("0", "EUR"), Some(0));
        assert_eq!(parse_money("25.505", "EUR"), None);
        assert_eq!(parse_money("-1", "EUR"), None);
        assert_eq!(parse_money("abc", "EUR"), None);
        assert_eq!(parse_money("500", "JPY"), Some(500));
        assert_eq!(parse_money("5.5", "JPY"), None);
        assert_eq!(parse_money("1", "XXX"), None);
    }
}
