//! Revenue splits, attribution, and settlement.
//!
//! An event's ticket money waits in its escrow account. When the event completes, a job settles it:
//! approved attributions are paid first (a percentage of each attributed order's net, or a fixed
//! amount per order, never more than the order's net), then the rest is split among the parties by
//! basis points with the largest-remainder method, so the parts always sum to the whole. Users and
//! organizations receive pending earnings (released after the holding period); the platform's share
//! goes to its revenue account. Splits freeze at the first sale.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use ledger::model::{Currency, Owner, kinds};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::dto::{Attribution, AttributionLink, NewAttributionLink, Split, Splits};
use super::repo::{self, ApprovedRow, LinkRow, SplitRow};
use crate::error::{TicketingCode, TicketingError};
use crate::events::repo::EventRow;
use crate::events::service::managed_event;
use crate::model::{EventId, OrderId};
use crate::signing;
use crate::state::{AttributionState, EventStatus, PartnerKind, RecipientType, ShareType};

pub const SETTLE: JobKind = JobKind::new("ticketing.event.settle").max_attempts(20);

/// The splits an event has before its organizer sets any (the product's defaults).
fn default_splits(event: &EventRow) -> Vec<SplitRow> {
    let (kind, id) = match event.organizer() {
        Party::User(id) => (RecipientType::User, id),
        Party::Organization(id) => (RecipientType::Organization, id),
    };
    let to_organizer =
        |role: &str, bps| SplitRow { role: role.into(), recipient_type: kind, recipient_id: Some(id), bps };
    vec![
        to_organizer("artist", 7_000),
        to_organizer("venue", 2_000),
        SplitRow { role: "platform".into(), recipient_type: RecipientType::Platform, recipient_id: None, bps: 1_000 },
    ]
}

/// Freezes the event's splits at its first sale (writing the defaults if none were set).
pub(crate) async fn freeze(conn: &mut PgConnection, event: &EventRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    if repo::freeze_splits(conn, event.id, now).await? && repo::splits_of(conn, event.id).await?.is_empty() {
        repo::replace_splits(conn, event.id, &default_splits(event)).await?;
    }
    Ok(())
}

/// The event's sales for those who manage it: by tier, by day (in the event's time zone), in total,
/// and the escrow that holds the money until settlement.
pub async fn sales(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<dto::SalesReport, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (event, standing) = crate::events::service::visible_event(&mut conn, Some(principal), id, false).await?;
    if standing == crate::events::service::Standing::Public {
        return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
    }
    let tiers = repo::tier_sales(&mut conn, id).await?;
    let days = repo::daily_sales(&mut conn, id, &event.timezone).await?;
    // An event's tiers share one currency (its escrow's); an event without tiers has sold nothing.
    let currency = tiers.first().map_or_else(|| "EUR".to_owned(), |t| t.currency.clone());
    let escrow = ledger::accounts::repo::accounts_of(&mut *conn, "event", Some(id.0))
        .await?
        .into_iter()
        .filter(|a| a.kind == kinds::ESCROW && a.currency == currency)
        .map(|a| a.balance)
        .sum();
    let settled_at = repo::settled_at(&mut conn, id).await?;
    let sum = |f: fn(&dto::TierSales) -> i64| tiers.iter().map(f).sum::<i64>();
    let gross = days.iter().map(|d| d.revenue).sum::<i64>();
    let net = sum(|t| t.revenue);
    Ok(dto::SalesReport {
        event_id: id,
        currency,
        sold: sum(|t| t.sold),
        refunded: sum(|t| t.refunded),
        checked_in: sum(|t| t.checked_in),
        gross,
        refunds: gross - net,
        net,
        escrow,
        settled_at,
        tiers,
        days,
    })
}

