//! The ledger's errors and their problem codes.

use platform::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("an entry needs at least two postings")]
    TooFewPostings,
    #[error("a posting's amount must not be zero")]
    ZeroAmount,
    #[error("the entry does not balance in {0}")]
    Unbalanced(String),
    #[error("the account {0} does not exist")]
    NoAccount(uuid::Uuid),
    #[error("the account has too little money for this")]
    InsufficientFunds,
    #[error("the entry was already reversed")]
    AlreadyReversed,
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl LedgerError {
    /// Reads the database's refusals as ledger errors.
    pub fn from_db(err: sqlx::Error) -> Self {
        let constraint = err.as_database_error().and_then(|e| e.constraint()).map(str::to_owned);
        match constraint.as_deref() {
            Some("ledger_accounts_no_overdraft") => Self::InsufficientFunds,
            Some("journal_entries_reverses_key") => Self::AlreadyReversed,
            Some("journal_entry_balanced") => Self::Unbalanced("one of its currencies".into()),
            _ => Self::Db(err),
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(err: LedgerError) -> Self {
        let detail = err.to_string();
        match err {
            LedgerError::TooFewPostings => ApiError::invalid_field("postings", "too_few", detail),
            LedgerError::ZeroAmount => ApiError::invalid_field("postings", "zero_amount", detail),
            LedgerError::Unbalanced(_) => ApiError::invalid_field("postings", "unbalanced", detail),
            LedgerError::NoAccount(_) => ApiError::invalid_field("postings", "unknown_account", detail),
            LedgerError::InsufficientFunds => ApiError::conflict("insufficient_funds", detail),
            LedgerError::AlreadyReversed => ApiError::conflict("already_reversed", detail),
            LedgerError::Db(err) => err.into(),
        }
    }
}
