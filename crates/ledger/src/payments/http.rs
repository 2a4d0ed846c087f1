//! HTTP handlers of payments, refunds and the providers' webhooks.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::idempotency;
use platform::{ApiError, AppContext, Json};

use super::dto::*;
use super::service as payments;
use crate::LedgerSettings;
use crate::error::LedgerCode;

/// Pay through a provider (`sandbox` or `stripe`); a captured payment credits the caller's wallet. Send
/// an `Idempotency-Key`: it also keys the call to Stripe, so a retry never charges twice.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = PaymentRequest, responses((status = 201, body = PaymentIntent)))]
pub async fn create_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Json(req): Json<PaymentRequest>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let key = idempotency::key_from(&headers)?;
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers: &headers, route: "POST /v1/payments", body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || payments::prepare(&principal, &req, &settings, key.as_deref()).await,
        async |conn, prepared| payments::record(conn, &principal, prepared, now).await,
    )
    .await
}

/// A payment of the caller (or any, for admins).
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = PaymentIntent)))]
pub async fn payment(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<PaymentIntent>, ApiError> {
    Ok(Json(payments::get(&ctx, &principal, id).await?))
}

/// Capture an authorized payment.
#[utoipa::path(post, path = "/v1/payments/{id}/capture", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = PaymentIntent),
    (status = 409, description = "`invalid_payment_state`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn capture_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<PaymentIntent>, ApiError> {
    Ok(Json(payments::finish_authorization(&ctx, &principal, &settings, id, true).await?))
}

/// Sandbox only: answer the 3-D Secure challenge of a payment that waits for the customer (card
/// `4000 0000 0000 3220`), as the payer: approved, it is captured into the wallet; failed, it fails.
#[utoipa::path(post, path = "/v1/payments/{id}/sandbox-authentication", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = SandboxAuthentication, responses((status = 200, body = PaymentIntent),
    (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`invalid_payment_state`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn sandbox_authentication(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<SandboxAuthentication>,
) -> Result<Json<PaymentIntent>, ApiError> {
    Ok(Json(payments::sandbox_authenticate(&ctx, &principal, id, req.approve).await?))
}

/// Cancel an authorized payment.
#[utoipa::path(post, path = "/v1/payments/{id}/cancel", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = PaymentIntent),
    (status = 409, description = "`invalid_payment_state`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<PaymentIntent>, ApiError> {
    Ok(Json(payments::finish_authorization(&ctx, &principal, &settings, id, false).await?))
}

/// Refund all or part of a captured payment. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = RefundRequest,
    responses((status = 201, body = PaymentIntent),
              (status = 409, description = "`already_refunded`, `invalid_payment_state`, `insufficient_funds`, `refund_in_progress`, `provider_refused`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn refund_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<RefundRequest>,
) -> Result<Response, ApiError> {
    let now = ctx.clock.now();
    let scope = principal.user_id.to_string();
    let route = format!("POST /v1/payments/{id}/refunds");
    let request = idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || payments::refund(&ctx, &principal, &settings, id, &req).await,
        async |_, refunded| Ok(refunded),
    )
    .await
}

/// A payment provider's webhook (`stripe` or `sandbox`), signed with `Stripe-Signature`.
#[utoipa::path(post, path = "/v1/webhooks/{provider}", tag = "payments",
    params(("provider" = String, Path), ("Stripe-Signature" = String, Header, description = "t=<unix>,v1=<hex HMAC-SHA256>")),
    request_body(content = String, description = "The provider's event, as sent", content_type = "application/json"),
    responses((status = 200, body = Received),
              (status = 400, description = "`invalid_signature`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn provider_webhook(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Received>, ApiError> {
    let secrets = &settings.providers;
    let keys: Vec<String> = if provider == "stripe" { secrets.stripe.clone() } else { vec![secrets.sandbox.clone()] };
    if provider == "stripe" && keys.is_empty() {
        return Err(ApiError::new(
            LedgerCode::ProviderNotConfigured,
            "Stripe webhooks are not configured on this server.",
        ));
    }
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let first_delivery = payments::receive(&ctx, &provider, &keys, signature, &body).await?;
    Ok(Json(Received { received: true, first_delivery }))
}
