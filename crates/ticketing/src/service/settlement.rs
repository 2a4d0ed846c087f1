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
use ledger::model::{Currency, Owner, kinds};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::managed_event;
use crate::dto::{self, Attribution, AttributionLink, NewAttributionLink, Split, Splits};
use crate::error::TicketingCode;
use crate::error::TicketingError;
use crate::model::{EventId, OrderId};
use crate::repo::{self, EventRow};
use crate::signing;
use crate::state::EventStatus;
use identity::party::Party;

pub const SETTLE: JobKind = JobKind::new("ticketing.event.settle").max_attempts(20);

/// The splits an event has before its organizer sets any (the product's defaults).
fn default_splits(event: &EventRow) -> Vec<Split> {
    let (kind, id) = match event.organizer() {
        Party::User(id) => ("user", id),
        Party::Organization(id) => ("organization", id),
    };
    let to_organizer =
        |role: &str, bps| Split { role: role.into(), recipient_type: kind.into(), recipient_id: Some(id), bps };
    vec![
        to_organizer("artist", 7_000),
        to_organizer("venue", 2_000),
        Split { role: "platform".into(), recipient_type: "platform".into(), recipient_id: None, bps: 1_000 },
    ]
}

async fn stored_splits(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<Split>> {
    let rows = sqlx::query!(
        "SELECT role, recipient_type, recipient_id, bps FROM event_splits WHERE event_id = $1 ORDER BY position",
        event as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Split { role: r.role, recipient_type: r.recipient_type, recipient_id: r.recipient_id, bps: r.bps })
        .collect())
}

