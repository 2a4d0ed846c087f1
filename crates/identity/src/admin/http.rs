//! Handlers for administration: users, security events, the audit log, permissions and templates.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};

use super::dto;
use super::service::{self, AccountAction};
use crate::accounts::dto::User;
use crate::auth::AuthUser;
use crate::model::{OrgId, TemplateId, UserId};

/// Search user accounts (admin, staff).
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), params(dto::UserQuery),
    responses((status = 200, body = dto::UserList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn users(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::UserQuery>,
) -> Result<Json<dto::UserList>, ApiError> {
    Ok(Json(service::users(&ctx, &principal, q).await?))
}

/// One user account (admin, staff).
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])), params(("id" = UserId, Path)),
    responses((status = 200, body = User), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn user(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(service::user(&ctx, &principal, id).await?))
}

/// Suspend an account: it can no longer sign in and every session ends (admin).
#[utoipa::path(post, path = "/v1/admin/users/{id}/suspend", tag = "admin", security(("bearer" = [])),
    params(("id" = UserId, Path)), request_body = dto::SuspendRequest,
    responses((status = 200, body = User), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn suspend(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<UserId>,
    Json(req): Json<dto::SuspendRequest>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(service::act_on_user(&ctx, &principal, id, AccountAction::Suspend, req.reason, &meta).await?))
}

/// Reactivate a suspended account (admin).
#[utoipa::path(post, path = "/v1/admin/users/{id}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = UserId, Path)),
    responses((status = 200, body = User), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reactivate(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(service::act_on_user(&ctx, &principal, id, AccountAction::Reactivate, None, &meta).await?))
}

/// Approve an account that needs approval, such as a label (admin).
#[utoipa::path(post, path = "/v1/admin/users/{id}/approve", tag = "admin", security(("bearer" = [])),
    params(("id" = UserId, Path)),
    responses((status = 200, body = User), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn approve(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(service::act_on_user(&ctx, &principal, id, AccountAction::Approve, None, &meta).await?))
}

/// Set a user's global roles (admin).
#[utoipa::path(put, path = "/v1/admin/users/{id}/roles", tag = "admin", security(("bearer" = [])),
    params(("id" = UserId, Path)), request_body = dto::RolesRequest,
    responses((status = 200, body = User), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "You cannot remove your own admin role", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_roles(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<UserId>,
    Json(req): Json<dto::RolesRequest>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(service::set_roles(&ctx, &principal, id, req.roles, &meta).await?))
}

/// Security events, newest first (admin, staff).
#[utoipa::path(get, path = "/v1/admin/security-events", tag = "admin", security(("bearer" = [])), params(dto::EventQuery),
    responses((status = 200, body = dto::SecurityEventList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn security_events(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::EventQuery>,
) -> Result<Json<dto::SecurityEventList>, ApiError> {
    Ok(Json(service::security_events(&ctx, &principal, q).await?))
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(dto::AuditQuery),
    responses((status = 200, body = dto::AuditList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn audit(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::AuditQuery>,
) -> Result<Json<dto::AuditList>, ApiError> {
    Ok(Json(service::audit_log(&ctx, &principal, None, q).await?))
}

/// An organization's audit log, newest first (its owners and admins).
#[utoipa::path(get, path = "/v1/orgs/{id}/audit", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), dto::AuditQuery),
    responses((status = 200, body = dto::AuditList), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn org_audit(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrgId>,
    Query(q): Query<dto::AuditQuery>,
) -> Result<Json<dto::AuditList>, ApiError> {
    Ok(Json(service::audit_log(&ctx, &principal, Some(id), q).await?))
}

/// Every permission Backline checks.
#[utoipa::path(get, path = "/v1/permissions", tag = "admin", responses((status = 200, body = dto::PermissionCatalog)))]
pub async fn permissions() -> Json<dto::PermissionCatalog> {
    Json(service::permission_catalog())
}

/// Permission templates (admin).
#[utoipa::path(get, path = "/v1/admin/permission-templates", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = dto::TemplateList), (status = 403, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn templates(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::TemplateList>, ApiError> {
    Ok(Json(service::templates(&ctx, &principal).await?))
}

/// Create a permission template; its name becomes usable as an organization role (admin).
#[utoipa::path(post, path = "/v1/admin/permission-templates", tag = "admin", security(("bearer" = [])),
    request_body = dto::TemplateRequest,
    responses((status = 201, body = dto::PermissionTemplate), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::TemplateRequest>,
) -> Result<(StatusCode, Json<dto::PermissionTemplate>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save_template(&ctx, &principal, None, req, &meta).await?)))
}

/// Replace a permission template (admin).
#[utoipa::path(put, path = "/v1/admin/permission-templates/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = TemplateId, Path)), request_body = dto::TemplateRequest,
    responses((status = 200, body = dto::PermissionTemplate), (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<TemplateId>,
    Json(req): Json<dto::TemplateRequest>,
) -> Result<Json<dto::PermissionTemplate>, ApiError> {
    Ok(Json(service::save_template(&ctx, &principal, Some(id), req, &meta).await?))
}

/// Delete a permission template no member holds (admin).
#[utoipa::path(delete, path = "/v1/admin/permission-templates/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = TemplateId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<TemplateId>,
) -> Result<StatusCode, ApiError> {
    service::delete_template(&ctx, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
