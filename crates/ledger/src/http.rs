//! The ledger's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::auth::{AuthUser, Principal};
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::idempotency;
use platform::{ApiError, AppContext, Json};

use crate::LedgerSettings;
use crate::dto;
use crate::error::LedgerCode;
use crate::model::{AccountId, EntryId, Owner};
use crate::payments;
use crate::payouts;
use crate::repo::{self, Account};
use crate::service::{self, Leg, NewEntry};

/// The caller's accounts and balances.
#[utoipa::path(get, path = "/v1/me/wallet", tag = "ledger", security(("bearer" = [])), responses((status = 200, body = dto::Wallet)))]
pub async fn wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::Wallet>, ApiError> {
    authz::authorize(&principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    Ok(Json(dto::Wallet { accounts: repo::accounts_of(&ctx.db, "user", Some(principal.user_id.0)).await? }))
}

/// Whether the caller may read `account`: their own, their organization's (as a manager), or any as an
/// admin. Anything else is not found.
async fn readable(ctx: &AppContext, principal: &Principal, account: AccountId) -> Result<Account, ApiError> {
    let not_found = || ApiError::from(IdentityError::NotFound("account"));
    let account = repo::account(&ctx.db, account).await?.ok_or_else(not_found)?;
    if authz::authorize(principal, "ledger.read", Target::Platform).is_ok() && principal.has_role("admin") {
        return Ok(account);
    }
    match Owner::from_parts(&account.owner_type, account.owner_id) {
        Some(Owner::User(user)) if user == principal.user_id.0 => {
            authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
            Ok(account)
        }
        Some(Owner::Organization(org)) => {
            let mut conn = ctx.db.acquire().await?;
            identity::service::organizations::require_permission(
                &mut conn,
                principal,
                identity::model::OrgId(org),
                "ledger.read",
            )
            .await
            .map_err(|_| not_found())?;
            Ok(account)
        }
        _ => Err(not_found()),
    }
}

/// An account's entries over a period with the running balance, as JSON or CSV (`?format=csv`).
#[utoipa::path(get, path = "/v1/ledger/accounts/{id}/statement", tag = "ledger", security(("bearer" = [])),
    params(("id" = AccountId, Path), dto::StatementQuery),
    responses((status = 200, description = "The statement, as JSON or (`?format=csv`) CSV",
                content((service::Statement = "application/json"), (String = "text/csv"))),
              (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn statement(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<AccountId>,
    Query(q): Query<dto::StatementQuery>,
) -> Result<Response, ApiError> {
    let account = readable(&ctx, &principal, id).await?;
    let from = q.from.unwrap_or(account.created_at);
    let to = q.to.unwrap_or_else(|| ctx.clock.now() + chrono::Duration::seconds(1));
    if to <= from {
        return Err(ApiError::invalid_field("to", "before_from", "must be after from"));
    }
    let mut conn = ctx.db.acquire().await?;
    let statement = service::statement(&mut conn, account, from, to).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(statement).into_response()),
        "csv" => {
            let mut response = service::statement_csv(&statement).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            Ok(response)
        }
        _ => Err(ApiError::invalid_field("format", "invalid_value", "must be json or csv")),
    }
}

/// One entry with its postings (admins).
#[utoipa::path(get, path = "/v1/admin/ledger/entries/{id}", tag = "ledger", security(("bearer" = [])),
    params(("id" = EntryId, Path)), responses((status = 200, body = dto::EntryWithPostings)))]
pub async fn entry(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EntryId>,
) -> Result<Json<dto::EntryWithPostings>, ApiError> {
    authz::authorize(&principal, "ledger.read", Target::Platform)?;
    if !principal.has_role("admin") {
        return Err(IdentityError::Forbidden("ledger.read".into()).into());
    }
    let entry = repo::entry(&ctx.db, id).await?.ok_or(IdentityError::NotFound("entry"))?;
    Ok(Json(dto::EntryWithPostings { postings: repo::postings_of(&ctx.db, id).await?, entry }))
}

