//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::{AuthUser, MaybeAuthUser};
use platform::error::ProblemBody;
use platform::pagination::Page;
use platform::{ApiError, AppContext, Json};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{dto, service};
use crate::model::EventId;

/// Create an event (a draft), organized by the caller or by one of their organizations.
#[utoipa::path(post, path = "/v1/events", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewEvent, responses((status = 201, body = dto::Event),
    (status = 404, description = "The organization does not exist or the caller is not in it", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewEvent>,
) -> Result<(StatusCode, Json<dto::Event>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, req).await?)))
}

/// Search published events: full text (ranked), category, tag, dates, city. Cursor-paged.
#[utoipa::path(get, path = "/v1/events", tag = "ticketing", params(dto::EventSearch),
    responses((status = 200, body = Page<dto::EventSummary>)))]
pub async fn search_events(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::EventSearch>,
) -> Result<Json<Page<dto::EventSummary>>, ApiError> {
    Ok(Json(service::search(&ctx, q).await?))
}

/// An event. Drafts are visible to their organizer only.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = dto::Event), (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn event(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(service::get(&ctx, principal.as_ref(), id).await?))
}

/// Change an event (its organizer).
#[utoipa::path(patch, path = "/v1/events/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::EventPatch, responses((status = 200, body = dto::Event)))]
pub async fn update_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::EventPatch>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, req).await?))
}

/// Delete an event that has no tickets sold or reserved (a soft delete).
#[utoipa::path(delete, path = "/v1/events/{id}", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), responses((status = 204, description = "Deleted"),
    (status = 409, description = "`event_has_tickets`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_event(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move an event through its lifecycle (see docs/ticketing.md for who may make which transition).
#[utoipa::path(post, path = "/v1/events/{id}/status", tag = "ticketing", security(("bearer" = [])),
    params(("id" = EventId, Path)), request_body = dto::StatusChange,
    responses((status = 200, body = dto::Event),
              (status = 409, description = "`invalid_transition`, `event_not_over`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 403, description = "`transition_not_permitted`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_status(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EventId>,
    Json(req): Json<dto::StatusChange>,
) -> Result<Json<dto::Event>, ApiError> {
    Ok(Json(service::change_status(&ctx, &principal, id, req).await?))
}

/// The events the caller organizes, drafts included.
#[utoipa::path(get, path = "/v1/me/events", tag = "ticketing", security(("bearer" = [])),
    responses((status = 200, body = Vec<dto::EventSummary>)))]
pub async fn my_events(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<dto::EventSummary>>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal).await?))
}

/// Event categories (a tree: `parent_id`), ordered for display.
#[utoipa::path(get, path = "/v1/event-categories", tag = "ticketing", responses((status = 200, body = dto::CategoryList)))]
pub async fn categories(State(ctx): State<AppContext>) -> Result<Json<dto::CategoryList>, ApiError> {
    Ok(Json(service::categories(&ctx).await?))
}

/// Add an event category (admins).
#[utoipa::path(post, path = "/v1/event-categories", tag = "ticketing", security(("bearer" = [])),
    request_body = dto::NewCategory, responses((status = 201, body = dto::Category)))]
pub async fn add_category(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::NewCategory>,
) -> Result<(StatusCode, Json<dto::Category>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::add_category(&ctx, &principal, req).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TagQuery {
    /// Tags starting with this text.
    pub prefix: Option<String>,
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/v1/event-tags", tag = "ticketing", params(TagQuery),
    responses((status = 200, body = dto::TagList)))]
pub async fn tags(State(ctx): State<AppContext>, Query(q): Query<TagQuery>) -> Result<Json<dto::TagList>, ApiError> {
    Ok(Json(service::tags(&ctx, q.prefix.as_deref()).await?))
}
