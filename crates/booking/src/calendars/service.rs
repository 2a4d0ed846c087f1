//! Calendar feeds: each artist and venue has a secret feed URL (rotating it makes the old one stop
//! working); the feed lists its bookings from agreement on, cancelled ones marked so calendars drop them.

use identity::auth::Principal;
use identity::error::IdentityError;
use identity::party::Party;
use platform::{ApiError, AppContext};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::dto::{Agenda, AgendaItem, FeedUrl};
use super::repo::{self, ProfileKind};
use crate::calendar::{self, Entry};
use crate::error::BookingError;
use crate::model::{ArtistId, VenueId};
use crate::profiles::service::BOOKINGS_MANAGE;
use crate::state::BookingStatus;

/// The profile's name, if the caller keeps it (acts for its owner with `bookings.manage`): 404 for a
/// profile that does not exist, 403 for someone else's.
async fn kept_profile(
    conn: &mut sqlx::PgConnection,
    principal: &Principal,
    kind: ProfileKind,
    id: Uuid,
) -> Result<String, ApiError> {
    let (owner, name) = match kind {
        ProfileKind::Artist => {
            crate::profiles::repo::artist(conn, ArtistId(id), false).await?.map(|a| (Some(a.owner()), a.stage_name))
        }
        ProfileKind::Venue => crate::profiles::repo::venue(conn, VenueId(id))
            .await?
            .map(|v| (Party::from_columns(v.user_id, v.org_id), v.name)),
    }
    .ok_or(BookingError::NotFound(kind.as_str()))?;
    let owner = owner.ok_or(BookingError::NotFound(kind.as_str()))?;
    if !identity::party::may_act_for(conn, principal, owner, BOOKINGS_MANAGE).await? {
        return Err(IdentityError::Forbidden(BOOKINGS_MANAGE.into()).into());
    }
    Ok(name)
}

/// The calendar of an artist or venue, for those who keep the profile: agreed bookings (cancelled and
/// refunded ones left out) and, for an artist, the active holds on dates.
pub async fn agenda(ctx: &AppContext, principal: &Principal, kind: ProfileKind, id: Uuid) -> Result<Agenda, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let name = kept_profile(&mut conn, principal, kind, id).await?;
    let rows = match kind {
        ProfileKind::Artist => repo::artist_entries(&mut conn, id).await?,
        ProfileKind::Venue => repo::venue_entries(&mut conn, id).await?,
    };
    let mut items: Vec<AgendaItem> = rows
        .into_iter()
        .filter(|r| !matches!(r.status, BookingStatus::Cancelled | BookingStatus::Refunded))
        .map(|r| AgendaItem {
            kind: "booking".into(),
            booking_id: Some(r.id),
            status: r.status.as_str().into(),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            title: format!("{} for {}", r.artist, r.promoter),
            location: r.venue,
        })
        .collect();
    if kind == ProfileKind::Artist {
        let holds = crate::holds::repo::holds_of(&mut conn, ArtistId(id), true, &[]).await?;
        items.extend(holds.into_iter().filter(|h| h.state == crate::holds::repo::HoldState::Active).map(|h| {
            AgendaItem {
                kind: "hold".into(),
                booking_id: None,
                status: "active".into(),
                starts_at: h.starts_at,
                ends_at: h.ends_at,
                title: format!("Hold #{}", h.rank.unwrap_or(1)),
                location: None,
            }
        }));
        items.sort_by_key(|i| i.starts_at);
    }
    Ok(Agenda { name, items })
}

/// Creates or rotates the feed URL of an artist (`kind` = artist) or venue (`venue`).
pub async fn rotate(ctx: &AppContext, principal: &Principal, kind: ProfileKind, id: Uuid) -> Result<FeedUrl, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    kept_profile(&mut tx, principal, kind, id).await?;
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
