//! HTTP handlers of the job queue's administration.

use axum::extract::{Path, Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::{dto, service};

/// Counts of jobs by kind and state (admin).
#[utoipa::path(get, path = "/v1/admin/jobs/stats", tag = "admin", security(("bearer" = [])), responses((status = 200, body = dto::JobStats)))]
pub async fn job_stats(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::JobStats>, ApiError> {
    Ok(Json(service::job_stats(&ctx, &principal).await?))
}

/// Jobs, newest first, by state and kind (admin): `?state=dead` lists the dead ones.
#[utoipa::path(get, path = "/v1/admin/jobs", tag = "admin", security(("bearer" = [])), params(dto::JobQuery),
    responses((status = 200, body = dto::JobList)))]
pub async fn jobs(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::JobQuery>,
) -> Result<Json<dto::JobList>, ApiError> {
    Ok(Json(service::jobs(&ctx, &principal, q).await?))
}

/// One job, with its last error (admin).
#[utoipa::path(get, path = "/v1/admin/jobs/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = dto::JobRecord)))]
pub async fn job(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<dto::JobRecord>, ApiError> {
    Ok(Json(service::job(&ctx, &principal, id).await?))
}

/// Put a dead job back in the queue with a fresh set of attempts (admin).
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = dto::JobRecord),
              (status = 409, description = "`job_not_dead`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn retry_job(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<Uuid>,
) -> Result<Json<dto::JobRecord>, ApiError> {
    Ok(Json(service::retry_job(&ctx, &principal, id, &meta).await?))
}
