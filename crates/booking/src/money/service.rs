//! The money of a booking, through the ledger. Everything the organizer pays waits in the booking's
//! escrow account: the deposit (charged at confirmation from the organizer's wallet, or paid later) and
//! the balance (requested by a timer 24 hours before the show, flagged overdue at the show). Completion
//! releases the escrow: what the artist receives to their pending earnings, the rest to the platform's
//! revenue. Cancellation after confirmation applies the cancelling side's penalty and refunds the rest.
//! A dispute freezes the escrow until an admin releases it, refunds it or splits it.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use ledger::error::LedgerCode;
use ledger::model::{Currency, Owner as LedgerOwner, kinds};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;

use super::dto::{PayRequest, Resolution};
use super::repo::{self, PaymentKind};
use crate::bookings::dto::Agreement;
use crate::bookings::repo::BookingRow;
use crate::bookings::service::{Loaded, cancel, load, notice_data, notify, side_name, view};
use crate::contract::BALANCE_BEFORE;
use crate::error::{BookingCode, BookingError};
use crate::model::BookingId;
use crate::profiles::repo::{ArtistRow, PromoterRow};
use crate::state::{self, Actor, BookingStatus, Side};

pub const BALANCE_DUE: JobKind = JobKind::new("booking.balance_due").max_attempts(10);
pub const AUTO_COMPLETE: JobKind = JobKind::new("booking.auto_complete").max_attempts(10);
/// A show completes by itself this long after its end, unless disputed.
pub const COMPLETE_AFTER: Duration = Duration::hours(48);

/// The penalty, in basis points of the fee, for cancelling `days_left` whole days before the show.
/// Artist: 0% more than 90 days out, 20% at 30–90, 50% under 30. Organizer: 20% more than 30 days out,
/// 50% at 15–30, 100% under 15.
pub fn penalty_bps(by: Actor, days_left: i64) -> i64 {
    match by {
        Actor::Artist if days_left > 90 => 0,
        Actor::Artist if days_left >= 30 => 2_000,
        Actor::Artist => 5_000,
        _ if days_left > 30 => 2_000,
        _ if days_left >= 15 => 5_000,
        _ => 10_000,
    }
}

/// Whole days left before the show (a day is 24 hours; a show less than a day away has 0).
pub fn days_left(now: DateTime<Utc>, starts_at: DateTime<Utc>) -> i64 {
    (starts_at - now).num_seconds().max(0) / 86_400
}

