//! Identity's errors and their problem codes.

use axum::http::{HeaderValue, header};
use platform::ApiError;
use platform::PlatformCode;
use platform::error::ConstraintAnswer;

platform::codes! {
    /// Identity's problem codes: accounts, sessions, organizations, permissions.
    pub enum IdentityCode in "identity" {
        InvalidLink = (BAD_REQUEST, "invalid_token", "an email link's token is invalid, expired or used already"),
        NotASession = (BAD_REQUEST, "not_a_session", "an API key has no session to end; revoke the key instead"),
        Unauthenticated = (UNAUTHORIZED, "unauthenticated", "no credentials were sent (`WWW-Authenticate: Bearer`)"),
        InvalidToken = (UNAUTHORIZED, "invalid_token", "the access token is invalid, expired or revoked"),
        InvalidCredentials = (UNAUTHORIZED, "invalid_credentials", "wrong login or password"),
        RefreshTokenReused = (UNAUTHORIZED, "refresh_token_reused", "a used refresh token was sent again; its session has been ended"),
        InsufficientScope = (FORBIDDEN, "insufficient_scope", "the API key's scopes do not cover this"),
        EmailNotVerified = (FORBIDDEN, "email_not_verified", "the account's email address is not verified yet"),
        AccountSuspended = (FORBIDDEN, "account_suspended", "the account is suspended"),
        OwnerOnly = (FORBIDDEN, "owner_only", "only an owner may grant or remove the owner role"),
        EmailTaken = (CONFLICT, "email_taken", "an account with this email address exists"),
        UsernameTaken = (CONFLICT, "username_taken", "the username is taken"),
        SlugTaken = (CONFLICT, "slug_taken", "an organization with this slug exists"),
        TeamNameTaken = (CONFLICT, "team_name_taken", "the organization has a team with this name"),
        TemplateNameTaken = (CONFLICT, "template_name_taken", "a permission template with this name exists"),
        TemplateInUse = (CONFLICT, "template_in_use", "members hold this template as their role"),
        AlreadyMember = (CONFLICT, "already_member", "someone with this email address is a member already"),
        InvitationPending = (CONFLICT, "invitation_pending", "an invitation to this address is open already"),
        LastOwner = (CONFLICT, "last_owner", "an organization must keep an owner"),
        InvalidAccountState = (CONFLICT, "invalid_account_state", "the account cannot make this change in its state"),
        AccountLocked = (TOO_MANY_REQUESTS, "account_locked", "too many failed logins: the account is locked for a while (`Retry-After`)"),
    }
}

/// How identity answers a violation of one of its named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<IdentityCode>] = &[
    ConstraintAnswer {
        constraint: "users_email_key",
        code: IdentityCode::EmailTaken,
        detail: "An account with this email address exists.",
        field: Some(("email", "is already registered")),
    },
    ConstraintAnswer {
        constraint: "users_username_key",
        code: IdentityCode::UsernameTaken,
        detail: "This username is taken.",
        field: Some(("username", "is already taken")),
    },
    ConstraintAnswer {
        constraint: "organizations_slug_key",
        code: IdentityCode::SlugTaken,
        detail: "An organization with this slug exists.",
        field: Some(("slug", "is already taken")),
    },
    ConstraintAnswer {
        constraint: "teams_name_key",
        code: IdentityCode::TeamNameTaken,
        detail: "This organization has a team with this name.",
        field: Some(("name", "is already a team here")),
    },
    ConstraintAnswer {
        constraint: "org_invitations_pending_key",
        code: IdentityCode::InvitationPending,
        detail: "An invitation to this address is already open.",
        field: None,
    },
    ConstraintAnswer {
        constraint: "permission_templates_name_key",
        code: IdentityCode::TemplateNameTaken,
        detail: "A permission template with this name exists.",
        field: None,
    },
];

/// A database error as identity answers it (see [`CONSTRAINTS`]).
pub fn from_db(err: sqlx::Error) -> ApiError {
    platform::error::from_db(err, CONSTRAINTS)
}

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
                ApiError::new(IdentityCode::Unauthenticated, "Sign in first: send `Authorization: Bearer <token>`.")
                    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            }
            IdentityError::InvalidToken => {
                ApiError::new(IdentityCode::InvalidToken, "The token is invalid, expired or revoked.")
                    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""))
            }
            IdentityError::InvalidCredentials => {
                ApiError::new(IdentityCode::InvalidCredentials, "Wrong login or password.")
            }
            IdentityError::AccountLocked { retry_after_secs } => ApiError::new(
                IdentityCode::AccountLocked,
                format!("Too many failed logins: the account is locked; retry in {retry_after_secs} s."),
            )
            .with_header(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after_secs.to_string()).unwrap_or(HeaderValue::from_static("900")),
            ),
            IdentityError::AccountSuspended => {
                ApiError::new(IdentityCode::AccountSuspended, "The account is suspended.")
            }
            IdentityError::EmailNotVerified => {
                ApiError::new(IdentityCode::EmailNotVerified, "Verify your email address first (see the link we sent).")
            }
            IdentityError::Forbidden(permission) => {
                ApiError::new(PlatformCode::Forbidden, format!("You are not allowed to do this ({permission})."))
            }
            IdentityError::InsufficientScope(permission) => ApiError::new(
                IdentityCode::InsufficientScope,
                format!("The API key's scopes do not include `{permission}`."),
            ),
            IdentityError::RefreshTokenReused => ApiError::new(
                IdentityCode::RefreshTokenReused,
                "This refresh token was already used; the session has been ended for safety. Sign in again.",
            ),
            IdentityError::InvalidEmailToken => ApiError::new(IdentityCode::InvalidLink, detail),
            IdentityError::WrongPassword => {
                ApiError::invalid_field("current_password", "incorrect", "is not your current password")
            }
            IdentityError::NotFound(what) => ApiError::not_found(format!("The {what} does not exist.")),
        }
    }
}
