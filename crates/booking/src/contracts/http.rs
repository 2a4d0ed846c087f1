//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{AnnexName, ContractView, EditRequest, ReviewRequest, SignRequest};
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

/// Annex a file to the contract as the raw request body (a stage plot, a technical rider; at most 10
/// files of 100 MB; its media type from `Content-Type`): a new version names it with its SHA-256, and
/// both sides sign that version again. The organizer's and the artist's sides annex while the contract
/// is being signed.
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/annexes", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path), AnnexName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = ContractView),
              (status = 403, description = "`not_a_party`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`not_contracting`, `contract_signed`, `annex_exists`, `too_many_annexes`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 413, description = "`payload_too_large`: over 100 MB", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed` (field name)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn annex_contract_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    axum::extract::Query(query): axum::extract::Query<AnnexName>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<ContractView>), ApiError> {
    let media_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Ok((StatusCode::CREATED, Json(service::annex(&ctx, &principal, id, &query.name, media_type, body).await?)))
}

/// One of the contract's annexes by its number (from 1), whole or the byte range asked for.
#[utoipa::path(get, path = "/v1/bookings/{id}/contract/annexes/{number}", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path), ("number" = i32, Path)),
    responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
              (status = 206, description = "The byte range asked for"),
              (status = 404, description = "no such booking, or not yours; or no such annex", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn contract_annex(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, number)): Path<(BookingId, i32)>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::annex_file(&ctx, &principal, id, number, headers.get(axum::http::header::RANGE)).await
}
