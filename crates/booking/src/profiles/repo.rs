//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use identity::party::Party;
use sqlx::{Connection as _, PgConnection};
use uuid::Uuid;

use crate::model::{ArtistId, PromoterId, VenueId};

#[derive(Debug, Clone)]
pub struct CategoryHistoryItemRow {
    pub from_cat: String,
    pub to_cat: String,
    pub locked: bool,
    pub changed_by: Option<Uuid>,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
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
}

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

pub async fn category_history(conn: &mut PgConnection, artist: ArtistId) -> sqlx::Result<Vec<CategoryHistoryItemRow>> {
    sqlx::query_as!(
        CategoryHistoryItemRow,
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

#[derive(Debug)]
pub struct ArtistHit {
    pub row: ArtistRow,
    pub rank: f32,
    pub distance_km: Option<f64>,
    /// The nearest-first order's key (see [`search_artists_near`]).
    pub chord: Option<f64>,
}

/// A search hit as the query returns it (the macros read flat rows).
struct ArtistHitRow {
    id: ArtistId,
    user_id: Option<Uuid>,
    org_id: Option<Uuid>,
    stage_name: String,
    bio: String,
    genres: Vec<String>,
    city: Option<String>,
    country: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    price_min: Option<i64>,
    price_max: Option<i64>,
    currency: String,
    social_links: serde_json::Value,
    media: serde_json::Value,
    category: String,
    category_locked: bool,
    custom_policy: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rank: f32,
    distance_km: Option<f64>,
    /// Nearest-first order's key: the chord to the place, on the unit sphere.
    chord: Option<f64>,
}

/// The directory: one query, ranked, with the distance computed in SQL (haversine).
pub async fn search_artists(conn: &mut PgConnection, f: &ArtistFilter<'_>) -> sqlx::Result<Vec<ArtistHit>> {
    let rows = sqlx::query_as!(
        ArtistHitRow,
        r#"WITH q AS (SELECT CASE WHEN $1::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', $1) END AS query),
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
         SELECT id AS "id!: ArtistId", user_id, org_id, stage_name AS "stage_name!", bio AS "bio!",
                genres AS "genres!", city, country, latitude, longitude, price_min, price_max, currency AS "currency!",
                social_links AS "social_links!", media AS "media!", category AS "category!",
                category_locked AS "category_locked!", custom_policy, created_at AS "created_at!",
                updated_at AS "updated_at!", rank AS "rank!", distance_km, NULL::float8 AS chord
         FROM hits
         WHERE ($3::float8 IS NULL OR distance_km <= $5)
           AND ($10::real IS NULL OR rank < $10 OR (rank = $10 AND (stage_name, id) > ($11::text, $12::uuid)))
         ORDER BY rank DESC, stage_name, id
         LIMIT $13"#,
        f.query,
        f.genre,
        f.near.map(|n| n.0),
        f.near.map(|n| n.1),
        f.near.map(|n| n.2),
        f.budget.map(|b| b.0),
        f.budget.map(|b| b.1),
        f.free_on.map(|d| d.0),
        f.free_on.map(|d| d.1),
        f.after.as_ref().map(|a| a.0),
        f.after.as_ref().map(|a| a.1.clone()),
        f.after.as_ref().map(|a| a.2),
        f.limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ArtistHit::from).collect())
}

impl From<ArtistHitRow> for ArtistHit {
    fn from(r: ArtistHitRow) -> Self {
        Self {
            row: ArtistRow {
                id: r.id,
                user_id: r.user_id,
                org_id: r.org_id,
                stage_name: r.stage_name,
                bio: r.bio,
                genres: r.genres,
                city: r.city,
                country: r.country,
                latitude: r.latitude,
                longitude: r.longitude,
                price_min: r.price_min,
                price_max: r.price_max,
                currency: r.currency,
                social_links: r.social_links,
                media: r.media,
                category: r.category,
                category_locked: r.category_locked,
                custom_policy: r.custom_policy,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            rank: r.rank,
            distance_km: r.distance_km,
            chord: r.chord,
        }
    }
}

/// A point on the unit sphere for a latitude and longitude (degrees): the `location` of migration 0040.
pub fn unit_sphere(lat: f64, lng: f64) -> [f64; 3] {
    let (lat, lng) = (lat.to_radians(), lng.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

/// The chord (straight line through the Earth, on the unit sphere) of a great-circle distance in km.
pub fn chord_of_km(km: f64) -> f64 {
    2.0 * (km.min(std::f64::consts::PI * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM)).sin()
}

/// The mean Earth radius the directory's distances use.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// The directory near a place, nearest first (no words to rank by): the `location` index's nearest-
/// neighbour scan inside a box around the place, so a page reads about as many artists as it shows.
/// `after` is the last page's (chord, id). The scan orders by distance alone (what the index gives);
/// artists at exactly the page's last distance are then added whole, so that paging by (chord, id)
/// never skips one. The planner cannot estimate how many artists a box holds and would read them all
/// with a bitmap and sort them; for this statement only, bitmap scans are off.
pub async fn search_artists_near(
    conn: &mut PgConnection,
    f: &ArtistFilter<'_>,
    (lat, lng, radius_km): (f64, f64, f64),
    after: Option<(f64, Uuid)>,
) -> sqlx::Result<Vec<ArtistHit>> {
    let [x, y, z] = unit_sphere(lat, lng);
    let mut tx = conn.begin().await?;
    sqlx::query!("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
    let rows = sqlx::query_as!(
        ArtistHitRow,
        r#"WITH nearest AS MATERIALIZED (
            SELECT a.id, a.location <-> cube($1::float8[]) AS chord
            FROM artist_profiles a
            WHERE a.location <@ cube_enlarge(cube($1::float8[]), $2, 3)
              AND a.location <-> cube($1::float8[]) <= $2
              AND ($3::text IS NULL OR $3 = ANY (a.genres))
              AND ($4::int8 IS NULL OR (coalesce(a.price_min, 0) <= $5 AND coalesce(a.price_max, a.price_min, 0) >= $4))
              AND ($6::timestamptz IS NULL OR NOT EXISTS (
                    SELECT 1 FROM bookings b WHERE b.artist_id = a.id
                      AND b.status IN ('confirmed', 'paid_deposit', 'scheduled')
                      AND b.slot && tstzrange($6, $7, '[)')))
              AND ($8::float8 IS NULL OR (a.location <-> cube($1::float8[]), a.id) > ($8, $9::uuid))
            ORDER BY a.location <-> cube($1::float8[])
            LIMIT $10),
         edge AS (SELECT max(chord) AS chord, count(*) AS n FROM nearest),
         ties AS (
            SELECT a.id, e.chord
            FROM edge e JOIN artist_profiles a
              ON a.location <@ cube_enlarge(cube($1::float8[]), e.chord, 3) AND a.location <-> cube($1::float8[]) = e.chord
            WHERE e.n = $10
              AND ($3::text IS NULL OR $3 = ANY (a.genres))
              AND ($4::int8 IS NULL OR (coalesce(a.price_min, 0) <= $5 AND coalesce(a.price_max, a.price_min, 0) >= $4))
              AND ($6::timestamptz IS NULL OR NOT EXISTS (
                    SELECT 1 FROM bookings b WHERE b.artist_id = a.id
                      AND b.status IN ('confirmed', 'paid_deposit', 'scheduled')
                      AND b.slot && tstzrange($6, $7, '[)')))
              AND ($8::float8 IS NULL OR (e.chord, a.id) > ($8, $9::uuid))),
         page AS (SELECT id, chord FROM nearest UNION SELECT id, chord FROM ties ORDER BY chord, id LIMIT $10)
         SELECT a.id AS "id!: ArtistId", a.user_id, a.org_id, a.stage_name AS "stage_name!", a.bio AS "bio!",
                a.genres AS "genres!", a.city, a.country, a.latitude, a.longitude, a.price_min, a.price_max,
                a.currency AS "currency!", a.social_links AS "social_links!", a.media AS "media!",
                a.category AS "category!", a.category_locked AS "category_locked!", a.custom_policy,
                a.created_at AS "created_at!", a.updated_at AS "updated_at!", 0::real AS "rank!",
                2 * $11::float8 * asin(least(p.chord / 2, 1)) AS distance_km, p.chord
         FROM page p JOIN artist_profiles a ON a.id = p.id
         ORDER BY p.chord, a.id"#,
        &[x, y, z][..],
        chord_of_km(radius_km),
        f.genre,
        f.budget.map(|b| b.0),
        f.budget.map(|b| b.1),
        f.free_on.map(|d| d.0),
        f.free_on.map(|d| d.1),
        after.map(|a| a.0),
        after.map(|a| a.1),
        f.limit,
        EARTH_RADIUS_KM
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(ArtistHit::from).collect())
}

#[derive(Debug, Clone)]
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
    sqlx::query_as!(
        VenueRow,
        r#"SELECT id AS "id: VenueId", user_id, org_id, name, address, city, country, latitude, longitude, capacity,
                  amenities
           FROM venue_profiles
           WHERE ($1::text IS NULL OR lower(city) = lower($1)) AND ($2::int IS NULL OR capacity >= $2)
             AND ($3::int IS NULL OR capacity <= $3) AND ($4::text IS NULL OR (name, id) > ($4, $5::uuid))
           ORDER BY name, id LIMIT $6"#,
        city,
        capacity.0,
        capacity.1,
        after.as_ref().map(|a| a.0.clone()),
        after.as_ref().map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
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

/// Whether the user or organization has an artist profile.
pub async fn has_artist_profile(conn: &mut PgConnection, user: Option<Uuid>, org: Option<Uuid>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM artist_profiles WHERE user_id = $1 OR org_id = $2) AS "exists!""#,
        user,
        org
    )
    .fetch_one(conn)
    .await
}

/// Whether the user or organization has a promoter profile.
pub async fn has_promoter_profile(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    org: Option<Uuid>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM promoter_profiles WHERE user_id = $1 OR org_id = $2) AS "exists!""#,
        user,
        org
    )
    .fetch_one(conn)
    .await
}

/// The artist and promoter profiles of the user or of any of the organizations, in one statement.
pub async fn profiles_of(conn: &mut PgConnection, user: Uuid, orgs: &[Uuid]) -> sqlx::Result<(Vec<Uuid>, Vec<Uuid>)> {
    let rows = sqlx::query!(
        r#"SELECT true AS "artist!", id AS "id!" FROM artist_profiles WHERE user_id = $1 OR org_id = ANY($2)
           UNION ALL SELECT false, id FROM promoter_profiles WHERE user_id = $1 OR org_id = ANY($2)"#,
        user,
        orgs
    )
    .fetch_all(conn)
    .await?;
    let (artists, promoters): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.artist);
    Ok((artists.into_iter().map(|r| r.id).collect(), promoters.into_iter().map(|r| r.id).collect()))
}
