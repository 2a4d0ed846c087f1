//! Handlers for organizations, members, invitations and teams.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext, Json};

use super::dto;
use super::service;
use crate::accounts::dto::TokenRequest;
use crate::auth::AuthUser;
use crate::model::{InvitationId, OrgId, TeamId, UserId};

/// Create an organization; the caller becomes its owner. A sub-label names its label as parent.
#[utoipa::path(post, path = "/v1/orgs", tag = "organizations", security(("bearer" = [])), request_body = dto::CreateOrgRequest,
    responses((status = 201, body = dto::Organization),
              (status = 409, description = "Slug taken", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::CreateOrgRequest>,
) -> Result<(StatusCode, Json<dto::Organization>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, req, &meta).await?)))
}

/// The organizations the caller belongs to.
#[utoipa::path(get, path = "/v1/orgs", tag = "organizations", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = dto::OrganizationList), (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn mine(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(page): Query<PageParams>,
) -> Result<Json<dto::OrganizationList>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal, &page).await?))
}

/// One organization.
#[utoipa::path(get, path = "/v1/orgs/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)),
    responses((status = 200, body = dto::Organization), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrgId>,
) -> Result<Json<dto::Organization>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change an organization's profile or settings (owners and admins).
#[utoipa::path(patch, path = "/v1/orgs/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)), request_body = dto::UpdateOrgRequest,
    responses((status = 200, body = dto::Organization), (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<OrgId>,
    Json(req): Json<dto::UpdateOrgRequest>,
) -> Result<Json<dto::Organization>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, req, &meta).await?))
}

/// An organization's members.
#[utoipa::path(get, path = "/v1/orgs/{id}/members", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), PageParams),
    responses((status = 200, body = dto::MemberList), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn members(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrgId>,
    Query(page): Query<PageParams>,
) -> Result<Json<dto::MemberList>, ApiError> {
    Ok(Json(service::members(&ctx, &principal, id, &page).await?))
}

/// Change a member's role. Only owners grant or remove `owner`; the last owner keeps it.
#[utoipa::path(patch, path = "/v1/orgs/{id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("user_id" = UserId, Path)), request_body = dto::RoleRequest,
    responses((status = 200, body = dto::Member),
              (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`last_owner`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_role(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, user)): Path<(OrgId, UserId)>,
    Json(req): Json<dto::RoleRequest>,
) -> Result<Json<dto::Member>, ApiError> {
    Ok(Json(service::change_role(&ctx, &principal, id, user, &req.role, &meta).await?))
}

/// Remove a member, or leave (your own id). The last owner cannot leave.
#[utoipa::path(delete, path = "/v1/orgs/{id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("user_id" = UserId, Path)),
    responses((status = 204, description = "Removed"),
              (status = 403, body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`last_owner`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_member(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, user)): Path<(OrgId, UserId)>,
) -> Result<StatusCode, ApiError> {
    service::remove_member(&ctx, &principal, id, user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite someone by email. The link `{BACKLINE_PUBLIC_URL}/invitations/accept?token=...` is valid for 7 days.
#[utoipa::path(post, path = "/v1/orgs/{id}/invitations", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)), request_body = dto::InviteRequest,
    responses((status = 201, body = dto::Invitation),
              (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`already_member` or `invitation_pending`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn invite(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<OrgId>,
    Json(req): Json<dto::InviteRequest>,
) -> Result<(StatusCode, Json<dto::Invitation>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::invite(&ctx, &principal, id, req, &meta).await?)))
}

/// Open invitations of an organization.
#[utoipa::path(get, path = "/v1/orgs/{id}/invitations", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)),
    responses((status = 200, body = dto::InvitationList), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn invitations(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrgId>,
) -> Result<Json<dto::InvitationList>, ApiError> {
    Ok(Json(service::invitations(&ctx, &principal, id).await?))
}

/// Withdraw an open invitation.
#[utoipa::path(delete, path = "/v1/orgs/{id}/invitations/{invitation_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("invitation_id" = InvitationId, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn revoke_invitation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, invitation)): Path<(OrgId, InvitationId)>,
) -> Result<StatusCode, ApiError> {
    service::revoke_invitation(&ctx, &principal, id, invitation, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation with the emailed token, as the signed-in (verified) caller.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "organizations", security(("bearer" = [])), request_body = TokenRequest,
    responses((status = 200, body = dto::Organization),
              (status = 400, description = "Invalid, expired or used token", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`already_member`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn accept_invitation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<TokenRequest>,
) -> Result<Json<dto::Organization>, ApiError> {
    let org = service::respond(&ctx, &principal, &req.token, true, &meta).await?;
    org.map(Json).ok_or_else(|| ApiError::internal(anyhow::anyhow!("accepted invitation without organization")))
}

/// Decline an invitation with the emailed token.
#[utoipa::path(post, path = "/v1/invitations/decline", tag = "organizations", security(("bearer" = [])), request_body = TokenRequest,
    responses((status = 204, description = "Declined"),
              (status = 400, description = "Invalid, expired or used token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decline_invitation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    service::respond(&ctx, &principal, &req.token, false, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a team.
#[utoipa::path(post, path = "/v1/orgs/{id}/teams", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)), request_body = dto::CreateTeamRequest,
    responses((status = 201, body = dto::Team), (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_team(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<OrgId>,
    Json(req): Json<dto::CreateTeamRequest>,
) -> Result<(StatusCode, Json<dto::Team>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create_team(&ctx, &principal, id, req, &meta).await?)))
}

/// An organization's teams.
#[utoipa::path(get, path = "/v1/orgs/{id}/teams", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path)),
    responses((status = 200, body = dto::TeamList), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn teams(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<OrgId>,
) -> Result<Json<dto::TeamList>, ApiError> {
    Ok(Json(service::teams(&ctx, &principal, id).await?))
}

/// Delete a team (its members stay in the organization).
#[utoipa::path(delete, path = "/v1/orgs/{id}/teams/{team_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("team_id" = TeamId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_team(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, team)): Path<(OrgId, TeamId)>,
) -> Result<StatusCode, ApiError> {
    service::delete_team(&ctx, &principal, id, team, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team's members.
#[utoipa::path(get, path = "/v1/orgs/{id}/teams/{team_id}/members", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("team_id" = TeamId, Path)),
    responses((status = 200, body = dto::MemberList), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn team_members(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, team)): Path<(OrgId, TeamId)>,
) -> Result<Json<dto::MemberList>, ApiError> {
    Ok(Json(service::team_members(&ctx, &principal, id, team).await?))
}

/// Add a member of the organization to a team.
#[utoipa::path(put, path = "/v1/orgs/{id}/teams/{team_id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("team_id" = TeamId, Path), ("user_id" = UserId, Path)),
    responses((status = 204, description = "Added"), (status = 404, body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "Not a member of the organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_team_member(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, team, user)): Path<(OrgId, TeamId, UserId)>,
) -> Result<StatusCode, ApiError> {
    service::set_team_member(&ctx, &principal, id, team, user, true, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove someone from a team.
#[utoipa::path(delete, path = "/v1/orgs/{id}/teams/{team_id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = OrgId, Path), ("team_id" = TeamId, Path), ("user_id" = UserId, Path)),
    responses((status = 204, description = "Removed"), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_team_member(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((id, team, user)): Path<(OrgId, TeamId, UserId)>,
) -> Result<StatusCode, ApiError> {
    service::set_team_member(&ctx, &principal, id, team, user, false, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
