//! iCalendar (RFC 5545) feeds of an artist's or a venue's bookings: CRLF lines folded at 75 octets,
//! text escaped, times in UTC.

use chrono::{DateTime, Utc};

/// One booking as a calendar event.
pub struct Entry {
    pub uid: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub location: Option<String>,
    pub description: String,
    /// `CONFIRMED`, `TENTATIVE` or `CANCELLED`.
    pub status: &'static str,
    pub updated_at: DateTime<Utc>,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

pub fn feed(name: &str, entries: &[Entry], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Backline//Booking calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(line, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", escape(name)), &mut out);
    for e in entries {
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", e.uid), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(now)), &mut out);
        fold(&format!("LAST-MODIFIED:{}", stamp(e.updated_at)), &mut out);
        fold(&format!("DTSTART:{}", stamp(e.starts_at)), &mut out);
        fold(&format!("DTEND:{}", stamp(e.ends_at)), &mut out);
        fold(&format!("SUMMARY:{}", escape(&e.summary)), &mut out);
        if let Some(location) = &e.location {
            fold(&format!("LOCATION:{}", escape(location)), &mut out);
        }
        fold(&format!("DESCRIPTION:{}", escape(&e.description)), &mut out);
        fold(&format!("STATUS:{}", e.status), &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "ü".repeat(60)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "ü".repeat(60)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn an_independent_parser_reads_the_feed() {
        let now = Utc::now();
        let entry = Entry {
            uid: "b1@backline".into(),
            starts_at: now,
            ends_at: now + chrono::Duration::hours(2),
            summary: "Nova Rae, live; with friends".into(),
            location: Some("The Velvet Room, Berlin".into()),
            description: "Fee agreed.\nSoundcheck 17:00.".into(),
            status: "CONFIRMED",
            updated_at: now,
        };
        let text = feed("Nova Rae", &[entry], now);
        let mut reader = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
        let calendar = reader.next().unwrap().unwrap();
        assert_eq!(calendar.events.len(), 1);
        let summary = calendar.events[0].properties.iter().find(|p| p.name == "SUMMARY").unwrap();
        assert_eq!(summary.value.as_deref(), Some("Nova Rae\\, live\\; with friends"));
    }
}
