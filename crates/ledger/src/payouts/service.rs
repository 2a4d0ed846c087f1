//! Payout methods and withdrawals. Details of a payout method are sealed at rest with the server key;
//! only a masked form is shown. A withdrawal holds its amount and fee at request time (so they cannot be
//! spent twice), then a `withdrawal.process` job pays it out through the payout provider: on success the
//! held money leaves through the platform's clearing account and the fee goes to the platform's fees; on
//! failure, or when the user cancels a queued withdrawal, the held money returns to the available balance.
//!
//! Each method is paid through one provider, chosen when it is added: a Stripe Connect account through
//! Stripe (a Connect transfer, keyed by the withdrawal so a retried job pays once) when Stripe is
//! configured, everything else through the sandbox (documented in docs/ledger.md): a bank account whose
//! IBAN ends in `0000`, or a PayPal address containing `+fail`, fails; everything else is paid.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::*;
use super::repo;
use crate::error::LedgerCode;
use crate::error::LedgerError;
use crate::model::{Currency, Iban, Owner, PayoutKind, Provider, Verification, WithdrawalState, kinds};
use crate::service::{self, Leg, NewEntry};
use crate::stripe::{self, StripeError};

pub const PROCESS: JobKind = JobKind::new("withdrawal.process").max_attempts(6);

/// Withdrawal rules (settings with the defaults of the product rules).
#[derive(Debug, Clone, Copy)]
pub struct WithdrawalSettings {
    /// Smallest withdrawal, in minor units.
    pub minimum: i64,
    /// Fee charged below `free_from`.
    pub fee: i64,
    /// From this amount on, withdrawals are free.
    pub free_from: i64,
    /// From this amount on, a withdrawal waits for an admin's approval (none by default).
    pub approval_from: Option<i64>,
}

impl Default for WithdrawalSettings {
    fn default() -> Self {
        Self { minimum: 1_000, fee: 100, free_from: 5_000, approval_from: None }
    }
}

