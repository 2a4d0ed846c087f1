//! The assignment algorithm as a pure rule: who may be offered a task at an escalation level, each
//! candidate's score and its breakdown, and the order of the candidates. No database, no clock: the
//! caller reads the facts and the time once and passes them in, so every rule is tested at its
//! boundaries here. docs/tasks.md explains it with a worked example.

use std::cmp::Ordering;

use serde::Serialize;
use uuid::Uuid;

use crate::model::{Complexity, Experience, Urgency};

/// The weights of the five parts of a score, in percent (they sum to 100): one configuration version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Weights {
    pub skill: u32,
    pub timezone: u32,
    pub experience: u32,
    pub workload: u32,
    pub performance: u32,
}

impl Weights {
    /// The product's defaults: skill 35, time zone 20, experience 20, workload 15, performance 10.
    pub const DEFAULT: Self = Self { skill: 35, timezone: 20, experience: 20, workload: 15, performance: 10 };

    pub fn sum(self) -> u32 {
        self.skill + self.timezone + self.experience + self.workload + self.performance
    }
}

/// What one escalation level asks of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelRules {
    /// The lowest skill score a candidate may have.
    pub skill_threshold: u32,
    /// A candidate with this many active tasks or more is left out.
    pub workload_cap: u32,
}

/// The ladder's rules for a level: 1 asks skill 70 and a cap of 5 active tasks; 2 asks skill 50 and
/// allows one task more; 3 (open to claims) asks skill 50 within the usual cap.
pub fn level_rules(level: u8, settings: &crate::TaskSettings) -> LevelRules {
    let cap = settings.workload_cap;
    match level {
        1 => LevelRules { skill_threshold: settings.level1_skill, workload_cap: cap },
        2 => LevelRules { skill_threshold: settings.level2_skill, workload_cap: cap + 1 },
        _ => LevelRules { skill_threshold: settings.min_skill, workload_cap: cap },
    }
}

/// What the algorithm knows of the task.
#[derive(Debug, Clone)]
pub struct TaskFacts<'a> {
    pub required_skills: &'a [String],
    pub complexity: Complexity,
    pub urgency: Urgency,
}

/// What the algorithm knows of one freelancer at the time of the offer.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub user_id: Uuid,
    /// (skill, proficiency 0–100) pairs.
    pub skills: Vec<(String, u32)>,
    /// The freelancer's local hour now, if their time zone is known.
    pub local_hour: Option<u32>,
    pub experience: Experience,
    pub active_tasks: u32,
    /// Offers of other tasks the freelancer holds and has not answered yet.
    pub live_offers: u32,
    pub performance: Performance,
    pub on_vacation: bool,
    /// Offered this task before (declined, expired or withdrawn): never offered it again.
    pub offered_before: bool,
    pub declined: bool,
    pub specialist: bool,
    pub favourite: bool,
}

/// Measured performance: counts, from which the rating and rates are derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Performance {
    pub ratings_count: u32,
    pub ratings_sum: u32,
    pub deliveries: u32,
    pub on_time: u32,
    pub offers_received: u32,
    pub offers_accepted: u32,
}

/// Why a candidate is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    OnVacation,
    SkillBelowThreshold,
    AtWorkloadCap,
    NightForUrgentTask,
    DeclinedThisTask,
    OfferedBefore,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnVacation => "on_vacation",
            Self::SkillBelowThreshold => "skill_below_threshold",
            Self::AtWorkloadCap => "at_workload_cap",
            Self::NightForUrgentTask => "night_for_urgent_task",
            Self::DeclinedThisTask => "declined_this_task",
            Self::OfferedBefore => "offered_before",
        }
    }
}

/// A candidate's score: each part (0–100), the bonuses and the total (0–100), as every offer records it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakdown {
    pub skill: f64,
    pub timezone: f64,
    pub experience: f64,
    pub workload: f64,
    pub performance: f64,
    /// The weighted sum of the parts, before bonuses.
    pub weighted: f64,
    pub specialist_bonus: u32,
    pub favourite_bonus: u32,
    /// The weighted sum rounded half up, plus bonuses, capped at 100.
    pub total: u32,
}