fn agreement(row: &BookingRow) -> Result<Agreement, ApiError> {
    row.agreed
        .clone()
        .and_then(|a| serde_json::from_value(a).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a booking past agreement without its agreement")))
}

fn currency(agreement: &Agreement) -> Result<Currency, ApiError> {
    Currency::parse(&agreement.terms.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad currency")))
}

/// The deposit and balance amounts of an agreement (they sum to what the organizer pays).
pub fn amounts(agreement: &Agreement) -> (i64, i64) {
    let deposit = ledger::money::share_bps(agreement.figures.organizer_pays, i64::from(agreement.terms.deposit_bps));
    (deposit, agreement.figures.organizer_pays - deposit)
}

async fn escrow(
    conn: &mut PgConnection,
    booking: BookingId,
    currency: &Currency,
    now: DateTime<Utc>,
) -> sqlx::Result<ledger::repo::AccountRow> {
    ledger::service::account(conn, LedgerOwner::Booking(booking.0), kinds::ESCROW, currency, now).await
}

/// Moves `amount` from `payer`'s available balance into the booking's escrow. `Ok(false)` when the
/// wallet cannot cover it (nothing moves).
async fn collect(
    conn: &mut PgConnection,
    booking: BookingId,
    payer: LedgerOwner,
    currency: &Currency,
    amount: i64,
    kind: PaymentKind,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let wallet = ledger::service::account(conn, payer, kinds::AVAILABLE, currency, now).await?;
    let escrow = escrow(conn, booking, currency, now).await?;
    repo::savepoint(conn).await?;
    match ledger::service::transfer(
        conn,
        wallet.id,
        escrow.id,
        amount,
        &format!("booking.{}", kind.as_str()),
        &format!("booking {booking}"),
        now,
    )
    .await
    {
        Ok(entry) => {
            repo::release_savepoint(conn).await?;
            repo::record(conn, booking, kind, amount, Some(entry.0), now).await?;
            Ok(true)
        }
        Err(ledger::error::LedgerError::InsufficientFunds) => {
            repo::rollback_to_savepoint(conn).await?;
            Ok(false)
        }
        Err(other) => Err(other.into()),
    }
}

/// At confirmation: charge the deposit from the organizer's wallet (→ paid_deposit), or ask for it;
/// schedule the balance request and the automatic completion.
pub(crate) async fn on_confirmed(
    conn: &mut PgConnection,
    row: &mut BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let agreement = agreement(row)?;
    let currency = currency(&agreement)?;
    let (deposit, _) = amounts(&agreement);
    let balance_at = (row.starts_at - BALANCE_BEFORE).max(now);
    jobs::enqueue(
        conn,
        NewJob::new(BALANCE_DUE, json!({"booking_id": row.id}))
            .at(balance_at)
            .unique(format!("booking:{}:balance", row.id)),
        now,
    )
    .await?;
    jobs::enqueue(
        conn,
        NewJob::new(AUTO_COMPLETE, json!({"booking_id": row.id}))
            .at(row.ends_at + COMPLETE_AFTER)
            .unique(format!("booking:{}:complete", row.id)),
        now,
    )
    .await?;
    if collect(
        conn,
        row.id,
        ledger::model::Owner::from(promoter.owner()),
        &currency,
        deposit,
        PaymentKind::Deposit,
        now,
    )
    .await?
    {
        mark_paid(conn, row, PaymentKind::Deposit, now).await?;
    } else {
        let mut data = notice_data(artist, promoter, row, Some(deposit), currency.as_str());
        data["what"] = json!("deposit");
        data["amount"] = json!(currency.display(deposit));
        data["due"] = json!("now");
        notify(conn, promoter.owner(), "booking.payment_due", data, now).await?;
    }
    Ok(())
}

async fn mark_paid(
    conn: &mut PgConnection,
    row: &mut BookingRow,
    what: PaymentKind,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let to = if what == PaymentKind::Deposit { BookingStatus::PaidDeposit } else { BookingStatus::Scheduled };
    let from = row.status;
    state::check(from, to, Actor::System).map_err(BookingError::from)?;
    if what == PaymentKind::Deposit {
        repo::deposit_paid(conn, row.id, now).await?;
    } else {
        repo::balance_paid(conn, row.id, now).await?;
    }
    row.status = to;
    row.updated_at = now;
    crate::bookings::repo::update_booking(conn, row).await?;
    Ok(())
}

/// Before the payment's transaction (never inside it, so that it never waits for a second database
/// connection): charges the card, if that is how the organizer pays, into the caller's wallet.
pub async fn charge(
    ctx: &AppContext,
    ledger_settings: &ledger::LedgerSettings,
    principal: &Principal,
    payment: &Payment<'_>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let req = payment.body;
    if req.source.as_deref() != Some("card") {
        return Ok(());
    }
    let (amount, currency) = {
        let mut conn = ctx.db.acquire().await?;
        // Only what is due is charged; anything else is answered by the payment itself.
        let Ok(Loaded { row, side, .. }) = load(&mut conn, principal, payment.booking, false).await else {
            return Ok(());
        };
        let status = row.status;
        if side != Actor::Organizer || !matches!(status, BookingStatus::Confirmed | BookingStatus::PaidDeposit) {
            return Ok(());
        }
        let agreement = agreement(&row)?;
        let (deposit, balance) = amounts(&agreement);
        (if status == BookingStatus::Confirmed { deposit } else { balance }, currency(&agreement)?)
    };
    principal.require_verified()?;
    let request = ledger::payments::PaymentRequest {
        amount,
        currency: currency.as_str().to_owned(),
        provider: req.provider.clone(),
        card_number: req.card_number.clone(),
        payment_method: req.payment_method.clone(),
        capture: None,
        description: format!("Booking {}", payment.booking),
    };
    let intent =
        ledger::payments::charge_to_wallet(&ctx.db, principal, &request, ledger_settings, payment.retry_key, now)
            .await?;
    ledger::payments::captured(
        intent,
        "The payment needs the customer's action first; once it has gone through its money is in your wallet.",
    )
}

/// The organizer pays what is due: the deposit of a confirmed booking, or the balance of one with its
/// deposit paid.
/// A payment of what a booking owes: which booking, how, and the request's `Idempotency-Key`.
pub struct Payment<'a> {
    pub booking: BookingId,
    pub body: &'a PayRequest,
    pub retry_key: Option<&'a str>,
}

pub async fn pay(
    conn: &mut PgConnection,
    principal: &Principal,
    payment: Payment<'_>,
    now: DateTime<Utc>,
) -> Result<crate::bookings::dto::Booking, ApiError> {
    let (id, req) = (payment.booking, payment.body);
    let Loaded { mut row, promoter, side, .. } = load(conn, principal, id, true).await?;
    if side != Actor::Organizer {
        return Err(ApiError::new(BookingCode::NotTheOrganizer, "The organizer pays."));
    }
    principal.require_verified()?;
    let status = row.status;
    if !matches!(status, BookingStatus::Confirmed | BookingStatus::PaidDeposit) {
        return Err(ApiError::new(BookingCode::NothingDue, format!("Nothing is due for a {} booking.", row.status)));
    }
    let agreement = agreement(&row)?;
    let currency = currency(&agreement)?;
    let (deposit, balance) = amounts(&agreement);
    let (what, amount) = if status == BookingStatus::Confirmed {
        (PaymentKind::Deposit, deposit)
    } else {
        (PaymentKind::Balance, balance)
    };
    let payer = match req.source.as_deref().unwrap_or("wallet") {
        "wallet" => ledger::model::Owner::from(promoter.owner()),
        // Charged by `charge` before this transaction, into the caller's wallet.
        "card" => LedgerOwner::User(principal.user_id.0),
        _ => return Err(ApiError::invalid_field("source", "invalid_value", "must be wallet or card")),
    };
    if !collect(conn, id, payer, &currency, amount, what, now).await? {
        return Err(ApiError::new(
            LedgerCode::InsufficientFunds,
            format!("The wallet cannot cover the {what} of {}.", currency.display(amount)),
        ));
    }
    mark_paid(conn, &mut row, what, now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.pay", "booking", id.0)
        .after(json!({"what": what, "amount": amount, "currency": currency.as_str()}))
        .record(conn, now)
        .await?;
    view(conn, &row, side).await
}

/// What the artist earned, gross, by the deal: the fee (flat), the artist's share of the linked event's
/// net ticket revenue as recorded in its escrow (door), or the greater of the two (versus).
pub fn gross(deal_type: &str, fee: i64, door_share: Option<i64>) -> i64 {
    match (deal_type, door_share) {
        ("door", Some(door)) => door,
        ("versus", Some(door)) => door.max(fee),
        _ => fee,
    }
}

/// Pays the escrow out: the artist's share to their pending earnings, the rest to the platform. A door or
/// versus deal on an event sold through Backline settles from its ticket sales: the escrow is topped up
/// from the event's ticket money, or the organizer's overpayment returned, so that it holds what the
/// organizer owes for the gross the deal gives.
async fn release(
    conn: &mut PgConnection,
    row: &BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let agreement = agreement(row)?;
    let currency = currency(&agreement)?;
    let escrow = escrow(conn, row.id, &currency, now).await?;
    let mut held = escrow.balance;
    let mut artist_due = agreement.figures.artist_receives;
    let terms = &agreement.terms;
    if let (Some(event), "door" | "versus") = (row.event_id, terms.deal_type.as_str()) {
        let (tickets, net) = ticketing::ticket_money(conn, event, &currency, now).await?;
        let door = ledger::money::share_bps(net.max(0), i64::from(terms.door_bps));
        let gross = gross(&terms.deal_type, terms.fee, Some(door));
        let owed = gross + ledger::money::share_bps(gross, agreement.figures.organizer_fee_bps);
        artist_due = ledger::money::share_bps(gross, agreement.figures.artist_bps);
        if owed > held {
            let top_up = (owed - held).min(tickets.balance);
            if top_up > 0 {
                let entry = ledger::service::transfer(
                    conn,
                    tickets.id,
                    escrow.id,
                    top_up,
                    "booking.door",
                    &format!("booking {}", row.id),
                    now,
                )
                .await
                .map_err(ApiError::from)?;
                repo::record(conn, row.id, PaymentKind::Release, top_up, Some(entry.0), now).await?;
                held += top_up;
            }
        } else if owed < held {
            refund(conn, row, promoter, held - owed, PaymentKind::Refund, now).await?;
            held = owed;
        }
    }
    let to_artist = artist_due.min(held);
    if to_artist > 0 {
        let entry = ledger::earnings::credit(
            conn,
            ledger::model::Owner::from(artist.owner()),
            &currency,
            to_artist,
            escrow.id,
            "gig_fee",
            now,
        )
        .await
        .map_err(ApiError::from)?;
        repo::record(conn, row.id, PaymentKind::Release, to_artist, Some(entry.0), now).await?;
    }
    let rest = held - to_artist;
    if rest > 0 {
        let revenue = ledger::service::account(conn, LedgerOwner::Platform, kinds::REVENUE, &currency, now).await?;
        let entry = ledger::service::transfer(
            conn,
            escrow.id,
            revenue.id,
            rest,
            "booking.commission",
            &format!("booking {}", row.id),
            now,
        )
        .await
        .map_err(ApiError::from)?;
        repo::record(conn, row.id, PaymentKind::Release, rest, Some(entry.0), now).await?;
    }
    repo::mark_settled(conn, row.id, now).await?;
    Ok(())
}

/// Moves `amount` of the escrow back to the promoter.
async fn refund(
    conn: &mut PgConnection,
    row: &BookingRow,
    promoter: &PromoterRow,
    amount: i64,
    kind: PaymentKind,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if amount <= 0 {
        return Ok(());
    }
    let agreement = agreement(row)?;
    let currency = currency(&agreement)?;
    let escrow = escrow(conn, row.id, &currency, now).await?;
    let wallet =
        ledger::service::account(conn, ledger::model::Owner::from(promoter.owner()), kinds::AVAILABLE, &currency, now)
            .await?;
    let entry = ledger::service::transfer(
        conn,
        escrow.id,
        wallet.id,
        amount,
        "booking.refund",
        &format!("booking {}", row.id),
        now,
    )
    .await
    .map_err(ApiError::from)?;
    repo::record(conn, row.id, kind, amount, Some(entry.0), now).await?;
    Ok(())
}

/// The organizer marks a scheduled booking completed once the show has ended; its money is released.
pub async fn complete(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
) -> Result<crate::bookings::dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    state::check(from, BookingStatus::Completed, side).map_err(BookingError::from)?;
    if row.ends_at > now {
        return Err(ApiError::new(BookingCode::ShowNotOver, "A booking completes once its show has ended."));
    }
    finish(&mut tx, &mut row, &artist, &promoter, now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.complete", "booking", id.0).record(&mut tx, now).await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn finish(
    conn: &mut PgConnection,
    row: &mut BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    release(conn, row, artist, promoter, now).await?;
    row.status = BookingStatus::Completed;
    row.updated_at = now;
    crate::bookings::repo::update_booking(conn, row).await?;
    jobs::cancel_unique(conn, &format!("booking:{}:complete", row.id), now).await?;
    for owner in [artist.owner(), promoter.owner()] {
        notify(conn, owner, "booking.completed", notice_data(artist, promoter, row, None, "EUR"), now).await?;
    }
    Ok(())
}

/// Either side cancels a booking past agreement. The cancelling side's penalty (a share of the fee, by
/// the whole days left) is settled from the escrow; the rest of what the organizer paid is refunded.
/// Cancelling while still contracting costs nothing.
pub async fn cancel_confirmed(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    reason: &str,
) -> Result<crate::bookings::dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    if from.negotiating() {
        return Err(ApiError::new(BookingCode::StillNegotiating, "Decline the negotiation instead."));
    }
    state::check(from, BookingStatus::Cancelled, side).map_err(BookingError::from)?;
    let mut outcome = json!({"penalty_bps": 0, "penalty": 0});
    if matches!(from, BookingStatus::Confirmed | BookingStatus::PaidDeposit | BookingStatus::Scheduled) {
        let agreement = agreement(&row)?;
        let currency = currency(&agreement)?;
        let held = escrow(&mut tx, row.id, &currency, now).await?.balance;
        let days = days_left(now, row.starts_at);
        let bps = if side == Actor::Admin { 0 } else { penalty_bps(side, days) };
        let penalty = ledger::money::share_bps(agreement.terms.fee, bps);
        match side {
            // The organizer forfeits the penalty to the artist, from what it paid.
            Actor::Organizer => {
                let to_artist = penalty.min(held);
                if to_artist > 0 {
                    let escrow = escrow(&mut tx, row.id, &currency, now).await?;
                    let entry = ledger::earnings::credit(
                        &mut tx,
                        ledger::model::Owner::from(artist.owner()),
                        &currency,
                        to_artist,
                        escrow.id,
                        "cancellation_penalty",
                        now,
                    )
                    .await
                    .map_err(ApiError::from)?;
                    repo::record(&mut tx, row.id, PaymentKind::Penalty, to_artist, Some(entry.0), now).await?;
                }
                refund(&mut tx, &row, &promoter, held - to_artist, PaymentKind::Refund, now).await?;
            }
            // The artist owes the penalty to the organizer; the organizer gets everything it paid back.
            Actor::Artist => {
                refund(&mut tx, &row, &promoter, held, PaymentKind::Refund, now).await?;
                if penalty > 0 {
                    let artist_wallet = ledger::service::account(
                        &mut tx,
                        ledger::model::Owner::from(artist.owner()),
                        kinds::AVAILABLE,
                        &currency,
                        now,
                    )
                    .await?;
                    let promoter_wallet = ledger::service::account(
                        &mut tx,
                        ledger::model::Owner::from(promoter.owner()),
                        kinds::AVAILABLE,
                        &currency,
                        now,
                    )
                    .await?;
                    repo::savepoint(&mut tx).await?;
                    match ledger::service::transfer(
                        &mut tx,
                        artist_wallet.id,
                        promoter_wallet.id,
                        penalty,
                        "booking.penalty",
                        &format!("booking {id}"),
                        now,
                    )
                    .await
                    {
                        Ok(entry) => {
                            repo::record(&mut tx, row.id, PaymentKind::Penalty, penalty, Some(entry.0), now).await?;
                        }
                        Err(ledger::error::LedgerError::InsufficientFunds) => {
                            repo::rollback_to_savepoint(&mut tx).await?;
                            outcome["penalty_unpaid"] = json!(true);
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
            }
            _ => refund(&mut tx, &row, &promoter, held, PaymentKind::Refund, now).await?,
        }
        outcome = json!({"days_left": days, "penalty_bps": bps, "penalty": penalty, "refunded_from_escrow": held, "penalty_unpaid": outcome.get("penalty_unpaid")});
    }
    for key in ["balance", "complete", "contract"] {
        jobs::cancel_unique(&mut tx, &format!("booking:{id}:{key}"), now).await?;
    }
    let reason: String = reason.trim().chars().take(500).collect();
    cancel(&mut tx, &mut row, &artist, &promoter, side, &reason, now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.cancel", "booking", id.0)
        .before(json!({"status": from}))
        .after(json!({"status": "cancelled", "by": side_name(side), "money": outcome}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Either party disputes a booking whose money is in escrow: it stays frozen until an admin decides.
pub async fn dispute(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    reason: &str,
) -> Result<crate::bookings::dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    state::check(from, BookingStatus::Disputed, side).map_err(BookingError::from)?;
    let reason: String = reason.trim().chars().take(1000).collect();
    if reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "required", "say what is disputed"));
    }
    let Some(disputer) = Side::of(side) else {
        return Err(ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist dispute."));
    };
    repo::mark_disputed(&mut tx, id, &reason, disputer).await?;
    jobs::cancel_unique(&mut tx, &format!("booking:{id}:complete"), now).await?;
    row.status = BookingStatus::Disputed;
    row.updated_at = now;
    crate::bookings::repo::update_booking(&mut tx, &row).await?;
    let mut data = notice_data(&artist, &promoter, &row, None, "EUR");
    data["reason"] = json!(reason);
    for owner in [artist.owner(), promoter.owner()] {
        notify(&mut tx, owner, "booking.disputed", data.clone(), now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "booking.dispute", "booking", id.0)
        .before(json!({"status": from}))
        .after(json!({"reason": reason}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

/// An admin resolves a dispute.
pub async fn resolve(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    req: Resolution,
) -> Result<crate::bookings::dto::Booking, ApiError> {
    if !crate::profiles::service::is_admin(principal) {
        return Err(identity::error::IdentityError::Forbidden("bookings.admin".into()).into());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    if row.status != BookingStatus::Disputed {
        return Err(ApiError::new(BookingCode::NotDisputed, "Only a disputed booking is resolved."));
    }
    match req.outcome.as_str() {
        "release" => finish(&mut tx, &mut row, &artist, &promoter, now).await?,
        "refund" | "split" => {
            let agreement = agreement(&row)?;
            let currency = currency(&agreement)?;
            let escrow = escrow(&mut tx, row.id, &currency, now).await?;
            let held = escrow.balance;
            let to_artist = if req.outcome == "split" {
                let bps = req.artist_bps.filter(|b| (0..=10_000).contains(b)).ok_or_else(|| {
                    ApiError::invalid_field(
                        "artist_bps",
                        "out_of_range",
                        "a split needs the artist's share, 0 to 10,000 bps",
                    )
                })?;
                ledger::money::share_bps(held, bps)
            } else {
                0
            };
            if to_artist > 0 {
                let entry = ledger::earnings::credit(
                    &mut tx,
                    ledger::model::Owner::from(artist.owner()),
                    &currency,
                    to_artist,
                    escrow.id,
                    "gig_fee",
                    now,
                )
                .await
                .map_err(ApiError::from)?;
                repo::record(&mut tx, row.id, PaymentKind::Split, to_artist, Some(entry.0), now).await?;
            }
            refund(&mut tx, &row, &promoter, held - to_artist, PaymentKind::Refund, now).await?;
            row.status = BookingStatus::Refunded;
            row.updated_at = now;
            crate::bookings::repo::update_booking(&mut tx, &row).await?;
        }
        _ => return Err(ApiError::invalid_field("outcome", "invalid_value", "must be release, refund or split")),
    }
    platform::audit::Entry::new(principal.actor(), "booking.resolve", "booking", id.0)
        .after(json!({"outcome": req.outcome, "artist_bps": req.artist_bps, "note": req.note}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

/// `booking.balance_due`: 24 hours before the show, ask for the balance (from the wallet if it can pay);
/// at the show, flag it overdue.
async fn balance_due(ctx: AppContext, id: BookingId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut row) = crate::bookings::repo::booking(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such booking"));
    };
    let status = row.status;
    if !matches!(status, BookingStatus::PaidDeposit | BookingStatus::Confirmed) {
        return Ok(());
    }
    let artist = crate::profiles::repo::artist(&mut tx, row.artist_id, false)
        .await?
        .ok_or_else(|| JobFailure::permanent("no artist"))?;
    let promoter = crate::profiles::repo::promoter(&mut tx, row.promoter_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("no promoter"))?;
    let failure = |e: ApiError| JobFailure::retry(format!("{e:?}"));
    let agreement = agreement(&row).map_err(failure)?;
    let currency = currency(&agreement).map_err(failure)?;
    let (_, balance) = amounts(&agreement);
    if status == BookingStatus::PaidDeposit
        && collect(
            &mut tx,
            id,
            ledger::model::Owner::from(promoter.owner()),
            &currency,
            balance,
            PaymentKind::Balance,
            now,
        )
        .await
        .map_err(failure)?
    {
        mark_paid(&mut tx, &mut row, PaymentKind::Balance, now).await.map_err(failure)?;
    } else if now >= row.starts_at {
        repo::mark_overdue(&mut tx, id).await?;
        let mut data = notice_data(&artist, &promoter, &row, Some(balance), currency.as_str());
        data["amount"] = json!(currency.display(balance));
        for owner in [promoter.owner(), artist.owner()] {
            notify(&mut tx, owner, "booking.balance_overdue", data.clone(), now).await?;
        }
    } else {
        let mut data = notice_data(&artist, &promoter, &row, Some(balance), currency.as_str());
        data["what"] = json!("balance");
        data["amount"] = json!(currency.display(balance));
        data["due"] = json!(format!("before {}", (row.starts_at).format("%Y-%m-%d %H:%M UTC")));
        notify(&mut tx, promoter.owner(), "booking.payment_due", data, now).await?;
        // Ask again at the show; then it is overdue.
        jobs::enqueue(&mut tx, NewJob::new(BALANCE_DUE, json!({"booking_id": id})).at(row.starts_at), now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `booking.auto_complete`: 48 hours after the show's end with no dispute, a scheduled booking completes.
async fn auto_complete(ctx: AppContext, id: BookingId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut row) = crate::bookings::repo::booking(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such booking"));
    };
    if row.status != BookingStatus::Scheduled || row.ends_at + COMPLETE_AFTER > now {
        return Ok(());
    }
    let artist = crate::profiles::repo::artist(&mut tx, row.artist_id, false)
        .await?
        .ok_or_else(|| JobFailure::permanent("no artist"))?;
    let promoter = crate::profiles::repo::promoter(&mut tx, row.promoter_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("no promoter"))?;
    finish(&mut tx, &mut row, &artist, &promoter, now).await.map_err(|e| JobFailure::retry(format!("{e:?}")))?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "booking.auto_complete", "booking", id.0)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(BALANCE_DUE, |ctx: AppContext, job: Job| async move {
        let id: BookingId = job.field("booking_id")?;
        balance_due(ctx, id).await
    });
    registry.register(AUTO_COMPLETE, |ctx: AppContext, job: Job| async move {
        let id: BookingId = job.field("booking_id")?;
        auto_complete(ctx, id).await
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_at_the_day_boundaries() {
        // The artist: 0% beyond 90 days, 20% at 30 to 90, 50% under 30.
        assert_eq!(penalty_bps(Actor::Artist, 91), 0);
        assert_eq!(penalty_bps(Actor::Artist, 90), 2_000);
        assert_eq!(penalty_bps(Actor::Artist, 30), 2_000);
        assert_eq!(penalty_bps(Actor::Artist, 29), 5_000);
        assert_eq!(penalty_bps(Actor::Artist, 0), 5_000);
        // The organizer: 20% beyond 30 days, 50% at 15 to 30, 100% under 15.
        assert_eq!(penalty_bps(Actor::Organizer, 31), 2_000);
        assert_eq!(penalty_bps(Actor::Organizer, 30), 5_000);
        assert_eq!(penalty_bps(Actor::Organizer, 15), 5_000);
        assert_eq!(penalty_bps(Actor::Organizer, 14), 10_000);
    }

    #[test]
    fn deals_pay_the_fee_the_door_or_the_greater() {
        assert_eq!(gross("flat", 10_000, Some(50_000)), 10_000);
        assert_eq!(gross("door", 10_000, Some(4_000)), 4_000);
        assert_eq!(gross("door", 10_000, Some(14_000)), 14_000);
        assert_eq!(gross("versus", 10_000, Some(4_000)), 10_000);
        assert_eq!(gross("versus", 10_000, Some(14_000)), 14_000);
        assert_eq!(gross("door", 10_000, None), 10_000, "no event sold through Backline: the fee");
    }

    #[test]
    fn days_left_are_whole_days() {
        let show = DateTime::parse_from_rfc3339("2027-03-31T20:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(days_left(show - Duration::days(30), show), 30);
        assert_eq!(days_left(show - Duration::days(30) + Duration::seconds(1), show), 29);
        assert_eq!(days_left(show + Duration::hours(1), show), 0);
    }
}
