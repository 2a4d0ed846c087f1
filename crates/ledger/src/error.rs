//! The ledger's errors and their problem codes.

use platform::ApiError;

platform::codes! {
    /// The ledger's problem codes: money, payments, refunds, payouts.
    pub enum LedgerCode in "ledger" {
        InvalidSignature = (BAD_REQUEST, "invalid_signature", "a provider webhook's signature is missing, stale or wrong"),
        MalformedEvent = (BAD_REQUEST, "malformed_event", "a provider webhook has no id or type"),
        PaymentFailed = (PAYMENT_REQUIRED, "payment_failed", "the card payment failed (declined); nothing was bought"),
        InsufficientFunds = (CONFLICT, "insufficient_funds", "the account has too little money for this movement"),
        AlreadyReversed = (CONFLICT, "already_reversed", "the entry was reversed already"),
        AlreadyRefunded = (CONFLICT, "already_refunded", "the payment or ticket was refunded in full already"),
        InvalidPaymentState = (CONFLICT, "invalid_payment_state", "the payment's state does not allow this"),
        PaymentPending = (CONFLICT, "payment_pending", "the payment waits for the customer's action (3-D Secure); its money reaches the wallet once done"),
        RefundInProgress = (CONFLICT, "refund_in_progress", "a refund of this payment is being processed; `Retry-After`"),
        ProviderRefused = (CONFLICT, "provider_refused", "the payment provider refused the call"),
        NotCancellable = (CONFLICT, "not_cancellable", "the withdrawal is past the state in which it can be cancelled"),
        NotAwaitingApproval = (CONFLICT, "not_awaiting_approval", "the withdrawal is not waiting for an admin's approval"),
        ProviderUnavailable = (SERVICE_UNAVAILABLE, "provider_unavailable", "the payment provider could not be reached; nothing was charged; retry with the same key"),
        ProviderNotConfigured = (SERVICE_UNAVAILABLE, "provider_not_configured", "the provider is not configured on this server"),
    }
}

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
    /// Reads the database's refusals as ledger errors (see [`CONSTRAINTS`]).
    pub fn from_db(err: sqlx::Error) -> Self {
        let constraint = err.as_database_error().and_then(|e| e.constraint());
        match CONSTRAINTS.iter().find(|(name, _)| Some(*name) == constraint) {
            Some((_, error)) => error(),
            None => Self::Db(err),
        }
    }
}

/// A named constraint and the ledger error its violation means.
pub type ConstraintError = (&'static str, fn() -> LedgerError);

/// How the ledger reads a violation of one of its named constraints.
pub const CONSTRAINTS: &[ConstraintError] = &[
    ("ledger_accounts_no_overdraft", || LedgerError::InsufficientFunds),
    ("journal_entries_reverses_key", || LedgerError::AlreadyReversed),
    ("journal_entry_balanced", || LedgerError::Unbalanced("one of its currencies".into())),
];

impl From<LedgerError> for ApiError {
    fn from(err: LedgerError) -> Self {
        let detail = err.to_string();
        match err {
            LedgerError::TooFewPostings => ApiError::invalid_field("postings", "too_few", detail),
            LedgerError::ZeroAmount => ApiError::invalid_field("postings", "zero_amount", detail),
            LedgerError::Unbalanced(_) => ApiError::invalid_field("postings", "unbalanced", detail),
            LedgerError::NoAccount(_) => ApiError::invalid_field("postings", "unknown_account", detail),
            LedgerError::InsufficientFunds => ApiError::new(LedgerCode::InsufficientFunds, detail),
            LedgerError::AlreadyReversed => ApiError::new(LedgerCode::AlreadyReversed, detail),
            LedgerError::Db(err) => err.into(),
        }
    }
}
