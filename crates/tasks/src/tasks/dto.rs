//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{ActivityRow, CategoryRow, TaskRow};
use crate::briefs::steps::BriefContent;
use crate::model::{BriefId, CategoryId, TaskId};

/// A task category: what a task of it costs and which skills it asks for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskCategory {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
    pub base_credits: i32,
    pub required_skills: Vec<String>,
}

impl From<CategoryRow> for TaskCategory {
    fn from(r: CategoryRow) -> Self {
        Self { id: r.id, slug: r.slug, name: r.name, base_credits: r.base_credits, required_skills: r.required_skills }
    }
}

/// A new task. Send an `Idempotency-Key`: creating a task holds credits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// The client company (an organization whose tasks the caller manages).
    pub org_id: Uuid,
    /// A category's slug (`static_ads`, `video_motion`, `social_media`, `ui_ux`).
    pub category: String,
    pub title: String,
    pub deadline_at: DateTime<Utc>,
    /// A ready brief of the company's, built in steps (`/v1/briefs`); it becomes this task's.
    pub brief_id: Option<BriefId>,
    /// Or the brief whole, in place of `brief_id` (its summary is required).
    pub brief: Option<BriefContent>,
    /// The skills the work needs; the category's when absent.
    pub required_skills: Option<Vec<String>>,
    /// Staff only: `simple`, `intermediate`, `advanced` or `expert` instead of the detected one.
    pub complexity: Option<String>,
}

/// One step of a task's activity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub action: String,
    /// The user who acted; absent for the system (timers, the assignment job).
    pub actor: Option<Uuid>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl From<ActivityRow> for Activity {
    fn from(r: ActivityRow) -> Self {
        Self { action: r.action, actor: r.actor, detail: r.detail, at: r.created_at }
    }
}

/// A task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub org_id: Uuid,
    pub category: String,
    pub title: String,
    pub brief: serde_json::Value,
    pub deadline_at: DateTime<Utc>,
    /// `critical`, `urgent`, `standard` or `flexible`, from the deadline at creation.
    pub urgency: String,
    /// `simple`, `intermediate`, `advanced` or `expert`.
    pub complexity: String,
    pub credits: i32,
    pub required_skills: Vec<String>,
    /// `pending`, `offered`, `assigned`, `in_progress`, `pending_admin_review`, `in_review`,
    /// `revision_requested`, `completed`, `cancelled` or `unassignable`.
    pub status: String,
    /// The escalation level: 1 and 2 offer, 3 is open to claims, 4 is for staff.
    pub level: i16,
    pub offers_at_level: i16,
    /// While open to claims: until when.
    pub claims_until: Option<DateTime<Utc>>,
    /// When the live offer expires, while one is out.
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub assignee: Option<Uuid>,
    pub revisions: i16,
    pub delivery_note: Option<String>,
    pub review_note: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub rating: Option<i16>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activity: Vec<Activity>,
}

impl Task {
    pub fn new(r: &TaskRow, offer_expires_at: Option<DateTime<Utc>>, activity: Vec<ActivityRow>) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            category: r.category.clone(),
            title: r.title.clone(),
            brief: r.brief.clone(),
            deadline_at: r.deadline_at,
            urgency: r.urgency.as_str().to_owned(),
            complexity: r.complexity.as_str().to_owned(),
            credits: r.credits,
            required_skills: r.required_skills.clone(),
            status: r.status.as_str().to_owned(),
            level: r.level,
            offers_at_level: r.offers_at_level,
            claims_until: r.claims_until,
            offer_expires_at,
            assignee: r.assignee,
            revisions: r.revisions,
            delivery_note: r.delivery_note.clone(),
            review_note: r.review_note.clone(),
            delivered_at: r.delivered_at,
            rating: r.rating,
            completed_at: r.completed_at,
            cancelled_at: r.cancelled_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            activity: activity.into_iter().map(Activity::from).collect(),
        }
    }
}

/// A task in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskSummary {
    pub id: TaskId,
    pub org_id: Uuid,
    pub category: String,
    pub title: String,
    pub deadline_at: DateTime<Utc>,
    pub urgency: String,
    pub credits: i32,
    pub status: String,
    pub level: i16,
    pub assignee: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<&TaskRow> for TaskSummary {
    fn from(r: &TaskRow) -> Self {
        Self {
            id: r.id,
            org_id: r.org_id,
            category: r.category.clone(),
            title: r.title.clone(),
            deadline_at: r.deadline_at,
            urgency: r.urgency.as_str().to_owned(),
            credits: r.credits,
            status: r.status.as_str().to_owned(),
            level: r.level,
            assignee: r.assignee,
            created_at: r.created_at,
        }
    }
}

/// A note with a step (a delivery, a revision request, a cancellation).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub note: Option<String>,
}

/// Staff's decision on a delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffReview {
    /// `pass` (to the client) or `return` (to the freelancer, with a note).
    pub decision: String,
    pub note: Option<String>,
}

/// The client's approval.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// 1 to 5: counts toward the freelancer's rating.
    pub rating: Option<i16>,
}

/// Filters of an organization's task list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only tasks in this status.
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
