//! Identity's rules: registration and verification, login with lockout, refresh-token rotation with reuse
//! detection, sessions, password changes and resets, profile changes, account deletion, API keys. Each
//! operation is one transaction with its audit row, security events and mail.

use chrono::{DateTime, Utc};
use platform::audit::{self, Actor};
use platform::http::ClientMeta;
use platform::mail::{self, Message};
use platform::ratelimit;
use platform::{ApiError, AppContext, FieldError};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::dto;
use super::repo::{self, UserRow};
use crate::auth::Principal;
use crate::authz::{self, Target};
use crate::error::IdentityCode;
use crate::error::IdentityError;
use crate::model::{ApiKeyId, Email, NewPassword, Scope, SessionId, UserId, UserStatus, Username, parse_display_name};
use crate::settings::IdentitySettings;
use crate::tokens::{self, Kind};
use crate::{password, settings};

fn validation(errors: Vec<FieldError>) -> ApiError {
    ApiError::validation(errors)
}

pub fn user_dto(row: &UserRow) -> dto::User {
    dto::User {
        id: row.id,
        email: row.email.clone(),
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        status: row.status,
        email_verified: row.email_verified_at.is_some(),
        roles: row.roles.clone(),
        avatar_url: row.avatar_url.clone(),
        timezone: row.timezone.clone(),
        locale: row.locale.clone(),
        notification_preferences: row.notification_prefs.clone(),
        needs_approval: row.needs_approval,
        approved: !row.needs_approval || row.approved_at.is_some(),
        created_at: row.created_at,
    }
}

async fn security_event(
    conn: &mut PgConnection,
    user: Option<UserId>,
    kind: &str,
    severity: &str,
    meta: &ClientMeta,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let event = repo::SecurityEvent {
        user,
        kind,
        severity,
        ip: meta.ip.as_deref(),
        user_agent: meta.user_agent.as_deref(),
        details,
    };
    repo::insert_security_event(conn, &event, now).await
}

fn client_key(meta: &ClientMeta) -> &str {
    meta.ip.as_deref().unwrap_or("unknown")
}

pub async fn register(
    ctx: &AppContext,
    settings: &IdentitySettings,
    req: dto::RegisterRequest,
    meta: &ClientMeta,
) -> Result<dto::User, ApiError> {
    let now = ctx.clock.now();
    ratelimit::hit(&ctx.db, &format!("register:{}", client_key(meta)), settings.register_limit, now).await?;

    let mut errors = Vec::new();
    let email = Email::parse("email", &req.email).map_err(|e| errors.push(e)).ok();
    let username = Username::parse(&req.username).map_err(|e| errors.push(e)).ok();
    let display_name = parse_display_name(&req.display_name).map_err(|e| errors.push(e)).ok();
    let password =
        NewPassword::parse("password", &req.password, &req.email, &req.username).map_err(|e| errors.push(e)).ok();
    let mut personas: Vec<String> = Vec::new();
    for (i, persona) in req.personas.iter().enumerate() {
        if authz::PERSONAS.contains(&persona.as_str()) {
            if !personas.contains(persona) {
                personas.push(persona.clone());
            }
        } else {
            errors.push(FieldError::new(
                format!("personas[{i}]"),
                "unknown_persona",
                format!("`{persona}` is not a persona"),
            ));
        }
    }
    let (Some(email), Some(username), Some(display_name), Some(password), true) =
        (email, username, display_name, password, errors.is_empty())
    else {
        return Err(validation(errors));
    };

    let password_hash = password::hash(password.expose().to_owned()).await?;
    let id = UserId::new();
    let needs_approval = personas.iter().any(|p| p == "label");
    let mut tx = ctx.db.begin().await?;
    let new_user = repo::NewUser {
        id,
        email: email.as_str(),
        username: username.as_str(),
        display_name: &display_name,
        password_hash: &password_hash,
        needs_approval,
        now,
    };
    repo::insert_user(&mut tx, &new_user).await.map_err(crate::error::from_db)?;
    repo::grant_roles(&mut tx, id, &personas, now).await?;
    send_email_token(&mut tx, ctx, id, email.as_str(), EmailPurpose::Verify, settings, now).await?;
    audit::Entry::new(Actor { user_id: Some(id.0), api_key_id: None }, "user.register", "user", id)
        .after(json!({"email": email.as_str(), "username": username.as_str(), "personas": personas}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    let row =
        repo::user_by_id(&mut tx, id).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("user vanished")))?;
    tx.commit().await?;
    Ok(user_dto(&row))
}

