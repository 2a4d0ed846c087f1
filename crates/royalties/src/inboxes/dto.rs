//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{FileRow, InboxRow};

/// Where a store leaves the label's reports.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxRequest {
    /// A store of the registry (`GET /v1/stores`).
    pub store_id: Uuid,
    /// The folder on the store's server or bucket; `<the store's path>/sales-reports` when not given.
    pub folder: Option<String>,
    /// `dsr` (the default) or `csv` (then `csv_store` names the saved mapping, and each file's name holds
    /// its month as `YYYY-MM`).
    pub format: Option<String>,
    pub csv_store: Option<String>,
}

/// A file the inbox took, and what became of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxFile {
    pub name: String,
    pub size: i64,
    /// The report it made, when it was taken.
    pub report_id: Option<Uuid>,
    /// `received`, or why it was turned down (`duplicate_report: …`, `not_a_report: …`).
    pub outcome: String,
    pub taken_at: DateTime<Utc>,
}

impl From<FileRow> for InboxFile {
    fn from(r: FileRow) -> Self {
        Self { name: r.name, size: r.size, report_id: r.report_id, outcome: r.outcome, taken_at: r.taken_at }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Inbox {
    pub id: Uuid,
    pub label_id: Uuid,
    pub store_id: Uuid,
    pub folder: String,
    pub format: String,
    pub csv_store: Option<String>,
    pub enabled: bool,
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Why the last poll could not read the inbox (the store unreachable, a wrong key, ...).
    pub last_error: Option<String>,
    /// The latest files, newest first (at most 20).
    pub files: Vec<InboxFile>,
}

impl Inbox {
    pub fn new(r: InboxRow, files: Vec<InboxFile>) -> Self {
        Self {
            id: r.id,
            label_id: r.org_id,
            store_id: r.store_id,
            folder: r.folder,
            format: r.format,
            csv_store: r.csv_store,
            enabled: r.enabled,
            last_polled_at: r.last_polled_at,
            last_error: r.last_error,
            files,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxList {
    pub items: Vec<Inbox>,
}
