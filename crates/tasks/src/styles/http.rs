//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, StyleCard};
use super::service;
use crate::model::StyleCardId;

/// The library of style reference cards, filtered, newest first: the active cards (staff may ask for
/// drafts or retired ones).
#[utoipa::path(get, path = "/v1/task-style-cards", tag = "tasks", security(("bearer" = [])),
    params(dto::StyleQuery), responses((status = 200, body = Vec<StyleCard>),
    (status = 422, description = "a filter is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn style_cards(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::StyleQuery>,
) -> Result<Json<Vec<StyleCard>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, &q).await?))
}

/// Add a card to the library (staff). It is a draft until its image is in.
#[utoipa::path(post, path = "/v1/task-style-cards", tag = "tasks", security(("bearer" = [])),
    request_body = dto::NewStyleCard,
    responses((status = 201, body = StyleCard),
              (status = 422, description = "a field is wrong", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_style_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewStyleCard>,
) -> Result<(StatusCode, Json<StyleCard>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, &req).await?)))
}

/// A style card.
#[utoipa::path(get, path = "/v1/task-style-cards/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = StyleCardId, Path)), responses((status = 200, body = StyleCard),
    (status = 404, description = "no such card", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_style_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StyleCardId>,
) -> Result<Json<StyleCard>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Retire a card (staff): it leaves the library and stays on the briefs that chose it.
#[utoipa::path(delete, path = "/v1/task-style-cards/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = StyleCardId, Path)), responses((status = 200, body = StyleCard)))]
pub async fn retire_style_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StyleCardId>,
) -> Result<Json<StyleCard>, ApiError> {
    Ok(Json(service::retire(&ctx, &principal, id).await?))
}

/// Upload a card's image (staff), a JPEG or PNG of 64 to 10,000 pixels a side, as the raw request body.
/// A picture the library has already (its perceptual hash within 6 of 64 bits of another card's) is
/// refused, and nothing of it is kept.
#[utoipa::path(put, path = "/v1/task-style-cards/{id}/image", tag = "tasks", security(("bearer" = [])),
    params(("id" = StyleCardId, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The JPEG or PNG image"),
    responses((status = 200, body = StyleCard),
              (status = 409, description = "`duplicate_image`, `card_retired`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "the image cannot be decoded or is too small or large", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_style_image(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StyleCardId>,
    body: axum::body::Body,
) -> Result<Json<StyleCard>, ApiError> {
    Ok(Json(service::upload_image(&ctx, &principal, id, body).await?))
}

/// A card's image.
#[utoipa::path(get, path = "/v1/task-style-cards/{id}/image", tag = "tasks", security(("bearer" = [])),
    params(("id" = StyleCardId, Path)),
    responses((status = 200, body = String, content_type = "image/jpeg", description = "The JPEG or PNG image"),
              (status = 206, description = "The one byte range a Range header asked for, with Content-Range"),
              (status = 404, description = "no such card, or no image yet", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn style_image(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StyleCardId>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::image(&ctx, &principal, id, headers.get(axum::http::header::RANGE)).await
}

/// Style cards suggested for a company, ranked by what its briefs chose before (the same style axis,
/// colour temperature, deliverable type, levels and mood), newest first among equals.
#[utoipa::path(get, path = "/v1/orgs/{id}/style-suggestions", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), dto::SuggestionQuery), responses((status = 200, body = dto::Suggestions)))]
pub async fn style_suggestions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<dto::SuggestionQuery>,
) -> Result<Json<dto::Suggestions>, ApiError> {
    Ok(Json(service::suggestions(&ctx, &principal, id, &q).await?))
}
