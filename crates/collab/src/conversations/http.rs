//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Conversation, NewChannel, ReadMark, ReadPosition};
use super::service;
use crate::Subjects;
use crate::model::{ConversationId, ProjectId};

/// The project's channels, with the caller's unread counts.
#[utoipa::path(get, path = "/v1/projects/{id}/channels", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)), responses((status = 200, body = Vec<Conversation>)))]
pub async fn project_channels(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Conversation>>, ApiError> {
    Ok(Json(service::channels(&ctx, &principal, id).await?))
}

/// Open a channel in the project (its managers may).
#[utoipa::path(post, path = "/v1/projects/{id}/channels", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)), request_body = NewChannel,
    responses((status = 201, body = Conversation),
              (status = 409, description = "`channel_exists`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_project_channel(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Json(req): Json<NewChannel>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::new_channel(&ctx, &principal, id, req).await?)))
}

/// The thread attached to a business object (`booking`, `event`, ...), made on first use. Whoever may
/// see the object by its own domain's rule takes part; anyone else gets 404.
#[utoipa::path(get, path = "/v1/threads/{kind}/{id}", tag = "collab", security(("bearer" = [])),
    params(("kind" = String, Path, description = "The object's kind: `booking`, `event`, `release` or `task`"), ("id" = Uuid, Path)),
    responses((status = 200, body = Conversation),
              (status = 404, description = "no such object, or not yours; `unknown_subject` for a kind threads do not attach to", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn object_thread(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path((kind, id)): Path<(String, Uuid)>,
) -> Result<Json<Conversation>, ApiError> {
    Ok(Json(service::thread(&ctx, &subjects, &principal, &kind, id).await?))
}

/// A conversation, for those who may read it.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, body = Conversation),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_conversation(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Json<Conversation>, ApiError> {
    Ok(Json(service::get(&ctx, &subjects, &principal, id).await?))
}

/// The caller's conversations (their projects' channels, the threads they have read or written in),
/// most recently active first, with unread counts.
#[utoipa::path(get, path = "/v1/me/conversations", tag = "collab", security(("bearer" = [])),
    responses((status = 200, body = Vec<Conversation>)))]
pub async fn my_conversations(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<Conversation>>, ApiError> {
    Ok(Json(service::mine(&ctx, &subjects, &principal).await?))
}

/// Mark the conversation read up to a time (now by default).
#[utoipa::path(post, path = "/v1/conversations/{id}/read", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)), request_body = ReadMark,
    responses((status = 200, body = ReadPosition)))]
pub async fn mark_conversation_read(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
    Json(mark): Json<ReadMark>,
) -> Result<Json<ReadPosition>, ApiError> {
    Ok(Json(service::mark_read(&ctx, &subjects, &principal, id, mark).await?))
}
