//! The area's HTTP handlers.

use axum::extract::{Path, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    AcceptRequest, Payee, PayeeChange, PayeeList, PayeeRequest, Recoupable, RecoupableList, RecoupableRequest,
    SplitHistory, SplitRequest,
};
use super::repo::Subject;
use super::service;

/// The label's payees: the label itself and the people it invited (the label's staff).
#[utoipa::path(get, path = "/v1/labels/{id}/payees", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PayeeList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn label_payees(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<PayeeList>, ApiError> {
    Ok(Json(service::payees(&ctx, &principal, id).await?))
}

/// Invite someone by email to be paid shares; they accept within 14 days or their shares return to the
/// label.
#[utoipa::path(post, path = "/v1/labels/{id}/payees", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PayeeRequest,
    responses((status = 201, body = Payee),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn invite_payee(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<PayeeRequest>,
) -> Result<(axum::http::StatusCode, Json<Payee>), ApiError> {
    Ok((axum::http::StatusCode::CREATED, Json(service::invite(&ctx, &principal, id, req).await?)))
}

/// Accept a royalty invitation, signed in with the address it was sent to.
#[utoipa::path(post, path = "/v1/royalties/invitations/accept", tag = "royalties", security(("bearer" = [])),
    request_body = AcceptRequest,
    responses((status = 200, body = Payee),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`invitation_unusable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn accept_royalty_invitation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<AcceptRequest>,
) -> Result<Json<Payee>, ApiError> {
    Ok(Json(service::accept_invitation(&ctx, &principal, req).await?))
}

/// A release's splits, the latest first (the label's staff). They apply to its recordings that have no
/// split of their own, and to the release sold whole.
#[utoipa::path(get, path = "/v1/releases/{id}/splits", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SplitHistory),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn release_splits(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<SplitHistory>, ApiError> {
    Ok(Json(service::splits(&ctx, &principal, Subject::Release(id)).await?))
}

/// Set a release's split from a date on: shares in basis points summing to exactly 10,000.
#[utoipa::path(put, path = "/v1/releases/{id}/splits", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SplitRequest,
    responses((status = 200, body = SplitHistory),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_release_split(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<SplitRequest>,
) -> Result<Json<SplitHistory>, ApiError> {
    Ok(Json(service::set_split(&ctx, &principal, Subject::Release(id), req).await?))
}

/// A recording's own splits, the latest first.
#[utoipa::path(get, path = "/v1/tracks/{id}/splits", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SplitHistory),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn track_splits(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<SplitHistory>, ApiError> {
    Ok(Json(service::splits(&ctx, &principal, Subject::Track(id)).await?))
}

/// Set a recording's split from a date on (it takes precedence over its release's).
#[utoipa::path(put, path = "/v1/tracks/{id}/splits", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SplitRequest,
    responses((status = 200, body = SplitHistory),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_track_split(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<SplitRequest>,
) -> Result<Json<SplitHistory>, ApiError> {
    Ok(Json(service::set_split(&ctx, &principal, Subject::Track(id), req).await?))
}

/// The label's advances and expenses, and what is still to recoup per payee and release.
#[utoipa::path(get, path = "/v1/labels/{id}/recoupables", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RecoupableList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn label_recoupables(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<RecoupableList>, ApiError> {
    Ok(Json(service::recoupables(&ctx, &principal, id).await?))
}

/// Record an advance or an expense that a payee's share of a release repays before they are paid.
#[utoipa::path(post, path = "/v1/labels/{id}/recoupables", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RecoupableRequest,
    responses((status = 201, body = Recoupable),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_recoupable(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<RecoupableRequest>,
) -> Result<(axum::http::StatusCode, Json<Recoupable>), ApiError> {
    Ok((axum::http::StatusCode::CREATED, Json(service::add_recoupable(&ctx, &principal, id, req).await?)))
}

/// Change the currency a payee is paid in (the label's own payee included), from the next closed month.
#[utoipa::path(patch, path = "/v1/labels/{id}/payees/{payee}", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("payee" = crate::model::PayeeId, Path)), request_body = PayeeChange,
    responses((status = 200, body = Payee),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_payee(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, payee)): Path<(Uuid, crate::model::PayeeId)>,
    Json(req): Json<PayeeChange>,
) -> Result<Json<Payee>, ApiError> {
    Ok(Json(service::change_payee(&ctx, &principal, id, payee, req).await?))
}
