//! Handlers for registration, sign-in, tokens, the caller's account, sessions and API keys.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};

use super::dto;
use super::service;
use crate::auth::AuthUser;
use crate::model::{ApiKeyId, SessionId};
use crate::settings::IdentitySettings;

type Settings = Extension<Arc<IdentitySettings>>;

/// Create an account. It starts `pending_verification`; a verification link is emailed.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = dto::RegisterRequest,
    responses(
        (status = 201, body = dto::User),
        (status = 409, description = "Email or username taken", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(ctx): State<AppContext>,
    Extension(settings): Settings,
    meta: ClientMeta,
    Json(req): Json<dto::RegisterRequest>,
) -> Result<(StatusCode, Json<dto::User>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::register(&ctx, &settings, req, &meta).await?)))
}

/// Verify an email address with the token from the verification link; activates the account.
#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", request_body = dto::TokenRequest,
    responses(
        (status = 200, body = dto::User),
        (status = 400, description = "Invalid, expired or used token", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn verify_email(
    State(ctx): State<AppContext>,
    meta: ClientMeta,
    Json(req): Json<dto::TokenRequest>,
) -> Result<Json<dto::User>, ApiError> {
    Ok(Json(service::verify_email(&ctx, &req.token, &meta).await?))
}

/// Sign in with email or username and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = dto::LoginRequest,
    responses(
        (status = 200, body = dto::TokenPair),
        (status = 401, description = "Wrong login or password", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Account suspended", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Account locked (`account_locked`) or rate limited (`rate_limited`); see Retry-After",
         body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(ctx): State<AppContext>,
    Extension(settings): Settings,
    meta: ClientMeta,
    Json(req): Json<dto::LoginRequest>,
) -> Result<Json<dto::TokenPair>, ApiError> {
    Ok(Json(service::login(&ctx, &settings, req, &meta).await?))
}

/// Exchange a refresh token for a new pair. The old refresh token stops working; presenting it again
/// ends the whole session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = dto::RefreshRequest,
    responses(
        (status = 200, body = dto::TokenPair),
        (status = 401, description = "Invalid token, or `refresh_token_reused`", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(ctx): State<AppContext>,
    Extension(settings): Settings,
    meta: ClientMeta,
    Json(req): Json<dto::RefreshRequest>,
) -> Result<Json<dto::TokenPair>, ApiError> {
    Ok(Json(service::refresh(&ctx, &settings, &req.refresh_token, &meta).await?))
}

/// End the current session.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"),
              (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn logout(State(ctx): State<AppContext>, AuthUser(principal): AuthUser) -> Result<StatusCode, ApiError> {
    service::logout(&ctx, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of the caller, this one included.
#[utoipa::path(post, path = "/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out everywhere"),
              (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn logout_all(State(ctx): State<AppContext>, AuthUser(principal): AuthUser) -> Result<StatusCode, ApiError> {
    service::logout_all(&ctx, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password reset link. The answer is the same whether or not the account exists.
#[utoipa::path(post, path = "/v1/auth/password/forgot", tag = "auth", request_body = dto::ForgotPasswordRequest,
    responses((status = 202, body = dto::Accepted),
              (status = 429, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn forgot_password(
    State(ctx): State<AppContext>,
    Extension(settings): Settings,
    meta: ClientMeta,
    Json(req): Json<dto::ForgotPasswordRequest>,
) -> Result<(StatusCode, Json<dto::Accepted>), ApiError> {
    service::forgot_password(&ctx, &settings, &req.email, &meta).await?;
    Ok((StatusCode::ACCEPTED, Json(dto::Accepted { status: "accepted" })))
}

/// Set a new password with the token from the reset link; ends every session.
#[utoipa::path(post, path = "/v1/auth/password/reset", tag = "auth", request_body = dto::ResetPasswordRequest,
    responses((status = 204, description = "Password changed"),
              (status = 400, description = "Invalid, expired or used token", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reset_password(
    State(ctx): State<AppContext>,
    meta: ClientMeta,
    Json(req): Json<dto::ResetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    service::reset_password(&ctx, req, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = dto::User), (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn me(State(ctx): State<AppContext>, AuthUser(principal): AuthUser) -> Result<Json<dto::User>, ApiError> {
    Ok(Json(service::me(&ctx, &principal).await?))
}

/// Change the caller's display name, avatar, time zone, locale or notification preferences.
#[utoipa::path(patch, path = "/v1/me", tag = "me", security(("bearer" = [])), request_body = dto::UpdateMeRequest,
    responses((status = 200, body = dto::User), (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_me(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::UpdateMeRequest>,
) -> Result<Json<dto::User>, ApiError> {
    Ok(Json(service::update_me(&ctx, &principal, req, &meta).await?))
}

/// Delete the caller's account: sign-in stops working and personal data is erased; records others
/// depend on (orders, bookings, ledger entries, audit rows) remain, anonymized.
#[utoipa::path(delete, path = "/v1/me", tag = "me", security(("bearer" = [])), request_body = dto::DeleteAccountRequest,
    responses((status = 204, description = "Deleted"), (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_me(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    service::delete_account(&ctx, &principal, req.password, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the caller's password; ends every other session.
#[utoipa::path(put, path = "/v1/me/password", tag = "me", security(("bearer" = [])), request_body = dto::ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_password(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    service::change_password(&ctx, &principal, req, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's active sessions, newest first.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = dto::SessionList), (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn sessions(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::SessionList>, ApiError> {
    Ok(Json(service::sessions(&ctx, &principal).await?))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = SessionId, Path, description = "Session id")),
    responses((status = 204, description = "Ended"), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn end_session(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<SessionId>,
) -> Result<StatusCode, ApiError> {
    service::end_session(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an API key. The secret is in this answer only.
#[utoipa::path(post, path = "/v1/me/api-keys", tag = "me", security(("bearer" = [])), request_body = dto::CreateApiKeyRequest,
    responses((status = 201, body = dto::CreatedApiKey), (status = 422, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_api_key(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Json(req): Json<dto::CreateApiKeyRequest>,
) -> Result<(StatusCode, Json<dto::CreatedApiKey>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create_api_key(&ctx, &principal, req, &meta).await?)))
}

/// The caller's API keys, without their secrets.
#[utoipa::path(get, path = "/v1/me/api-keys", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = dto::ApiKeyList), (status = 401, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn api_keys(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::ApiKeyList>, ApiError> {
    Ok(Json(service::api_keys(&ctx, &principal).await?))
}

/// Revoke one of the caller's API keys.
#[utoipa::path(delete, path = "/v1/me/api-keys/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = ApiKeyId, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn revoke_api_key(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<ApiKeyId>,
) -> Result<StatusCode, ApiError> {
    service::revoke_api_key(&ctx, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
