//! Bookings from the first offer (or application) to an agreement: rounds of proposals with alternating
//! turns, at most three proposals (the organizer proposes first; from the third the artist may only
//! accept or walk away), a deadline that resets with each round and cancels the booking when it passes,
//! and an agreement that fixes the terms and the commission figures.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Agreement, Proposal, Terms};
use super::repo::{BookingRow, OpenCallRow, ProposalRow};
use super::{dto, repo};
use crate::commission::{self, Policy, TrustTier};
use crate::error::{BookingCode, BookingError};
use crate::model::BookingId;
use crate::profiles::repo::{ArtistRow, PromoterRow};
use crate::profiles::service::{BOOKINGS_MANAGE, is_admin};
use crate::state::{self, Actor, BookingStatus, Origin, Side};

/// Cancels a booking whose deadline passed with no answer.
pub const DEADLINE: JobKind = JobKind::new("booking.deadline").max_attempts(10);

/// How long the side whose turn it is has to answer (72 hours by default).
pub const ANSWER_WITHIN: Duration = Duration::hours(72);
/// Proposals a negotiation may hold; the fourth step is the artist's answer.
pub const MAX_PROPOSALS: i32 = 3;
const DEFAULT_DEPOSIT_BPS: i32 = 3_000;

pub(crate) fn side_name(actor: Actor) -> &'static str {
    match actor {
        Actor::Organizer => "organizer",
        Actor::Artist => "artist",
        Actor::Admin => "admin",
        Actor::System => "system",
    }
}

/// Whether it is the turn of the side the actor acts for.
fn my_turn(row: &BookingRow, side: Actor) -> bool {
    Side::of(side).is_some_and(|s| row.turn == Some(s))
}

/// The commission policy of an artist's category (a custom one is set by an admin).
pub fn policy_of(artist: &ArtistRow) -> Policy {
    if artist.category == "custom"
        && let Some(policy) = artist.custom_policy.clone().and_then(|p| serde_json::from_value(p).ok())
    {
        return policy;
    }
    commission::policy(&artist.category).or_else(|| commission::policy("mid_scale")).unwrap_or(Policy {
        artist_bps: 8_500,
        organizer_fee_bps: 500,
        platform_bps: 1_000,
        min_fee: 0,
    })
}

/// A booking with both parties and the caller's side in it.
pub(crate) struct Loaded {
    pub row: BookingRow,
    pub artist: ArtistRow,
    pub promoter: PromoterRow,
    pub side: Actor,
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    principal: &Principal,
    id: BookingId,
    lock: bool,
) -> Result<Loaded, ApiError> {
    let row = repo::booking(conn, id, lock).await?.ok_or(BookingError::NotFound("booking"))?;
    let artist =
        crate::profiles::repo::artist(conn, row.artist_id, false).await?.ok_or(BookingError::NotFound("booking"))?;
    let promoter =
        crate::profiles::repo::promoter(conn, row.promoter_id).await?.ok_or(BookingError::NotFound("booking"))?;
    let is_artist = identity::party::may_act_for(conn, principal, artist.owner(), BOOKINGS_MANAGE).await?;
    let is_organizer = identity::party::may_act_for(conn, principal, promoter.owner(), BOOKINGS_MANAGE).await?;
    // Someone on both sides acts as whoever's turn it is.
    let side = match (is_artist, is_organizer, row.turn) {
        (true, true, Some(Side::Organizer)) | (false, true, _) => Actor::Organizer,
        (true, _, _) => Actor::Artist,
        _ if is_admin(principal) => Actor::Admin,
        _ => return Err(BookingError::NotFound("booking").into()),
    };
    Ok(Loaded { row, artist, promoter, side })
}

