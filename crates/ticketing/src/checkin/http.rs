//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::{AuthUser, MaybeAuthUser};
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{dto, service};
use crate::model::EventId;

/// The event's public Ed25519 key, to verify ticket payloads offline.
#[utoipa::path(get, path = "/v1/events/{id}/checkin-key", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::CheckinKey)))]
pub async fn checkin_key(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::CheckinKey>, ApiError> {
    Ok(Json(service::checkin_key(&ctx, principal.as_ref(), id).await?))
}

/// Scan a ticket at the door: a code typed in or a QR payload. Always answers the outcome; only
/// `checked_in` lets the holder in.
#[utoipa::path(post, path = "/v1/checkin/scan", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::Scan, responses((status = 200, body = dto::ScanResult),
    (status = 404, description = "No such event, or the caller does not work its door", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn scan(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::Scan>,
) -> Result<Json<dto::ScanResult>, ApiError> {
    Ok(Json(service::scan(&ctx, &principal, req).await?))
}

/// Upload scans made offline; for each ticket the first scan wins. One result per scan, in order.
#[utoipa::path(post, path = "/v1/events/{id}/checkin/batch", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::ScanBatch, responses((status = 200, body = dto::BatchResult)))]
pub async fn scan_batch(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::ScanBatch>,
) -> Result<Json<dto::BatchResult>, ApiError> {
    Ok(Json(service::batch(&ctx, &principal, id, req.scans).await?))
}

/// Tickets sold and checked in, per tier (door staff and organizers).
#[utoipa::path(get, path = "/v1/events/{id}/attendance", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 200, body = dto::Attendance)))]
pub async fn attendance(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Attendance>, ApiError> {
    Ok(Json(service::attendance(&ctx, &principal, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRequest {
    pub user_id: uuid::Uuid,
}

/// Let a user scan tickets at this event's door.
#[utoipa::path(post, path = "/v1/events/{id}/staff", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = StaffRequest, responses((status = 204, description = "Added")))]
pub async fn add_staff(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<StaffRequest>,
) -> Result<StatusCode, ApiError> {
    service::add_staff(&ctx, &principal, id, req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
