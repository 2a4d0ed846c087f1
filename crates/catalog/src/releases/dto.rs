//! The area's request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{ArtworkRow, PublicRow, ReleaseRow};
use super::validation::ReleaseProblem;
use crate::fields::CreditInput;
use crate::model::ReleaseId;
use crate::tracks::dto::{Credit, ReleaseTrack};

/// A release's own date in one territory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerritoryDate {
    /// ISO 3166-1 alpha-2.
    pub territory: String,
    pub release_date: NaiveDate,
}

/// Create a release (`label_id`, `release_type`, `title` and `display_artist` required) or change one:
/// a field left out stays as it is, `""` clears an optional text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// The label (an organization of kind `label` or `sub_label`). Only when creating.
    pub label_id: Option<Uuid>,
    /// `single`, `ep`, `album`, `compilation`, `remix` or `live`.
    pub release_type: Option<String>,
    pub title: Option<String>,
    /// Such as "Deluxe Edition" or "Remastered 2026".
    pub version: Option<String>,
    pub display_artist: Option<String>,
    /// The label name shown in stores; the label organization's name by default.
    pub label_name: Option<String>,
    pub genre: Option<String>,
    pub subgenre: Option<String>,
    /// ISO 639 code of the metadata's language (`en`, `de`).
    pub language: Option<String>,
    pub explicit: Option<bool>,
    pub p_line_year: Option<i32>,
    /// The ℗ owner, such as "Backline Records".
    pub p_line: Option<String>,
    pub c_line_year: Option<i32>,
    pub c_line: Option<String>,
    pub original_release_date: Option<NaiveDate>,
    /// The digital release date.
    pub release_date: Option<NaiveDate>,
    /// `worldwide` (except `territories`) or `only` (in `territories`).
    pub territory_mode: Option<String>,
    /// ISO 3166-1 alpha-2 codes.
    pub territories: Option<Vec<String>>,
    /// Dates that differ from `release_date` in some territories (replaces the list).
    pub territory_dates: Option<Vec<TerritoryDate>>,
    /// `budget`, `mid`, `front` or `premium`.
    pub price_tier: Option<String>,
    /// UPC-A or EAN-13, check digit verified; left out, one is assigned from the label's pool or GS1
    /// prefix at submission.
    pub upc: Option<String>,
    pub catalog_number: Option<String>,
    /// Replaces the release's credits (its main artists first).
    pub credits: Option<Vec<CreditInput>>,
}

/// A staff note on one field of a release under review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewNote {
    /// The field, as the API names it (`title`, `tracks[1].isrc`, `artwork`).
    pub field: String,
    pub message: String,
}

/// Staff's decision on a submitted release.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseReviewRequest {
    /// `approve` or `request_changes`.
    pub decision: String,
    /// Notes per field: at least one when requesting changes.
    #[serde(default)]
    pub notes: Vec<ReviewNote>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Release {
    pub id: ReleaseId,
    pub label_id: Uuid,
    /// `draft`, `submitted`, `changes_requested`, `approved`, `scheduled`, `delivered`, `live`,
    /// `takedown_requested` or `taken_down`.
    pub status: String,
    pub release_type: String,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    pub label_name: String,
    pub genre: Option<String>,
    pub subgenre: Option<String>,
    pub language: Option<String>,
    pub explicit: bool,
    pub p_line_year: Option<i32>,
    pub p_line: Option<String>,
    pub c_line_year: Option<i32>,
    pub c_line: Option<String>,
    pub original_release_date: Option<NaiveDate>,
    pub release_date: Option<NaiveDate>,
    pub territory_mode: String,
    pub territories: Vec<String>,
    pub territory_dates: Vec<TerritoryDate>,
    pub price_tier: Option<String>,
    pub upc: Option<String>,
    pub catalog_number: Option<String>,
    pub credits: Vec<Credit>,
    pub tracks: Vec<ReleaseTrack>,
    pub artwork: Option<Artwork>,
    /// The last review's notes, per field.
    #[schema(value_type = Vec<ReviewNote>)]
    pub review_notes: serde_json::Value,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A release in a list (without its tracks and credits).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReleaseSummary {
    pub id: ReleaseId,
    pub label_id: Uuid,
    pub status: String,
    pub release_type: String,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    pub release_date: Option<NaiveDate>,
    pub upc: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReleaseRow> for ReleaseSummary {
    fn from(r: ReleaseRow) -> Self {
        Self {
            id: r.id,
            label_id: r.org_id,
            status: r.status.as_str().into(),
            release_type: r.release_type.as_str().into(),
            title: r.title,
            version: r.version,
            display_artist: r.display_artist,
            release_date: r.release_date,
            upc: r.upc,
            submitted_at: r.submitted_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseList {
    pub items: Vec<ReleaseSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    /// Only releases in this status.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// What submitting the release would answer now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationReport {
    /// No problem: the release may be submitted.
    pub ready: bool,
    pub problems: Vec<ReleaseProblem>,
    /// What does not stop the release but will sound worse in stores (clipping, true peaks above -1 dBTP).
    pub warnings: Vec<ReleaseProblem>,
}

/// A release's cover art, as decoded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Artwork {
    /// `jpeg` or `png`.
    pub format: String,
    pub width: i32,
    pub height: i32,
    pub size: i64,
    pub sha256: String,
    pub md5: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<ArtworkRow> for Artwork {
    fn from(a: ArtworkRow) -> Self {
        Self {
            format: a.format,
            width: a.width,
            height: a.height,
            size: a.size,
            sha256: a.sha256,
            md5: a.md5,
            uploaded_at: a.uploaded_at,
        }
    }
}

/// A release in an artist's public discography: out in stores, or scheduled for them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicRelease {
    pub id: ReleaseId,
    pub release_type: String,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    pub label_name: String,
    pub release_date: Option<NaiveDate>,
    /// `scheduled`, `delivered` or `live` (and, for the artist's own view, any other status).
    pub status: String,
}

impl From<PublicRow> for PublicRelease {
    fn from(r: PublicRow) -> Self {
        Self {
            id: r.id,
            release_type: r.release_type.as_str().into(),
            title: r.title,
            version: r.version,
            display_artist: r.display_artist,
            label_name: r.label_name,
            release_date: r.release_date,
            status: r.status.as_str().into(),
        }
    }
}

/// An artist's releases, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Discography {
    pub items: Vec<PublicRelease>,
}