/// The skill score: the mean proficiency over the task's required skills (a missing skill counts 0);
/// 100 when the task requires none.
pub fn skill_score(required: &[String], skills: &[(String, u32)]) -> f64 {
    if required.is_empty() {
        return 100.0;
    }
    let sum: u32 = required.iter().map(|r| skills.iter().find(|(s, _)| s == r).map_or(0, |(_, p)| (*p).min(100))).sum();
    f64::from(sum) / required.len() as f64
}

/// The time-zone score by the freelancer's local hour: 09–18 100, 18–21 80, 07–09 70, 21–23 50,
/// night (23–07) 20, unknown 50. Each band includes its first hour and excludes its last.
pub fn timezone_score(local_hour: Option<u32>) -> f64 {
    match local_hour {
        None => 50.0,
        Some(9..=17) => 100.0,
        Some(18..=20) => 80.0,
        Some(7..=8) => 70.0,
        Some(21..=22) => 50.0,
        Some(_) => 20.0,
    }
}

/// Whether a local hour is night (23:00 to 06:59).
pub fn is_night(local_hour: u32) -> bool {
    !(7..23).contains(&local_hour)
}

/// The experience matrix: how well a level of experience fits a complexity.
pub fn experience_score(complexity: Complexity, experience: Experience) -> f64 {
    use Complexity as C;
    use Experience as E;
    let row: [u32; 4] = match complexity {
        C::Simple => [100, 90, 70, 50],
        C::Intermediate => [60, 100, 90, 80],
        C::Advanced => [20, 70, 100, 95],
        C::Expert => [0, 40, 80, 100],
    };
    let column = match experience {
        E::Junior => 0,
        E::Mid => 1,
        E::Senior => 2,
        E::Expert => 3,
    };
    f64::from(row[column])
}

/// The workload score: 100 less 20 for each active task and each offer held unanswered, never below
/// 0: a freelancer holding offers scores lower, so that a burst of new tasks is spread over many people
/// instead of all going to the one who scores best (and, by [`exclusion`], nobody holds more offers
/// than they could accept).
pub fn workload_score(load: u32) -> f64 {
    f64::from(100u32.saturating_sub(20u32.saturating_mul(load)))
}

/// The score a freelancer with no measured work gets.
pub const NEWCOMER_PERFORMANCE: f64 = 80.0;

/// The performance score: 0.5 × rating/5 × 100 + 0.3 × on-time rate + 0.2 × acceptance rate (rates in
/// percent); a newcomer (no rating yet) scores 80, and a rate with nothing measured yet counts 80.
pub fn performance_score(p: Performance) -> f64 {
    if p.ratings_count == 0 {
        return NEWCOMER_PERFORMANCE;
    }
    let rating = f64::from(p.ratings_sum) / f64::from(p.ratings_count);
    let rate = |part: u32, whole: u32| {
        if whole == 0 { NEWCOMER_PERFORMANCE } else { 100.0 * f64::from(part.min(whole)) / f64::from(whole) }
    };
    0.5 * rating / 5.0 * 100.0 + 0.3 * rate(p.on_time, p.deliveries) + 0.2 * rate(p.offers_accepted, p.offers_received)
}

/// The bonus for a specialist of the task's category, and for the client's favourite.
pub const BONUS: u32 = 10;

/// Why a candidate is left out at this level, or `None`.
pub fn exclusion(task: &TaskFacts<'_>, c: &Candidate, rules: LevelRules) -> Option<Exclusion> {
    if c.declined {
        return Some(Exclusion::DeclinedThisTask);
    }
    if c.offered_before {
        return Some(Exclusion::OfferedBefore);
    }
    if c.on_vacation {
        return Some(Exclusion::OnVacation);
    }
    // Offers held count too: nobody is offered more than they could accept.
    if c.active_tasks.saturating_add(c.live_offers) >= rules.workload_cap {
        return Some(Exclusion::AtWorkloadCap);
    }
    if matches!(task.urgency, Urgency::Critical | Urgency::Urgent) && c.local_hour.is_some_and(is_night) {
        return Some(Exclusion::NightForUrgentTask);
    }
    if skill_score(task.required_skills, &c.skills) < f64::from(rules.skill_threshold) {
        return Some(Exclusion::SkillBelowThreshold);
    }
    None
}

