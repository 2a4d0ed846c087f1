//! HTTP handlers of the notification center, its stream and its templates.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, NotificationTemplate};
use super::service;
use super::stream::{self, Hub};
use crate::error::NotifyCode;

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
