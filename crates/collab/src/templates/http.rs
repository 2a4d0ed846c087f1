//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{NewTemplate, Template};
use super::service;
use crate::model::ProjectId;

/// Save a project's structure as a template of its organization (the project's managers): its
/// folders, its members' roles and its checklists. `POST /v1/projects` with `template_id` makes a
/// project from it.
#[utoipa::path(post, path = "/v1/projects/{id}/template", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    request_body = NewTemplate,
    responses((status = 201, body = Template),
              (status = 403, description = "`forbidden`: not a manager of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`template_exists`: the organization has a template of this name", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a bad name or description", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn save_project_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Json(req): Json<NewTemplate>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save(&ctx, &principal, id, req).await?)))
}

/// An organization's project templates, by name (for those who start its projects).
#[utoipa::path(get, path = "/v1/orgs/{id}/project-templates", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Template>),
              (status = 403, description = "`forbidden`: may not start the organization's projects", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn org_project_templates(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Template>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// A project template.
#[utoipa::path(get, path = "/v1/project-templates/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Template),
              (status = 404, description = "no such template, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_project_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Remove a project template (projects made from it keep what they got).
#[utoipa::path(delete, path = "/v1/project-templates/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204),
              (status = 404, description = "no such template, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_project_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    service::delete(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
