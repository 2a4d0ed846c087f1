//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Conversation, ConversationMember, NewChannel, NewConversation, Present, ReadMark, ReadPosition};
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
    params(("kind" = String, Path, description = "The object's kind: `booking`, `event`, `release`, `task`, `file_version` (a project file's version, by its `id`), `support_ticket` or `support_notes`"), ("id" = Uuid, Path)),
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

/// Open a direct conversation with someone (`{"kind": "direct", "user_id"}`; the one the two have, if
/// any: `200`) or a group (`{"kind": "group", "title", "members"}`, up to 50 with you).
#[utoipa::path(post, path = "/v1/conversations", tag = "collab", security(("bearer" = [])),
    request_body = NewConversation,
    responses((status = 201, body = Conversation), (status = 200, description = "the direct conversation the two have", body = Conversation),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn start_conversation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<NewConversation>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    let (made, conversation) = service::start(&ctx, &principal, req).await?;
    Ok((if made { StatusCode::CREATED } else { StatusCode::OK }, Json(conversation)))
}

/// The people of a direct conversation or a group.
#[utoipa::path(get, path = "/v1/conversations/{id}/members", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, body = Vec<ConversationMember>),
              (status = 409, description = "`not_a_group`: a channel or a thread", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_members(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<ConversationMember>>, ApiError> {
    Ok(Json(service::members(&ctx, &subjects, &principal, id).await?))
}

/// Add someone to a group (any of its members may); a group holds at most 50.
#[utoipa::path(put, path = "/v1/conversations/{id}/members/{user_id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path), ("user_id" = Uuid, Path)),
    responses((status = 200, body = Vec<ConversationMember>),
              (status = 409, description = "`group_full`, `not_a_group`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_conversation_member(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path((id, user)): Path<(ConversationId, Uuid)>,
) -> Result<Json<Vec<ConversationMember>>, ApiError> {
    Ok(Json(service::add_member(&ctx, &subjects, &principal, id, user).await?))
}

/// Leave a group (your own id; a direct conversation is not left).
#[utoipa::path(delete, path = "/v1/conversations/{id}/members/{user_id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path), ("user_id" = Uuid, Path)),
    responses((status = 204),
              (status = 403, description = "`forbidden`: someone else's place", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`not_a_group`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn leave_conversation(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path((id, user)): Path<(ConversationId, Uuid)>,
) -> Result<StatusCode, ApiError> {
    if user != principal.user_id.0 {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "You leave a group yourself; nobody removes others.",
        ));
    }
    service::leave(&ctx, &subjects, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is in the conversation now: the people whose live stream of it is open (on any node), earliest
/// first. A stream that stops without closing (a node stopped) stops counting within 90 seconds.
#[utoipa::path(get, path = "/v1/conversations/{id}/presence", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, body = Vec<Present>),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_presence(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<Present>>, ApiError> {
    Ok(Json(service::presence(&ctx, &subjects, &principal, id).await?))
}
