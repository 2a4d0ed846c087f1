//! The area's request and response bodies.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::messages::dto::Message;
use crate::projects::dto::Project;

/// A search.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words (quotes for a phrase, `or`, `-word`) and filters: `from:username`, `in:channel` (or a
    /// conversation's id), `before:YYYY-MM-DD`, `after:YYYY-MM-DD`, `is:thread`, `has:file`.
    pub q: String,
    /// How many messages (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A message found, with where it is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageHit {
    pub message: Message,
    /// The conversation's title (`#general · Night Drive`, `Booking: …`).
    pub conversation_title: String,
    /// Full-text relevance (0 when the search has only filters).
    pub rank: f32,
}

/// A file found by its name or folder, or by the text of its latest version (PDFs and text files).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileHit {
    pub file_id: crate::model::FileId,
    pub project_id: crate::model::ProjectId,
    pub project_name: String,
    pub folder: String,
    pub name: String,
    /// The latest version, whose text was searched.
    pub version: i32,
    pub media_type: String,
    pub size: i64,
    /// Where the words are in its text, the matches between `[` and `]`; `null` when only the name
    /// matched.
    pub excerpt: Option<String>,
    pub rank: f32,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// Messages, best match first, then newest.
    pub messages: Vec<MessageHit>,
    /// The searcher's projects whose name or description match the words.
    pub projects: Vec<Project>,
    /// Files of the searcher's projects whose name, folder or text match the words, best first
    /// (`from:`, `before:` and `after:` apply to their latest version; with `in:`, `is:thread` or
    /// `has:file`, which only messages have, none).
    pub files: Vec<FileHit>,
}
