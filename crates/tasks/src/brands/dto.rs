//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{AudienceRow, BrandRow, FileRow};
use crate::model::{AudienceId, TaskFileId};

/// A company's brand, as its task managers write it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandInput {
    pub name: String,
    /// Brand colours as `#RRGGBB` (at most 24).
    #[serde(default)]
    pub colours: Vec<String>,
    /// Typefaces (at most 12).
    #[serde(default)]
    pub fonts: Vec<String>,
    /// The tone of voice, in a few sentences.
    pub tone: Option<String>,
    /// What the work should do (at most 30).
    #[serde(default)]
    pub dos: Vec<String>,
    /// What it must not do (at most 30).
    #[serde(default)]
    pub donts: Vec<String>,
}

/// A company's file for its work: a brand logo or asset, or a brief's attachment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskFile {
    pub id: TaskFileId,
    /// `brand_logo`, `brand_asset`, `brief_attachment` or `deliverable`.
    pub purpose: String,
    pub brief_id: Option<Uuid>,
    /// A deliverable's task, its version among the task's files of its name, and the delivery round
    /// (the task's revisions when it was uploaded).
    pub task_id: Option<Uuid>,
    pub version: Option<i32>,
    pub round: Option<i16>,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Where the file is downloaded.
    pub url: String,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<FileRow> for TaskFile {
    fn from(r: FileRow) -> Self {
        Self {
            id: r.id,
            purpose: r.purpose.as_str().to_owned(),
            brief_id: r.brief_id,
            task_id: r.task_id,
            version: r.version,
            round: r.round,
            name: r.name,
            media_type: r.media_type,
            size: r.size,
            sha256: r.sha256,
            url: format!("/v1/task-files/{}", r.id.0),
            uploaded_by: r.uploaded_by,
            created_at: r.created_at,
        }
    }
}

/// A company's brand with its logo and assets. A company that has not written its brand yet has
/// `name` absent and empty lists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Brand {
    pub org_id: Uuid,
    pub name: Option<String>,
    pub colours: Vec<String>,
    pub fonts: Vec<String>,
    pub tone: Option<String>,
    pub dos: Vec<String>,
    pub donts: Vec<String>,
    pub logo: Option<TaskFile>,
    pub assets: Vec<TaskFile>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Brand {
    pub fn of(org: Uuid, row: Option<BrandRow>, files: Vec<FileRow>) -> Self {
        let (mut logo, mut assets) = (None, Vec::new());
        for f in files {
            match f.purpose {
                crate::model::FilePurpose::BrandLogo => logo = Some(TaskFile::from(f)),
                crate::model::FilePurpose::BrandAsset => assets.push(TaskFile::from(f)),
                crate::model::FilePurpose::BriefAttachment | crate::model::FilePurpose::Deliverable => {}
            }
        }
        match row {
            Some(r) => Self {
                org_id: org,
                name: Some(r.name),
                colours: r.colours,
                fonts: r.fonts,
                tone: r.tone,
                dos: r.dos,
                donts: r.donts,
                logo,
                assets,
                updated_at: Some(r.updated_at),
            },
            None => Self {
                org_id: org,
                name: None,
                colours: Vec::new(),
                fonts: Vec::new(),
                tone: None,
                dos: Vec::new(),
                donts: Vec::new(),
                logo,
                assets,
                updated_at: None,
            },
        }
    }
}

/// Who they are: ages (13–100), genders, locations, languages, income and education.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Demographics {
    pub age_min: Option<i16>,
    pub age_max: Option<i16>,
    #[serde(default)]
    pub genders: Vec<String>,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    pub income: Option<String>,
    pub education: Option<String>,
}

/// For business audiences: industries, company sizes, roles, regions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Firmographics {
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub company_sizes: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// What they care about: interests, values, lifestyles, pain points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Psychographics {
    #[serde(default)]
    pub interests: Vec<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub lifestyles: Vec<String>,
    #[serde(default)]
    pub pain_points: Vec<String>,
}

/// What they do: channels they use, buying habits, devices, loyalty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub purchase_habits: Vec<String>,
    #[serde(default)]
    pub devices: Vec<String>,
    pub brand_loyalty: Option<String>,
}

/// A saved audience, as its company writes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    pub name: String,
    #[serde(default)]
    pub demographics: Demographics,
    #[serde(default)]
    pub firmographics: Firmographics,
    #[serde(default)]
    pub psychographics: Psychographics,
    #[serde(default)]
    pub behaviour: Behaviour,
}

/// A company's saved audience.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Audience {
    pub id: AudienceId,
    pub org_id: Uuid,
    pub name: String,
    pub demographics: Demographics,
    pub firmographics: Firmographics,
    pub psychographics: Psychographics,
    pub behaviour: Behaviour,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<AudienceRow> for Audience {
    type Error = platform::ApiError;

    /// Written by this code from these types: a stored value that no longer reads is a fault (logged,
    /// answered 500), never shown as an empty audience.
    fn try_from(r: AudienceRow) -> Result<Self, Self::Error> {
        fn facet<T: serde::de::DeserializeOwned>(
            value: serde_json::Value,
            id: AudienceId,
        ) -> Result<T, platform::ApiError> {
            serde_json::from_value(value)
                .map_err(|e| platform::ApiError::internal(anyhow::anyhow!("audience {} does not read: {e}", id.0)))
        }
        Ok(Self {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            demographics: facet(r.demographics, r.id)?,
            firmographics: facet(r.firmographics, r.id)?,
            psychographics: facet(r.psychographics, r.id)?,
            behaviour: facet(r.behaviour, r.id)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// What a brand file is: the logo (a PNG, JPEG or SVG image; a new logo replaces the old) or an asset.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrandFileQuery {
    /// `logo` or `asset`.
    pub kind: String,
    /// The file's name (1–200 characters).
    pub name: String,
}

/// A brief attachment's name.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileNameQuery {
    /// The file's name (1–200 characters).
    pub name: String,
}
