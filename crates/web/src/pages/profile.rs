//! The signed-in user's account: their name, time zone and language, and the sessions signed in as
//! them (any of which they may end).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use identity::accounts::dto::UpdateMeRequest;
use identity::model::SessionId;
use platform::AppContext;
use platform::http::ClientMeta;
use serde::Deserialize;

use super::{FieldErrors, Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// A session as the list shows it.
pub struct SessionLine {
    pub id: String,
    pub device: String,
    pub since: String,
    pub last_used: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct Profile {
    layout: Layout,
    username: String,
    email: String,
    display_name: String,
    timezone: String,
    locale: String,
    sessions: Vec<SessionLine>,
    errors: FieldErrors,
    saved: bool,
}

impl Profile {
    /// Every time zone the database knows, offered as the field is typed.
    fn zones(&self) -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())
    }
}

async fn profile_page(
    ctx: &AppContext,
    session: &Session,
    errors: FieldErrors,
    saved: bool,
) -> Result<Profile, platform::ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| platform::ApiError::not_found("Sign in first."))?;
    let me = identity::accounts::service::me(ctx, principal).await?;
    let sessions = identity::accounts::service::sessions(ctx, principal).await?;
    Ok(Profile {
        layout: Layout::new("Your account", session),
        username: me.username,
        email: me.email,
        display_name: me.display_name,
        timezone: me.timezone,
        locale: me.locale,
        sessions: sessions
            .items
            .into_iter()
            .map(|s| SessionLine {
                id: s.id.to_string(),
                device: s.user_agent.unwrap_or_else(|| "an unknown device".into()).chars().take(80).collect(),
                since: format::when(s.created_at),
                last_used: format::when(s.last_used_at),
                current: s.current,
            })
            .collect(),
        errors,
        saved,
    })
}

pub async fn show(State(ctx): State<AppContext>, session: Session) -> Response {
    if session.principal.is_none() {
        return to_signin("/me/account");
    }
    match profile_page(&ctx, &session, FieldErrors::default(), false).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct ProfileForm {
    display_name: String,
    timezone: String,
    locale: String,
}

pub async fn save(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<ProfileForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/account") };
    let request = UpdateMeRequest {
        display_name: Some(form.display_name),
        avatar_url: None,
        timezone: Some(form.timezone.trim().to_owned()),
        locale: Some(form.locale.trim().to_owned()),
        notification_preferences: None,
    };
    let (status, errors, saved) = match identity::accounts::service::update_me(&ctx, principal, request, &meta).await {
        Ok(_) => (StatusCode::OK, FieldErrors::default(), true),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            (err.status(), FieldErrors::from_error(&err), false)
        }
        Err(err) => return super::error(&session, &err),
    };
    match profile_page(&ctx, &session, errors, saved).await {
        Ok(view) => page(status, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct EndForm {}

/// Ends one of the user's sessions (the device signed in there is signed out).
pub async fn end_session(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<SessionId>,
    Form(_): Form<EndForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/account") };
    match identity::accounts::service::end_session(&ctx, principal, id).await {
        Ok(()) => Redirect::to("/me/account").into_response(),
        Err(err) => super::error(&session, &err),
    }
}
