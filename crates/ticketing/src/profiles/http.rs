//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::{dto, service};

/// Register a blockchain wallet address (Stellar; the checksum is checked). The first of a network is
/// its primary.
#[utoipa::path(post, path = "/v1/me/wallets", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewWallet, responses((status = 201, body = dto::Wallet),
    (status = 409, description = "`wallet_exists`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewWallet>,
) -> Result<(StatusCode, Json<dto::Wallet>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::add_wallet(&ctx, &principal, req).await?)))
}

/// The caller's wallet addresses.
#[utoipa::path(get, path = "/v1/me/wallets", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::WalletList)))]
pub async fn wallets(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::WalletList>, ApiError> {
    Ok(Json(service::wallets(&ctx, &principal).await?))
}

/// Make an address the primary of its network.
#[utoipa::path(post, path = "/v1/me/wallets/{id}/primary", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = dto::Wallet)))]
pub async fn primary_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<dto::Wallet>, ApiError> {
    Ok(Json(service::make_primary(&ctx, &principal, id).await?))
}

/// Remove a wallet address.
#[utoipa::path(delete, path = "/v1/me/wallets/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "Removed")))]
pub async fn remove_wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    service::remove_wallet(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's fan profile, with loyalty points earned per attended event.
#[utoipa::path(get, path = "/v1/me/profiles/fan", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::FanProfile)))]
pub async fn fan_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::FanProfile>, ApiError> {
    Ok(Json(service::fan(&ctx, &principal).await?))
}

/// Set the caller's fan profile (favorite genres, interests).
#[utoipa::path(put, path = "/v1/me/profiles/fan", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::FanProfile, responses((status = 200, body = dto::FanProfile)))]
pub async fn set_fan_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::FanProfile>,
) -> Result<Json<dto::FanProfile>, ApiError> {
    Ok(Json(service::set_fan(&ctx, &principal, req).await?))
}

/// The caller's creator profile.
#[utoipa::path(get, path = "/v1/me/profiles/creator", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::CreatorProfile)))]
pub async fn creator_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::CreatorProfile>, ApiError> {
    Ok(Json(service::creator(&ctx, &principal).await?))
}

/// Set the caller's creator profile (content types, rates, portfolio).
#[utoipa::path(put, path = "/v1/me/profiles/creator", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::CreatorProfile, responses((status = 200, body = dto::CreatorProfile)))]
pub async fn set_creator_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::CreatorProfile>,
) -> Result<Json<dto::CreatorProfile>, ApiError> {
    Ok(Json(service::set_creator(&ctx, &principal, req).await?))
}

/// The caller's sponsor profile.
#[utoipa::path(get, path = "/v1/me/profiles/sponsor", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = dto::SponsorProfile)))]
pub async fn sponsor_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::SponsorProfile>, ApiError> {
    Ok(Json(service::sponsor(&ctx, &principal).await?))
}

/// Set the caller's sponsor profile (brand, industry, budget, target audience).
#[utoipa::path(put, path = "/v1/me/profiles/sponsor", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::SponsorProfile, responses((status = 200, body = dto::SponsorProfile)))]
pub async fn set_sponsor_profile(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::SponsorProfile>,
) -> Result<Json<dto::SponsorProfile>, ApiError> {
    Ok(Json(service::set_sponsor(&ctx, &principal, req).await?))
}
