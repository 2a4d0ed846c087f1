//! Holds on dates: a promoter pencils in an artist's date before offering. Among the active holds whose
//! times overlap, the earliest is the first hold, the next the second, and so on. A later holder may
//! challenge the first: its holder then has 48 hours to make an offer on that date (the hold converts)
//! or a timer releases it. Holds expire after their validity (7 days by default, at most 14). A date with
//! a confirmed booking cannot be held.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Hold, HoldList, NewHold};
use super::repo::{self, HoldRow, HoldState, NewHoldRow};
use crate::bookings::service::notify;
use crate::error::{BookingCode, BookingError};
use crate::model::{ArtistId, PromoterId};
use crate::profiles::service::BOOKINGS_MANAGE;

pub const EXPIRE: JobKind = JobKind::new("booking.hold_expire").max_attempts(10);
/// How long the first holder has to answer a challenge.
pub const ANSWER_CHALLENGE_WITHIN: Duration = Duration::hours(48);

pub async fn place(ctx: &AppContext, principal: &Principal, artist: ArtistId, req: NewHold) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let promoter = crate::profiles::repo::promoter(&mut tx, req.promoter_id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("promoter_id", "unknown_promoter", "is not a promoter profile"))?;
    if !identity::party::may_act_for(&mut tx, principal, promoter.owner(), BOOKINGS_MANAGE).await? {
        return Err(ApiError::invalid_field("promoter_id", "not_yours", "is not a promoter profile you act for"));
    }
    crate::profiles::repo::artist(&mut tx, artist, false).await?.ok_or(BookingError::NotFound("artist"))?;
    let days = req.valid_days.unwrap_or(7);
    if !(1..=14).contains(&days) {
        return Err(ApiError::invalid_field("valid_days", "out_of_range", "must be 1 to 14"));
    }
    if req.ends_at <= req.starts_at || req.starts_at <= now {
        return Err(ApiError::invalid_field("starts_at", "invalid_range", "a future time, ending after it starts"));
    }
    repo::lock_artist(&mut tx, artist).await?;
    let taken = repo::date_taken(&mut tx, artist, req.starts_at, req.ends_at).await?;
    if taken {
        return Err(ApiError::new(BookingCode::DateTaken, "The artist has a confirmed booking at that time."));
    }
    let id = platform::ids::new_id();
    let expires_at = (now + Duration::days(days)).min(req.starts_at);
    let row = NewHoldRow {
        id,
        artist,
        promoter: promoter.id,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        expires_at,
        created_by: principal.user_id.0,
        now,
    };
    repo::insert_hold(&mut tx, &row).await?;
    jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"hold_id": id})).at(expires_at), now).await?;
    platform::audit::Entry::new(principal.actor(), "hold.place", "date_hold", id)
        .after(json!({"artist": artist, "promoter": promoter.id, "starts_at": req.starts_at}))
        .record(&mut tx, now)
        .await?;
    let answer = repo::hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer.into())
}

/// The artist's holds: all of them for the artist's side, the caller's own for a promoter.
pub async fn list(ctx: &AppContext, principal: &Principal, artist: ArtistId) -> Result<HoldList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = crate::profiles::repo::artist(&mut conn, artist, false).await?.ok_or(BookingError::NotFound("artist"))?;
    let all = identity::party::may_act_for(&mut conn, principal, row.owner(), BOOKINGS_MANAGE).await?
        || crate::profiles::service::is_admin(principal);
    let (_, promoters) = crate::profiles::service::my_profiles(&mut conn, principal).await?;
    let items = repo::holds_of(&mut conn, artist, all, &promoters).await?.into_iter().map(Hold::from).collect();
    Ok(HoldList { items })
}

