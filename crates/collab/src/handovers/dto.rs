//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::FileId;

/// Where an approved version goes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHandover {
    /// The kind of object that takes it: `release_artwork`, `track_audio`, `task_deliverable` or
    /// `contract_annex`.
    pub to: String,
    /// The object's id: the release, the track, the task or the booking.
    pub id: Uuid,
}

/// An approved version handed to an object of another domain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Handover {
    pub id: Uuid,
    pub file_id: FileId,
    pub version: i32,
    /// The kind of object that took it.
    pub to: String,
    /// The object's id.
    pub target_id: Uuid,
    pub handed_by: Uuid,
    pub handed_by_name: String,
    pub created_at: DateTime<Utc>,
    /// The taking domain's own view of the object after it took the file (the release, the task's file,
    /// the contract); only in the answer to the handover itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub taken: Option<serde_json::Value>,
}
