//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ArtistId, PromoterId};

platform::text_enum! {
    /// Where a hold stands.
    pub enum HoldState { Active = "active", Released = "released", Expired = "expired", Converted = "converted" }
}

/// A hold with its rank among the active holds overlapping it (none unless active).
#[derive(Debug, Clone)]
pub struct HoldRow {
    pub id: Uuid,
    pub artist_id: ArtistId,
    pub promoter_id: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: HoldState,
    pub rank: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub challenge_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn hold(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<HoldRow>> {
    sqlx::query_as!(
        HoldRow,
        r#"SELECT h.id, h.artist_id AS "artist_id: ArtistId", h.promoter_id AS "promoter_id: PromoterId", h.starts_at,
                  h.ends_at, h.state AS "state: HoldState", h.expires_at, h.challenge_deadline, h.created_at,
                  CASE WHEN h.state = 'active' THEN (SELECT count(*) FROM date_holds o WHERE o.artist_id = h.artist_id
                       AND o.state = 'active' AND o.slot && h.slot AND (o.created_at, o.id) <= (h.created_at, h.id))
                  END AS rank
           FROM date_holds h WHERE h.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The artist's holds, all of them (`all`) or those of the given promoters, by date (at most 500).
pub async fn holds_of(
    conn: &mut PgConnection,
    artist: ArtistId,
    all: bool,
    promoters: &[Uuid],
) -> sqlx::Result<Vec<HoldRow>> {
    sqlx::query_as!(
        HoldRow,
        r#"SELECT h.id, h.artist_id AS "artist_id: ArtistId", h.promoter_id AS "promoter_id: PromoterId", h.starts_at,
                  h.ends_at, h.state AS "state: HoldState", h.expires_at, h.challenge_deadline, h.created_at,
                  CASE WHEN h.state = 'active' THEN (SELECT count(*) FROM date_holds o WHERE o.artist_id = h.artist_id
                       AND o.state = 'active' AND o.slot && h.slot AND (o.created_at, o.id) <= (h.created_at, h.id))
                  END AS rank
           FROM date_holds h
           WHERE h.artist_id = $1 AND ($2 OR h.promoter_id = ANY($3))
           ORDER BY h.starts_at, h.created_at LIMIT 500"#,
        artist as _,
        all,
        promoters
    )
    .fetch_all(conn)
    .await
}

/// The earliest other active hold of the artist overlapping the given time.
pub async fn first_overlapping(
    conn: &mut PgConnection,
    artist: ArtistId,
    except: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<Option<HoldRow>> {
    sqlx::query_as!(
        HoldRow,
        r#"SELECT h.id, h.artist_id AS "artist_id: ArtistId", h.promoter_id AS "promoter_id: PromoterId", h.starts_at,
                  h.ends_at, h.state AS "state: HoldState", h.expires_at, h.challenge_deadline, h.created_at,
                  CASE WHEN h.state = 'active' THEN (SELECT count(*) FROM date_holds o WHERE o.artist_id = h.artist_id
                       AND o.state = 'active' AND o.slot && h.slot AND (o.created_at, o.id) <= (h.created_at, h.id))
                  END AS rank
           FROM date_holds h
           WHERE h.artist_id = $1 AND h.state = 'active' AND h.id <> $2 AND h.slot && tstzrange($3, $4, '[)')
           ORDER BY h.created_at, h.id LIMIT 1"#,
        artist as _,
        except,
        starts_at,
        ends_at
    )
    .fetch_optional(conn)
    .await
}

/// Serializes hold changes of one artist, so ranks are decided one at a time.
pub async fn lock_artist(conn: &mut PgConnection, artist: ArtistId) -> sqlx::Result<()> {
    sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#, format!("holds:{artist}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the artist has a confirmed booking overlapping the time.
pub async fn date_taken(
    conn: &mut PgConnection,
    artist: ArtistId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM bookings WHERE artist_id = $1 AND status IN ('confirmed', 'paid_deposit', 'scheduled')
                          AND slot && tstzrange($2, $3, '[)')) AS "taken!""#,
        artist as _,
        starts_at,
        ends_at
    )
    .fetch_one(conn)
    .await
}

/// A new active hold.
pub struct NewHoldRow {
    pub id: Uuid,
    pub artist: ArtistId,
    pub promoter: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub now: DateTime<Utc>,
}

pub async fn insert_hold(conn: &mut PgConnection, h: &NewHoldRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO date_holds (id, artist_id, promoter_id, starts_at, ends_at, state, expires_at, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8)"#,
        h.id,
        h.artist as _,
        h.promoter as _,
        h.starts_at,
        h.ends_at,
        h.expires_at,
        h.created_by,
        h.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an active hold in `state`; false when it was not active.
pub async fn end_hold(conn: &mut PgConnection, id: Uuid, state: HoldState) -> sqlx::Result<bool> {
    let done = sqlx::query!(r#"UPDATE date_holds SET state = $2 WHERE id = $1 AND state = 'active'"#, id, state as _)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_challenged(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE date_holds SET challenged_at = $2, challenge_deadline = $3 WHERE id = $1"#,
        id,
        now,
        deadline
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Converts the promoter's active holds on the artist's time (an offer was made).
pub async fn convert(
    conn: &mut PgConnection,
    artist: ArtistId,
    promoter: PromoterId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE date_holds SET state = 'converted' WHERE artist_id = $1 AND promoter_id = $2 AND state = 'active'
         AND slot && tstzrange($3, $4, '[)')"#,
        artist as _,
        promoter as _,
        starts_at,
        ends_at
    )
    .execute(conn)
    .await?;
    Ok(())
}