pub async fn splits(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<Splits, ApiError> {
    let mut tx = ctx.db.begin().await?;
    let (event, _) = managed_event(&mut tx, principal, id).await?;
    let frozen_at = repo::splits_frozen_at(&mut tx, id).await?;
    let stored = repo::splits_of(&mut tx, id).await?;
    tx.commit().await?;
    let defaults = stored.is_empty();
    let items = if defaults { default_splits(&event) } else { stored };
    Ok(Splits { items: items.into_iter().map(Split::from).collect(), frozen_at, defaults })
}

/// Replaces the event's splits, until its first sale.
pub async fn set_splits(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    items: Vec<Split>,
) -> Result<Splits, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    managed_event(&mut tx, principal, id).await?;
    if repo::splits_frozen_at(&mut tx, id).await?.is_some() {
        return Err(ApiError::new(TicketingCode::SplitsFrozen, "The splits froze when the first ticket sold."));
    }
    let mut errors = Vec::new();
    if items.is_empty() || items.len() > 20 {
        errors.push(FieldError::new("items", "invalid_length", "must hold 1 to 20 parties"));
    }
    for (i, split) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        if split.role.trim().is_empty() || split.role.chars().count() > 40 {
            errors.push(FieldError::new(field("role"), "invalid_length", "must be 1 to 40 characters"));
        }
        if !(1..=10_000).contains(&split.bps) {
            errors.push(FieldError::new(field("bps"), "out_of_range", "must be between 1 and 10,000"));
        }
        let known = match (RecipientType::parse(&split.recipient_type), split.recipient_id) {
            (Some(RecipientType::Platform), None) => true,
            (Some(RecipientType::User), Some(user)) => {
                identity::service::is_active_user(&mut tx, identity::model::UserId(user)).await?
            }
            (Some(RecipientType::Organization), Some(org)) => {
                identity::service::organizations::exists(&mut tx, identity::model::OrgId(org)).await?
            }
            _ => false,
        };
        if !known {
            errors.push(FieldError::new(
                field("recipient_id"),
                "unknown_recipient",
                "must name an active user, an organization, or (with no id) the platform",
            ));
        }
    }
    let total: i64 = items.iter().map(|s| i64::from(s.bps)).sum();
    if total != 10_000 {
        errors.push(FieldError::new(
            "items",
            "sum_not_whole",
            format!("the shares sum to {total} basis points, not 10,000"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let items: Vec<Split> = items.into_iter().map(|s| Split { role: s.role.trim().to_owned(), ..s }).collect();
    // Every recipient type parsed above; a split whose type did not is an error already.
    let rows: Vec<SplitRow> = items
        .iter()
        .filter_map(|s| {
            let recipient_type = RecipientType::parse(&s.recipient_type)?;
            Some(SplitRow { role: s.role.clone(), recipient_type, recipient_id: s.recipient_id, bps: s.bps })
        })
        .collect();
    repo::replace_splits(&mut tx, id, &rows).await?;
    platform::audit::Entry::new(principal.actor(), "event.splits", "event", id.0)
        .after(json!({"splits": items}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(Splits { items, frozen_at: None, defaults: false })
}

/// Queues the settlement of a completed event.
pub(crate) async fn queue(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<()> {
    jobs::enqueue(conn, NewJob::new(SETTLE, json!({"event_id": event})).unique(format!("settle:{event}")), now).await?;
    Ok(())
}

/// What an attribution earns from an order's net.
pub fn attribution_amount(share_type: ShareType, share_value: i64, net: i64) -> i64 {
    let net = net.max(0);
    match share_type {
        ShareType::Percent => ledger::money::share_bps(net, share_value),
        ShareType::Fixed => share_value.min(net),
    }
}

/// The `ticketing.event.settle` job.
async fn settle(ctx: AppContext, id: EventId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(event) = crate::events::repo::event(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such event"));
    };
    let settled_at = repo::settled_at(&mut tx, id).await?;
    if settled_at.is_some() || event.status != EventStatus::Completed {
        return Ok(());
    }
    let failure = |e: ApiError| JobFailure::retry(format!("{e:?}"));
    let report = settle_locked(&mut tx, &event, now).await.map_err(failure)?;
    repo::mark_settled(&mut tx, id, now).await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "event.settle", "event", id.0)
        .after(report)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn settle_locked(
    conn: &mut PgConnection,
    event: &EventRow,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, ApiError> {
    let currency = crate::tiers::repo::currency_of_event(conn, event.id).await?;
    let Some(currency) = currency.and_then(|c| Currency::parse(&c)) else { return Ok(json!({"escrow": 0})) };
    let escrow = ledger::service::account(conn, Owner::Event(event.id.0), kinds::ESCROW, &currency, now).await?;
    let total = escrow.balance;
    let mut left = total;
    // Approved attributions first, each on its order's net after refunds.
    let approved = repo::approved_attributions(conn, event.id).await?;
    let mut attributed = 0;
    for ApprovedRow { order_id: order, partner_id: partner, share_type, share_value, net } in approved {
        let amount = attribution_amount(share_type, share_value, net).min(left);
        if amount > 0 {
            ledger::earnings::credit(conn, Owner::User(partner), &currency, amount, escrow.id, "attribution", now)
                .await
                .map_err(ApiError::from)?;
        }
        repo::mark_paid(conn, order, amount, now).await?;
        left -= amount;
        attributed += amount;
    }
    // The rest by the splits, largest remainder first.
    let mut splits = repo::splits_of(conn, event.id).await?;
    if splits.is_empty() {
        splits = default_splits(event);
    }
    let bps: Vec<u32> = splits.iter().map(|s| u32::try_from(s.bps).unwrap_or(0)).collect();
    let parts = ledger::money::split_bps(left, &bps).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let mut paid = Vec::new();
    for (split, part) in splits.iter().zip(&parts) {
        if *part > 0 {
            let owner = match (split.recipient_type, split.recipient_id) {
                (RecipientType::User, Some(id)) => Some(Owner::User(id)),
                (RecipientType::Organization, Some(id)) => Some(Owner::Organization(id)),
                _ => None,
            };
            match owner {
                Some(owner) => {
                    ledger::earnings::credit(conn, owner, &currency, *part, escrow.id, "ticket_revenue", now)
                        .await
                        .map_err(ApiError::from)?;
                    if let Owner::User(user) = owner {
                        let notice = platform::events::Event {
                            kind: "event.settled",
                            recipients: vec![user],
                            organization: None,
                            data: json!({"event": event.title, "amount": currency.display(*part), "event_id": event.id}),
                        };
                        platform::events::emit(conn, notice, now).await?;
                    }
                }
                None => {
                    let revenue =
                        ledger::service::account(conn, Owner::Platform, kinds::REVENUE, &currency, now).await?;
                    ledger::service::transfer(
                        conn,
                        escrow.id,
                        revenue.id,
                        *part,
                        "ticket.settlement",
                        &event.title,
                        now,
                    )
                    .await
                    .map_err(ApiError::from)?;
                }
            }
        }
        paid.push(json!({"role": split.role, "bps": split.bps, "amount": part}));
    }
    Ok(json!({"escrow": total, "attributed": attributed, "split": left, "parts": paid}))
}

pub fn register(registry: &mut Registry) {
    registry.register(SETTLE, |ctx: AppContext, job: Job| async move {
        let id: EventId = job.field("event_id")?;
        settle(ctx, id).await
    });
}

/// Creates an attribution link for a creator or sponsor (the event's organizer).
pub async fn add_link(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    req: NewAttributionLink,
) -> Result<AttributionLink, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    managed_event(&mut tx, principal, id).await?;
    let mut errors = Vec::new();
    let kind = PartnerKind::parse(&req.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "invalid_value", "must be creator or sponsor"));
    }
    let share_type = ShareType::parse(&req.share_type);
    match share_type {
        Some(ShareType::Percent) if !(0..=10_000).contains(&req.share_value) => {
            errors.push(FieldError::new("share_value", "out_of_range", "must be 0 to 10,000 basis points"));
        }
        Some(ShareType::Fixed) if req.share_value < 0 => {
            errors.push(FieldError::new("share_value", "out_of_range", "must be 0 or more (minor units per order)"));
        }
        Some(_) => {}
        None => errors.push(FieldError::new("share_type", "invalid_value", "must be percent or fixed")),
    }
    if !identity::service::is_active_user(&mut tx, identity::model::UserId(req.partner_id)).await? {
        errors.push(FieldError::new("partner_id", "unknown_user", "is not an active user"));
    }
    let code = req.code.clone().unwrap_or_else(|| signing::new_code()[..10].to_owned());
    if !(4..=40).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        errors.push(FieldError::new("code", "invalid_format", "must be 4 to 40 of A-Z a-z 0-9 _ -"));
    }
    let (Some(kind), Some(share_type), true) = (kind, share_type, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let row = LinkRow {
        id: platform::ids::new_id(),
        event_id: id,
        partner_id: req.partner_id,
        kind,
        code,
        share_type,
        share_value: req.share_value,
        created_at: now,
    };
    let link = repo::insert_link(&mut tx, &row).await?.map(AttributionLink::from);
    let link = link.ok_or_else(|| ApiError::invalid_field("code", "taken", "is already another link's code"))?;
    platform::audit::Entry::new(principal.actor(), "attribution_link.create", "event", id.0)
        .after(json!({"link": link.id, "partner": link.partner_id, "share_type": link.share_type, "share_value": link.share_value}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(link)
}

/// The event an attributed order is for.
pub async fn event_of_attribution(ctx: &AppContext, order: OrderId) -> Result<Option<EventId>, ApiError> {
    Ok(repo::attribution_event(&mut *ctx.db.acquire().await?, order).await?)
}

/// The link a buyer's code names, for this event.
pub(crate) async fn link_for(conn: &mut PgConnection, event: EventId, code: &str) -> sqlx::Result<Option<Uuid>> {
    repo::link_for(conn, event, code.trim()).await
}

/// Records an order's attribution when it is paid.
pub(crate) async fn attribute(conn: &mut PgConnection, order: OrderId, now: DateTime<Utc>) -> sqlx::Result<()> {
    repo::attribute(conn, order, now).await
}

pub async fn attribution_list(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
) -> Result<dto::AttributionList, ApiError> {
    let mut tx = ctx.db.begin().await?;
    managed_event(&mut tx, principal, id).await?;
    let links = repo::links_of(&mut tx, id).await?.into_iter().map(AttributionLink::from).collect();
    let attributions = repo::attributions_of(&mut tx, id).await?.into_iter().map(Attribution::from).collect();
    tx.commit().await?;
    Ok(dto::AttributionList { links, attributions })
}

/// The organizer approves or rejects an attributed order (before settlement).
pub async fn decide(
    ctx: &AppContext,
    principal: &Principal,
    order: OrderId,
    decision: &str,
) -> Result<Attribution, ApiError> {
    let now = ctx.clock.now();
    let state = match decision {
        "approve" => AttributionState::Approved,
        "reject" => AttributionState::Rejected,
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or reject")),
    };
    let mut tx = ctx.db.begin().await?;
    let event = repo::attribution_event(&mut tx, order).await?;
    let event = event.ok_or(TicketingError::NotFound("attribution"))?;
    managed_event(&mut tx, principal, event).await?;
    if !repo::decide(&mut tx, order, state, now).await? {
        return Err(ApiError::new(TicketingCode::AttributionPaid, "This attribution was paid at settlement."));
    }
    platform::audit::Entry::new(principal.actor(), "attribution.decide", "order", order.0)
        .after(json!({"state": state}))
        .record(&mut tx, now)
        .await?;
    let row = repo::attribution(&mut tx, order).await?.ok_or(TicketingError::NotFound("attribution"))?;
    tx.commit().await?;
    Ok(row.into())
}
