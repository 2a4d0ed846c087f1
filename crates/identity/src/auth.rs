//! Who is calling: the `AuthUser` extractor (an access token or an API key, required) and `MaybeAuthUser`
//! (optional). Every domain authenticates through these; the callers of requests arriving at once are
//! recognised together by the router's [`Authenticator`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Extensions, header};
use chrono::{DateTime, Utc};
use platform::batch::{Batcher, Work};
use platform::clock::SharedClock;
use platform::{ApiError, AppContext};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;

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
        let mut principal = resolve_in(&parts.extensions, ctx, token).await?;
        principal.client_ip = platform::http::ClientMeta::from_request_parts(parts, ctx).await.unwrap_or_default().ip;
        Ok(Self(Some(principal)))
    }
}

/// Recognises the callers of the requests arriving at once together: one statement for all of them
/// (see [`platform::batch`]), on a connection of its own, so that a crowd (an on-sale's opening) is
/// authenticated in a few statements, without queueing for the service's pool, and those refused
/// before any work (sold out, say) never take a connection of it. The router installs one as an
/// extension (`Extension<Arc<Authenticator>>`); the extractors and the web app's session use it, and
/// a router without one (a domain's own tests) authenticates each request on the pool ([`resolve`]).
pub struct Authenticator {
    batcher: Batcher<Recognise>,
}

/// At most this many callers are recognised by one statement.
const MOST_AT_ONCE: usize = 1000;

impl Authenticator {
    /// Recognises callers over a connection of its own to `pool`'s database (opened on first use).
    pub fn new(pool: &PgPool, clock: SharedClock) -> Self {
        let own = platform::db::own_connection(pool);
        Self { batcher: Batcher::new(Recognise { pool: own, clock }, MOST_AT_ONCE) }
    }

    /// The principal of a presented secret, as [`resolve`] finds it, in the batch of the requests
    /// presenting theirs at the same moment.
    pub async fn resolve(&self, token: &str) -> Result<Principal, ApiError> {
        self.batcher.ask(Presented::of(token)).await
    }
}

/// A presented secret: its hash, and whether it is an API key (else an access token).
struct Presented {
    hash: Vec<u8>,
    api_key: bool,
}

impl Presented {
    fn of(token: &str) -> Self {
        Self { hash: tokens::hash(token), api_key: token.starts_with(tokens::Kind::ApiKey.prefix()) }
    }
}

struct Recognise {
    pool: PgPool,
    clock: SharedClock,
}

impl Work for Recognise {
    type Ask = Presented;
    type Answer = Principal;

    async fn answer(&self, batch: &[Presented]) -> Result<Vec<Result<Principal, ApiError>>, ApiError> {
        recognise(&self.pool, batch, self.clock.now()).await
    }
}

/// Each presented secret's principal, found in one statement ([`repo::credentials`]).
async fn recognise(
    db: impl sqlx::PgExecutor<'_>,
    batch: &[Presented],
    now: DateTime<Utc>,
) -> Result<Vec<Result<Principal, ApiError>>, ApiError> {
    let hashes = |api_key: bool| batch.iter().filter(|p| p.api_key == api_key).map(|p| p.hash.clone()).collect();
    let (tokens, keys): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (hashes(false), hashes(true));
    let found = repo::credentials(db, &tokens, &keys, now).await?;
    let found: HashMap<(&[u8], bool), &repo::Credential> =
        found.iter().map(|(hash, c)| ((hash.as_slice(), c.api_key_id.is_some()), c)).collect();
    Ok(batch
        .iter()
        .map(|p| match found.get(&(p.hash.as_slice(), p.api_key)) {
            Some(credential) => principal_of(credential),
            None => Err(IdentityError::InvalidToken.into()),
        })
        .collect())
}

/// Resolves a presented secret (an access token or an API key) to its principal in one indexed query,
/// which also notes its last use (to the minute): the check every API request and every signed-in page
/// makes.
pub async fn resolve(ctx: &AppContext, token: &str) -> Result<Principal, ApiError> {
    let answers = recognise(&ctx.db, &[Presented::of(token)], ctx.clock.now()).await?;
    answers.into_iter().next().unwrap_or_else(|| Err(ApiError::internal(anyhow::anyhow!("no answer"))))
}

/// [`resolve`], by the request's [`Authenticator`] when the router installed one (its `extensions`).
pub async fn resolve_in(extensions: &Extensions, ctx: &AppContext, token: &str) -> Result<Principal, ApiError> {
    match extensions.get::<Arc<Authenticator>>() {
        Some(authenticator) => authenticator.resolve(token).await,
        None => resolve(ctx, token).await,
    }
}

/// The principal of a credential found, unless its user may no longer sign in.
fn principal_of(found: &repo::Credential) -> Result<Principal, ApiError> {
    match found.status {
        UserStatus::Active | UserStatus::PendingVerification => {}
        UserStatus::Suspended => return Err(IdentityError::AccountSuspended.into()),
        UserStatus::Deleted => return Err(IdentityError::InvalidToken.into()),
    }
    Ok(Principal {
        user_id: UserId(found.user_id),
        session_id: found.session_id.map(SessionId),
        api_key_id: found.api_key_id.map(ApiKeyId),
        roles: found.roles.clone(),
        api_key_scopes: found.scopes.clone(),
        email_verified: found.email_verified_at.is_some(),
        client_ip: None,
    })
}
