//! The area's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Attachment, AttachmentTarget};
use super::service;
use crate::Subjects;
use crate::model::ConversationId;

/// Upload a file to attach (the raw body, streamed; up to 100 MB) into a direct conversation, a group or
/// a thread the caller may write in. It waits, seen by nobody else, until the caller's message names it
/// in `attachments`. A project's channel takes the project's files instead (`files` on the message).
#[utoipa::path(post, path = "/v1/conversations/{id}/attachments", tag = "collab", security(("bearer" = [])),
    params(("id" = ConversationId, Path), AttachmentTarget),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = Attachment),
              (status = 403, description = "`read_only`: the caller reads the conversation but does not write in it", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such conversation, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`use_project_files`: a project's channel; `file_infected`: bytes known to fail the virus scan (nothing kept)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 413, description = "`payload_too_large`: over 100 MB", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a bad name", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads this hour", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_attachment(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ConversationId>,
    Query(target): Query<AttachmentTarget>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::upload(&ctx, &subjects, &principal, id, target, body).await?)))
}

/// An attachment's bytes: whole, or the one byte range a `Range` header asks for (206). For whoever may
/// read its message's conversation (its uploader while it waits for a message).
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, description = "no such attachment, its message deleted, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`: waiting for its virus scan, or infected", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn attachment_content(
    State(ctx): State<AppContext>,
    Extension(subjects): Extension<Subjects>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download(&ctx, &subjects, &principal, id, headers.get(axum::http::header::RANGE)).await
}
