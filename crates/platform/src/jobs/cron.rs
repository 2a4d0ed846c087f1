//! Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC: `*`,
//! numbers, ranges `a-b`, lists `a,b`, and steps `*/n` or `a-b/n`. Day of week is 0–7 (0 and 7 are
//! Sunday). As in Vixie cron, when both day fields are restricted, a day matching either one matches.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    days_restricted: bool,
    weekdays_restricted: bool,
}

fn field(text: &str, min: u32, max: u32, name: &str) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().map_err(|_| format!("bad step in {name}: `{part}`"))?),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("step 0 in {name}"));
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = a.parse().map_err(|_| format!("bad {name}: `{part}`"))?;
            let b = b.parse().map_err(|_| format!("bad {name}: `{part}`"))?;
            (a, b)
        } else {
            let v = range.parse().map_err(|_| format!("bad {name}: `{part}`"))?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{name} out of range {min}-{max}: `{part}`"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

impl Cron {
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = parts.as_slice() else {
            return Err(format!("a cron expression has five fields, `{text}` has {}", parts.len()));
        };
        let mut weekdays = field(weekday, 0, 7, "day of week")?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Self {
            minutes: field(minute, 0, 59, "minute")?,
            hours: u32::try_from(field(hour, 0, 23, "hour")?).map_err(|e| e.to_string())?,
            days: u32::try_from(field(day, 1, 31, "day of month")?).map_err(|e| e.to_string())?,
            months: u16::try_from(field(month, 1, 12, "month")?).map_err(|e| e.to_string())?,
            weekdays: u8::try_from(weekdays & 0x7f).map_err(|e| e.to_string())?,
            days_restricted: *day != "*",
            weekdays_restricted: *weekday != "*",
        })
    }

    fn day_matches(&self, t: DateTime<Utc>) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            _ => dom && dow,
        }
    }

    /// The first matching minute strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let start = after.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(after) + Duration::minutes(1);
        let mut t = start;
        // Four years bound every expression that can match at all (29 February).
        let limit = start + Duration::days(4 * 366);
        while t < limit {
            if self.months & (1 << t.month()) == 0 {
                let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
                t = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().unwrap_or(limit);
                continue;
            }
            if !self.day_matches(t) {
                t = Utc.with_ymd_and_hms(t.year(), t.month(), t.day(), 0, 0, 0).single().unwrap_or(limit)
                    + Duration::days(1);
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t.with_minute(0).unwrap_or(t) + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t += Duration::minutes(1);
                continue;
            }
            return t;
        }
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_times() {
        let cases = [
            ("* * * * *", "2026-01-01T10:00:30Z", "2026-01-01T10:01:00Z"),
            ("*/15 * * * *", "2026-01-01T10:14:59Z", "2026-01-01T10:15:00Z"),
            ("*/15 * * * *", "2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z"),
            ("0 3 * * *", "2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z"),
            ("30 9 * * 1-5", "2026-01-02T10:00:00Z", "2026-01-05T09:30:00Z"), // Friday → Monday
            ("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"),
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("0 12 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T12:00:00Z"), // 7 is Sunday
            ("0 0 13 * 5", "2026-02-01T00:00:00Z", "2026-02-06T00:00:00Z"), // either day field
            ("5,10 23 31 12 *", "2026-12-31T23:07:00Z", "2026-12-31T23:10:00Z"),
            ("5,10 23 31 12 *", "2026-12-31T23:10:00Z", "2027-12-31T23:05:00Z"),
        ];
        for (expr, after, expected) in cases {
            assert_eq!(Cron::parse(expr).unwrap().next_after(at(after)), at(expected), "{expr} after {after}");
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }
}
