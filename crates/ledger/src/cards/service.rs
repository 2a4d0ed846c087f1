//! Keeping a card on file, listing and removing it, and charging it on its holder's standing
//! instruction (an organization's plan renewing each month).

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{NewSavedCard, SavedCard};
use super::repo::{self, CardRow};
use crate::LedgerSettings;
use crate::model::Provider;
use crate::payments::dto::PaymentIntent;
use crate::payments::service::{self as payments, Charge};
use identity::error::IdentityError;

impl From<CardRow> for SavedCard {
    fn from(row: CardRow) -> Self {
        Self {
            id: row.id,
            provider: row.provider.as_str().to_owned(),
            display: row.display,
            created_at: row.created_at,
        }
    }
}

fn well_formed(id: &str, prefix: &str) -> bool {
    id.starts_with(prefix)
        && id.len() > prefix.len() + 3
        && id.len() <= 255
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Keeps a card of the caller's on file (verified accounts). The sandbox keeps its two test cards that
/// settle at once (charges by `4242424242424242` succeed, by `4000000000000002` are declined); Stripe a
/// PaymentMethod attached to a customer for use off session.
pub async fn save(
    ctx: &AppContext,
    settings: &LedgerSettings,
    principal: &Principal,
    req: NewSavedCard,
) -> Result<SavedCard, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let provider = match req.provider.as_deref() {
        None => settings.default_provider,
        Some(p) => Provider::parse(p)
            .ok_or_else(|| ApiError::invalid_field("provider", "invalid_value", "must be sandbox or stripe"))?,
    };
    let (secret, display) = match provider {
        Provider::Sandbox => {
            let number: String = req.card_number.as_deref().unwrap_or_default().split_whitespace().collect();
            if !payments::sandbox_keeps(&number) {
                return Err(ApiError::invalid_field(
                    "card_number",
                    "unknown_test_card",
                    "the sandbox keeps 4242424242424242 or 4000000000000002 on file",
                ));
            }
            let display = format!("•••• {}", &number[number.len() - 4..]);
            (number, display)
        }
        Provider::Stripe => {
            if settings.stripe.is_none() {
                return Err(ApiError::invalid_field(
                    "provider",
                    "not_configured",
                    "Stripe is not configured on this server",
                ));
            }
            let method = req.payment_method.as_deref().map(str::trim).unwrap_or_default();
            let customer = req.customer.as_deref().map(str::trim).unwrap_or_default();
            let mut errors = Vec::new();
            if !well_formed(method, "pm_") {
                errors.push(platform::error::FieldError::new(
                    "payment_method",
                    "invalid_format",
                    "must be a Stripe PaymentMethod id (pm_...)",
                ));
            }
            if !well_formed(customer, "cus_") {
                errors.push(platform::error::FieldError::new(
                    "customer",
                    "invalid_format",
                    "must be the Stripe customer (cus_...) the PaymentMethod is attached to",
                ));
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            (format!("{customer}/{method}"), format!("pm_•••{}", &method[method.len() - 4..]))
        }
    };
    let now = ctx.clock.now();
    let row = CardRow {
        id: platform::ids::new_id(),
        user_id: principal.user_id.0,
        provider,
        secret: ctx.secrets.seal(secret.as_bytes()),
        display,
        created_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    repo::insert(&mut tx, &row).await?;
    platform::audit::Entry::new(principal.actor(), "card.save", "saved_card", row.id)
        .after(json!({"provider": provider.as_str(), "display": row.display}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.into())
}

/// The caller's cards on file, newest first.
pub async fn list(ctx: &AppContext, principal: &Principal) -> Result<Vec<SavedCard>, ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::of_user(&mut conn, principal.user_id.0).await?.into_iter().map(SavedCard::from).collect())
}

/// Removes a card of the caller's: its details are wiped, and nothing charges it any more.
pub async fn remove(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    authz::authorize(principal, "ledger.read", Target::OwnedBy(principal.user_id))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !repo::remove(&mut tx, id, principal.user_id.0, now).await? {
        return Err(IdentityError::NotFound("card").into());
    }
    platform::audit::Entry::new(principal.actor(), "card.remove", "saved_card", id).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// For other domains: a card on file, masked, with its holder; none when it was removed.
pub async fn on_file(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<(Uuid, SavedCard)>> {
    Ok(repo::card(conn, id).await?.map(|row| (row.user_id, row.into())))
}

/// For other domains: charges a card on file `amount` (minor units of `currency`) into its holder's
/// wallet, on the holder's standing instruction. `key` makes a retry find the first charge rather than
/// charge again. A declined card answers a payment in state `failed` with its reason; a removed one
/// `404`. No transaction is open while the provider is asked.
#[allow(clippy::too_many_arguments)]
pub async fn charge(
    ctx: &AppContext,
    settings: &LedgerSettings,
    card: Uuid,
    amount: i64,
    currency: &str,
    description: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<PaymentIntent, ApiError> {
    let row = repo::card(&mut *ctx.db.acquire().await?, card).await?.ok_or(IdentityError::NotFound("card"))?;
    let secret = ctx
        .secrets
        .open(&row.secret)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a saved card's details cannot be opened")))?;
    let charge = Charge { user: row.user_id, amount, currency, description, provider: row.provider, secret: &secret };
    let scope = format!("card-charge:{card}");
    let fingerprint = platform::idempotency::fingerprint("charge_saved_card", &(amount, currency, description));
    let outcome = platform::idempotency::run_prepared(
        &ctx.db,
        &scope,
        Some(key),
        &fingerprint,
        axum::http::StatusCode::CREATED,
        now,
        async || payments::prepare_saved(&charge, settings, key).await,
        async |conn, prepared| {
            payments::record_as(conn, platform::audit::Actor::default(), row.user_id, prepared, now).await
        },
    )
    .await?;
    Ok(outcome.value)
}
