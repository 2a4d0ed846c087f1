//! Waiting rooms: configuring one (the event's organizer), joining and following it (buyers), the timer
//! that opens it, admits places and closes it, and the pass check of the order endpoint.
//!
//! Fairness holds on the database: early arrivals draw a random key from the operating system's
//! generator when they join and are ordered by it at the opening, in one statement; later arrivals take
//! the next place under the room row's lock, so places are dense and never given twice; an early join
//! reads the room with a shared lock, so the draw (which locks it for update) waits for joins in flight
//! and none is left without a place.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::stream::{Hub, Signal};
use platform::{ApiError, AppContext, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use tokio::sync::broadcast;

use super::admission;
use super::dto::{Place, RoomSettings, RoomStats, WaitingRoom};
use super::pass::{self, Pass};
use super::repo::{self, ClosedReason, PlaceRow, RoomRow, RoomState};
use crate::error::{TicketingCode, TicketingError};
use crate::events::repo::EventRow;
use crate::events::service::{Standing, managed_event, visible_event};
use crate::model::EventId;
use crate::state::EventStatus;

/// The room's timer: opens it at its time, then admits places and watches for the sell-out once a
/// second until it closes.
pub const TICK: JobKind = JobKind::new("ticketing.room.tick").max_attempts(20);

/// Places admitted a minute when the organizer does not say (see docs/benchmarks.md for what this
/// machine serves).
pub const DEFAULT_RATE_PER_MINUTE: i32 = 1200;
pub const DEFAULT_WINDOW_MINUTES: i32 = 5;
pub const DEFAULT_PER_ADDRESS: i32 = 10;

/// The topic a room's progress is announced on.
pub fn topic(event: EventId) -> String {
    format!("waiting_room:{}", event.0)
}

/// What followers need to place themselves: announced on every change, read from the room otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    pub state: RoomState,
    pub opens_at: DateTime<Utc>,
    pub places: i64,
    pub admitted_through: i64,
    pub rate_per_minute: i64,
    pub closed_reason: Option<ClosedReason>,
}

impl From<&RoomRow> for Progress {
    fn from(r: &RoomRow) -> Self {
        Self {
            state: r.state,
            opens_at: r.opens_at,
            places: r.places,
            admitted_through: r.admitted_through,
            rate_per_minute: i64::from(r.rate_per_minute),
            closed_reason: r.closed_reason,
        }
    }
}

/// A whole second: passes carry their expiry in seconds, and the room's record says the same.
fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The caller's place as they see it; `key` signs the pass when it is live.
fn view(event: EventId, room: &Progress, place: &PlaceRow, key: Option<&[u8; 32]>, now: DateTime<Utc>) -> Place {
    let live = place.pass_expires_at.filter(|&e| now < e);
    let status = match (place.order_id, room.state, place.admitted_at, live) {
        (Some(_), _, _, _) => "used",
        (None, RoomState::Closed, _, _) => "closed",
        (None, _, Some(_), Some(_)) => "admitted",
        (None, _, Some(_), None) => "expired",
        (None, _, None, _) => "waiting",
    };
    let ahead = place.position.filter(|_| status == "waiting").map(|p| (p - room.admitted_through - 1).max(0));
    let pass = match (status, key, live) {
        ("admitted", Some(key), Some(expires_at)) => {
            Some(pass::sign(key, &Pass { event: event.0, account: place.user_id, expires_at }))
        }
        _ => None,
    };
    Place {
        event_id: event,
        status: status.to_owned(),
        position: place.position,
        ahead,
        estimated_wait_seconds: ahead.map(|a| admission::wait_seconds(a + 1, room.rate_per_minute)),
        opens_at: room.opens_at,
        joined_at: place.joined_at,
        pass,
        pass_expires_at: place.pass_expires_at.filter(|_| status == "admitted" || status == "expired"),
        order_id: place.order_id,
        closed_reason: room.closed_reason.filter(|_| status == "closed").map(|r| r.as_str().to_owned()),
    }
}

