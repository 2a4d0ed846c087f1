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

/// What a search found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// Messages, best match first, then newest.
    pub messages: Vec<MessageHit>,
    /// The searcher's projects whose name or description match the words.
    pub projects: Vec<Project>,
}
