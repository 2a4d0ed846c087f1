//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{FreelancerRow, VacationRow};

/// A skill with its proficiency (0–100).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    pub skill: String,
    pub proficiency: i16,
}

/// The caller's freelancer profile, as they write it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreelancerProfile {
    #[serde(default)]
    pub headline: String,
    /// `junior`, `mid`, `senior` or `expert`.
    pub experience: String,
    /// An IANA time zone (`Europe/Berlin`); offers weigh the local hour.
    pub time_zone: Option<String>,
    /// Working hours, local (default 9 to 18).
    pub work_starts: Option<i16>,
    pub work_ends: Option<i16>,
    #[serde(default)]
    pub skills: Vec<Skill>,
    /// Category slugs the freelancer specialises in (a bonus for their tasks).
    #[serde(default)]
    pub specialties: Vec<String>,
    #[serde(default)]
    pub portfolio: Vec<String>,
}

/// A period away.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVacation {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Vacation {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Measured performance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerformanceView {
    /// The mean rating (0–5), absent before the first.
    pub rating: Option<f64>,
    pub ratings: i32,
    /// Percent of deliveries on time, absent before the first.
    pub on_time_rate: Option<f64>,
    pub deliveries: i32,
    /// Percent of offers accepted, absent before the first.
    pub acceptance_rate: Option<f64>,
    pub offers: i64,
    /// The performance part of the assignment score now (80 for a newcomer).
    pub score: f64,
}

/// A freelancer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Freelancer {
    pub user_id: Uuid,
    /// `pending`, `approved`, `rejected` or `suspended`.
    pub status: String,
    pub headline: String,
    pub experience: String,
    pub time_zone: Option<String>,
    pub work_starts: i16,
    pub work_ends: i16,
    pub skills: Vec<Skill>,
    pub specialties: Vec<String>,
    pub portfolio: Vec<String>,
    pub vacations: Vec<Vacation>,
    pub active_tasks: i64,
    pub performance: PerformanceView,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Freelancer {
    pub fn new(
        r: FreelancerRow,
        skills: Vec<(String, i16)>,
        vacations: Vec<VacationRow>,
        offers: (i64, i64),
        active: i64,
    ) -> Self {
        let pct = |part: i64, whole: i64| (whole > 0).then(|| 100.0 * part as f64 / whole as f64);
        let n = |v: i32| u32::try_from(v).unwrap_or(0);
        let counts = crate::assignment::score::Performance {
            ratings_count: n(r.ratings_count),
            ratings_sum: n(r.ratings_sum),
            deliveries: n(r.deliveries),
            on_time: n(r.on_time),
            offers_received: u32::try_from(offers.0).unwrap_or(u32::MAX),
            offers_accepted: u32::try_from(offers.1).unwrap_or(u32::MAX),
        };
        Self {
            user_id: r.user_id,
            status: r.status.as_str().to_owned(),
            headline: r.headline,
            experience: r.experience.as_str().to_owned(),
            time_zone: r.time_zone,
            work_starts: r.work_starts,
            work_ends: r.work_ends,
            skills: skills.into_iter().map(|(skill, proficiency)| Skill { skill, proficiency }).collect(),
            specialties: r.specialties,
            portfolio: r.portfolio,
            vacations: vacations
                .into_iter()
                .map(|v| Vacation { id: v.id, starts_at: v.starts_at, ends_at: v.ends_at })
                .collect(),
            active_tasks: active,
            performance: PerformanceView {
                rating: (r.ratings_count > 0).then(|| f64::from(r.ratings_sum) / f64::from(r.ratings_count)),
                ratings: r.ratings_count,
                on_time_rate: pct(i64::from(r.on_time), i64::from(r.deliveries)),
                deliveries: r.deliveries,
                acceptance_rate: pct(offers.1, offers.0),
                offers: offers.0,
                score: crate::assignment::score::performance_score(counts),
            },
            decision_note: r.decision_note,
            created_at: r.created_at,
        }
    }
}

/// Staff's decision on a freelancer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreelancerDecision {
    /// `approved`, `rejected` or `suspended`.
    pub status: String,
    pub note: Option<String>,
}

/// A company's favourite freelancers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Favourites {
    pub org_id: Uuid,
    pub freelancers: Vec<Uuid>,
}

/// Filters of the freelancer list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FreelancerQuery {
    /// `pending` (the default: the approval queue), `approved`, `rejected` or `suspended`.
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
