//! Credits through the ledger. A purchase is one journal entry in two currencies (the payer's money to
//! the platform's credit sales, and credits issued from the platform's clearing account to the
//! company); a hold, a release and a spend move credits between the company's accounts and the
//! platform's; an approval also credits the freelancer's earning (70% of the credits' value, in the
//! money the credits were sold in) from the platform's credit sales. Each entry names its task.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use ledger::model::{Currency, Owner, kinds};
use ledger::service::{Leg, NewEntry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use crate::TaskSettings;
use crate::model::TaskId;

fn credit() -> Currency {
    Currency::parse("CREDIT").expect("CREDIT is a ledger currency")
}

fn money(settings: &TaskSettings) -> Result<Currency, ApiError> {
    Currency::parse(&settings.credit_currency).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("credit price currency {} unknown", settings.credit_currency))
    })
}

/// The company's available credits.
async fn available(conn: &mut PgConnection, org: Uuid, now: DateTime<Utc>) -> Result<i64, ApiError> {
    Ok(ledger::service::account(conn, Owner::Organization(org), kinds::AVAILABLE, &credit(), now).await?.balance)
}

/// Holds a task's credits; refused with what the company has when it lacks them.
pub(crate) async fn hold(
    conn: &mut PgConnection,
    org: Uuid,
    credits: i32,
    task: TaskId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let have = available(conn, org, now).await?;
    if have < i64::from(credits) {
        return Err(ApiError::new(
            ledger::error::LedgerCode::InsufficientFunds,
            format!("The company has {have} credits available; this task needs {credits}. Buy a pack first."),
        ));
    }
    move_credits(
        conn,
        (Owner::Organization(org), kinds::AVAILABLE),
        (Owner::Organization(org), kinds::HELD),
        credits,
        "credits.hold",
        task,
        now,
    )
    .await
}

/// Gives a cancelled task's held credits back.
pub(crate) async fn release(
    conn: &mut PgConnection,
    org: Uuid,
    credits: i32,
    task: TaskId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    move_credits(
        conn,
        (Owner::Organization(org), kinds::HELD),
        (Owner::Organization(org), kinds::AVAILABLE),
        credits,
        "credits.release",
        task,
        now,
    )
    .await
}

/// Spends an approved task's held credits and credits the freelancer's earning; answers the earning
/// in minor units and as text.
pub(crate) async fn spend(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    org: Uuid,
    credits: i32,
    task: TaskId,
    freelancer: Uuid,
    now: DateTime<Utc>,
) -> Result<(i64, String), ApiError> {
    move_credits(
        conn,
        (Owner::Organization(org), kinds::HELD),
        (Owner::Platform, kinds::REVENUE),
        credits,
        "credits.spend",
        task,
        now,
    )
    .await?;
    let currency = money(settings)?;
    let earned = settings.earning(credits);
    let sales = ledger::service::account(conn, Owner::Platform, kinds::REVENUE, &currency, now).await?;
    ledger::earnings::credit(conn, Owner::User(freelancer), &currency, earned, sales.id, "freelance", now).await?;
    // Freelance earnings are paid out from 10 credits' worth up (a setting).
    let floor = settings.earning(settings.min_payout_credits);
    let reason = format!("freelance earnings are paid out from {} credits' worth", settings.min_payout_credits);
    ledger::payouts::raise_minimum(conn, freelancer, currency.as_str(), floor, &reason, now).await?;
    Ok((earned, currency.display(earned)))
}

async fn move_credits(
    conn: &mut PgConnection,
    from: (Owner, &str),
    to: (Owner, &str),
    credits: i32,
    kind: &str,
    task: TaskId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let memo = format!("Task {task}");
    ledger::service::transfer_between(
        conn,
        from,
        to,
        &credit(),
        i64::from(credits),
        kind,
        &memo,
        json!({"task": task}),
        now,
    )
    .await?;
    Ok(())
}

/// The price of a pack, in minor units of the credit price's currency; `None` for a size not sold.
pub fn price(settings: &TaskSettings, credits: i32) -> Option<i64> {
    let (_, discount_bps) = settings.packs.iter().find(|(size, _)| *size == credits)?;
    let list = i64::from(credits) * settings.credit_price_minor;
    // Rounded half up to the minor unit.
    Some((list * (10_000 - i64::from(*discount_bps)) + 5_000) / 10_000)
}

/// The company's credits and the packs on sale.
pub async fn balance(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    org: Uuid,
) -> Result<dto::Credits, ApiError> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    may_manage(&mut conn, principal, org).await?;
    credits_view(&mut conn, settings, org, now).await
}

async fn may_manage(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    if identity::party::may_act_for(conn, principal, Party::Organization(org), crate::TASKS_MANAGE).await?
        || crate::is_staff(principal)
    {
        Ok(())
    } else {
        Err(ApiError::not_found("No such organization."))
    }
}

