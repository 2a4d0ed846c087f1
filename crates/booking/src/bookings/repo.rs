//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::state::{Actor, BookingStatus, Origin, Side};

#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: BookingId,
    pub artist_id: ArtistId,
    pub promoter_id: PromoterId,
    pub venue_id: Option<VenueId>,
    pub event_id: Option<Uuid>,
    pub status: BookingStatus,
    pub origin: Origin,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub step: i32,
    pub turn: Option<Side>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub message: String,
    pub agreed: Option<serde_json::Value>,
    pub cancelled_by: Option<Actor>,
    pub cancel_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn booking(conn: &mut PgConnection, id: BookingId, lock: bool) -> sqlx::Result<Option<BookingRow>> {
    if lock {
        sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId",
                  venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin AS "origin: Origin", starts_at, ends_at, step,
                  turn AS "turn: Side", deadline_at, message, agreed, cancelled_by AS "cancelled_by: Actor", cancel_reason, created_by, created_at, updated_at FROM bookings WHERE id = $1 FOR UPDATE"#, id as _)
            .fetch_optional(conn)
            .await
    } else {
        sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId",
                  venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin AS "origin: Origin", starts_at, ends_at, step,
                  turn AS "turn: Side", deadline_at, message, agreed, cancelled_by AS "cancelled_by: Actor", cancel_reason, created_by, created_at, updated_at FROM bookings WHERE id = $1"#, id as _).fetch_optional(conn).await
    }
}

pub async fn insert_booking(conn: &mut PgConnection, b: &BookingRow) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO bookings (id, artist_id, promoter_id, venue_id, event_id, status, origin, starts_at, ends_at, step, turn,
             deadline_at, message, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)"#, b.id as _, b.artist_id as _, b.promoter_id as _, b.venue_id as _, b.event_id, b.status as _, b.origin as _, b.starts_at, b.ends_at, b.step, b.turn as _, b.deadline_at, &b.message, b.created_by, b.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a booking's moving parts; a change of its status is logged.