async fn write_splits(conn: &mut PgConnection, event: EventId, splits: &[Split]) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM event_splits WHERE event_id = $1"#, event as _).execute(&mut *conn).await?;
    for (position, split) in splits.iter().enumerate() {
        sqlx::query!(
            r#"INSERT INTO event_splits (event_id, position, role, recipient_type, recipient_id, bps)
             VALUES ($1, $2, $3, $4, $5, $6)"#,
            event as _,
            i32::try_from(position).unwrap_or(i32::MAX),
            &split.role,
            &split.recipient_type,
            split.recipient_id,
            split.bps
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Freezes the event's splits at its first sale (writing the defaults if none were set).
pub(crate) async fn freeze(conn: &mut PgConnection, event: &EventRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    let frozen = sqlx::query!(
        r#"UPDATE events SET splits_frozen_at = $2 WHERE id = $1 AND splits_frozen_at IS NULL"#,
        event.id as _,
        now
    )
    .execute(&mut *conn)
    .await?;
    if frozen.rows_affected() == 1 && stored_splits(conn, event.id).await?.is_empty() {
        write_splits(conn, event.id, &default_splits(event)).await?;
    }
    Ok(())
}

pub async fn splits(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<Splits, ApiError> {
    let mut tx = ctx.db.begin().await?;
    let (event, _) = managed_event(&mut tx, principal, id).await?;
    let frozen_at: Option<DateTime<Utc>> =
        sqlx::query_scalar!(r#"SELECT splits_frozen_at FROM events WHERE id = $1"#, id as _)
            .fetch_one(&mut *tx)
            .await?;
    let stored = stored_splits(&mut tx, id).await?;
    tx.commit().await?;
    let defaults = stored.is_empty();
    Ok(Splits { items: if defaults { default_splits(&event) } else { stored }, frozen_at, defaults })
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
    let frozen_at: Option<DateTime<Utc>> =
        sqlx::query_scalar!(r#"SELECT splits_frozen_at FROM events WHERE id = $1"#, id as _)
            .fetch_one(&mut *tx)
            .await?;
    if frozen_at.is_some() {
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
        let known = match (split.recipient_type.as_str(), split.recipient_id) {
            ("platform", None) => true,
            ("user", Some(user)) => identity::service::is_active_user(&mut tx, identity::model::UserId(user)).await?,
            ("organization", Some(org)) => {
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
    write_splits(&mut tx, id, &items).await?;
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
pub fn attribution_amount(share_type: &str, share_value: i64, net: i64) -> i64 {
    let net = net.max(0);
    match share_type {
        "percent" => ledger::money::share_bps(net, share_value),
        _ => share_value.min(net),
    }
}

/// The `ticketing.event.settle` job.
async fn settle(ctx: AppContext, id: EventId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(event) = repo::event(&mut tx, id, true).await? else { return Err(JobFailure::permanent("no such event")) };
    let settled_at: Option<DateTime<Utc>> =
        sqlx::query_scalar!(r#"SELECT settled_at FROM events WHERE id = $1"#, id as _).fetch_one(&mut *tx).await?;
    if settled_at.is_some() || event.status != EventStatus::Completed {
        return Ok(());
    }
    let failure = |e: ApiError| JobFailure::retry(format!("{e:?}"));
    let report = settle_locked(&mut tx, &event, now).await.map_err(failure)?;
    sqlx::query!(r#"UPDATE events SET settled_at = $2 WHERE id = $1"#, id as _, now).execute(&mut *tx).await?;
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
    let currency: Option<String> =
        sqlx::query_scalar!(r#"SELECT currency FROM ticket_tiers WHERE event_id = $1 LIMIT 1"#, event.id as _)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(currency) = currency.and_then(|c| Currency::parse(&c)) else { return Ok(json!({"escrow": 0})) };
    let escrow = ledger::service::account(conn, Owner::Event(event.id.0), kinds::ESCROW, &currency, now).await?;
    let total = escrow.balance;
    let mut left = total;
    // Approved attributions first, each on its order's net after refunds.
    let approved: Vec<(OrderId, Uuid, String, i64, i64)> = sqlx::query_as(
        "SELECT a.order_id, l.partner_id, l.share_type, l.share_value,
                o.amount - coalesce((SELECT sum(refunded_amount) FROM tickets k WHERE k.order_id = o.id), 0)::int8 AS net
         FROM attributions a JOIN attribution_links l ON l.id = a.link_id JOIN orders o ON o.id = a.order_id
         WHERE l.event_id = $1 AND a.state = 'approved' ORDER BY a.order_id FOR UPDATE OF a",
    )
    .bind(event.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut attributed = 0;
    for (order, partner, share_type, share_value, net) in approved {
        let amount = attribution_amount(&share_type, share_value, net).min(left);
        if amount > 0 {
            ledger::earnings::credit(conn, Owner::User(partner), &currency, amount, escrow.id, "attribution", now)
                .await
                .map_err(ApiError::from)?;
        }
        sqlx::query!(r#"UPDATE attributions SET state = 'paid', amount = $2, decided_at = coalesce(decided_at, $3) WHERE order_id = $1"#, order as _, amount, now)
            .execute(&mut *conn)
            .await?;
        left -= amount;
        attributed += amount;
    }
    // The rest by the splits, largest remainder first.
    let mut splits = stored_splits(conn, event.id).await?;
    if splits.is_empty() {
        splits = default_splits(event);
    }
    let bps: Vec<u32> = splits.iter().map(|s| u32::try_from(s.bps).unwrap_or(0)).collect();
    let parts = ledger::money::split_bps(left, &bps).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let mut paid = Vec::new();
    for (split, part) in splits.iter().zip(&parts) {
        if *part > 0 {
            let owner = match (split.recipient_type.as_str(), split.recipient_id) {
                ("user", Some(id)) => Some(Owner::User(id)),
                ("organization", Some(id)) => Some(Owner::Organization(id)),
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

const LINK_COLUMNS: &str = "id, event_id, partner_id, kind, code, share_type, share_value, created_at";

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
    if req.kind != "creator" && req.kind != "sponsor" {
        errors.push(FieldError::new("kind", "invalid_value", "must be creator or sponsor"));
    }
    match req.share_type.as_str() {
        "percent" if !(0..=10_000).contains(&req.share_value) => {
            errors.push(FieldError::new("share_value", "out_of_range", "must be 0 to 10,000 basis points"));
        }
        "fixed" if req.share_value < 0 => {
            errors.push(FieldError::new("share_value", "out_of_range", "must be 0 or more (minor units per order)"));
        }
        "percent" | "fixed" => {}
        _ => errors.push(FieldError::new("share_type", "invalid_value", "must be percent or fixed")),
    }
    if !identity::service::is_active_user(&mut tx, identity::model::UserId(req.partner_id)).await? {
        errors.push(FieldError::new("partner_id", "unknown_user", "is not an active user"));
    }
    let code = req.code.clone().unwrap_or_else(|| signing::new_code()[..10].to_owned());
    if !(4..=40).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        errors.push(FieldError::new("code", "invalid_format", "must be 4 to 40 of A-Z a-z 0-9 _ -"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let link: Option<AttributionLink> = sqlx::query_as(&format!(
        "INSERT INTO attribution_links (id, event_id, partner_id, kind, code, share_type, share_value, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING RETURNING {LINK_COLUMNS}"
    ))
    .bind(platform::ids::new_id())
    .bind(id)
    .bind(req.partner_id)
    .bind(&req.kind)
    .bind(&code)
    .bind(&req.share_type)
    .bind(req.share_value)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let link = link.ok_or_else(|| ApiError::invalid_field("code", "taken", "is already another link's code"))?;
    platform::audit::Entry::new(principal.actor(), "attribution_link.create", "event", id.0)
        .after(json!({"link": link.id, "partner": link.partner_id, "share_type": link.share_type, "share_value": link.share_value}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(link)
}

/// The link a buyer's code names, for this event.
pub(crate) async fn link_for(conn: &mut PgConnection, event: EventId, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT id FROM attribution_links WHERE event_id = $1 AND code = $2"#,
        event as _,
        code.trim()
    )
    .fetch_optional(conn)
    .await
}

/// Records an order's attribution when it is paid.
pub(crate) async fn attribute(conn: &mut PgConnection, order: OrderId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO attributions (order_id, link_id, created_at)
         SELECT id, attribution_link_id, $2 FROM orders WHERE id = $1 AND attribution_link_id IS NOT NULL
         ON CONFLICT DO NOTHING"#,
        order as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

const ATTRIBUTION_SELECT: &str =
    "SELECT a.order_id, a.link_id, l.code, l.partner_id, a.state, o.amount AS order_amount, a.amount, a.created_at
    FROM attributions a JOIN attribution_links l ON l.id = a.link_id JOIN orders o ON o.id = a.order_id";

pub async fn attribution_list(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
) -> Result<dto::AttributionList, ApiError> {
    let mut tx = ctx.db.begin().await?;
    managed_event(&mut tx, principal, id).await?;
    let links =
        sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM attribution_links WHERE event_id = $1 ORDER BY id"))
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    let attributions = sqlx::query_as(&format!("{ATTRIBUTION_SELECT} WHERE l.event_id = $1 ORDER BY a.order_id"))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
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
        "approve" => "approved",
        "reject" => "rejected",
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or reject")),
    };
    let mut tx = ctx.db.begin().await?;
    let event: Option<EventId> = sqlx::query_scalar!(r#"SELECT l.event_id AS "event_id: EventId" FROM attributions a JOIN attribution_links l ON l.id = a.link_id WHERE a.order_id = $1"#, order as _)
    .fetch_optional(&mut *tx)
    .await?;
    let event = event.ok_or(TicketingError::NotFound("attribution"))?;
    managed_event(&mut tx, principal, event).await?;
    let done = sqlx::query!(r#"UPDATE attributions SET state = $2, decided_at = $3 WHERE order_id = $1 AND state IN ('pending', 'approved', 'rejected')"#, order as _, state, now)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::new(TicketingCode::AttributionPaid, "This attribution was paid at settlement."));
    }
    platform::audit::Entry::new(principal.actor(), "attribution.decide", "order", order.0)
        .after(json!({"state": state}))
        .record(&mut tx, now)
        .await?;
    let row =
        sqlx::query_as(&format!("{ATTRIBUTION_SELECT} WHERE a.order_id = $1")).bind(order).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(row)
}
