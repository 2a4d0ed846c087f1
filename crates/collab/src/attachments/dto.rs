//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::AttachmentRow;
use crate::model::FileId;

/// An upload's name.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttachmentTarget {
    /// The file's name (1 to 255 characters, no `/`); its media type follows it.
    pub name: String,
}

/// A project's file version attached to a message in one of that project's channels.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachedFile {
    pub file_id: FileId,
    /// The version (the latest when left out).
    pub version: Option<i32>,
}

/// A file attached to a message (or uploaded and waiting for its uploader's message).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub name: String,
    pub size: i64,
    pub media_type: String,
    /// `pending` (waiting for its virus scan: not downloaded yet), `clean` or `infected`.
    pub scan: String,
    /// Its bytes (`Range` requests answered), for whoever may read the message.
    pub url: String,
    /// The project file it is, when one was attached.
    pub file_id: Option<FileId>,
    pub version: Option<i32>,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(a: AttachmentRow) -> Self {
        Self {
            url: format!("/v1/attachments/{}", a.id),
            id: a.id,
            name: a.name,
            size: a.size,
            media_type: a.media_type,
            scan: a.scan.as_str().to_owned(),
            file_id: a.file_id,
            version: a.file_version,
            created_at: a.created_at,
        }
    }
}
