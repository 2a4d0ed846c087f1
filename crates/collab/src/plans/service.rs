//! Plans: the catalogue, an organization's plan and its use, changing it (paid from the organization's
//! wallet through the ledger), the renewal timers, and the limits other areas ask before they add.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use ledger::model::{Currency, Owner, kinds};
use ledger::service::{Leg, NewEntry};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalogue::{self, CURRENCY, Change, FREE, Plan, RENEW_BEFORE};
use super::dto::{OrgPlan, PlanCard, PlanCharge, PlanChoice, PlanOffer, PlanUsage};
use super::repo::{self, ChargeRow, PlanRow};
use crate::error::{CollabCode, CollabError};

/// A timer: charges the next period of a plan (first three days before it starts, then daily).
pub const RENEW: JobKind = JobKind::new("collab.plan.renew").max_attempts(10);
/// A timer: a plan's period ends; the next one starts (paid, or Free).
pub const ROLL: JobKind = JobKind::new("collab.plan.roll").max_attempts(10);

/// Who changes an organization's plan: its owners and admins.
const BILLING: &str = "organizations.update";

fn plan_of(row: &PlanRow) -> Plan {
    catalogue::plan(&row.plan).unwrap_or(FREE)
}

/// The catalogue.
pub fn offers() -> Vec<PlanOffer> {
    catalogue::PLANS.into_iter().map(PlanOffer::from).collect()
}

