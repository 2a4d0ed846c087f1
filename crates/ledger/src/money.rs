//! Money arithmetic: amounts are integers in minor units. This module is the one place where a sub-unit
//! amount is rounded to minor units, and where an amount is split among payees: by the largest-remainder
//! method with a deterministic tie-break, so the parts always sum exactly to the whole.

/// Basis points in a whole: splits must sum to exactly this.
pub const WHOLE_BPS: u32 = 10_000;

/// Rounds `numerator / denominator` to the nearest integer, halves to even (banker's rounding), so that
/// rounding many amounts does not drift in one direction. `denominator` must be positive.
pub fn round_half_even(numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0, "denominator must be positive");
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    match (remainder * 2).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => {
            if quotient % 2 == 0 {
                quotient
            } else {
                quotient + 1
            }
        }
    }
}

/// Splits `total` (≥ 0) in proportion to `weights`: each part gets the floor of its exact share, and the
/// units left over go one each to the largest fractional remainders; equal remainders go to the earlier
/// payee. The parts always sum to `total`. With no positive weight, everything goes to nobody: `None`.
pub fn allocate(total: i64, weights: &[u64]) -> Option<Vec<i64>> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if sum == 0 || total < 0 {
        return None;
    }
    let total_u = u128::try_from(total).ok()?;
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut given: u128 = 0;
    for (i, weight) in weights.iter().enumerate() {
        let exact = total_u * u128::from(*weight);
        let floor = exact / sum;
        given += floor;
        parts.push(i64::try_from(floor).ok()?);
        remainders.push((exact % sum, i));
    }
    // Largest remainder first; equal remainders: lowest index first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = usize::try_from(total_u - given).ok()?;
    for (_, i) in remainders.into_iter().take(left) {
        parts[i] += 1;
    }
    Some(parts)
}

/// `bps` basis points of `amount`, rounded half-even to minor units: the one place shares are rounded.
pub fn share_bps(amount: i64, bps: i64) -> i64 {
    i64::try_from(round_half_even(i128::from(amount) * i128::from(bps), i128::from(WHOLE_BPS)))
        .unwrap_or(if (amount < 0) == (bps < 0) { i64::MAX } else { i64::MIN })
}

/// Splits `total` by basis points that must sum to exactly 10,000.
pub fn split_bps(total: i64, bps: &[u32]) -> Result<Vec<i64>, String> {
    let sum: u64 = bps.iter().map(|b| u64::from(*b)).sum();
    if sum != u64::from(WHOLE_BPS) {
        return Err(format!("the shares sum to {sum} basis points; they must sum to exactly {WHOLE_BPS}"));
    }
    let weights: Vec<u64> = bps.iter().map(|b| u64::from(*b)).collect();
    allocate(total, &weights).ok_or_else(|| "the total must not be negative".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_round_half_even() {
        assert_eq!(share_bps(110, 500), 6); // 5.5 -> 6
        assert_eq!(share_bps(130, 500), 6); // 6.5 -> 6
        assert_eq!(share_bps(2_750, 500), 138); // 137.5 -> 138
        assert_eq!(share_bps(100, 10_000), 100);
        assert_eq!(share_bps(0, 3_333), 0);
    }

    #[test]
    fn rounding_halves_go_to_even() {
        assert_eq!(round_half_even(5, 2), 2); // 2.5
        assert_eq!(round_half_even(7, 2), 4); // 3.5
        assert_eq!(round_half_even(-5, 2), -2);
        assert_eq!(round_half_even(-7, 2), -4);
        assert_eq!(round_half_even(10, 4), 2); // 2.5
        assert_eq!(round_half_even(11, 4), 3); // 2.75
        assert_eq!(round_half_even(9, 4), 2); // 2.25
        assert_eq!(round_half_even(0, 7), 0);
    }

    #[test]
    fn seventy_twenty_ten() {
        assert_eq!(split_bps(1000, &[7000, 2000, 1000]).unwrap(), [700, 200, 100]);
        assert_eq!(split_bps(1, &[7000, 2000, 1000]).unwrap(), [1, 0, 0]);
        assert_eq!(split_bps(99, &[7000, 2000, 1000]).unwrap(), [69, 20, 10]);
        // A third each: the odd cent goes to the first payee.
        assert_eq!(split_bps(100, &[3334, 3333, 3333]).unwrap(), [34, 33, 33]);
        assert_eq!(allocate(100, &[1, 1, 1]).unwrap(), [34, 33, 33]);
        assert_eq!(allocate(2, &[1, 1, 1]).unwrap(), [1, 1, 0]);
        assert!(split_bps(100, &[5000, 4999]).is_err());
        assert!(split_bps(100, &[5000, 5001]).is_err());
        assert_eq!(allocate(10, &[0, 0]), None);
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_whole(total in 0i64..=1_000_000_000_000, weights in proptest::collection::vec(0u64..=1_000_000, 1..12)) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let parts = allocate(total, &weights).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
            for (part, weight) in parts.iter().zip(&weights) {
                // Every part is within one unit of its exact share, and a zero weight gets nothing.
                let exact = u128::try_from(total).unwrap() * u128::from(*weight);
                let floor = i64::try_from(exact / sum).unwrap();
                prop_assert!(*part == floor || *part == floor + 1);
                if *weight == 0 { prop_assert_eq!(*part, 0); }
            }
        }

        #[test]
        fn allocation_is_deterministic_and_monotonic_in_ties(total in 0i64..1_000_000, n in 1usize..10) {
            let weights = vec![1u64; n];
            let parts = allocate(total, &weights).unwrap();
            prop_assert_eq!(&parts, &allocate(total, &weights).unwrap());
            prop_assert!(parts.windows(2).all(|w| w[0] >= w[1]), "earlier payees win ties: {:?}", parts);
        }

        #[test]
        fn rounding_is_within_half_a_unit(n in -1_000_000_000i128..1_000_000_000, d in 1i128..1_000_000) {
            let r = round_half_even(n, d);
            prop_assert!((r * d - n).abs() * 2 <= d);
        }
    }
}
