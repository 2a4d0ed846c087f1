//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{ContractView, EditRequest, ReviewRequest, SignRequest};
use super::service;
use crate::model::BookingId;

/// The booking's current contract: its document, canonical text, SHA-256, and every signature.
#[utoipa::path(get, path = "/v1/bookings/{id}/contract", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = ContractView)))]
pub async fn contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<ContractView>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// The current contract as a PDF (text extractable, showing its SHA-256).
#[utoipa::path(get, path = "/v1/bookings/{id}/contract.pdf", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)),
    responses((status = 200, description = "The contract", content_type = "application/pdf", body = Vec<u8>)))]
pub async fn contract_pdf(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let bytes = service::pdf(&ctx, &principal, id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Sign the current version (the organizer first, then the artist), naming its SHA-256.
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/sign", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = SignRequest,
    responses((status = 200, body = ContractView),
              (status = 409, description = "`contract_changed`, `organizer_signs_first`, `already_signed`, `double_booking`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn sign(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<crate::BookingSettings>>,
    AuthUser(principal): AuthUser,
    meta: platform::http::ClientMeta,
    Path(id): Path<BookingId>,
    Json(req): Json<SignRequest>,
) -> Result<Json<ContractView>, ApiError> {
    Ok(Json(service::sign(&ctx, &settings, &principal, &meta, id, req).await?))
}

/// Request the one edit your side has: a clause added in a new version that both sign again.
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/edits", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = EditRequest,
    responses((status = 201, body = ContractView),
              (status = 409, description = "`edit_used`, `contract_signed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn edit_contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<EditRequest>,
) -> Result<(StatusCode, Json<ContractView>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::request_edit(&ctx, &principal, id, req).await?)))
}

/// Approve (→ confirmed) or reject (→ cancelled) a contract both sides signed (admins).
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/review", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = ReviewRequest,
    responses((status = 200, body = ContractView),
              (status = 409, description = "`not_signed`, `double_booking`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn review_contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<ReviewRequest>,
) -> Result<Json<ContractView>, ApiError> {
    Ok(Json(service::review(&ctx, &principal, id, req).await?))
}
