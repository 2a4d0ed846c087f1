//! HTTP handlers of payout methods, withdrawals and their approval.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};

use super::dto::*;
use super::service as payouts;
use crate::LedgerSettings;
use crate::accounts::http::once;

/// Add a payout method: a bank account (IBAN), PayPal address or Stripe Connect account. Details are
/// sealed at rest; the answer shows them masked.
#[utoipa::path(post, path = "/v1/me/payout-methods", tag = "ledger", security(("bearer" = [])),
    request_body = PayoutMethodRequest, responses((status = 201, body = PayoutMethod)))]
pub async fn add_payout_method(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Json(req): Json<PayoutMethodRequest>,
) -> Result<(StatusCode, Json<PayoutMethod>), ApiError> {
    Ok((StatusCode::CREATED, Json(payouts::add_method(&ctx, &principal, settings.stripe.as_ref(), req).await?)))
}

/// The caller's payout methods (masked).
#[utoipa::path(get, path = "/v1/me/payout-methods", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = PayoutMethodList)))]
pub async fn payout_methods(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<PayoutMethodList>, ApiError> {
    Ok(Json(payouts::methods(&ctx, &principal).await?))
}

/// Remove a payout method.
#[utoipa::path(delete, path = "/v1/me/payout-methods/{id}", tag = "ledger", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "Removed")))]
pub async fn remove_payout_method(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    payouts::remove_method(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw from the available balance to a payout method. The amount and its fee are held at once;
/// the payout follows. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/me/withdrawals", tag = "ledger", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = WithdrawalRequest,
    responses((status = 201, body = Withdrawal),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn withdraw(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Json(req): Json<WithdrawalRequest>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let settings = settings.withdrawals;
    once(&ctx, &principal, &headers, "POST /v1/me/withdrawals", &req, now, async |conn| {
        payouts::request(conn, &principal, settings, &req, now).await
    })
    .await
}

/// The caller's withdrawals, newest first.
#[utoipa::path(get, path = "/v1/me/withdrawals", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = WithdrawalList)))]
pub async fn withdrawals(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<WithdrawalList>, ApiError> {
    Ok(Json(payouts::withdrawals(&ctx, &principal).await?))
}

/// Cancel a withdrawal that is still queued; the money returns to the available balance.
#[utoipa::path(post, path = "/v1/me/withdrawals/{id}/cancel", tag = "ledger", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Withdrawal),
              (status = 409, description = "`not_cancellable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_withdrawal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<Withdrawal>, ApiError> {
    Ok(Json(payouts::cancel(&ctx, &principal, id).await?))
}

/// Withdrawals waiting for an admin's approval.
#[utoipa::path(get, path = "/v1/admin/withdrawals/awaiting-approval", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = WithdrawalList)))]
pub async fn awaiting_approval(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<WithdrawalList>, ApiError> {
    Ok(Json(payouts::awaiting_approval(&ctx, &principal).await?))
}

/// Approve (the payout is queued) or reject (the money returns) a withdrawal waiting for approval.
#[utoipa::path(post, path = "/v1/admin/withdrawals/{id}/decision", tag = "ledger", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = DecisionRequest,
    responses((status = 200, body = Withdrawal),
              (status = 409, description = "`not_awaiting_approval`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide_withdrawal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<Withdrawal>, ApiError> {
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or reject")),
    };
    Ok(Json(payouts::decide(&ctx, &principal, id, approve, req.reason.as_deref()).await?))
}