/// Who may act on a hold: its promoter's side, and (to release it) the artist's side.
async fn holder_or_artist(
    conn: &mut PgConnection,
    principal: &Principal,
    h: &HoldRow,
) -> Result<(bool, bool), ApiError> {
    let promoter = crate::profiles::repo::promoter(conn, h.promoter_id).await?.ok_or(BookingError::NotFound("hold"))?;
    let artist =
        crate::profiles::repo::artist(conn, h.artist_id, false).await?.ok_or(BookingError::NotFound("hold"))?;
    Ok((
        identity::party::may_act_for(conn, principal, promoter.owner(), BOOKINGS_MANAGE).await?,
        identity::party::may_act_for(conn, principal, artist.owner(), BOOKINGS_MANAGE).await?,
    ))
}

pub async fn release(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let h = repo::hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    let (holder, artist) = holder_or_artist(&mut tx, principal, &h).await?;
    if !holder && !artist {
        return Err(BookingError::NotFound("hold").into());
    }
    repo::lock_artist(&mut tx, h.artist_id).await?;
    if !repo::end_hold(&mut tx, id, HoldState::Released).await? {
        return Err(ApiError::new(BookingCode::HoldNotActive, format!("This hold is {}.", h.state)));
    }
    platform::audit::Entry::new(principal.actor(), "hold.release", "date_hold", id).record(&mut tx, now).await?;
    let answer = repo::hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer.into())
}

/// A later holder challenges the first hold on its time: the first holder must offer within 48 hours.
pub async fn challenge(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mine = repo::hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    if !holder_or_artist(&mut tx, principal, &mine).await?.0 {
        return Err(BookingError::NotFound("hold").into());
    }
    repo::lock_artist(&mut tx, mine.artist_id).await?;
    if mine.state != HoldState::Active || mine.rank.unwrap_or(1) < 2 {
        return Err(ApiError::new(
            BookingCode::NothingToChallenge,
            "Only an active second (or later) hold challenges the first.",
        ));
    }
    let first = repo::first_overlapping(&mut tx, mine.artist_id, id, mine.starts_at, mine.ends_at).await?;
    let first =
        first.ok_or_else(|| ApiError::new(BookingCode::NothingToChallenge, "There is no first hold to challenge."))?;
    if first.challenge_deadline.is_some() {
        return Err(ApiError::new(BookingCode::AlreadyChallenged, "The first hold is challenged already."));
    }
    let deadline = now + ANSWER_CHALLENGE_WITHIN;
    repo::mark_challenged(&mut tx, first.id, now, deadline).await?;
    jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"hold_id": first.id})).at(deadline), now).await?;
    let artist = crate::profiles::repo::artist(&mut tx, first.artist_id, false)
        .await?
        .ok_or(BookingError::NotFound("artist"))?;
    let holder =
        crate::profiles::repo::promoter(&mut tx, first.promoter_id).await?.ok_or(BookingError::NotFound("promoter"))?;
    let data = json!({"artist": artist.stage_name, "date": first.starts_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                      "deadline": deadline.format("%Y-%m-%d %H:%M UTC").to_string(), "hold_id": first.id});
    notify(&mut tx, holder.owner(), "booking.hold_challenged", data, now).await?;
    platform::audit::Entry::new(principal.actor(), "hold.challenge", "date_hold", first.id)
        .after(json!({"by_hold": id, "deadline": deadline}))
        .record(&mut tx, now)
        .await?;
    let answer = repo::hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer.into())
}

/// An offer by a promoter converts its active holds on that artist and time.
pub(crate) async fn convert(
    conn: &mut PgConnection,
    artist: ArtistId,
    promoter: PromoterId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    repo::convert(conn, artist, promoter, starts_at, ends_at).await
}

/// `booking.hold_expire`: a hold past its validity expires; a challenged first hold not answered in time
/// is released.
async fn expire(ctx: AppContext, id: Uuid) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(h) = repo::hold(&mut tx, id).await? else { return Ok(()) };
    if h.state != HoldState::Active {
        return Ok(());
    }
    let state = if h.expires_at <= now {
        HoldState::Expired
    } else if h.challenge_deadline.is_some_and(|d| d <= now) {
        HoldState::Released
    } else {
        return Ok(());
    };
    repo::end_hold(&mut tx, id, state).await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "hold.end", "date_hold", id)
        .after(json!({"state": state.as_str()}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move { expire(ctx, job.field("hold_id")?).await });
}
