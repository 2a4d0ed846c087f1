//! API keys: a user's keys for scripts and integrations, created with the permissions they may use
//! (the secret is shown once) and revoked at any time.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use identity::accounts::dto::CreateApiKeyRequest;
use identity::model::ApiKeyId;
use platform::AppContext;
use platform::http::ClientMeta;
use serde::Deserialize;

use super::{FieldErrors, Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// A key as the list shows it.
pub struct KeyLine {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct Keys {
    layout: Layout,
    keys: Vec<KeyLine>,
    /// The secret of the key just created: shown this once.
    created: Option<String>,
    errors: FieldErrors,
}

async fn keys_page(
    ctx: &AppContext,
    session: &Session,
    created: Option<String>,
    errors: FieldErrors,
) -> Result<Keys, platform::ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| platform::ApiError::not_found("Sign in first."))?;
    let list = identity::accounts::service::api_keys(ctx, principal).await?;
    Ok(Keys {
        layout: Layout::new("API keys", session),
        keys: list
            .items
            .into_iter()
            .map(|k| KeyLine {
                id: k.id.to_string(),
                name: k.name,
                prefix: k.prefix,
                scopes: k.scopes.join(", "),
                created: format::when(k.created_at),
                last_used: k.last_used_at.map_or_else(|| "never".to_owned(), format::when),
            })
            .collect(),
        created,
        errors,
    })
}

pub async fn list(State(ctx): State<AppContext>, session: Session) -> Response {
    if session.principal.is_none() {
        return to_signin("/me/keys");
    }
    match keys_page(&ctx, &session, None, FieldErrors::default()).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    name: String,
    /// Permissions separated by commas or spaces.
    scopes: String,
}

pub async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<NewKeyForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/keys") };
    let scopes = form.scopes.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let request = CreateApiKeyRequest { name: form.name, scopes, expires_at: None };
    let (status, created, errors) =
        match identity::accounts::service::create_api_key(&ctx, principal, request, &meta).await {
            Ok(key) => (StatusCode::CREATED, Some(key.key), FieldErrors::default()),
            Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                (err.status(), None, FieldErrors::from_error(&err))
            }
            Err(err) => return super::error(&session, &err),
        };
    match keys_page(&ctx, &session, created, errors).await {
        // The secret is in this page only: never cached.
        Ok(view) => {
            let mut response = page(status, &view);
            response
                .headers_mut()
                .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {}

pub async fn revoke(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path(id): Path<ApiKeyId>,
    Form(_): Form<RevokeForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/keys") };
    match identity::accounts::service::revoke_api_key(&ctx, principal, id, &meta).await {
        Ok(()) => Redirect::to("/me/keys").into_response(),
        Err(err) => super::error(&session, &err),
    }
}
