//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{Hold, HoldList, NewHold};
use super::service;
use crate::model::ArtistId;

/// Hold an artist's date before an offer (the earliest active hold on a time is the first hold).
#[utoipa::path(post, path = "/v1/artists/{id}/holds", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = NewHold,
    responses((status = 201, body = Hold),
              (status = 409, description = "`date_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn place_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<NewHold>,
) -> Result<(StatusCode, Json<Hold>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::place(&ctx, &principal, id, req).await?)))
}

/// Holds on an artist's dates: all for the artist's side, a promoter's own for a promoter.
#[utoipa::path(get, path = "/v1/artists/{id}/holds", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 200, body = HoldList)))]
pub async fn holds(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<Json<HoldList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// Release a hold (its promoter or the artist).
#[utoipa::path(post, path = "/v1/holds/{id}/release", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Hold),
    (status = 409, description = "`hold_not_active`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn release_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<Hold>, ApiError> {
    Ok(Json(service::release(&ctx, &principal, id).await?))
}

/// Challenge the first hold from a later one: its holder must offer within 48 hours or lose it.
#[utoipa::path(post, path = "/v1/holds/{id}/challenge", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Hold),
    (status = 409, description = "`nothing_to_challenge`, `already_challenged`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn challenge_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<Hold>, ApiError> {
    Ok(Json(service::challenge(&ctx, &principal, id).await?))
}
