//! HTTP handlers of an organization's webhook endpoints.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::http::ClientMeta;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, DeliveryList, Endpoint, EndpointList, EndpointRequest, EndpointUpdate, EndpointWithSecret};
use super::service;

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
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, org, req, &meta).await?)))
}

/// An organization's webhook endpoints.
#[utoipa::path(get, path = "/v1/orgs/{id}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = EndpointList)))]
pub async fn webhooks(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(org): Path<Uuid>,
) -> Result<Json<EndpointList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, org).await?))
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
    Ok(Json(service::update(&ctx, &principal, org, id, req, &meta).await?))
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
    service::delete(&ctx, &principal, org, id, &meta).await?;
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
    Ok(Json(service::rotate_secret(&ctx, &principal, org, id, &meta).await?))
}

/// An endpoint's latest deliveries, with status and response time.
#[utoipa::path(get, path = "/v1/orgs/{id}/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 200, body = DeliveryList)))]
pub async fn deliveries(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<DeliveryList>, ApiError> {
    Ok(Json(service::deliveries(&ctx, &principal, org, id).await?))
}

/// Send a `webhook.test` event to an endpoint; answers the event id.
#[utoipa::path(post, path = "/v1/orgs/{id}/webhooks/{webhook_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("webhook_id" = Uuid, Path)), responses((status = 202, body = dto::Queued)))]
pub async fn test_webhook(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<(StatusCode, Json<dto::Queued>), ApiError> {
    let event_id = service::send_test(&ctx, &principal, org, id).await?;
    Ok((StatusCode::ACCEPTED, Json(dto::Queued { event_id })))
}
