//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::contract::Document;
use crate::model::BookingId;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Signature {
    pub version: i32,
    /// `organizer` or `artist`.
    pub side: String,
    pub user_id: uuid::Uuid,
    /// The SHA-256 (hex) of the version signed.
    pub sha256: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub signed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    pub booking_id: BookingId,
    pub version: i32,
    pub document: Document,
    /// The canonical text: what the hash covers and the PDF shows.
    pub text: String,
    pub sha256: String,
    pub deadline_at: Option<DateTime<Utc>>,
    /// Signatures of every version, oldest first.
    pub signatures: Vec<Signature>,
    /// Both sides signed the current version; an admin's review may still be pending.
    pub signed: bool,
    pub review_pending: bool,
    /// Which sides have used their one edit request.
    pub edits_used: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The SHA-256 (hex) of the version you read and sign.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The clause to add (each side may request one edit; both sign the new version).
    pub clause: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approve` (the booking is confirmed) or `reject` (it is cancelled).
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

impl From<super::repo::SignatureRow> for Signature {
    fn from(r: super::repo::SignatureRow) -> Self {
        Self {
            version: r.version,
            side: r.side.as_str().to_owned(),
            user_id: r.user_id,
            sha256: platform::hex::encode(&r.sha256),
            ip: r.ip,
            user_agent: r.user_agent,
            signed_at: r.signed_at,
        }
    }
}

/// The annexed file's name as its side calls it.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnnexName {
    /// 1 to 255 characters, without a path.
    pub name: String,
}
