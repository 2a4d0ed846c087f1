//! Calendar feeds: each artist and venue has a secret feed URL (rotating it makes the old one stop
//! working); the feed lists its bookings from agreement on, cancelled ones marked so calendars drop them.

use identity::auth::Principal;
use identity::error::IdentityError;
use identity::party::Party;
use platform::{ApiError, AppContext};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::dto::FeedUrl;
use super::repo::{self, ProfileKind};
use crate::calendar::{self, Entry};
use crate::error::BookingError;
use crate::model::{ArtistId, VenueId};
use crate::profiles::service::BOOKINGS_MANAGE;
use crate::state::BookingStatus;

/// Creates or rotates the feed URL of an artist (`kind` = artist) or venue (`venue`).
pub async fn rotate(ctx: &AppContext, principal: &Principal, kind: ProfileKind, id: Uuid) -> Result<FeedUrl, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let owner = match kind {
        ProfileKind::Artist => {
            crate::profiles::repo::artist(&mut tx, crate::model::ArtistId(id), false).await?.map(|a| a.owner())
        }
        ProfileKind::Venue => crate::profiles::repo::venue(&mut tx, crate::model::VenueId(id))
            .await?
            .and_then(|v| Party::from_columns(v.user_id, v.org_id)),
    }
    .ok_or(BookingError::NotFound(kind.as_str()))?;
    if !identity::party::may_act_for(&mut tx, principal, owner, BOOKINGS_MANAGE).await? {
        return Err(IdentityError::Forbidden(BOOKINGS_MANAGE.into()).into());
    }
    let token = platform::hex::encode(&platform::crypto::random_bytes::<24>());
    repo::save_token(&mut tx, kind, id, &Sha256::digest(token.as_bytes()), now).await?;
    platform::audit::Entry::new(principal.actor(), "calendar.rotate", kind.as_str(), id).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(FeedUrl { url: format!("{}/v1/calendars/{token}.ics", ctx.public_url.trim_end_matches('/')), created_at: now })
}

/// The feed a secret token opens; `None` for an unknown or rotated token.
pub async fn feed(ctx: &AppContext, token: &str) -> Result<Option<String>, ApiError> {
    let token = token.trim_end_matches(".ics");
    let mut conn = ctx.db.acquire().await?;
    let Some((kind, id)) = repo::profile_of(&mut conn, &Sha256::digest(token.as_bytes())).await? else {
        return Ok(None);
    };
    let (name, rows) = match kind {
        ProfileKind::Artist => {
            let artist = crate::profiles::repo::artist(&mut conn, ArtistId(id), false).await?;
            (artist.map(|a| a.stage_name), repo::artist_entries(&mut conn, id).await?)
        }
        ProfileKind::Venue => {
            let venue = crate::profiles::repo::venue(&mut conn, VenueId(id)).await?;
            (venue.map(|v| v.name), repo::venue_entries(&mut conn, id).await?)
        }
    };
    let Some(name) = name else { return Ok(None) };
    let entries: Vec<Entry> = rows
        .into_iter()
        .map(|r| Entry {
            uid: format!("{}@backline", r.id),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            summary: format!("{} for {}", r.artist, r.promoter),
            location: r.venue,
            description: format!("Booking {} ({})", r.id, r.status),
            status: match r.status {
                BookingStatus::Cancelled | BookingStatus::Refunded => "CANCELLED",
                BookingStatus::Contracting => "TENTATIVE",
                _ => "CONFIRMED",
            },
            updated_at: r.updated_at,
        })
        .collect();
    Ok(Some(calendar::feed(&name, &entries, ctx.clock.now())))
}
