//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::brands::dto::TaskFile;

/// A deliverable, with whether it is its name's latest version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deliverable {
    #[serde(flatten)]
    pub file: TaskFile,
    pub latest: bool,
}

/// A message to post on a task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 10,000 characters.
    pub body: String,
}

/// A message on a task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub task_id: Uuid,
    pub author: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What approved work built between a company and one freelancer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Affinity {
    pub freelancer: Uuid,
    pub name: String,
    /// Tasks of the company the freelancer completed.
    pub approved: i32,
    /// The company's mean rating of them (1–5), absent before the first.
    pub rating: Option<f64>,
    pub last_approved_at: DateTime<Utc>,
    pub favourite: bool,
}
