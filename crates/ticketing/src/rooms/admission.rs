//! How many places a room admits: `rate_per_minute` places a minute, counted from an anchor instant, so
//! that no fraction of a place is ever lost between counts (a rate of 90 a minute counted at any cadence
//! admits exactly 90 in a minute). Never more buyers holding a live pass than tickets are left to buy:
//! admitting them would only make people wait inside instead of outside.

use chrono::{DateTime, Utc};

/// Where counting stands: admissions are due from `from` at the rate; `counted` of them were admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub from: DateTime<Utc>,
    pub counted: i64,
}

/// The outcome of one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Places to admit now.
    pub admit: i64,
    /// Where counting stands after it.
    pub next: Count,
}

/// Places due by `now` at `rate_per_minute` since `count.from`, less those counted, at most `room_for`
/// (tickets left to buy minus live passes; zero or less admits nobody) and at most `waiting` (places not
/// yet admitted). What the cap holds back is not banked: counting starts again from `now`.
pub fn count(rate_per_minute: i64, count: Count, now: DateTime<Utc>, room_for: i64, waiting: i64) -> Admission {
    if now <= count.from || rate_per_minute <= 0 {
        return Admission { admit: 0, next: count };
    }
    let elapsed_ms = (now - count.from).num_milliseconds();
    let due = (elapsed_ms.saturating_mul(rate_per_minute) / 60_000 - count.counted).max(0);
    let cap = room_for.min(waiting).max(0);
    if due > cap {
        return Admission { admit: cap, next: Count { from: now, counted: 0 } };
    }
    Admission { admit: due, next: Count { from: count.from, counted: count.counted + due } }
}

/// An honest estimate of a wait: the places ahead at the rate, in whole seconds, rounded up.
pub fn wait_seconds(ahead: i64, rate_per_minute: i64) -> i64 {
    if ahead <= 0 || rate_per_minute <= 0 {
        return 0;
    }
    (ahead * 60 + rate_per_minute - 1) / rate_per_minute
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    fn start() -> Count {
        Count { from: t(0), counted: 0 }
    }

    #[test]
    fn the_rate_is_kept_exactly_at_any_cadence() {
        // 90 a minute counted every 700 ms (or 1,000, or 333) for a minute admits exactly 90.
        for step in [700, 1000, 333, 59_999] {
            let (mut at, mut total, mut count_now) = (0, 0, start());
            while at < 60_000 {
                at = (at + step).min(60_000);
                let a = count(90, count_now, t(at), i64::MAX, i64::MAX);
                total += a.admit;
                count_now = a.next;
            }
            assert_eq!(total, 90, "counted every {step} ms");
        }
    }

    #[test]
    fn boundaries_of_one_place() {
        // 60 a minute: one place a second; 999 ms is not yet a place, 1000 ms is.
        assert_eq!(count(60, start(), t(999), 10, 10).admit, 0);
        assert_eq!(count(60, start(), t(1000), 10, 10), Admission { admit: 1, next: Count { from: t(0), counted: 1 } });
        let after_one = Count { from: t(0), counted: 1 };
        assert_eq!(count(60, after_one, t(1999), 10, 10).admit, 0);
        assert_eq!(count(60, after_one, t(2000), 10, 10).admit, 1);
        // No time, or time going backwards, admits nobody.
        assert_eq!(count(60, start(), t(0), 10, 10).admit, 0);
        assert_eq!(count(60, Count { from: t(5000), counted: 0 }, t(4000), 10, 10).admit, 0);
    }

    #[test]
    fn the_cap_holds_and_is_not_banked() {
        // Ten seconds at one a second is ten places, but only 3 tickets are left to buy.
        assert_eq!(
            count(60, start(), t(10_000), 3, 100),
            Admission { admit: 3, next: Count { from: t(10_000), counted: 0 } }
        );
        // Nobody left waiting, or no room at all.
        assert_eq!(count(60, start(), t(10_000), 100, 4).admit, 4);
        assert_eq!(count(60, start(), t(10_000), 0, 100).admit, 0);
        assert_eq!(count(60, start(), t(10_000), -5, 100).admit, 0);
        // Exactly at the cap, counting goes on from where it was.
        assert_eq!(
            count(60, start(), t(10_500), 10, 10),
            Admission { admit: 10, next: Count { from: t(0), counted: 10 } }
        );
    }

    #[test]
    fn estimates_round_up() {
        assert_eq!(wait_seconds(0, 60), 0);
        assert_eq!(wait_seconds(1, 60), 1);
        assert_eq!(wait_seconds(1, 61), 1);
        assert_eq!(wait_seconds(61, 60), 61);
        assert_eq!(wait_seconds(100, 600), 10);
        assert_eq!(wait_seconds(101, 600), 11);
        assert_eq!(wait_seconds(5, 0), 0);
    }
}