/// A candidate's score under the weights.
pub fn score(task: &TaskFacts<'_>, c: &Candidate, weights: Weights) -> Breakdown {
    let skill = skill_score(task.required_skills, &c.skills);
    let timezone = timezone_score(c.local_hour);
    let experience = experience_score(task.complexity, c.experience);
    let workload = workload_score(c.active_tasks.saturating_add(c.live_offers));
    let performance = performance_score(c.performance);
    let weighted = (f64::from(weights.skill) * skill
        + f64::from(weights.timezone) * timezone
        + f64::from(weights.experience) * experience
        + f64::from(weights.workload) * workload
        + f64::from(weights.performance) * performance)
        / 100.0;
    let specialist_bonus = if c.specialist { BONUS } else { 0 };
    let favourite_bonus = if c.favourite { BONUS } else { 0 };
    // Rounded half up; the parts are exact to a few decimals, so a nudge keeps 84.5 from reading 84.4999.
    let rounded = (weighted + 1e-9).round() as u32;
    let total = (rounded + specialist_bonus + favourite_bonus).min(100);
    Breakdown { skill, timezone, experience, workload, performance, weighted, specialist_bonus, favourite_bonus, total }
}

/// A candidate who may be offered the task, with their score.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub user_id: Uuid,
    pub breakdown: Breakdown,
    /// Which tier they were found in: `favourites`, `specialists` or `everyone`.
    pub tier: &'static str,
}

/// A candidate left out, and why.
#[derive(Debug, Clone)]
pub struct Excluded {
    pub user_id: Uuid,
    pub reason: Exclusion,
}

/// The outcome of ranking: who may be offered the task, best first (at most [`KEEP`]), and who was left
/// out.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    pub ranked: Vec<Ranked>,
    pub excluded: Vec<Excluded>,
}

/// How many candidates a ranking keeps.
pub const KEEP: usize = 20;
/// A tier with fewer eligible candidates than this is broadened to the next.
pub const BROADEN_BELOW: usize = 5;

