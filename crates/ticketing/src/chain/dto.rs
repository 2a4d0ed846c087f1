//! The chain's response bodies.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::EventId;

/// The outcome of verifying an event's chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub event_id: EventId,
    /// Whether every record is intact and none is missing.
    pub valid: bool,
    /// Records checked.
    pub records: i64,
    /// The head hash (hex) the event row holds.
    pub head: String,
    /// The first record that fails, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_invalid_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
