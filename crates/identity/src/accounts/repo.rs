//! SQL for accounts, credentials, sessions, tokens and API keys.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::model::{ApiKeyId, SessionId, UserId, UserStatus};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub avatar_url: Option<String>,
    pub timezone: String,
    pub locale: String,
    pub notification_prefs: serde_json::Value,
    pub needs_approval: bool,
    pub approved_at: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub roles: Vec<String>,
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub needs_approval: bool,
    pub now: DateTime<Utc>,
}

pub async fn insert_user(conn: &mut PgConnection, user: &NewUser<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO users (id, email, username, display_name, password_hash, needs_approval, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"#,
        user.id as _,
        user.email,
        user.username,
        user.display_name,
        user.password_hash,
        user.needs_approval,
        user.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn grant_roles(
    conn: &mut PgConnection,
    user: UserId,
    roles: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO user_roles (user_id, role, granted_at) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING"#, user as _, roles, now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A user's time zone and locale (how pages show them times and numbers).
pub async fn display_settings(conn: &mut PgConnection, id: UserId) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!(r#"SELECT timezone, locale FROM users WHERE id = $1"#, id as _).fetch_optional(conn).await?;
    Ok(row.map(|r| (r.timezone, r.locale)))
}

pub async fn user_by_id(conn: &mut PgConnection, id: UserId) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(UserRow, r#"SELECT u.id AS "id: UserId", u.email, u.username, u.display_name, u.password_hash, u.status AS "status: UserStatus", u.email_verified_at, u.avatar_url, u.timezone, u.locale, u.notification_prefs, u.needs_approval, u.approved_at, u.locked_until, u.created_at, ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS "roles!" FROM users u WHERE u.id = $1"#, id as _).fetch_optional(conn).await
}

/// The display names of `ids` (those that exist).
pub async fn display_names(conn: &mut PgConnection, ids: &[uuid::Uuid]) -> sqlx::Result<Vec<(uuid::Uuid, String)>> {
    let rows = sqlx::query!("SELECT id, display_name FROM users WHERE id = ANY ($1)", ids).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// The user row, locked for the rest of the transaction.
pub async fn user_for_update(conn: &mut PgConnection, id: UserId) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(UserRow, r#"SELECT u.id AS "id: UserId", u.email, u.username, u.display_name, u.password_hash, u.status AS "status: UserStatus", u.email_verified_at, u.avatar_url, u.timezone, u.locale, u.notification_prefs, u.needs_approval, u.approved_at, u.locked_until, u.created_at, ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS "roles!" FROM users u WHERE u.id = $1 FOR UPDATE"#, id as _)
        .fetch_optional(conn)
        .await
}

/// By email or username, case-insensitively; deleted accounts are never found.
pub async fn user_by_login(conn: &mut PgConnection, login: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(UserRow, r#"SELECT u.id AS "id: UserId", u.email, u.username, u.display_name, u.password_hash, u.status AS "status: UserStatus", u.email_verified_at, u.avatar_url, u.timezone, u.locale, u.notification_prefs, u.needs_approval, u.approved_at, u.locked_until, u.created_at, ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS "roles!" FROM users u
         WHERE (lower(u.email) = lower($1) OR lower(u.username) = lower($1)) AND u.status <> 'deleted'
         LIMIT 1"#, login.trim())
    .fetch_optional(conn)
    .await
}

pub async fn insert_email_token(
    conn: &mut PgConnection,
    hash: &[u8],
    user: UserId,
    purpose: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"#, hash, user as _, purpose, now, expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a live token used and returns its user; `None` if it is unknown, used or expired.
pub async fn consume_email_token(
    conn: &mut PgConnection,
    hash: &[u8],
    purpose: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"UPDATE email_tokens SET used_at = $3
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id AS "user_id: UserId""#,
        hash,
        purpose,
        now
    )
    .fetch_optional(conn)
    .await
}

pub async fn activate(conn: &mut PgConnection, user: UserId, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE users SET status = 'active', email_verified_at = $2, updated_at = $2
         WHERE id = $1 AND status = 'pending_verification'"#,
        user as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_login_failure(
    conn: &mut PgConnection,
    user: UserId,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query!(r#"INSERT INTO login_failures (user_id, failed_at, ip) VALUES ($1, $2, $3)"#, user as _, now, ip)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM login_failures WHERE user_id = $1 AND failed_at > $2::timestamptz - interval '5 minutes'"#, user as _, now)
    .fetch_one(conn)
    .await
}

pub async fn failures_since(conn: &mut PgConnection, user: UserId, since: DateTime<Utc>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM login_failures WHERE user_id = $1 AND failed_at > $2"#,
        user as _,
        since
    )
    .fetch_one(conn)
    .await
}

pub async fn clear_login_failures(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM login_failures WHERE user_id = $1"#, user as _).execute(conn).await?;
    Ok(())
}

pub async fn lock_until(conn: &mut PgConnection, user: UserId, until: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE users SET locked_until = $2 WHERE id = $1"#, user as _, until).execute(conn).await?;
    Ok(())
}

pub struct NewSession<'a> {
    pub id: SessionId,
    pub user: UserId,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert_session(conn: &mut PgConnection, s: &NewSession<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $3, $4, $5, $6)"#,
        s.id as _,
        s.user as _,
        s.now,
        s.expires_at,
        s.ip,
        s.user_agent
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the oldest active sessions beyond `keep`.
pub async fn revoke_sessions_beyond(
    conn: &mut PgConnection,
    user: UserId,
    keep: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"UPDATE sessions SET revoked_at = $3, revoked_reason = 'session_limit'
         WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3
                      ORDER BY created_at DESC, id DESC OFFSET $2)"#,
        user as _,
        keep,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn insert_tokens(
    conn: &mut PgConnection,
    session: SessionId,
    access_hash: &[u8],
    access_expires: DateTime<Utc>,
    refresh_hash: &[u8],
    refresh_expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"WITH a AS (INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES ($2, $1, $3))
         INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($4, $1, $6, $5)"#,
        session as _,
        access_hash,
        access_expires,
        refresh_hash,
        refresh_expires,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Rotates a live refresh token: exactly one caller gets its session back.
pub async fn rotate_refresh_token(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<SessionId>> {
    sqlx::query_scalar!(
        r#"UPDATE refresh_tokens SET rotated_at = $2
         WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2
         RETURNING session_id AS "session_id: SessionId""#,
        hash,
        now
    )
    .fetch_optional(conn)
    .await
}

/// The session a refresh token belongs to, whatever its state.
pub async fn refresh_token_session(db: impl sqlx::PgExecutor<'_>, hash: &[u8]) -> sqlx::Result<Option<SessionId>> {
    sqlx::query_scalar!(
        r#"SELECT session_id AS "session_id: SessionId" FROM refresh_tokens WHERE token_hash = $1"#,
        hash
    )
    .fetch_optional(db)
    .await
}

/// The session of a refresh token that was already rotated.
pub async fn rotated_token_session(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<SessionId>> {
    sqlx::query_scalar!(r#"SELECT session_id AS "session_id: SessionId" FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NOT NULL"#, hash)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, FromRow)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn session(conn: &mut PgConnection, id: SessionId) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as!(SessionRow, r#"SELECT id AS "id: SessionId", user_id AS "user_id: UserId", created_at, last_used_at, expires_at, revoked_at, ip, user_agent FROM sessions WHERE id = $1"#, id as _)
    .fetch_optional(conn)
    .await
}

pub async fn active_sessions(
    conn: &mut PgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as!(SessionRow, r#"SELECT id AS "id: SessionId", user_id AS "user_id: UserId", created_at, last_used_at, expires_at, revoked_at, ip, user_agent FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC"#, user as _, now)
    .fetch_all(conn)
    .await
}

pub async fn touch_session(db: impl sqlx::PgExecutor<'_>, id: SessionId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE sessions SET last_used_at = $2 WHERE id = $1"#, id as _, now).execute(db).await?;
    Ok(())
}

/// Ends one session (and so its tokens); returns whether it was active.
pub async fn revoke_session(
    conn: &mut PgConnection,
    id: SessionId,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL"#,
        id as _,
        now,
        reason
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of a user except `keep`.
pub async fn revoke_user_sessions(
    conn: &mut PgConnection,
    user: UserId,
    keep: Option<SessionId>,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"UPDATE sessions SET revoked_at = $3, revoked_reason = $4
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)"#,
        user as _,
        keep as _,
        now,
        reason
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn set_password(conn: &mut PgConnection, user: UserId, hash: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE users SET password_hash = $2, updated_at = $3, locked_until = NULL WHERE id = $1"#,
        user as _,
        hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct ProfileUpdate<'a> {
    pub display_name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub timezone: &'a str,
    pub locale: &'a str,
    pub notification_prefs: &'a serde_json::Value,
}

pub async fn update_profile(
    conn: &mut PgConnection,
    user: UserId,
    p: &ProfileUpdate<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE users SET display_name = $2, avatar_url = $3, timezone = $4, locale = $5, notification_prefs = $6,
                          updated_at = $7
         WHERE id = $1"#,
        user as _,
        p.display_name,
        p.avatar_url,
        p.timezone,
        p.locale,
        p.notification_prefs,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Erases what identifies a person and keeps the row that others' records point to.
pub async fn anonymize(conn: &mut PgConnection, user: UserId, now: DateTime<Utc>) -> sqlx::Result<()> {
    let tag = user.0.simple().to_string();
    sqlx::query!(
        r#"UPDATE users SET status = 'deleted', deleted_at = $2, updated_at = $2, password_hash = NULL,
                          email = 'deleted-' || $3 || '@deleted.invalid', username = 'deleted-' || $3,
                          display_name = 'Deleted user', avatar_url = NULL, notification_prefs = '{}'::jsonb,
                          locked_until = NULL
         WHERE id = $1"#,
        user as _,
        now,
        tag
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(r#"UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL"#, user as _, now)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(r#"DELETE FROM login_failures WHERE user_id = $1"#, user as _).execute(&mut *conn).await?;
    sqlx::query!(r#"UPDATE email_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL"#, user as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub user: UserId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub hash: &'a [u8],
    pub scopes: &'a [String],
    pub now: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert_api_key(conn: &mut PgConnection, k: &NewApiKey<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        k.id as _,
        k.user as _,
        k.name,
        k.prefix,
        k.hash,
        k.scopes,
        k.now,
        k.expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, FromRow)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn api_keys(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as!(
        ApiKeyRow,
        r#"SELECT id AS "id: ApiKeyId", name, prefix, scopes, created_at, expires_at, last_used_at FROM api_keys
         WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC"#,
        user as _
    )
    .fetch_all(conn)
    .await
}

pub async fn revoke_api_key(
    conn: &mut PgConnection,
    user: UserId,
    id: ApiKeyId,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"#,
        id as _,
        user as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct SecurityEvent<'a> {
    pub user: Option<UserId>,
    pub kind: &'a str,
    pub severity: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub details: serde_json::Value,
}

pub async fn insert_security_event(
    conn: &mut PgConnection,
    e: &SecurityEvent<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO security_events (id, user_id, kind, severity, ip, user_agent, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        Uuid::now_v7(),
        e.user as _,
        e.kind,
        e.severity,
        e.ip,
        e.user_agent,
        &e.details,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The people behind user ids, as other domains address them.
#[derive(Debug)]
pub struct Recipient {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub status: UserStatus,
    pub notification_prefs: serde_json::Value,
}

pub async fn recipients(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as!(Recipient, r#"SELECT id, email, username, display_name, status AS "status: UserStatus", notification_prefs FROM users WHERE id = ANY($1) ORDER BY id"#, ids)
    .fetch_all(conn)
    .await
}

/// Forgets failed logins older than a day (they only count within minutes).
pub async fn forget_login_failures(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!(r#"DELETE FROM login_failures WHERE failed_at < $1::timestamptz - interval '1 day'"#, now)
        .execute(conn)
        .await?
        .rows_affected())
}

/// What a presented access token or API key stands for: its user, session or key, scopes, and the
/// user's standing.
pub struct Credential {
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub scopes: Option<Vec<String>>,
    pub status: UserStatus,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub roles: Vec<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The principals of the presented access tokens (by hash) and API keys (by hash), each answer with
/// the hash it is for, in one statement that also notes when each session or key was last used: to
/// the minute (at most one write a minute per session or key), and only for a user who may still sign
/// in. A row another transaction holds is not waited for (its last use is being noted, or it is being
/// revoked): the statement answers many requests at once and none waits for one of them. The answers'
/// `last_used_at` is the one found, before this use. What is not found (unknown, expired, revoked)
/// has no answer.
pub async fn credentials(
    db: impl sqlx::PgExecutor<'_>,
    token_hashes: &[Vec<u8>],
    key_hashes: &[Vec<u8>],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(Vec<u8>, Credential)>> {
    let rows = sqlx::query!(
        r#"WITH presented AS (
               SELECT t.token_hash AS hash, s.user_id, s.id AS session_id, NULL::uuid AS api_key_id,
                      NULL::text[] AS scopes, s.last_used_at
               FROM access_tokens t JOIN sessions s ON s.id = t.session_id
               WHERE t.token_hash = ANY($1) AND t.expires_at > $3 AND s.revoked_at IS NULL
               UNION ALL
               SELECT k.key_hash, k.user_id, NULL::uuid, k.id, k.scopes, k.last_used_at
               FROM api_keys k
               WHERE k.key_hash = ANY($2) AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $3)),
           found AS (
               SELECT p.*, u.status, u.email_verified_at,
                      ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles
               FROM presented p JOIN users u ON u.id = p.user_id),
           due AS (
               SELECT session_id, api_key_id FROM found
               WHERE status IN ('active', 'pending_verification')
                 AND (last_used_at IS NULL OR $3 - last_used_at > interval '1 minute')),
           touched_sessions AS (
               UPDATE sessions s SET last_used_at = $3
               WHERE s.id IN (SELECT id FROM sessions WHERE id IN (SELECT session_id FROM due)
                              ORDER BY id FOR UPDATE SKIP LOCKED)),
           touched_keys AS (
               UPDATE api_keys k SET last_used_at = $3
               WHERE k.id IN (SELECT id FROM api_keys WHERE id IN (SELECT api_key_id FROM due)
                              ORDER BY id FOR UPDATE SKIP LOCKED))
           SELECT hash AS "hash!", user_id AS "user_id!", session_id, api_key_id, scopes,
                  status AS "status!: UserStatus", email_verified_at, roles AS "roles!", last_used_at
           FROM found"#,
        token_hashes,
        key_hashes,
        now
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let credential = Credential {
                user_id: r.user_id,
                session_id: r.session_id,
                api_key_id: r.api_key_id,
                scopes: r.scopes,
                status: r.status,
                email_verified_at: r.email_verified_at,
                roles: r.roles,
                last_used_at: r.last_used_at,
            };
            (r.hash, credential)
        })
        .collect())
}

/// The user a password-reset token is for, while it is unused and unexpired.
pub async fn reset_token_user(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT user_id AS "user_id: UserId" FROM email_tokens
           WHERE token_hash = $1 AND purpose = 'reset_password' AND used_at IS NULL AND expires_at > $2"#,
        hash,
        now
    )
    .fetch_optional(conn)
    .await
}

/// The active users holding any of `roles`, in id order.
pub async fn role_holders(conn: &mut PgConnection, roles: &[String]) -> sqlx::Result<Vec<uuid::Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = ANY($1)
           WHERE u.status = 'active' ORDER BY u.id"#,
        roles
    )
    .fetch_all(conn)
    .await
}
