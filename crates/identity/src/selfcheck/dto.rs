//! What a self-check run found.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `secret_key`, `tls`, `database_role`, `webhook_private_targets`, `admin_email_verified` or
    /// `demo_accounts`.
    pub name: String,
    pub passed: bool,
    /// What was found, and what to do when it failed.
    pub detail: String,
}

/// One run of every check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckRun {
    pub id: Uuid,
    /// `schedule`, `admin` or `command`.
    pub trigger: String,
    /// Every check passed.
    pub passed: bool,
    pub checks: Vec<Check>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckRunList {
    /// The latest runs, newest first (at most 50).
    pub items: Vec<CheckRun>,
}
