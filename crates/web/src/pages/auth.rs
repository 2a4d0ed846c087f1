//! Signing in and out, by the API's rules (rate limits, lockout, suspended accounts).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use platform::AppContext;
use platform::http::ClientMeta;
use serde::Deserialize;

use super::{Layout, page, safe_next};
use crate::WebSettings;
use crate::session::{self, Form, Session};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignIn {
    layout: Layout,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn signin_form(session: Session, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    if session.principal.is_some() {
        return Redirect::to(&next).into_response();
    }
    page(StatusCode::OK, &SignIn { layout: Layout::new("Sign in", &session), next, login: String::new(), error: None })
}

#[derive(Deserialize)]
pub struct SignInForm {
    login: String,
    password: String,
    next: Option<String>,
}

pub async fn signin(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let meta = ClientMeta {
        ip: None,
        user_agent: headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    let request = identity::accounts::dto::LoginRequest { login: form.login.clone(), password: form.password };
    match identity::accounts::service::login(&ctx, &settings.identity, request, &meta).await {
        Ok(pair) => {
            let mut response = Redirect::to(&next).into_response();
            session::signed_in(&mut response, &ctx, &pair);
            response
        }
        Err(err) => {
            let status = err.status();
            let message = match err.code() {
                "invalid_credentials" => "The username or password is not right.".to_owned(),
                _ => err.detail().to_owned(),
            };
            let form =
                SignIn { layout: Layout::new("Sign in", &session), next, login: form.login, error: Some(message) };
            page(if status.is_server_error() { status } else { StatusCode::UNPROCESSABLE_ENTITY }, &form)
        }
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {}

pub async fn signout(State(ctx): State<AppContext>, session: Session, Form(_): Form<SignOutForm>) -> Response {
    if let Some(principal) = &session.principal {
        let _ = identity::accounts::service::logout(&ctx, principal).await;
    }
    let mut response = Redirect::to("/").into_response();
    session::signed_out(&mut response);
    response
}
