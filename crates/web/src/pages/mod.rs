//! The pages, one module per area of the app; templates are in `templates/`, one per page, all
//! extending `base.html`.

pub mod account;
pub mod admin;
pub mod artists;
pub mod auth;
pub mod bookings;
pub mod brand;
pub mod briefs;
pub mod catalog;
pub mod door;
pub mod editor;
pub mod events;
pub mod home;
pub mod keys;
pub mod manage;
pub mod notifications;
pub mod orders;
pub mod orgs;
pub mod payouts;
pub mod plans;
pub mod profile;
pub mod projects;
pub mod review;
pub mod rooms;
pub mod royalties;
pub mod sales;
pub mod styles;
pub mod support;
pub mod tasks;
pub mod tickets;
pub mod transfers;
pub mod wallet;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use platform::ApiError;

use crate::session::Session;

/// A form with nothing but its token.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NoFields {}

/// What every page's frame shows: the title, who is signed in, and the token its forms carry.
pub struct Layout {
    pub title: String,
    pub signed_in: bool,
    /// Whether the staff pages are offered (admins and staff).
    pub staff: bool,
    pub csrf: String,
    pub css: &'static str,
    pub htmx: &'static str,
    /// htmx's Server-Sent Events extension.
    pub sse: &'static str,
    pub js: &'static str,
    /// The time zone the page's times are shown in.
    pub zone: &'static str,
    /// What the previous action did, shown once as a toast.
    pub flash: Option<String>,
}

impl Layout {
    pub fn new(title: impl Into<String>, session: &Session) -> Self {
        Self {
            title: title.into(),
            signed_in: session.principal.is_some(),
            staff: session.principal.as_ref().is_some_and(|p| p.has_role("admin") || p.has_role("staff")),
            csrf: session.csrf.clone(),
            css: crate::assets::url("app.css"),
            htmx: crate::assets::url("htmx.min.js"),
            sse: crate::assets::url("htmx-sse.min.js"),
            js: crate::assets::url("app.js"),
            zone: crate::format::viewer().zone.name(),
            flash: session.flash.clone(),
        }
    }
}

/// The errors of a form's fields, shown beside each one.
#[derive(Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn from_error(err: &ApiError) -> Self {
        Self::from_pairs(err.field_errors().iter().map(|e| (e.field.clone(), e.message.clone())))
    }

    /// Errors as (field, message) pairs, for a form whose inputs are named apart from the API's fields.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// The message for `field` (or one of its items, `field[2]`), if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field || f.strip_prefix(field).is_some_and(|rest| rest.starts_with('[')))
            .map(|(_, m)| m.as_str())
    }

    /// The same errors named for one form of a page with several (`details.name`), so that each is
    /// shown beside the form that was sent.
    pub fn within(self, form: &str) -> Self {
        Self(self.0.into_iter().map(|(f, m)| (format!("{form}.{f}"), m)).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, message) pair.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// A payment form: from the wallet or by card, with a key drawn with the form so that the same form
/// sent twice pays once.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PayForm {
    /// `wallet` or `card`; anything else is `default`.
    pub source: String,
    pub card_number: String,
    pub key: String,
}

impl PayForm {
    /// `wallet` or `card`.
    pub fn source(&self, default: &'static str) -> &'static str {
        match self.source.as_str() {
            "wallet" => "wallet",
            "card" => "card",
            _ => default,
        }
    }

    /// The card number, for a card payment.
    pub fn card(&self, default: &'static str) -> Option<String> {
        (self.source(default) == "card").then(|| self.card_number.trim().to_owned())
    }

    /// The retry key of this form's payment of `what` (`checkout`, `booking`).
    pub fn retry_key(&self, what: &str) -> String {
        format!("web-{what}-{}", self.key.chars().filter(char::is_ascii_hexdigit).take(32).collect::<String>())
    }
}

/// Renders a page with `status`.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be shown.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    detail: String,
}

/// A domain's refusal as a page: the same status as the API's, with its message.
pub fn error(session: &Session, err: &ApiError) -> Response {
    let status = err.status();
    let (heading, detail) = match status {
        StatusCode::NOT_FOUND => {
            ("Not found".to_owned(), "There is nothing here, or it is not yours to see.".to_owned())
        }
        StatusCode::FORBIDDEN => ("Not allowed".to_owned(), err.detail().to_owned()),
        s if s.is_server_error() => ("Something went wrong".to_owned(), "Please try again in a moment.".to_owned()),
        _ => ("That did not work".to_owned(), err.detail().to_owned()),
    };
    page(status, &ErrorPage { layout: Layout::new(heading.clone(), session), heading, detail })
}

/// The answer to a form whose CSRF token did not match (it came from another site, or the page is old).
pub fn forbidden_form() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html("<!doctype html><title>Form expired</title><p>This form expired or came from another site. Go back, reload the page and try again.</p>"),
    )
        .into_response()
}

/// After an action: to `path`, with `message` shown there once as a toast.
pub fn done(path: &str, message: &str) -> Response {
    let mut response = Redirect::to(path).into_response();
    crate::session::flash(&mut response, message);
    response
}

/// Whether an error belongs beside the form that caused it (the sender's mistake) rather than on the
/// error page ("not found" is never shown beside a form: it would tell what exists).
pub fn beside_form(err: &ApiError) -> bool {
    err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND
}

/// A text area's lines, trimmed, blank ones dropped (sentences, which may hold commas).
pub fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// A list typed one item a line or separated by commas, trimmed, blank ones dropped.
pub fn items(text: &str) -> Vec<String> {
    text.lines().flat_map(|l| l.split(',')).map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Sends someone who is not signed in to the sign-in page, to come back to `here` afterwards.
pub fn to_signin(here: &str) -> Response {
    Redirect::to(&format!("/signin?next={}", urlencode(here))).into_response()
}

/// Where to go after signing in: a path of this site only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

pub fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).map(|s| s[1..].to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/events?q=jazz")), "/events?q=jazz");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(urlencode("/events?q=a b"), "%2Fevents%3Fq%3Da+b");
    }
}
