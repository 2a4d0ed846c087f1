//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    Assignment, CannedReply, CannedReplyInput, NewTicket, Rating, Resolve, Target, TargetChange, Ticket, TicketChange,
    TicketEvent, TicketMessage, TicketQuery, TicketReply,
};
use super::service;
use crate::Subjects;
use crate::model::TicketId;

/// Open a support ticket. Its description is the first message of its conversation; the support team
/// is told, and its response and resolution targets start (by priority).
#[utoipa::path(post, path = "/v1/support/tickets", tag = "support", security(("bearer" = [])),
    request_body = NewTicket,
    responses((status = 201, body = Ticket),
              (status = 422, description = "`validation_failed`: each bad field named (urgent is the support team's to set)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: ten tickets an hour", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn open_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<NewTicket>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::open(&ctx, &principal, req).await?)))
}

/// The caller's tickets, newest first. Agents see every ticket, filtered by status, assignee,
/// priority, category or missed targets; `sort=due` is their queue (unsettled tickets, the next target
/// first).
#[utoipa::path(get, path = "/v1/support/tickets", tag = "support", security(("bearer" = [])),
    params(TicketQuery),
    responses((status = 200, body = Page<Ticket>),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn list_tickets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(query): Query<TicketQuery>,
) -> Result<Json<Page<Ticket>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, &query).await?))
}

/// A ticket, for its requester and the support team (who also see its notes and targets).
#[utoipa::path(get, path = "/v1/support/tickets/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)),
    responses((status = 200, body = Ticket),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change a ticket's subject, category or priority (the support team); a new priority moves its
/// targets.
#[utoipa::path(patch, path = "/v1/support/tickets/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = TicketChange,
    responses((status = 200, body = Ticket),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<TicketChange>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::change(&ctx, &principal, id, req).await?))
}

/// Give a ticket to an agent, or back to the queue with `null` (the support team).
#[utoipa::path(put, path = "/v1/support/tickets/{id}/assignee", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = Assignment,
    responses((status = 200, body = Ticket),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: user_id names nobody on the support team", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn assign_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<Assignment>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::assign(&ctx, &principal, id, req).await?))
}

/// Write on a ticket: a reply to the requester (text, or a canned reply filled in), or an internal
/// note (`internal: true`, the support team; the requester never sees it). A reply on a resolved or
/// closed ticket reopens it within seven days of its resolution.
#[utoipa::path(post, path = "/v1/support/tickets/{id}/messages", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = TicketReply,
    responses((status = 201, body = TicketMessage),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`reopen_window_closed`: resolved more than seven days ago", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: body, canned_reply_id or internal", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_ticket_message(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<TicketReply>,
) -> Result<(StatusCode, Json<TicketMessage>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::post(&ctx, &subjects, &principal, id, req).await?)))
}

/// A ticket's messages, oldest first, replies included: the requester sees the conversation; the
/// support team sees its internal notes in it too, each marked `internal`.
#[utoipa::path(get, path = "/v1/support/tickets/{id}/messages", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path), PageParams),
    responses((status = 200, body = Page<TicketMessage>),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn ticket_messages(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<TicketMessage>>, ApiError> {
    Ok(Json(service::timeline(&ctx, &principal, id, &page).await?))
}

/// Resolve a ticket (the support team): its targets stop, the requester is told and may reopen it
/// within seven days, after which it closes.
#[utoipa::path(post, path = "/v1/support/tickets/{id}/resolve", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = Resolve,
    responses((status = 200, body = Ticket),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`ticket_settled`: already resolved or closed", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn resolve_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<Resolve>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::resolve(&ctx, &principal, id, req).await?))
}

/// Close a ticket (its requester, or the support team).
#[utoipa::path(post, path = "/v1/support/tickets/{id}/close", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)),
    responses((status = 200, body = Ticket),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`ticket_settled`: already closed", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn close_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::close(&ctx, &principal, id).await?))
}

/// Reopen a resolved or closed ticket, within seven days of its resolution.
#[utoipa::path(post, path = "/v1/support/tickets/{id}/reopen", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)),
    responses((status = 200, body = Ticket),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`ticket_not_resolved`: it is open; `reopen_window_closed`: resolved more than seven days ago", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reopen_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::reopen(&ctx, &principal, id).await?))
}

/// Rate the help had (the requester, once the ticket is resolved or closed; again to change it).
#[utoipa::path(put, path = "/v1/support/tickets/{id}/rating", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)), request_body = Rating,
    responses((status = 200, body = Ticket),
              (status = 403, description = "`not_the_requester`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`ticket_not_resolved`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: score 1 to 5", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn rate_ticket(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
    Json(req): Json<Rating>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(service::rate(&ctx, &principal, id, req).await?))
}

/// A ticket's history: opened, each status step, assignments, changes, missed targets, ratings (the
/// support team).
#[utoipa::path(get, path = "/v1/support/tickets/{id}/events", tag = "support", security(("bearer" = [])),
    params(("id" = TicketId, Path)),
    responses((status = 200, body = Vec<TicketEvent>),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such ticket, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn ticket_events(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TicketId>,
) -> Result<Json<Vec<TicketEvent>>, ApiError> {
    Ok(Json(service::events(&ctx, &principal, id).await?))
}

/// The first-response and resolution targets by priority (the support team).
#[utoipa::path(get, path = "/v1/support/targets", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = Vec<Target>),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn support_targets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<Target>>, ApiError> {
    Ok(Json(service::targets(&ctx, &principal).await?))
}

/// Set a priority's targets (admins); tickets opened from then on are held to them.
#[utoipa::path(put, path = "/v1/support/targets/{priority}", tag = "support", security(("bearer" = [])),
    params(("priority" = String, Path, description = "`urgent`, `high`, `medium` or `low`")), request_body = TargetChange,
    responses((status = 200, body = Target),
              (status = 403, description = "`forbidden`: admins only", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such priority", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_support_target(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(priority): Path<String>,
    Json(req): Json<TargetChange>,
) -> Result<Json<Target>, ApiError> {
    Ok(Json(service::set_target(&ctx, &principal, &priority, req).await?))
}

/// The canned replies, most used first (the support team).
#[utoipa::path(get, path = "/v1/support/canned-replies", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = Vec<CannedReply>),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn canned_replies(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<CannedReply>>, ApiError> {
    Ok(Json(service::canned_replies(&ctx, &principal).await?))
}

/// Add a canned reply (the support team). Placeholders: `{{requester}}`, `{{number}}`, `{{subject}}`,
/// `{{agent}}`.
#[utoipa::path(post, path = "/v1/support/canned-replies", tag = "support", security(("bearer" = [])),
    request_body = CannedReplyInput,
    responses((status = 201, body = CannedReply),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`canned_reply_exists`: a reply has this title", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_canned_reply(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<CannedReplyInput>,
) -> Result<(StatusCode, Json<CannedReply>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::new_canned_reply(&ctx, &principal, req).await?)))
}

/// Change a canned reply (the support team).
#[utoipa::path(put, path = "/v1/support/canned-replies/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CannedReplyInput,
    responses((status = 200, body = CannedReply),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such canned reply", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`canned_reply_exists`: a reply has this title", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_canned_reply(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<CannedReplyInput>,
) -> Result<Json<CannedReply>, ApiError> {
    Ok(Json(service::change_canned_reply(&ctx, &principal, id, req).await?))
}

/// Remove a canned reply (the support team).
#[utoipa::path(delete, path = "/v1/support/canned-replies/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204),
              (status = 403, description = "`forbidden`: not on the support team", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such canned reply", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_canned_reply(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    service::delete_canned_reply(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
