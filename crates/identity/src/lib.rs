//! Identity: accounts, email verification, passwords, sessions and refresh-token rotation, API keys,
//! roles and permissions, audit rows and security events. Every other domain authenticates with
//! [`auth::AuthUser`] and authorizes with [`authz::authorize`].

pub mod auth;
pub mod authz;
mod common_passwords;
pub mod demo;
pub mod dto;
pub mod error;
mod http;
pub mod model;
pub mod password;
mod repo;
pub mod service;
pub mod settings;
pub mod tokens;

use std::sync::Arc;

use axum::Extension;
use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use settings::IdentitySettings;

/// Identity's routes.
pub fn router(settings: IdentitySettings) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(http::register))
        .routes(routes!(http::verify_email))
        .routes(routes!(http::login))
        .routes(routes!(http::refresh))
        .routes(routes!(http::logout))
        .routes(routes!(http::logout_all))
        .routes(routes!(http::forgot_password))
        .routes(routes!(http::reset_password))
        .routes(routes!(http::me, http::update_me, http::delete_me))
        .routes(routes!(http::change_password))
        .routes(routes!(http::sessions))
        .routes(routes!(http::end_session))
        .routes(routes!(http::create_api_key, http::api_keys))
        .routes(routes!(http::revoke_api_key))
        .layer(Extension(Arc::new(settings)))
}