#[derive(Debug, Clone, Copy)]
enum EmailPurpose {
    Verify,
    Reset,
}

async fn send_email_token(
    conn: &mut PgConnection,
    ctx: &AppContext,
    user: UserId,
    to: &str,
    purpose: EmailPurpose,
    settings: &IdentitySettings,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let (token, hash) = tokens::generate(Kind::Email);
    let (db_purpose, ttl, path, subject, intro) = match purpose {
        EmailPurpose::Verify => (
            "verify_email",
            settings.verification_ttl,
            "verify-email",
            "Confirm your email address",
            "Welcome to Backline. Confirm your email address by opening this link",
        ),
        EmailPurpose::Reset => (
            "reset_password",
            settings.reset_ttl,
            "reset-password",
            "Reset your password",
            "Someone (hopefully you) asked to reset your Backline password. Choose a new one here",
        ),
    };
    repo::insert_email_token(conn, &hash, user, db_purpose, now, now + ttl).await?;
    let hours = ttl.num_hours();
    let body_text = format!(
        "{intro} (valid for {hours} hour{s}):\n\n{}/{path}?token={token}\n\nToken: {token}\n\n\
         If you did not ask for this, ignore this message.\n",
        ctx.public_url,
        s = if hours == 1 { "" } else { "s" },
    );
    mail::enqueue(conn, &Message { to: to.to_owned(), subject: subject.to_owned(), body_text, body_html: None }, now)
        .await?;
    Ok(())
}

pub async fn verify_email(ctx: &AppContext, token: &str, meta: &ClientMeta) -> Result<dto::User, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = repo::consume_email_token(&mut tx, &tokens::hash(token.trim()), "verify_email", now)
        .await?
        .ok_or(IdentityError::InvalidEmailToken)?;
    if repo::activate(&mut tx, user, now).await? {
        let event = platform::events::Event {
            kind: "account.verified",
            recipients: vec![user.0],
            organization: None,
            data: json!({}),
        };
        platform::events::emit(&mut tx, event, now).await?;
        audit::Entry::new(Actor { user_id: Some(user.0), api_key_id: None }, "user.verify_email", "user", user)
            .before(json!({"status": "pending_verification"}))
            .after(json!({"status": "active"}))
            .ip(meta.ip.as_deref())
            .record(&mut tx, now)
            .await?;
    }
    let row = repo::user_by_id(&mut tx, user).await?.ok_or(IdentityError::NotFound("user"))?;
    tx.commit().await?;
    Ok(user_dto(&row))
}

