//! Rounding a statement to minor units, once, by largest remainder: each line gets the floor of its
//! exact amount, and the units the statement's rounded total has beyond the floors go one each to the
//! lines with the largest fractional remainders (ties in the lines' order). The lines then add up to
//! the total exactly, and each is within one unit of its exact amount.

/// `floors` in order of decreasing remainder; `total` the statement's exact total rounded. Answers each
/// line's amount in the same order, or `None` when the total is not within the floors' reach (it must be
/// at least their sum and at most one unit a line above it).
pub fn distribute(floors: &[i64], total: i64) -> Option<Vec<i64>> {
    let sum: i64 = floors.iter().sum();
    let left = usize::try_from(total.checked_sub(sum)?).ok()?;
    if left > floors.len() {
        return None;
    }
    Some(floors.iter().enumerate().map(|(i, f)| if i < left { f + 1 } else { *f }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Exact amounts in 1/1000 of a unit: floor, remainder, and the total rounded half up.
    fn reference(exact: &[i64]) -> (Vec<i64>, i64) {
        let mut lines: Vec<(i64, i64, usize)> =
            exact.iter().enumerate().map(|(i, x)| (x.div_euclid(1000), x.rem_euclid(1000), i)).collect();
        lines.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let total: i64 = exact.iter().sum();
        let rounded = (total + 500).div_euclid(1000);
        (lines.iter().map(|l| l.0).collect(), rounded)
    }

    #[test]
    fn three_thirds_of_a_cent() {
        // 0.333, 0.333, 0.334 of a unit: total 1.000 rounds to 1; the largest remainder gets it.
        let (floors, total) = reference(&[333, 333, 334]);
        assert_eq!(distribute(&floors, total), Some(vec![1, 0, 0]));
    }

    #[test]
    fn a_total_out_of_reach_is_refused() {
        assert_eq!(distribute(&[1, 2], 2), None);
        assert_eq!(distribute(&[1, 2], 6), None);
        assert_eq!(distribute(&[1, 2], 5), Some(vec![2, 3]));
    }

    proptest! {
        #[test]
        fn lines_add_up_to_the_total_and_stay_within_a_unit(exact in prop::collection::vec(-50_000i64..5_000_000, 1..60)) {
            let (floors, total) = reference(&exact);
            let amounts = distribute(&floors, total).expect("in reach");
            prop_assert_eq!(amounts.iter().sum::<i64>(), total);
            for (a, f) in amounts.iter().zip(&floors) {
                prop_assert!(*a == *f || *a == f + 1);
            }
        }
    }
}
