//! Payments in. A payment intent moves through `initiated`, `authorized`, `captured`, `failed`,
//! `cancelled` and `refunded` (refunds may be partial). A captured payment credits the payer's wallet
//! from the platform's clearing account; a refund moves it back.
//!
//! Providers, chosen per payment (`provider`, else the server's default): the built-in **sandbox**
//! (deterministic test cards, documented in docs/ledger.md) and **Stripe** (PaymentIntents and Refunds
//! through [`crate::stripe`], each call keyed so that a retried request never charges twice). Provider
//! webhooks arrive at `POST /v1/webhooks/{provider}`: signed as Stripe signs (`Stripe-Signature:
//! t=..,v1=..`, HMAC-SHA256 over `t.payload`, 300 s tolerance, any of several `v1`), each event
//! processed once however often or concurrently it is delivered, unknown types stored and acknowledged.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::*;
use super::repo;
use crate::error::LedgerCode;
use crate::model::{CaptureMethod, Currency, Owner, PaymentState, kinds};
use crate::service;
use crate::stripe::{self, StripeError};
use platform::PlatformCode;

/// How old a signed webhook may be.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing or malformed")]
    Malformed,
    #[error("the signature is too old or from the future")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Verifies a `Stripe-Signature` header over the raw `payload` with any of `secrets`.
pub fn verify_signature(header: &str, payload: &[u8], secrets: &[String], now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { continue };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        for signature in &signatures {
            let Some(bytes) = platform::hex::decode(signature) else { continue };
            // verify_slice compares in constant time.
            if mac.clone().verify_slice(&bytes).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

pub use crate::model::Provider;

/// What the sandbox does with a card.
enum SandboxCard {
    Succeeds,
    Declined,
    Later,
}

fn sandbox_card(number: &str) -> Option<SandboxCard> {
    match number.chars().filter(|c| !c.is_whitespace()).collect::<String>().as_str() {
        "4242424242424242" => Some(SandboxCard::Succeeds),
        "4000000000000002" => Some(SandboxCard::Declined),
        "4000000000003220" => Some(SandboxCard::Later),
        _ => None,
    }
}

/// Whether the sandbox keeps this card on file: the test cards that settle at once.
pub fn sandbox_keeps(number: &str) -> bool {
    matches!(sandbox_card(number), Some(SandboxCard::Succeeds | SandboxCard::Declined))
}

/// A charge of a card on file: whose, how much, and the card's opened details (the sandbox card's
/// number, or Stripe's `cus_…/pm_…`).
pub struct Charge<'a> {
    pub user: Uuid,
    pub amount: i64,
    pub currency: &'a str,
    pub description: &'a str,
    pub provider: Provider,
    pub secret: &'a str,
}

/// Runs a charge of a card on file at its provider, captured at once (no transaction open).
pub async fn prepare_saved(
    charge: &Charge<'_>,
    settings: &crate::LedgerSettings,
    key: &str,
) -> Result<Prepared, ApiError> {
    let currency = Currency::parse(charge.currency)
        .filter(|c| c.as_str() != "CREDIT")
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a card charged in {}", charge.currency)))?;
    let (method, customer) = match charge.provider {
        Provider::Sandbox => {
            let card = sandbox_card(charge.secret)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a saved sandbox card that is not a test card")))?;
            (Method::Sandbox(card), None)
        }
        Provider::Stripe => {
            let client =
                settings.stripe.as_ref().ok_or_else(|| unavailable("Stripe is not configured on this server"))?;
            let (customer, method) = charge
                .secret
                .split_once('/')
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a saved Stripe card without its customer")))?;
            (Method::Stripe(client, method), Some(customer))
        }
    };
    let description = charge.description.to_owned();
    run(charge.user, method, (charge.amount, currency), CaptureMethod::Automatic, description, Some(key), customer)
        .await
}

async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: PaymentState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<PaymentIntent> {
    tracing::info!(object = "payment", id = %id, to = state.as_str(), reason, "state changed");
    Ok(repo::set_state(conn, id, state, reason, now).await?.into())
}

/// Credits the payer's wallet with a captured payment.
async fn book_capture(
    conn: &mut PgConnection,
    intent: &PaymentIntent,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let currency =
        Currency::parse(&intent.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))?;
    let clearing = service::account(conn, Owner::Platform, kinds::CLEARING, &currency, now).await?;
    let wallet = service::account(conn, Owner::User(user), kinds::AVAILABLE, &currency, now).await?;
    service::transfer(conn, clearing.id, wallet.id, intent.amount, "payment.captured", &intent.description, now)
        .await?;
    Ok(())
}

