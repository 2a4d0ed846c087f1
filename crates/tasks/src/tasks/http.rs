//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Task, TaskSummary};
use super::service;
use crate::TaskSettings;
use crate::model::TaskId;

/// The task categories, with their credits and required skills.
#[utoipa::path(get, path = "/v1/task-categories", tag = "tasks", responses((status = 200, body = Vec<dto::TaskCategory>)))]
pub async fn task_categories(State(ctx): State<AppContext>) -> Result<Json<Vec<dto::TaskCategory>>, ApiError> {
    Ok(Json(service::categories(&ctx).await?))
}

/// Commission a task from a brief for a company: the category's credits are held at once (refused when
/// the company lacks them) and assignment starts. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/tasks", tag = "tasks", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::NewTask,
    responses((status = 201, body = Task),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Json(req): Json<dto::NewTask>,
) -> Result<axum::response::Response, ApiError> {
    let now = ctx.clock.now();
    let scope = principal.user_id.to_string();
    let request =
        platform::idempotency::Request { scope: &scope, headers: &headers, route: "POST /v1/tasks", body: &req };
    platform::idempotency::respond(&ctx.db, request, StatusCode::CREATED, now, async |conn| {
        service::create(conn, &principal, &req, now).await
    })
    .await
}

/// A task, with its activity: for the company's task managers, its freelancer, the freelancer it is
/// offered to, freelancers who may claim it, and staff.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), responses((status = 200, body = Task),
    (status = 404, description = "no such task, or not yours to see", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// A company's tasks, newest first.
#[utoipa::path(get, path = "/v1/orgs/{id}/tasks", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), dto::TaskQuery), responses((status = 200, body = Page<TaskSummary>)))]
pub async fn org_tasks(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<dto::TaskQuery>,
) -> Result<Json<Page<TaskSummary>>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    Ok(Json(service::of_org(&ctx, &principal, id, q.status.as_deref(), &page).await?))
}

/// The caller's work as a freelancer, newest first.
#[utoipa::path(get, path = "/v1/me/tasks", tag = "tasks", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = Page<TaskSummary>)))]
pub async fn my_tasks(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<TaskSummary>>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal, &page).await?))
}

/// What waits for staff: deliveries to review and tasks no one took, oldest first.
#[utoipa::path(get, path = "/v1/admin/tasks", tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = Vec<TaskSummary>)))]
pub async fn task_staff_queue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<TaskSummary>>, ApiError> {
    Ok(Json(service::staff_queue(&ctx, &principal).await?))
}

/// The freelancer starts work (an assigned task, or a revision).
#[utoipa::path(post, path = "/v1/tasks/{id}/start", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), responses((status = 200, body = Task),
    (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn start_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::start_work(&ctx, &principal, id).await?))
}

/// The freelancer delivers, with a note, once at least one file of this round is uploaded: staff review it next.
#[utoipa::path(post, path = "/v1/tasks/{id}/deliver", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::Note, responses((status = 200, body = Task),
    (status = 409, description = "`invalid_transition`, `no_deliverable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn deliver_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::Note>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::deliver(&ctx, &principal, id, req).await?))
}

/// Staff pass a delivery to the client or return it to the freelancer with notes.
#[utoipa::path(post, path = "/v1/tasks/{id}/review", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::StaffReview, responses((status = 200, body = Task),
    (status = 403, description = "`transition_not_permitted`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn review_task(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::StaffReview>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::review(&ctx, &settings, &principal, id, req).await?))
}

/// The client approves the delivery (optionally rating it 1–5): the credits are spent and the
/// freelancer earns 70% of their value.
#[utoipa::path(post, path = "/v1/tasks/{id}/approve", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::Approval, responses((status = 200, body = Task),
    (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn approve_task(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::Approval>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::approve(&ctx, &settings, &principal, id, req).await?))
}

/// The client asks for a revision, saying what to change (at most two per task).
#[utoipa::path(post, path = "/v1/tasks/{id}/revisions", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::Note, responses((status = 200, body = Task),
    (status = 409, description = "`revision_limit`, `invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn request_task_revision(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::Note>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::request_revision(&ctx, &settings, &principal, id, req).await?))
}

/// Cancel a task (the client before work starts; staff at any open step): its credits come back.
#[utoipa::path(post, path = "/v1/tasks/{id}/cancel", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::Note, responses((status = 200, body = Task),
    (status = 403, description = "`transition_not_permitted`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::Note>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::cancel(&ctx, &principal, id, req).await?))
}
