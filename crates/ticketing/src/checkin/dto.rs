//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{EventId, TicketId, TierId};

/// An event's public check-in key, for scanners that verify tickets offline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckinKey {
    pub event_id: EventId,
    /// `Ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, unpadded base64url.
    pub public_key: String,
    /// The same key in hex.
    pub public_key_hex: String,
    /// How a payload is built: `BL1.<event id as 32 hex digits>.<code>.<signature>`, the signature being
    /// Ed25519 over `BL1.<event id>.<code>` in unpadded base64url.
    pub payload_format: String,
}

/// One scan at the door: a code typed in, or the payload read from a QR code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// The event the door belongs to: a code of another event is refused.
    pub event_id: EventId,
    pub code: String,
}

/// Scans recorded offline, uploaded later.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    pub scans: Vec<OfflineScan>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineScan {
    pub code: String,
    /// When the scanner read it.
    pub scanned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanResult {
    /// Whether the holder may enter.
    pub accepted: bool,
    /// `checked_in`, `already_checked_in`, `revoked` (the ticket was transferred or resold: an old code),
    /// `refunded`, `foreign_event`, `invalid_signature` or `unknown_code`.
    pub outcome: String,
    pub code: String,
    pub ticket_id: Option<TicketId>,
    pub tier_name: Option<String>,
    /// When the ticket was checked in (by this scan, or by the first one).
    pub checked_in_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<ScanResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TierAttendance {
    pub tier_id: TierId,
    pub tier_name: String,
    pub sold: i64,
    pub checked_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attendance {
    pub event_id: EventId,
    pub sold: i64,
    pub checked_in: i64,
    pub tiers: Vec<TierAttendance>,
}

impl From<super::repo::TierAttendanceRow> for TierAttendance {
    fn from(r: super::repo::TierAttendanceRow) -> Self {
        Self { tier_id: r.tier_id, tier_name: r.tier_name, sold: r.sold, checked_in: r.checked_in }
    }
}