/// Charges a card into the payer's wallet, committed before the caller spends from the wallet: whatever
/// happens to the purchase afterwards (sold out, expired, refused), the money that was charged is in the
/// payer's wallet, never lost with a rolled-back purchase. `retry_key` (the purchase's
/// `Idempotency-Key`) makes a retried purchase find this payment rather than charge again. No
/// transaction is open while the provider is asked.
pub async fn charge_to_wallet(
    pool: &sqlx::PgPool,
    principal: &Principal,
    req: &PaymentRequest,
    settings: &crate::LedgerSettings,
    retry_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PaymentIntent, ApiError> {
    let scope = format!("wallet-charge:{}", principal.user_id);
    let fingerprint = platform::idempotency::fingerprint("charge_to_wallet", req);
    let outcome = platform::idempotency::run_prepared(
        pool,
        &scope,
        retry_key,
        &fingerprint,
        axum::http::StatusCode::CREATED,
        now,
        async || prepare(principal, req, settings, retry_key).await,
        async |conn, prepared| record(conn, principal, prepared, now).await,
    )
    .await?;
    Ok(outcome.value)
}

/// The provider's parts of a validated payment request.
enum Method<'a> {
    Sandbox(SandboxCard),
    Stripe(&'a stripe::Client, &'a str),
}

/// A payment checked and, where a provider is called, answered by it: what [`record`] stores.
pub struct Prepared {
    id: Uuid,
    provider: Provider,
    provider_ref: String,
    amount: i64,
    currency: Currency,
    state: PaymentState,
    capture_method: CaptureMethod,
    description: String,
    failure_reason: Option<String>,
    client_secret: Option<String>,
}

/// Checks a payment request and runs it at its provider, with no database transaction open (a slow
/// provider must never hold a pooled connection). `retry_key` is the request's `Idempotency-Key`: it
/// also keys the call to an external provider, so that a retried request never charges twice. A
/// payment that a crash leaves unrecorded after Stripe took it is recorded by the retry with the same
/// key (Stripe answers the same PaymentIntent).
pub async fn prepare(
    principal: &Principal,
    req: &PaymentRequest,
    settings: &crate::LedgerSettings,
    retry_key: Option<&str>,
) -> Result<Prepared, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let mut errors = Vec::new();
    let currency = Currency::parse(&req.currency).filter(|c| c.as_str() != "CREDIT");
    if currency.is_none() {
        errors.push(FieldError::new("currency", "invalid_value", "must be a currency Backline accepts"));
    }
    if req.amount < 1 {
        errors.push(FieldError::new("amount", "out_of_range", "must be at least 1 (minor units)"));
    }
    let capture = match req.capture.as_deref().map(CaptureMethod::parse) {
        None => CaptureMethod::Automatic,
        Some(Some(capture)) => capture,
        Some(None) => {
            errors.push(FieldError::new("capture", "invalid_value", "must be automatic or manual"));
            CaptureMethod::Automatic
        }
    };
    let method = match req.provider.as_deref().map(Provider::parse) {
        Some(None) => {
            errors.push(FieldError::new("provider", "invalid_value", "must be sandbox or stripe"));
            None
        }
        Some(Some(provider)) => payment_method(provider, req, settings, &mut errors),
        None => payment_method(settings.default_provider, req, settings, &mut errors),
    };
    let (Some(currency), Some(method), true) = (currency, method, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let description = req.description.trim().to_owned();
    let user = principal.user_id.0;
    run(user, method, (req.amount, currency), capture, description, retry_key, None).await
}

