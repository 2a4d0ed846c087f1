//! All of booking's SQL. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::dto::{self, CategoryHistoryItem, Proposal};
use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::state::BookingStatus;
use identity::party::Party;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArtistRow {
    pub id: ArtistId,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub stage_name: String,
    pub bio: String,
    pub genres: Vec<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub currency: String,
    pub social_links: serde_json::Value,
    pub media: serde_json::Value,
    pub category: String,
    pub category_locked: bool,
    pub custom_policy: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ArtistRow {
    pub fn owner(&self) -> Party {
        Party::from_columns(self.user_id, self.org_id).unwrap_or(Party::User(Uuid::nil()))
    }

    pub fn dto(&self) -> dto::Artist {
        dto::Artist {
            id: self.id,
            owner: self.owner(),
            stage_name: self.stage_name.clone(),
            bio: self.bio.clone(),
            genres: self.genres.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            price_min: self.price_min,
            price_max: self.price_max,
            currency: self.currency.clone(),
            social_links: self.social_links.clone(),
            media: self.media.clone(),
            category: self.category.clone(),
            category_locked: self.category_locked,
            distance_km: None,
            rank: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const ARTIST_COLUMNS: &str = "id, user_id, org_id, stage_name, bio, genres, city, country, latitude, longitude, price_min, \
    price_max, currency, social_links, media, category, category_locked, custom_policy, created_at, updated_at";

pub async fn artist(conn: &mut PgConnection, id: ArtistId, lock: bool) -> sqlx::Result<Option<ArtistRow>> {
    if lock {
        sqlx::query_as!(ArtistRow, r#"SELECT id AS "id: ArtistId", user_id, org_id, stage_name, bio, genres, city, country, latitude, longitude, price_min,
                  price_max, currency, social_links, media, category, category_locked, custom_policy, created_at, updated_at FROM artist_profiles WHERE id = $1 FOR UPDATE"#, id as _)
            .fetch_optional(conn)
            .await
    } else {
        sqlx::query_as!(ArtistRow, r#"SELECT id AS "id: ArtistId", user_id, org_id, stage_name, bio, genres, city, country, latitude, longitude, price_min,
                  price_max, currency, social_links, media, category, category_locked, custom_policy, created_at, updated_at FROM artist_profiles WHERE id = $1"#, id as _).fetch_optional(conn).await
    }
}

pub async fn save_artist(conn: &mut PgConnection, a: &ArtistRow) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO artist_profiles (id, user_id, org_id, stage_name, bio, genres, city, country, latitude, longitude,
             price_min, price_max, currency, social_links, media, category, category_locked, custom_policy, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (id) DO UPDATE SET stage_name = $4, bio = $5, genres = $6, city = $7, country = $8, latitude = $9,
             longitude = $10, price_min = $11, price_max = $12, currency = $13, social_links = $14, media = $15,
             category = $16, category_locked = $17, custom_policy = $18, updated_at = $20"#, a.id as _, a.user_id, a.org_id, &a.stage_name, &a.bio, &a.genres, &a.city as _, &a.country as _, a.latitude, a.longitude, a.price_min, a.price_max, &a.currency, &a.social_links, &a.media, &a.category, a.category_locked, &a.custom_policy as _, a.created_at, a.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One change of an artist's category.
pub struct CategoryChange<'a> {
    pub artist: ArtistId,
    pub from: &'a str,
    pub to: &'a str,
    pub locked: bool,
    pub by: Option<Uuid>,
    pub reason: &'a str,
}

pub async fn record_category_change(
    conn: &mut PgConnection,
    c: CategoryChange<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO artist_category_changes (id, artist_id, from_cat, to_cat, locked, changed_by, reason, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        platform::ids::new_id(),
        c.artist as _,
        c.from,
        c.to,
        c.locked,
        c.by,
        c.reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn category_history(conn: &mut PgConnection, artist: ArtistId) -> sqlx::Result<Vec<CategoryHistoryItem>> {
    sqlx::query_as!(
        CategoryHistoryItem,
        r#"SELECT from_cat, to_cat, locked, changed_by, reason, changed_at FROM artist_category_changes
         WHERE artist_id = $1 ORDER BY changed_at, id"#,
        artist as _
    )
    .fetch_all(conn)
    .await
}

/// What an artist search filters on; `after` is the cursor (rank, name, id).
pub struct ArtistFilter<'a> {
    pub query: Option<&'a str>,
    pub genre: Option<&'a str>,
    /// (lat, lng, radius km)
    pub near: Option<(f64, f64, f64)>,
    pub budget: Option<(i64, i64)>,
    pub free_on: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub after: Option<(f32, String, Uuid)>,
    pub limit: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ArtistHit {
    #[sqlx(flatten)]
    pub row: ArtistRow,
    pub rank: f32,
    pub distance_km: Option<f64>,
}

/// The directory: one query, ranked, with the distance computed in SQL (haversine).
pub async fn search_artists(conn: &mut PgConnection, f: &ArtistFilter<'_>) -> sqlx::Result<Vec<ArtistHit>> {
    sqlx::query_as(&format!(
        "WITH q AS (SELECT CASE WHEN $1::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', $1) END AS query),
         hits AS (
            SELECT a.*, CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(a.search, q.query) END AS rank,
                   CASE WHEN $3::float8 IS NULL OR a.latitude IS NULL THEN NULL ELSE
                       2 * 6371 * asin(sqrt(power(sin(radians(a.latitude - $3) / 2), 2)
                           + cos(radians($3)) * cos(radians(a.latitude)) * power(sin(radians(a.longitude - $4) / 2), 2)))
                   END AS distance_km
            FROM artist_profiles a CROSS JOIN q
            WHERE (q.query IS NULL OR a.search @@ q.query)
              AND ($2::text IS NULL OR $2 = ANY (a.genres))
              AND ($6::int8 IS NULL OR (coalesce(a.price_min, 0) <= $7 AND coalesce(a.price_max, a.price_min, 0) >= $6))
              AND ($8::timestamptz IS NULL OR NOT EXISTS (
                    SELECT 1 FROM bookings b WHERE b.artist_id = a.id
                      AND b.status IN ('confirmed', 'paid_deposit', 'scheduled')
                      AND b.slot && tstzrange($8, $9, '[)'))))
         SELECT {ARTIST_COLUMNS}, rank, distance_km FROM hits
         WHERE ($3::float8 IS NULL OR distance_km <= $5)
           AND ($10::real IS NULL OR rank < $10 OR (rank = $10 AND (stage_name, id) > ($11::text, $12::uuid)))
         ORDER BY rank DESC, stage_name, id
         LIMIT $13"
    ))
    .bind(f.query)
    .bind(f.genre)
    .bind(f.near.map(|n| n.0))
    .bind(f.near.map(|n| n.1))
    .bind(f.near.map(|n| n.2))
    .bind(f.budget.map(|b| b.0))
    .bind(f.budget.map(|b| b.1))
    .bind(f.free_on.map(|d| d.0))
    .bind(f.free_on.map(|d| d.1))
    .bind(f.after.as_ref().map(|a| a.0))
    .bind(f.after.as_ref().map(|a| a.1.clone()))
    .bind(f.after.as_ref().map(|a| a.2))
    .bind(f.limit)
    .fetch_all(conn)
    .await
}

// Venues and promoters.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VenueRow {
    pub id: VenueId,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: i32,
    pub amenities: Vec<String>,
}

impl VenueRow {
    pub fn dto(&self) -> dto::Venue {
        dto::Venue {
            id: self.id,
            owner: Party::from_columns(self.user_id, self.org_id).unwrap_or(Party::User(Uuid::nil())),
            name: self.name.clone(),
            address: self.address.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            capacity: self.capacity,
            amenities: self.amenities.clone(),
        }
    }
}

const VENUE_COLUMNS: &str =
    "id, user_id, org_id, name, address, city, country, latitude, longitude, capacity, amenities";

pub async fn venue(conn: &mut PgConnection, id: VenueId) -> sqlx::Result<Option<VenueRow>> {
    sqlx::query_as!(VenueRow, r#"SELECT id AS "id: VenueId", user_id, org_id, name, address, city, country, latitude, longitude, capacity, amenities FROM venue_profiles WHERE id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn save_venue(conn: &mut PgConnection, v: &VenueRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO venue_profiles (id, user_id, org_id, name, address, city, country, latitude, longitude, capacity, amenities, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
         ON CONFLICT (id) DO UPDATE SET name = $4, address = $5, city = $6, country = $7, latitude = $8, longitude = $9,
             capacity = $10, amenities = $11, updated_at = $12"#, v.id as _, v.user_id, v.org_id, &v.name, &v.address, &v.city, &v.country, v.latitude, v.longitude, v.capacity, &v.amenities, now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn search_venues(
    conn: &mut PgConnection,
    city: Option<&str>,
    capacity: (Option<i32>, Option<i32>),
    after: Option<(String, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<VenueRow>> {
    sqlx::query_as(&format!(
        "SELECT {VENUE_COLUMNS} FROM venue_profiles
         WHERE ($1::text IS NULL OR lower(city) = lower($1)) AND ($2::int IS NULL OR capacity >= $2)
           AND ($3::int IS NULL OR capacity <= $3) AND ($4::text IS NULL OR (name, id) > ($4, $5::uuid))
         ORDER BY name, id LIMIT $6"
    ))
    .bind(city)
    .bind(capacity.0)
    .bind(capacity.1)
    .bind(after.as_ref().map(|a| a.0.clone()))
    .bind(after.as_ref().map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromoterRow {
    pub id: PromoterId,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub verified: bool,
    pub trust_score: i32,
}

impl PromoterRow {
    pub fn owner(&self) -> Party {
        Party::from_columns(self.user_id, self.org_id).unwrap_or(Party::User(Uuid::nil()))
    }

    pub fn dto(&self) -> dto::Promoter {
        dto::Promoter {
            id: self.id,
            owner: self.owner(),
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            verified: self.verified,
            trust_score: self.trust_score,
        }
    }
}

pub async fn promoter(conn: &mut PgConnection, id: PromoterId) -> sqlx::Result<Option<PromoterRow>> {
    sqlx::query_as!(PromoterRow, r#"SELECT id AS "id: PromoterId", user_id, org_id, name, contact_name, contact_email, verified, trust_score FROM promoter_profiles WHERE id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn save_promoter(conn: &mut PgConnection, p: &PromoterRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO promoter_profiles (id, user_id, org_id, name, contact_name, contact_email, verified, trust_score, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (id) DO UPDATE SET name = $4, contact_name = $5, contact_email = $6, verified = $7, trust_score = $8, updated_at = $9"#, p.id as _, p.user_id, p.org_id, &p.name, &p.contact_name, &p.contact_email, p.verified, p.trust_score, now)
    .execute(conn)
    .await?;
    Ok(())
}

// Bookings.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingRow {
    pub id: BookingId,
    pub artist_id: ArtistId,
    pub promoter_id: PromoterId,
    pub venue_id: Option<VenueId>,
    pub event_id: Option<Uuid>,
    pub status: BookingStatus,
    pub origin: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub step: i32,
    pub turn: Option<String>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub message: String,
    pub agreed: Option<serde_json::Value>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn booking(conn: &mut PgConnection, id: BookingId, lock: bool) -> sqlx::Result<Option<BookingRow>> {
    if lock {
        sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId",
                  venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin, starts_at, ends_at, step,
                  turn, deadline_at, message, agreed, cancelled_by, cancel_reason, created_by, created_at, updated_at FROM bookings WHERE id = $1 FOR UPDATE"#, id as _)
            .fetch_optional(conn)
            .await
    } else {
        sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId",
                  venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin, starts_at, ends_at, step,
                  turn, deadline_at, message, agreed, cancelled_by, cancel_reason, created_by, created_at, updated_at FROM bookings WHERE id = $1"#, id as _).fetch_optional(conn).await
    }
}

pub async fn insert_booking(conn: &mut PgConnection, b: &BookingRow) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO bookings (id, artist_id, promoter_id, venue_id, event_id, status, origin, starts_at, ends_at, step, turn,
             deadline_at, message, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)"#, b.id as _, b.artist_id as _, b.promoter_id as _, b.venue_id as _, b.event_id, b.status as _, &b.origin, b.starts_at, b.ends_at, b.step, &b.turn as _, b.deadline_at, &b.message, b.created_by, b.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a booking's moving parts; a change of its status is logged.
pub async fn update_booking(conn: &mut PgConnection, b: &BookingRow) -> sqlx::Result<()> {
    let before: BookingStatus = sqlx::query_scalar!(r#"UPDATE bookings SET status = $2, starts_at = $3, ends_at = $4, step = $5, turn = $6, deadline_at = $7, agreed = $8,
             cancelled_by = $9, cancel_reason = $10, updated_at = $11
         FROM (SELECT status AS before FROM bookings WHERE id = $1) old
         WHERE id = $1 RETURNING old.before AS "before: BookingStatus""#, b.id as _, b.status as _, b.starts_at, b.ends_at, b.step, &b.turn as _, b.deadline_at, &b.agreed as _, &b.cancelled_by as _, &b.cancel_reason as _, b.updated_at)
    .fetch_one(conn)
    .await?;
    platform::lifecycle::log_change("booking", b.id, before, b.status);
    Ok(())
}

pub async fn insert_proposal(conn: &mut PgConnection, booking: BookingId, p: &Proposal, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO booking_proposals (booking_id, step, side, fee, currency, deposit_bps, starts_at, ends_at, deal_type,
             door_bps, rider, message, proposed_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"#, booking as _, p.step, &p.side, p.fee, &p.currency, p.deposit_bps, p.starts_at, p.ends_at, &p.deal_type, p.door_bps, &p.rider, &p.message, by, p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn proposals(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Vec<Proposal>> {
    sqlx::query_as!(Proposal, r#"SELECT step, side, fee, currency, deposit_bps, starts_at, ends_at, deal_type, door_bps, rider, message, created_at
         FROM booking_proposals WHERE booking_id = $1 ORDER BY step"#, booking as _)
    .fetch_all(conn)
    .await
}

/// Bookings of these artists or promoters (the caller's sides), newest first.
pub async fn bookings_of(
    conn: &mut PgConnection,
    artists: &[Uuid],
    promoters: &[Uuid],
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as!(BookingRow, r#"SELECT id AS "id: BookingId", artist_id AS "artist_id: ArtistId", promoter_id AS "promoter_id: PromoterId", venue_id AS "venue_id: VenueId", event_id, status AS "status: BookingStatus", origin, starts_at, ends_at, step, turn,  deadline_at, message, agreed, cancelled_by, cancel_reason, created_by, created_at, updated_at FROM bookings WHERE artist_id = ANY($1) OR promoter_id = ANY($2)
         ORDER BY starts_at DESC, id DESC LIMIT 200"#, artists, promoters)
    .fetch_all(conn)
    .await
}

/// Names of artists, promoters and venues by id, read at once.
pub async fn names(
    conn: &mut PgConnection,
    artists: &[Uuid],
    promoters: &[Uuid],
    venues: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, stage_name FROM artist_profiles WHERE id = ANY($1)
         UNION ALL SELECT id, name FROM promoter_profiles WHERE id = ANY($2)
         UNION ALL SELECT id, name FROM venue_profiles WHERE id = ANY($3)",
    )
    .bind(artists)
    .bind(promoters)
    .bind(venues)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The proposals of many bookings, grouped by booking, in step order.
pub async fn proposals_of(
    conn: &mut PgConnection,
    bookings: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Vec<Proposal>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        booking_id: Uuid,
        #[sqlx(flatten)]
        proposal: Proposal,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT booking_id, step, side, fee, currency, deposit_bps, starts_at, ends_at, deal_type, door_bps, rider, message, created_at
         FROM booking_proposals WHERE booking_id = ANY($1) ORDER BY booking_id, step",
    )
    .bind(bookings)
    .fetch_all(conn)
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<Proposal>> = std::collections::HashMap::new();
    for row in rows {
        out.entry(row.booking_id).or_default().push(row.proposal);
    }
    Ok(out)
}

/// The payment state of many bookings.
pub async fn money_of(conn: &mut PgConnection, bookings: &[Uuid]) -> sqlx::Result<Vec<(Uuid, dto::Money)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        #[sqlx(flatten)]
        money: dto::Money,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, deposit_paid_at, balance_paid_at, balance_overdue, settled_at, dispute_reason, disputed_by
         FROM bookings WHERE id = ANY($1)",
    )
    .bind(bookings)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.money)).collect())
}