pub async fn login(
    ctx: &AppContext,
    settings: &IdentitySettings,
    req: dto::LoginRequest,
    meta: &ClientMeta,
) -> Result<dto::TokenPair, ApiError> {
    let now = ctx.clock.now();
    let login_key = req.login.trim().to_lowercase();
    ratelimit::hit(&ctx.db, &format!("login:{login_key}:{}", client_key(meta)), settings.login_limit, now).await?;

    // No connection is held while the password is checked: logins queue for the hashing pool, and a
    // queue that held connections would starve every other request of the database.
    let user = repo::user_by_login(&mut *ctx.db.acquire().await?, &req.login).await?;
    if let Some(locked_until) = user.as_ref().and_then(|u| u.locked_until).filter(|t| *t > now) {
        return Err(IdentityError::AccountLocked { retry_after_secs: (locked_until - now).num_seconds().max(1) }.into());
    }
    let ok = password::verify(req.password, user.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let user = match user {
        Some(user) if ok => user,
        other => {
            let mut conn = ctx.db.acquire().await?;
            return Err(failed_login(&mut conn, settings, other.map(|u| u.id), meta, now).await?);
        }
    };
    if user.status == UserStatus::Suspended {
        return Err(IdentityError::AccountSuspended.into());
    }

    let mut tx = ctx.db.begin().await?;
    repo::user_for_update(&mut tx, user.id).await?; // serialises logins of one user for the session limit
    repo::clear_login_failures(&mut tx, user.id).await?;
    let pair = open_session(&mut tx, settings, user.id, meta, now).await?;
    tx.commit().await?;
    Ok(pair)
}

/// Records a failed login and locks the account when the threshold is reached; returns the answer to give.
async fn failed_login(
    conn: &mut PgConnection,
    settings: &IdentitySettings,
    user: Option<UserId>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    security_event(&mut tx, user, "login_failed", "info", meta, json!({}), now).await?;
    let mut answer: ApiError = IdentityError::InvalidCredentials.into();
    if let Some(user) = user {
        repo::record_login_failure(&mut tx, user, meta.ip.as_deref(), now).await?;
        let recent = repo::failures_since(&mut tx, user, now - settings.lockout_window).await?;
        if recent >= i64::from(settings.lockout_threshold) {
            let until = now + settings.lockout_duration;
            repo::lock_until(&mut tx, user, until).await?;
            repo::clear_login_failures(&mut tx, user).await?;
            security_event(
                &mut tx,
                Some(user),
                "account_locked",
                "warning",
                meta,
                json!({"failures": recent, "locked_until": until}),
                now,
            )
            .await?;
            answer = IdentityError::AccountLocked { retry_after_secs: settings.lockout_duration.num_seconds() }.into();
        }
    }
    tx.commit().await?;
    Ok(answer)
}

async fn issue_tokens(
    conn: &mut PgConnection,
    settings: &IdentitySettings,
    session: SessionId,
    session_expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<dto::TokenPair, ApiError> {
    let (access, access_hash) = tokens::generate(Kind::Access);
    let (refresh, refresh_hash) = tokens::generate(Kind::Refresh);
    let access_expires = (now + settings.access_ttl).min(session_expires);
    repo::insert_tokens(conn, session, &access_hash, access_expires, &refresh_hash, session_expires, now).await?;
    Ok(dto::TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: (access_expires - now).num_seconds(),
        refresh_expires_in: (session_expires - now).num_seconds(),
        session_id: session,
    })
}

async fn open_session(
    conn: &mut PgConnection,
    settings: &IdentitySettings,
    user: UserId,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<dto::TokenPair, ApiError> {
    let id = SessionId::new();
    let expires_at = now + settings.refresh_ttl;
    let session =
        repo::NewSession { id, user, now, expires_at, ip: meta.ip.as_deref(), user_agent: meta.user_agent.as_deref() };
    repo::insert_session(conn, &session).await?;
    repo::revoke_sessions_beyond(conn, user, i64::from(settings.max_sessions), now).await?;
    issue_tokens(conn, settings, id, expires_at, now).await
}

pub async fn refresh(
    ctx: &AppContext,
    settings: &IdentitySettings,
    token: &str,
    meta: &ClientMeta,
) -> Result<dto::TokenPair, ApiError> {
    let now = ctx.clock.now();
    let hash = tokens::hash(token.trim());
    // Counted before the transaction (never while holding it, which could starve the pool under load),
    // and kept even when the attempt is refused.
    let known_session = repo::refresh_token_session(&ctx.db, &hash).await?.ok_or(IdentityError::InvalidToken)?;
    ratelimit::hit(&ctx.db, &format!("refresh:{known_session}"), settings.refresh_limit, now).await?;
    let mut tx = ctx.db.begin().await?;
    let Some(session_id) = repo::rotate_refresh_token(&mut tx, &hash, now).await? else {
        // Either unknown/expired, or a replay of a rotated token: then end the whole session.
        if let Some(session_id) = repo::rotated_token_session(&mut tx, &hash).await? {
            let session = repo::session(&mut tx, session_id).await?;
            repo::revoke_session(&mut tx, session_id, "refresh_token_reused", now).await?;
            security_event(
                &mut tx,
                session.map(|s| s.user_id),
                "refresh_token_reused",
                "critical",
                meta,
                json!({"session_id": session_id}),
                now,
            )
            .await?;
            tx.commit().await?;
            return Err(IdentityError::RefreshTokenReused.into());
        }
        return Err(IdentityError::InvalidToken.into());
    };
    let session = repo::session(&mut tx, session_id).await?.ok_or(IdentityError::InvalidToken)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(IdentityError::InvalidToken.into());
    }
    let user = repo::user_by_id(&mut tx, session.user_id).await?.ok_or(IdentityError::InvalidToken)?;
    match user.status {
        UserStatus::Active | UserStatus::PendingVerification => {}
        UserStatus::Suspended => return Err(IdentityError::AccountSuspended.into()),
        UserStatus::Deleted => return Err(IdentityError::InvalidToken.into()),
    }
    repo::touch_session(&mut *tx, session_id, now).await?;
    let pair = issue_tokens(&mut tx, settings, session_id, session.expires_at, now).await?;
    tx.commit().await?;
    Ok(pair)
}

pub async fn logout(ctx: &AppContext, principal: &Principal) -> Result<(), ApiError> {
    let session = principal.session_id.ok_or_else(|| {
        ApiError::new(IdentityCode::NotASession, "An API key has no session to end; revoke the key instead.")
    })?;
    let mut conn = ctx.db.acquire().await?;
    repo::revoke_session(&mut conn, session, "logout", ctx.clock.now()).await?;
    Ok(())
}

pub async fn logout_all(ctx: &AppContext, principal: &Principal) -> Result<u64, ApiError> {
    authz::authorize(principal, "sessions.manage", Target::OwnedBy(principal.user_id))?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::revoke_user_sessions(&mut conn, principal.user_id, None, "logout_all", ctx.clock.now()).await?)
}