fn room_dto(r: &RoomRow, stats: Option<RoomStats>) -> WaitingRoom {
    WaitingRoom {
        event_id: r.event_id,
        opens_at: r.opens_at,
        state: r.state.as_str().to_owned(),
        rate_per_minute: r.rate_per_minute,
        window_minutes: r.window_seconds / 60,
        per_address: r.per_address,
        places: r.places,
        admitted_through: r.admitted_through,
        estimated_wait_seconds: admission::wait_seconds(r.places - r.admitted_through, i64::from(r.rate_per_minute)),
        closed_at: r.closed_at,
        closed_reason: r.closed_reason.map(|c| c.as_str().to_owned()),
        stats,
    }
}

fn no_room() -> ApiError {
    TicketingError::NotFound("waiting room").into()
}

/// Puts the event's on-sale behind a waiting room, or changes its settings (the event's organizer).
pub async fn configure(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    req: RoomSettings,
) -> Result<WaitingRoom, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (event, _) = managed_event(&mut tx, principal, id).await?;
    if !matches!(event.status, EventStatus::Draft | EventStatus::Published) || event.ends_at <= now {
        return Err(ApiError::new(
            TicketingCode::NotOnSale,
            "Only a draft or published event that has not ended sells.",
        ));
    }
    let before = repo::room(&mut tx, id, true).await?;
    let mut errors = Vec::new();
    let rate = req.rate_per_minute.or(before.as_ref().map(|r| r.rate_per_minute)).unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if !(1..=1_000_000).contains(&rate) {
        errors.push(FieldError::new("rate_per_minute", "out_of_range", "must be between 1 and 1000000"));
    }
    let window =
        req.window_minutes.or(before.as_ref().map(|r| r.window_seconds / 60)).unwrap_or(DEFAULT_WINDOW_MINUTES);
    if !(1..=60).contains(&window) {
        errors.push(FieldError::new("window_minutes", "out_of_range", "must be between 1 and 60"));
    }
    let per_address = req.per_address.or(before.as_ref().map(|r| r.per_address)).unwrap_or(DEFAULT_PER_ADDRESS);
    if !(1..=100_000).contains(&per_address) {
        errors.push(FieldError::new("per_address", "out_of_range", "must be between 1 and 100000"));
    }
    let opens_at = whole_second(req.opens_at);
    let moves = before.as_ref().is_none_or(|r| r.opens_at != opens_at);
    match &before {
        Some(r) if r.state == RoomState::Closed => return Err(closed()),
        Some(r) if r.state == RoomState::Open && moves => {
            return Err(ApiError::new(TicketingCode::RoomOpened, "The room has opened; its opening cannot move."));
        }
        _ if moves && opens_at <= now => {
            errors.push(FieldError::new("opens_at", "in_the_past", "must be in the future"));
        }
        _ if moves && opens_at >= event.ends_at => {
            errors.push(FieldError::new("opens_at", "out_of_range", "must be before the event ends"));
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut room = before.clone().unwrap_or(RoomRow {
        event_id: id,
        opens_at,
        state: RoomState::Scheduled,
        rate_per_minute: rate,
        window_seconds: window * 60,
        per_address,
        places: 0,
        admitted_through: 0,
        counted_from: None,
        counted: 0,
        drawn_at: None,
        closed_at: None,
        closed_reason: None,
    });
    if room.state == RoomState::Open && room.rate_per_minute != rate {
        // A new rate counts from now (what the old one had due since the last count, under a second's
        // worth, is not carried over).
        (room.counted_from, room.counted) = (Some(now), 0);
    }
    (room.opens_at, room.rate_per_minute, room.window_seconds, room.per_address) =
        (opens_at, rate, window * 60, per_address);
    repo::save_room(&mut tx, &room, now).await?;
    if moves {
        if let Some(old) = &before {
            jobs::cancel_unique(&mut tx, &tick_key(id, old.opens_at), now).await?;
        }
        schedule_tick(&mut tx, id, opens_at, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "waiting_room.configure", "event", id.0)
        .after(json!({"opens_at": opens_at, "rate_per_minute": rate, "window_minutes": window, "per_address": per_address}))
        .record(&mut tx, now)
        .await?;
    // A new rate changes everyone's estimate.
    platform::stream::announce(&mut tx, &topic(id), &json!(Progress::from(&room))).await?;
    let answer = room_dto(&room, Some(stats(&mut tx, &room, now).await?));
    tx.commit().await?;
    Ok(answer)
}

/// Removes the waiting room before it opens, or once it has closed (the event's organizer); the sale is
/// then open to everyone as usual.
pub async fn remove(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    managed_event(&mut tx, principal, id).await?;
    let room = repo::room(&mut tx, id, true).await?.ok_or_else(no_room)?;
    if room.state == RoomState::Open {
        return Err(ApiError::new(TicketingCode::RoomOpened, "An open waiting room stays until it closes."));
    }
    jobs::cancel_unique(&mut tx, &tick_key(id, room.opens_at), now).await?;
    repo::delete_room(&mut tx, id).await?;
    platform::audit::Entry::new(principal.actor(), "waiting_room.remove", "event", id.0).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn stats(conn: &mut PgConnection, room: &RoomRow, now: DateTime<Utc>) -> Result<RoomStats, ApiError> {
    let counts = repo::counts(conn, room.event_id, now).await?;
    Ok(RoomStats {
        waiting: counts.waiting,
        live_passes: counts.live_passes,
        orders: counts.orders,
        orders_last_minute: counts.orders_last_minute,
    })
}

/// The event's waiting room: to anyone who may see the event, with its figures for the organizer.
pub async fn get(ctx: &AppContext, principal: Option<&Principal>, id: EventId) -> Result<WaitingRoom, ApiError> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let (_, standing) = visible_event(&mut conn, principal, id, false).await?;
    let room = repo::room(&mut conn, id, false).await?.ok_or_else(no_room)?;
    let stats = match standing {
        Standing::Public => None,
        _ => Some(stats(&mut conn, &room, now).await?),
    };
    Ok(room_dto(&room, stats))
}

/// Takes a place in the event's waiting room: one per verified account (joining again answers the same
/// place, with `false`), at most the room's limit per client address. Before the opening the place is
/// drawn at the opening; after it, the place is the next at the end. A buyer whose turn ended without
/// buying may join again: their place moves to the end of the line.
///
/// An early join reads the room with a shared lock, so the draw (which locks it for update) waits for
/// the joins in flight and none is left without a place. A join that finds the room open (or its time
/// come) gives that lock up and starts again with the room locked for update: never upgrading a shared
/// lock, which two joins would deadlock on.
pub async fn join(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<(Place, bool), ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let now = ctx.clock.now();
    let user = principal.user_id.0;
    let address = principal.client_ip.clone().unwrap_or_else(|| "unknown".to_owned());
    let draw = i64::from_le_bytes(platform::crypto::random_bytes());
    let mut tx = match start_join(ctx, principal, id, &address, now).await? {
        Joining::Held => return Ok((mine(ctx, principal, id).await?, false)),
        Joining::New(tx) | Joining::Again(tx) => tx,
    };
    let room = repo::room_shared(&mut tx, id).await?.ok_or_else(no_room)?;
    if room.state == RoomState::Scheduled && now < room.opens_at {
        repo::insert_place(&mut tx, id, user, &address, draw, None, now).await?;
        tx.commit().await?;
        return Ok((mine(ctx, principal, id).await?, true));
    }
    drop(tx);
    let (mut tx, again) = match start_join(ctx, principal, id, &address, now).await? {
        Joining::Held => return Ok((mine(ctx, principal, id).await?, false)),
        Joining::New(tx) => (tx, false),
        Joining::Again(tx) => (tx, true),
    };
    let mut room = repo::room(&mut tx, id, true).await?.ok_or_else(no_room)?;
    if room.state == RoomState::Scheduled {
        // The opening's timer has not run yet: whoever comes first after the time opens the room.
        open(&mut tx, &mut room, now).await?;
    }
    let Some(position) = repo::take_next_position(&mut tx, id, now).await? else {
        return Err(closed());
    };
    if again {
        repo::requeue_place(&mut tx, id, user, position, now).await?;
    } else {
        repo::insert_place(&mut tx, id, user, &address, draw, Some(position), now).await?;
    }
    tx.commit().await?;
    Ok((mine(ctx, principal, id).await?, true))
}

enum Joining {
    /// The caller holds a place already.
    Held,
    /// A transaction holding the address's lock, the room open to this caller.
    New(sqlx::Transaction<'static, sqlx::Postgres>),
    /// The same, for a caller whose turn ended unused: they go to the end of the line again.
    Again(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// The checks of a join, in a new transaction that serializes the joins from the caller's address.
async fn start_join(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Joining, ApiError> {
    let mut tx = ctx.db.begin().await?;
    let (event, _) = visible_event(&mut tx, Some(principal), id, false).await?;
    if event.status != EventStatus::Published {
        return Err(ApiError::new(TicketingCode::NotOnSale, "Tickets are sold only while the event is published."));
    }
    let room = repo::room(&mut tx, id, false).await?.ok_or_else(no_room)?;
    repo::lock_address(&mut tx, id, address).await?;
    if let Some(place) = repo::place(&mut tx, id, principal.user_id.0).await? {
        let expired = place.order_id.is_none() && place.pass_expires_at.is_some_and(|e| e <= now);
        return Ok(if expired && room.state == RoomState::Open { Joining::Again(tx) } else { Joining::Held });
    }
    if room.state == RoomState::Closed {
        return Err(closed());
    }
    if repo::places_of_address(&mut tx, id, address).await? >= i64::from(room.per_address) {
        return Err(ApiError::new(
            TicketingCode::AddressLimit,
            format!(
                "This address holds {} places in the waiting room already, as many as it allows.",
                room.per_address
            ),
        ));
    }
    Ok(Joining::New(tx))
}

fn closed() -> ApiError {
    ApiError::new(TicketingCode::RoomClosed, "The waiting room is closed: the sale sold out or ended.")
}

/// The caller's place in the event's waiting room.
pub async fn mine(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<Place, ApiError> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let (event, _) = visible_event(&mut conn, Some(principal), id, false).await?;
    let room = repo::room(&mut conn, id, false).await?.ok_or_else(no_room)?;
    let place = repo::place(&mut conn, id, principal.user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("You have no place in this waiting room; join it first."))?;
    let key = match place.admitted_at {
        Some(_) => Some(crate::events::service::signing_key(&ctx.secrets, &event)?),
        None => None,
    };
    Ok(view(id, &Progress::from(&room), &place, key.as_ref(), now))
}

/// The opening: the early arrivals' places are drawn and the room starts admitting.
async fn open(conn: &mut PgConnection, room: &mut RoomRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    let drawn = repo::draw(conn, room.event_id, now).await?;
    tracing::info!(object = "waiting_room", id = %room.event_id.0, places = drawn, "opened");
    (room.state, room.drawn_at, room.places, room.counted_from, room.counted) =
        (RoomState::Open, Some(now), drawn, Some(room.opens_at), 0);
    platform::stream::announce(conn, &topic(room.event_id), &json!(Progress::from(&*room))).await
}

fn tick_key(event: EventId, at: DateTime<Utc>) -> String {
    format!("waiting_room:{}:{}", event.0, at.timestamp())
}

async fn schedule_tick(
    conn: &mut PgConnection,
    event: EventId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let job = NewJob::new(TICK, json!({"event_id": event})).at(at).priority(10).unique(tick_key(event, at));
    jobs::enqueue(conn, job, now).await?;
    Ok(())
}

/// The `ticketing.room.tick` job: opens the room at its time, admits what the rate allows, closes it
/// when the sale has sold out or ended, tells the followers, and comes back a second later.
async fn tick(ctx: AppContext, id: EventId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut room) = repo::room(&mut tx, id, true).await? else { return Ok(()) };
    match room.state {
        RoomState::Closed => return Ok(()),
        // The opening moved later; its own timer is scheduled.
        RoomState::Scheduled if now < room.opens_at => return Ok(()),
        RoomState::Scheduled => open(&mut tx, &mut room, now).await?,
        RoomState::Open => {}
    }
    let event = crate::events::repo::event(&mut tx, id, false).await?;
    let closing = match &event {
        None => Some(ClosedReason::NotOnSale),
        Some(e) if e.status != EventStatus::Published => Some(ClosedReason::NotOnSale),
        Some(e) if e.ends_at <= now => Some(ClosedReason::EventEnded),
        Some(_) => None,
    };
    let stock = repo::stock(&mut tx, id).await?;
    if let Some(reason) = closing.or(stock.sold_out.then_some(ClosedReason::SoldOut)) {
        repo::close(&mut tx, id, reason, now).await?;
        (room.state, room.closed_at, room.closed_reason) = (RoomState::Closed, Some(now), Some(reason));
        tracing::info!(object = "waiting_room", id = %id.0, reason = reason.as_str(), "closed");
    } else {
        let live = repo::live_passes(&mut tx, id, now).await?;
        let count = admission::Count { from: room.counted_from.unwrap_or(room.opens_at), counted: room.counted };
        let waiting = room.places - room.admitted_through;
        let due = admission::count(i64::from(room.rate_per_minute), count, now, stock.available - live, waiting);
        let through = room.admitted_through + due.admit;
        let expires = whole_second(now + chrono::Duration::seconds(i64::from(room.window_seconds)));
        repo::admit(&mut tx, id, room.admitted_through, through, due.next, now, expires).await?;
        (room.admitted_through, room.counted_from, room.counted) = (through, Some(due.next.from), due.next.counted);
        schedule_tick(&mut tx, id, whole_second(now) + chrono::Duration::seconds(1), now).await?;
    }
    platform::stream::announce(&mut tx, &topic(id), &json!(Progress::from(&room))).await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(TICK, |ctx: AppContext, job: Job| async move {
        let id: EventId = job.field("event_id")?;
        tick(ctx, id).await
    });
}

/// The order endpoint's check, in the order's transaction: while the event's on-sale is behind a room
/// that is scheduled or open, an order needs the caller's own live pass, not yet spent. Answers whether
/// a pass must be spent on the order ([`spend_pass`], once the order exists).
pub(crate) async fn check_pass(
    conn: &mut PgConnection,
    event: &EventRow,
    principal: &Principal,
    text: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let room = repo::room(conn, event.id, false).await?.map(|r| r.state);
    let pass = PassCheck { event: event.id, public_key: &event.signing_public_key, room };
    if !pass.required() {
        return Ok(false);
    }
    let place = repo::place(conn, event.id, principal.user_id.0).await?;
    pass.check(place.as_ref(), principal, text, now)
}

/// What a pass is checked against: the event, its public key, and its room's state (none without a room).
pub(crate) struct PassCheck<'a> {
    pub event: EventId,
    pub public_key: &'a [u8],
    pub room: Option<RoomState>,
}

impl PassCheck<'_> {
    /// Whether an order needs a pass: the room is scheduled or open.
    fn required(&self) -> bool {
        self.room.is_some_and(|r| r != RoomState::Closed)
    }

    /// [`check_pass`] when the caller's place in the room (if any) is known.
    pub(crate) fn check(
        &self,
        place: Option<&repo::PlaceRow>,
        principal: &Principal,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        if !self.required() {
            return Ok(false);
        }
        let Some(text) = text else {
            return Err(ApiError::new(
                TicketingCode::PassRequired,
                "This sale is behind a waiting room: join it, and order with the pass it gives when your turn comes.",
            ));
        };
        let invalid = || {
            ApiError::new(TicketingCode::PassInvalid, "The pass was not issued by this event's waiting room to you.")
        };
        let public: [u8; 32] = self.public_key.try_into().map_err(|_| invalid())?;
        let pass = pass::verify(&public, text).map_err(|_| invalid())?;
        if pass.event != self.event.0 || pass.account != principal.user_id.0 {
            return Err(invalid());
        }
        let place = place.ok_or_else(invalid)?;
        if place.order_id.is_some() {
            return Err(ApiError::new(TicketingCode::PassUsed, "The pass has bought its order already."));
        }
        if place.pass_expires_at != Some(pass.expires_at) {
            return Err(invalid());
        }
        if now >= pass.expires_at {
            return Err(ApiError::new(
                TicketingCode::PassExpired,
                "The pass's purchase window has ended; join the room again.",
            ));
        }
        Ok(true)
    }
}

/// Spends the caller's pass on the order just made (in its transaction).
pub(crate) async fn spend_pass(
    conn: &mut PgConnection,
    event: EventId,
    principal: &Principal,
    order: uuid::Uuid,
) -> Result<(), ApiError> {
    if !repo::spend_pass(conn, event, principal.user_id.0, order).await? {
        return Err(ApiError::new(TicketingCode::PassUsed, "The pass has bought its order already."));
    }
    Ok(())
}

/// Follows the caller's place as Server-Sent Events (`event: place`, data: the place), sent when it
/// changes: at the draw, as the line moves, at admission (with the pass), when the room closes. The
/// stream ends once the pass is spent, has expired or the room has closed.
pub async fn follow(
    ctx: &AppContext,
    hub: &Arc<Hub>,
    principal: &Principal,
    id: EventId,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    follow_with(ctx, hub, principal, id, |place| {
        Event::default().event("place").json_data(place).unwrap_or_else(|_| Event::default().comment("unrenderable"))
    })
    .await
}

/// [`follow`] with each place made into its event by `render` (the web app sends HTML).
pub async fn follow_with<R>(
    ctx: &AppContext,
    hub: &Arc<Hub>,
    principal: &Principal,
    id: EventId,
    render: R,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<R>>, ApiError>
where
    R: Fn(&Place) -> Event + Send + Sync + 'static,
{
    // Subscribe before reading, so nothing announced in between is missed.
    let rx = hub.subscribe();
    let first = mine(ctx, principal, id).await?;
    let state = Follower {
        ctx: ctx.clone(),
        principal: principal.clone(),
        event: id,
        topic: topic(id),
        rx,
        last: None,
        next: Some(first),
    };
    let render = Arc::new(render);
    let events = futures_util::stream::unfold(state, move |mut s| {
        let render = render.clone();
        async move {
            loop {
                if let Some(place) = s.next.take() {
                    if s.last.as_ref() == Some(&place) {
                        continue;
                    }
                    let event = render(&place);
                    s.last = Some(place);
                    return Some((Ok(event), s));
                }
                if s.last.as_ref().is_some_and(|p| matches!(p.status.as_str(), "used" | "expired" | "closed")) {
                    return None;
                }
                match s.rx.recv().await {
                    Ok(Signal::Topic(topic, data)) if *topic == *s.topic => {
                        let Ok(progress) = serde_json::from_value::<Progress>((*data).clone()) else { continue };
                        s.next = s.moved(&progress).await;
                    }
                    Ok(Signal::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => s.next = s.reread().await,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Follower {
    ctx: AppContext,
    principal: Principal,
    event: EventId,
    topic: String,
    rx: broadcast::Receiver<Signal>,
    last: Option<Place>,
    next: Option<Place>,
}

impl Follower {
    async fn reread(&self) -> Option<Place> {
        mine(&self.ctx, &self.principal, self.event).await.ok()
    }

    /// The place after the room moved: computed from the announcement while the caller waits in line,
    /// read again when their own row changes (the draw, admission, the close).
    async fn moved(&self, room: &Progress) -> Option<Place> {
        let last = self.last.as_ref()?;
        let own_row_changed = match (last.status.as_str(), last.position) {
            ("waiting", None) => room.state != RoomState::Scheduled,
            ("waiting", Some(position)) => position <= room.admitted_through || room.state == RoomState::Closed,
            ("admitted", _) => {
                room.state == RoomState::Closed || last.pass_expires_at.is_some_and(|e| self.ctx.clock.now() >= e)
            }
            _ => false,
        };
        if own_row_changed {
            return self.reread().await;
        }
        if last.status != "waiting" {
            return None;
        }
        let ahead = last.position.map(|p| (p - room.admitted_through - 1).max(0));
        Some(Place {
            ahead,
            estimated_wait_seconds: ahead.map(|a| admission::wait_seconds(a + 1, room.rate_per_minute)),
            ..last.clone()
        })
    }
}
