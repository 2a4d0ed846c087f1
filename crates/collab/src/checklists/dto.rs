//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::ProjectId;

/// A new checklist.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChecklist {
    /// 1 to 200 characters.
    pub title: String,
    /// Its items, in order: each 1 to 500 characters, at most 200.
    #[serde(default)]
    pub items: Vec<String>,
}

/// A new item, added at the end.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChecklistItem {
    /// 1 to 500 characters.
    pub body: String,
}

/// Ticking an item, or unticking it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemTick {
    pub done: bool,
}

/// An item of a checklist.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    pub id: Uuid,
    pub body: String,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
}

/// A checklist with its items in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub title: String,
    pub items: Vec<ChecklistItem>,
    /// Items ticked, of `items`.
    pub done: usize,
    pub created_at: DateTime<Utc>,
}
