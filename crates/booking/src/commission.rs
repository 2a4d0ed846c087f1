//! Commission and trust: what the organizer pays, what the artist receives and what the platform keeps,
//! from the artist's category and the promoter's trust, at the moment a deal is agreed. Amounts are
//! minor units; every rounding is half-even, at one place (`ledger::money::round_half_even`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An artist category's commission policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    /// The artist's share of the fee, in basis points.
    pub artist_bps: i64,
    /// What the organizer pays on top of the fee, in basis points (before the trust adjustment).
    pub organizer_fee_bps: i64,
    /// The platform's share of the fee (for reference: the platform keeps what the organizer pays less
    /// what the artist receives).
    pub platform_bps: i64,
    /// The smallest fee, in minor units.
    pub min_fee: i64,
}

/// The product's defaults (settings): budding 80/5/15 from 100.00, mid-scale 85/5/10 from 500.00,
/// international 90/2/8 from 5,000.00.
pub fn policy(category: &str) -> Option<Policy> {
    match category {
        "budding" => Some(Policy { artist_bps: 8_000, organizer_fee_bps: 500, platform_bps: 1_500, min_fee: 10_000 }),
        "mid_scale" => Some(Policy { artist_bps: 8_500, organizer_fee_bps: 500, platform_bps: 1_000, min_fee: 50_000 }),
        "international" => {
            Some(Policy { artist_bps: 9_000, organizer_fee_bps: 200, platform_bps: 800, min_fee: 500_000 })
        }
        _ => None,
    }
}

/// How far the platform trusts a promoter: below 30 is high risk (+2 points of organizer fee), above 80
/// is trusted (−1 point), else standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustTier {
    HighRisk,
    Standard,
    Trusted,
}

impl TrustTier {
    pub fn of(score: i32) -> Self {
        if score < 30 {
            Self::HighRisk
        } else if score > 80 {
            Self::Trusted
        } else {
            Self::Standard
        }
    }

    pub fn adjustment_bps(self) -> i64 {
        match self {
            Self::HighRisk => 200,
            Self::Standard => 0,
            Self::Trusted => -100,
        }
    }
}

/// The money of a deal, fixed when it is agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub fee: i64,
    pub artist_bps: i64,
    /// After the trust adjustment (never below zero).
    pub organizer_fee_bps: i64,
    pub trust: TrustTier,
    /// fee × (1 + organizer fee).
    pub organizer_pays: i64,
    /// fee × artist share.
    pub artist_receives: i64,
    /// The difference.
    pub platform_keeps: i64,
}

pub fn figures(fee: i64, policy: Policy, trust: TrustTier) -> Figures {
    let organizer_fee_bps = (policy.organizer_fee_bps + trust.adjustment_bps()).max(0);
    let organizer_pays = fee + ledger::money::share_bps(fee, organizer_fee_bps);
    let artist_receives = ledger::money::share_bps(fee, policy.artist_bps);
    Figures {
        fee,
        artist_bps: policy.artist_bps,
        organizer_fee_bps,
        trust,
        organizer_pays,
        artist_receives,
        platform_keeps: organizer_pays - artist_receives,
    }
}

/// Category thresholds per currency, in minor units: (mid-scale from, international from). The defaults
/// are 1,000 and 10,000 major units; currencies worth much less per unit have their own.
pub fn thresholds(currency: &str) -> (i64, i64) {
    match currency {
        "JPY" => (15_000_000 / 100, 150_000_000 / 100), // ¥150,000 and ¥1,500,000 (no minor unit)
        "SEK" | "NOK" | "DKK" => (1_000_000, 10_000_000), // 10,000 and 100,000 crowns
        "INR" => (8_000_000, 80_000_000),               // ₹80,000 and ₹800,000
        _ => (100_000, 1_000_000),                      // 1,000.00 and 10,000.00 (EUR, USD, GBP, CHF, ...)
    }
}

/// The category an artist's price range suggests: by the top of the range, against the thresholds of
/// its currency (budding below the first, mid-scale below the second, else international).
pub fn suggest_category(price_max: Option<i64>, currency: &str) -> &'static str {
    let (mid, international) = thresholds(currency);
    match price_max {
        Some(max) if max >= international => "international",
        Some(max) if max >= mid => "mid_scale",
        _ => "budding",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_examples() {
        // Budding, standard trust: a 1,000.00 fee.
        let f = figures(100_000, policy("budding").unwrap(), TrustTier::Standard);
        assert_eq!((f.organizer_pays, f.artist_receives, f.platform_keeps), (105_000, 80_000, 25_000));
        // High risk pays 2 points more; trusted 1 point less.
        let f = figures(100_000, policy("budding").unwrap(), TrustTier::HighRisk);
        assert_eq!((f.organizer_fee_bps, f.organizer_pays), (700, 107_000));
        let f = figures(100_000, policy("international").unwrap(), TrustTier::Trusted);
        assert_eq!(
            (f.organizer_fee_bps, f.organizer_pays, f.artist_receives, f.platform_keeps),
            (100, 101_000, 90_000, 11_000)
        );
    }

    #[test]
    fn trust_tiers_at_their_boundaries() {
        assert_eq!(TrustTier::of(29), TrustTier::HighRisk);
        assert_eq!(TrustTier::of(30), TrustTier::Standard);
        assert_eq!(TrustTier::of(80), TrustTier::Standard);
        assert_eq!(TrustTier::of(81), TrustTier::Trusted);
    }

    #[test]
    fn rounding_is_half_even_and_nothing_is_lost() {
        // 5% of 1.10 is 5.5 minor units: to even, 6; 80% is 88.
        let f = figures(110, policy("budding").unwrap(), TrustTier::Standard);
        assert_eq!((f.organizer_pays, f.artist_receives, f.platform_keeps), (116, 88, 28));
        let f = figures(130, policy("budding").unwrap(), TrustTier::Standard);
        assert_eq!(f.organizer_pays, 130 + 6, "6.5 -> 6, to even");
    }

    #[test]
    fn categories_are_suggested_at_their_thresholds() {
        assert_eq!(suggest_category(None, "EUR"), "budding");
        assert_eq!(suggest_category(Some(99_999), "EUR"), "budding");
        assert_eq!(suggest_category(Some(100_000), "EUR"), "mid_scale");
        assert_eq!(suggest_category(Some(999_999), "EUR"), "mid_scale");
        assert_eq!(suggest_category(Some(1_000_000), "EUR"), "international");
        // Per currency: ¥150,000 is mid-scale, ¥149,999 budding.
        assert_eq!(suggest_category(Some(149_999), "JPY"), "budding");
        assert_eq!(suggest_category(Some(150_000), "JPY"), "mid_scale");
        assert_eq!(suggest_category(Some(999_999), "SEK"), "budding");
    }

    proptest::proptest! {
        #[test]
        fn the_parts_always_add_up(fee in 0i64..10_000_000_000, cat in 0usize..3, score in 0i32..=100) {
            let policy = policy(["budding", "mid_scale", "international"][cat]).unwrap();
            let f = figures(fee, policy, TrustTier::of(score));
            proptest::prop_assert_eq!(f.artist_receives + f.platform_keeps, f.organizer_pays);
            proptest::prop_assert!(f.organizer_pays >= fee && f.artist_receives <= fee);
        }
    }
}
