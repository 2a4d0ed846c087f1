//! Handlers for the security self-check (admins).

use axum::extract::State;
use axum::http::StatusCode;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto;
use super::service;
use crate::auth::AuthUser;

/// Run the security self-check now and keep its results (admin).
#[utoipa::path(post, path = "/v1/admin/security-checks", tag = "admin", security(("bearer" = [])),
    responses((status = 201, body = dto::CheckRun), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn run(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<(StatusCode, Json<dto::CheckRun>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::run_now(&ctx, &principal).await?)))
}

/// The latest runs of the security self-check, newest first (admin).
#[utoipa::path(get, path = "/v1/admin/security-checks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = dto::CheckRunList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn runs(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::CheckRunList>, ApiError> {
    Ok(Json(service::runs(&ctx, &principal).await?))
}
