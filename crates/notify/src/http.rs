//! Notify's HTTP handlers.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};
use std::sync::Arc;
use uuid::Uuid;

use crate::dto;
use crate::error::NotifyCode;
use crate::repo::NotificationTemplate;
use crate::service;
use crate::stream::{self, Hub};
use crate::webhooks::{
    self, DeliveryList, Endpoint, EndpointList, EndpointRequest, EndpointUpdate, EndpointWithSecret,
};

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/v1/me/notifications", tag = "notifications", security(("bearer" = [])), params(dto::NotificationQuery),
    responses((status = 200, body = dto::NotificationList)))]
pub async fn notifications(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::NotificationQuery>,
) -> Result<Json<dto::NotificationList>, ApiError> {
    Ok(Json(service::notifications(&ctx, &principal, q).await?))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/v1/me/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = dto::UnreadCount)))]
pub async fn unread_count(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::UnreadCount>, ApiError> {
    Ok(Json(service::unread_count(&ctx, &principal).await?))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/v1/me/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 204, description = "Marked read")))]
pub async fn mark_read(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    service::mark_read(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notification read.
#[utoipa::path(post, path = "/v1/me/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = dto::Updated)))]
pub async fn mark_all_read(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::Updated>, ApiError> {
    Ok(Json(service::mark_all_read(&ctx, &principal).await?))
}

/// Server-Sent Events: the caller's notifications as they happen (`event: notification`, `id:` the
/// notification id). Send `Last-Event-ID` when reconnecting to receive what was missed.
#[utoipa::path(get, path = "/v1/me/stream", tag = "notifications", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
              (status = 400, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn stream(
    State(ctx): State<AppContext>,
    Extension(hub): Extension<Arc<Hub>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    identity::authz::authorize(&principal, "notifications.read", identity::authz::Target::OwnedBy(principal.user_id))?;
    let last = match headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    {
        Some(text) => Some(text.parse::<Uuid>().map_err(|_| {
            ApiError::new(NotifyCode::InvalidLastEventId, "Last-Event-ID is not an event id this stream sent.")
        })?),
        None => None,
    };
    let sse = stream::stream(&hub, ctx.db.clone(), principal.user_id.0, last).await?;
    Ok(axum::response::IntoResponse::into_response(sse))
}

/// Notification templates (admin).
#[utoipa::path(get, path = "/v1/admin/notification-templates", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = dto::NotificationTemplateList)))]
pub async fn notification_templates(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::NotificationTemplateList>, ApiError> {
    Ok(Json(service::templates(&ctx, &principal).await?))
}

/// Create or change the template of an event kind (admin). Variables are `{{name}}`.
#[utoipa::path(put, path = "/v1/admin/notification-templates/{kind}", tag = "admin", security(("bearer" = [])),
    params(("kind" = String, Path)), request_body = dto::NotificationTemplateRequest, responses((status = 200, body = NotificationTemplate)))]
pub async fn save_notification_template(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(kind): Path<String>,
    Json(req): Json<dto::NotificationTemplateRequest>,
) -> Result<Json<NotificationTemplate>, ApiError> {
    Ok(Json(service::save_template(&ctx, &principal, &kind, req, &meta).await?))
}

/// Counts of jobs by kind and state (admin).
#[utoipa::path(get, path = "/v1/admin/jobs/stats", tag = "admin", security(("bearer" = [])), responses((status = 200, body = dto::JobStats)))]
pub async fn job_stats(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::JobStats>, ApiError> {
    Ok(Json(service::job_stats(&ctx, &principal).await?))
}

/// Jobs, newest first, by state and kind (admin): `?state=dead` lists the dead ones.
#[utoipa::path(get, path = "/v1/admin/jobs", tag = "admin", security(("bearer" = [])), params(dto::JobQuery),
    responses((status = 200, body = dto::JobList)))]
pub async fn jobs(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<dto::JobQuery>,
) -> Result<Json<dto::JobList>, ApiError> {
    Ok(Json(service::jobs(&ctx, &principal, q).await?))
}

/// One job, with its last error (admin).
#[utoipa::path(get, path = "/v1/admin/jobs/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = platform::jobs::admin::JobRecord)))]
pub async fn job(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<platform::jobs::admin::JobRecord>, ApiError> {
    Ok(Json(service::job(&ctx, &principal, id).await?))
}

/// Put a dead job back in the queue with a fresh set of attempts (admin).
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = platform::jobs::admin::JobRecord),
              (status = 409, description = "`job_not_dead`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn retry_job(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(id): Path<Uuid>,
) -> Result<Json<platform::jobs::admin::JobRecord>, ApiError> {
    Ok(Json(service::retry_job(&ctx, &principal, id, &meta).await?))
}

/// Register a webhook endpoint (organization owners and admins). The signing secret is shown once.
#[utoipa::path(post, path = "/v1/orgs/{id}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = EndpointRequest, responses((status = 201, body = EndpointWithSecret)))]
pub async fn create_webhook(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path(org): Path<Uuid>,
    Json(req): Json<EndpointRequest>,
) -> Result<(StatusCode, Json<EndpointWithSecret>), ApiError> {
    Ok((StatusCode::CREATED, Json(webhooks::create(&ctx, &principal, org, req, &meta).await?)))
}

/// An organization's webhook endpoints.
#[utoipa::path(get, path = "/v1/orgs/{id}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = EndpointList)))]
pub async fn webhooks(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(org): Path<Uuid>,
) -> Result<Json<EndpointList>, ApiError> {
    Ok(Json(webhooks::list(&ctx, &principal, org).await?))
}

/// Change an endpoint's URL, event kinds, or enable it again after it was disabled.
#[utoipa::path(patch, path = "/v1/orgs/{id}/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), request_body = EndpointUpdate, responses((status = 200, body = Endpoint)))]
pub async fn update_webhook(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((org, id)): Path<(Uuid, Uuid)>,
    Json(req): Json<EndpointUpdate>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(webhooks::update(&ctx, &principal, org, id, req, &meta).await?))
}

/// Delete an endpoint and its delivery log.
#[utoipa::path(delete, path = "/v1/orgs/{id}/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 204, description = "Deleted")))]
pub async fn delete_webhook(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&ctx, &principal, org, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a secret rotation: the new secret is shown once; the old one keeps signing for 24 hours.
#[utoipa::path(post, path = "/v1/orgs/{id}/webhooks/{webhook_id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 200, body = EndpointWithSecret)))]
pub async fn rotate_secret(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<EndpointWithSecret>, ApiError> {
    Ok(Json(webhooks::rotate_secret(&ctx, &principal, org, id, &meta).await?))
}

/// An endpoint's latest deliveries, with status and response time.
#[utoipa::path(get, path = "/v1/orgs/{id}/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 200, body = DeliveryList)))]
pub async fn deliveries(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(webhooks::deliveries(&ctx, &principal, org, id).await?))
}

/// Send a `webhook.test` event to an endpoint; answers the event id.
#[utoipa::path(post, path = "/v1/orgs/{id}/webhooks/{webhook_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 202, body = dto::Queued)))]
pub async fn test_webhook(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<(StatusCode, Json<dto::Queued>), ApiError> {
    let event_id = webhooks::send_test(&ctx, &principal, org, id).await?;
    Ok((StatusCode::ACCEPTED, Json(dto::Queued { event_id })))
}
