//! Request and response bodies of the job queue's administration.

use chrono::{DateTime, Utc};
use platform::jobs::admin::{JobRow, KindCountRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled`.
    pub state: Option<String>,
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<JobRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobStats {
    pub items: Vec<KindCount>,
}

/// How many jobs of a kind are in a state.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

impl From<KindCountRow> for KindCount {
    fn from(r: KindCountRow) -> Self {
        Self { kind: r.kind, state: r.state.as_str().to_owned(), count: r.count }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRecord {
    pub id: uuid::Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub priority: i16,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub unique_key: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobRow> for JobRecord {
    fn from(r: JobRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            payload: r.payload,
            state: r.state.as_str().to_owned(),
            priority: r.priority,
            run_at: r.run_at,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            unique_key: r.unique_key,
            locked_by: r.locked_by,
            locked_until: r.locked_until,
            last_error: r.last_error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}
