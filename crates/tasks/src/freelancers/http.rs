//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Freelancer};
use super::service;

/// The caller's freelancer profile.
#[utoipa::path(get, path = "/v1/me/freelancer", tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = Freelancer),
    (status = 404, description = "no profile yet", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn my_freelancer_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::me(&ctx, &principal).await?))
}

/// Apply as a freelancer, or change the profile: skills with proficiency, experience, time zone,
/// working hours, specialties, portfolio. A new profile waits for staff's approval.
#[utoipa::path(put, path = "/v1/me/freelancer", tag = "tasks", security(("bearer" = [])),
    request_body = dto::FreelancerProfile, responses((status = 200, body = Freelancer),
    (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn save_freelancer_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::FreelancerProfile>,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::save(&ctx, &principal, req).await?))
}

/// Add a period away: no offers reach the freelancer during it.
#[utoipa::path(post, path = "/v1/me/freelancer/vacations", tag = "tasks", security(("bearer" = [])),
    request_body = dto::NewVacation, responses((status = 200, body = Freelancer)))]
pub async fn add_freelancer_vacation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewVacation>,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::add_vacation(&ctx, &principal, req).await?))
}

/// Remove a period away.
#[utoipa::path(delete, path = "/v1/me/freelancer/vacations/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Freelancer)))]
pub async fn remove_freelancer_vacation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::remove_vacation(&ctx, &principal, id).await?))
}

/// A freelancer's profile (themselves and staff).
#[utoipa::path(get, path = "/v1/freelancers/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Freelancer)))]
pub async fn get_freelancer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Freelancers by status (staff): `pending` is the approval queue, oldest first.
#[utoipa::path(get, path = "/v1/admin/freelancers", tag = "tasks", security(("bearer" = [])),
    params(dto::FreelancerQuery), responses((status = 200, body = Page<Freelancer>)))]
pub async fn list_freelancers(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::FreelancerQuery>,
) -> Result<Json<Page<Freelancer>>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    Ok(Json(service::list(&ctx, &principal, q.status.as_deref(), &page).await?))
}

/// Approve, reject or suspend a freelancer (staff).
#[utoipa::path(post, path = "/v1/freelancers/{id}/decision", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = dto::FreelancerDecision, responses((status = 200, body = Freelancer)))]
pub async fn decide_freelancer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<dto::FreelancerDecision>,
) -> Result<Json<Freelancer>, ApiError> {
    Ok(Json(service::decide(&ctx, &principal, id, req).await?))
}

/// Mark an approved freelancer as one of the company's favourites (offered its tasks first).
#[utoipa::path(put, path = "/v1/orgs/{id}/favourites/{freelancer}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("freelancer" = Uuid, Path)), responses((status = 200, body = dto::Favourites)))]
pub async fn add_favourite_freelancer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, user)): Path<(Uuid, Uuid)>,
) -> Result<Json<dto::Favourites>, ApiError> {
    Ok(Json(service::favourite(&ctx, &principal, org, user, true).await?))
}

/// Unmark a favourite.
#[utoipa::path(delete, path = "/v1/orgs/{id}/favourites/{freelancer}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("freelancer" = Uuid, Path)), responses((status = 200, body = dto::Favourites)))]
pub async fn remove_favourite_freelancer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, user)): Path<(Uuid, Uuid)>,
) -> Result<Json<dto::Favourites>, ApiError> {
    Ok(Json(service::favourite(&ctx, &principal, org, user, false).await?))
}
