//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::stream::Hub;
use platform::{ApiError, AppContext, Json};

use super::dto::{Edit, Message, MessageEdit, NewMessage, NotificationLevel, Reaction};
use super::service::{self, Change};
use crate::model::{ConversationId, MessageId};
use crate::{CollabSettings, Subjects};

/// Post a message (Markdown, up to 16,000 characters), or a reply with `reply_to`. A thread's parties
/// are told, and so is the author of the message replied to.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)), request_body = NewMessage,
    responses((status = 201, body = Message),
              (status = 403, description = "`read_only`: a project's viewer", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`message_deleted`: the thread's first message was deleted", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_conversation_message(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
    Json(req): Json<NewMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::post(&ctx, &subjects, &principal, id, req).await?)))
}

/// The conversation's messages (each with its reply count; replies at `/v1/messages/{id}/replies`),
/// newest first.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path), PageParams),
    responses((status = 200, body = Page<Message>),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_messages(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Message>>, ApiError> {
    Ok(Json(service::list(&ctx, &subjects, &principal, id, &page).await?))
}

/// The replies to a message, oldest first.
#[utoipa::path(get, path = "/v1/messages/{id}/replies", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path), PageParams),
    responses((status = 200, body = Page<Message>),
              (status = 404, description = "no such message, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn message_replies(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Message>>, ApiError> {
    Ok(Json(service::replies(&ctx, &subjects, &principal, id, &page).await?))
}

/// Edit a message: its author, within 15 minutes of posting it. The earlier text is kept.
#[utoipa::path(patch, path = "/v1/messages/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path)), request_body = MessageEdit,
    responses((status = 200, body = Message),
              (status = 403, description = "`not_the_author`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`edit_window_closed`, `message_deleted`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn edit_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<CollabSettings>>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
    Json(req): Json<MessageEdit>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(service::edit(&ctx, &settings, &subjects, &principal, id, req).await?))
}

/// Delete a message (its author, or a moderator: a project's managers in a channel, platform admins in
/// a thread). It keeps its place without its text.
#[utoipa::path(delete, path = "/v1/messages/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path)),
    responses((status = 204),
              (status = 403, description = "`forbidden`: neither the author nor a moderator", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_message(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&ctx, &subjects, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A message's earlier texts, oldest first.
#[utoipa::path(get, path = "/v1/messages/{id}/edits", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path)), responses((status = 200, body = Vec<Edit>)))]
pub async fn message_edits(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
) -> Result<Json<Vec<Edit>>, ApiError> {
    Ok(Json(service::edits(&ctx, &subjects, &principal, id).await?))
}

/// React to a message with an emoji (`👍`, percent-encoded in the path) or a shortcode (`:thumbsup:`);
/// reacting again changes nothing. Answers the message's reactions.
#[utoipa::path(put, path = "/v1/messages/{id}/reactions/{emoji}", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path), ("emoji" = String, Path)),
    responses((status = 200, body = Vec<Reaction>),
              (status = 403, description = "`read_only`: a project's viewer", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`too_many_reactions`, `message_deleted`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: not an emoji or a shortcode", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_message_reaction(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path((id, emoji)): Path<(MessageId, String)>,
) -> Result<Json<Vec<Reaction>>, ApiError> {
    Ok(Json(service::react(&ctx, &subjects, &principal, id, &emoji).await?))
}

/// Take back your reaction.
#[utoipa::path(delete, path = "/v1/messages/{id}/reactions/{emoji}", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path), ("emoji" = String, Path)), responses((status = 204)))]
pub async fn remove_message_reaction(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path((id, emoji)): Path<(MessageId, String)>,
) -> Result<StatusCode, ApiError> {
    service::unreact(&ctx, &subjects, &principal, id, &emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Server-Sent Events of the conversation, for those who may read it: `message` (a new message, as the
/// reader sees it), `updated` (edited or reacted to), `deleted` (`{"id"}`), `typing` (`{"user", "name"}`,
/// never the reader's own), `presence` (`{"user", "name", "here"}`: someone opened the conversation's
/// stream, or closed their last one; never the reader) and `resync` (changes may have been missed: read
/// the messages again). It ends when the reader may no longer read the conversation. An open stream
/// counts its reader as here (`GET /v1/conversations/{id}/presence`).
#[utoipa::path(get, path = "/v1/conversations/{id}/stream", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn follow_conversation(
    State(ctx): State<AppContext>,
    Extension(hub): Extension<Arc<Hub>>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Response, ApiError> {
    Ok(service::follow_with(&ctx, &hub, &subjects, &principal, id, change_event).await?.into_response())
}

/// A change as the API's event: JSON data.
pub fn change_event(change: Change) -> Event {
    let (name, data) = match change {
        Change::Message { message, new } => {
            (if new { "message" } else { "updated" }, serde_json::to_string(&message).unwrap_or_default())
        }
        Change::Deleted(id) => ("deleted", serde_json::json!({ "id": id }).to_string()),
        Change::Typing { user, name } => ("typing", serde_json::json!({ "user": user, "name": name }).to_string()),
        Change::Presence { user, name, here } => {
            ("presence", serde_json::json!({ "user": user, "name": name, "here": here }).to_string())
        }
        Change::Resync => ("resync", "{}".to_owned()),
    };
    Event::default().event(name).data(data)
}

/// Tell the conversation's followers you are writing (send it every few seconds while typing).
#[utoipa::path(post, path = "/v1/conversations/{id}/typing", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 204),
              (status = 403, description = "`read_only`: a project's viewer", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_typing(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<StatusCode, ApiError> {
    service::typing(&ctx, &subjects, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pin a message to its conversation (those who may post; pinning again changes nothing). A
/// conversation keeps at most 50.
#[utoipa::path(put, path = "/v1/messages/{id}/pin", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path)),
    responses((status = 200, body = Message),
              (status = 403, description = "`read_only`: a project's viewer", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such message, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`too_many_pins`, `message_deleted`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn pin_message(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(service::pin(&ctx, &subjects, &principal, id).await?))
}

/// Unpin a message.
#[utoipa::path(delete, path = "/v1/messages/{id}/pin", tag = "collab", security(("bearer" = [])),
    params(("id" = MessageId, Path)),
    responses((status = 204),
              (status = 403, description = "`read_only`: a project's viewer", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such message, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn unpin_message(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<MessageId>,
) -> Result<StatusCode, ApiError> {
    service::unpin(&ctx, &subjects, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The conversation's pinned messages, most recently pinned first.
#[utoipa::path(get, path = "/v1/conversations/{id}/pins", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, body = Vec<Message>),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_pins(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<Message>>, ApiError> {
    Ok(Json(service::pins(&ctx, &subjects, &principal, id).await?))
}

/// How much of the conversation notifies the caller: `all`, `mentions` or `none`.
#[utoipa::path(get, path = "/v1/conversations/{id}/notifications", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)),
    responses((status = 200, body = NotificationLevel),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn conversation_level(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
) -> Result<Json<NotificationLevel>, ApiError> {
    Ok(Json(service::level(&ctx, &subjects, &principal, id).await?))
}

/// Follow (`all`: every message notifies you), keep to `mentions` (of you or your team, and replies to
/// you), or mute (`none`) a conversation.
#[utoipa::path(put, path = "/v1/conversations/{id}/notifications", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path)), request_body = NotificationLevel,
    responses((status = 200, body = NotificationLevel),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_conversation_level(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
    Json(req): Json<NotificationLevel>,
) -> Result<Json<NotificationLevel>, ApiError> {
    Ok(Json(service::set_level(&ctx, &subjects, &principal, id, req).await?))
}