/// Checks proposed terms against the rules and the artist's category; answers the proposal to store.
fn check_terms(
    terms: &Terms,
    policy: &Policy,
    step: i32,
    side: Actor,
    now: DateTime<Utc>,
) -> Result<ProposalRow, ApiError> {
    let mut errors = Vec::new();
    if terms.fee < policy.min_fee {
        errors.push(FieldError::new(
            "terms.fee",
            "below_minimum",
            format!("must be at least {} (minor units), the minimum of the artist's category", policy.min_fee),
        ));
    }
    let currency = terms.currency.trim().to_uppercase();
    if ledger::model::Currency::parse(&currency).is_none_or(|c| c.as_str() == "CREDIT") {
        errors.push(FieldError::new("terms.currency", "invalid_value", "must be an ISO 4217 currency"));
    }
    let deposit_bps = terms.deposit_bps.unwrap_or(DEFAULT_DEPOSIT_BPS);
    if !(0..=10_000).contains(&deposit_bps) {
        errors.push(FieldError::new("terms.deposit_bps", "out_of_range", "must be 0 to 10,000 basis points"));
    }
    if terms.starts_at <= now {
        errors.push(FieldError::new("terms.starts_at", "in_the_past", "must be in the future"));
    }
    if terms.ends_at <= terms.starts_at {
        errors.push(FieldError::new("terms.ends_at", "before_start", "must be after starts_at"));
    }
    let deal_type = terms.deal_type.clone().unwrap_or_else(|| "flat".into());
    let door_bps = terms.door_bps.unwrap_or(0);
    match deal_type.as_str() {
        "flat" if door_bps != 0 => {
            errors.push(FieldError::new("terms.door_bps", "not_applicable", "a flat deal has no door share"));
        }
        "door" | "versus" if !(1..=10_000).contains(&door_bps) => {
            errors.push(FieldError::new(
                "terms.door_bps",
                "out_of_range",
                "a door or versus deal needs a share of 1 to 10,000 bps",
            ));
        }
        "flat" | "door" | "versus" => {}
        _ => errors.push(FieldError::new("terms.deal_type", "invalid_value", "must be flat, door or versus")),
    }
    if terms.message.chars().count() > 2000 {
        errors.push(FieldError::new("terms.message", "too_long", "must be at most 2,000 characters"));
    }
    if serde_json::to_vec(&terms.rider).map_or(0, |v| v.len()) > 20_000 {
        errors.push(FieldError::new("terms.rider", "too_large", "must be at most 20 kB"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let side = Side::of(side)
        .ok_or_else(|| ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist propose."))?;
    Ok(ProposalRow {
        step,
        side,
        fee: terms.fee,
        currency,
        deposit_bps,
        starts_at: terms.starts_at,
        ends_at: terms.ends_at,
        deal_type,
        door_bps,
        rider: serde_json::Value::Object(terms.rider.clone()),
        message: terms.message.trim().to_owned(),
        created_at: now,
    })
}

/// (Re)starts the answer deadline.
async fn schedule_deadline(conn: &mut PgConnection, row: &mut BookingRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    let key = format!("booking:{}:deadline", row.id);
    jobs::cancel_unique(conn, &key, now).await?;
    let at = now + ANSWER_WITHIN;
    row.deadline_at = Some(at);
    jobs::enqueue(conn, NewJob::new(DEADLINE, json!({"booking_id": row.id})).at(at).unique(key), now).await?;
    Ok(())
}

pub(crate) async fn notify(
    conn: &mut PgConnection,
    owner: identity::party::Party,
    kind: &'static str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let recipients = identity::party::people_to_notify(conn, owner).await?;
    if !recipients.is_empty() {
        platform::events::emit(conn, platform::events::Event { kind, recipients, organization: None, data }, now)
            .await?;
    }
    Ok(())
}

pub(crate) fn notice_data(
    artist: &ArtistRow,
    promoter: &PromoterRow,
    row: &BookingRow,
    fee: Option<i64>,
    currency: &str,
) -> serde_json::Value {
    let fee = fee.and_then(|f| ledger::model::Currency::parse(currency).map(|c| c.display(f))).unwrap_or_default();
    json!({
        "booking_id": row.id, "artist": artist.stage_name, "promoter": promoter.name, "fee": fee,
        "date": row.starts_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        "deadline": row.deadline_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
    })
}

/// Whether `event` is a live ticketed event organized by the promoter's owner (the user, or the
/// organization). A booking linked to an event settles door deals from its ticket money, so only its
/// organizer may link one, or open it for applications.
async fn event_of(conn: &mut PgConnection, event: Uuid, promoter: &PromoterRow) -> sqlx::Result<bool> {
    Ok(ticketing::event_summary(conn, event).await?.is_some_and(|e| e.organizer == promoter.owner()))
}

/// An organizer offers an artist a booking (→ offered; the artist's turn).
pub async fn offer(ctx: &AppContext, principal: &Principal, req: dto::Offer) -> Result<dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let promoter = crate::profiles::repo::promoter(&mut tx, req.promoter_id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("promoter_id", "unknown_promoter", "is not a promoter profile"))?;
    if !identity::party::may_act_for(&mut tx, principal, promoter.owner(), BOOKINGS_MANAGE).await? {
        return Err(ApiError::invalid_field("promoter_id", "not_yours", "is not a promoter profile you act for"));
    }
    principal.require_verified()?;
    let artist = crate::profiles::repo::artist(&mut tx, req.artist_id, false)
        .await?
        .ok_or_else(|| ApiError::invalid_field("artist_id", "unknown_artist", "is not an artist profile"))?;
    if let Some(venue) = req.venue_id
        && crate::profiles::repo::venue(&mut tx, venue).await?.is_none()
    {
        return Err(ApiError::invalid_field("venue_id", "unknown_venue", "is not a venue profile"));
    }
    if let Some(event) = req.event_id
        && !event_of(&mut tx, event, &promoter).await?
    {
        return Err(ApiError::invalid_field("event_id", "not_your_event", "is not an event the promoter organizes"));
    }
    let proposal = check_terms(&req.terms, &policy_of(&artist), 1, Actor::Organizer, now)?;
    let mut row = BookingRow {
        id: BookingId::new(),
        artist_id: artist.id,
        promoter_id: promoter.id,
        venue_id: req.venue_id,
        event_id: req.event_id,
        status: BookingStatus::Offered,
        origin: Origin::Offer,
        starts_at: proposal.starts_at,
        ends_at: proposal.ends_at,
        step: 1,
        turn: Some(Side::Artist),
        deadline_at: None,
        message: proposal.message.clone(),
        agreed: None,
        cancelled_by: None,
        cancel_reason: None,
        created_by: principal.user_id.0,
        created_at: now,
        updated_at: now,
    };
    schedule_deadline(&mut tx, &mut row, now).await?;
    repo::insert_booking(&mut tx, &row).await?;
    repo::insert_proposal(&mut tx, row.id, &proposal, principal.user_id.0).await?;
    crate::holds::service::convert(&mut tx, artist.id, promoter.id, proposal.starts_at, proposal.ends_at).await?;
    notify(
        &mut tx,
        artist.owner(),
        "booking.offer",
        notice_data(&artist, &promoter, &row, Some(proposal.fee), &proposal.currency),
        now,
    )
    .await?;
    platform::audit::Entry::new(principal.actor(), "booking.offer", "booking", row.id.0)
        .after(
            json!({"artist": artist.id, "promoter": promoter.id, "fee": proposal.fee, "currency": proposal.currency}),
        )
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, Actor::Organizer).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Opens an event for artists' applications until `closes_at`.
pub async fn open_call(
    ctx: &AppContext,
    principal: &Principal,
    event: Uuid,
    req: dto::OpenCall,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let promoter =
        crate::profiles::repo::promoter(&mut tx, req.promoter_id).await?.ok_or(BookingError::NotFound("promoter"))?;
    if !identity::party::may_act_for(&mut tx, principal, promoter.owner(), BOOKINGS_MANAGE).await? {
        return Err(ApiError::invalid_field("promoter_id", "not_yours", "is not a promoter profile you act for"));
    }
    if !event_of(&mut tx, event, &promoter).await? {
        return Err(BookingError::NotFound("event").into());
    }
    if req.closes_at <= now {
        return Err(ApiError::invalid_field("closes_at", "in_the_past", "must be in the future"));
    }
    repo::save_open_call(&mut tx, event, promoter.id, req.closes_at, req.note.trim(), now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.open_call", "event", event)
        .after(json!({"promoter": promoter.id, "closes_at": req.closes_at}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// An artist applies to an event open for applications (→ inquiry; the organizer proposes first).
pub async fn apply(
    ctx: &AppContext,
    principal: &Principal,
    event: Uuid,
    req: dto::Application,
) -> Result<dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let artist =
        crate::profiles::repo::artist(&mut tx, req.artist_id, false).await?.ok_or(BookingError::NotFound("artist"))?;
    if !identity::party::may_act_for(&mut tx, principal, artist.owner(), BOOKINGS_MANAGE).await? {
        return Err(ApiError::invalid_field("artist_id", "not_yours", "is not an artist profile you act for"));
    }
    principal.require_verified()?;
    let call = repo::open_call(&mut tx, event).await?;
    let summary = ticketing::event_summary(&mut tx, event).await?;
    let (Some(OpenCallRow { promoter_id, .. }), Some(ticketing::EventSummary { starts_at, ends_at, title, .. })) =
        (call.filter(|c| c.closes_at > now), summary)
    else {
        return Err(ApiError::new(BookingCode::NotOpen, "This event does not take applications (any more)."));
    };
    let duplicate = repo::has_live_booking(&mut tx, artist.id, event).await?;
    if duplicate {
        return Err(ApiError::new(BookingCode::AlreadyApplied, "This artist already has a booking for this event."));
    }
    let promoter =
        crate::profiles::repo::promoter(&mut tx, promoter_id).await?.ok_or(BookingError::NotFound("promoter"))?;
    let mut row = BookingRow {
        id: BookingId::new(),
        artist_id: artist.id,
        promoter_id: promoter.id,
        venue_id: None,
        event_id: Some(event),
        status: BookingStatus::Inquiry,
        origin: Origin::Application,
        starts_at,
        ends_at,
        step: 0,
        turn: Some(Side::Organizer),
        deadline_at: None,
        message: req.message.trim().chars().take(2000).collect(),
        agreed: None,
        cancelled_by: None,
        cancel_reason: None,
        created_by: principal.user_id.0,
        created_at: now,
        updated_at: now,
    };
    schedule_deadline(&mut tx, &mut row, now).await?;
    repo::insert_booking(&mut tx, &row).await?;
    let mut data = notice_data(&artist, &promoter, &row, None, "EUR");
    data["event"] = json!(title);
    notify(&mut tx, promoter.owner(), "booking.application", data, now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.apply", "booking", row.id.0)
        .after(json!({"artist": artist.id, "event": event}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, Actor::Artist).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The next proposal, by the side whose turn it is.
pub async fn propose(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    terms: Terms,
) -> Result<dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    if !from.negotiating() {
        return Err(BookingError::from(state::TransitionError::NotAllowed(from, BookingStatus::Negotiating)).into());
    }
    if !my_turn(&row, side) {
        return Err(ApiError::new(BookingCode::NotYourTurn, "It is the other side's turn."));
    }
    let step = row.step + 1;
    // The organizer proposes first and turns alternate: organizer 1, artist 2, organizer 3; after the
    // third proposal the artist may only accept or walk away.
    if step > MAX_PROPOSALS {
        return Err(ApiError::new(
            BookingCode::NoMoreRounds,
            "After three proposals the artist may only accept or walk away.",
        ));
    }
    state::check(from, BookingStatus::Negotiating, side).map_err(BookingError::from)?;
    principal.require_verified()?;
    let proposal = check_terms(&terms, &policy_of(&artist), step, side, now)?;
    repo::insert_proposal(&mut tx, id, &proposal, principal.user_id.0).await?;
    row.status = BookingStatus::Negotiating;
    row.step = step;
    row.turn = Some(if side == Actor::Organizer { Side::Artist } else { Side::Organizer });
    row.starts_at = proposal.starts_at;
    row.ends_at = proposal.ends_at;
    row.updated_at = now;
    schedule_deadline(&mut tx, &mut row, now).await?;
    repo::update_booking(&mut tx, &row).await?;
    let other = if side == Actor::Organizer { artist.owner() } else { promoter.owner() };
    notify(
        &mut tx,
        other,
        "booking.proposal",
        notice_data(&artist, &promoter, &row, Some(proposal.fee), &proposal.currency),
        now,
    )
    .await?;
    platform::audit::Entry::new(principal.actor(), "booking.propose", "booking", id.0)
        .before(json!({"status": from, "step": step - 1}))
        .after(json!({"status": row.status, "step": step, "fee": proposal.fee, "side": proposal.side}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The side whose turn it is accepts the other side's last proposal (→ contracting): the terms and the
/// commission figures are fixed.
pub async fn accept(ctx: &AppContext, principal: &Principal, id: BookingId) -> Result<dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    if from.negotiating() && !my_turn(&row, side) {
        return Err(ApiError::new(BookingCode::NotYourTurn, "It is the other side's turn."));
    }
    state::check(from, BookingStatus::Contracting, side).map_err(BookingError::from)?;
    principal.require_verified()?;
    let proposals = repo::proposals(&mut tx, id).await?;
    let Some(last) = proposals.last().cloned().filter(|p| Some(p.side) != Side::of(side)) else {
        return Err(ApiError::new(BookingCode::NothingToAccept, "There is no proposal of the other side to accept."));
    };
    let figures = commission::figures(last.fee, policy_of(&artist), TrustTier::of(promoter.trust_score));
    let agreement =
        Agreement { terms: Proposal::from(last.clone()), category: artist.category.clone(), figures, agreed_at: now };
    row.agreed = Some(serde_json::to_value(&agreement).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?);
    row.status = BookingStatus::Contracting;
    row.turn = None;
    row.deadline_at = None;
    row.updated_at = now;
    jobs::cancel_unique(&mut tx, &format!("booking:{id}:deadline"), now).await?;
    repo::update_booking(&mut tx, &row).await?;
    crate::contracts::service::generate(
        &mut tx,
        &row,
        &artist,
        &promoter,
        &agreement,
        crate::contracts::service::Change::Agreed,
        now,
    )
    .await?;
    for owner in [artist.owner(), promoter.owner()] {
        notify(
            &mut tx,
            owner,
            "booking.accepted",
            notice_data(&artist, &promoter, &row, Some(last.fee), &last.currency),
            now,
        )
        .await?;
    }
    platform::audit::Entry::new(principal.actor(), "booking.accept", "booking", id.0)
        .before(json!({"status": from}))
        .after(json!({"status": row.status, "figures": figures}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Either side walks away from a negotiation (→ cancelled).
pub async fn decline(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    reason: &str,
) -> Result<dto::Booking, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let from = row.status;
    if !from.negotiating() {
        return Err(ApiError::new(
            BookingCode::NotNegotiating,
            "Only a booking still being negotiated can be declined; a confirmed one is cancelled with its penalties.",
        ));
    }
    state::check(from, BookingStatus::Cancelled, side).map_err(BookingError::from)?;
    let reason: String = reason.trim().chars().take(500).collect();
    cancel(&mut tx, &mut row, &artist, &promoter, side, &reason, now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.decline", "booking", id.0)
        .before(json!({"status": from}))
        .after(json!({"status": "cancelled", "reason": reason}))
        .record(&mut tx, now)
        .await?;
    let answer = view(&mut tx, &row, side).await?;
    tx.commit().await?;
    Ok(answer)
}

pub(crate) async fn cancel(
    conn: &mut PgConnection,
    row: &mut BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    by: Actor,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    row.status = BookingStatus::Cancelled;
    row.turn = None;
    row.deadline_at = None;
    row.cancelled_by = Some(by);
    row.cancel_reason = Some(reason.to_owned());
    row.updated_at = now;
    jobs::cancel_unique(conn, &format!("booking:{}:deadline", row.id), now).await?;
    repo::update_booking(conn, row).await?;
    let mut data = notice_data(artist, promoter, row, None, "EUR");
    data["reason"] = json!(if reason.is_empty() { "no reason given" } else { reason });
    for owner in [artist.owner(), promoter.owner()] {
        notify(conn, owner, "booking.cancelled", data.clone(), now).await?;
    }
    Ok(())
}

/// The `booking.deadline` job: a negotiation nobody answered in time is cancelled, and both sides told.
async fn deadline(ctx: AppContext, id: BookingId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut row) = repo::booking(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such booking"));
    };
    let status = row.status;
    if !status.negotiating() || row.deadline_at.is_none_or(|d| d > now) {
        return Ok(()); // answered, or the deadline moved
    }
    let artist = crate::profiles::repo::artist(&mut tx, row.artist_id, false)
        .await?
        .ok_or_else(|| JobFailure::permanent("no artist"))?;
    let promoter = crate::profiles::repo::promoter(&mut tx, row.promoter_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("no promoter"))?;
    let waiting = row.turn.map(Side::as_str).unwrap_or_default();
    cancel(
        &mut tx,
        &mut row,
        &artist,
        &promoter,
        Actor::System,
        &format!("the {waiting} did not answer before the deadline"),
        now,
    )
    .await
    .map_err(|e| JobFailure::retry(format!("{e:?}")))?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "booking.expire", "booking", id.0)
        .after(json!({"status": "cancelled", "waiting_for": waiting}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(DEADLINE, |ctx: AppContext, job: Job| async move {
        let id: BookingId = job.field("booking_id")?;
        deadline(ctx, id).await
    });
}

/// What the caller's side may do now.
fn moves(row: &BookingRow, side: Actor, proposals: &[ProposalRow]) -> Vec<String> {
    let status = row.status;
    let mut can = Vec::new();
    if status.negotiating() {
        if my_turn(row, side) {
            if row.step < MAX_PROPOSALS && state::check(status, BookingStatus::Negotiating, side).is_ok() {
                can.push("propose".to_owned());
            }
            if proposals.last().is_some_and(|p| Some(p.side) != Side::of(side))
                && state::check(status, BookingStatus::Contracting, side).is_ok()
            {
                can.push("accept".to_owned());
            }
        }
        if matches!(side, Actor::Organizer | Actor::Artist) {
            can.push("decline".to_owned());
        }
    }
    can
}

pub(crate) async fn view(conn: &mut PgConnection, row: &BookingRow, side: Actor) -> Result<dto::Booking, ApiError> {
    let proposals = repo::proposals(conn, row.id).await?;
    let shown = repo::shown_of(conn, &[row.id.0]).await?.remove(&row.id.0);
    Ok(assemble(row, shown, side, proposals))
}

fn assemble(row: &BookingRow, shown: Option<repo::Shown>, side: Actor, proposals: Vec<ProposalRow>) -> dto::Booking {
    let (names, money) = match shown {
        Some(s) => ((s.artist, s.promoter, s.venue), Some(dto::Money::from(s.money))),
        None => ((String::new(), String::new(), None), None),
    };
    let agreement: Option<Agreement> = row.agreed.clone().and_then(|a| serde_json::from_value(a).ok());
    let money = agreement.as_ref().and_then(|agreement| {
        let mut money = money?;
        (money.deposit, money.balance) = crate::money::service::amounts(agreement);
        Some(money)
    });
    dto::Booking {
        id: row.id,
        artist_id: row.artist_id,
        artist_name: names.0,
        promoter_id: row.promoter_id,
        promoter_name: names.1,
        venue_id: row.venue_id,
        venue_name: names.2,
        event_id: row.event_id,
        status: row.status,
        origin: row.origin.as_str().to_owned(),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        step: row.step,
        turn: row.turn.map(|t| t.as_str().to_owned()),
        deadline_at: row.deadline_at,
        can: moves(row, side, &proposals),
        agreement,
        money,
        proposals: proposals.into_iter().map(Proposal::from).collect(),
        cancelled_by: row.cancelled_by.map(|a| side_name(a).to_owned()),
        cancel_reason: row.cancel_reason.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: BookingId) -> Result<dto::Booking, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let Loaded { row, side, .. } = load(&mut conn, principal, id, false).await?;
    view(&mut conn, &row, side).await
}

/// The caller's bookings, on either side, with their parties and proposals.
/// The caller's bookings as artist or organizer, latest show first, a page at a time.
pub async fn mine(ctx: &AppContext, principal: &Principal, page: &PageParams) -> Result<dto::BookingList, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let (artists, promoters) = crate::profiles::service::my_profiles(&mut conn, principal).await?;
    let rows = repo::bookings_of(&mut conn, &artists, &promoters, after, i64::from(limit) + 1).await?;
    let rows = Page::from_overfetch(rows, limit, |r| (r.starts_at, r.id.0));
    let side = |row: &BookingRow| if artists.contains(&row.artist_id.0) { Actor::Artist } else { Actor::Organizer };
    let mut list = listed(&mut conn, &rows.items, side).await?;
    list.next_cursor = rows.next_cursor;
    Ok(list)
}

/// What waits for staff (admins): signed contracts to review and disputes to resolve, oldest first.
pub async fn awaiting_staff(ctx: &AppContext, principal: &Principal) -> Result<dto::BookingList, ApiError> {
    if !crate::profiles::service::is_admin(principal) {
        return Err(identity::error::IdentityError::Forbidden("bookings.admin".into()).into());
    }
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::awaiting_staff(&mut conn).await?;
    listed(&mut conn, &rows, |_| Actor::Admin).await
}

/// Bookings as a list shows them, each from `side`'s point of view.
async fn listed(
    conn: &mut PgConnection,
    rows: &[BookingRow],
    side: impl Fn(&BookingRow) -> Actor,
) -> Result<dto::BookingList, ApiError> {
    // Two queries whatever the number of bookings: parties' names with money, and proposals, for all at once.
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.0).collect();
    let mut shown = repo::shown_of(conn, &ids).await?;
    let mut proposals = repo::proposals_of(conn, &ids).await?;
    let items = rows
        .iter()
        .map(|row| {
            let id = row.id.0;
            assemble(row, shown.remove(&id), side(row), proposals.remove(&id).unwrap_or_default())
        })
        .collect();
    Ok(dto::BookingList { items, next_cursor: None })
}