/// Runs a checked payment at its provider (no transaction open): `customer` charges a Stripe card on
/// file off session.
async fn run(
    user: Uuid,
    method: Method<'_>,
    (amount, currency): (i64, Currency),
    capture: CaptureMethod,
    description: String,
    retry_key: Option<&str>,
    customer: Option<&str>,
) -> Result<Prepared, ApiError> {
    let id = platform::ids::new_id();
    let mut prepared = Prepared {
        id,
        provider: Provider::Sandbox,
        provider_ref: format!("sb_pi_{}", id.simple()),
        amount,
        currency,
        state: PaymentState::Initiated,
        capture_method: capture,
        description,
        failure_reason: None,
        client_secret: None,
    };
    match method {
        Method::Sandbox(card) => {
            (prepared.state, prepared.failure_reason) = match card {
                SandboxCard::Declined => (PaymentState::Failed, Some("card_declined".to_owned())),
                SandboxCard::Later => (PaymentState::Initiated, None),
                SandboxCard::Succeeds if capture == CaptureMethod::Manual => (PaymentState::Authorized, None),
                SandboxCard::Succeeds => (PaymentState::Captured, None),
            };
        }
        Method::Stripe(client, payment_method) => {
            let key = match retry_key {
                Some(key) => {
                    format!("backline-payment-{}", platform::hex::encode(&Sha256::digest(format!("{user}:{key}"))))
                }
                None => format!("backline-payment-{id}"),
            };
            let mut params = vec![
                ("amount", amount.to_string()),
                ("currency", stripe::currency(prepared.currency.as_str())),
                ("payment_method", payment_method.to_owned()),
                ("payment_method_types[]", "card".to_owned()),
                ("confirm", "true".to_owned()),
                ("capture_method", capture.as_str().to_owned()),
                ("metadata[backline_payment_id]", id.to_string()),
                ("metadata[backline_user_id]", user.to_string()),
            ];
            if !prepared.description.is_empty() {
                params.push(("description", prepared.description.clone()));
            }
            if let Some(customer) = customer {
                // A card on file, charged on its holder's standing instruction.
                params.push(("customer", customer.to_owned()));
                params.push(("off_session", "true".to_owned()));
            }
            let (remote, declined) = match client.create_payment_intent(&params, &key).await {
                Ok(remote) => (remote, None),
                Err(StripeError::Refused { error, .. }) => match error.payment_intent.clone() {
                    Some(remote) => (*remote, Some(error.reason())),
                    None => return Err(refused(&error)),
                },
                Err(StripeError::Unavailable(why)) => return Err(unavailable(&why)),
            };
            if remote.amount != amount || remote.currency != stripe::currency(prepared.currency.as_str()) {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "Stripe answered for {} {}, not the amount asked",
                    remote.amount,
                    remote.currency
                )));
            }
            let last_error = remote.last_payment_error.as_ref().map(stripe::ErrorBody::reason);
            (prepared.state, prepared.failure_reason) = match (remote.status.as_str(), declined) {
                (_, Some(reason)) => (PaymentState::Failed, Some(reason)),
                ("succeeded", None) => (PaymentState::Captured, None),
                ("requires_capture", None) => (PaymentState::Authorized, None),
                ("canceled", None) => (PaymentState::Cancelled, None),
                ("requires_payment_method", None) => {
                    (PaymentState::Failed, Some(last_error.unwrap_or_else(|| "payment_failed".into())))
                }
                _ => (PaymentState::Initiated, None), // requires_action, processing: a webhook finishes it
            };
            prepared.provider = Provider::Stripe;
            prepared.provider_ref = remote.id;
            if prepared.state == PaymentState::Initiated {
                prepared.client_secret = remote.client_secret;
            }
        }
    }
    Ok(prepared)
}

/// Stores a prepared payment, credits the payer's wallet if it was captured, and audits it: in the
/// caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    principal: &Principal,
    prepared: Prepared,
    now: DateTime<Utc>,
) -> Result<PaymentIntent, ApiError> {
    record_as(conn, principal.actor(), principal.user_id.0, prepared, now).await
}

/// [`record`] for `user`'s payment made by `actor` (the platform itself, charging a card on file).
pub async fn record_as(
    conn: &mut PgConnection,
    actor: platform::audit::Actor,
    user: Uuid,
    prepared: Prepared,
    now: DateTime<Utc>,
) -> Result<PaymentIntent, ApiError> {
    let new = repo::NewPayment {
        id: prepared.id,
        user_id: user,
        provider: prepared.provider,
        provider_ref: &prepared.provider_ref,
        amount: prepared.amount,
        currency: prepared.currency.as_str(),
        state: prepared.state,
        capture_method: prepared.capture_method,
        description: &prepared.description,
        failure_reason: prepared.failure_reason.as_deref(),
    };
    let mut intent = PaymentIntent::from(repo::insert(&mut *conn, &new, now).await?);
    intent.client_secret = prepared.client_secret;
    tracing::info!(object = "payment", id = %intent.id, to = %intent.state, provider = %intent.provider, amount = intent.amount, "payment recorded");
    if intent.state == "captured" {
        book_capture(conn, &intent, user, now).await?;
    }
    platform::audit::Entry::new(actor, "payment.create", "payment_intent", intent.id)
        .after(json!({"provider": intent.provider, "amount": intent.amount, "currency": intent.currency, "state": intent.state}))
        .record(conn, now)
        .await?;
    Ok(intent)
}

