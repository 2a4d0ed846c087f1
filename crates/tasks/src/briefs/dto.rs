//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::steps::BriefContent;
use crate::brands::dto::{Audience, TaskFile};
use crate::model::BriefId;
use crate::styles::dto::StyleCard;

/// A new brief for a company.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBrief {
    pub org_id: Uuid,
    pub title: String,
}

/// A change to a brief, one step or many at a time. A field left out stays as it is; `null` clears it.
/// A step whose value changes loses its confirmation unless `confirm` names it; `confirm` and
/// `unconfirm` take step names (`summary`, `platform`, `content_type`, `intent`, `audience`, `formats`,
/// `visual_direction`, `outline`, `attachments`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefEdit {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    /// Where the work will be used (`instagram`, `linkedin`, `web`, ...).
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub platform: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub content_type: Option<Option<String>>,
    /// What the work should achieve (`awareness`, `sell`, `announce`, ...).
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub intent: Option<Option<String>>,
    /// The audience in words.
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub audience: Option<Option<String>>,
    /// One of the company's saved audiences.
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<Uuid>)]
    pub audience_id: Option<Option<Uuid>>,
    pub deliverables: Option<Vec<String>>,
    pub formats: Option<Vec<String>>,
    pub motion: Option<bool>,
    pub custom_illustration: Option<bool>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub visual_direction: Option<Option<String>>,
    /// The chosen style cards, in order (active cards of the library; at most 12).
    pub style_card_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub outline: Option<Option<String>>,
    #[serde(default)]
    pub confirm: Vec<String>,
    #[serde(default)]
    pub unconfirm: Vec<String>,
}

/// One step of the builder and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    pub step: String,
    pub required: bool,
    /// Whether it has a value.
    pub filled: bool,
    pub confirmed: bool,
}

/// A step that keeps a brief from being ready.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MissingStep {
    pub step: String,
    /// `required` (a required step without a value) or `unconfirmed` (a value the client has not
    /// confirmed).
    pub reason: String,
}

/// A brief.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Brief {
    pub id: BriefId,
    pub org_id: Uuid,
    pub title: String,
    /// `draft`, `ready` (every required step filled and every filled step confirmed) or `used` (a task
    /// was made from it; it no longer changes).
    pub status: String,
    pub content: BriefContent,
    pub steps: Vec<StepView>,
    /// The steps that keep it from being ready, each with why.
    pub missing: Vec<MissingStep>,
    pub audience_profile: Option<Audience>,
    pub style_cards: Vec<StyleCard>,
    pub attachments: Vec<TaskFile>,
    pub task_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A brief in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BriefSummary {
    pub id: BriefId,
    pub title: String,
    pub status: String,
    pub task_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}
