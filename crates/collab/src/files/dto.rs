//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{FileRow, VersionRow};
use crate::model::{FileId, ProjectId};

/// Where an upload goes.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadTarget {
    /// The file's name (1 to 255 characters, no `/`). A name the folder has makes its next version.
    pub name: String,
    /// A folder path such as `artwork/drafts` (empty: the project's top).
    #[serde(default)]
    pub folder: String,
    /// `design`, `reference`, `final`, `feedback` or `other` (default), for a new file.
    pub category: Option<String>,
    /// A name for this version (`v2 for the label`).
    pub label: Option<String>,
}

/// What was read of a version's content (from its bytes, not its name) once it passed its scan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileMedia {
    /// `png`, `jpeg`, `webp`, `gif`, `svg`, `pdf`, `wav`, `flac`, `ogg`, `mp3`, `mp4` (MP4, M4A, MOV),
    /// `text`, or an office document: `docx`, `pptx`, `xlsx`, `odt`, `odp`, `ods`; `null` for anything
    /// else.
    pub format: Option<String>,
    /// In pixels: images, and the picture of a video.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Audio and video.
    pub duration_ms: Option<i64>,
    /// PDFs.
    pub pages: Option<i32>,
    /// The thumbnail of a PNG, JPEG or WebP image.
    pub thumbnail_url: Option<String>,
    /// What could not be read, and why (a damaged header, an image too large for a thumbnail).
    pub note: Option<String>,
}

/// One version of a file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileVersion {
    /// The version's own id: its thread is `/v1/threads/file_version/{id}`.
    pub id: Uuid,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub label: Option<String>,
    /// `draft`, `in_review`, `approved` or `changes_requested`.
    pub status: String,
    /// The version whose content this one restored.
    pub restored_from: Option<i32>,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// `pending` (quarantined until the virus scan passes), `clean`, or `infected` (quarantined for
    /// good). Only a clean version is downloaded, linked or approved.
    pub scan: String,
    /// What the scanner found in an infected version.
    pub scan_note: Option<String>,
    /// Its bytes (`Range` requests answered).
    pub url: String,
    /// What its content holds; `null` until the inspection job has read it (moments after a clean
    /// upload).
    pub media: Option<FileMedia>,
}

impl From<VersionRow> for FileVersion {
    fn from(v: VersionRow) -> Self {
        let base = format!("/v1/project-files/{}/versions/{}", v.file_id, v.version);
        Self {
            id: v.id,
            url: format!("{base}/content"),
            media: v.media.map(|m| FileMedia {
                format: m.format,
                width: m.width,
                height: m.height,
                duration_ms: m.duration_ms,
                pages: m.pages,
                thumbnail_url: m.thumbnail.map(|_| format!("{base}/thumbnail")),
                note: m.note,
            }),
            version: v.version,
            sha256: v.sha256,
            size: v.size,
            media_type: v.media_type,
            label: v.label,
            status: v.status.as_str().to_owned(),
            restored_from: v.restored_from,
            uploaded_by: v.uploaded_by,
            created_at: v.created_at,
            scan: v.scan.as_str().to_owned(),
            scan_note: v.scan_note,
        }
    }
}

/// A download link that expires.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFileLink {
    /// How long the link works: 60 seconds to 7 days (604,800); an hour by default.
    pub expires_in_seconds: Option<i64>,
}

/// A signed download link: anyone holding it downloads the version (no sign-in) until it expires.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileLink {
    /// The path to `GET` (relative to the service's address), with `Range` answered.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A project's file with its versions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectFile {
    pub id: FileId,
    pub project_id: ProjectId,
    pub folder: String,
    pub name: String,
    pub category: String,
    pub latest_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub versions: Vec<FileVersion>,
}

impl ProjectFile {
    pub fn of(f: FileRow, versions: Vec<VersionRow>) -> Self {
        Self {
            id: f.id,
            project_id: f.project_id,
            folder: f.folder,
            name: f.name,
            category: f.category.as_str().to_owned(),
            latest_version: f.latest_version,
            created_at: f.created_at,
            updated_at: f.updated_at,
            versions: versions.into_iter().map(FileVersion::from).collect(),
        }
    }
}

/// An organization's storage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StorageUse {
    pub organization_id: Uuid,
    /// Bytes of distinct content its projects hold (the same bytes twice count once).
    pub used_bytes: i64,
    pub quota_bytes: i64,
}

/// A new allowance.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageQuota {
    pub quota_bytes: i64,
}

/// A comment on a version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReviewComment {
    /// 1 to 4,000 characters.
    pub body: String,
    /// Where it points (`{"kind": "version"}` by default).
    pub anchor: Option<crate::files::review::Anchor>,
}

/// A comment on a version, open or resolved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewComment {
    pub id: Uuid,
    pub file_id: FileId,
    pub version: i32,
    pub author: Uuid,
    pub author_name: String,
    pub body: String,
    pub anchor: crate::files::review::Anchor,
    pub resolved: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Resolve a comment, or open it again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentResolution {
    pub resolved: bool,
}

/// A version's next status.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionStatusChange {
    /// `in_review`, `approved`, `changes_requested` or `draft`.
    pub status: String,
    /// Why (what to change), up to 2,000 characters.
    pub note: Option<String>,
}

/// A new folder.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolder {
    /// Names joined by `/` (`artwork/drafts`), never `.` or `..`; up to 500 characters.
    pub path: String,
}

/// A project's folder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ProjectFolder)]
pub struct Folder {
    pub path: String,
    /// Files directly in it.
    pub files: i64,
}

/// Moving a file to another folder, renaming it or changing its category; what is left out stays.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    /// The folder to move it to (`""`: the project's top).
    pub folder: Option<String>,
    /// Its new name (1 to 255 characters, no `/`).
    pub name: Option<String>,
    /// `design`, `reference`, `final`, `feedback` or `other`.
    pub category: Option<String>,
}

/// A deleted file, which its project's makers may restore.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedFile {
    pub file: ProjectFile,
    pub deleted_at: DateTime<Utc>,
    pub deleted_by: Uuid,
}
