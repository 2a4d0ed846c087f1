//! Identity's errors and their problem codes.

use axum::http::{HeaderValue, StatusCode, header};
use platform::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("the token is invalid or expired")]
    InvalidToken,
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error("the account is locked")]
    AccountLocked { retry_after_secs: i64 },
    #[error("the account is suspended")]
    AccountSuspended,
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("the API key's scopes do not include {0}")]
    InsufficientScope(String),
    #[error("the refresh token was already used")]
    RefreshTokenReused,
    #[error("the link is invalid, expired or already used")]
    InvalidEmailToken,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("{0} not found")]
    NotFound(&'static str),
}

impl From<IdentityError> for ApiError {
    fn from(err: IdentityError) -> Self {
        let detail = err.to_string();
        match err {
            IdentityError::Unauthenticated => {
                ApiError::unauthorized("unauthenticated", "Sign in first: send `Authorization: Bearer <token>`.")
                    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            }
            IdentityError::InvalidToken => {
                ApiError::unauthorized("invalid_token", "The token is invalid, expired or revoked.")
                    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""))
            }
            IdentityError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "Wrong login or password.")
            }
            IdentityError::AccountLocked { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "account_locked",
                format!("Too many failed logins: the account is locked; retry in {retry_after_secs} s."),
            )
            .with_header(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after_secs.to_string()).unwrap_or(HeaderValue::from_static("900")),
            ),
            IdentityError::AccountSuspended => ApiError::forbidden("account_suspended", "The account is suspended."),
            IdentityError::EmailNotVerified => {
                ApiError::forbidden("email_not_verified", "Verify your email address first (see the link we sent).")
            }
            IdentityError::Forbidden(permission) => {
                ApiError::forbidden("forbidden", format!("You are not allowed to do this ({permission})."))
            }
            IdentityError::InsufficientScope(permission) => ApiError::forbidden(
                "insufficient_scope",
                format!("The API key's scopes do not include `{permission}`."),
            ),
            IdentityError::RefreshTokenReused => ApiError::unauthorized(
                "refresh_token_reused",
                "This refresh token was already used; the session has been ended for safety. Sign in again.",
            ),
            IdentityError::InvalidEmailToken => ApiError::bad_request("invalid_token", detail),
            IdentityError::WrongPassword => {
                ApiError::invalid_field("current_password", "incorrect", "is not your current password")
            }
            IdentityError::NotFound(what) => ApiError::not_found(format!("The {what} does not exist.")),
        }
    }
}
