//! Notify: turns domain events into in-app notifications, emails and signed webhook deliveries, streams
//! notifications to clients as they happen, and lets admins look after the job queue and templates.
//!
//! Areas, each with `http.rs` (handlers), `dto.rs` (request and response bodies), `service.rs` (rules,
//! permissions, transactions) and `repo.rs` (its SQL): `notifications` (the notification center, its
//! stream and templates), `webhooks` (endpoints and deliveries), `jobs` (the job queue's administration,
//! whose SQL is the platform's).

pub mod error;
pub mod jobs;
pub mod notifications;
pub mod webhooks;

pub use notifications::stream;

use std::sync::Arc;

use axum::Extension;
use platform::AppContext;
use platform::jobs::{Job, Registry};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Notify's routes; `hub` is the process's stream hub.
pub fn router(hub: Arc<stream::Hub>) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(notifications::http::notifications))
        .routes(routes!(notifications::http::unread_count))
        .routes(routes!(notifications::http::mark_read))
        .routes(routes!(notifications::http::mark_all_read))
        .routes(routes!(notifications::http::stream))
        .routes(routes!(notifications::http::notification_templates))
        .routes(routes!(notifications::http::save_notification_template))
        .routes(routes!(jobs::http::job_stats))
        .routes(routes!(jobs::http::jobs))
        .routes(routes!(jobs::http::job))
        .routes(routes!(jobs::http::retry_job))
        .routes(routes!(webhooks::http::create_webhook, webhooks::http::webhooks))
        .routes(routes!(webhooks::http::update_webhook, webhooks::http::delete_webhook))
        .routes(routes!(webhooks::http::rotate_secret))
        .routes(routes!(webhooks::http::deliveries))
        .routes(routes!(webhooks::http::test_webhook))
        .layer(Extension(hub))
}

/// Registers notify's jobs: event dispatch and webhook delivery.
pub fn register(registry: &mut Registry, webhooks: webhooks::DeliveryPolicy) {
    registry.register(platform::events::DISPATCH, |ctx: AppContext, job: Job| async move {
        let event_id = job.field("event_id")?;
        notifications::service::dispatch(&ctx, event_id).await
    });
    webhooks::service::register(registry, webhooks);
}
