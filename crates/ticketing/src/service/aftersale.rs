//! After the sale: refunds by the organizer (and of every ticket when an event is cancelled), transfers
//! between people (both consent; the old code is revoked and a new one issued), and capped resale (the
//! buyer pays, the seller is credited less the platform's fee, the ticket is re-issued). Every step is
//! appended to the event's ticket chain and audited.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use ledger::model::{Currency, Owner, kinds};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::orders::{Charge, fund_wallet};
use crate::TicketingSettings;
use crate::chain::{self, Action};
use crate::dto::{self, Listing, PayOrder, Refund, RefundRequest, Transfer, TransferRequest};
use crate::error::TicketingCode;
use crate::error::TicketingError;
use crate::model::{EventId, TicketId};
use crate::repo::{self, LockedTicket};
use crate::signing;
use crate::state::EventStatus;
use ledger::error::LedgerCode;

/// Refunds every ticket of a cancelled event, a batch at a time.
pub const REFUND_ALL: JobKind = JobKind::new("ticketing.event.refund_all").max_attempts(20);
const REFUND_BATCH: i64 = 200;

fn currency_of(ticket: &LockedTicket) -> Result<Currency, ApiError> {
    Currency::parse(&ticket.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))
}

/// Refunds `amount` (or what is left) of a ticket from the event's escrow to its holder's wallet, in the
/// caller's transaction. `notify` tells the holder (cancellations tell them once, for the event).
async fn refund_locked(
    conn: &mut PgConnection,
    ticket: &LockedTicket,
    amount: Option<i64>,
    reason: &str,
    by: Option<Uuid>,
    notify: bool,
    now: DateTime<Utc>,
) -> Result<Refund, ApiError> {
    if ticket.state == "refunded" {
        return Err(ApiError::new(LedgerCode::AlreadyRefunded, "This ticket was refunded in full already."));
    }
    let left = ticket.price - ticket.refunded_amount;
    let amount = amount.unwrap_or(left);
    if amount < 0 || amount > left || (amount == 0 && left > 0) {
        return Err(ApiError::invalid_field(
            "amount",
            "out_of_range",
            format!("must be between 1 and {left}, what is left of the ticket's price"),
        ));
    }
    let currency = currency_of(ticket)?;
    if amount > 0 {
        let escrow =
            ledger::service::account(conn, Owner::Event(ticket.event_id.0), kinds::ESCROW, &currency, now).await?;
        let wallet =
            ledger::service::account(conn, Owner::User(ticket.holder_id), kinds::AVAILABLE, &currency, now).await?;
        // The sale's movement backwards (escrow to the holder), linked to the sale's entry.
        let sale: Option<Uuid> = sqlx::query_scalar!(
            r#"SELECT o.payment_entry FROM orders o JOIN tickets k ON k.order_id = o.id WHERE k.id = $1"#,
            ticket.id as _
        )
        .fetch_one(&mut *conn)
        .await?;
        let entry = ledger::service::post(
            conn,
            ledger::service::NewEntry {
                kind: crate::entry_kinds::REFUND,
                memo: reason,
                legs: vec![
                    ledger::service::Leg { account: escrow.id, amount: -amount },
                    ledger::service::Leg { account: wallet.id, amount },
                ],
                metadata: json!({"ticket": ticket.id, "sale_entry": sale, "full": amount == left}),
            },
            now,
        )
        .await
        .map_err(ApiError::from)?;
        sqlx::query!(
            r#"INSERT INTO ticket_refunds (id, ticket_id, amount, reason, entry_id, refunded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
            platform::ids::new_id(),
            ticket.id as _,
            amount,
            reason,
            entry.0,
            by,
            now
        )
        .execute(&mut *conn)
        .await?;
    }
    let full = amount == left;
    let state = if full { "refunded" } else { "valid" };
    tracing::info!(object = "ticket", id = %ticket.id.0, refunded = amount, to = state, "refund recorded");
    sqlx::query!(
        r#"UPDATE tickets SET refunded_amount = refunded_amount + $2, state = $3, updated_at = $4 WHERE id = $1"#,
        ticket.id as _,
        amount,
        state,
        now
    )
    .execute(&mut *conn)
    .await?;
    chain::append(
        conn,
        ticket.event_id,
        ticket.id,
        Action::Refund,
        json!({"amount": amount, "holder": ticket.holder_id, "full": full}),
        now,
    )
    .await?;
    if notify {
        let title = event_title(conn, ticket.event_id).await?;
        let event = platform::events::Event {
            kind: "ticket.refunded",
            recipients: vec![ticket.holder_id],
            organization: None,
            data: json!({"event": title, "amount": currency.display(amount), "reason": reason, "ticket_id": ticket.id}),
        };
        platform::events::emit(conn, event, now).await?;
    }
    Ok(Refund { ticket_id: ticket.id, amount, refunded_amount: ticket.refunded_amount + amount, state: state.into() })
}