/// The plan an organization is on (Free without a row), with no lock: for reading.
pub async fn current(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Plan> {
    Ok(repo::get(conn, org).await?.map_or(FREE, |row| plan_of(&row)))
}

fn refused(what: &str, plan: Plan, limit: i64) -> ApiError {
    ApiError::new(
        CollabCode::PlanLimit,
        format!("The {} plan allows {limit} {what}; a dearer plan allows more (PUT /v1/orgs/{{id}}/plan).", plan.name),
    )
}

/// Checks, under the organization's plan lock (held to the caller's commit), that one more open project
/// fits its plan.
pub(crate) async fn room_for_project(conn: &mut PgConnection, org: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    let plan = plan_of(&repo::lock(conn, org, now).await?);
    if let Some(limit) = plan.open_projects
        && repo::open_projects(conn, org).await? >= limit
    {
        return Err(refused("open projects", plan, limit));
    }
    Ok(())
}

async fn collaborators(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<Uuid>> {
    let owners = identity::service::org_owners(conn, org).await?;
    Ok(repo::project_people(conn, org).await?.into_iter().filter(|u| !owners.contains(u)).collect())
}

/// Checks, under the organization's plan lock, that `user` may join one of its projects: someone on
/// another of its projects (or an owner) already counts; anyone new must fit the plan's collaborators.
pub(crate) async fn room_for_person(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let plan = plan_of(&repo::lock(conn, org, now).await?);
    if identity::service::org_owners(conn, org).await?.contains(&user) {
        return Ok(());
    }
    let people = collaborators(conn, org).await?;
    if !people.contains(&user) && i64::try_from(people.len()).unwrap_or(i64::MAX) >= plan.collaborators {
        return Err(refused("people on its projects besides its owners", plan, plan.collaborators));
    }
    Ok(())
}

async fn view(conn: &mut PgConnection, org: Uuid) -> Result<OrgPlan, ApiError> {
    let row = repo::get(conn, org).await?;
    let plan = row.as_ref().map_or(FREE, plan_of);
    let storage = crate::files::repo::storage(conn, org).await?.map_or(0, |(used, _)| used);
    let usage = PlanUsage {
        open_projects: repo::open_projects(conn, org).await?,
        collaborators: i64::try_from(collaborators(conn, org).await?.len()).unwrap_or(0),
        storage_bytes: storage,
    };
    let charges = repo::charges(conn, org, 24).await?.into_iter().map(PlanCharge::from).collect();
    let card = card_on_file(conn, org).await?.map(|(_, card)| card);
    Ok(OrgPlan {
        organization_id: org,
        plan: PlanOffer::from(plan),
        period_start: row.as_ref().and_then(|r| r.period_start),
        period_end: row.as_ref().and_then(|r| r.period_end),
        next_plan: row.as_ref().and_then(|r| r.next_plan.clone()),
        renewed: row.as_ref().is_some_and(|r| r.renewed),
        renewal_failures: row.as_ref().map_or(0, |r| r.renewal_failures),
        complimentary: row.as_ref().is_some_and(|r| r.complimentary),
        renews_by: if card.is_some() { "card" } else { "wallet" }.to_owned(),
        card,
        usage,
        charges,
    })
}

/// An organization's plan, its use and its charges: for its members (and platform admins).
pub async fn get(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<OrgPlan, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let member = identity::service::org_role_of(&mut conn, org, principal.user_id.0).await?.is_some();
    if !member && !crate::projects::service::is_admin(principal) {
        return Err(CollabError::NotFound("organization").into());
    }
    view(&mut conn, org).await
}

/// Posts a month's charge (the plan's price less `credit`, what is left unused of the period paid
/// before an upgrade) from the payer's wallet to the platform's revenue, and records it; `Err` with
/// the reason when the wallet cannot pay (recorded as failed when `keep_failure`).
#[allow(clippy::too_many_arguments)]
async fn charge(
    conn: &mut PgConnection,
    (org, payer): (Uuid, Owner),
    (plan, credit): (Plan, i64),
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    by: Option<Uuid>,
    keep_failure: bool,
    now: DateTime<Utc>,
) -> Result<Result<(), String>, ApiError> {
    let currency = Currency::parse(CURRENCY).ok_or_else(|| ApiError::internal(anyhow::anyhow!("no {CURRENCY}")))?;
    let wallet = ledger::service::account(conn, payer, kinds::AVAILABLE, &currency, now).await?;
    let credit = credit.clamp(0, plan.price_minor - 1);
    let amount = plan.price_minor - credit;
    let mut row = ChargeRow {
        id: platform::ids::new_id(),
        organization_id: org,
        plan: plan.name.to_owned(),
        amount_minor: amount,
        credit_minor: credit,
        currency: CURRENCY.to_owned(),
        period_start: start,
        period_end: end,
        outcome: "paid".into(),
        reason: None,
        entry_id: None,
        by_user: by,
        created_at: now,
    };
    if wallet.balance < amount {
        let less = if credit > 0 {
            format!(" ({} less {} unused)", currency.display(plan.price_minor), currency.display(credit))
        } else {
            String::new()
        };
        let reason = format!(
            "the wallet holds {}; a month of {} costs {}{less}",
            currency.display(wallet.balance),
            plan.name,
            currency.display(amount)
        );
        if keep_failure {
            failed(conn, row, &reason).await?;
        }
        return Ok(Err(reason));
    }
    let revenue = ledger::service::account(conn, Owner::Platform, kinds::REVENUE, &currency, now).await?;
    let mut memo = format!("{} plan, {} to {}", plan.name, start.date_naive(), end.date_naive());
    if credit > 0 {
        memo.push_str(&format!(", less {} unused of the plan before", currency.display(credit)));
    }
    let entry = NewEntry {
        kind: "plan.charge",
        memo: &memo,
        legs: vec![Leg { account: wallet.id, amount: -amount }, Leg { account: revenue.id, amount }],
        metadata: json!({"org": org, "plan": plan.name, "period_start": start, "period_end": end, "charge": row.id,
                         "credit": credit}),
    };
    row.entry_id = Some(ledger::service::post(conn, entry, now).await?.0);
    repo::insert_charge(conn, &row).await?;
    Ok(Ok(()))
}

/// The card the plan renews by, with its holder: none when none is set, the card was removed, or its
/// holder is no longer an owner or admin of the organization (the organization's wallet pays then).
async fn card_on_file(
    conn: &mut PgConnection,
    org: Uuid,
) -> sqlx::Result<Option<(Uuid, ledger::cards::dto::SavedCard)>> {
    let Some((card, _)) = repo::plan_card(conn, org).await? else { return Ok(None) };
    let Some((holder, card)) = ledger::cards::service::on_file(conn, card).await? else { return Ok(None) };
    let role = identity::service::org_role_of(conn, org, holder).await?;
    Ok(matches!(role.as_deref(), Some("owner" | "admin")).then_some((holder, card)))
}

/// What is left unused at `now` of what was paid for the plan's current period (and a renewal paid
/// ahead): taken off an upgrade's first month. Nothing for Free or a granted plan.
async fn unused(conn: &mut PgConnection, row: &PlanRow, now: DateTime<Utc>) -> sqlx::Result<i64> {
    match row.period_start {
        Some(start) if !row.complimentary && row.plan != FREE.name => {
            Ok(catalogue::unused(&repo::paid_from(conn, row.organization_id, start).await?, now))
        }
        _ => Ok(0),
    }
}

/// Records a charge that failed, with why.
async fn failed(conn: &mut PgConnection, mut row: ChargeRow, reason: &str) -> sqlx::Result<()> {
    row.outcome = "failed".into();
    row.reason = Some(reason.to_owned());
    repo::insert_charge(conn, &row).await
}

/// Sets the plan's storage allowance and the timers of its period.
pub(crate) async fn apply(conn: &mut PgConnection, row: &PlanRow, now: DateTime<Utc>) -> Result<(), ApiError> {
    let plan = plan_of(row);
    crate::files::repo::lock_storage(conn, row.organization_id, plan.storage_bytes, now).await?;
    crate::files::repo::set_quota(conn, row.organization_id, plan.storage_bytes, now).await?;
    schedule(conn, row, now).await?;
    Ok(())
}

async fn schedule(conn: &mut PgConnection, row: &PlanRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    let org = row.organization_id;
    let (renew_key, roll_key) = (format!("plan:{org}:renew"), format!("plan:{org}:roll"));
    jobs::cancel_unique(conn, &renew_key, now).await?;
    jobs::cancel_unique(conn, &roll_key, now).await?;
    let Some(end) = row.period_end else { return Ok(()) };
    let next = row.next_plan.as_deref().and_then(catalogue::plan).unwrap_or_else(|| plan_of(row));
    if !row.renewed && !row.complimentary && next != FREE {
        let at = (end - RENEW_BEFORE).max(now);
        jobs::enqueue(conn, NewJob::new(RENEW, json!({"org": org})).at(at).unique(renew_key), now).await?;
    }
    jobs::enqueue(conn, NewJob::new(ROLL, json!({"org": org})).at(end).unique(roll_key), now).await?;
    Ok(())
}

async fn tell_owners(
    conn: &mut PgConnection,
    org: Uuid,
    kind: &'static str,
    mut data: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let owners = identity::service::org_owners(conn, org).await?;
    let name = identity::service::org_slug(conn, org).await?.unwrap_or_default();
    data["organization"] = json!(name);
    crate::notify_users(conn, owners, kind, data, now).await
}

fn source(req: &PlanChoice) -> Result<&str, ApiError> {
    match req.source.as_deref().unwrap_or("wallet") {
        source @ ("wallet" | "card") => Ok(source),
        _ => Err(ApiError::invalid_field("source", "invalid_value", "must be wallet or card")),
    }
}

/// Refuses whoever may not change the organization's plan: 404 to strangers, 403 to its other members.
async fn billing(conn: &mut PgConnection, principal: &Principal, org: Uuid, admin: bool) -> Result<(), ApiError> {
    if !identity::service::organizations::exists(conn, identity::model::OrgId(org)).await? {
        return Err(CollabError::NotFound("organization").into());
    }
    if !admin && !identity::party::may_act_for(conn, principal, Party::Organization(org), BILLING).await? {
        let member = identity::service::org_role_of(conn, org, principal.user_id.0).await?.is_some();
        return Err(if member {
            identity::error::IdentityError::Forbidden(BILLING.into()).into()
        } else {
            CollabError::NotFound("organization").into()
        });
    }
    Ok(())
}

/// Sets the card on file the plan renews by (its owners and admins, with a card of their own): each
/// renewal then charges it into its holder's wallet and pays the month from there.
pub async fn set_card(ctx: &AppContext, principal: &Principal, org: Uuid, req: PlanCard) -> Result<OrgPlan, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    billing(&mut tx, principal, org, false).await?;
    match ledger::cards::service::on_file(&mut tx, req.card_id).await? {
        Some((holder, _)) if holder == principal.user_id.0 => {}
        _ => return Err(ApiError::invalid_field("card_id", "not_found", "is not a card of yours on file")),
    }
    repo::lock(&mut tx, org, now).await?;
    repo::set_plan_card(&mut tx, org, req.card_id, principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "organization.plan_card", "organization", org)
        .organization(org)
        .after(json!({"card_id": req.card_id}))
        .record(&mut tx, now)
        .await?;
    let plan = view(&mut tx, org).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Renewals by the organization's wallet again.
pub async fn clear_card(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<OrgPlan, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    billing(&mut tx, principal, org, false).await?;
    repo::lock(&mut tx, org, now).await?;
    if repo::clear_plan_card(&mut tx, org).await? {
        platform::audit::Entry::new(principal.actor(), "organization.plan_card", "organization", org)
            .organization(org)
            .after(json!({"card_id": null}))
            .record(&mut tx, now)
            .await?;
    }
    let plan = view(&mut tx, org).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Before an upgrade paid by card (outside any transaction): charges the caller's card the new plan's
/// month into the caller's wallet, keyed by the request's `Idempotency-Key`, so that a retry finds the
/// first charge. Nothing when the choice is not an upgrade paid by card.
pub async fn charge_card(
    ctx: &AppContext,
    ledger_settings: &ledger::LedgerSettings,
    principal: &Principal,
    org: Uuid,
    req: &PlanChoice,
    retry_key: Option<&str>,
) -> Result<(), ApiError> {
    let Some(target) = catalogue::plan(req.plan.trim()) else { return Ok(()) };
    if source(req)? != "card" || req.complimentary {
        return Ok(());
    }
    let mut conn = ctx.db.acquire().await?;
    let row = repo::get(&mut conn, org).await?;
    let current = row.as_ref().map_or(FREE, plan_of);
    let next = row.as_ref().and_then(|r| r.next_plan.as_deref()).and_then(catalogue::plan);
    if catalogue::change(current, next, target) != Change::Upgrade {
        return Ok(());
    }
    principal.require_verified()?;
    // The credit as it will stand a few minutes on, so that the card covers what the upgrade takes a
    // moment later (a cent at most may stay in the caller's wallet).
    let credit = match &row {
        Some(row) => unused(&mut conn, row, ctx.clock.now() + chrono::Duration::minutes(5)).await?,
        None => 0,
    };
    drop(conn);
    let request = ledger::payments::PaymentRequest {
        amount: target.price_minor - credit.clamp(0, target.price_minor - 1),
        currency: CURRENCY.to_owned(),
        provider: req.provider.clone(),
        card_number: req.card_number.clone(),
        payment_method: req.payment_method.clone(),
        capture: None,
        description: format!("{} plan", target.name),
    };
    let intent =
        ledger::payments::charge_to_wallet(&ctx.db, principal, &request, ledger_settings, retry_key, ctx.clock.now())
            .await?;
    ledger::payments::captured(
        intent,
        "The payment needs the customer's action first; once it has gone through, choose the plan again.",
    )
}

/// Changes an organization's plan (its owners and admins): a dearer plan starts now, its month charged
/// at once to the organization's wallet (`409 insufficient_funds` and nothing changed when it cannot
/// pay); a cheaper one, Free included, waits for the period's end; choosing the current plan again
/// calls off a scheduled change. Platform admins may grant a plan without charge (`complimentary`).
pub async fn choose(ctx: &AppContext, principal: &Principal, org: Uuid, req: PlanChoice) -> Result<OrgPlan, ApiError> {
    let target = catalogue::plan(req.plan.trim())
        .ok_or_else(|| ApiError::invalid_field("plan", "invalid_value", "must be free, pro or team"))?;
    let paid_by_card = source(&req)? == "card";
    let admin = crate::projects::service::is_admin(principal);
    if req.complimentary && !admin {
        return Err(ApiError::invalid_field("complimentary", "not_allowed", "is granted by platform admins"));
    }
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    billing(&mut tx, principal, org, admin).await?;
    let mut row = repo::lock(&mut tx, org, now).await?;
    let before = json!({"plan": row.plan, "next_plan": row.next_plan, "complimentary": row.complimentary});
    let current = plan_of(&row);
    let next = row.next_plan.as_deref().and_then(catalogue::plan);
    if req.complimentary {
        let start = now;
        row.plan = target.name.to_owned();
        row.complimentary = target != FREE;
        (row.period_start, row.period_end) =
            if target == FREE { (None, None) } else { (Some(start), Some(catalogue::month_after(start))) };
        row.next_plan = None;
        row.renewed = false;
        row.renewal_failures = 0;
    } else {
        match catalogue::change(current, next, target) {
            Change::Nothing => {}
            Change::KeepCurrent => row.next_plan = None,
            Change::AtPeriodEnd => {
                if row.complimentary && target == FREE {
                    // A granted plan ends now: nothing was paid for.
                    row.plan = FREE.name.to_owned();
                    (row.period_start, row.period_end) = (None, None);
                    row.complimentary = false;
                } else {
                    row.next_plan = Some(target.name.to_owned());
                    row.renewed = false;
                }
            }
            Change::Upgrade => {
                let end = catalogue::month_after(now);
                let payer = if paid_by_card { Owner::User(me) } else { Owner::Organization(org) };
                let credit = unused(&mut tx, &row, now).await?;
                let priced = (target, credit);
                if let Err(reason) = charge(&mut tx, (org, payer), priced, (now, end), Some(me), false, now).await? {
                    return Err(ApiError::new(
                        ledger::error::LedgerCode::InsufficientFunds,
                        format!("The wallet cannot pay: {reason}. Nothing changed."),
                    ));
                }
                row.plan = target.name.to_owned();
                (row.period_start, row.period_end) = (Some(now), Some(end));
                row.next_plan = None;
                row.renewed = false;
                row.renewal_failures = 0;
                row.complimentary = false;
            }
        }
    }
    row.updated_at = now;
    repo::save(&mut tx, &row).await?;
    apply(&mut tx, &row, now).await?;
    let after = json!({"plan": row.plan, "next_plan": row.next_plan, "complimentary": row.complimentary});
    if before != after {
        platform::audit::Entry::new(principal.actor(), "organization.plan", "organization", org)
            .organization(org)
            .before(before)
            .after(after)
            .record(&mut tx, now)
            .await?;
    }
    let view = view(&mut tx, org).await?;
    tx.commit().await?;
    Ok(view)
}

/// Whether a plan's next period is due to be charged now, and on which plan and until when: not when
/// it is paid, free of charge, ending or not yet in the three days before its start.
fn due(row: &PlanRow, now: DateTime<Utc>) -> Option<(Plan, DateTime<Utc>)> {
    let end = row.period_end?;
    let next = row.next_plan.as_deref().and_then(catalogue::plan).unwrap_or_else(|| plan_of(row));
    let waits = row.renewed || row.complimentary || next == FREE || now >= end || now < end - RENEW_BEFORE;
    (!waits).then_some((next, end))
}

/// Charges the plan's card on file for the next period, outside any transaction, into the card
/// holder's wallet: `Ok` with the holder when it was captured, `Err` with why not; `None` when the
/// plan has no card, or its card was removed (the wallet pays). A retry of the timer (the same period
/// and try) finds the same payment rather than charge again.
async fn charge_card_on_file(
    ctx: &AppContext,
    ledger_settings: &ledger::LedgerSettings,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Result<Uuid, String>>, JobFailure> {
    let (row, card) = {
        let mut conn = ctx.db.acquire().await?;
        let Some(row) = repo::get(&mut conn, org).await? else { return Ok(None) };
        let Some(card) = card_on_file(&mut conn, org).await? else { return Ok(None) };
        (row, card)
    };
    let Some((next, end)) = due(&row, now) else { return Ok(None) };
    let (holder, card) = card;
    let key = format!("plan:{org}:{}:{}", end.timestamp(), row.renewal_failures);
    let memo = format!("{} plan, {} to {}", next.name, end.date_naive(), catalogue::month_after(end).date_naive());
    let paid =
        ledger::cards::service::charge(ctx, ledger_settings, card.id, next.price_minor, CURRENCY, &memo, &key, now)
            .await;
    Ok(Some(match paid {
        Ok(payment) if payment.state == "captured" => Ok(holder),
        Ok(payment) if payment.state == "failed" => Err(format!(
            "the card {} was declined ({})",
            card.display,
            payment.failure_reason.as_deref().unwrap_or("payment_failed")
        )),
        Ok(_) => Err(format!("the card {} needs its holder's action", card.display)),
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => return Ok(None),
        Err(e) => return Err(JobFailure::retry(e.detail().to_owned())),
    }))
}

/// The renewal timer: charges the next period to the plan's card on file (into its holder's wallet,
/// and paid from there) or else from the organization's wallet; a failure is recorded, the owners told,
/// and tried again a day later (until the period ends).
async fn renew(
    ctx: AppContext,
    ledger_settings: &ledger::LedgerSettings,
    org: Uuid,
    job: Uuid,
) -> Result<(), JobFailure> {
    // The next try is this timer's key again.
    jobs::release_unique(&ctx.db, job).await?;
    let now = ctx.clock.now();
    let by_card = charge_card_on_file(&ctx, ledger_settings, org, now).await?;
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::lock(&mut tx, org, now).await?;
    let Some((next, end)) = due(&row, now) else { return Ok(()) };
    let period = (end, catalogue::month_after(end));
    let paid = match by_card {
        Some(Err(reason)) => {
            let charge = ChargeRow {
                id: platform::ids::new_id(),
                organization_id: org,
                plan: next.name.to_owned(),
                amount_minor: next.price_minor,
                credit_minor: 0,
                currency: CURRENCY.to_owned(),
                period_start: period.0,
                period_end: period.1,
                outcome: String::new(),
                reason: None,
                entry_id: None,
                by_user: None,
                created_at: now,
            };
            failed(&mut tx, charge, &reason).await?;
            Err(reason)
        }
        Some(Ok(holder)) => charge(&mut tx, (org, Owner::User(holder)), (next, 0), period, Some(holder), true, now)
            .await
            .map_err(|e| JobFailure::retry(e.detail().to_owned()))?,
        None => charge(&mut tx, (org, Owner::Organization(org)), (next, 0), period, None, true, now)
            .await
            .map_err(|e| JobFailure::retry(e.detail().to_owned()))?,
    };
    match paid {
        Ok(()) => {
            row.renewed = true;
            row.renewal_failures = 0;
        }
        Err(reason) => {
            row.renewal_failures += 1;
            let retry = (now + chrono::Duration::days(1)).min(end);
            if retry < end {
                let job = NewJob::new(RENEW, json!({"org": org})).at(retry).unique(format!("plan:{org}:renew"));
                jobs::enqueue(&mut tx, job, now).await?;
            }
            let data = json!({"plan": next.name, "amount": format!("{:.2} {CURRENCY}", next.price_minor as f64 / 100.0),
                              "reason": reason, "period_end": end.format("%Y-%m-%d %H:%M UTC").to_string()});
            tell_owners(&mut tx, org, "plan.renewal_failed", data, now).await?;
        }
    }
    row.updated_at = now;
    repo::save(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(())
}

/// The end of a period: the next one starts on the plan it was paid for (or granted), or on Free when
/// it was not paid (nothing is deleted; an organization over Free's limits reads and deletes, and adds
/// nothing new until it is within them).
async fn roll(ctx: AppContext, org: Uuid, job: Uuid) -> Result<(), JobFailure> {
    // The next period's end is this timer's key again.
    jobs::release_unique(&ctx.db, job).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::lock(&mut tx, org, now).await?;
    let Some(end) = row.period_end else { return Ok(()) };
    if now < end {
        return Ok(()); // the period moved
    }
    let before = row.plan.clone();
    let next = row.next_plan.as_deref().and_then(catalogue::plan).unwrap_or_else(|| plan_of(&row));
    if (row.renewed || row.complimentary) && next != FREE {
        row.plan = next.name.to_owned();
        (row.period_start, row.period_end) = (Some(end), Some(catalogue::month_after(end)));
    } else {
        row.plan = FREE.name.to_owned();
        (row.period_start, row.period_end) = (None, None);
        row.complimentary = false;
    }
    row.next_plan = None;
    row.renewed = false;
    row.renewal_failures = 0;
    row.updated_at = now;
    repo::save(&mut tx, &row).await?;
    apply(&mut tx, &row, now).await.map_err(|e| JobFailure::retry(e.detail().to_owned()))?;
    if row.plan != before {
        tell_owners(&mut tx, org, "plan.changed", json!({"plan": row.plan}), now).await?;
        platform::audit::Entry::new(platform::audit::Actor::default(), "organization.plan", "organization", org)
            .organization(org)
            .before(json!({"plan": before}))
            .after(json!({"plan": row.plan}))
            .record(&mut tx, now)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry, ledger_settings: ledger::LedgerSettings) {
    let ledger_settings = std::sync::Arc::new(ledger_settings);
    registry.register(RENEW, move |ctx: AppContext, job: Job| {
        let ledger_settings = ledger_settings.clone();
        async move {
            let org: Uuid = job.field("org")?;
            renew(ctx, &ledger_settings, org, job.id).await
        }
    });
    registry.register(ROLL, |ctx: AppContext, job: Job| async move {
        let org: Uuid = job.field("org")?;
        roll(ctx, org, job.id).await
    });
}
