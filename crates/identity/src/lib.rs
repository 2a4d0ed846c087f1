//! Identity: accounts, email verification, passwords, sessions and refresh-token rotation, API keys,
//! roles and permissions, audit rows and security events. Every other domain authenticates with
//! [`auth::AuthUser`] and authorizes with [`authz::authorize`].

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod authz;
mod common_passwords;
pub mod demo;
pub mod error;
pub mod model;
pub mod organizations;
pub mod party;
pub mod password;
pub mod selfcheck;
pub mod settings;
pub mod tokens;

/// What other domains ask of identity about users and organizations.
pub mod service {
    pub use crate::accounts::service::{
        active_roles_of, active_user_by_email, active_user_email, create_verified_user, display_name, display_names,
        is_active_user, org_id_by_slug, org_owners, org_role_of, org_slug, recipients, role_holders, team_of_org,
        user_id_by_username, username_of,
    };
    pub use crate::organizations::service as organizations;
    /// The active admins' ids: whom to tell when something waits for staff.
    pub use crate::selfcheck::repo::admin_ids;
}

use std::sync::Arc;

use axum::Extension;
use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::http;
use crate::admin::http as admin_http;
use crate::organizations::http as orgs;

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
        .routes(routes!(orgs::create, orgs::mine))
        .routes(routes!(orgs::get, orgs::update))
        .routes(routes!(orgs::members))
        .routes(routes!(orgs::change_role, orgs::remove_member))
        .routes(routes!(orgs::invite, orgs::invitations))
        .routes(routes!(orgs::revoke_invitation))
        .routes(routes!(orgs::accept_invitation))
        .routes(routes!(orgs::decline_invitation))
        .routes(routes!(orgs::create_team, orgs::teams))
        .routes(routes!(orgs::delete_team))
        .routes(routes!(orgs::team_members))
        .routes(routes!(orgs::add_team_member, orgs::remove_team_member))
        .routes(routes!(admin_http::org_audit))
        .routes(routes!(admin_http::users))
        .routes(routes!(admin_http::user))
        .routes(routes!(admin_http::suspend))
        .routes(routes!(admin_http::reactivate))
        .routes(routes!(admin_http::approve))
        .routes(routes!(admin_http::set_roles))
        .routes(routes!(admin_http::security_events))
        .routes(routes!(selfcheck::http::run, selfcheck::http::runs))
        .routes(routes!(admin_http::audit))
        .routes(routes!(admin_http::permissions))
        .routes(routes!(admin_http::templates, admin_http::create_template))
        .routes(routes!(admin_http::update_template, admin_http::delete_template))
        .layer(Extension(Arc::new(settings)))
}

/// Forgets what identity keeps only for a while (failed logins, counted over minutes), every hour.
pub const CLEANUP: platform::jobs::JobKind = platform::jobs::JobKind::new("identity.cleanup").max_attempts(3);

/// Registers identity's jobs and schedules.
pub fn register(registry: &mut platform::jobs::Registry) {
    selfcheck::service::register(registry);
    registry.register(CLEANUP, |ctx: AppContext, _job: platform::jobs::Job| async move {
        let mut conn = ctx.db.acquire().await?;
        let login_failures = accounts::repo::forget_login_failures(&mut conn, ctx.clock.now()).await?;
        tracing::info!(login_failures, "identity cleanup");
        Ok(())
    });
    if let Err(err) = registry.schedule("identity.cleanup", "23 * * * *", CLEANUP, serde_json::json!({})) {
        tracing::error!(%err, "the identity cleanup schedule is invalid");
    }
}