async fn event_title(conn: &mut PgConnection, event: EventId) -> Result<String, ApiError> {
    Ok(repo::event(conn, event, false).await?.map(|e| e.title).unwrap_or_default())
}

/// The organizer refunds a ticket, in the caller's transaction (idempotent requests).
pub async fn refund(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TicketId,
    req: &RefundRequest,
    now: DateTime<Utc>,
) -> Result<Refund, ApiError> {
    let ticket = repo::lock_ticket(conn, id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    let event = repo::event(conn, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
    match super::standing(conn, Some(principal), &event).await? {
        super::Standing::Public => return Err(TicketingError::NotFound("ticket").into()),
        _ => principal.require_verified()?,
    }
    match event.status {
        EventStatus::Completed => {
            return Err(ApiError::new(TicketingCode::EventSettled, "The event is completed and its money settled."));
        }
        EventStatus::Cancelled => {}
        _ if !ticket.refundable => {
            return Err(ApiError::new(
                TicketingCode::NotRefundable,
                format!("{} tickets are not refundable.", ticket.tier_name),
            ));
        }
        _ => {}
    }
    let reason = req.reason.trim();
    if reason.chars().count() > 500 {
        return Err(ApiError::invalid_field("reason", "too_long", "must be at most 500 characters"));
    }
    let refund = refund_locked(conn, &ticket, req.amount, reason, Some(principal.user_id.0), true, now).await?;
    platform::audit::Entry::new(principal.actor(), "ticket.refund", "ticket", id.0)
        .after(json!({"amount": refund.amount, "state": refund.state, "reason": reason}))
        .record(conn, now)
        .await?;
    Ok(refund)
}

/// Tells every holder of a valid ticket of the event about it (`kind` names the notification).
pub(crate) async fn notify_holders(
    conn: &mut PgConnection,
    event: &repo::EventRow,
    kind: &'static str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let holders: Vec<Uuid> = sqlx::query_scalar!(
        r#"SELECT DISTINCT holder_id FROM tickets WHERE event_id = $1 AND state = 'valid'"#,
        event.id as _
    )
    .fetch_all(&mut *conn)
    .await?;
    if !holders.is_empty() {
        let notice = platform::events::Event {
            kind,
            recipients: holders,
            organization: None,
            data: json!({"event": event.title, "event_id": event.id, "reason": reason.unwrap_or_default()}),
        };
        platform::events::emit(conn, notice, now).await?;
    }
    Ok(())
}

/// When an event is cancelled: tells every holder, and queues the refund of every ticket.
pub(crate) async fn on_cancelled(
    conn: &mut PgConnection,
    event: &repo::EventRow,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    notify_holders(conn, event, "event.cancelled", reason, now).await?;
    let event = event.id;
    jobs::enqueue(conn, NewJob::new(REFUND_ALL, json!({"event_id": event})).unique(format!("refund_all:{event}")), now)
        .await?;
    Ok(())
}

/// The `ticketing.event.refund_all` job: refunds a batch of the cancelled event's tickets per run and
/// queues itself again until none is left.
async fn refund_all(ctx: AppContext, event: EventId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let status: Option<String> =
        sqlx::query_scalar!(r#"SELECT status FROM events WHERE id = $1"#, event as _).fetch_optional(&mut *tx).await?;
    if status.as_deref() != Some("cancelled") {
        return Ok(()); // republished meanwhile: nothing to refund
    }
    let batch: Vec<TicketId> = sqlx::query_scalar!(
        r#"SELECT id AS "id: TicketId" FROM tickets WHERE event_id = $1 AND state = 'valid' ORDER BY id LIMIT $2"#,
        event as _,
        REFUND_BATCH
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in &batch {
        let Some(ticket) = repo::lock_ticket(&mut tx, *id).await? else { continue };
        if ticket.state == "valid" {
            refund_locked(&mut tx, &ticket, None, "event cancelled", None, false, now)
                .await
                .map_err(|e| JobFailure::retry(format!("{e:?}")))?;
        }
    }
    if batch.len() as i64 == REFUND_BATCH {
        // More to do: the next run continues (this one's uniqueness ends when it finishes).
        jobs::enqueue(&mut tx, NewJob::new(REFUND_ALL, json!({"event_id": event})), now).await?;
    }
    platform::audit::Entry::new(platform::audit::Actor::default(), "event.refund_batch", "event", event.0)
        .after(json!({"refunded": batch.len()}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(REFUND_ALL, |ctx: AppContext, job: Job| async move {
        let id: EventId = job.field("event_id")?;
        refund_all(ctx, id).await
    });
}

/// What a holder may still do with a ticket: it is theirs, valid, not used, and its event is on.
async fn holdable(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TicketId,
    what: &str,
) -> Result<LockedTicket, ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let ticket = repo::lock_ticket(conn, id)
        .await?
        .filter(|t| t.holder_id == principal.user_id.0)
        .ok_or(TicketingError::NotFound("ticket"))?;
    if ticket.state != "valid" || ticket.checked_in_at.is_some() {
        return Err(ApiError::new(
            TicketingCode::TicketNotValid,
            format!("A used or refunded ticket cannot be {what}."),
        ));
    }
    let event = repo::event(conn, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
    if !matches!(event.status, EventStatus::Published | EventStatus::Postponed) {
        return Err(ApiError::new(
            TicketingCode::EventNotOn,
            format!("Tickets of a {} event cannot be {what}.", event.status),
        ));
    }
    if repo::ticket_busy(conn, id).await? {
        return Err(ApiError::new(
            TicketingCode::TicketBusy,
            "This ticket is already offered to someone or listed for resale; withdraw that first.",
        ));
    }
    Ok(ticket)
}

const TRANSFER_SELECT: &str =
    "SELECT x.id, x.ticket_id, k.event_id, e.title AS event_title, t.name AS tier_name, x.from_user,
    x.to_email, x.state, x.created_at, x.decided_at
    FROM ticket_transfers x JOIN tickets k ON k.id = x.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
    JOIN events e ON e.id = k.event_id";

async fn transfer_row(conn: &mut PgConnection, id: Uuid) -> Result<Transfer, ApiError> {
    Ok(sqlx::query_as(&format!("{TRANSFER_SELECT} WHERE x.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(TicketingError::NotFound("transfer"))?)
}

/// The holder offers a ticket to someone; they receive it once they accept.
pub async fn offer(
    ctx: &AppContext,
    principal: &Principal,
    id: TicketId,
    req: TransferRequest,
) -> Result<Transfer, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let ticket = holdable(&mut tx, principal, id, "transferred").await?;
    if !ticket.transferable {
        return Err(ApiError::new(
            TicketingCode::NotTransferable,
            format!("{} tickets cannot be transferred.", ticket.tier_name),
        ));
    }
    let (to_user, to_email) = match (req.to_user_id, req.to_email.as_deref()) {
        (Some(user), None) => {
            let email = identity::service::active_user_email(&mut tx, identity::model::UserId(user))
                .await?
                .ok_or_else(|| ApiError::invalid_field("to_user_id", "unknown_user", "is not an active user"))?;
            (Some(user), email)
        }
        (None, Some(email)) => {
            let email = identity::model::Email::parse("to_email", email).map_err(|e| ApiError::validation(vec![e]))?;
            let user = identity::service::active_user_by_email(&mut tx, email.as_str()).await?;
            (user.map(|u| u.0), email.as_str().to_owned())
        }
        _ => return Err(ApiError::invalid_field("to_email", "required", "give either to_email or to_user_id")),
    };
    if to_user == Some(principal.user_id.0) {
        return Err(ApiError::invalid_field("to_email", "is_self", "is you: the ticket is yours already"));
    }
    let transfer = platform::ids::new_id();
    sqlx::query!(
        r#"INSERT INTO ticket_transfers (id, ticket_id, from_user, to_user, to_email, state, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)"#,
        transfer,
        id as _,
        principal.user_id.0,
        to_user,
        &to_email,
        now
    )
    .execute(&mut *tx)
    .await?;
    if let Some(recipient) = to_user {
        let title = event_title(&mut tx, ticket.event_id).await?;
        let event = platform::events::Event {
            kind: "ticket.transfer_offered",
            recipients: vec![recipient],
            organization: None,
            data: json!({"event": title, "tier": ticket.tier_name, "from": principal_name(&mut tx, principal).await?, "transfer_id": transfer}),
        };
        platform::events::emit(&mut tx, event, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "ticket.transfer_offer", "ticket", id.0)
        .after(json!({"transfer": transfer, "to": to_email}))
        .record(&mut tx, now)
        .await?;
    let row = transfer_row(&mut tx, transfer).await?;
    tx.commit().await?;
    Ok(row)
}

async fn principal_name(conn: &mut PgConnection, principal: &Principal) -> Result<String, ApiError> {
    Ok(identity::service::display_name(conn, principal.user_id).await?.unwrap_or_default())
}

/// The recipient accepts (the ticket becomes theirs, with a new code) or declines; the sender may
/// withdraw a pending offer.
pub async fn decide(ctx: &AppContext, principal: &Principal, id: Uuid, decision: &str) -> Result<Transfer, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row: Option<(TicketId, Uuid, Option<Uuid>, String, String)> = sqlx::query_as(
        "SELECT ticket_id, from_user, to_user, to_email, state FROM ticket_transfers WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((ticket_id, from_user, to_user, to_email, state)) = row else {
        return Err(TicketingError::NotFound("transfer").into());
    };
    let me = principal.user_id.0;
    let my_email = identity::service::active_user_email(&mut tx, principal.user_id).await?.unwrap_or_default();
    let recipient = to_user == Some(me) || (to_user.is_none() && my_email.eq_ignore_ascii_case(&to_email));
    let allowed = match decision {
        "accept" | "decline" => recipient,
        "cancel" => from_user == me,
        _ => false,
    };
    if !allowed {
        return Err(TicketingError::NotFound("transfer").into());
    }
    if state != "pending" {
        return Err(ApiError::new(TicketingCode::TransferDecided, format!("This transfer was {state} already.")));
    }
    let new_state = match decision {
        "accept" => "accepted",
        "decline" => "declined",
        _ => "cancelled",
    };
    if decision == "accept" {
        principal.require_verified()?;
        let ticket = repo::lock_ticket(&mut tx, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
        if ticket.holder_id != from_user || ticket.state != "valid" || ticket.checked_in_at.is_some() {
            return Err(ApiError::new(TicketingCode::TicketNotValid, "The ticket can no longer be transferred."));
        }
        let code = signing::new_code();
        repo::reissue(&mut tx, ticket_id, me, &code, "transferred", now).await?;
        let data = json!({"from": from_user, "to": me, "code_sha256": chain::code_hash(&code)});
        chain::append(&mut tx, ticket.event_id, ticket_id, Action::Transfer, data, now).await?;
        let title = event_title(&mut tx, ticket.event_id).await?;
        let notice = platform::events::Event {
            kind: "ticket.transfer_accepted",
            recipients: vec![from_user],
            organization: None,
            data: json!({"event": title, "to": principal_name(&mut tx, principal).await?, "transfer_id": id}),
        };
        platform::events::emit(&mut tx, notice, now).await?;
    }
    sqlx::query!(
        r#"UPDATE ticket_transfers SET state = $2, decided_at = $3, to_user = coalesce(to_user, $4) WHERE id = $1"#,
        id,
        new_state,
        now,
        recipient.then_some(me)
    )
    .execute(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "ticket.transfer_decide", "ticket", ticket_id.0)
        .after(json!({"transfer": id, "state": new_state}))
        .record(&mut tx, now)
        .await?;
    let row = transfer_row(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn transfers(ctx: &AppContext, principal: &Principal) -> Result<dto::TransferList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let email = identity::service::active_user_email(&mut conn, principal.user_id).await?.unwrap_or_default();
    let incoming = sqlx::query_as(&format!(
        "{TRANSFER_SELECT} WHERE x.to_user = $1 OR (x.to_user IS NULL AND lower(x.to_email) = lower($2))
         ORDER BY x.id DESC LIMIT 200"
    ))
    .bind(principal.user_id.0)
    .bind(&email)
    .fetch_all(&mut *conn)
    .await?;
    let outgoing = sqlx::query_as(&format!("{TRANSFER_SELECT} WHERE x.from_user = $1 ORDER BY x.id DESC LIMIT 200"))
        .bind(principal.user_id.0)
        .fetch_all(&mut *conn)
        .await?;
    Ok(dto::TransferList { incoming, outgoing })
}

const LISTING_SELECT: &str =
    "SELECT l.id, l.ticket_id, l.event_id, t.name AS tier_name, l.price, l.currency, l.state, l.created_at
    FROM resale_listings l JOIN tickets k ON k.id = l.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id";

async fn listing_row(conn: &mut PgConnection, id: Uuid) -> Result<Listing, ApiError> {
    Ok(sqlx::query_as(&format!("{LISTING_SELECT} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(TicketingError::NotFound("listing"))?)
}

/// The holder lists a ticket for resale at no more than its face value times the event's cap.
pub async fn list(ctx: &AppContext, principal: &Principal, id: TicketId, price: i64) -> Result<Listing, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let ticket = holdable(&mut tx, principal, id, "resold").await?;
    if !ticket.resaleable {
        return Err(ApiError::new(
            TicketingCode::NotResaleable,
            format!("{} tickets cannot be resold.", ticket.tier_name),
        ));
    }
    let event = repo::event(&mut tx, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
    let cap = i64::try_from(i128::from(ticket.price) * i128::from(event.resale_cap_bps) / 10_000).unwrap_or(i64::MAX);
    if price < 0 || price > cap {
        return Err(ApiError::invalid_field(
            "price",
            "above_cap",
            format!("must be between 0 and {cap} ({}% of the face value {})", event.resale_cap_bps / 100, ticket.price),
        ));
    }
    let listing = platform::ids::new_id();
    sqlx::query!(
        r#"INSERT INTO resale_listings (id, ticket_id, event_id, seller_id, price, currency, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)"#,
        listing,
        id as _,
        ticket.event_id as _,
        principal.user_id.0,
        price,
        &ticket.currency,
        now
    )
    .execute(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "ticket.list", "ticket", id.0)
        .after(json!({"listing": listing, "price": price}))
        .record(&mut tx, now)
        .await?;
    let row = listing_row(&mut tx, listing).await?;
    tx.commit().await?;
    Ok(row)
}

/// The seller withdraws an active listing.
pub async fn unlist(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Listing, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query!(r#"UPDATE resale_listings SET state = 'cancelled', closed_at = $3 WHERE id = $1 AND seller_id = $2 AND state = 'active'"#, id, principal.user_id.0, now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(TicketingError::NotFound("active listing").into());
    }
    platform::audit::Entry::new(principal.actor(), "ticket.unlist", "resale_listing", id).record(&mut tx, now).await?;
    let row = listing_row(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn listings(
    ctx: &AppContext,
    principal: Option<&Principal>,
    event: EventId,
) -> Result<dto::ListingList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    super::visible_event(&mut conn, principal, event, false).await?;
    let items = sqlx::query_as(&format!(
        "{LISTING_SELECT} WHERE l.event_id = $1 AND l.state = 'active' ORDER BY l.price, l.id LIMIT 200"
    ))
    .bind(event)
    .fetch_all(&mut *conn)
    .await?;
    Ok(dto::ListingList { items })
}

/// A purchase of a listed ticket.
pub struct Purchase<'a> {
    pub listing: Uuid,
    pub how: &'a PayOrder,
    pub retry_key: Option<&'a str>,
    /// The card payment [`charge_listing`] made, before the purchase's transaction.
    pub charged: Option<Uuid>,
}

/// Before the purchase's transaction: charges the card, if that is how the buyer pays, into the buyer's
/// wallet (never inside the transaction, so that it never waits for a second database connection).
pub async fn charge_listing(
    shop: &super::orders::Shop<'_>,
    principal: &Principal,
    listing: Uuid,
    how: &PayOrder,
    retry_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ApiError> {
    if how.source.as_deref().unwrap_or("card") != "card" {
        return Ok(None);
    }
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let pool = shop.pool.ok_or_else(|| ApiError::internal(anyhow::anyhow!("a card payment needs the pool")))?;
    let row: Option<(Uuid, i64, String, String)> =
        sqlx::query_as("SELECT seller_id, price, currency, state FROM resale_listings WHERE id = $1")
            .bind(listing)
            .fetch_optional(pool)
            .await?;
    // Only a purchase that can go ahead is charged; anything else is answered by the purchase itself.
    let Some((_, price, currency, _)) =
        row.filter(|(seller, _, _, state)| state == "active" && *seller != principal.user_id.0)
    else {
        return Ok(None);
    };
    let currency = Currency::parse(&currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))?;
    let charge = Charge {
        amount: price,
        currency: &currency,
        how,
        retry_key,
        description: format!("Resale ticket, listing {listing}"),
    };
    fund_wallet(shop, principal, charge, now).await
}

/// Buys a listed ticket, in the caller's transaction: the buyer pays the price, the seller's pending
/// earnings get it less the platform's fee, and the ticket is re-issued to the buyer with a new code.
pub async fn buy(
    conn: &mut PgConnection,
    shop: &super::orders::Shop<'_>,
    settings: &TicketingSettings,
    principal: &Principal,
    purchase: Purchase<'_>,
    now: DateTime<Utc>,
) -> Result<dto::Ticket, ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let row: Option<(TicketId, Uuid, i64, String, String)> = sqlx::query_as(
        "SELECT ticket_id, seller_id, price, currency, state FROM resale_listings WHERE id = $1 FOR UPDATE",
    )
    .bind(purchase.listing)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((ticket_id, seller, price, currency, state)) = row else {
        return Err(TicketingError::NotFound("listing").into());
    };
    if state != "active" {
        return Err(ApiError::new(TicketingCode::ListingClosed, format!("This listing is {state}.")));
    }
    if seller == principal.user_id.0 {
        return Err(ApiError::new(TicketingCode::OwnListing, "You cannot buy your own ticket."));
    }
    let ticket = repo::lock_ticket(conn, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    if ticket.holder_id != seller || ticket.state != "valid" || ticket.checked_in_at.is_some() {
        return Err(ApiError::new(TicketingCode::ListingClosed, "The ticket can no longer be sold."));
    }
    let currency = Currency::parse(&currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))?;
    let payment = purchase.charged;
    let fee = ledger::money::share_bps(price, i64::from(settings.resale_fee_bps));
    if price > 0 {
        // Buyer's wallet -> platform fees and a resale clearing leg that becomes the seller's pending earning.
        let wallet =
            ledger::service::account(conn, Owner::User(principal.user_id.0), kinds::AVAILABLE, &currency, now).await?;
        let fees = ledger::service::account(conn, Owner::Platform, kinds::FEES, &currency, now).await?;
        let clearing = ledger::service::account(conn, Owner::Platform, kinds::CLEARING, &currency, now).await?;
        let mut legs = vec![
            ledger::service::Leg { account: wallet.id, amount: -price },
            ledger::service::Leg { account: clearing.id, amount: price - fee },
        ];
        if fee > 0 {
            legs.push(ledger::service::Leg { account: fees.id, amount: fee });
        }
        ledger::service::post(
            conn,
            ledger::service::NewEntry {
                kind: "ticket.resale",
                memo: "resale",
                legs,
                metadata: json!({"listing": purchase.listing, "ticket": ticket_id, "payment": payment}),
            },
            now,
        )
        .await
        .map_err(ApiError::from)?;
        if price - fee > 0 {
            ledger::earnings::credit(
                conn,
                Owner::User(seller),
                &currency,
                price - fee,
                clearing.id,
                "ticket_resale",
                now,
            )
            .await
            .map_err(ApiError::from)?;
        }
    }
    let code = signing::new_code();
    repo::reissue(conn, ticket_id, principal.user_id.0, &code, "resold", now).await?;
    sqlx::query!(
        r#"UPDATE resale_listings SET state = 'sold', buyer_id = $2, fee = $3, closed_at = $4 WHERE id = $1"#,
        purchase.listing,
        principal.user_id.0,
        fee,
        now
    )
    .execute(&mut *conn)
    .await?;
    let data =
        json!({"from": seller, "to": principal.user_id.0, "price": price, "code_sha256": chain::code_hash(&code)});
    chain::append(conn, ticket.event_id, ticket_id, Action::Resale, data, now).await?;
    let title = event_title(conn, ticket.event_id).await?;
    let notice = platform::events::Event {
        kind: "ticket.resold",
        recipients: vec![seller],
        organization: None,
        data: json!({"event": title, "price": currency.display(price), "credited": currency.display(price - fee), "listing_id": purchase.listing}),
    };
    platform::events::emit(conn, notice, now).await?;
    platform::audit::Entry::new(principal.actor(), "ticket.resale", "ticket", ticket_id.0)
        .after(json!({"listing": purchase.listing, "price": price, "fee": fee, "seller": seller}))
        .record(conn, now)
        .await?;
    let row = repo::ticket(conn, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    Ok(super::orders::tickets_dto(conn, shop.secrets, vec![row]).await?.remove(0))
}
