//! Joining and getting back in: sign-up, the email link that verifies the address, and a forgotten
//! password, by identity's rules (the same checks, limits and mails as the API).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::AppContext;
use platform::http::ClientMeta;
use serde::Deserialize;

use super::{FieldErrors, Layout, page};
use crate::WebSettings;
use crate::session::{Form, Session};

/// A page that says one thing, with a link onwards.
#[derive(Template)]
#[template(path = "message.html")]
struct Message {
    layout: Layout,
    heading: String,
    text: String,
    link: Option<(String, String)>,
}

fn message(session: &Session, status: StatusCode, heading: &str, text: String, link: Option<(&str, &str)>) -> Response {
    let link = link.map(|(href, label)| (href.to_owned(), label.to_owned()));
    page(status, &Message { layout: Layout::new(heading, session), heading: heading.to_owned(), text, link })
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUp {
    layout: Layout,
    personas: &'static [&'static str],
    chosen: Vec<String>,
    email: String,
    username: String,
    display_name: String,
    errors: FieldErrors,
    error: Option<String>,
}

pub async fn signup_form(session: Session) -> Response {
    let view = SignUp {
        layout: Layout::new("Create an account", &session),
        personas: identity::authz::PERSONAS,
        chosen: Vec::new(),
        email: String::new(),
        username: String::new(),
        display_name: String::new(),
        errors: FieldErrors::default(),
        error: None,
    };
    page(StatusCode::OK, &view)
}

impl SignUp {
    /// Whether the form had this persona ticked.
    fn is_chosen(&self, persona: &str) -> bool {
        self.chosen.iter().any(|c| c == persona)
    }
}

#[derive(Deserialize)]
pub struct SignUpForm {
    email: String,
    username: String,
    display_name: String,
    password: String,
    /// The persona checkboxes, `persona_<name>=on`.
    #[serde(flatten)]
    others: std::collections::HashMap<String, String>,
}

pub async fn signup(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<SignUpForm>,
) -> Response {
    let chosen: Vec<String> = identity::authz::PERSONAS
        .iter()
        .filter(|p| form.others.contains_key(&format!("persona_{p}")))
        .map(|p| (*p).to_owned())
        .collect();
    let request = identity::accounts::dto::RegisterRequest {
        email: form.email.clone(),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password,
        personas: chosen.clone(),
    };
    match identity::accounts::service::register(&ctx, &settings.identity, request, &meta).await {
        Ok(user) => message(
            &session,
            StatusCode::CREATED,
            "Check your email",
            format!("We sent a link to {} to confirm your address. It is valid for a day.", user.email),
            Some(("/signin", "Sign in")),
        ),
        Err(err) if err.status().is_client_error() => {
            let errors = FieldErrors::from_error(&err);
            let error = errors.is_empty().then(|| err.detail().to_owned());
            let view = SignUp {
                layout: Layout::new("Create an account", &session),
                personas: identity::authz::PERSONAS,
                chosen,
                email: form.email,
                username: form.username,
                display_name: form.display_name,
                errors,
                error,
            };
            page(err.status(), &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct Verify {
    layout: Layout,
    token: String,
}

/// The link in the mail opens a page with one button: mail scanners that follow links verify nothing.
pub async fn verify_form(session: Session, Query(q): Query<TokenQuery>) -> Response {
    page(StatusCode::OK, &Verify { layout: Layout::new("Confirm your address", &session), token: q.token })
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
}

pub async fn verify(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<TokenForm>,
) -> Response {
    match identity::accounts::service::verify_email(&ctx, &form.token, &meta).await {
        Ok(user) => {
            let text = format!("{} is confirmed. Welcome to Backline.", user.email);
            let link = if session.principal.is_some() { ("/", "Continue") } else { ("/signin", "Sign in") };
            message(&session, StatusCode::OK, "Address confirmed", text, Some(link))
        }
        Err(err) if err.status().is_client_error() => message(
            &session,
            err.status(),
            "This link does not work",
            "It was used already, or it expired. Sign in and ask for a new one.".to_owned(),
            Some(("/signin", "Sign in")),
        ),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct Forgot {
    layout: Layout,
}

pub async fn forgot_form(session: Session) -> Response {
    page(StatusCode::OK, &Forgot { layout: Layout::new("Forgot your password", &session) })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<ForgotForm>,
) -> Response {
    match identity::accounts::service::forgot_password(&ctx, &settings.identity, &form.email, &meta).await {
        // The same answer whether or not the address has an account.
        Ok(()) => message(
            &session,
            StatusCode::OK,
            "Check your email",
            "If an account has this address, we sent it a link to choose a new password.".to_owned(),
            None,
        ),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Template)]
#[template(path = "reset.html")]
struct Reset {
    layout: Layout,
    token: String,
    errors: FieldErrors,
    error: Option<String>,
}

pub async fn reset_form(session: Session, Query(q): Query<TokenQuery>) -> Response {
    let view = Reset {
        layout: Layout::new("Choose a new password", &session),
        token: q.token,
        errors: FieldErrors::default(),
        error: None,
    };
    page(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
}

pub async fn reset(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<ResetForm>,
) -> Response {
    let request = identity::accounts::dto::ResetPasswordRequest { token: form.token.clone(), password: form.password };
    match identity::accounts::service::reset_password(&ctx, request, &meta).await {
        Ok(()) => message(
            &session,
            StatusCode::OK,
            "Password changed",
            "Your new password works now; every other session was signed out.".to_owned(),
            Some(("/signin", "Sign in")),
        ),
        Err(err) if err.status().is_client_error() => {
            let errors = FieldErrors::from_error(&err);
            let error = errors.is_empty().then(|| "This link was used already, or it expired.".to_owned());
            let view =
                Reset { layout: Layout::new("Choose a new password", &session), token: form.token, errors, error };
            page(err.status(), &view)
        }
        Err(err) => super::error(&session, &err),
    }
}
