//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::Page;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};
use crate::model::{ArtistId, PromoterId, VenueId};

/// Create an artist profile: the caller's own, or a band's (`organization_id`).
#[utoipa::path(post, path = "/v1/artists", tag = "booking", security(("bearer" = [])),
    request_body = dto::ArtistRequest, responses((status = 201, body = dto::Artist),
    (status = 409, description = "`profile_exists`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_artist(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::ArtistRequest>,
) -> Result<(StatusCode, Json<dto::Artist>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save_artist(&ctx, &principal, None, req).await?)))
}

/// Search the artist directory: words (ranked), genre, distance from a point, a budget overlapping the
/// price range, and availability on a day.
#[utoipa::path(get, path = "/v1/artists", tag = "booking", params(dto::ArtistSearch),
    responses((status = 200, body = Page<dto::Artist>)))]
pub async fn search_artists(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::ArtistSearch>,
) -> Result<Json<Page<dto::Artist>>, ApiError> {
    Ok(Json(service::search_artists(&ctx, q).await?))
}

/// An artist profile.
#[utoipa::path(get, path = "/v1/artists/{id}", tag = "booking", params(("id" = ArtistId, Path)),
    responses((status = 200, body = dto::Artist)))]
pub async fn artist(State(ctx): State<AppContext>, Path(id): Path<ArtistId>) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(service::artist(&ctx, id).await?))
}

/// Change an artist profile (the artist, or the band's managers).
#[utoipa::path(patch, path = "/v1/artists/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = dto::ArtistRequest, responses((status = 200, body = dto::Artist)))]
pub async fn update_artist(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<dto::ArtistRequest>,
) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(service::save_artist(&ctx, &principal, Some(id), req).await?))
}

/// Set (and by default lock) an artist's category (admins).
#[utoipa::path(put, path = "/v1/artists/{id}/category", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = dto::CategoryChange, responses((status = 200, body = dto::Artist)))]
pub async fn set_category(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<dto::CategoryChange>,
) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(service::set_category(&ctx, &principal, id, req).await?))
}

/// Every change of an artist's category (the artist's side and admins).
#[utoipa::path(get, path = "/v1/artists/{id}/category-history", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 200, body = Vec<dto::CategoryHistoryItem>)))]
pub async fn category_history(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<Json<Vec<dto::CategoryHistoryItem>>, ApiError> {
    Ok(Json(service::category_history(&ctx, &principal, id).await?))
}

/// Create a venue profile.
#[utoipa::path(post, path = "/v1/venues", tag = "booking", security(("bearer" = [])),
    request_body = dto::VenueRequest, responses((status = 201, body = dto::Venue),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_venue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::VenueRequest>,
) -> Result<(StatusCode, Json<dto::Venue>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save_venue(&ctx, &principal, None, req).await?)))
}

/// Venues by city and capacity.
#[utoipa::path(get, path = "/v1/venues", tag = "booking", params(dto::VenueSearch),
    responses((status = 200, body = Page<dto::Venue>)))]
pub async fn search_venues(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::VenueSearch>,
) -> Result<Json<Page<dto::Venue>>, ApiError> {
    Ok(Json(service::search_venues(&ctx, q).await?))
}

/// A venue profile.
#[utoipa::path(get, path = "/v1/venues/{id}", tag = "booking", params(("id" = VenueId, Path)),
    responses((status = 200, body = dto::Venue)))]
pub async fn venue(State(ctx): State<AppContext>, Path(id): Path<VenueId>) -> Result<Json<dto::Venue>, ApiError> {
    Ok(Json(service::venue(&ctx, id).await?))
}

/// Change a venue profile.
#[utoipa::path(patch, path = "/v1/venues/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = VenueId, Path)), request_body = dto::VenueRequest, responses((status = 200, body = dto::Venue)))]
pub async fn update_venue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<VenueId>,
    Json(req): Json<dto::VenueRequest>,
) -> Result<Json<dto::Venue>, ApiError> {
    Ok(Json(service::save_venue(&ctx, &principal, Some(id), req).await?))
}

/// Create a promoter profile (trust score 50, unverified).
#[utoipa::path(post, path = "/v1/promoters", tag = "booking", security(("bearer" = [])),
    request_body = dto::PromoterRequest, responses((status = 201, body = dto::Promoter),
    (status = 409, description = "`profile_exists`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::PromoterRequest>,
) -> Result<(StatusCode, Json<dto::Promoter>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save_promoter(&ctx, &principal, None, req).await?)))
}

/// A promoter profile.
#[utoipa::path(get, path = "/v1/promoters/{id}", tag = "booking", params(("id" = PromoterId, Path)),
    responses((status = 200, body = dto::Promoter)))]
pub async fn promoter(
    State(ctx): State<AppContext>,
    Path(id): Path<PromoterId>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(service::promoter(&ctx, id).await?))
}

/// Change a promoter profile.
#[utoipa::path(patch, path = "/v1/promoters/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = PromoterId, Path)), request_body = dto::PromoterRequest, responses((status = 200, body = dto::Promoter)))]
pub async fn update_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<PromoterId>,
    Json(req): Json<dto::PromoterRequest>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(service::save_promoter(&ctx, &principal, Some(id), req).await?))
}

/// Verify a promoter or set its trust score (admins).
#[utoipa::path(put, path = "/v1/promoters/{id}/review", tag = "booking", security(("bearer" = [])),
    params(("id" = PromoterId, Path)), request_body = dto::PromoterReview, responses((status = 200, body = dto::Promoter)))]
pub async fn review_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<PromoterId>,
    Json(req): Json<dto::PromoterReview>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(service::review_promoter(&ctx, &principal, id, req).await?))
}
