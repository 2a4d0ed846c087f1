//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{self, Credits};
use super::service;
use crate::TaskSettings;

/// A company's credits (available and held) and the packs on sale.
#[utoipa::path(get, path = "/v1/orgs/{id}/credits", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Credits)))]
pub async fn org_credits(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Credits>, ApiError> {
    Ok(Json(service::balance(&ctx, &settings, &principal, id).await?))
}

/// Buy a pack of credits for a company, from its wallet or by card. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orgs/{id}/credits", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::BuyCredits,
    responses((status = 201, body = Credits),
              (status = 402, description = "`payment_failed`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn buy_credits(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<TaskSettings>>,
    Extension(ledger_settings): Extension<Arc<ledger::LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(req): Json<dto::BuyCredits>,
) -> Result<axum::response::Response, ApiError> {
    let now = ctx.clock.now();
    let key = platform::idempotency::key_from(&headers)?;
    let route = format!("POST /v1/orgs/{id}/credits");
    let scope = principal.user_id.to_string();
    let request = platform::idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    platform::idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || service::charge(&ctx, &settings, &ledger_settings, &principal, &req, key.as_deref()).await,
        async |conn, ()| service::buy(conn, &settings, &principal, id, &req, now).await,
    )
    .await
}
