//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Affinity, Deliverable, Message};
use super::service;
use crate::brands::dto::{FileNameQuery, TaskFile};
use crate::model::TaskId;

/// Upload a file the freelancer delivers (any file up to 200 MB) as the raw request body, while the
/// task is in progress. A name the task has already makes that file's next version; nothing is replaced.
#[utoipa::path(post, path = "/v1/tasks/{id}/files", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path), FileNameQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = TaskFile),
              (status = 403, description = "`forbidden`: only the task's freelancer uploads", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`not_in_progress`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_deliverable(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Query(q): Query<FileNameQuery>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TaskFile>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::upload(&ctx, &principal, id, &q.name, body).await?)))
}

/// The task's files, by name, newest version first (download each at its `url`): for the company's task
/// managers, the freelancer and staff.
#[utoipa::path(get, path = "/v1/tasks/{id}/files", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), responses((status = 200, body = Vec<Deliverable>)))]
pub async fn task_deliverables(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
) -> Result<Json<Vec<Deliverable>>, ApiError> {
    Ok(Json(service::files(&ctx, &principal, id).await?))
}

/// Post a message on the task; the company's task managers, the freelancer and staff may, and the
/// others are told.
#[utoipa::path(post, path = "/v1/tasks/{id}/messages", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::NewMessage,
    responses((status = 201, body = Message),
              (status = 404, description = "no such task, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_task_message(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::NewMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::post_message(&ctx, &principal, id, &req).await?)))
}

/// The task's messages, oldest first.
#[utoipa::path(get, path = "/v1/tasks/{id}/messages", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path), PageParams), responses((status = 200, body = Page<Message>)))]
pub async fn task_messages(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Message>>, ApiError> {
    Ok(Json(service::messages(&ctx, &principal, id, &page).await?))
}

/// The freelancers the company has approved work from, with how often and how it rated them, most
/// approved first.
#[utoipa::path(get, path = "/v1/orgs/{id}/affinity", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<Affinity>)))]
pub async fn org_affinity(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Affinity>>, ApiError> {
    Ok(Json(service::affinity(&ctx, &principal, id).await?))
}
