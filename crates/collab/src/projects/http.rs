//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::Page;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Member, MemberRole, NewProject, Project, ProjectChange, ProjectQuery};
use super::service;
use crate::model::ProjectId;

/// Create a project in an organization (its owners, admins and members may). The manager (the caller
/// by default) and the client become members, and the project gets its `general` channel.
#[utoipa::path(post, path = "/v1/projects", tag = "collab", security(("bearer" = [])),
    request_body = NewProject,
    responses((status = 201, body = Project),
              (status = 403, description = "`forbidden`: the caller may not create projects in the organization", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`project_slug_taken`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_project(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<NewProject>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, req).await?)))
}

/// The caller's projects: one organization's (all of them for its project managers), or every project
/// the caller is a member of; newest first.
#[utoipa::path(get, path = "/v1/projects", tag = "collab", security(("bearer" = [])),
    params(ProjectQuery), responses((status = 200, body = Page<Project>)))]
pub async fn list_projects(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<ProjectQuery>,
) -> Result<Json<Page<Project>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, q).await?))
}

/// A project, for its members and the organization's project managers.
#[utoipa::path(get, path = "/v1/projects/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    responses((status = 200, body = Project),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_project(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change a project (its managers may): only the fields given change, `null` clears an optional one.
/// Moving to `completed` records the day; moving out of it clears it.
#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)), request_body = ProjectChange,
    responses((status = 200, body = Project),
              (status = 403, description = "`forbidden`: not a manager of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`project_slug_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_project(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Json(change): Json<ProjectChange>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, change).await?))
}

/// The project's members and their roles.
#[utoipa::path(get, path = "/v1/projects/{id}/members", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)), responses((status = 200, body = Vec<Member>)))]
pub async fn project_members(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(service::members(&ctx, &principal, id).await?))
}

/// Add a member or change their role (the project's managers may). Members of the organization take
/// any role but `client`; anyone else only `client`. The project keeps at least one manager.
#[utoipa::path(put, path = "/v1/projects/{id}/members/{user_id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path), ("user_id" = Uuid, Path)), request_body = MemberRole,
    responses((status = 200, body = Member),
              (status = 409, description = "`last_manager`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a user outside the organization in a role other than client, or no active user", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn put_project_member(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, user)): Path<(ProjectId, Uuid)>,
    Json(req): Json<MemberRole>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(service::put_member(&ctx, &principal, id, user, req).await?))
}

/// Remove a member (a manager removes anyone; a member may leave). The project keeps at least one
/// manager.
#[utoipa::path(delete, path = "/v1/projects/{id}/members/{user_id}", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path), ("user_id" = Uuid, Path)),
    responses((status = 204),
              (status = 409, description = "`last_manager`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_project_member(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, user)): Path<(ProjectId, Uuid)>,
) -> Result<StatusCode, ApiError> {
    service::remove_member(&ctx, &principal, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