async fn entry_with_postings(conn: &mut sqlx::PgConnection, id: EntryId) -> Result<dto::EntryWithPostings, ApiError> {
    let entry = repo::entry(&mut *conn, id).await?.ok_or(IdentityError::NotFound("entry"))?;
    Ok(dto::EntryWithPostings { postings: repo::postings_of(&mut *conn, id).await?, entry })
}

/// Runs a money-moving request once per `Idempotency-Key` of the caller and answers it (201).
async fn once<T, W>(
    ctx: &AppContext,
    principal: &Principal,
    headers: &HeaderMap,
    route: &str,
    request: &impl serde::Serialize,
    now: chrono::DateTime<chrono::Utc>,
    work: W,
) -> Result<Response, ApiError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    W: AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, ApiError>,
{
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers, route, body: request };
    idempotency::respond(&ctx.db, request, StatusCode::CREATED, now, work).await
}

/// Post a manual, balanced entry (admins). Send an `Idempotency-Key`: a retry returns the first answer.
#[utoipa::path(post, path = "/v1/admin/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1–255 characters")),
    request_body = dto::AdjustmentRequest,
    responses((status = 201, body = dto::EntryWithPostings),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn adjust(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    headers: HeaderMap,
    Json(req): Json<dto::AdjustmentRequest>,
) -> Result<Response, ApiError> {
    authz::authorize(&principal, "ledger.adjust", Target::Platform)?;
    principal.require_verified()?;
    let memo = req.memo.trim().to_owned();
    if memo.is_empty() || memo.chars().count() > 500 {
        return Err(ApiError::invalid_field("memo", "invalid_length", "must be 1 to 500 characters"));
    }
    let now = ctx.clock.now();
    once(&ctx, &principal, &headers, "POST /v1/admin/ledger/entries", &req, now, async |conn| {
        let legs = req.postings.iter().map(|l| Leg { account: l.account_id, amount: l.amount }).collect();
        let entry =
            NewEntry { kind: "adjustment", memo: &memo, legs, metadata: serde_json::json!({"by": principal.user_id}) };
        let id = service::post(conn, entry, now).await?;
        platform::audit::Entry::new(principal.actor(), "ledger.adjust", "journal_entry", id)
            .after(serde_json::json!({"memo": memo, "postings": req.postings}))
            .ip(meta.ip.as_deref())
            .record(conn, now)
            .await?;
        entry_with_postings(conn, id).await
    })
    .await
}

/// Post the reversing entry of an entry (admins). An entry is reversed at most once.
#[utoipa::path(post, path = "/v1/admin/ledger/entries/{id}/reverse", tag = "ledger", security(("bearer" = [])),
    params(("id" = EntryId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::ReverseRequest,
    responses((status = 201, body = dto::EntryWithPostings),
              (status = 409, description = "`already_reversed` or `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reverse(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    headers: HeaderMap,
    Path(id): Path<EntryId>,
    Json(req): Json<dto::ReverseRequest>,
) -> Result<Response, ApiError> {
    authz::authorize(&principal, "ledger.adjust", Target::Platform)?;
    principal.require_verified()?;
    let now = ctx.clock.now();
    once(&ctx, &principal, &headers, &format!("POST /v1/admin/ledger/entries/{id}/reverse"), &req, now, async |conn| {
        repo::entry(&mut *conn, id).await?.ok_or(IdentityError::NotFound("entry"))?;
        let reversal = service::reverse(conn, id, req.memo.trim(), now).await?;
        platform::audit::Entry::new(principal.actor(), "ledger.reverse", "journal_entry", id)
            .after(serde_json::json!({"reversal": reversal, "memo": req.memo}))
            .ip(meta.ip.as_deref())
            .record(conn, now)
            .await?;
        entry_with_postings(conn, reversal).await
    })
    .await
}

/// Add a payout method: a bank account (IBAN), PayPal address or Stripe Connect account. Details are
/// sealed at rest; the answer shows them masked.
#[utoipa::path(post, path = "/v1/me/payout-methods", tag = "ledger", security(("bearer" = [])),
    request_body = payouts::PayoutMethodRequest, responses((status = 201, body = payouts::PayoutMethod)))]
pub async fn add_payout_method(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Json(req): Json<payouts::PayoutMethodRequest>,
) -> Result<(StatusCode, Json<payouts::PayoutMethod>), ApiError> {
    Ok((StatusCode::CREATED, Json(payouts::add_method(&ctx, &principal, settings.stripe.as_ref(), req).await?)))
}

/// The caller's payout methods (masked).
#[utoipa::path(get, path = "/v1/me/payout-methods", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = payouts::PayoutMethodList)))]
pub async fn payout_methods(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<payouts::PayoutMethodList>, ApiError> {
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
    request_body = payouts::WithdrawalRequest,
    responses((status = 201, body = payouts::Withdrawal),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn withdraw(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Json(req): Json<payouts::WithdrawalRequest>,
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
    responses((status = 200, body = payouts::WithdrawalList)))]
pub async fn withdrawals(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<payouts::WithdrawalList>, ApiError> {
    Ok(Json(payouts::withdrawals(&ctx, &principal).await?))
}

/// Cancel a withdrawal that is still queued; the money returns to the available balance.
#[utoipa::path(post, path = "/v1/me/withdrawals/{id}/cancel", tag = "ledger", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = payouts::Withdrawal),
              (status = 409, description = "`not_cancellable`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_withdrawal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<payouts::Withdrawal>, ApiError> {
    Ok(Json(payouts::cancel(&ctx, &principal, id).await?))
}

/// Pay through a provider (`sandbox` or `stripe`); a captured payment credits the caller's wallet. Send
/// an `Idempotency-Key`: it also keys the call to Stripe, so a retry never charges twice.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = payments::PaymentRequest, responses((status = 201, body = payments::PaymentIntent)))]
pub async fn create_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Json(req): Json<payments::PaymentRequest>,
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
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = payments::PaymentIntent)))]
pub async fn payment(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<payments::PaymentIntent>, ApiError> {
    Ok(Json(payments::get(&ctx, &principal, id).await?))
}

/// Capture an authorized payment.
#[utoipa::path(post, path = "/v1/payments/{id}/capture", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = payments::PaymentIntent),
    (status = 409, description = "`invalid_payment_state`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn capture_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<payments::PaymentIntent>, ApiError> {
    Ok(Json(payments::finish_authorization(&ctx, &principal, &settings, id, true).await?))
}

/// Cancel an authorized payment.
#[utoipa::path(post, path = "/v1/payments/{id}/cancel", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = payments::PaymentIntent),
    (status = 409, description = "`invalid_payment_state`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<payments::PaymentIntent>, ApiError> {
    Ok(Json(payments::finish_authorization(&ctx, &principal, &settings, id, false).await?))
}

/// Refund all or part of a captured payment. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = payments::RefundRequest,
    responses((status = 201, body = payments::PaymentIntent),
              (status = 409, description = "`already_refunded`, `invalid_payment_state`, `insufficient_funds`, `refund_in_progress`, `provider_refused`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn refund_payment(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: HeaderMap,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<payments::RefundRequest>,
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

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    pub received: bool,
    /// False when this event was delivered before (nothing was applied again).
    pub first_delivery: bool,
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

/// Withdrawals waiting for an admin's approval.
#[utoipa::path(get, path = "/v1/admin/withdrawals/awaiting-approval", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = payouts::WithdrawalList)))]
pub async fn awaiting_approval(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<payouts::WithdrawalList>, ApiError> {
    Ok(Json(payouts::awaiting_approval(&ctx, &principal).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    pub decision: String,
    pub reason: Option<String>,
}

/// Approve (the payout is queued) or reject (the money returns) a withdrawal waiting for approval.
#[utoipa::path(post, path = "/v1/admin/withdrawals/{id}/decision", tag = "ledger", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = DecisionRequest,
    responses((status = 200, body = payouts::Withdrawal),
              (status = 409, description = "`not_awaiting_approval`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide_withdrawal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<payouts::Withdrawal>, ApiError> {
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or reject")),
    };
    Ok(Json(payouts::decide(&ctx, &principal, id, approve, req.reason.as_deref()).await?))
}
