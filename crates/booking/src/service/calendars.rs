//! Calendar feeds: each artist and venue has a secret feed URL (rotating it makes the old one stop
//! working); the feed lists its bookings from agreement on, cancelled ones marked so calendars drop them.

use super::BOOKINGS_MANAGE;
use identity::auth::Principal;
use identity::error::IdentityError;
use platform::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::calendar::{self, Entry};
use crate::error::BookingError;
use crate::repo;
use identity::party::Party;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedUrl {
    /// The secret URL (shown once; rotate to replace it).
    pub url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates or rotates the feed URL of an artist (`kind` = artist) or venue (`venue`).
pub async fn rotate(ctx: &AppContext, principal: &Principal, kind: &str, id: Uuid) -> Result<FeedUrl, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let owner = match kind {
        "artist" => repo::artist(&mut tx, crate::model::ArtistId(id), false).await?.map(|a| a.owner()),
        _ => repo::venue(&mut tx, crate::model::VenueId(id))
            .await?
            .and_then(|v| Party::from_columns(v.user_id, v.org_id)),
    }
    .ok_or(BookingError::NotFound(if kind == "artist" { "artist" } else { "venue" }))?;
    if !identity::party::may_act_for(&mut tx, principal, owner, BOOKINGS_MANAGE).await? {
        return Err(IdentityError::Forbidden(BOOKINGS_MANAGE.into()).into());
    }
    let token = platform::hex::encode(&platform::crypto::random_bytes::<24>());
    sqlx::query!(
        r#"INSERT INTO calendar_feeds (profile_kind, profile_id, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (profile_kind, profile_id) DO UPDATE SET token_hash = $3, created_at = $4"#,
        kind,
        id,
        Sha256::digest(token.as_bytes()).to_vec(),
        now
    )
    .execute(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "calendar.rotate", kind, id).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(FeedUrl { url: format!("{}/v1/calendars/{token}.ics", ctx.public_url.trim_end_matches('/')), created_at: now })
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    id: Uuid,
    status: String,
    starts_at: chrono::DateTime<chrono::Utc>,
    ends_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    artist: String,
    promoter: String,
    venue: Option<String>,
}

/// The feed a secret token opens; `None` for an unknown or rotated token.
pub async fn feed(ctx: &AppContext, token: &str) -> Result<Option<String>, ApiError> {
    let token = token.trim_end_matches(".ics");
    let mut conn = ctx.db.acquire().await?;
    let found: Option<(String, Uuid)> =
        sqlx::query_as("SELECT profile_kind, profile_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(Sha256::digest(token.as_bytes()).to_vec())
            .fetch_optional(&mut *conn)
            .await?;
    let Some((kind, id)) = found else { return Ok(None) };
    let column = if kind == "artist" { "b.artist_id" } else { "b.venue_id" };
    let rows: Vec<FeedRow> = sqlx::query_as(&format!(
        "SELECT b.id, b.status, b.starts_at, b.ends_at, b.updated_at, a.stage_name AS artist, p.name AS promoter,
                CASE WHEN v.id IS NULL THEN NULL ELSE v.name || ', ' || v.city END AS venue
         FROM bookings b JOIN artist_profiles a ON a.id = b.artist_id JOIN promoter_profiles p ON p.id = b.promoter_id
         LEFT JOIN venue_profiles v ON v.id = b.venue_id
         WHERE {column} = $1 AND (b.agreed IS NOT NULL)
         ORDER BY b.starts_at LIMIT 1000"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let name: String = if kind == "artist" {
        sqlx::query_scalar!(r#"SELECT stage_name FROM artist_profiles WHERE id = $1"#, id).fetch_one(&mut *conn).await?
    } else {
        sqlx::query_scalar!(r#"SELECT name FROM venue_profiles WHERE id = $1"#, id).fetch_one(&mut *conn).await?
    };
    let entries: Vec<Entry> = rows
        .into_iter()
        .map(|r| Entry {
            uid: format!("{}@backline", r.id),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            summary: format!("{} for {}", r.artist, r.promoter),
            location: r.venue,
            description: format!("Booking {} ({})", r.id, r.status),
            status: match r.status.as_str() {
                "cancelled" | "refunded" => "CANCELLED",
                "contracting" => "TENTATIVE",
                _ => "CONFIRMED",
            },
            updated_at: r.updated_at,
        })
        .collect();
    Ok(Some(calendar::feed(&name, &entries, ctx.clock.now())))
}
