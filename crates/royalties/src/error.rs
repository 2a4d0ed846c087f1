//! The royalties' errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

platform::codes! {
    /// The royalties' problem codes.
    pub enum RoyaltiesCode in "royalties" {
        DuplicateReport = (CONFLICT, "duplicate_report", "the sender sent this report (same message id) before; send a correction with `replaces`"),
        NotAReport = (UNPROCESSABLE_ENTITY, "not_a_report", "the file is not a DDEX DSR flat file: its first line is not a valid HEAD"),
        ReportComplete = (CONFLICT, "report_complete", "the report has all its files, or is read already"),
        ExchangeRateMissing = (UNPROCESSABLE_ENTITY, "exchange_rate_missing", "a conversion the period needs has no exchange rate for its day: enter or import it, then close again"),
        PeriodClosed = (CONFLICT, "period_closed", "the period is closed: its statements are final and its reports frozen"),
        PeriodNotOver = (CONFLICT, "period_not_over", "the period has not ended yet"),
        ReportsPending = (CONFLICT, "reports_pending", "a report of the period is still being received or read"),
        InvitationUnusable = (CONFLICT, "invitation_unusable", "the invitation was accepted already, has expired, or is for another email address"),
    }
}

/// How the royalties answer a violation of one of their named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<RoyaltiesCode>] = &[
    ConstraintAnswer {
        constraint: "royalty_reports_message_key",
        code: RoyaltiesCode::DuplicateReport,
        detail: "This report (its sender and message id) was received before.",
        field: None,
    },
    ConstraintAnswer {
        constraint: "royalty_periods_pkey",
        code: RoyaltiesCode::PeriodClosed,
        detail: "The period is closed already.",
        field: None,
    },
];

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