/// The time zone and locale `user` reads times and numbers in.
pub async fn display_settings(ctx: &AppContext, user: UserId) -> Result<(String, String), ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::display_settings(&mut conn, user).await?.ok_or(IdentityError::NotFound("user"))?)
}

pub async fn me(ctx: &AppContext, principal: &Principal) -> Result<dto::User, ApiError> {
    authz::authorize(principal, "profile.read", Target::OwnedBy(principal.user_id))?;
    let mut conn = ctx.db.acquire().await?;
    let row = repo::user_by_id(&mut conn, principal.user_id).await?.ok_or(IdentityError::NotFound("user"))?;
    Ok(user_dto(&row))
}

fn parse_timezone(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let ok = value == "UTC"
        || (value.len() <= 64
            && value.contains('/')
            && value.split('/').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
            }));
    if !ok {
        return Err(FieldError::new("timezone", "invalid_format", "must be an IANA time zone such as Europe/Berlin"));
    }
    // Pages show times in it: it must be one the time zone database knows.
    match value.parse::<chrono_tz::Tz>() {
        Ok(_) => Ok(value.to_owned()),
        Err(_) => Err(FieldError::new("timezone", "unknown_timezone", "is not in the IANA time zone database")),
    }
}

fn parse_locale(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let mut parts = value.split('-');
    let language_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()));
    let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if language_ok && rest_ok && value.len() <= 35 {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new("locale", "invalid_format", "must be a language tag such as en or pt-BR"))
    }
}

fn parse_avatar_url(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new("avatar_url", "invalid_format", "must be an http(s) URL"))
    }
}

fn parse_preferences(value: &serde_json::Value) -> Result<serde_json::Value, FieldError> {
    let invalid = |m: &str| FieldError::new("notification_preferences", "invalid_format", m.to_owned());
    let events = value.as_object().ok_or_else(|| invalid("must be an object of event types"))?;
    for (event, channels) in events {
        let channels =
            channels.as_object().ok_or_else(|| invalid(&format!("`{event}` must map channels to true or false")))?;
        for (channel, on) in channels {
            if !settings::CHANNELS.contains(&channel.as_str()) {
                return Err(invalid(&format!("`{channel}` is not a channel (in_app, email, webhook, sms, whatsapp)")));
            }
            if !on.is_boolean() {
                return Err(invalid(&format!("`{event}.{channel}` must be true or false")));
            }
            if on == &Value::Bool(true) && settings::UNAVAILABLE_CHANNELS.contains(&channel.as_str()) {
                return Err(FieldError::new(
                    "notification_preferences",
                    "channel_unavailable",
                    format!("the `{channel}` channel is not available on this server yet"),
                ));
            }
        }
    }
    Ok(value.clone())
}

