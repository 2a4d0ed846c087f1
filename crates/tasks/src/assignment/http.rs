//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};

use super::dto::{self, TaskOffer};
use super::service;
use crate::TaskSettings;
use crate::model::{OfferId, TaskId};
use crate::tasks::dto::Task;

/// The caller's task offers, newest first (`open=true`: the live ones, each with its expiry).
#[utoipa::path(get, path = "/v1/me/task-offers", tag = "tasks", security(("bearer" = [])),
    params(dto::OfferQuery), responses((status = 200, body = Page<TaskOffer>)))]
pub async fn my_task_offers(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::OfferQuery>,
) -> Result<Json<Page<TaskOffer>>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    Ok(Json(service::my_offers(&ctx, &principal, q.open.unwrap_or(false), &page).await?))
}

/// Accept an offer before it expires (within the workload cap of its level): the task is yours.
#[utoipa::path(post, path = "/v1/task-offers/{id}/accept", tag = "tasks", security(("bearer" = [])),
    params(("id" = OfferId, Path)), responses((status = 200, body = Task),
    (status = 403, description = "`not_a_freelancer`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`offer_not_open`, `at_workload_cap`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn accept_task_offer(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OfferId>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::accept(&ctx, &settings, &principal, id).await?))
}

/// Decline an offer with a reason: the next candidate is offered the task at once.
#[utoipa::path(post, path = "/v1/task-offers/{id}/decline", tag = "tasks", security(("bearer" = [])),
    params(("id" = OfferId, Path)), request_body = dto::Decline, responses((status = 200, body = TaskOffer),
    (status = 409, description = "`offer_not_open`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decline_task_offer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OfferId>,
    Json(req): Json<dto::Decline>,
) -> Result<Json<TaskOffer>, ApiError> {
    Ok(Json(service::decline(&ctx, &principal, id, req).await?))
}

/// Claim a task open to claims (escalation level 3): the first qualified freelancer wins.
#[utoipa::path(post, path = "/v1/tasks/{id}/claim", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), responses((status = 200, body = Task),
    (status = 403, description = "`not_a_freelancer`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`task_taken`, `not_open_for_claims`, `not_qualified`, `at_workload_cap`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn claim_task(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::claim(&ctx, &settings, &principal, id).await?))
}

/// Staff assign a task by hand (pending, offered or unassignable) to an approved freelancer.
#[utoipa::path(post, path = "/v1/tasks/{id}/assign", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = dto::AssignByHand, responses((status = 200, body = Task),
    (status = 409, description = "`not_assignable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn assign_task(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
    Json(req): Json<dto::AssignByHand>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(service::assign_by_hand(&ctx, &principal, id, req).await?))
}

/// Who would get this task now, and why (staff): the ranked candidates with their score breakdowns and
/// those left out with the reason, under the published configuration. No offer is made.
#[utoipa::path(get, path = "/v1/tasks/{id}/candidates", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), responses((status = 200, body = dto::Preview)))]
pub async fn task_candidates(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TaskId>,
) -> Result<Json<dto::Preview>, ApiError> {
    Ok(Json(service::preview(&ctx, &settings, &principal, id).await?))
}

/// The assignment configurations, newest first (staff).
#[utoipa::path(get, path = "/v1/admin/task-assignment-configs", tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = Vec<dto::Config>)))]
pub async fn task_configs(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<dto::Config>>, ApiError> {
    Ok(Json(service::configs(&ctx, &principal).await?))
}

/// A new draft configuration (staff): weights summing to exactly 100.
#[utoipa::path(post, path = "/v1/admin/task-assignment-configs", tag = "tasks", security(("bearer" = [])),
    request_body = dto::NewConfig, responses((status = 201, body = dto::Config),
    (status = 422, description = "`validation_failed`: the weights do not sum to 100, or one is out of 0–100", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_task_config(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewConfig>,
) -> Result<(axum::http::StatusCode, Json<dto::Config>), ApiError> {
    Ok((axum::http::StatusCode::CREATED, Json(service::new_config(&ctx, &principal, req).await?)))
}

/// Publish a draft (staff): from now on every offer is scored with it; the previous version retires.
#[utoipa::path(post, path = "/v1/admin/task-assignment-configs/{version}/publish", tag = "tasks", security(("bearer" = [])),
    params(("version" = i32, Path)), responses((status = 200, body = dto::Config),
    (status = 409, description = "`config_published`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn publish_task_config(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(version): Path<i32>,
) -> Result<Json<dto::Config>, ApiError> {
    Ok(Json(service::publish_config(&ctx, &principal, version).await?))
}
