//! Who is calling: the `AuthUser` extractor (an access token or an API key, required) and `MaybeAuthUser`
//! (optional). Every domain authenticates through these.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use platform::{ApiError, AppContext};
use uuid::Uuid;

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
        let principal = resolve(ctx, token).await?;
        Ok(Self(Some(principal)))
    }
}

#[derive(sqlx::FromRow)]
struct Resolved {
    user_id: Uuid,
    session_id: Option<Uuid>,
    api_key_id: Option<Uuid>,
    scopes: Option<Vec<String>>,
    status: UserStatus,
    email_verified_at: Option<DateTime<Utc>>,
    roles: Vec<String>,
    last_used_at: Option<DateTime<Utc>>,
}

/// Resolves a presented secret to its principal in one indexed query.
async fn resolve(ctx: &AppContext, token: &str) -> Result<Principal, ApiError> {
    let now = ctx.clock.now();
    let hash = tokens::hash(token);
    let found: Option<Resolved> = if token.starts_with(tokens::Kind::ApiKey.prefix()) {
        sqlx::query_as(
            "SELECT k.user_id, NULL::uuid AS session_id, k.id AS api_key_id, k.scopes, u.status, u.email_verified_at,
                    ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles,
                    k.last_used_at
             FROM api_keys k JOIN users u ON u.id = k.user_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)",
        )
        .bind(&hash)
        .bind(now)
        .fetch_optional(&ctx.db)
        .await?
    } else {
        sqlx::query_as(
            "SELECT s.user_id, s.id AS session_id, NULL::uuid AS api_key_id, NULL::text[] AS scopes, u.status,
                    u.email_verified_at,
                    ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles,
                    s.last_used_at
             FROM access_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND s.revoked_at IS NULL",
        )
        .bind(&hash)
        .bind(now)
        .fetch_optional(&ctx.db)
        .await?
    };
    let found = found.ok_or(IdentityError::InvalidToken)?;
    match found.status {
        UserStatus::Active | UserStatus::PendingVerification => {}
        UserStatus::Suspended => return Err(IdentityError::AccountSuspended.into()),
        UserStatus::Deleted => return Err(IdentityError::InvalidToken.into()),
    }
    // "Last used" is kept to the minute: one write a minute per caller at most.
    let stale = found.last_used_at.is_none_or(|t| now - t > chrono::Duration::minutes(1));
    if stale {
        let sql = if found.api_key_id.is_some() {
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1"
        } else {
            "UPDATE sessions SET last_used_at = $2 WHERE id = $1"
        };
        sqlx::query(sql).bind(found.api_key_id.or(found.session_id)).bind(now).execute(&ctx.db).await?;
    }
    Ok(Principal {
        user_id: UserId(found.user_id),
        session_id: found.session_id.map(SessionId),
        api_key_id: found.api_key_id.map(ApiKeyId),
        roles: found.roles,
        api_key_scopes: found.scopes,
        email_verified: found.email_verified_at.is_some(),
    })
}
