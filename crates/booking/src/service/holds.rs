//! Holds on dates: a promoter pencils in an artist's date before offering. Among the active holds whose
//! times overlap, the earliest is the first hold, the next the second, and so on. A later holder may
//! challenge the first: its holder then has 48 hours to make an offer on that date (the hold converts)
//! or a timer releases it. Holds expire after their validity (7 days by default, at most 14). A date with
//! a confirmed booking cannot be held.

use super::BOOKINGS_MANAGE;
use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::bookings::notify;
use crate::error::BookingCode;
use crate::error::BookingError;
use crate::model::{ArtistId, PromoterId};
use crate::repo;

pub const EXPIRE: JobKind = JobKind::new("booking.hold_expire").max_attempts(10);
/// How long the first holder has to answer a challenge.
pub const ANSWER_CHALLENGE_WITHIN: Duration = Duration::hours(48);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    pub promoter_id: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Days the hold lasts (1–14, default 7).
    pub valid_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Hold {
    pub id: Uuid,
    pub artist_id: ArtistId,
    pub promoter_id: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `active`, `released`, `expired` or `converted` (an offer was made on it).
    pub state: String,
    /// 1 for the first hold on its time, 2 for the second, ... (active holds only).
    pub rank: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub challenge_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoldList {
    pub items: Vec<Hold>,
}

const HOLD_SELECT: &str = "SELECT h.id, h.artist_id, h.promoter_id, h.starts_at, h.ends_at, h.state, h.expires_at,
        h.challenge_deadline, h.created_at,
        CASE WHEN h.state = 'active' THEN (SELECT count(*) FROM date_holds o WHERE o.artist_id = h.artist_id
             AND o.state = 'active' AND o.slot && h.slot AND (o.created_at, o.id) <= (h.created_at, h.id)) END AS rank
    FROM date_holds h";

async fn hold(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Hold>> {
    sqlx::query_as!(Hold, r#"SELECT h.id, h.artist_id AS "artist_id: ArtistId", h.promoter_id AS "promoter_id: PromoterId", h.starts_at, h.ends_at, h.state, h.expires_at, h.challenge_deadline, h.created_at, CASE WHEN h.state = 'active' THEN (SELECT count(*) FROM date_holds o WHERE o.artist_id = h.artist_id
             AND o.state = 'active' AND o.slot && h.slot AND (o.created_at, o.id) <= (h.created_at, h.id)) END AS rank
    FROM date_holds h WHERE h.id = $1"#, id).fetch_optional(conn).await
}

/// Serializes hold changes of one artist, so ranks are decided one at a time.
async fn lock_artist(conn: &mut PgConnection, artist: ArtistId) -> sqlx::Result<()> {
    sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#, format!("holds:{artist}"))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn place(ctx: &AppContext, principal: &Principal, artist: ArtistId, req: NewHold) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let promoter = repo::promoter(&mut tx, req.promoter_id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("promoter_id", "unknown_promoter", "is not a promoter profile"))?;
    if !identity::party::may_act_for(&mut tx, principal, promoter.owner(), BOOKINGS_MANAGE).await? {
        return Err(ApiError::invalid_field("promoter_id", "not_yours", "is not a promoter profile you act for"));
    }
    repo::artist(&mut tx, artist, false).await?.ok_or(BookingError::NotFound("artist"))?;
    let days = req.valid_days.unwrap_or(7);
    if !(1..=14).contains(&days) {
        return Err(ApiError::invalid_field("valid_days", "out_of_range", "must be 1 to 14"));
    }
    if req.ends_at <= req.starts_at || req.starts_at <= now {
        return Err(ApiError::invalid_field("starts_at", "invalid_range", "a future time, ending after it starts"));
    }
    lock_artist(&mut tx, artist).await?;
    let taken: bool = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM bookings WHERE artist_id = $1 AND status IN ('confirmed', 'paid_deposit', 'scheduled')
                        AND slot && tstzrange($2, $3, '[)')) AS "taken!""#, artist as _, req.starts_at, req.ends_at)
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(ApiError::new(BookingCode::DateTaken, "The artist has a confirmed booking at that time."));
    }
    let id = platform::ids::new_id();
    let expires_at = (now + Duration::days(days)).min(req.starts_at);
    sqlx::query!(r#"INSERT INTO date_holds (id, artist_id, promoter_id, starts_at, ends_at, state, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8)"#, id, artist as _, promoter.id as _, req.starts_at, req.ends_at, expires_at, principal.user_id.0, now)
    .execute(&mut *tx)
    .await?;
    jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"hold_id": id})).at(expires_at), now).await?;
    platform::audit::Entry::new(principal.actor(), "hold.place", "date_hold", id)
        .after(json!({"artist": artist, "promoter": promoter.id, "starts_at": req.starts_at}))
        .record(&mut tx, now)
        .await?;
    let answer = hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer)
}

/// The artist's holds: all of them for the artist's side, the caller's own for a promoter.
pub async fn list(ctx: &AppContext, principal: &Principal, artist: ArtistId) -> Result<HoldList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::artist(&mut conn, artist, false).await?.ok_or(BookingError::NotFound("artist"))?;
    let all = identity::party::may_act_for(&mut conn, principal, row.owner(), BOOKINGS_MANAGE).await?
        || super::is_admin(principal);
    let (_, promoters) = super::my_profiles(&mut conn, principal).await?;
    let items = sqlx::query_as(&format!(
        "{HOLD_SELECT} WHERE h.artist_id = $1 AND ($2 OR h.promoter_id = ANY($3)) ORDER BY h.starts_at, h.created_at LIMIT 500"
    ))
    .bind(artist)
    .bind(all)
    .bind(&promoters)
    .fetch_all(&mut *conn)
    .await?;
    Ok(HoldList { items })
}

