//! Who is calling: the `AuthUser` extractor (an access token or an API key, required) and `MaybeAuthUser`
//! (optional). Every domain authenticates through these.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use platform::{ApiError, AppContext};
use sqlx::PgConnection;

use crate::accounts::repo;
use crate::error::IdentityError;
use crate::model::{ApiKeyId, SessionId, UserId, UserStatus};
use crate::tokens;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    /// The session, when the caller used an access token.
    pub session_id: Option<SessionId>,
    /// The key, when the caller used an API key.
    pub api_key_id: Option<ApiKeyId>,
    /// Global roles.
    pub roles: Vec<String>,
    /// With an API key: what it may do. `None` for a session, which may do all its user may.
    pub api_key_scopes: Option<Vec<String>>,
    pub email_verified: bool,
    /// The address the request came from, when the connection tells (limits per client address).
    pub client_ip: Option<String>,
}

impl Principal {
    /// Refuses callers whose address is not verified (moving money, publishing).
    pub fn require_verified(&self) -> Result<(), IdentityError> {
        if self.email_verified { Ok(()) } else { Err(IdentityError::EmailNotVerified) }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn actor(&self) -> platform::audit::Actor {
        platform::audit::Actor { user_id: Some(self.user_id.0), api_key_id: self.api_key_id.map(|k| k.0) }
    }
}

/// Requires a valid access token or API key.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Principal);

/// An access token or API key if one is sent (an invalid one is still refused).
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<Principal>);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The credential a request carries, not yet checked: for a handler that authenticates the caller on the
/// connection it then does its work on ([`Bearer::authenticate`]). Each request then takes one
/// connection instead of two, and in a crowd (an on-sale's opening) each caller's work follows their
/// authentication instead of queueing behind everyone else's. Without a credential: `401`.
#[derive(Debug, Clone)]
pub struct Bearer {
    token: String,
    client_ip: Option<String>,
}

impl Bearer {
    /// The caller, checked on `conn` (outside any transaction of the caller's: the key's or session's
    /// last use is noted whatever the request's work then does).
    pub async fn authenticate(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Principal, ApiError> {
        let mut principal = resolve_on(conn, &self.token, now).await?;
        principal.client_ip.clone_from(&self.client_ip);
        Ok(principal)
    }
}

impl FromRequestParts<AppContext> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(IdentityError::Unauthenticated)?.to_owned();
        let client_ip = platform::http::ClientMeta::from_request_parts(parts, ctx).await.unwrap_or_default().ip;
        Ok(Self { token, client_ip })
    }
}

impl FromRequestParts<AppContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Self::Rejection> {
        match MaybeAuthUser::from_request_parts(parts, ctx).await?.0 {
            Some(principal) => Ok(Self(principal)),
            None => Err(IdentityError::Unauthenticated.into()),
        }
    }
}

impl FromRequestParts<AppContext> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(parts) else { return Ok(Self(None)) };
        let mut principal = resolve(ctx, token).await?;
        principal.client_ip = platform::http::ClientMeta::from_request_parts(parts, ctx).await.unwrap_or_default().ip;
        Ok(Self(Some(principal)))
    }
}

/// Resolves a presented secret (an access token or an API key) to its principal in one indexed query,
/// which also notes its last use (to the minute): the check every API request and every signed-in page
/// makes.
pub async fn resolve(ctx: &AppContext, token: &str) -> Result<Principal, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    resolve_on(&mut conn, token, ctx.clock.now()).await
}

/// [`resolve`] on a connection the caller holds.
pub async fn resolve_on(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> Result<Principal, ApiError> {
    let hash = tokens::hash(token);
    let found = if token.starts_with(tokens::Kind::ApiKey.prefix()) {
        repo::credential_by_api_key(&mut *conn, &hash, now).await?
    } else {
        repo::credential_by_access_token(&mut *conn, &hash, now).await?
    };
    let found = found.ok_or(IdentityError::InvalidToken)?;
    match found.status {
        UserStatus::Active | UserStatus::PendingVerification => {}
        UserStatus::Suspended => return Err(IdentityError::AccountSuspended.into()),
        UserStatus::Deleted => return Err(IdentityError::InvalidToken.into()),
    }
    Ok(Principal {
        user_id: UserId(found.user_id),
        session_id: found.session_id.map(SessionId),
        api_key_id: found.api_key_id.map(ApiKeyId),
        roles: found.roles,
        api_key_scopes: found.scopes,
        email_verified: found.email_verified_at.is_some(),
        client_ip: None,
    })
}
