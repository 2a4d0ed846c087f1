//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{NewSavedCard, SavedCard};
use super::service;
use crate::LedgerSettings;

/// Keep a card on file, for what you agree to be charged later (an organization's plan each month).
/// Its details are sealed at rest and shown masked. Verified accounts.
#[utoipa::path(post, path = "/v1/me/cards", tag = "ledger", security(("bearer" = [])),
    request_body = NewSavedCard,
    responses((status = 201, body = SavedCard),
              (status = 422, description = "`validation_failed` (provider, card_number, payment_method, customer)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn save_card(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Json(req): Json<NewSavedCard>,
) -> Result<(StatusCode, Json<SavedCard>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::save(&ctx, &settings, &principal, req).await?)))
}

/// Your cards on file (masked), newest first.
#[utoipa::path(get, path = "/v1/me/cards", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<SavedCard>)))]
pub async fn saved_cards(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<Vec<SavedCard>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal).await?))
}

/// Remove a card on file: its details are wiped and nothing charges it any more (a plan it renewed
/// renews from the organization's wallet).
#[utoipa::path(delete, path = "/v1/me/cards/{id}", tag = "ledger", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "no such card of yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn remove_saved_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    service::remove(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
