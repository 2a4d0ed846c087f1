//! After the sale: refunds by the organizer (and of every ticket when an event is cancelled), transfers
//! between people (both consent; the old code is revoked and a new one issued), and capped resale (the
//! buyer pays, the seller is credited less the platform's fee, the ticket is re-issued). Every step is
//! appended to the event's ticket chain and audited.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use ledger::error::LedgerCode;
use ledger::model::{Currency, Owner, kinds};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::dto::{Listing, Refund, RefundRequest, Transfer, TransferRequest};
use super::repo::{self, ListingTerms, LockedTicket, LockedTransfer, NewListing, NewTransfer, RefundRow};
use crate::chain::{self, Action};
use crate::error::{TicketingCode, TicketingError};
use crate::model::{EventId, TicketId};
use crate::orders::dto::PayOrder;
use crate::orders::service::{Charge, fund_wallet};
use crate::state::{EventStatus, ListingState, TicketState, TransferState};
use crate::{TicketingSettings, signing};

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
    if ticket.state == TicketState::Refunded {
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
        let sale = repo::sale_entry(conn, ticket.id).await?;
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
        let row = RefundRow {
            id: platform::ids::new_id(),
            ticket_id: ticket.id,
            amount,
            reason: reason.to_owned(),
            entry_id: entry.0,
            refunded_by: by,
            created_at: now,
        };
        repo::insert_refund(conn, &row).await?;
    }
    let full = amount == left;
    let state = if full { TicketState::Refunded } else { TicketState::Valid };
    tracing::info!(object = "ticket", id = %ticket.id.0, refunded = amount, to = state.as_str(), "refund recorded");
    repo::add_refunded(conn, ticket.id, amount, state, now).await?;
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
    Ok(Refund {
        ticket_id: ticket.id,
        amount,
        refunded_amount: ticket.refunded_amount + amount,
        state: state.as_str().to_owned(),
    })
}