pub async fn update_booking(conn: &mut PgConnection, b: &BookingRow) -> sqlx::Result<()> {
    let before: BookingStatus = sqlx::query_scalar!(r#"UPDATE bookings SET status = $2, starts_at = $3, ends_at = $4, step = $5, turn = $6, deadline_at = $7, agreed = $8,
             cancelled_by = $9, cancel_reason = $10, updated_at = $11
         FROM (SELECT status AS before FROM bookings WHERE id = $1) old
         WHERE id = $1 RETURNING old.before AS "before: BookingStatus""#, b.id as _, b.status as _, b.starts_at, b.ends_at, b.step, b.turn as _, b.deadline_at, &b.agreed as _, b.cancelled_by as _, &b.cancel_reason as _, b.updated_at)
    .fetch_one(conn)
    .await?;
    platform::lifecycle::log_change("booking", b.id, before, b.status);
    Ok(())
}

pub async fn insert_proposal(
    conn: &mut PgConnection,
    booking: BookingId,
    p: &ProposalRow,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO booking_proposals (booking_id, step, side, fee, currency, deposit_bps, starts_at, ends_at, deal_type,
             door_bps, rider, message, proposed_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"#, booking as _, p.step, p.side as _, p.fee, &p.currency, p.deposit_bps, p.starts_at, p.ends_at, &p.deal_type, p.door_bps, &p.rider, &p.message, by, p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn proposals(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Vec<ProposalRow>> {
    sqlx::query_as!(ProposalRow, r#"SELECT step, side AS "side: Side", fee, currency, deposit_bps, starts_at, ends_at, deal_type, door_bps, rider, message, created_at
         FROM booking_proposals WHERE booking_id = $1 ORDER BY step"#, booking as _)
    .fetch_all(conn)
    .await
}

/// Bookings of these artists or promoters (the caller's sides), latest show first, after the cursor
/// `(starts_at, id)` of the previous page.
pub async fn bookings_of(
    conn: &mut PgConnection,
    artists: &[Uuid],
    promoters: &[Uuid],
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<BookingRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId", venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin AS "origin: Origin", starts_at, ends_at, step, turn AS "turn: Side", deadline_at, message, agreed, cancelled_by AS "cancelled_by: Actor", cancel_reason, created_by, created_at, updated_at FROM bookings
         WHERE (artist_id = ANY($1) OR promoter_id = ANY($2)) AND ($3::timestamptz IS NULL OR (starts_at, id) < ($3, $4))
         ORDER BY starts_at DESC, id DESC LIMIT $5"#, artists, promoters, at, id, limit)
    .fetch_all(conn)
    .await
}

/// Bookings waiting for staff: fully signed contracts to review and disputes to resolve, oldest first.
pub async fn awaiting_staff(conn: &mut PgConnection) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId", venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin AS "origin: Origin", starts_at, ends_at, step, turn AS "turn: Side", deadline_at, message, agreed, cancelled_by AS "cancelled_by: Actor", cancel_reason, created_by, created_at, updated_at FROM bookings
         WHERE (status = 'contracting' AND review_pending) OR status = 'disputed'
         ORDER BY updated_at, id LIMIT 200"#)
    .fetch_all(conn)
    .await
}

/// The proposals of many bookings, grouped by booking, in step order.
pub async fn proposals_of(
    conn: &mut PgConnection,
    bookings: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Vec<ProposalRow>>> {
    let rows = sqlx::query!(
        r#"SELECT booking_id AS "booking_id: BookingId", step, side AS "side: Side", fee, currency, deposit_bps,
                  starts_at, ends_at, deal_type, door_bps, rider, message, created_at
           FROM booking_proposals WHERE booking_id = ANY($1) ORDER BY booking_id, step"#,
        bookings
    )
    .fetch_all(conn)
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<ProposalRow>> = std::collections::HashMap::new();
    for r in rows {
        out.entry(r.booking_id.0).or_default().push(ProposalRow {
            step: r.step,
            side: r.side,
            fee: r.fee,
            currency: r.currency,
            deposit_bps: r.deposit_bps,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            deal_type: r.deal_type,
            door_bps: r.door_bps,
            rider: r.rider,
            message: r.message,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

/// What a list or a page shows of each booking beside its own row: its parties' names and where its money
/// stands, read for many bookings in one statement.
pub async fn shown_of(
    conn: &mut PgConnection,
    bookings: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Shown>> {
    let rows = sqlx::query!(
        r#"SELECT b.id, a.stage_name AS artist, p.name AS promoter, v.name AS "venue?",
                  b.deposit_paid_at, b.balance_paid_at, b.balance_overdue, b.settled_at, b.dispute_reason,
                  b.disputed_by AS "disputed_by: Side"
           FROM bookings b
           JOIN artist_profiles a ON a.id = b.artist_id
           JOIN promoter_profiles p ON p.id = b.promoter_id
           LEFT JOIN venue_profiles v ON v.id = b.venue_id
           WHERE b.id = ANY($1)"#,
        bookings
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let money = MoneyRow {
                deposit_paid_at: r.deposit_paid_at,
                balance_paid_at: r.balance_paid_at,
                balance_overdue: r.balance_overdue,
                settled_at: r.settled_at,
                dispute_reason: r.dispute_reason,
                disputed_by: r.disputed_by,
            };
            (r.id, Shown { artist: r.artist, promoter: r.promoter, venue: r.venue, money })
        })
        .collect())
}

/// A booking's parties' names and its money, as [`shown_of`] reads them.
pub struct Shown {
    pub artist: String,
    pub promoter: String,
    pub venue: Option<String>,
    pub money: MoneyRow,
}

/// Where a booking's money stands.
pub struct MoneyRow {
    pub deposit_paid_at: Option<DateTime<Utc>>,
    pub balance_paid_at: Option<DateTime<Utc>>,
    pub balance_overdue: bool,
    pub settled_at: Option<DateTime<Utc>>,
    pub dispute_reason: Option<String>,
    pub disputed_by: Option<Side>,
}

/// One round of a booking's negotiation.
#[derive(Debug, Clone)]
pub struct ProposalRow {
    pub step: i32,
    pub side: Side,
    pub fee: i64,
    pub currency: String,
    pub deposit_bps: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub deal_type: String,
    pub door_bps: i32,
    pub rider: serde_json::Value,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// An event's open call for applications.
pub struct OpenCallRow {
    pub promoter_id: PromoterId,
    pub closes_at: DateTime<Utc>,
}

pub async fn save_open_call(
    conn: &mut PgConnection,
    event: Uuid,
    promoter: PromoterId,
    closes_at: DateTime<Utc>,
    note: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO open_calls (event_id, promoter_id, closes_at, note, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (event_id) DO UPDATE SET promoter_id = $2, closes_at = $3, note = $4"#,
        event,
        promoter as _,
        closes_at,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn open_call(conn: &mut PgConnection, event: Uuid) -> sqlx::Result<Option<OpenCallRow>> {
    sqlx::query_as!(
        OpenCallRow,
        r#"SELECT promoter_id AS "promoter_id: PromoterId", closes_at FROM open_calls WHERE event_id = $1"#,
        event
    )
    .fetch_optional(conn)
    .await
}

/// Whether the artist has a live (not cancelled or refunded) booking for the event.
pub async fn has_live_booking(conn: &mut PgConnection, artist: ArtistId, event: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM bookings WHERE artist_id = $1 AND event_id = $2
                          AND status NOT IN ('cancelled', 'refunded')) AS "exists!""#,
        artist as _,
        event
    )
    .fetch_one(conn)
    .await
}
