//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{ReconciliationRow, ReportRow, UnmatchedRow};
use crate::model::ReportId;

/// Where the upload's file goes.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The label the report is for (its staff upload it).
    pub label_id: Option<Uuid>,
    /// The report this one corrects: it replaces it once read (the same sender and message id allowed).
    pub replaces: Option<ReportId>,
    /// The file's name, as the sender named it.
    pub filename: Option<String>,
    /// `dsr` (the default) or `csv`: a store's CSV export, read with the mapping saved for `store`.
    pub format: Option<String>,
    /// For a CSV export: the store, as its mapping is saved.
    pub store: Option<String>,
    /// For a CSV export: the month it reports, `YYYY-MM`.
    pub period: Option<String>,
}

/// One problem of a refused report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportError {
    /// The file of the report, from 1.
    pub file: i32,
    /// The physical line, from 1 (0: the report as a whole).
    pub line: u64,
    pub record_type: String,
    /// The DDEX cell at fault, when one is.
    pub cell: Option<String>,
    pub reason: String,
}

/// How far reading a report is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// `waiting`, `reading` or `done`.
    pub phase: String,
    pub lines_done: i64,
    pub lines_total: i64,
    /// 0 to 100.
    pub percent: i64,
}

/// A store's sales report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub id: ReportId,
    pub label_id: Uuid,
    /// `receiving` (files still to come), `queued`, `reading`, `loaded` or `refused`.
    pub status: String,
    pub sender_party_id: String,
    pub sender_name: String,
    pub message_id: String,
    pub service: String,
    pub usage_start: String,
    pub usage_end: String,
    pub number_of_files: i32,
    pub files_received: i32,
    pub progress: Progress,
    pub usage_lines: i64,
    pub summary_records: i32,
    /// Why it was refused: the first 1,000 problems, by file, line, record and cell.
    #[schema(value_type = Vec<ReportError>)]
    pub errors: serde_json::Value,
    /// Every problem, listed or not.
    pub error_count: i64,
    pub replaces: Option<ReportId>,
    pub replaced_by: Option<ReportId>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn new(r: ReportRow, files_received: i32) -> Self {
        let phase = match r.status.as_str() {
            "receiving" | "queued" => "waiting",
            "reading" => "reading",
            _ => "done",
        };
        let percent = if r.lines_total > 0 { (r.lines_done * 100 / r.lines_total).clamp(0, 100) } else { 0 };
        let percent = if phase == "done" { 100 } else { percent };
        Self {
            id: r.id,
            label_id: r.org_id,
            status: r.status.as_str().into(),
            sender_party_id: r.sender_party_id,
            sender_name: r.sender_name,
            message_id: r.message_id,
            service: r.service,
            usage_start: r.usage_start,
            usage_end: r.usage_end,
            number_of_files: r.number_of_files,
            files_received,
            progress: Progress { phase: phase.into(), lines_done: r.lines_done, lines_total: r.lines_total, percent },
            usage_lines: r.usage_lines,
            summary_records: r.summary_records,
            errors: r.errors,
            error_count: r.error_count,
            replaces: r.replaces,
            replaced_by: r.replaced_by,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One summary record's money: its revenue, what its lines were given, and how much of that found a
/// recording or release of the label (exact decimals, as text).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryReconciliation {
    pub summary_id: String,
    pub territory: String,
    pub currency: String,
    pub revenue: String,
    pub allocated: String,
    pub matched: String,
    pub unmatched: String,
    /// revenue = matched + unmatched, to the last unit.
    pub exact: bool,
}

/// The proof that a report's money is all accounted for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reconciliation {
    pub status: String,
    /// Every summary reconciles exactly.
    pub exact: bool,
    pub summaries: Vec<SummaryReconciliation>,
}

impl Reconciliation {
    pub fn new(status: &str, rows: Vec<ReconciliationRow>) -> Self {
        let summaries: Vec<SummaryReconciliation> = rows
            .into_iter()
            .map(|r| SummaryReconciliation {
                summary_id: r.summary_id,
                territory: r.territory,
                currency: r.currency,
                revenue: r.revenue,
                allocated: r.allocated,
                matched: r.matched,
                unmatched: r.unmatched,
                exact: r.exact,
            })
            .collect();
        Self { status: status.into(), exact: summaries.iter().all(|s| s.exact), summaries }
    }
}

/// Lines no recording or release of the label was found for, by the key they would match by.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unmatched {
    /// `isrc:<ISRC>` or `icpn:<13 digits>`; none when the lines name neither.
    pub match_key: Option<String>,
    pub title: String,
    pub artist: String,
    pub lines: i64,
    pub usages: i64,
    pub revenue: String,
}

impl From<UnmatchedRow> for Unmatched {
    fn from(r: UnmatchedRow) -> Self {
        Self {
            match_key: r.match_key,
            title: r.title,
            artist: r.artist,
            lines: r.lines,
            usages: r.usages,
            revenue: r.revenue,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnmatchedList {
    pub items: Vec<Unmatched>,
}

/// Staff's match of an unmatched key to a track.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    pub match_key: String,
    pub track_id: catalog::model::TrackId,
}

/// A store's CSV mapping, as saved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsvMapping {
    pub store: String,
    pub mapping: crate::csv::Mapping,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsvMappingList {
    pub items: Vec<CsvMapping>,
}
