//! The area's request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{ClaimRow, DocumentRow};
use crate::model::{PartyId, TrackId};

/// Claim a share of a right on the release, or on one of its tracks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// A track of the release; left out, the claim is on the release.
    pub track_id: Option<TrackId>,
    /// `master`, `publishing`, `sync` or `performance`.
    pub right_type: String,
    /// Who holds the share.
    pub holder: String,
    /// The holder among the label's artists and contributors, where they are one.
    pub holder_party_id: Option<PartyId>,
    /// The share in basis points: 10,000 is the whole right, 3,333 is 33.33%.
    pub share_bp: i32,
    /// ISO 3166-1 alpha-2 codes; none (or left out) means worldwide.
    #[serde(default)]
    pub territories: Vec<String>,
    pub starts_on: NaiveDate,
    /// The day the claim ends (it holds until the day before); none: open-ended.
    pub ends_on: Option<NaiveDate>,
}

/// A rights claim.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RightsClaim {
    pub id: Uuid,
    pub track_id: Option<TrackId>,
    pub right_type: String,
    pub holder: String,
    pub holder_party_id: Option<PartyId>,
    pub share_bp: i32,
    pub territories: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// `pending`, `verified`, `rejected` or `expired`.
    pub status: String,
    /// In a conflict: with others it holds more than the whole somewhere, some time.
    pub conflicted: bool,
    pub review_note: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Contracts and registrations that back the claim.
    pub documents: Vec<ClaimDocument>,
    pub created_at: DateTime<Utc>,
}

/// A document backing a claim; `GET /v1/rights/{id}/documents/{sha256}` reads it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimDocument {
    pub sha256: String,
    pub md5: String,
    pub size: i64,
    /// `application/pdf`, `image/jpeg` or `image/png`.
    pub media_type: String,
    pub file_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

impl From<DocumentRow> for ClaimDocument {
    fn from(d: DocumentRow) -> Self {
        Self {
            sha256: d.sha256,
            md5: d.md5,
            size: d.size,
            media_type: d.media_type,
            file_name: d.file_name,
            uploaded_at: d.uploaded_at,
        }
    }
}

impl RightsClaim {
    pub fn new(c: ClaimRow, documents: Vec<DocumentRow>) -> Self {
        Self {
            id: c.id,
            track_id: c.track_id,
            right_type: c.right_type.as_str().into(),
            holder: c.holder,
            holder_party_id: c.holder_party_id,
            share_bp: c.share_bp,
            territories: c.territories,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            status: c.status.as_str().into(),
            conflicted: c.conflicted,
            review_note: c.review_note,
            reviewed_at: c.reviewed_at,
            documents: documents.into_iter().map(ClaimDocument::from).collect(),
            created_at: c.created_at,
        }
    }
}

/// Claims on one right that together exceed the whole at a territory from a day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RightsConflict {
    pub right_type: String,
    pub track_id: Option<TrackId>,
    /// None: every territory no claim names (where worldwide claims meet): delivery stops everywhere.
    pub territory: Option<String>,
    pub from: NaiveDate,
    pub total_bp: i32,
    pub claim_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RightsOverview {
    pub claims: Vec<RightsClaim>,
    pub conflicts: Vec<RightsConflict>,
}

/// Staff's decision on a claim.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimReview {
    /// `verify` or `reject`.
    pub decision: String,
    pub note: Option<String>,
}
