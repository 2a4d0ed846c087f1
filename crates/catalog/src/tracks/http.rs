//! The area's HTTP handlers.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{ReleaseTrack, Track, TrackOrder, TrackRequest};
use super::service;
use crate::model::{ReleaseId, TrackId};

/// Add a track to a release: a new recording, or (`track_id`) one the label has.
#[utoipa::path(post, path = "/v1/releases/{id}/tracks", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = TrackRequest,
    responses((status = 201, body = ReleaseTrack),
              (status = 409, description = "`not_editable`, `identifier_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_track(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<TrackRequest>,
) -> Result<(StatusCode, Json<ReleaseTrack>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::add(&ctx, &principal, id, req).await?)))
}

/// Put a release's tracks in a new order (every track once).
#[utoipa::path(put, path = "/v1/releases/{id}/tracks", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path)), request_body = TrackOrder,
    responses((status = 200, body = [ReleaseTrack]),
              (status = 409, description = "`not_editable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn order_tracks(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReleaseId>,
    Json(req): Json<TrackOrder>,
) -> Result<Json<Vec<ReleaseTrack>>, ApiError> {
    Ok(Json(service::reorder(&ctx, &principal, id, req).await?))
}

/// Take a track off a release (the label keeps the track).
#[utoipa::path(delete, path = "/v1/releases/{id}/tracks/{track_id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = ReleaseId, Path), ("track_id" = TrackId, Path)),
    responses((status = 204),
              (status = 409, description = "`not_editable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_track(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
) -> Result<StatusCode, ApiError> {
    service::remove(&ctx, &principal, id, track).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A track with its credits.
#[utoipa::path(get, path = "/v1/tracks/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = TrackId, Path)), responses((status = 200, body = Track)))]
pub async fn track(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TrackId>,
) -> Result<Json<Track>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change a track (while every release it is on may be edited).
#[utoipa::path(patch, path = "/v1/tracks/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = TrackId, Path)), request_body = TrackRequest,
    responses((status = 200, body = Track),
              (status = 409, description = "`track_in_use`, `identifier_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_track(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TrackId>,
    Json(req): Json<TrackRequest>,
) -> Result<Json<Track>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, req).await?))
}

/// Assign the track an ISRC from the label's registrant code now (one it has stays).
#[utoipa::path(post, path = "/v1/tracks/{id}/isrc", tag = "catalog", security(("bearer" = [])),
    params(("id" = TrackId, Path)),
    responses((status = 200, body = Track),
              (status = 409, description = "`no_registrant`, `codes_exhausted`, `track_in_use`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn assign_isrc(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TrackId>,
) -> Result<Json<Track>, ApiError> {
    Ok(Json(service::assign(&ctx, &principal, id).await?))
}

/// The file's name as the uploader had it (kept for reference).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub filename: Option<String>,
}

/// Upload the track's audio as the request body (a stereo WAV or FLAC of at least 44.1 kHz and 16 bit, up
/// to 2 GB; send it with a media type such as `audio/wav`, `audio/flac` or `application/octet-stream`).
/// The file is decoded to its end and measured (duration, EBU R128 loudness, true peak, clipping); a
/// refused file leaves nothing behind.
#[utoipa::path(put, path = "/v1/tracks/{id}/audio", tag = "catalog", security(("bearer" = [])),
    params(("id" = TrackId, Path), UploadQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The WAV or FLAC file"),
    responses((status = 200, body = Track),
              (status = 409, description = "`track_in_use`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 413, description = "`payload_too_large`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed` (field audio: unsupported_format, corrupt_file, not_stereo, sample_rate_too_low, bit_depth_too_low)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads by this account or from this address this hour; see Retry-After", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_audio(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TrackId>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Json<Track>, ApiError> {
    Ok(Json(service::upload_audio(&ctx, &principal, id, body, query.filename).await?))
}

/// The track's audio file.
#[utoipa::path(get, path = "/v1/tracks/{id}/audio", tag = "catalog", security(("bearer" = [])),
    params(("id" = TrackId, Path)),
    responses((status = 200, body = String, content_type = "audio/wav", description = "The WAV or FLAC file"),
              (status = 206, description = "The one byte range a Range header (bytes=first-last) asked for, with Content-Range"),
              (status = 416, description = "No byte of the file satisfies the Range header (Content-Range: bytes */size)")))]
pub async fn download_audio(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<TrackId>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download_audio(&ctx, &principal, id, headers.get(axum::http::header::RANGE)).await
}
