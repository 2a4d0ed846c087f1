//! Notify: turns domain events into in-app notifications, emails and signed webhook deliveries, streams
//! notifications to clients as they happen, and lets admins look after the job queue and templates.

mod dto;
pub mod error;
mod http;
pub mod repo;
pub mod service;
pub mod stream;
pub mod template;
pub mod webhooks;

use std::sync::Arc;

use axum::Extension;
use platform::AppContext;
use platform::jobs::{Job, Registry};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Notify's routes; `hub` is the process's stream hub.
pub fn router(hub: Arc<stream::Hub>) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(http::notifications))
        .routes(routes!(http::unread_count))
        .routes(routes!(http::mark_read))
        .routes(routes!(http::mark_all_read))
        .routes(routes!(http::stream))
        .routes(routes!(http::notification_templates))
        .routes(routes!(http::save_notification_template))
        .routes(routes!(http::job_stats))
        .routes(routes!(http::jobs))
        .routes(routes!(http::job))
        .routes(routes!(http::retry_job))
        .routes(routes!(http::create_webhook, http::webhooks))
        .routes(routes!(http::update_webhook, http::delete_webhook))
        .routes(routes!(http::rotate_secret))
        .routes(routes!(http::deliveries))
        .routes(routes!(http::test_webhook))
        .layer(Extension(hub))
}

/// Registers notify's jobs: event dispatch and webhook delivery.
pub fn register(registry: &mut Registry, webhooks: webhooks::DeliveryPolicy) {
    registry.register(platform::events::DISPATCH, |ctx: AppContext, job: Job| async move {
        let event_id = job.field("event_id")?;
        service::dispatch(&ctx, event_id).await
    });
    webhooks::register(registry, webhooks);
}
