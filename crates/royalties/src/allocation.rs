//! Sharing a summary record's revenue among its usage lines, exactly. A line's revenue is the
//! summary's revenue × its usages / the summary's total usages (DDEX's rule for the Basic Audio
//! Profile), kept in units of 10⁻¹⁰ and rounded by the running-sum method: each line gets
//! `round(R × C_i / T) − round(R × C_{i−1} / T)`, where `C_i` is the usages of the summary's lines so
//! far. The shares of a summary add up to its revenue to the last unit whatever the order or the
//! number of files, each within one unit of its exact value, and the lines are shared as they stream
//! by, with nothing held but a running count per summary.

use foldhash::HashMap;

/// Decimal places kept: amounts are whole numbers of 10⁻¹⁰.
pub const SCALE: u32 = 10;
const ONE: i128 = 10_000_000_000;

/// An exact decimal (`12.345678`, `-0.5`) in units of 10⁻¹⁰; none when it has more decimals than
/// [`SCALE`] or more than 18 whole digits.
pub fn units(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || whole.len() > 18
        || fraction.len() > SCALE as usize
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction: i128 = format!("{fraction:0<10}").parse().ok()?;
    let value = whole * ONE + fraction;
    Some(if negative { -value } else { value })
}

/// Units of 10⁻¹⁰ as exact decimal text with all ten places (`12.3456780000`).
pub fn text(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    format!("{sign}{}.{:010}", abs / ONE as u128, abs % ONE as u128)
}

/// `a × b / c` rounded half away from zero, without overflow for the amounts a report holds.
fn round_div(a: i128, b: i128, c: i128) -> i128 {
    // Most lines' amounts fit in 64 bits, which the processor divides itself (128-bit division is a
    // library call, and this runs once a line).
    if let (Ok(a), Ok(b), Ok(c)) = (i64::try_from(a), i64::try_from(b), i64::try_from(c))
        && let Some(n) = a.checked_mul(b).filter(|n| *n != i64::MIN)
        && c != 0
    {
        let (q, r) = (n / c, n % c);
        return i128::from(if 2 * r.unsigned_abs() >= c.unsigned_abs() { q + n.signum() * c.signum() } else { q });
    }
    let n = a * b;
    let q = n / c;
    let r = n % c;
    if 2 * r.abs() >= c.abs() { q + n.signum() * c.signum() } else { q }
}

/// One summary's running share.
#[derive(Debug, Clone)]
struct Share {
    revenue: i128,
    total: i128,
    so_far: i128,
    given: i128,
}

impl Share {
    /// The share of a line of `usages`: what the running total's share has grown by.
    fn next(&mut self, usages: i64) -> i128 {
        if self.total == 0 {
            return 0;
        }
        self.so_far += i128::from(usages);
        let target = round_div(self.revenue, self.so_far, self.total);
        let out = target - self.given;
        self.given = target;
        out
    }
}

/// The running shares of a report's summaries, across all its files.
#[derive(Debug, Default, Clone)]
pub struct Allocation {
    shares: HashMap<String, Share>,
}

impl Allocation {
    /// Goes past lines of summary `id` of `usages` in all, as [`Allocation::next`] would have, line by
    /// line (what a share has given depends only on the usages so far).
    pub fn skip(&mut self, id: &str, revenue: i128, total: i64, usages: i64) {
        let share = self.shares.entry(id.to_owned()).or_insert(Share {
            revenue,
            total: i128::from(total),
            so_far: 0,
            given: 0,
        });
        if share.total != 0 {
            share.so_far += i128::from(usages);
            share.given = round_div(share.revenue, share.so_far, share.total);
        }
    }

    /// The revenue of the next line of summary `id` (revenue `revenue` units over `total` usages).
    pub fn next(&mut self, id: &str, revenue: i128, total: i64, usages: i64) -> i128 {
        if let Some(share) = self.shares.get_mut(id) {
            return share.next(usages);
        }
        let mut share = Share { revenue, total: i128::from(total), so_far: 0, given: 0 };
        let out = share.next(usages);
        self.shares.insert(id.to_owned(), share);
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `round_div` in 128 bits only, to hold its 64-bit path to.
    fn round_div_wide(a: i128, b: i128, c: i128) -> i128 {
        let n = a * b;
        let (q, r) = (n / c, n % c);
        if 2 * r.abs() >= c.abs() { q + n.signum() * c.signum() } else { q }
    }

    #[test]
    fn the_64_bit_division_rounds_as_the_wide_one_at_its_edges() {
        let edges = [0, 1, -1, 2, -2, 3, 7, i64::MAX as i128, i64::MIN as i128, i64::MAX as i128 + 1, 3_037_000_499];
        for a in edges {
            for b in edges {
                for c in edges.into_iter().filter(|c| *c != 0) {
                    if a.checked_mul(b).is_some() {
                        assert_eq!(round_div(a, b, c), round_div_wide(a, b, c), "{a} × {b} / {c}");
                    }
                }
            }
        }
        assert_eq!(round_div(5, 1, 2), 3, "half away from zero");
        assert_eq!(round_div(-5, 1, 2), -3);
        assert_eq!(round_div(5, 1, -2), -3);
    }

    proptest! {
        #[test]
        fn the_64_bit_division_rounds_as_the_wide_one(a in -(1i128 << 62)..(1i128 << 62), b in 0i128..(1 << 40), c in 1i128..(1 << 50)) {
            prop_assert_eq!(round_div(a, b, c), round_div_wide(a, b, c));
            prop_assert_eq!(round_div(a, b, -c), round_div_wide(a, b, -c));
        }
    }

    #[test]
    fn decimals_read_and_write_exactly() {
        assert_eq!(units("12.345678"), Some(123_456_780_000));
        assert_eq!(units("-0.5"), Some(-5_000_000_000));
        assert_eq!(units("0.0000000001"), Some(1));
        assert_eq!(units("0.00000000001"), None, "more places than kept");
        assert_eq!(units("1234567890123456789"), None, "more whole digits than kept");
        assert_eq!(text(123_456_780_000), "12.3456780000");
        assert_eq!(text(-5_000_000_000), "-0.5000000000");
        assert_eq!(text(1), "0.0000000001");
    }

    #[test]
    fn three_equal_lines_share_a_unit_that_does_not_divide() {
        let mut a = Allocation::default();
        let shares: Vec<i128> = (0..3).map(|_| a.next("1", 1, 3, 1)).collect();
        assert_eq!(shares.iter().sum::<i128>(), 1);
        assert!(shares.iter().all(|s| (0..=1).contains(s)), "{shares:?}");
    }

    #[test]
    fn a_summary_without_usages_shares_nothing() {
        assert_eq!(Allocation::default().next("1", 1_000, 0, 0), 0);
    }

    proptest! {
        /// Whatever the lines and their order, the shares add up to the revenue exactly, and each is
        /// within one unit of its exact value.
        #[test]
        fn shares_add_up_exactly(revenue in 0i128..1_000_000_000_000_000, usages in proptest::collection::vec(0i64..100_000, 1..200)) {
            let total: i64 = usages.iter().sum();
            let mut a = Allocation::default();
            let mut sum = 0i128;
            for u in &usages {
                let share = a.next("s", revenue, total, *u);
                if total > 0 {
                    let exact = revenue as f64 * *u as f64 / total as f64;
                    prop_assert!((share as f64 - exact).abs() <= 1.0 + exact * 1e-12, "{share} vs {exact}");
                }
                sum += share;
            }
            prop_assert_eq!(sum, if total > 0 { revenue } else { 0 });
        }
    }
}
