//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{SearchQuery, SearchResults};
use super::service;
use crate::Subjects;

/// Search messages and projects the caller may read: words ranked by relevance, with filters
/// `from:username`, `in:channel` (or a conversation's id), `before:` and `after:` (YYYY-MM-DD, UTC),
/// `is:thread` and `has:file`. Messages come from the channels of the caller's projects (all of an
/// organization's for its project managers) and the threads they take part in and have opened.
#[utoipa::path(get, path = "/v1/search", tag = "collab", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = SearchResults),
              (status = 422, description = "`validation_failed`: no words and no filter, or a filter with a value it cannot take", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn search(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    Ok(Json(service::search(&ctx, &subjects, &principal, q).await?))
}
