//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Inbox, InboxList, InboxRequest};
use super::service;

/// The label's inboxes at stores, each with its latest files and the last poll's error.
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-inboxes", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = InboxList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn royalty_inboxes(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<InboxList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// Pick the label's reports up from a store's folder (staff; polled every 5 minutes, each file taken once).
#[utoipa::path(post, path = "/v1/labels/{id}/royalty-inboxes", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = InboxRequest,
    responses((status = 201, body = Inbox),
              (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_royalty_inbox(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<InboxRequest>,
) -> Result<(StatusCode, Json<Inbox>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, id, req).await?)))
}

/// Poll an inbox now rather than at the next five minutes; answers it with the files it took.
#[utoipa::path(post, path = "/v1/royalty-inboxes/{id}/poll", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Inbox),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn poll_royalty_inbox(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Inbox>, ApiError> {
    Ok(Json(service::poll_now(&ctx, &principal, id).await?))
}