/// Ranks the candidates for a task at a level: exclusions first; then the client's favourites, broadened
/// to the category's specialists and then to everyone while fewer than five remain; best score first
/// (ties: fewer active tasks, then the lower id, so the order is deterministic); the top twenty kept.
pub fn rank(task: &TaskFacts<'_>, candidates: &[Candidate], weights: Weights, rules: LevelRules) -> Ranking {
    let mut eligible = Vec::new();
    let mut excluded = Vec::new();
    for c in candidates {
        match exclusion(task, c, rules) {
            Some(reason) => excluded.push(Excluded { user_id: c.user_id, reason }),
            None => eligible.push(c),
        }
    }
    let favourites = eligible.iter().filter(|c| c.favourite).count();
    let specialists = eligible.iter().filter(|c| c.favourite || c.specialist).count();
    let (tier, keep): (&'static str, fn(&Candidate) -> bool) = if favourites >= BROADEN_BELOW {
        ("favourites", |c| c.favourite)
    } else if specialists >= BROADEN_BELOW {
        ("specialists", |c| c.favourite || c.specialist)
    } else {
        ("everyone", |_| true)
    };
    let mut ranked: Vec<(Ranked, u32)> = eligible
        .into_iter()
        .filter(|c| keep(c))
        .map(|c| (Ranked { user_id: c.user_id, breakdown: score(task, c, weights), tier }, c.active_tasks))
        .collect();
    ranked.sort_by(|(a, a_load), (b, b_load)| {
        b.breakdown
            .total
            .cmp(&a.breakdown.total)
            .then_with(|| b.breakdown.weighted.partial_cmp(&a.breakdown.weighted).unwrap_or(Ordering::Equal))
            .then_with(|| a_load.cmp(b_load))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    ranked.truncate(KEEP);
    Ranking { ranked: ranked.into_iter().map(|(r, _)| r).collect(), excluded }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skills(required: &[&str]) -> Vec<String> {
        required.iter().map(|s| (*s).to_owned()).collect()
    }

    fn candidate(n: u128) -> Candidate {
        Candidate {
            user_id: Uuid::from_u128(n),
            skills: vec![("graphic_design".into(), 90)],
            local_hour: Some(12),
            experience: Experience::Senior,
            active_tasks: 0,
            live_offers: 0,
            performance: Performance::default(),
            on_vacation: false,
            offered_before: false,
            declined: false,
            specialist: false,
            favourite: false,
        }
    }

    fn standard(required: &[String]) -> TaskFacts<'_> {
        TaskFacts { required_skills: required, complexity: Complexity::Intermediate, urgency: Urgency::Standard }
    }

    const LEVEL1: LevelRules = LevelRules { skill_threshold: 70, workload_cap: 5 };

    #[test]
    fn time_zone_bands_at_their_edges() {
        let expect = [
            (0, 20.0),
            (6, 20.0),
            (7, 70.0),
            (8, 70.0),
            (9, 100.0),
            (17, 100.0),
            (18, 80.0),
            (20, 80.0),
            (21, 50.0),
            (22, 50.0),
            (23, 20.0),
        ];
        for (hour, score) in expect {
            assert_eq!(timezone_score(Some(hour)), score, "hour {hour}");
        }
        assert_eq!(timezone_score(None), 50.0);
        assert!(is_night(23) && is_night(0) && is_night(6));
        assert!(!is_night(7) && !is_night(22));
    }

    #[test]
    fn the_experience_matrix_row_by_row() {
        use Complexity as C;
        use Experience as E;
        let rows = [
            (C::Simple, [100.0, 90.0, 70.0, 50.0]),
            (C::Intermediate, [60.0, 100.0, 90.0, 80.0]),
            (C::Advanced, [20.0, 70.0, 100.0, 95.0]),
            (C::Expert, [0.0, 40.0, 80.0, 100.0]),
        ];
        for (complexity, row) in rows {
            for (e, want) in [E::Junior, E::Mid, E::Senior, E::Expert].into_iter().zip(row) {
                assert_eq!(experience_score(complexity, e), want, "{complexity:?} {e:?}");
            }
        }
    }

    #[test]
    fn workload_loses_twenty_a_task_and_stops_at_zero() {
        assert_eq!(workload_score(0), 100.0);
        assert_eq!(workload_score(1), 80.0);
        assert_eq!(workload_score(4), 20.0);
        assert_eq!(workload_score(5), 0.0);
        assert_eq!(workload_score(6), 0.0);
    }

    #[test]
    fn performance_of_newcomers_and_of_measured_work() {
        assert_eq!(performance_score(Performance::default()), 80.0);
        // Rated 4.0 on average, 9 of 10 on time, 3 of 4 offers accepted: 40 + 27 + 15.
        let p = Performance {
            ratings_count: 2,
            ratings_sum: 8,
            deliveries: 10,
            on_time: 9,
            offers_received: 4,
            offers_accepted: 3,
        };
        assert!((performance_score(p) - 82.0).abs() < 1e-9);
        // Perfect: 100; a rating but no deliveries or offers yet: the rates count 80.
        let perfect = Performance {
            ratings_count: 1,
            ratings_sum: 5,
            deliveries: 1,
            on_time: 1,
            offers_received: 1,
            offers_accepted: 1,
        };
        assert_eq!(performance_score(perfect), 100.0);
        let rated_only = Performance { ratings_count: 1, ratings_sum: 5, ..Performance::default() };
        assert!((performance_score(rated_only) - 90.0).abs() < 1e-9);
    }

    #[test]
    fn skill_is_the_mean_over_required_skills_and_a_missing_one_counts_zero() {
        let have = vec![("a".to_owned(), 80), ("b".to_owned(), 60)];
        assert_eq!(skill_score(&skills(&["a", "b"]), &have), 70.0);
        assert_eq!(skill_score(&skills(&["a", "c"]), &have), 40.0);
        assert_eq!(skill_score(&[], &have), 100.0);
    }

    #[test]
    fn each_exclusion_and_the_skill_threshold_at_its_boundary() {
        let req = skills(&["graphic_design"]);
        let task = standard(&req);
        let base = candidate(1);
        assert_eq!(exclusion(&task, &base, LEVEL1), None);
        let at = |p: u32| Candidate { skills: vec![("graphic_design".into(), p)], ..candidate(1) };
        assert_eq!(exclusion(&task, &at(70), LEVEL1), None);
        assert_eq!(exclusion(&task, &at(69), LEVEL1), Some(Exclusion::SkillBelowThreshold));
        let level2 = LevelRules { skill_threshold: 50, workload_cap: 6 };
        assert_eq!(exclusion(&task, &at(50), level2), None);
        assert_eq!(exclusion(&task, &at(49), level2), Some(Exclusion::SkillBelowThreshold));
        let busy = |n| Candidate { active_tasks: n, ..candidate(1) };
        assert_eq!(exclusion(&task, &busy(4), LEVEL1), None);
        assert_eq!(exclusion(&task, &busy(5), LEVEL1), Some(Exclusion::AtWorkloadCap));
        assert_eq!(exclusion(&task, &busy(5), level2), None);
        assert_eq!(exclusion(&task, &busy(6), level2), Some(Exclusion::AtWorkloadCap));
        let away = Candidate { on_vacation: true, ..candidate(1) };
        assert_eq!(exclusion(&task, &away, LEVEL1), Some(Exclusion::OnVacation));
        let declined = Candidate { declined: true, offered_before: true, ..candidate(1) };
        assert_eq!(exclusion(&task, &declined, LEVEL1), Some(Exclusion::DeclinedThisTask));
        let offered = Candidate { offered_before: true, ..candidate(1) };
        assert_eq!(exclusion(&task, &offered, LEVEL1), Some(Exclusion::OfferedBefore));
    }

    #[test]
    fn an_urgent_task_skips_freelancers_at_night_and_a_standard_one_does_not() {
        let req = skills(&["graphic_design"]);
        for (urgency, excluded) in
            [(Urgency::Critical, true), (Urgency::Urgent, true), (Urgency::Standard, false), (Urgency::Flexible, false)]
        {
            let task = TaskFacts { urgency, ..standard(&req) };
            for (hour, night) in [(22, false), (23, true), (3, true), (6, true), (7, false)] {
                let c = Candidate { local_hour: Some(hour), ..candidate(1) };
                let want = (excluded && night).then_some(Exclusion::NightForUrgentTask);
                assert_eq!(exclusion(&task, &c, LEVEL1), want, "{urgency:?} at {hour}");
            }
            let unknown = Candidate { local_hour: None, ..candidate(1) };
            assert_eq!(exclusion(&task, &unknown, LEVEL1), None);
        }
    }

    #[test]
    fn a_worked_example_and_the_bonuses_capped_at_100() {
        // Skill 90, local noon (100), senior on intermediate work (90), one active task (80), newcomer (80):
        // 0.35×90 + 0.20×100 + 0.20×90 + 0.15×80 + 0.10×80 = 31.5 + 20 + 18 + 12 + 8 = 89.5 → 90.
        let req = skills(&["graphic_design"]);
        let task = standard(&req);
        let c = Candidate { active_tasks: 1, ..candidate(1) };
        let b = score(&task, &c, Weights::DEFAULT);
        assert!((b.weighted - 89.5).abs() < 1e-9);
        assert_eq!(b.total, 90);
        let fav = Candidate { favourite: true, ..c.clone() };
        assert_eq!(score(&task, &fav, Weights::DEFAULT).total, 100);
        let spec = Candidate { specialist: true, active_tasks: 3, ..c };
        // Workload 40 instead of 80: 83.5 → 84, + 10 = 94.
        assert_eq!(score(&task, &spec, Weights::DEFAULT).total, 94);
    }

    #[test]
    fn tiers_broaden_below_five_and_twenty_are_kept() {
        let req = skills(&["graphic_design"]);
        let task = standard(&req);
        let many: Vec<Candidate> = (0..30)
            .map(|i| Candidate { favourite: i < 5, specialist: (5..9).contains(&i), ..candidate(i + 1) })
            .collect();
        // Five favourites: only they are ranked.
        let r = rank(&task, &many, Weights::DEFAULT, LEVEL1);
        assert_eq!(r.ranked.len(), 5);
        assert!(r.ranked.iter().all(|x| x.tier == "favourites"));
        // Four favourites (one excluded): broadened to specialists, 4 + 4 = 8.
        let mut fewer = many.clone();
        fewer[0].on_vacation = true;
        let r = rank(&task, &fewer, Weights::DEFAULT, LEVEL1);
        assert_eq!(r.ranked.len(), 8);
        assert_eq!(r.excluded.len(), 1);
        assert!(r.ranked.iter().all(|x| x.tier == "specialists"));
        // Fewer than five favourites and specialists together: everyone, the top twenty kept.
        let mut none: Vec<Candidate> = many.clone();
        for c in none.iter_mut().take(9).skip(1) {
            c.on_vacation = true;
        }
        let r = rank(&task, &none, Weights::DEFAULT, LEVEL1);
        assert_eq!(r.ranked.len(), KEEP);
        assert!(r.ranked.iter().all(|x| x.tier == "everyone"));
        // The favourite's bonus puts it first.
        assert_eq!(r.ranked[0].user_id, Uuid::from_u128(1));
    }

    #[test]
    fn offers_held_lower_the_workload_score_and_count_toward_the_cap() {
        let req = skills(&["graphic_design"]);
        let task = standard(&req);
        let holding = Candidate { live_offers: 2, active_tasks: 1, ..candidate(1) };
        assert_eq!(score(&task, &holding, Weights::DEFAULT).workload, 40.0);
        assert_eq!(exclusion(&task, &holding, LEVEL1), None);
        let four = Candidate { live_offers: 1, active_tasks: 3, ..candidate(1) };
        assert_eq!(exclusion(&task, &four, LEVEL1), None);
        let five = Candidate { live_offers: 2, active_tasks: 3, ..candidate(1) };
        assert_eq!(exclusion(&task, &five, LEVEL1), Some(Exclusion::AtWorkloadCap));
        // Two equal freelancers: the one holding an offer comes second.
        let r = rank(&task, &[Candidate { live_offers: 1, ..candidate(1) }, candidate(2)], Weights::DEFAULT, LEVEL1);
        assert_eq!(r.ranked[0].user_id, Uuid::from_u128(2));
    }

    #[test]
    fn ties_go_to_the_lighter_workload_then_the_lower_id() {
        let req = skills(&["graphic_design"]);
        let task = standard(&req);
        let a = Candidate { ..candidate(2) };
        let b = Candidate { ..candidate(1) };
        let r = rank(&task, &[a, b], Weights::DEFAULT, LEVEL1);
        assert_eq!(r.ranked[0].user_id, Uuid::from_u128(1));
    }

    fn any_candidate() -> impl Strategy<Value = Candidate> {
        (0u32..=100, proptest::option::of(0u32..24), 0usize..4, 0u32..8, any::<bool>(), any::<bool>(), 0u32..5)
            .prop_map(|(skill, hour, exp, active, spec, fav, rated)| Candidate {
                skills: vec![("graphic_design".into(), skill)],
                local_hour: hour,
                experience: [Experience::Junior, Experience::Mid, Experience::Senior, Experience::Expert][exp],
                active_tasks: active,
                performance: Performance {
                    ratings_count: rated,
                    ratings_sum: rated * 3,
                    deliveries: rated,
                    on_time: rated / 2,
                    offers_received: rated + 1,
                    offers_accepted: rated,
                },
                specialist: spec,
                favourite: fav,
                ..candidate(1)
            })
    }

    proptest! {
        #[test]
        fn a_total_is_always_between_0_and_100_and_never_below_its_weighted_part(c in any_candidate()) {
            let req = skills(&["graphic_design"]);
            let b = score(&standard(&req), &c, Weights::DEFAULT);
            prop_assert!(b.total <= 100);
            prop_assert!(b.weighted >= 0.0 && b.weighted <= 100.0 + 1e-9);
            prop_assert!(f64::from(b.total) >= b.weighted.round().min(100.0) - 1e-9);
        }

        #[test]
        fn ranking_is_sorted_keeps_at_most_twenty_and_no_ranked_candidate_is_excluded(
            cs in proptest::collection::vec(any_candidate(), 0..40)
        ) {
            let cs: Vec<Candidate> =
                cs.into_iter().enumerate().map(|(i, c)| Candidate { user_id: Uuid::from_u128(i as u128 + 1), ..c }).collect();
            let req = skills(&["graphic_design"]);
            let task = standard(&req);
            let r = rank(&task, &cs, Weights::DEFAULT, LEVEL1);
            prop_assert!(r.ranked.len() <= KEEP);
            prop_assert!(r.ranked.windows(2).all(|w| w[0].breakdown.total >= w[1].breakdown.total));
            for x in &r.ranked {
                let c = cs.iter().find(|c| c.user_id == x.user_id).unwrap();
                prop_assert_eq!(exclusion(&task, c, LEVEL1), None);
            }
            prop_assert_eq!(r.excluded.len() + cs.iter().filter(|c| exclusion(&task, c, LEVEL1).is_none()).count(), cs.len());
        }
    }
}
