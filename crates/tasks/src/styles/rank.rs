//! Style suggestions ranked by what a company chose before. Each card is compared with each card the
//! company's briefs chose: the same style axis counts 3, the same colour temperature 2, the same
//! deliverable type 1, energy, density and formality within one step 1 each, a shared mood keyword 1,
//! so a card and an earlier choice agree on 0 to 10 points. A card's score is its points against all
//! earlier choices as a share of the most it could have (0–100). Without earlier choices every card
//! scores 0 and the newest come first; ties go to the newer card (then the later id: ids grow with time).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What ranking looks at in a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traits {
    pub id: Uuid,
    pub deliverable_type: String,
    pub style_axis: String,
    pub colour_temperature: String,
    pub energy: i16,
    pub density: i16,
    pub formality: i16,
    pub mood_keywords: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The most points a card and one earlier choice can agree on.
pub const MAX_POINTS: u32 = 10;

/// The points a card and one earlier choice agree on.
pub fn agreement(card: &Traits, chosen: &Traits) -> u32 {
    let near = |a: i16, b: i16| u32::from((a - b).abs() <= 1);
    let mood = card.mood_keywords.iter().any(|k| chosen.mood_keywords.iter().any(|c| c.eq_ignore_ascii_case(k)));
    3 * u32::from(card.style_axis == chosen.style_axis)
        + 2 * u32::from(card.colour_temperature == chosen.colour_temperature)
        + u32::from(card.deliverable_type == chosen.deliverable_type)
        + near(card.energy, chosen.energy)
        + near(card.density, chosen.density)
        + near(card.formality, chosen.formality)
        + u32::from(mood)
}

/// A card's score against the earlier choices, 0–100 (rounded down).
pub fn score(card: &Traits, chosen: &[Traits]) -> u32 {
    if chosen.is_empty() {
        return 0;
    }
    let points: u32 = chosen.iter().map(|c| agreement(card, c)).sum();
    points * 100 / (MAX_POINTS * chosen.len() as u32)
}

/// The cards, best first, with their scores.
pub fn rank(cards: Vec<Traits>, chosen: &[Traits]) -> Vec<(Traits, u32)> {
    let mut scored: Vec<(Traits, u32)> = cards
        .into_iter()
        .map(|card| {
            let s = score(&card, chosen);
            (card, s)
        })
        .collect();
    scored.sort_by(|(a, sa), (b, sb)| sb.cmp(sa).then(b.created_at.cmp(&a.created_at)).then(b.id.cmp(&a.id)));
    scored
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn card(axis: &str, temperature: &str, kind: &str, levels: (i16, i16, i16), mood: &[&str], age: i64) -> Traits {
        Traits {
            id: Uuid::new_v4(),
            deliverable_type: kind.into(),
            style_axis: axis.into(),
            colour_temperature: temperature.into(),
            energy: levels.0,
            density: levels.1,
            formality: levels.2,
            mood_keywords: mood.iter().map(|m| (*m).to_owned()).collect(),
            created_at: DateTime::UNIX_EPOCH + Duration::days(1000 - age),
        }
    }

    #[test]
    fn each_trait_counts_its_points() {
        let chosen = card("bold", "warm", "static_ad", (4, 2, 2), &["Energetic"], 0);
        assert_eq!(agreement(&chosen, &chosen), MAX_POINTS);
        let nothing = card("minimal", "cool", "video", (1, 5, 5), &["calm"], 0);
        assert_eq!(agreement(&nothing, &chosen), 0);
        assert_eq!(agreement(&card("bold", "cool", "video", (1, 5, 5), &[], 0), &chosen), 3);
        assert_eq!(agreement(&card("minimal", "warm", "video", (1, 5, 5), &[], 0), &chosen), 2);
        assert_eq!(agreement(&card("minimal", "cool", "static_ad", (1, 5, 5), &[], 0), &chosen), 1);
        assert_eq!(agreement(&card("minimal", "cool", "video", (1, 5, 5), &["energetic"], 0), &chosen), 1);
        // Levels count within one step, not two.
        assert_eq!(agreement(&card("minimal", "cool", "video", (3, 1, 3), &[], 0), &chosen), 3);
        assert_eq!(agreement(&card("minimal", "cool", "video", (5, 3, 1), &[], 0), &chosen), 3);
        assert_eq!(agreement(&card("minimal", "cool", "video", (2, 4, 4), &[], 0), &chosen), 0);
    }

    #[test]
    fn what_was_chosen_before_comes_first_and_newer_breaks_ties() {
        let history = [card("bold", "warm", "static_ad", (4, 2, 2), &["energetic"], 5)];
        let alike = card("bold", "warm", "social_post", (5, 3, 2), &[], 50);
        let other = card("minimal", "cool", "social_post", (1, 5, 5), &[], 1);
        let other_newer = card("minimal", "cool", "social_post", (1, 5, 5), &[], 0);
        let ranked = rank(vec![other.clone(), alike.clone(), other_newer.clone()], &history);
        let ids: Vec<Uuid> = ranked.iter().map(|(c, _)| c.id).collect();
        assert_eq!(ids, [alike.id, other_newer.id, other.id]);
        assert_eq!(ranked[0].1, 80);
        assert_eq!(ranked[1].1, 0);
    }

    #[test]
    fn without_history_the_newest_come_first_and_scores_are_shares() {
        let old = card("bold", "warm", "static_ad", (3, 3, 3), &["calm"], 9);
        let new = card("bold", "warm", "static_ad", (3, 3, 3), &["calm"], 1);
        let ranked = rank(vec![old.clone(), new.clone()], &[]);
        assert_eq!((ranked[0].0.id, ranked[0].1), (new.id, 0));
        // Two earlier choices: a card agreeing fully with one and not at all with the other scores 50.
        let history = [old.clone(), card("minimal", "cool", "video", (1, 5, 5), &[], 3)];
        assert_eq!(score(&new, &history), 50);
    }
}
