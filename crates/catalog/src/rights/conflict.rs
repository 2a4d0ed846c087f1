//! Conflicts among rights claims: claims on one right of one release or track that together exceed 100%
//! (10,000 basis points) at some territory and day. Exactly 100% is allowed; 100.01% is a conflict.
//!
//! The largest total is always reached at some claim's first day, in a territory some claim names (or,
//! for worldwide claims, in "any other territory"), so those are the only points that need checking.

use chrono::NaiveDate;

/// One claim as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim<K> {
    pub key: K,
    /// Basis points (1–10,000).
    pub share_bp: i32,
    /// ISO 3166-1 codes; empty means worldwide.
    pub territories: Vec<String>,
    pub starts_on: NaiveDate,
    /// The last day is the day before `ends_on`; none means open-ended.
    pub ends_on: Option<NaiveDate>,
}

/// Claims that together hold more than the whole at a territory (`None`: every territory no claim names,
/// which is where worldwide claims meet) from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict<K> {
    pub territory: Option<String>,
    pub from: NaiveDate,
    pub total_bp: i32,
    pub claims: Vec<K>,
}

pub const WHOLE_BP: i32 = 10_000;

impl<K> Claim<K> {
    fn covers(&self, territory: Option<&str>, day: NaiveDate) -> bool {
        let place = match territory {
            Some(t) => self.territories.is_empty() || self.territories.iter().any(|c| c == t),
            None => self.territories.is_empty(),
        };
        place && self.starts_on <= day && self.ends_on.is_none_or(|end| day < end)
    }
}

/// Every point where the claims exceed the whole, once per territory (at the first such day).
pub fn conflicts<K: Clone>(claims: &[Claim<K>]) -> Vec<Conflict<K>> {
    let mut territories: Vec<Option<String>> =
        claims.iter().flat_map(|c| c.territories.iter().cloned().map(Some)).collect();
    territories.sort();
    territories.dedup();
    territories.push(None);
    let mut days: Vec<NaiveDate> = claims.iter().map(|c| c.starts_on).collect();
    days.sort();
    days.dedup();
    let mut out = Vec::new();
    for territory in territories {
        for &day in &days {
            let covering: Vec<&Claim<K>> = claims.iter().filter(|c| c.covers(territory.as_deref(), day)).collect();
            let total: i32 = covering.iter().map(|c| c.share_bp).sum();
            if total > WHOLE_BP {
                out.push(Conflict {
                    territory: territory.clone(),
                    from: day,
                    total_bp: total,
                    claims: covering.iter().map(|c| c.key.clone()).collect(),
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    fn claim(key: u32, share_bp: i32, territories: &[&str], from: u32, to: Option<u32>) -> Claim<u32> {
        Claim {
            key,
            share_bp,
            territories: territories.iter().map(|t| (*t).to_owned()).collect(),
            starts_on: day(from),
            ends_on: to.map(day),
        }
    }

    #[test]
    fn exactly_the_whole_is_allowed_and_one_basis_point_more_is_not() {
        assert!(conflicts(&[claim(1, 5000, &[], 1, None), claim(2, 5000, &[], 1, None)]).is_empty());
        let found = conflicts(&[claim(1, 5000, &[], 1, None), claim(2, 5001, &[], 1, None)]);
        assert_eq!(found, vec![Conflict { territory: None, from: day(1), total_bp: 10_001, claims: vec![1, 2] }]);
    }

    #[test]
    fn claims_conflict_only_where_and_when_they_meet() {
        // Different territories never meet; a worldwide claim meets every territory.
        assert!(conflicts(&[claim(1, 8000, &["DE"], 1, None), claim(2, 8000, &["FR"], 1, None)]).is_empty());
        let found = conflicts(&[claim(1, 8000, &["DE"], 1, None), claim(2, 3000, &[], 5, None)]);
        assert_eq!(
            found,
            vec![Conflict { territory: Some("DE".into()), from: day(5), total_bp: 11_000, claims: vec![1, 2] }]
        );
        // A period ends the day before its end: back to back is no overlap.
        assert!(conflicts(&[claim(1, 8000, &[], 1, Some(10)), claim(2, 8000, &[], 10, None)]).is_empty());
        assert_eq!(conflicts(&[claim(1, 8000, &[], 1, Some(11)), claim(2, 8000, &[], 10, None)]).len(), 1);
    }

    proptest! {
        /// The rule agrees with brute force over every territory and day of a small world.
        #[test]
        fn matches_brute_force(specs in proptest::collection::vec((1i32..7000, 0usize..3, 1u32..20, proptest::option::of(1u32..12)), 1..6)) {
            let places = [vec![], vec!["DE"], vec!["DE", "FR"]];
            let claims: Vec<Claim<usize>> = specs.iter().enumerate().map(|(i, (bp, p, from, len))| {
                claim(0, *bp, &places[*p], *from, len.map(|l| from + l)).with_key(i)
            }).collect();
            let mut brute = std::collections::BTreeSet::new();
            let named = |t: &str| claims.iter().any(|c| c.territories.iter().any(|n| n == t));
            // A territory no claim names behaves as "any other territory" (IT stands for it).
            let places: Vec<Option<&str>> = ["DE", "FR"].into_iter().filter(|t| named(t)).map(Some).chain([None]).collect();
            for territory in places {
                for d in 1..=31 {
                    let total: i32 = claims.iter().filter(|c| c.covers(territory, day(d))).map(|c| c.share_bp).sum();
                    if total > WHOLE_BP {
                        brute.insert(territory.map(str::to_owned).unwrap_or_else(|| "IT".into()));
                    }
                }
            }
            let found: std::collections::BTreeSet<String> = conflicts(&claims)
                .into_iter()
                .map(|c| c.territory.unwrap_or_else(|| "IT".into()))
                .collect();
            // "Any other territory" stands for IT, which no claim names.
            prop_assert_eq!(found, brute);
        }
    }

    impl<K> Claim<K> {
        fn with_key<J>(self, key: J) -> Claim<J> {
            Claim {
                key,
                share_bp: self.share_bp,
                territories: self.territories,
                starts_on: self.starts_on,
                ends_on: self.ends_on,
            }
        }
    }
}
