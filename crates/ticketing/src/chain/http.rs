//! The chain's HTTP handlers.

use axum::extract::{Path, State};
use identity::auth::MaybeAuthUser;
use platform::{ApiError, AppContext, Json};

use super::dto::Verification;
use super::service;
use crate::model::EventId;

/// Verify the event's ticket chain: every issue, transfer, resale, refund and check-in, unaltered and
/// none missing.
#[utoipa::path(get, path = "/v1/events/{id}/ticket-chain/verify", tag = "ticketing", params(("id" = EventId, Path)),
    responses((status = 200, body = Verification)))]
pub async fn verify_chain(
    State(ctx): State<AppContext>,
    MaybeAuthUser(principal): MaybeAuthUser,
    Path(id): Path<EventId>,
) -> Result<Json<Verification>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    crate::events::service::visible_event(&mut conn, principal.as_ref(), id, false).await?;
    Ok(Json(service::verify(&mut conn, id).await?))
}