async fn event_title(conn: &mut PgConnection, event: EventId) -> Result<String, ApiError> {
    Ok(crate::events::repo::event(conn, event, false).await?.map(|e| e.title).unwrap_or_default())
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
    let event =
        crate::events::repo::event(conn, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
    match crate::events::service::standing(conn, Some(principal), &event).await? {
        crate::events::service::Standing::Public => return Err(TicketingError::NotFound("ticket").into()),
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
    event: &crate::events::repo::EventRow,
    kind: &'static str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let holders = repo::valid_holders(conn, event.id).await?;
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
    event: &crate::events::repo::EventRow,
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
    let status = crate::events::repo::event(&mut tx, event, false).await?.map(|e| e.status);
    if status != Some(EventStatus::Cancelled) {
        return Ok(()); // republished meanwhile: nothing to refund
    }
    let batch = repo::valid_tickets(&mut tx, event, REFUND_BATCH).await?;
    for id in &batch {
        let Some(ticket) = repo::lock_ticket(&mut tx, *id).await? else { continue };
        if ticket.state == TicketState::Valid {
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
    if ticket.state != TicketState::Valid || ticket.checked_in_at.is_some() {
        return Err(ApiError::new(
            TicketingCode::TicketNotValid,
            format!("A used or refunded ticket cannot be {what}."),
        ));
    }
    let event =
        crate::events::repo::event(conn, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
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

async fn transfer_row(conn: &mut PgConnection, id: Uuid) -> Result<Transfer, ApiError> {
    Ok(repo::transfer(conn, id).await?.ok_or(TicketingError::NotFound("transfer"))?.into())
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
    let new =
        NewTransfer { id: transfer, ticket: id, from_user: principal.user_id.0, to_user, to_email: &to_email, now };
    repo::insert_transfer(&mut tx, &new).await?;
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
    let Some(LockedTransfer { ticket_id, from_user, to_user, to_email, state }) =
        repo::lock_transfer(&mut tx, id).await?
    else {
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
    if state != TransferState::Pending {
        return Err(ApiError::new(TicketingCode::TransferDecided, format!("This transfer was {state} already.")));
    }
    let new_state = match decision {
        "accept" => TransferState::Accepted,
        "decline" => TransferState::Declined,
        _ => TransferState::Cancelled,
    };
    if decision == "accept" {
        principal.require_verified()?;
        let ticket = repo::lock_ticket(&mut tx, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
        if ticket.holder_id != from_user || ticket.state != TicketState::Valid || ticket.checked_in_at.is_some() {
            return Err(ApiError::new(TicketingCode::TicketNotValid, "The ticket can no longer be transferred."));
        }
        crate::orders::service::receive_within_limit(&mut tx, ticket.event_id, ticket.tier_id, me).await?;
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
    repo::decide_transfer(&mut tx, id, new_state, recipient.then_some(me), now).await?;
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
    let incoming =
        repo::transfers_to(&mut conn, principal.user_id.0, &email).await?.into_iter().map(Into::into).collect();
    let outgoing = repo::transfers_from(&mut conn, principal.user_id.0).await?.into_iter().map(Into::into).collect();
    Ok(dto::TransferList { incoming, outgoing })
}

async fn listing_row(conn: &mut PgConnection, id: Uuid) -> Result<Listing, ApiError> {
    Ok(repo::listing(conn, id).await?.ok_or(TicketingError::NotFound("listing"))?.into())
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
    let event =
        crate::events::repo::event(&mut tx, ticket.event_id, false).await?.ok_or(TicketingError::NotFound("ticket"))?;
    let cap = i64::try_from(i128::from(ticket.price) * i128::from(event.resale_cap_bps) / 10_000).unwrap_or(i64::MAX);
    if price < 0 || price > cap {
        return Err(ApiError::invalid_field(
            "price",
            "above_cap",
            format!("must be between 0 and {cap} ({}% of the face value {})", event.resale_cap_bps / 100, ticket.price),
        ));
    }
    let listing = platform::ids::new_id();
    let new = NewListing {
        id: listing,
        ticket: id,
        event: ticket.event_id,
        seller: principal.user_id.0,
        price,
        currency: &ticket.currency,
        now,
    };
    repo::insert_listing(&mut tx, &new).await?;
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
    if !repo::cancel_listing(&mut tx, id, principal.user_id.0, now).await? {
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
    crate::events::service::visible_event(&mut conn, principal, event, false).await?;
    let items = repo::active_listings(&mut conn, event).await?.into_iter().map(Into::into).collect();
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
    shop: &crate::orders::service::Shop<'_>,
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
    let mut conn = pool.acquire().await?;
    let terms = repo::listing_terms(&mut conn, listing, false).await?;
    drop(conn);
    // Only a purchase that can go ahead is charged; anything else is answered by the purchase itself.
    let Some(ListingTerms { price, currency, .. }) =
        terms.filter(|t| t.state == ListingState::Active && t.seller_id != principal.user_id.0)
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
    shop: &crate::orders::service::Shop<'_>,
    settings: &TicketingSettings,
    principal: &Principal,
    purchase: Purchase<'_>,
    now: DateTime<Utc>,
) -> Result<crate::orders::dto::Ticket, ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let Some(ListingTerms { ticket_id, seller_id: seller, price, currency, state }) =
        repo::listing_terms(conn, purchase.listing, true).await?
    else {
        return Err(TicketingError::NotFound("listing").into());
    };
    if state != ListingState::Active {
        return Err(ApiError::new(TicketingCode::ListingClosed, format!("This listing is {state}.")));
    }
    if seller == principal.user_id.0 {
        return Err(ApiError::new(TicketingCode::OwnListing, "You cannot buy your own ticket."));
    }
    let ticket = repo::lock_ticket(conn, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    if ticket.holder_id != seller || ticket.state != TicketState::Valid || ticket.checked_in_at.is_some() {
        return Err(ApiError::new(TicketingCode::ListingClosed, "The ticket can no longer be sold."));
    }
    crate::orders::service::receive_within_limit(conn, ticket.event_id, ticket.tier_id, principal.user_id.0).await?;
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
    repo::mark_sold(conn, purchase.listing, principal.user_id.0, fee, now).await?;
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
    let row = crate::orders::repo::ticket(conn, ticket_id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    Ok(crate::orders::service::tickets_dto(conn, shop.secrets, vec![row]).await?.remove(0))
}
