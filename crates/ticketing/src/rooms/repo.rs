//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::EventId;

platform::text_enum! {
    /// Where a waiting room stands.
    pub enum RoomState { Scheduled = "scheduled", Open = "open", Closed = "closed" }
}

platform::text_enum! {
    /// Why a waiting room closed.
    pub enum ClosedReason { SoldOut = "sold_out", EventEnded = "event_ended", NotOnSale = "not_on_sale" }
}

#[derive(Debug, Clone)]
pub struct RoomRow {
    pub event_id: EventId,
    pub opens_at: DateTime<Utc>,
    pub state: RoomState,
    pub rate_per_minute: i32,
    pub window_seconds: i32,
    pub per_address: i32,
    pub places: i64,
    pub admitted_through: i64,
    pub counted_from: Option<DateTime<Utc>>,
    pub counted: i64,
    pub drawn_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<ClosedReason>,
}

pub async fn room(conn: &mut PgConnection, event: EventId, lock: bool) -> sqlx::Result<Option<RoomRow>> {
    if lock {
        sqlx::query_as!(RoomRow, r#"SELECT event_id AS "event_id: EventId", opens_at, state AS "state: RoomState", rate_per_minute, window_seconds, per_address,
                  places, admitted_through, counted_from, counted, drawn_at, closed_at, closed_reason AS "closed_reason: ClosedReason"
           FROM waiting_rooms WHERE event_id = $1 FOR UPDATE"#, event as _)
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(RoomRow, r#"SELECT event_id AS "event_id: EventId", opens_at, state AS "state: RoomState", rate_per_minute, window_seconds, per_address,
                  places, admitted_through, counted_from, counted, drawn_at, closed_at, closed_reason AS "closed_reason: ClosedReason"
           FROM waiting_rooms WHERE event_id = $1"#, event as _)
        .fetch_optional(conn)
        .await
    }
}

/// The room, with a shared lock: joins in flight hold the draw (which locks it for update) back.
pub async fn room_shared(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Option<RoomRow>> {
    sqlx::query_as!(RoomRow, r#"SELECT event_id AS "event_id: EventId", opens_at, state AS "state: RoomState", rate_per_minute, window_seconds, per_address,
              places, admitted_through, counted_from, counted, drawn_at, closed_at, closed_reason AS "closed_reason: ClosedReason"
       FROM waiting_rooms WHERE event_id = $1 FOR SHARE"#, event as _)
    .fetch_optional(conn)
    .await
}

/// Creates the room or changes its settings (the opening only while it is scheduled: the service checks).
pub async fn save_room(conn: &mut PgConnection, r: &RoomRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO waiting_rooms (event_id, opens_at, rate_per_minute, window_seconds, per_address, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6)
           ON CONFLICT (event_id) DO UPDATE SET opens_at = $2, rate_per_minute = $3, window_seconds = $4, per_address = $5,
               counted_from = $7, counted = $8, updated_at = $6"#,
        r.event_id as _,
        r.opens_at,
        r.rate_per_minute,
        r.window_seconds,
        r.per_address,
        now,
        r.counted_from,
        r.counted
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_room(conn: &mut PgConnection, event: EventId) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM waiting_rooms WHERE event_id = $1"#, event as _).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct PlaceRow {
    pub user_id: Uuid,
    pub joined_at: DateTime<Utc>,
    pub position: Option<i64>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub pass_expires_at: Option<DateTime<Utc>>,
    pub order_id: Option<Uuid>,
}

pub async fn place(conn: &mut PgConnection, event: EventId, user: Uuid) -> sqlx::Result<Option<PlaceRow>> {
    sqlx::query_as!(
        PlaceRow,
        r#"SELECT user_id, joined_at, position, admitted_at, pass_expires_at, order_id
           FROM waiting_room_places WHERE event_id = $1 AND user_id = $2"#,
        event as _,
        user
    )
    .fetch_optional(conn)
    .await
}

/// The places of `users` in the event's room (those who have one).
pub async fn places(conn: &mut PgConnection, event: EventId, users: &[Uuid]) -> sqlx::Result<Vec<PlaceRow>> {
    sqlx::query_as!(
        PlaceRow,
        r#"SELECT user_id, joined_at, position, admitted_at, pass_expires_at, order_id
           FROM waiting_room_places WHERE event_id = $1 AND user_id = ANY($2)"#,
        event as _,
        users
    )
    .fetch_all(conn)
    .await
}

/// Serializes the joins from one client address to one room until the transaction ends.
pub async fn lock_address(conn: &mut PgConnection, event: EventId, address: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#,
        format!("ticketing:room:{event}:{address}")
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn places_of_address(conn: &mut PgConnection, event: EventId, address: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM waiting_room_places WHERE event_id = $1 AND client_ip = $2"#,
        event as _,
        address
    )
    .fetch_one(conn)
    .await
}

/// The next place at the end of an open room, taken under the room row's lock (held to the commit, so
/// places are given one after another, without gaps). None when the room is not open.
pub async fn take_next_position(
    conn: &mut PgConnection,
    event: EventId,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"UPDATE waiting_rooms SET places = places + 1, updated_at = $2 WHERE event_id = $1 AND state = 'open' RETURNING places"#,
        event as _,
        now
    )
    .fetch_optional(conn)
    .await
}

/// A new place (its position none for an early arrival, given at the draw); false when the account has
/// one already.
pub async fn insert_place(
    conn: &mut PgConnection,
    event: EventId,
    user: Uuid,
    address: &str,
    draw: i64,
    position: Option<i64>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"INSERT INTO waiting_room_places (event_id, user_id, client_ip, draw, joined_at, position) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (event_id, user_id) DO NOTHING"#,
        event as _,
        user,
        address,
        draw,
        now,
        position
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a place whose turn ended unused to `position`, waiting again.
pub async fn requeue_place(
    conn: &mut PgConnection,
    event: EventId,
    user: Uuid,
    position: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE waiting_room_places SET position = $3, admitted_at = NULL, pass_expires_at = NULL, joined_at = $4
           WHERE event_id = $1 AND user_id = $2 AND order_id IS NULL"#,
        event as _,
        user,
        position,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The draw: every early arrival gets its place, 1 to n, in the order of the random keys they drew when
/// they joined; the room opens. Answers n.
pub async fn draw(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<i64> {
    let drawn = sqlx::query!(
        r#"UPDATE waiting_room_places p SET position = d.n
           FROM (SELECT user_id, row_number() OVER (ORDER BY draw, user_id) AS n FROM waiting_room_places
                 WHERE event_id = $1 AND position IS NULL) d
           WHERE p.event_id = $1 AND p.user_id = d.user_id"#,
        event as _
    )
    .execute(&mut *conn)
    .await?
    .rows_affected() as i64;
    sqlx::query!(
        r#"UPDATE waiting_rooms SET state = 'open', drawn_at = $2, places = $3, counted_from = opens_at, counted = 0, updated_at = $2
           WHERE event_id = $1"#,
        event as _,
        now,
        drawn
    )
    .execute(conn)
    .await?;
    Ok(drawn)
}

/// Admits the places after `from` up to `through`, each with a pass valid until `expires`; counting
/// stands at `count` after it.
#[allow(clippy::too_many_arguments)]
pub async fn admit(
    conn: &mut PgConnection,
    event: EventId,
    from: i64,
    through: i64,
    count: super::admission::Count,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE waiting_room_places SET admitted_at = $4, pass_expires_at = $5
           WHERE event_id = $1 AND position > $2 AND position <= $3 AND admitted_at IS NULL"#,
        event as _,
        from,
        through,
        now,
        expires
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"UPDATE waiting_rooms SET admitted_through = $2, counted_from = $3, counted = $4, updated_at = $5 WHERE event_id = $1"#,
        event as _,
        through,
        count.from,
        count.counted,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn close(
    conn: &mut PgConnection,
    event: EventId,
    reason: ClosedReason,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE waiting_rooms SET state = 'closed', closed_at = $2, closed_reason = $3, updated_at = $2 WHERE event_id = $1"#,
        event as _,
        now,
        reason as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What the event's public tiers have left: tickets neither sold nor held, tickets held by unpaid
/// orders, and whether every one of them is sold.
#[derive(Debug, Clone, Copy)]
pub struct Stock {
    pub available: i64,
    pub held: i64,
    pub sold_out: bool,
}

pub async fn stock(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Stock> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(quantity - sold - held), 0)::int8 AS "available!", coalesce(sum(held), 0)::int8 AS "held!",
                  coalesce(bool_and(sold >= quantity), false) AS "sold_out!"
           FROM ticket_tiers WHERE event_id = $1 AND visibility = 'public'"#,
        event as _
    )
    .fetch_one(conn)
    .await?;
    Ok(Stock { available: row.available, held: row.held, sold_out: row.sold_out })
}

/// Counts of a room's places, for its organizer.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub places: i64,
    pub waiting: i64,
    pub live_passes: i64,
    pub orders: i64,
    pub orders_last_minute: i64,
}

pub async fn counts(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<Counts> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "places!", count(*) FILTER (WHERE admitted_at IS NULL) AS "waiting!",
                  count(*) FILTER (WHERE admitted_at IS NOT NULL AND order_id IS NULL AND pass_expires_at > $2) AS "live!",
                  count(order_id) AS "orders!",
                  count(*) FILTER (WHERE order_id IS NOT NULL AND EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.created_at > $2 - interval '1 minute')) AS "recent!"
           FROM waiting_room_places WHERE event_id = $1"#,
        event as _,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok(Counts {
        places: row.places,
        waiting: row.waiting,
        live_passes: row.live,
        orders: row.orders,
        orders_last_minute: row.recent,
    })
}

/// Buyers holding a pass that is still live and has bought nothing yet.
pub async fn live_passes(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM waiting_room_places
           WHERE event_id = $1 AND admitted_at IS NOT NULL AND order_id IS NULL AND pass_expires_at > $2"#,
        event as _,
        now
    )
    .fetch_one(conn)
    .await
}

/// Spends the caller's pass on `order`: false when it bought an order already (or there is none).
pub async fn spend_pass(conn: &mut PgConnection, event: EventId, user: Uuid, order: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE waiting_room_places SET order_id = $3
           WHERE event_id = $1 AND user_id = $2 AND admitted_at IS NOT NULL AND order_id IS NULL"#,
        event as _,
        user,
        order
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
