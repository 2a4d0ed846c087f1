//! The royalties' errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

platform::codes! {
    /// The royalties' problem codes.
    pub enum RoyaltiesCode in "royalties" {
        DuplicateReport = (CONFLICT, "duplicate_report", "the sender sent this report (same message id) before; send a correction with `replaces`"),
        NotAReport = (UNPROCESSABLE_ENTITY, "not_a_report", "the file is not a DDEX DSR flat file: its first line is not a valid HEAD"),
        ReportComplete = (CONFLICT, "report_complete", "the report has all its files, or is read already"),
    }
}

/// How the royalties answer a violation of one of their named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<RoyaltiesCode>] = &[ConstraintAnswer {
    constraint: "royalty_reports_message_key",
    code: RoyaltiesCode::DuplicateReport,
    detail: "This report (its sender and message id) was received before.",
    field: None,
}];

#[derive(Debug, thiserror::Error)]
pub enum RoyaltiesError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<RoyaltiesError> for ApiError {
    fn from(err: RoyaltiesError) -> Self {
        match err {
            RoyaltiesError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            RoyaltiesError::Db(err) => platform::error::from_db(err, CONSTRAINTS),
        }
    }
}
