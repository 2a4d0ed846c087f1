//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::{Agenda, FeedUrl};
use super::repo::ProfileKind;
use super::service;
use crate::model::{ArtistId, VenueId};

/// Create or rotate the artist's secret calendar feed URL (the old one stops working).
#[utoipa::path(post, path = "/v1/artists/{id}/calendar-url", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 201, body = FeedUrl)))]
pub async fn artist_calendar(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<(StatusCode, Json<FeedUrl>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::rotate(&ctx, &principal, ProfileKind::Artist, id.0).await?)))
}

/// The artist's calendar, for those who keep the profile: agreed bookings and active holds.
#[utoipa::path(get, path = "/v1/artists/{id}/agenda", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 200, body = Agenda),
    (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn artist_agenda(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<Json<Agenda>, ApiError> {
    Ok(Json(service::agenda(&ctx, &principal, ProfileKind::Artist, id.0).await?))
}

/// The venue's calendar, for those who keep the profile: its agreed bookings.
#[utoipa::path(get, path = "/v1/venues/{id}/agenda", tag = "booking", security(("bearer" = [])),
    params(("id" = VenueId, Path)), responses((status = 200, body = Agenda),
    (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn venue_agenda(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<VenueId>,
) -> Result<Json<Agenda>, ApiError> {
    Ok(Json(service::agenda(&ctx, &principal, ProfileKind::Venue, id.0).await?))
}

/// Create or rotate the venue's secret calendar feed URL.
#[utoipa::path(post, path = "/v1/venues/{id}/calendar-url", tag = "booking", security(("bearer" = [])),
    params(("id" = VenueId, Path)), responses((status = 201, body = FeedUrl)))]
pub async fn venue_calendar(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<VenueId>,
) -> Result<(StatusCode, Json<FeedUrl>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::rotate(&ctx, &principal, ProfileKind::Venue, id.0).await?)))
}

/// An iCalendar (RFC 5545) feed at its secret URL: the artist's or venue's bookings.
#[utoipa::path(get, path = "/v1/calendars/{token}", tag = "booking", params(("token" = String, Path, description = "The secret token, with .ics")),
    responses((status = 200, description = "The feed", content_type = "text/calendar", body = String),
              (status = 404, description = "Unknown or rotated", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn calendar_feed(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let feed = service::feed(&ctx, &token).await?.ok_or_else(|| ApiError::not_found("No such calendar."))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
        ],
        feed,
    )
        .into_response())
}
