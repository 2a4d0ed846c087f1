//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{OrgPlan, PlanCard, PlanChoice, PlanOffer};
use super::service;

/// The plans: what each costs a month and allows.
#[utoipa::path(get, path = "/v1/plans", tag = "collab", responses((status = 200, body = Vec<PlanOffer>)))]
pub async fn plan_catalogue() -> Json<Vec<PlanOffer>> {
    Json(service::offers())
}

/// An organization's plan, what it uses of it, and its charges (its members).
#[utoipa::path(get, path = "/v1/orgs/{id}/plan", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrgPlan),
              (status = 404, description = "no such organization, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn org_plan(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<OrgPlan>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// Change the organization's plan (its owners and admins). A dearer plan starts now and its first month
/// is charged at once to the organization's wallet; a cheaper one, Free included, takes effect at the
/// period's end; the current plan again calls off a scheduled change. An upgrade may be paid by card
/// instead (`source: card`; the `Idempotency-Key` header keys the charge). Renewals are charged to the
/// organization's wallet by a timer in the three days before a period ends; a period that ends unpaid
/// falls back to Free.
#[utoipa::path(put, path = "/v1/orgs/{id}/plan", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PlanChoice,
    responses((status = 200, body = OrgPlan),
              (status = 403, description = "`forbidden`: not an owner or admin of the organization", body = ProblemBody, content_type = "application/problem+json"),
              (status = 402, description = "`payment_failed`: the card was declined; nothing changed", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such organization, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`insufficient_funds`: the wallet cannot pay the month; `payment_pending`: the card needs the customer's action; nothing changed", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn choose_org_plan(
    State(ctx): State<AppContext>,
    Extension(ledger_settings): Extension<Arc<ledger::LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(req): Json<PlanChoice>,
) -> Result<Json<OrgPlan>, ApiError> {
    let key = platform::idempotency::key_from(&headers)?;
    service::charge_card(&ctx, &ledger_settings, &principal, id, &req, key.as_deref()).await?;
    Ok(Json(service::choose(&ctx, &principal, id, req).await?))
}

/// Renew the plan by a card on file of yours (`POST /v1/me/cards`; the organization's owners and
/// admins): each month's renewal charges it into your wallet and pays the month from there; a declined
/// card is a failed renewal, tried again daily until the period ends.
#[utoipa::path(put, path = "/v1/orgs/{id}/plan/card", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PlanCard,
    responses((status = 200, body = OrgPlan),
              (status = 403, description = "`forbidden`: not an owner or admin of the organization", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such organization, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed` (card_id: not a card of yours on file)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_org_plan_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<PlanCard>,
) -> Result<Json<OrgPlan>, ApiError> {
    Ok(Json(service::set_card(&ctx, &principal, id, req).await?))
}

/// Renew the plan from the organization's wallet again.
#[utoipa::path(delete, path = "/v1/orgs/{id}/plan/card", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrgPlan),
              (status = 403, description = "`forbidden`: not an owner or admin of the organization", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such organization, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn clear_org_plan_card(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<OrgPlan>, ApiError> {
    Ok(Json(service::clear_card(&ctx, &principal, id).await?))
}