/// Checks what `provider` needs of the request; `None` (with errors pushed) when it cannot be used.
fn payment_method<'a>(
    provider: Provider,
    req: &'a PaymentRequest,
    settings: &'a crate::LedgerSettings,
    errors: &mut Vec<FieldError>,
) -> Option<Method<'a>> {
    match provider {
        Provider::Sandbox => {
            let card = req.card_number.as_deref().and_then(sandbox_card);
            if card.is_none() {
                errors.push(FieldError::new(
                    "card_number",
                    "unknown_test_card",
                    "the sandbox accepts 4242424242424242, 4000000000000002 or 4000000000003220",
                ));
            }
            card.map(Method::Sandbox)
        }
        Provider::Stripe => {
            let Some(client) = settings.stripe.as_ref() else {
                errors.push(FieldError::new("provider", "not_configured", "Stripe is not configured on this server"));
                return None;
            };
            let method = req.payment_method.as_deref().map(str::trim).unwrap_or_default();
            let well_formed = method.starts_with("pm_")
                && method.len() <= 255
                && method.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !well_formed {
                errors.push(FieldError::new(
                    "payment_method",
                    "invalid_format",
                    "must be a Stripe PaymentMethod id (pm_...)",
                ));
                return None;
            }
            Some(Method::Stripe(client, method))
        }
    }
}

/// Stripe refused a request: its parameter errors name our field where there is one.
fn refused(error: &stripe::ErrorBody) -> ApiError {
    let message = error.message.clone().unwrap_or_else(|| "Stripe refused the request.".into());
    let field = match error.param.as_deref() {
        Some("amount") => "amount",
        Some("currency") => "currency",
        _ => "payment_method",
    };
    ApiError::invalid_field(field, error.reason(), message)
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        LedgerCode::ProviderUnavailable,
        format!(
            "The payment provider could not be reached ({why}); nothing was charged here. Retry with the same Idempotency-Key."
        ),
    )
}

fn stripe_client(settings: &crate::LedgerSettings) -> Result<&stripe::Client, ApiError> {
    settings
        .stripe
        .as_ref()
        .ok_or_else(|| ApiError::new(LedgerCode::ProviderNotConfigured, "Stripe is not configured on this server."))
}

/// What Stripe's refusal of a follow-up call (capture, cancel, refund) means for the caller.
fn provider_error(err: StripeError) -> ApiError {
    match err {
        StripeError::Refused { error, .. } => ApiError::new(
            LedgerCode::ProviderRefused,
            format!("Stripe refused: {}", error.message.clone().unwrap_or_else(|| error.reason())),
        ),
        StripeError::Unavailable(why) => unavailable(&why),
    }
}

/// The payment `id` as its payer (or an admin) may see it, locked for a change when `lock`; anyone else
/// learns nothing. Answers the payment and its payer.
async fn payment_of(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<(PaymentIntent, Uuid), ApiError> {
    let Some(row) = repo::get(conn, id, lock).await? else { return Err(IdentityError::NotFound("payment").into()) };
    if row.user_id != principal.user_id.0 && !principal.has_role("admin") {
        return Err(IdentityError::NotFound("payment").into());
    }
    let user = row.user_id;
    Ok((row.into(), user))
}

/// What a purchase paid by card makes of the card's charge ([`charge_to_wallet`]): through when
/// captured; `402 payment_failed` with the reason when declined; `payment_pending` (with the payment's
/// address, and `pending_detail`) while it waits for the customer.
pub fn captured(intent: PaymentIntent, pending_detail: &'static str) -> Result<(), ApiError> {
    match intent.state.as_str() {
        "captured" => Ok(()),
        "failed" => Err(ApiError::new(
            LedgerCode::PaymentFailed,
            format!("The payment failed ({}).", intent.failure_reason.unwrap_or_default()),
        )),
        _ => Err(pending(intent.id, pending_detail)),
    }
}

/// The answer to a purchase whose card payment waits for the customer (3-D Secure): `payment_pending`,
/// with the payment's address in `Location` so that the client can finish it.
pub fn pending(payment: Uuid, detail: &'static str) -> ApiError {
    let location = axum::http::HeaderValue::from_str(&format!("/v1/payments/{payment}"))
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("/v1/payments"));
    ApiError::new(LedgerCode::PaymentPending, detail).with_header(axum::http::header::LOCATION, location)
}

