//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::state::BookingStatus;

platform::text_enum! {
    /// Whose calendar a feed is.
    pub enum ProfileKind { Artist = "artist", Venue = "venue" }
}

/// A booking as a feed lists it.
pub struct FeedRow {
    pub id: Uuid,
    pub status: BookingStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub artist: String,
    pub promoter: String,
    pub venue: Option<String>,
}

/// Sets the profile's feed token (its SHA-256), replacing any earlier one.
pub async fn save_token(
    conn: &mut PgConnection,
    kind: ProfileKind,
    id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO calendar_feeds (profile_kind, profile_id, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (profile_kind, profile_id) DO UPDATE SET token_hash = $3, created_at = $4"#,
        kind as _,
        id,
        token_hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The profile whose current token has this hash.
pub async fn profile_of(conn: &mut PgConnection, token_hash: &[u8]) -> sqlx::Result<Option<(ProfileKind, Uuid)>> {
    let row = sqlx::query!(
        r#"SELECT profile_kind AS "kind: ProfileKind", profile_id FROM calendar_feeds WHERE token_hash = $1"#,
        token_hash
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.kind, r.profile_id)))
}

/// The artist's agreed bookings, by start (at most 1,000).
pub async fn artist_entries(conn: &mut PgConnection, artist: Uuid) -> sqlx::Result<Vec<FeedRow>> {
    sqlx::query_as!(
        FeedRow,
        r#"SELECT b.id, b.status AS "status: BookingStatus", b.starts_at, b.ends_at, b.updated_at,
                  a.stage_name AS artist, p.name AS promoter,
                  CASE WHEN v.id IS NULL THEN NULL ELSE v.name || ', ' || v.city END AS venue
           FROM bookings b JOIN artist_profiles a ON a.id = b.artist_id JOIN promoter_profiles p ON p.id = b.promoter_id
           LEFT JOIN venue_profiles v ON v.id = b.venue_id
           WHERE b.artist_id = $1 AND b.agreed IS NOT NULL
           ORDER BY b.starts_at LIMIT 1000"#,
        artist
    )
    .fetch_all(conn)
    .await
}

/// The venue's agreed bookings, by start (at most 1,000).
pub async fn venue_entries(conn: &mut PgConnection, venue: Uuid) -> sqlx::Result<Vec<FeedRow>> {
    sqlx::query_as!(
        FeedRow,
        r#"SELECT b.id, b.status AS "status: BookingStatus", b.starts_at, b.ends_at, b.updated_at,
                  a.stage_name AS artist, p.name AS promoter,
                  CASE WHEN v.id IS NULL THEN NULL ELSE v.name || ', ' || v.city END AS venue
           FROM bookings b JOIN artist_profiles a ON a.id = b.artist_id JOIN promoter_profiles p ON p.id = b.promoter_id
           LEFT JOIN venue_profiles v ON v.id = b.venue_id
           WHERE b.venue_id = $1 AND b.agreed IS NOT NULL
           ORDER BY b.starts_at LIMIT 1000"#,
        venue
    )
    .fetch_all(conn)
    .await
}