pub async fn update_me(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::UpdateMeRequest,
    meta: &ClientMeta,
) -> Result<dto::User, ApiError> {
    authz::authorize(principal, "profile.update", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let current = repo::user_for_update(&mut tx, principal.user_id).await?.ok_or(IdentityError::NotFound("user"))?;
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>, old: &str| {
        r.unwrap_or_else(|e| {
            errors.push(e);
            old.to_owned()
        })
    };
    let display_name = match &req.display_name {
        Some(v) => keep(parse_display_name(v), &current.display_name),
        None => current.display_name.clone(),
    };
    let timezone = match &req.timezone {
        Some(v) => keep(parse_timezone(v), &current.timezone),
        None => current.timezone.clone(),
    };
    let locale = match &req.locale {
        Some(v) => keep(parse_locale(v), &current.locale),
        None => current.locale.clone(),
    };
    let avatar_url = match &req.avatar_url {
        Some(Some(v)) => Some(keep(parse_avatar_url(v), "")),
        Some(None) => None,
        None => current.avatar_url.clone(),
    };
    let prefs = match &req.notification_preferences {
        Some(v) => parse_preferences(v).unwrap_or_else(|e| {
            errors.push(e);
            current.notification_prefs.clone()
        }),
        None => current.notification_prefs.clone(),
    };
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    let update = repo::ProfileUpdate {
        display_name: &display_name,
        avatar_url: avatar_url.as_deref(),
        timezone: &timezone,
        locale: &locale,
        notification_prefs: &prefs,
    };
    repo::update_profile(&mut tx, principal.user_id, &update, now).await?;
    let updated = repo::user_by_id(&mut tx, principal.user_id).await?.ok_or(IdentityError::NotFound("user"))?;
    let (before, after) = audit::changed_fields(
        &serde_json::to_value(user_dto(&current)).unwrap_or_default(),
        &serde_json::to_value(user_dto(&updated)).unwrap_or_default(),
    );
    if after.as_object().is_some_and(|o| !o.is_empty()) {
        audit::Entry::new(principal.actor(), "user.update", "user", principal.user_id)
            .before(before)
            .after(after)
            .ip(meta.ip.as_deref())
            .record(&mut tx, now)
            .await?;
    }
    tx.commit().await?;
    Ok(user_dto(&updated))
}

pub async fn change_password(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::ChangePasswordRequest,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    authz::authorize(principal, "profile.update", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let user = repo::user_by_id(&mut conn, principal.user_id).await?.ok_or(IdentityError::NotFound("user"))?;
    drop(conn);
    let new = NewPassword::parse("new_password", &req.new_password, &user.email, &user.username)
        .map_err(|e| validation(vec![e]))?;
    if !password::verify(req.current_password, user.password_hash.clone()).await? {
        return Err(IdentityError::WrongPassword.into());
    }
    let hash = password::hash(new.expose().to_owned()).await?;
    let mut tx = ctx.db.begin().await?;
    repo::set_password(&mut tx, user.id, &hash, now).await?;
    repo::revoke_user_sessions(&mut tx, user.id, principal.session_id, "password_changed", now).await?;
    security_event(&mut tx, Some(user.id), "password_changed", "info", meta, json!({}), now).await?;
    password_changed_event(&mut tx, user.id, now).await?;
    password_audit(principal.actor(), user.id, "user.change_password", meta).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn password_changed_event(conn: &mut PgConnection, user: UserId, now: DateTime<Utc>) -> sqlx::Result<()> {
    let event = platform::events::Event {
        kind: "account.password_changed",
        recipients: vec![user.0],
        organization: None,
        data: json!({}),
    };
    platform::events::emit(conn, event, now).await.map(|_| ())
}

fn password_audit<'a>(actor: Actor, user: UserId, action: &'a str, meta: &'a ClientMeta) -> audit::Entry<'a> {
    audit::Entry::new(actor, action, "user", user).after(json!({"password": "changed"})).ip(meta.ip.as_deref())
}

/// Sends a reset link if the account exists; answers the same either way.
pub async fn forgot_password(
    ctx: &AppContext,
    settings: &IdentitySettings,
    email: &str,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    ratelimit::hit(&ctx.db, &format!("forgot:{}", client_key(meta)), settings.forgot_limit, now).await?;
    let mut tx = ctx.db.begin().await?;
    let Some(user) = repo::user_by_login(&mut tx, email).await?.filter(|u| u.email.eq_ignore_ascii_case(email.trim()))
    else {
        return Ok(());
    };
    if user.status == UserStatus::Suspended {
        return Ok(());
    }
    send_email_token(&mut tx, ctx, user.id, &user.email, EmailPurpose::Reset, settings, now).await?;
    security_event(&mut tx, Some(user.id), "password_reset_requested", "info", meta, json!({}), now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reset_password(
    ctx: &AppContext,
    req: dto::ResetPasswordRequest,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let hash = tokens::hash(req.token.trim());
    // Check the token and the policy before the slow hash; consume it in the writing transaction.
    let mut conn = ctx.db.acquire().await?;
    let user_id = repo::reset_token_user(&mut conn, &hash, now).await?;
    let user = match user_id {
        Some(id) => repo::user_by_id(&mut conn, id).await?.filter(|u| u.status != UserStatus::Deleted),
        None => None,
    }
    .ok_or(IdentityError::InvalidEmailToken)?;
    drop(conn);
    let new =
        NewPassword::parse("password", &req.password, &user.email, &user.username).map_err(|e| validation(vec![e]))?;
    let password_hash = password::hash(new.expose().to_owned()).await?;
    let mut tx = ctx.db.begin().await?;
    repo::consume_email_token(&mut tx, &hash, "reset_password", now).await?.ok_or(IdentityError::InvalidEmailToken)?;
    repo::set_password(&mut tx, user.id, &password_hash, now).await?;
    repo::clear_login_failures(&mut tx, user.id).await?;
    repo::revoke_user_sessions(&mut tx, user.id, None, "password_reset", now).await?;
    security_event(&mut tx, Some(user.id), "password_reset", "warning", meta, json!({}), now).await?;
    password_changed_event(&mut tx, user.id, now).await?;
    let actor = Actor { user_id: Some(user.id.0), api_key_id: None };
    password_audit(actor, user.id, "user.reset_password", meta).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_account(
    ctx: &AppContext,
    principal: &Principal,
    password: String,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    authz::authorize(principal, "profile.update", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let user = repo::user_by_id(&mut conn, principal.user_id).await?.ok_or(IdentityError::NotFound("user"))?;
    drop(conn);
    if !password::verify(password, user.password_hash.clone()).await? {
        return Err(ApiError::invalid_field("password", "incorrect", "is not your password"));
    }
    let mut tx = ctx.db.begin().await?;
    repo::anonymize(&mut tx, user.id, now).await?;
    repo::revoke_user_sessions(&mut tx, user.id, None, "account_deleted", now).await?;
    security_event(&mut tx, Some(user.id), "account_deleted", "warning", meta, json!({}), now).await?;
    audit::Entry::new(principal.actor(), "user.delete", "user", user.id)
        .before(json!({"status": user.status}))
        .after(json!({"status": "deleted"}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn sessions(ctx: &AppContext, principal: &Principal) -> Result<dto::SessionList, ApiError> {
    authz::authorize(principal, "sessions.manage", Target::OwnedBy(principal.user_id))?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::active_sessions(&mut conn, principal.user_id, ctx.clock.now()).await?;
    let items = rows
        .into_iter()
        .map(|s| dto::Session {
            current: Some(s.id) == principal.session_id,
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(dto::SessionList { items })
}

pub async fn end_session(ctx: &AppContext, principal: &Principal, id: SessionId) -> Result<(), ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let session = repo::session(&mut conn, id)
        .await?
        .filter(|s| s.revoked_at.is_none())
        .ok_or(IdentityError::NotFound("session"))?;
    // Someone else's session is "not found", never "forbidden": ids are not confirmed to strangers.
    authz::authorize(principal, "sessions.manage", Target::OwnedBy(session.user_id))
        .map_err(|_| IdentityError::NotFound("session"))?;
    repo::revoke_session(&mut conn, id, "ended_by_user", ctx.clock.now()).await?;
    Ok(())
}

pub async fn create_api_key(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::CreateApiKeyRequest,
    meta: &ClientMeta,
) -> Result<dto::CreatedApiKey, ApiError> {
    authz::authorize(principal, "api_keys.manage", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut errors = Vec::new();
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 100 characters"));
    }
    if req.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "required", "must name at least one permission"));
    }
    let mut scopes = Vec::new();
    for (i, raw) in req.scopes.iter().enumerate() {
        match Scope::parse(i, raw) {
            Ok(scope) if !scopes.contains(&scope.as_str().to_owned()) => scopes.push(scope.as_str().to_owned()),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if req.expires_at.is_some_and(|t| t <= now) {
        errors.push(FieldError::new("expires_at", "in_the_past", "must be in the future"));
    }
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    let (key, hash) = tokens::generate(Kind::ApiKey);
    let prefix: String = key.chars().take(10).collect();
    let id = ApiKeyId::new();
    let mut tx = ctx.db.begin().await?;
    let new_key = repo::NewApiKey {
        id,
        user: principal.user_id,
        name: &name,
        prefix: &prefix,
        hash: &hash,
        scopes: &scopes,
        now,
        expires_at: req.expires_at,
    };
    repo::insert_api_key(&mut tx, &new_key).await?;
    security_event(
        &mut tx,
        Some(principal.user_id),
        "api_key_created",
        "info",
        meta,
        json!({"api_key_id": id, "scopes": scopes}),
        now,
    )
    .await?;
    audit::Entry::new(principal.actor(), "api_key.create", "api_key", id)
        .after(json!({"name": name, "scopes": scopes, "expires_at": req.expires_at}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(dto::CreatedApiKey {
        api_key: dto::ApiKey {
            id,
            name,
            prefix,
            scopes,
            created_at: now,
            expires_at: req.expires_at,
            last_used_at: None,
        },
        key,
    })
}

pub async fn api_keys(ctx: &AppContext, principal: &Principal) -> Result<dto::ApiKeyList, ApiError> {
    authz::authorize(principal, "api_keys.manage", Target::OwnedBy(principal.user_id))?;
    let mut conn = ctx.db.acquire().await?;
    let items = repo::api_keys(&mut conn, principal.user_id)
        .await?
        .into_iter()
        .map(|k| dto::ApiKey {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        })
        .collect();
    Ok(dto::ApiKeyList { items })
}

pub async fn revoke_api_key(
    ctx: &AppContext,
    principal: &Principal,
    id: ApiKeyId,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    authz::authorize(principal, "api_keys.manage", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    // Only the caller's own keys match, so another user's key id is simply not found.
    if !repo::revoke_api_key(&mut tx, principal.user_id, id, now).await? {
        return Err(IdentityError::NotFound("API key").into());
    }
    security_event(&mut tx, Some(principal.user_id), "api_key_revoked", "info", meta, json!({"api_key_id": id}), now)
        .await?;
    audit::Entry::new(principal.actor(), "api_key.revoke", "api_key", id)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a user directly (demo data and administration), already verified.
pub async fn create_verified_user(
    conn: &mut PgConnection,
    email: &str,
    username: &str,
    display_name: &str,
    password_hash: &str,
    roles: &[&str],
    now: DateTime<Utc>,
) -> anyhow::Result<UserId> {
    let id = UserId::new();
    let new_user = repo::NewUser { id, email, username, display_name, password_hash, needs_approval: false, now };
    repo::insert_user(conn, &new_user).await?;
    repo::activate(conn, id, now).await?;
    let roles: Vec<String> = roles.iter().filter(|r| authz::is_global_role(r)).map(|r| (*r).to_owned()).collect();
    repo::grant_roles(conn, id, &roles, now).await?;
    Ok(id)
}

/// For other domains: whether `user` exists and is active (can sign in and act).
pub async fn is_active_user(conn: &mut PgConnection, user: UserId) -> sqlx::Result<bool> {
    Ok(repo::user_by_id(conn, user).await?.is_some_and(|u| u.status == UserStatus::Active))
}

/// For other domains: the active users holding any of the global `roles`, in id order.
pub async fn role_holders(conn: &mut PgConnection, roles: &[&str]) -> sqlx::Result<Vec<uuid::Uuid>> {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    repo::role_holders(conn, &roles).await
}

/// For other domains: an active user's global roles (none for a user who is not active).
pub async fn active_roles_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<String>> {
    Ok(repo::user_by_id(conn, user)
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| u.roles)
        .unwrap_or_default())
}

/// For other domains: the user with this username (any status but deleted).
pub async fn user_id_by_username(conn: &mut PgConnection, username: &str) -> sqlx::Result<Option<uuid::Uuid>> {
    Ok(repo::user_by_login(conn, username).await?.filter(|u| u.username.eq_ignore_ascii_case(username)).map(|u| u.id.0))
}

/// For other domains: a user's username (any status but deleted).
pub async fn username_of(conn: &mut PgConnection, user: uuid::Uuid) -> sqlx::Result<Option<String>> {
    Ok(repo::user_by_id(conn, UserId(user)).await?.map(|u| u.username))
}

/// For other domains: an organization's slug.
pub async fn org_slug(conn: &mut PgConnection, org: uuid::Uuid) -> sqlx::Result<Option<String>> {
    crate::organizations::repo::slug_of(conn, org).await
}

/// For other domains: the organization with this slug.
pub async fn org_id_by_slug(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<uuid::Uuid>> {
    crate::organizations::repo::org_id_by_slug(conn, slug).await
}

/// For other domains: a user's role in an organization, if they are a member.
pub async fn org_role_of(conn: &mut PgConnection, org: uuid::Uuid, user: uuid::Uuid) -> sqlx::Result<Option<String>> {
    crate::organizations::repo::member_role(conn, crate::model::OrgId(org), UserId(user)).await
}

/// For other domains: whether `team` is one of the organization's teams.
pub async fn team_of_org(conn: &mut PgConnection, org: uuid::Uuid, team: uuid::Uuid) -> sqlx::Result<bool> {
    crate::organizations::repo::team_exists(conn, crate::model::OrgId(org), crate::model::TeamId(team)).await
}

/// For other domains: the owners of an organization, the people told about what concerns it as a whole.
pub async fn org_owners(conn: &mut PgConnection, org: uuid::Uuid) -> sqlx::Result<Vec<uuid::Uuid>> {
    crate::organizations::repo::owners(conn, org).await
}

/// For other domains: how to reach these users (email, names, status, notification preferences).
pub async fn recipients(conn: &mut PgConnection, ids: &[uuid::Uuid]) -> sqlx::Result<Vec<repo::Recipient>> {
    repo::recipients(conn, ids).await
}

/// For other domains: an active user's email address.
pub async fn active_user_email(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    Ok(repo::user_by_id(conn, user).await?.filter(|u| u.status == UserStatus::Active).map(|u| u.email))
}

/// For other domains: the active user with this email address, if any.
pub async fn active_user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserId>> {
    let found = repo::user_by_login(conn, email).await?;
    Ok(found.filter(|u| u.status == UserStatus::Active && u.email.eq_ignore_ascii_case(email)).map(|u| u.id))
}

/// For other domains: how a user is shown to others.
/// The display names of several users at once, by id (one statement).
pub async fn display_names(
    conn: &mut PgConnection,
    users: &[uuid::Uuid],
) -> sqlx::Result<std::collections::HashMap<uuid::Uuid, String>> {
    Ok(repo::display_names(conn, users).await?.into_iter().collect())
}

pub async fn display_name(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    Ok(repo::user_by_id(conn, user).await?.map(|u| u.display_name))
}