/// Who may act on a hold: its promoter's side, and (to release it) the artist's side.
async fn holder_or_artist(conn: &mut PgConnection, principal: &Principal, h: &Hold) -> Result<(bool, bool), ApiError> {
    let promoter = repo::promoter(conn, h.promoter_id).await?.ok_or(BookingError::NotFound("hold"))?;
    let artist = repo::artist(conn, h.artist_id, false).await?.ok_or(BookingError::NotFound("hold"))?;
    Ok((
        identity::party::may_act_for(conn, principal, promoter.owner(), BOOKINGS_MANAGE).await?,
        identity::party::may_act_for(conn, principal, artist.owner(), BOOKINGS_MANAGE).await?,
    ))
}

pub async fn release(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let h = hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    let (holder, artist) = holder_or_artist(&mut tx, principal, &h).await?;
    if !holder && !artist {
        return Err(BookingError::NotFound("hold").into());
    }
    lock_artist(&mut tx, h.artist_id).await?;
    let done = sqlx::query!(r#"UPDATE date_holds SET state = 'released' WHERE id = $1 AND state = 'active'"#, id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::new(BookingCode::HoldNotActive, format!("This hold is {}.", h.state)));
    }
    platform::audit::Entry::new(principal.actor(), "hold.release", "date_hold", id).record(&mut tx, now).await?;
    let answer = hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer)
}

/// A later holder challenges the first hold on its time: the first holder must offer within 48 hours.
pub async fn challenge(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Hold, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mine = hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    if !holder_or_artist(&mut tx, principal, &mine).await?.0 {
        return Err(BookingError::NotFound("hold").into());
    }
    lock_artist(&mut tx, mine.artist_id).await?;
    if mine.state != "active" || mine.rank.unwrap_or(1) < 2 {
        return Err(ApiError::new(
            BookingCode::NothingToChallenge,
            "Only an active second (or later) hold challenges the first.",
        ));
    }
    let first: Option<Hold> = sqlx::query_as(&format!(
        "{HOLD_SELECT} WHERE h.artist_id = $1 AND h.state = 'active' AND h.id <> $2 AND h.slot && tstzrange($3, $4, '[)')
         ORDER BY h.created_at, h.id LIMIT 1"
    ))
    .bind(mine.artist_id)
    .bind(id)
    .bind(mine.starts_at)
    .bind(mine.ends_at)
    .fetch_optional(&mut *tx)
    .await?;
    let first =
        first.ok_or_else(|| ApiError::new(BookingCode::NothingToChallenge, "There is no first hold to challenge."))?;
    if first.challenge_deadline.is_some() {
        return Err(ApiError::new(BookingCode::AlreadyChallenged, "The first hold is challenged already."));
    }
    let deadline = now + ANSWER_CHALLENGE_WITHIN;
    sqlx::query!(
        r#"UPDATE date_holds SET challenged_at = $2, challenge_deadline = $3 WHERE id = $1"#,
        first.id,
        now,
        deadline
    )
    .execute(&mut *tx)
    .await?;
    jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"hold_id": first.id})).at(deadline), now).await?;
    let artist = repo::artist(&mut tx, first.artist_id, false).await?.ok_or(BookingError::NotFound("artist"))?;
    let holder = repo::promoter(&mut tx, first.promoter_id).await?.ok_or(BookingError::NotFound("promoter"))?;
    let data = json!({"artist": artist.stage_name, "date": first.starts_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                      "deadline": deadline.format("%Y-%m-%d %H:%M UTC").to_string(), "hold_id": first.id});
    notify(&mut tx, holder.owner(), "booking.hold_challenged", data, now).await?;
    platform::audit::Entry::new(principal.actor(), "hold.challenge", "date_hold", first.id)
        .after(json!({"by_hold": id, "deadline": deadline}))
        .record(&mut tx, now)
        .await?;
    let answer = hold(&mut tx, id).await?.ok_or(BookingError::NotFound("hold"))?;
    tx.commit().await?;
    Ok(answer)
}

/// An offer by a promoter converts its active holds on that artist and time.
pub(crate) async fn convert(
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

/// `booking.hold_expire`: a hold past its validity expires; a challenged first hold not answered in time
/// is released.
async fn expire(ctx: AppContext, id: Uuid) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(h) = hold(&mut tx, id).await? else { return Ok(()) };
    if h.state != "active" {
        return Ok(());
    }
    let state = if h.expires_at <= now {
        "expired"
    } else if h.challenge_deadline.is_some_and(|d| d <= now) {
        "released"
    } else {
        return Ok(());
    };
    sqlx::query!(r#"UPDATE date_holds SET state = $2 WHERE id = $1 AND state = 'active'"#, id, state)
        .execute(&mut *tx)
        .await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "hold.end", "date_hold", id)
        .after(json!({"state": state}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move { expire(ctx, job.field("hold_id")?).await });
}
