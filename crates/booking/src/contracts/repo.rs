//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ArtistId, BookingId};
use crate::state::Side;

/// A version of a booking's contract.
pub struct ContractRow {
    pub version: i32,
    pub document: serde_json::Value,
    pub text: String,
    pub sha256: Vec<u8>,
}

/// A signature of one version by one side.
pub struct SignatureRow {
    pub version: i32,
    pub side: Side,
    pub user_id: Uuid,
    pub sha256: Vec<u8>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub signed_at: DateTime<Utc>,
}

/// Where the booking's contract stands: its signing deadline, whether it waits for review, and which
/// sides used their edit.
pub struct ContractState {
    pub deadline: Option<DateTime<Utc>>,
    pub review_pending: bool,
    pub organizer_edited: bool,
    pub artist_edited: bool,
}

/// The latest version.
pub async fn current(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Option<ContractRow>> {
    sqlx::query_as!(
        ContractRow,
        r#"SELECT version, document, text, sha256 FROM booking_contracts WHERE booking_id = $1
           ORDER BY version DESC LIMIT 1"#,
        booking as _
    )
    .fetch_optional(conn)
    .await
}

/// A new version.
pub struct NewVersion<'a> {
    pub booking: BookingId,
    pub version: i32,
    pub document: serde_json::Value,
    pub text: &'a str,
    pub sha256: &'a [u8],
    pub edited_by: Option<Side>,
    pub now: DateTime<Utc>,
}

/// Stores a version and makes it the booking's current one, to be signed by `deadline`.
pub async fn insert_version(conn: &mut PgConnection, v: &NewVersion<'_>, deadline: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO booking_contracts (booking_id, version, document, text, sha256, edited_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
        v.booking as _,
        v.version,
        v.document,
        v.text,
        v.sha256,
        v.edited_by as _,
        v.now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"UPDATE bookings SET contract_version = $2, contract_deadline = $3 WHERE id = $1"#,
        v.booking as _,
        v.version,
        deadline
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every signature of the booking's versions, oldest first.
pub async fn signatures(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Vec<SignatureRow>> {
    sqlx::query_as!(
        SignatureRow,
        r#"SELECT version, side AS "side: Side", user_id, sha256, ip, user_agent, signed_at FROM booking_signatures
           WHERE booking_id = $1 ORDER BY signed_at, version, side"#,
        booking as _
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_signature(conn: &mut PgConnection, booking: BookingId, s: &SignatureRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO booking_signatures (booking_id, version, side, user_id, sha256, ip, user_agent, signed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        booking as _,
        s.version,
        s.side as _,
        s.user_id,
        &s.sha256,
        s.ip,
        s.user_agent,
        s.signed_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn contract_state(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<ContractState> {
    sqlx::query_as!(
        ContractState,
        r#"SELECT contract_deadline AS deadline, review_pending, organizer_edited, artist_edited FROM bookings
           WHERE id = $1"#,
        booking as _
    )
    .fetch_one(conn)
    .await
}

pub async fn set_review_pending(conn: &mut PgConnection, booking: BookingId, pending: bool) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE bookings SET review_pending = $2 WHERE id = $1"#, booking as _, pending)
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses a side's one edit request; false when it was used already.
pub async fn use_edit(conn: &mut PgConnection, booking: BookingId, side: Side) -> sqlx::Result<bool> {
    let done = match side {
        Side::Organizer => {
            sqlx::query!(
                r#"UPDATE bookings SET organizer_edited = true WHERE id = $1 AND NOT organizer_edited"#,
                booking as _
            )
            .execute(conn)
            .await?
        }
        Side::Artist => {
            sqlx::query!(
                r#"UPDATE bookings SET artist_edited = true WHERE id = $1 AND NOT artist_edited"#,
                booking as _
            )
            .execute(conn)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// One confirmation per artist at a time, until the transaction ends: two overlapping ones would
/// otherwise deadlock in the exclusion constraint's check instead of one being refused by it.
pub async fn lock_artist_dates(conn: &mut PgConnection, artist: ArtistId) -> sqlx::Result<()> {
    sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#, format!("booking:artist:{artist}"))
        .execute(conn)
        .await?;
    Ok(())
}