async fn credits_view(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<dto::Credits, ApiError> {
    let available = ledger::service::account(conn, Owner::Organization(org), kinds::AVAILABLE, &credit(), now).await?;
    let held = ledger::service::account(conn, Owner::Organization(org), kinds::HELD, &credit(), now).await?;
    let currency = money(settings)?;
    let packs = settings
        .packs
        .iter()
        .map(|(size, discount_bps)| {
            let price = price(settings, *size).unwrap_or_default();
            dto::Pack {
                credits: *size,
                discount_bps: *discount_bps,
                price,
                currency: currency.as_str().to_owned(),
                price_display: currency.display(price),
            }
        })
        .collect();
    Ok(dto::Credits {
        org_id: org,
        available: available.balance,
        held: held.balance,
        available_account_id: available.id.0,
        held_account_id: held.id.0,
        packs,
    })
}

/// Charges a card into the caller's wallet before a purchase that pays by card (outside any
/// transaction; the request's `Idempotency-Key` keys the provider's call).
pub async fn charge(
    ctx: &AppContext,
    settings: &TaskSettings,
    ledger_settings: &ledger::LedgerSettings,
    principal: &Principal,
    req: &dto::BuyCredits,
    retry_key: Option<&str>,
) -> Result<(), ApiError> {
    if req.source.as_deref() != Some("card") {
        return Ok(());
    }
    let Some(amount) = price(settings, req.credits) else { return Ok(()) };
    principal.require_verified()?;
    let request = ledger::payments::PaymentRequest {
        amount,
        currency: settings.credit_currency.clone(),
        provider: req.provider.clone(),
        card_number: req.card_number.clone(),
        payment_method: req.payment_method.clone(),
        capture: None,
        description: format!("{} credits", req.credits),
    };
    let now = ctx.clock.now();
    let intent =
        ledger::payments::charge_to_wallet(&ctx.db, principal, &request, ledger_settings, retry_key, now).await?;
    ledger::payments::captured(
        intent,
        "The payment needs the customer's action first; once it has gone through its money is in your wallet.",
    )
}

/// Buys a pack for the company: paid from the company's wallet (`wallet`) or, by `card`, from the
/// caller's wallet the card was just charged into. One balanced entry in both currencies.
pub async fn buy(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    principal: &Principal,
    org: Uuid,
    req: &dto::BuyCredits,
    now: DateTime<Utc>,
) -> Result<dto::Credits, ApiError> {
    let sizes: Vec<String> = settings.packs.iter().map(|(s, _)| s.to_string()).collect();
    let price = price(settings, req.credits).ok_or_else(|| {
        ApiError::invalid_field("credits", "invalid_value", format!("packs are of {} credits", sizes.join(", ")))
    })?;
    // Staff may look at a company's credits, not buy them with its money.
    if !identity::party::may_act_for(conn, principal, Party::Organization(org), crate::TASKS_MANAGE).await? {
        return Err(ApiError::not_found("No such organization."));
    }
    let payer = match req.source.as_deref().unwrap_or("wallet") {
        "wallet" => Owner::Organization(org),
        "card" => Owner::User(principal.user_id.0),
        _ => return Err(ApiError::invalid_field("source", "invalid_value", "must be wallet or card")),
    };
    let currency = money(settings)?;
    let wallet = ledger::service::account(conn, payer, kinds::AVAILABLE, &currency, now).await?;
    if wallet.balance < price {
        return Err(ApiError::new(
            ledger::error::LedgerCode::InsufficientFunds,
            format!(
                "The wallet holds {}; the pack costs {}.",
                currency.display(wallet.balance),
                currency.display(price)
            ),
        ));
    }
    record_purchase(conn, payer, org, req.credits, price, &currency, principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "credits.purchase", "organization", org)
        .after(json!({"credits": req.credits, "price": price, "currency": currency.as_str()}))
        .record(conn, now)
        .await?;
    credits_view(conn, settings, org, now).await
}

/// Posts a purchase: `price` from the payer's wallet to the platform's credit sales, and `credits`
/// issued from the platform's clearing account to the company, in one entry.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_purchase(
    conn: &mut PgConnection,
    payer: Owner,
    org: Uuid,
    credits: i32,
    price: i64,
    currency: &Currency,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let credit = credit();
    let wallet = ledger::service::account(conn, payer, kinds::AVAILABLE, currency, now).await?;
    let sales = ledger::service::account(conn, Owner::Platform, kinds::REVENUE, currency, now).await?;
    let issued = ledger::service::account(conn, Owner::Platform, kinds::CLEARING, &credit, now).await?;
    let company = ledger::service::account(conn, Owner::Organization(org), kinds::AVAILABLE, &credit, now).await?;
    let n = i64::from(credits);
    let entry = NewEntry {
        kind: "credits.purchase",
        memo: &format!("{credits} credits"),
        legs: vec![
            Leg { account: wallet.id, amount: -price },
            Leg { account: sales.id, amount: price },
            Leg { account: issued.id, amount: -n },
            Leg { account: company.id, amount: n },
        ],
        metadata: json!({"org": org, "credits": credits, "price": price, "currency": currency.as_str(), "by": by}),
    };
    ledger::service::post(conn, entry, now).await?;
    Ok(())
}
