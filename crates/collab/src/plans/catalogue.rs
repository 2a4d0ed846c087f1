//! The plans as a pure rule: what each costs and allows, and how a change between two takes effect.

use chrono::{DateTime, Months, Utc};

/// A plan: its monthly price (in US cents) and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub name: &'static str,
    pub price_minor: i64,
    /// Open projects (neither completed nor cancelled); `None` for no limit.
    pub open_projects: Option<i64>,
    /// People on the organization's projects besides its owners.
    pub collaborators: i64,
    pub storage_bytes: i64,
}

/// What plans are priced in.
pub const CURRENCY: &str = "USD";

pub const FREE: Plan =
    Plan { name: "free", price_minor: 0, open_projects: Some(2), collaborators: 1, storage_bytes: 250_000_000 };
pub const PRO: Plan =
    Plan { name: "pro", price_minor: 1900, open_projects: None, collaborators: 5, storage_bytes: 10_000_000_000 };
pub const TEAM: Plan =
    Plan { name: "team", price_minor: 4900, open_projects: None, collaborators: 25, storage_bytes: 100_000_000_000 };

pub const PLANS: [Plan; 3] = [FREE, PRO, TEAM];

/// The plan of this name.
pub fn plan(name: &str) -> Option<Plan> {
    PLANS.into_iter().find(|p| p.name == name)
}

/// How a change from one plan to another takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing to do (the same plan, nothing scheduled).
    Nothing,
    /// Charged now for a new month that starts now.
    Upgrade,
    /// Waits for the period's end.
    AtPeriodEnd,
    /// A scheduled change is called off: the plan simply continues.
    KeepCurrent,
}

/// How moving from `current` (with `next` scheduled) to `target` happens: a dearer plan now, a cheaper
/// one at the period's end.
pub fn change(current: Plan, next: Option<Plan>, target: Plan) -> Change {
    if target == current {
        return if next.is_some_and(|n| n != current) { Change::KeepCurrent } else { Change::Nothing };
    }
    if target.price_minor > current.price_minor { Change::Upgrade } else { Change::AtPeriodEnd }
}

/// What is left unused at `now` of the charges paid for a plan's periods (amount, start, end): each
/// charge's share of its period still to come, summed and rounded down to the minor unit. What was
/// paid for a period that has not started is unused whole; for one that has ended, not at all.
pub fn unused(charges: &[(i64, DateTime<Utc>, DateTime<Utc>)], now: DateTime<Utc>) -> i64 {
    // In millionths of the minor unit, so that shares add before the one rounding.
    const PARTS: i128 = 1_000_000;
    let parts: i128 = charges
        .iter()
        .map(|&(amount, start, end)| {
            let length = (end - start).num_milliseconds().max(1);
            let left = (end - now.max(start)).num_milliseconds().clamp(0, length);
            i128::from(amount) * i128::from(left) * PARTS / i128::from(length)
        })
        .sum();
    i64::try_from(parts / PARTS).unwrap_or(0)
}

/// A month after `start` (the same day of the next month, or its last day).
pub fn month_after(start: DateTime<Utc>) -> DateTime<Utc> {
    start.checked_add_months(Months::new(1)).unwrap_or(start + chrono::Duration::days(30))
}

/// How long before a period's end its renewal is first charged (then daily until the end).
pub const RENEW_BEFORE: chrono::Duration = chrono::Duration::days(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dearer_plans_start_now_and_cheaper_ones_at_the_period_end() {
        assert_eq!(change(FREE, None, PRO), Change::Upgrade);
        assert_eq!(change(PRO, None, TEAM), Change::Upgrade);
        assert_eq!(change(TEAM, None, PRO), Change::AtPeriodEnd);
        assert_eq!(change(PRO, None, FREE), Change::AtPeriodEnd);
        assert_eq!(change(PRO, None, PRO), Change::Nothing);
        assert_eq!(change(PRO, Some(FREE), PRO), Change::KeepCurrent);
        assert_eq!(change(PRO, Some(PRO), PRO), Change::Nothing);
    }

    #[test]
    fn what_is_left_of_a_period_is_credited_to_the_minor_unit_rounded_down() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let (start, end) = (at("2027-01-01T00:00:00Z"), at("2027-01-31T00:00:00Z"));
        let pro = [(1900, start, end)];
        assert_eq!(unused(&pro, start), 1900, "nothing used at its start");
        assert_eq!(unused(&pro, at("2026-12-20T00:00:00Z")), 1900, "before it starts");
        assert_eq!(unused(&pro, at("2027-01-16T00:00:00Z")), 950, "half");
        // 19.00 × 29/30 = 18.3666…: 18.36.
        assert_eq!(unused(&pro, at("2027-01-02T00:00:00Z")), 1836);
        assert_eq!(unused(&pro, end - chrono::Duration::milliseconds(1)), 0, "a millisecond of 19.00");
        assert_eq!(unused(&pro, end), 0, "at its end");
        assert_eq!(unused(&pro, at("2027-03-01T00:00:00Z")), 0, "after it");
        // A renewal already paid for the next period counts whole; fractions add before rounding
        // (two thirds of a cent twice is one cent).
        let next = (1900, end, at("2027-02-28T00:00:00Z"));
        assert_eq!(unused(&[pro[0], next], at("2027-01-16T00:00:00Z")), 2850);
        let third = |amount| (amount, start, start + chrono::Duration::seconds(3));
        assert_eq!(unused(&[third(1), third(1)], start + chrono::Duration::seconds(1)), 1);
        assert_eq!(unused(&[], start), 0);
    }

    #[test]
    fn a_month_ends_on_the_same_day_or_the_last_one() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(month_after(at("2026-01-15T10:00:00Z")), at("2026-02-15T10:00:00Z"));
        assert_eq!(month_after(at("2026-01-31T10:00:00Z")), at("2026-02-28T10:00:00Z"));
        assert_eq!(month_after(at("2026-12-31T23:59:59Z")), at("2027-01-31T23:59:59Z"));
    }

    #[test]
    fn the_catalogue_matches_the_product() {
        assert_eq!(plan("free").unwrap().open_projects, Some(2));
        assert_eq!((PRO.price_minor, PRO.storage_bytes, PRO.collaborators), (1900, 10_000_000_000, 5));
        assert_eq!((TEAM.price_minor, TEAM.storage_bytes, TEAM.collaborators), (4900, 100_000_000_000, 25));
        assert_eq!(plan("gold"), None);
    }
}