impl WithdrawalSettings {
    pub fn fee_for(&self, amount: i64) -> i64 {
        if amount >= self.free_from { 0 } else { self.fee }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Details {
    BankAccount { iban: String, account_holder: String },
    Paypal { email: String },
    StripeConnect { account: String },
}

pub async fn add_method(
    ctx: &AppContext,
    principal: &Principal,
    stripe: Option<&stripe::Client>,
    req: PayoutMethodRequest,
) -> Result<PayoutMethod, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let field = |name: &str, code: &str, message: &str| ApiError::invalid_field(name, code, message);
    let kind = PayoutKind::parse(&req.kind)
        .ok_or_else(|| field("kind", "invalid_value", "must be bank_account, paypal or stripe_connect"))?;
    let (details, display) = match kind {
        PayoutKind::BankAccount => {
            let iban = Iban::parse(
                req.iban.as_deref().ok_or_else(|| field("iban", "required", "is required for a bank account"))?,
            )
            .map_err(|why| field("iban", "invalid_iban", why))?;
            let holder =
                req.account_holder.as_deref().map(str::trim).filter(|h| !h.is_empty() && h.chars().count() <= 140);
            let holder = holder.ok_or_else(|| {
                field("account_holder", "required", "is required for a bank account (1 to 140 characters)")
            })?;
            let display = iban.masked();
            (Details::BankAccount { iban: iban.as_str().to_owned(), account_holder: holder.to_owned() }, display)
        }
        PayoutKind::Paypal => {
            let email = identity::model::Email::parse("email", req.email.as_deref().unwrap_or_default())
                .map_err(|e| ApiError::validation(vec![e]))?;
            let email = email.as_str().to_owned();
            let display = format!("{}•••@{}", &email[..1], email.rsplit_once('@').map_or("", |(_, d)| d));
            (Details::Paypal { email }, display)
        }
        PayoutKind::StripeConnect => {
            let account = req.stripe_account_id.as_deref().map(str::trim).unwrap_or_default();
            let ok = account.starts_with("acct_")
                && account.len() >= 10
                && account.len() <= 64
                && account[5..].chars().all(|c| c.is_ascii_alphanumeric());
            if !ok {
                return Err(field("stripe_account_id", "invalid_format", "must be a Stripe account id (acct_...)"));
            }
            let display = format!("acct_•••{}", &account[account.len() - 4..]);
            (Details::StripeConnect { account: account.to_owned() }, display)
        }
    };
    // A connected account is paid through Stripe when it is configured, and must exist there; it is
    // verified once Stripe can transfer to it. Everything else goes through the sandbox, which verifies
    // a well-formed method at once.
    let (provider, verification) = match (&details, stripe) {
        (Details::StripeConnect { account }, Some(client)) => match client.retrieve_account(account).await {
            Ok(found) => (
                Provider::Stripe,
                if found.accepts_transfers() { Verification::Verified } else { Verification::Unverified },
            ),
            Err(StripeError::Refused { .. }) => {
                return Err(field(
                    "stripe_account_id",
                    "unknown_account",
                    "is not an account connected to this platform on Stripe",
                ));
            }
            Err(StripeError::Unavailable(why)) => {
                return Err(ApiError::new(
                    LedgerCode::ProviderUnavailable,
                    format!("Stripe could not be reached to check the account ({why}); try again."),
                ));
            }
        },
        _ => (Provider::Sandbox, Verification::Verified),
    };
    let sealed = ctx.secrets.seal(&serde_json::to_vec(&details).unwrap_or_default());
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let has_default = repo::has_default_method(&mut tx, principal.user_id.0).await?;
    let make_default = req.make_default || !has_default;
    if make_default {
        repo::clear_default_method(&mut tx, principal.user_id.0).await?;
    }
    let new = repo::NewMethod {
        id: platform::ids::new_id(),
        user_id: principal.user_id.0,
        kind,
        details_sealed: &sealed,
        display: &display,
        is_default: make_default,
        verification,
        provider,
    };
    let method = repo::insert_method(&mut tx, &new, now).await?;
    platform::audit::Entry::new(principal.actor(), "payout_method.add", "payout_method", method.id)
        .after(json!({"kind": method.kind, "display": method.display, "default": make_default, "provider": provider}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(method.into())
}

pub async fn methods(ctx: &AppContext, principal: &Principal) -> Result<PayoutMethodList, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let items = repo::methods_of(&ctx.db, principal.user_id.0).await?;
    Ok(PayoutMethodList { items: items.into_iter().map(PayoutMethod::from).collect() })
}

pub async fn remove_method(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !repo::remove_method(&mut tx, id, principal.user_id.0, now).await? {
        return Err(IdentityError::NotFound("payout method").into());
    }
    platform::audit::Entry::new(principal.actor(), "payout_method.remove", "payout_method", id)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Requests a withdrawal in the caller's transaction: holds amount and fee, queues the payout.
pub async fn request(
    conn: &mut PgConnection,
    principal: &Principal,
    settings: WithdrawalSettings,
    req: &WithdrawalRequest,
    now: DateTime<Utc>,
) -> Result<Withdrawal, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let mut errors = Vec::new();
    let currency = Currency::parse(&req.currency);
    if currency.as_ref().is_none_or(|c| c.as_str() == "CREDIT") {
        errors.push(FieldError::new("currency", "invalid_value", "must be a currency Backline pays out in"));
    }
    let own = match &currency {
        Some(c) => repo::minimum_of(conn, principal.user_id.0, c.as_str()).await?,
        None => None,
    };
    match own {
        Some((minimum, reason)) if minimum > settings.minimum && req.amount < minimum => {
            errors.push(FieldError::new(
                "amount",
                "below_minimum",
                format!("must be at least {minimum} (minor units): {reason}"),
            ));
        }
        _ if req.amount < settings.minimum => errors.push(FieldError::new(
            "amount",
            "below_minimum",
            format!("must be at least {} (minor units)", settings.minimum),
        )),
        _ => {}
    }
    let (Some(currency), true) = (currency, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let verification = repo::method_verification(conn, req.payout_method_id, principal.user_id.0).await?;
    match verification {
        None => {
            return Err(ApiError::invalid_field("payout_method_id", "not_found", "is not one of your payout methods"));
        }
        Some(verification) if verification != Verification::Verified => {
            return Err(ApiError::invalid_field("payout_method_id", "unverified", "is not verified yet"));
        }
        Some(_) => {}
    }
    let fee = settings.fee_for(req.amount);
    let owner = Owner::User(principal.user_id.0);
    let hold =
        service::hold(conn, owner, &currency, req.amount + fee, "withdrawal", now).await.map_err(ApiError::from)?;
    let needs_approval = settings.approval_from.is_some_and(|from| req.amount >= from);
    let new = repo::NewWithdrawal {
        id: platform::ids::new_id(),
        user_id: principal.user_id.0,
        payout_method_id: req.payout_method_id,
        amount: req.amount,
        fee,
        currency: currency.as_str(),
        hold_entry: hold.0,
        needs_approval,
    };
    let withdrawal = repo::insert_withdrawal(conn, &new, now).await?;
    if !needs_approval {
        queue_payout(conn, withdrawal.id, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "withdrawal.request", "withdrawal", withdrawal.id)
        .after(json!({"amount": req.amount, "fee": fee, "currency": currency.as_str(), "state": "queued"}))
        .record(conn, now)
        .await?;
    Ok(withdrawal.into())
}

pub async fn withdrawals(ctx: &AppContext, principal: &Principal) -> Result<WithdrawalList, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let items = repo::withdrawals_of(&ctx.db, principal.user_id.0).await?;
    Ok(WithdrawalList { items: items.into_iter().map(Withdrawal::from).collect() })
}

async fn queue_payout(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    jobs::enqueue(conn, NewJob::new(PROCESS, json!({"withdrawal_id": id})).unique(format!("withdrawal:{id}")), now)
        .await
        .map(|_| ())
}

/// Withdrawals waiting for an admin's approval, oldest first (admins).
pub async fn awaiting_approval(ctx: &AppContext, principal: &Principal) -> Result<WithdrawalList, ApiError> {
    authz::authorize(principal, "ledger.adjust", Target::Platform)?;
    let items = repo::awaiting_approval(&ctx.db).await?;
    Ok(WithdrawalList { items: items.into_iter().map(Withdrawal::from).collect() })
}

/// An admin approves a waiting withdrawal (its payout is queued), or rejects it (its money returns).
pub async fn decide(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    approve: bool,
    reason: Option<&str>,
) -> Result<Withdrawal, ApiError> {
    authz::authorize(principal, "ledger.adjust", Target::Platform)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let w = repo::lock(&mut tx, id).await?.ok_or(IdentityError::NotFound("withdrawal"))?;
    if w.state != WithdrawalState::Queued || !w.unapproved {
        return Err(ApiError::new(LedgerCode::NotAwaitingApproval, "This withdrawal is not waiting for approval."));
    }
    if approve {
        repo::approve(&mut tx, id, principal.user_id.0, now).await?;
        queue_payout(&mut tx, id, now).await?;
    } else {
        let reason = format!("rejected by an admin: {}", reason.unwrap_or("no reason given"));
        settle(&mut tx, &w, WithdrawalState::Cancelled, Some(&reason), now).await?;
    }
    platform::audit::Entry::new(
        principal.actor(),
        if approve { "withdrawal.approve" } else { "withdrawal.reject" },
        "withdrawal",
        id,
    )
    .after(json!({"reason": reason}))
    .record(&mut tx, now)
    .await?;
    let withdrawal = repo::withdrawal(&mut tx, id).await?;
    tx.commit().await?;
    Ok(withdrawal.into())
}

/// Settles a withdrawal: paid (the money leaves, the fee is the platform's) or returned (failed, cancelled).
async fn settle(
    conn: &mut PgConnection,
    w: &repo::Locked,
    outcome: WithdrawalState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), LedgerError> {
    tracing::info!(object = "withdrawal", id = %w.id, from = %w.state, to = %outcome, reason, "state changed");
    let currency = Currency::parse(&w.currency).ok_or(LedgerError::Unbalanced(w.currency.clone()))?;
    let owner = Owner::User(w.user_id);
    let held = service::account(conn, owner, kinds::HELD, &currency, now).await?;
    let entry = if outcome == WithdrawalState::Paid {
        let clearing = service::account(conn, Owner::Platform, kinds::CLEARING, &currency, now).await?;
        let fees = service::account(conn, Owner::Platform, kinds::FEES, &currency, now).await?;
        let mut legs =
            vec![Leg { account: held.id, amount: -(w.amount + w.fee) }, Leg { account: clearing.id, amount: w.amount }];
        if w.fee > 0 {
            legs.push(Leg { account: fees.id, amount: w.fee });
        }
        service::post(
            conn,
            NewEntry { kind: "withdrawal.paid", memo: "", legs, metadata: json!({"withdrawal": w.id}) },
            now,
        )
        .await?
    } else {
        service::release(conn, owner, &currency, w.amount + w.fee, "withdrawal returned", now).await?
    };
    repo::settle(conn, w.id, outcome, entry.0, reason, now).await?;
    if outcome != WithdrawalState::Cancelled {
        let method = repo::method_display(conn, w.payout_method_id).await?;
        let event = platform::events::Event {
            kind: if outcome == WithdrawalState::Paid { "withdrawal.paid" } else { "withdrawal.failed" },
            recipients: vec![w.user_id],
            organization: None,
            data: json!({"withdrawal_id": w.id, "amount": currency.display(w.amount), "method": method, "reason": reason}),
        };
        platform::events::emit(conn, event, now).await?;
    }
    Ok(())
}

/// Cancels a withdrawal that is still queued; its money returns.
pub async fn cancel(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Withdrawal, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let w = repo::lock(&mut tx, id)
        .await?
        .filter(|w| w.user_id == principal.user_id.0)
        .ok_or(IdentityError::NotFound("withdrawal"))?;
    if w.state != WithdrawalState::Queued {
        return Err(ApiError::new(
            LedgerCode::NotCancellable,
            format!("A {} withdrawal cannot be cancelled.", w.state),
        ));
    }
    settle(&mut tx, &w, WithdrawalState::Cancelled, None, now).await?;
    jobs::cancel_unique(&mut tx, &format!("withdrawal:{id}"), now).await?;
    platform::audit::Entry::new(principal.actor(), "withdrawal.cancel", "withdrawal", id)
        .before(json!({"state": "queued"}))
        .after(json!({"state": "cancelled"}))
        .record(&mut tx, now)
        .await?;
    let withdrawal = repo::withdrawal(&mut tx, id).await?;
    tx.commit().await?;
    Ok(withdrawal.into())
}

/// The sandbox payout provider's answer for a method.
/// The sandbox provider: pays at once with a reference of its own (`sandbox_po_…`, one per withdrawal,
/// so a retried payout finds the same one, as a real provider's idempotency key would), or refuses the
/// documented test details.
fn sandbox_pays(w: &repo::Locked, details: &Details) -> Result<Option<String>, String> {
    match details {
        Details::BankAccount { iban, .. } if iban.ends_with("0000") => {
            Err("the bank refused the transfer (sandbox: IBAN ending in 0000)".into())
        }
        Details::Paypal { email } if email.contains("+fail") => {
            Err("PayPal refused the payout (sandbox: +fail address)".into())
        }
        _ => Ok(Some(format!("sandbox_po_{}", w.id.simple()))),
    }
}

/// Pays a withdrawal to a connected account with a Connect transfer: `Ok(Ok(transfer id))` when paid,
/// `Ok(Err(reason))` when Stripe refuses (the money returns), `Err` to retry later. The idempotency key is
/// the withdrawal's, so a job retried after a crash or a timeout finds the transfer already made.
async fn stripe_pays(
    client: &stripe::Client,
    w: &repo::Locked,
    account: &str,
) -> Result<Result<Option<String>, String>, JobFailure> {
    let params = [
        ("amount", w.amount.to_string()),
        ("currency", stripe::currency(&w.currency)),
        ("destination", account.to_owned()),
        ("transfer_group", format!("withdrawal_{}", w.id.simple())),
        ("metadata[backline_withdrawal_id]", w.id.to_string()),
    ];
    match client.create_transfer(&params, &format!("backline-withdrawal-{}", w.id)).await {
        Ok(transfer) => Ok(Ok(Some(transfer.id))),
        Err(StripeError::Refused { error, .. }) => Ok(Err(format!(
            "Stripe refused the transfer: {} ({})",
            error.message.clone().unwrap_or_else(|| "no reason given".into()),
            error.reason()
        ))),
        Err(StripeError::Unavailable(why)) => Err(JobFailure::retry(why)),
    }
}

/// Records what the provider answered: paid with its reference, or failed with its reason (the money
/// returns to the user's wallet).
async fn record_outcome(
    conn: &mut PgConnection,
    w: &repo::Locked,
    outcome: Result<Option<String>, String>,
    now: DateTime<Utc>,
) -> Result<(), LedgerError> {
    match outcome {
        Ok(reference) => {
            repo::set_provider_ref(conn, w.id, reference.as_deref()).await?;
            settle(conn, w, WithdrawalState::Paid, None, now).await
        }
        Err(reason) => settle(conn, w, WithdrawalState::Failed, Some(&reason), now).await,
    }
}

/// The `withdrawal.process` job, in three steps so that no database transaction stays open while a
/// provider is called: the payout is marked `processing` and committed; the provider is asked (keyed by
/// the withdrawal, so a retry after a crash or a time-out pays once); the outcome is recorded in a
/// second transaction, which only a withdrawal still `processing` accepts (a concurrent run of the same
/// job that got there first has settled it).
async fn process(ctx: AppContext, stripe: Option<&stripe::Client>, id: Uuid) -> Result<(), JobFailure> {
    let (w, provider, details) = {
        let now = ctx.clock.now();
        let mut tx = ctx.db.begin().await?;
        let Some(w) = repo::lock(&mut tx, id).await? else { return Err(JobFailure::permanent("no such withdrawal")) };
        if w.state != WithdrawalState::Queued && w.state != WithdrawalState::Processing {
            return Ok(()); // settled already (cancelled, or an earlier run finished)
        }
        if w.unapproved {
            return Err(JobFailure::permanent("the withdrawal waits for an admin's approval"));
        }
        tracing::info!(object = "withdrawal", id = %id, from = %w.state, to = "processing", "state changed");
        repo::mark_processing(&mut tx, id, now).await?;
        let (sealed, provider) = repo::method_details(&mut tx, w.payout_method_id).await?;
        let details: Details =
            ctx.secrets.open(&sealed).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(|| {
                JobFailure::permanent("the payout method's details cannot be read with this server's key")
            })?;
        tx.commit().await?;
        (w, provider, details)
    };
    let outcome = match (provider, &details) {
        (Provider::Stripe, Details::StripeConnect { account }) => {
            let client = stripe.ok_or_else(|| JobFailure::retry("Stripe is not configured on this worker"))?;
            stripe_pays(client, &w, account).await?
        }
        _ => sandbox_pays(&w, &details),
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(w) = repo::lock(&mut tx, id).await? else { return Err(JobFailure::permanent("no such withdrawal")) };
    if w.state != WithdrawalState::Processing {
        return Ok(()); // another run of this job recorded the same outcome first
    }
    record_outcome(&mut tx, &w, outcome, now).await.map_err(|e| JobFailure::retry(e.to_string()))?;
    let actor = platform::audit::Actor::default();
    let state = repo::withdrawal(&mut tx, id).await?.state.as_str();
    platform::audit::Entry::new(actor, "withdrawal.settle", "withdrawal", id)
        .after(json!({"state": state}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry, stripe: Option<stripe::Client>) {
    registry.register(PROCESS, move |ctx: AppContext, job: Job| {
        let stripe = stripe.clone();
        async move {
            let id: Uuid = job.field("withdrawal_id")?;
            process(ctx, stripe.as_ref(), id).await
        }
    });
}

/// For demo data: adds a bank account for `user` and a withdrawal through it, settled at once as the
/// sandbox would settle it (paid, or failed for an IBAN ending in 0000), through the same ledger steps.
pub async fn demo_withdrawal(
    conn: &mut PgConnection,
    secrets: &platform::crypto::SecretBox,
    user: Uuid,
    iban: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let iban = Iban::parse(iban).map_err(anyhow::Error::msg)?;
    let details = Details::BankAccount { iban: iban.as_str().to_owned(), account_holder: "Demo".into() };
    let sealed = secrets.seal(&serde_json::to_vec(&details)?);
    let is_default = !repo::has_default_method(conn, user).await?;
    let new = repo::NewMethod {
        id: platform::ids::new_id(),
        user_id: user,
        kind: PayoutKind::BankAccount,
        details_sealed: &sealed,
        display: &iban.masked(),
        is_default,
        verification: Verification::Verified,
        provider: Provider::Sandbox,
    };
    let method = repo::insert_method(conn, &new, now).await?.id;
    let settings = WithdrawalSettings::default();
    let fee = settings.fee_for(amount);
    let currency = Currency::parse("EUR").ok_or_else(|| anyhow::anyhow!("EUR"))?;
    let hold = service::hold(conn, Owner::User(user), &currency, amount + fee, "withdrawal", now).await?;
    let id = platform::ids::new_id();
    let new = repo::NewWithdrawal {
        id,
        user_id: user,
        payout_method_id: method,
        amount,
        fee,
        currency: "EUR",
        hold_entry: hold.0,
        needs_approval: false,
    };
    repo::insert_withdrawal(conn, &new, now).await?;
    let locked = repo::lock(conn, id).await?.ok_or_else(|| anyhow::anyhow!("the withdrawal vanished"))?;
    record_outcome(conn, &locked, sandbox_pays(&locked, &details), now).await?;
    Ok(())
}