/// The payment a `payment_pending` answer waits for.
pub fn pending_payment(err: &ApiError) -> Option<Uuid> {
    let location = err.header(axum::http::header::LOCATION)?.to_str().ok()?;
    location.strip_prefix("/v1/payments/")?.parse().ok()
}

/// The sandbox's 3-D Secure step: the payer of a sandbox payment that waits for the customer (card
/// `4000 0000 0000 3220`) approves it (captured, its money in their wallet) or fails it, as a bank's
/// challenge would. Stripe payments finish through Stripe.js and its webhook instead.
pub async fn sandbox_authenticate(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    approve: bool,
) -> Result<PaymentIntent, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(row) = repo::get(&mut tx, id, true).await? else { return Err(IdentityError::NotFound("payment").into()) };
    // Only the payer answers their bank's challenge.
    if row.user_id != principal.user_id.0 || row.provider != Provider::Sandbox {
        return Err(IdentityError::NotFound("payment").into());
    }
    if row.state != PaymentState::Initiated {
        return Err(ApiError::new(
            LedgerCode::InvalidPaymentState,
            format!("This payment is {}: it does not wait for authentication.", row.state.as_str()),
        ));
    }
    let intent = if approve {
        let captured = set_state(&mut tx, id, PaymentState::Captured, None, now).await?;
        book_capture(&mut tx, &captured, row.user_id, now).await?;
        captured
    } else {
        set_state(&mut tx, id, PaymentState::Failed, Some("authentication_failed"), now).await?
    };
    platform::audit::Entry::new(principal.actor(), "payment.sandbox_authentication", "payment", id)
        .after(json!({"approved": approve}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(intent)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<PaymentIntent, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(payment_of(&mut conn, principal, id, false).await?.0)
}

/// Captures an authorized payment, or cancels it. The provider is asked with no transaction open; its
/// answer is then recorded under the payment's lock (a concurrent request that recorded the same
/// answer first is answered with the payment as it is).
pub async fn finish_authorization(
    ctx: &AppContext,
    principal: &Principal,
    settings: &crate::LedgerSettings,
    id: Uuid,
    capture: bool,
) -> Result<PaymentIntent, ApiError> {
    let target = if capture { "captured" } else { "cancelled" };
    let not_authorized = |state: &str| {
        ApiError::new(
            LedgerCode::InvalidPaymentState,
            format!("A {state} payment cannot be {}.", if capture { "captured" } else { "cancelled" }),
        )
    };
    let (intent, _) = payment_of(&mut *ctx.db.acquire().await?, principal, id, false).await?;
    if intent.state != "authorized" {
        return Err(not_authorized(&intent.state));
    }
    if intent.provider == "stripe" {
        let client = stripe_client(settings)?;
        let remote = if capture {
            client.capture_payment_intent(&intent.provider_ref, &format!("backline-capture-{id}")).await
        } else {
            client.cancel_payment_intent(&intent.provider_ref, &format!("backline-cancel-{id}")).await
        }
        .map_err(provider_error)?;
        let expected = if capture { "succeeded" } else { "canceled" };
        if remote.status != expected {
            return Err(ApiError::new(
                LedgerCode::ProviderRefused,
                format!("Stripe left the payment {}, not {expected}.", remote.status),
            ));
        }
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (intent, user) = payment_of(&mut tx, principal, id, true).await?;
    if intent.state == target {
        return Ok(intent);
    }
    if intent.state != "authorized" {
        return Err(not_authorized(&intent.state));
    }
    let updated = if capture {
        let captured = set_state(&mut tx, id, PaymentState::Captured, None, now).await?;
        book_capture(&mut tx, &captured, user, now).await?;
        captured
    } else {
        set_state(&mut tx, id, PaymentState::Cancelled, None, now).await?
    };
    platform::audit::Entry::new(
        principal.actor(),
        if capture { "payment.capture" } else { "payment.cancel" },
        "payment_intent",
        id,
    )
    .before(json!({"state": "authorized"}))
    .after(json!({"state": updated.state}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// The job that finishes a refund whose request died between asking the provider and recording its
/// answer: it asks again with the same key (the provider answers the refund it made, or makes it).
pub const RESUME_REFUND: platform::jobs::JobKind = platform::jobs::JobKind::new("payment.refund.resume");

/// How long a refund may wait for its provider's answer before the resume job takes it over.
pub const REFUND_RESUME_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// A refund that is under way: reserved in the ledger, not yet answered by the provider.
struct PendingRefund {
    payment: PaymentIntent,
    user: Uuid,
    amount: i64,
}

/// Refunds all or part of a captured payment, in three steps so that no transaction is open while the
/// provider is asked: the amount is reserved (moved from the payer's wallet to its held account, which
/// fails if the wallet cannot cover it) and marked pending, and committed; the provider refunds (keyed
/// by the payment and what was refunded before, so a retry is the same call); the answer is recorded
/// (the reserve paid to the clearing account, or returned to the wallet). One refund of a payment is
/// under way at a time; a crash before the answer is recorded leaves a job that finishes it.
pub async fn refund(
    ctx: &AppContext,
    principal: &Principal,
    settings: &crate::LedgerSettings,
    id: Uuid,
    req: &RefundRequest,
) -> Result<PaymentIntent, ApiError> {
    let now = ctx.clock.now();
    let pending = {
        let mut tx = ctx.db.begin().await?;
        let (payment, user) = payment_of(&mut tx, principal, id, true).await?;
        if payment.state == "refunded" {
            return Err(ApiError::new(LedgerCode::AlreadyRefunded, "This payment was refunded in full already."));
        }
        if payment.state != "captured" {
            return Err(ApiError::new(
                LedgerCode::InvalidPaymentState,
                format!("A {} payment cannot be refunded.", payment.state),
            ));
        }
        if payment.refund_pending > 0 {
            return Err(ApiError::new(
                LedgerCode::RefundInProgress,
                "A refund of this payment is being processed; retry once it is done.",
            )
            .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1")));
        }
        let left = payment.amount - payment.refunded_amount;
        let amount = req.amount.unwrap_or(left);
        if amount < 1 || amount > left {
            return Err(ApiError::invalid_field(
                "amount",
                "out_of_range",
                format!("must be between 1 and {left}, what is left to refund"),
            ));
        }
        let currency = currency_of(&payment)?;
        // The wallet must cover the refund before the provider returns any money.
        service::hold(&mut tx, Owner::User(user), &currency, amount, "refund under way", now).await?;
        repo::set_refund_pending(&mut tx, id, amount, now).await?;
        platform::jobs::enqueue(
            &mut tx,
            platform::jobs::NewJob::new(RESUME_REFUND, json!({"payment_id": id}))
                .at(now + REFUND_RESUME_AFTER)
                .unique(format!("refund:{id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        PendingRefund { payment, user, amount }
    };
    let answer = ask_refund(settings.stripe.as_ref(), &pending).await;
    let mut tx = ctx.db.begin().await?;
    let recorded = finish_refund(&mut tx, &pending, answer, principal.actor(), ctx.clock.now()).await?;
    tx.commit().await?;
    recorded
}

fn currency_of(payment: &PaymentIntent) -> Result<Currency, ApiError> {
    Currency::parse(&payment.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))
}

/// Asks the payment's provider to refund: `Ok(())` when it did (the sandbox always does).
async fn ask_refund(stripe: Option<&stripe::Client>, pending: &PendingRefund) -> Result<(), ApiError> {
    let payment = &pending.payment;
    if payment.provider != "stripe" {
        return Ok(());
    }
    // Keyed by what was refunded before: a retry of this refund is the same call, a later refund is not.
    let key = format!("backline-refund-{}-{}-{}", payment.id, payment.refunded_amount, pending.amount);
    let client = stripe
        .ok_or_else(|| ApiError::new(LedgerCode::ProviderNotConfigured, "Stripe is not configured on this server."))?;
    let remote = client.create_refund(&payment.provider_ref, pending.amount, &key).await.map_err(provider_error)?;
    if remote.status == "failed" || remote.status == "canceled" {
        return Err(ApiError::new(
            LedgerCode::ProviderRefused,
            format!("Stripe did not refund: {}", remote.failure_reason.as_deref().unwrap_or(&remote.status)),
        ));
    }
    Ok(())
}

/// Records the provider's answer to a pending refund, in the caller's transaction: refunded (the
/// reserve goes to the clearing account) or not (it returns to the wallet, and the refusal is the
/// answer). Answers `Ok(Ok(payment))` when refunded. A refund finished already (by the resume job, or
/// the request it resumes) is left as it is.
async fn finish_refund(
    conn: &mut PgConnection,
    pending: &PendingRefund,
    answer: Result<(), ApiError>,
    actor: platform::audit::Actor,
    now: DateTime<Utc>,
) -> Result<Result<PaymentIntent, ApiError>, ApiError> {
    let id = pending.payment.id;
    let still = repo::lock_refund_pending(conn, id).await?;
    if still != pending.amount {
        let current = payment_row(conn, id).await?.ok_or(IdentityError::NotFound("payment"))?;
        return Ok(Ok(current.0));
    }
    let currency = currency_of(&pending.payment)?;
    let owner = Owner::User(pending.user);
    platform::jobs::cancel_unique(conn, &format!("refund:{id}"), now).await?;
    if let Err(refusal) = answer {
        service::release(conn, owner, &currency, pending.amount, "refund not made", now).await?;
        repo::set_refund_pending(conn, id, 0, now).await?;
        return Ok(Err(refusal));
    }
    let clearing = service::account(conn, Owner::Platform, kinds::CLEARING, &currency, now).await?;
    let held = service::account(conn, owner, kinds::HELD, &currency, now).await?;
    service::transfer(
        conn,
        held.id,
        clearing.id,
        pending.amount,
        "payment.refunded",
        &pending.payment.description,
        now,
    )
    .await?;
    let left = pending.payment.amount - pending.payment.refunded_amount;
    let state = if pending.amount == left { PaymentState::Refunded } else { PaymentState::Captured };
    let updated = PaymentIntent::from(repo::record_refund(conn, id, pending.amount, state, now).await?);
    tracing::info!(object = "payment", id = %id, refunded = pending.amount, to = state.as_str(), "refund recorded");
    platform::audit::Entry::new(actor, "payment.refund", "payment_intent", id)
        .after(json!({"amount": pending.amount, "refunded_amount": updated.refunded_amount, "state": state.as_str()}))
        .record(conn, now)
        .await?;
    Ok(Ok(updated))
}

/// A payment and its payer.
async fn payment_row(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<(PaymentIntent, Uuid)>> {
    Ok(repo::get(conn, id, false).await?.map(|row| {
        let user = row.user_id;
        (row.into(), user)
    }))
}

/// The `payment.refund.resume` job: asks the provider again for a refund whose request did not record
/// the answer. A provider that cannot be reached is asked again later.
async fn resume_refund(
    ctx: AppContext,
    stripe: Option<&stripe::Client>,
    id: Uuid,
) -> Result<(), platform::jobs::JobFailure> {
    let row = payment_row(&mut *ctx.db.acquire().await?, id).await?;
    let Some((payment, user)) = row else {
        return Err(platform::jobs::JobFailure::permanent("no such payment"));
    };
    let amount = payment.refund_pending;
    if amount == 0 {
        return Ok(()); // finished by its request
    }
    let pending = PendingRefund { payment, user, amount };
    let answer = ask_refund(stripe, &pending).await;
    if let Err(err) = &answer
        && err.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE
    {
        return Err(platform::jobs::JobFailure::retry(err.to_string()));
    }
    let mut tx = ctx.db.begin().await?;
    let _ = finish_refund(&mut tx, &pending, answer, platform::audit::Actor::default(), ctx.clock.now())
        .await
        .map_err(|e| platform::jobs::JobFailure::retry(e.to_string()))?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut platform::jobs::Registry, stripe: Option<stripe::Client>) {
    registry.register(RESUME_REFUND, move |ctx: AppContext, job: platform::jobs::Job| {
        let stripe = stripe.clone();
        async move {
            let id: Uuid = job.field("payment_id")?;
            resume_refund(ctx, stripe.as_ref(), id).await
        }
    });
}

/// Handles one provider webhook: verifies it, stores it once, and applies it once.
pub async fn receive(
    ctx: &AppContext,
    provider: &str,
    secrets: &[String],
    signature: Option<&str>,
    payload: &[u8],
) -> Result<bool, ApiError> {
    if provider != "stripe" && provider != "sandbox" {
        return Err(ApiError::not_found("No such payment provider."));
    }
    let now = ctx.clock.now();
    verify_signature(signature.unwrap_or_default(), payload, secrets, now.timestamp()).map_err(|e| {
        ApiError::new(LedgerCode::InvalidSignature, format!("The webhook signature is not valid: {e}."))
    })?;
    let event: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|_| ApiError::new(PlatformCode::MalformedJson, "The event is not JSON."))?;
    let (Some(event_id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(ApiError::new(LedgerCode::MalformedEvent, "The event has no id or type."));
    };
    let mut tx = ctx.db.begin().await?;
    let inserted = repo::insert_provider_event(&mut tx, provider, event_id, kind, &event, now).await?;
    if !inserted {
        return Ok(false); // seen before: acknowledged, nothing applied again
    }
    let reference = event["data"]["object"]["id"].as_str().unwrap_or_default();
    let intent = repo::by_provider_ref(&mut tx, provider, reference).await?.map(|p| (p.id, p.user_id, p.state));
    match (kind, intent) {
        ("payment_intent.succeeded", Some((id, user, state)))
            if state == PaymentState::Initiated || state == PaymentState::Authorized =>
        {
            let captured = set_state(&mut tx, id, PaymentState::Captured, None, now).await?;
            book_capture(&mut tx, &captured, user, now).await?;
        }
        ("payment_intent.payment_failed", Some((id, _, state)))
            if state == PaymentState::Initiated || state == PaymentState::Authorized =>
        {
            let reason = event["data"]["object"]["last_payment_error"]["code"].as_str().unwrap_or("payment_failed");
            set_state(&mut tx, id, PaymentState::Failed, Some(reason), now).await?;
        }
        ("payment_intent.amount_capturable_updated", Some((id, _, PaymentState::Initiated))) => {
            set_state(&mut tx, id, PaymentState::Authorized, None, now).await?;
        }
        ("payment_intent.canceled", Some((id, _, state)))
            if state == PaymentState::Initiated || state == PaymentState::Authorized =>
        {
            set_state(&mut tx, id, PaymentState::Cancelled, None, now).await?;
        }
        _ => {} // stored and acknowledged
    }
    repo::provider_event_processed(&mut tx, provider, event_id, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Payments by outcome for `/metrics`: how many are in each state (captured, failed, refunded, ...).
pub fn metrics_collector() -> platform::metrics::Collector {
    std::sync::Arc::new(|pool: sqlx::PgPool| {
        Box::pin(async move {
            let help = "Payments by state: initiated, authorized, captured, failed, cancelled, refunded.";
            Ok(super::repo::state_counts(&pool)
                .await?
                .into_iter()
                .map(|(state, n)| {
                    platform::metrics::Sample::new("backline_payments", help, n as f64).label("state", state)
                })
                .collect())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signed by Stripe's own library (stripe-python 16.1.0, `WebhookSignature._compute_signature`) and
    /// accepted by its `verify_header`.
    const PAYLOAD: &str = r#"{"id":"evt_test_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_123","amount":2500,"currency":"eur"}}}"#;
    const SECRET: &str = "whsec_backline_test_vector";
    const HEADER: &str = "t=1763800000,v1=00d41ab1379cd1482b60bb4791a6ed82e5410582355336083f7736b4001af9cf";

    #[test]
    fn a_signature_made_by_stripes_library_verifies() {
        assert_eq!(verify_signature(HEADER, PAYLOAD.as_bytes(), &[SECRET.into()], 1_763_800_000), Ok(()));
    }

    #[test]
    fn tolerance_is_300_seconds_either_way() {
        let secrets = [SECRET.to_owned()];
        assert_eq!(verify_signature(HEADER, PAYLOAD.as_bytes(), &secrets, 1_763_800_300), Ok(()));
        assert_eq!(verify_signature(HEADER, PAYLOAD.as_bytes(), &secrets, 1_763_800_301), Err(SignatureError::Stale));
        assert_eq!(verify_signature(HEADER, PAYLOAD.as_bytes(), &secrets, 1_763_799_699), Err(SignatureError::Stale));
    }

    #[test]
    fn tampering_wrong_secrets_and_malformed_headers_are_refused() {
        let secrets = [SECRET.to_owned()];
        let tampered = PAYLOAD.replace("2500", "25000");
        assert_eq!(
            verify_signature(HEADER, tampered.as_bytes(), &secrets, 1_763_800_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(HEADER, PAYLOAD.as_bytes(), &["whsec_other".into()], 1_763_800_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("v1=abc", PAYLOAD.as_bytes(), &secrets, 1_763_800_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature("t=1763800000", PAYLOAD.as_bytes(), &secrets, 1_763_800_000),
            Err(SignatureError::Malformed)
        );
        // Any of several v1 values, and any of several secrets (rotation).
        let several = format!("t=1763800000,v1=deadbeef,{}", &HEADER["t=1763800000,".len()..]);
        assert_eq!(
            verify_signature(&several, PAYLOAD.as_bytes(), &["whsec_old".into(), SECRET.into()], 1_763_800_000),
            Ok(())
        );
    }
}
