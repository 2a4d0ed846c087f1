//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedUrl {
    /// The secret URL (shown once; rotate to replace it).
    pub url: String,
    pub created_at: DateTime<Utc>,
}
