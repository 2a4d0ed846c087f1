//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{ConfigRow, OfferRow};
use super::score::{Ranking, Weights};
use crate::model::{OfferId, TaskId};

/// An offer of a task to a freelancer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskOffer {
    pub id: OfferId,
    pub task_id: TaskId,
    pub title: String,
    pub freelancer: Uuid,
    pub level: i16,
    /// The configuration version that scored it.
    pub config_version: i32,
    pub score: i16,
    /// The parts of the score, the bonuses and the tier the freelancer was found in.
    pub breakdown: serde_json::Value,
    /// `offered`, `accepted`, `declined`, `expired` or `withdrawn`.
    pub status: String,
    pub decline_reason: Option<String>,
    pub decline_note: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<OfferRow> for TaskOffer {
    fn from(r: OfferRow) -> Self {
        Self {
            id: r.id,
            task_id: r.task_id,
            title: r.title,
            freelancer: r.user_id,
            level: r.level,
            config_version: r.config_version,
            score: r.score,
            breakdown: r.breakdown,
            status: r.status.as_str().to_owned(),
            decline_reason: r.decline_reason.map(|d| d.as_str().to_owned()),
            decline_note: r.decline_note,
            expires_at: r.expires_at,
            responded_at: r.responded_at,
            created_at: r.created_at,
        }
    }
}

/// Declining an offer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    /// `too_busy`, `skill_mismatch`, `deadline_too_tight`, `low_credits`, `personal_conflict` or `other`.
    pub reason: String,
    pub note: Option<String>,
}

/// Staff's assignment by hand.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignByHand {
    pub freelancer_id: Uuid,
}

/// Filters of the caller's offers.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Only the live ones.
    pub open: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The weights of a configuration, in percent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsBody {
    pub skill: i16,
    pub timezone: i16,
    pub experience: i16,
    pub workload: i16,
    pub performance: i16,
}

/// A configuration version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Config {
    pub version: i32,
    /// `draft`, `published` (the one in use) or `retired`.
    pub status: String,
    pub weights: WeightsBody,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<ConfigRow> for Config {
    fn from(r: ConfigRow) -> Self {
        Self {
            version: r.version,
            status: r.status,
            weights: WeightsBody {
                skill: r.weight_skill,
                timezone: r.weight_timezone,
                experience: r.weight_experience,
                workload: r.weight_workload,
                performance: r.weight_performance,
            },
            note: r.note,
            created_at: r.created_at,
            published_at: r.published_at,
        }
    }
}

/// A new draft configuration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConfig {
    pub weights: WeightsBody,
    pub note: Option<String>,
}

/// One candidate in "who would get this task".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RankedCandidate {
    pub freelancer: Uuid,
    pub score: u32,
    pub tier: String,
    pub breakdown: serde_json::Value,
}

/// One candidate left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExcludedCandidate {
    pub freelancer: Uuid,
    /// `on_vacation`, `skill_below_threshold`, `at_workload_cap`, `night_for_urgent_task`,
    /// `declined_this_task` or `offered_before`.
    pub reason: String,
}

/// Who would get a task now, and why, without an offer being made.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    pub level: u8,
    pub config_version: i32,
    pub weights: WeightsBody,
    /// Best first; the first is who would be offered it.
    pub ranked: Vec<RankedCandidate>,
    pub excluded: Vec<ExcludedCandidate>,
}

impl Preview {
    pub fn new(level: u8, config_version: i32, w: Weights, ranking: Ranking) -> Self {
        let i = |v: u32| i16::try_from(v).unwrap_or(i16::MAX);
        Self {
            level,
            config_version,
            weights: WeightsBody {
                skill: i(w.skill),
                timezone: i(w.timezone),
                experience: i(w.experience),
                workload: i(w.workload),
                performance: i(w.performance),
            },
            ranked: ranking
                .ranked
                .into_iter()
                .map(|r| RankedCandidate {
                    freelancer: r.user_id,
                    score: r.breakdown.total,
                    tier: r.tier.to_owned(),
                    breakdown: serde_json::to_value(r.breakdown).unwrap_or_default(),
                })
                .collect(),
            excluded: ranking
                .excluded
                .into_iter()
                .map(|e| ExcludedCandidate { freelancer: e.user_id, reason: e.reason.as_str().to_owned() })
                .collect(),
        }
    }
}
