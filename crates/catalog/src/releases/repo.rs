//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{PriceTier, ReleaseId, ReleaseType, TerritoryMode};
use crate::state::ReleaseStatus;

#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub id: ReleaseId,
    pub org_id: Uuid,
    pub status: ReleaseStatus,
    pub release_type: ReleaseType,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    pub label_name: String,
    pub genre: Option<String>,
    pub subgenre: Option<String>,
    pub language: Option<String>,
    pub explicit: bool,
    pub p_line_year: Option<i32>,
    pub p_line: Option<String>,
    pub c_line_year: Option<i32>,
    pub c_line: Option<String>,
    pub original_release_date: Option<NaiveDate>,
    pub release_date: Option<NaiveDate>,
    pub territory_mode: TerritoryMode,
    pub territories: Vec<String>,
    pub price_tier: Option<PriceTier>,
    pub upc: Option<String>,
    pub catalog_number: Option<String>,
    pub review_notes: serde_json::Value,
    pub created_by: Uuid,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, r: &ReleaseRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO releases (id, org_id, status, release_type, title, version, display_artist, label_name, genre,
                               subgenre, language, explicit, p_line_year, p_line, c_line_year, c_line,
                               original_release_date, release_date, territory_mode, territories, price_tier, upc,
                               catalog_number, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                 $23, $24, $25, $25)",
        r.id as _,
        r.org_id,
        r.status as _,
        r.release_type as _,
        r.title,
        r.version,
        r.display_artist,
        r.label_name,
        r.genre,
        r.subgenre,
        r.language,
        r.explicit,
        r.p_line_year,
        r.p_line,
        r.c_line_year,
        r.c_line,
        r.original_release_date,
        r.release_date,
        r.territory_mode as _,
        &r.territories,
        r.price_tier as _,
        r.upc,
        r.catalog_number,
        r.created_by,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the label's fields (the lifecycle's are written by [`set_status`]).
pub async fn update(conn: &mut PgConnection, r: &ReleaseRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE releases SET release_type = $2, title = $3, version = $4, display_artist = $5, label_name = $6,
                genre = $7, subgenre = $8, language = $9, explicit = $10, p_line_year = $11, p_line = $12,
                c_line_year = $13, c_line = $14, original_release_date = $15, release_date = $16,
                territory_mode = $17, territories = $18, price_tier = $19, upc = $20, catalog_number = $21,
                updated_at = $22
         WHERE id = $1",
        r.id as _,
        r.release_type as _,
        r.title,
        r.version,
        r.display_artist,
        r.label_name,
        r.genre,
        r.subgenre,
        r.language,
        r.explicit,
        r.p_line_year,
        r.p_line,
        r.c_line_year,
        r.c_line,
        r.original_release_date,
        r.release_date,
        r.territory_mode as _,
        &r.territories,
        r.price_tier as _,
        r.upc,
        r.catalog_number,
        r.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the release to `status` with the review's fields (`notes` replace the earlier ones).
pub async fn set_status(
    conn: &mut PgConnection,
    id: ReleaseId,
    status: ReleaseStatus,
    submitted_at: Option<DateTime<Utc>>,
    reviewed: Option<(DateTime<Utc>, Uuid)>,
    notes: &serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (reviewed_at, reviewed_by) = reviewed.unzip();
    sqlx::query!(
        "UPDATE releases SET status = $2, submitted_at = COALESCE($3, submitted_at),
                reviewed_at = COALESCE($4, reviewed_at), reviewed_by = COALESCE($5, reviewed_by),
                review_notes = $6, updated_at = $7
         WHERE id = $1",
        id as _,
        status as _,
        submitted_at,
        reviewed_at,
        reviewed_by,
        notes,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn release(conn: &mut PgConnection, id: ReleaseId) -> sqlx::Result<Option<ReleaseRow>> {
    sqlx::query_as!(
        ReleaseRow,
        r#"SELECT id AS "id: ReleaseId", org_id, status AS "status: ReleaseStatus",
                  release_type AS "release_type: ReleaseType", title, version, display_artist, label_name, genre,
                  subgenre, language, explicit, p_line_year, p_line, c_line_year, c_line, original_release_date,
                  release_date, territory_mode AS "territory_mode: TerritoryMode", territories,
                  price_tier AS "price_tier: PriceTier", upc, catalog_number, review_notes, created_by, submitted_at,
                  reviewed_at, created_at, updated_at
           FROM releases WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The release, locked until commit: edits, submission and review of one release run one at a time.
pub async fn lock(conn: &mut PgConnection, id: ReleaseId) -> sqlx::Result<Option<ReleaseRow>> {
    sqlx::query_as!(
        ReleaseRow,
        r#"SELECT id AS "id: ReleaseId", org_id, status AS "status: ReleaseStatus",
                  release_type AS "release_type: ReleaseType", title, version, display_artist, label_name, genre,
                  subgenre, language, explicit, p_line_year, p_line, c_line_year, c_line, original_release_date,
                  release_date, territory_mode AS "territory_mode: TerritoryMode", territories,
                  price_tier AS "price_tier: PriceTier", upc, catalog_number, review_notes, created_by, submitted_at,
                  reviewed_at, created_at, updated_at
           FROM releases WHERE id = $1 FOR UPDATE"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// A label's releases, newest first, optionally of one status.
pub async fn releases_of(
    conn: &mut PgConnection,
    org: Uuid,
    status: Option<ReleaseStatus>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ReleaseRow>> {
    let (before_at, before_id) = before.unzip();
    sqlx::query_as!(
        ReleaseRow,
        r#"SELECT id AS "id: ReleaseId", org_id, status AS "status: ReleaseStatus",
                  release_type AS "release_type: ReleaseType", title, version, display_artist, label_name, genre,
                  subgenre, language, explicit, p_line_year, p_line, c_line_year, c_line, original_release_date,
                  release_date, territory_mode AS "territory_mode: TerritoryMode", territories,
                  price_tier AS "price_tier: PriceTier", upc, catalog_number, review_notes, created_by, submitted_at,
                  reviewed_at, created_at, updated_at
           FROM releases WHERE org_id = $1 AND ($2::text IS NULL OR status = $2)
                AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
              ORDER BY created_at DESC, id DESC LIMIT $5"#,
        org,
        status.map(ReleaseStatus::as_str),
        before_at,
        before_id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Releases waiting for review, the oldest submission first.
pub async fn review_queue(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ReleaseRow>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        ReleaseRow,
        r#"SELECT id AS "id: ReleaseId", org_id, status AS "status: ReleaseStatus",
                  release_type AS "release_type: ReleaseType", title, version, display_artist, label_name, genre,
                  subgenre, language, explicit, p_line_year, p_line, c_line_year, c_line, original_release_date,
                  release_date, territory_mode AS "territory_mode: TerritoryMode", territories,
                  price_tier AS "price_tier: PriceTier", upc, catalog_number, review_notes, created_by, submitted_at,
                  reviewed_at, created_at, updated_at
           FROM releases WHERE status = 'submitted' AND ($1::timestamptz IS NULL OR (submitted_at, id) > ($1, $2))
              ORDER BY submitted_at, id LIMIT $3"#,
        after_at,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn territory_dates(conn: &mut PgConnection, id: ReleaseId) -> sqlx::Result<Vec<(String, NaiveDate)>> {
    let rows = sqlx::query!(
        "SELECT territory, release_date FROM release_territory_dates WHERE release_id = $1 ORDER BY territory",
        id as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.territory, r.release_date)).collect())
}

pub async fn replace_territory_dates(
    conn: &mut PgConnection,
    id: ReleaseId,
    territories: &[String],
    dates: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM release_territory_dates WHERE release_id = $1", id as _).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO release_territory_dates (release_id, territory, release_date)
         SELECT $1, t, d FROM unnest($2::text[], $3::date[]) AS x (t, d)",
        id as _,
        territories,
        dates
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the release changed (its track list or credits).
pub async fn touch(conn: &mut PgConnection, id: ReleaseId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE releases SET updated_at = $2 WHERE id = $1", id as _, now).execute(conn).await?;
    Ok(())
}

/// A release's cover art.
#[derive(Debug, Clone)]
pub struct ArtworkRow {
    pub release_id: ReleaseId,
    pub sha256: String,
    pub md5: String,
    pub size: i64,
    pub format: String,
    pub width: i32,
    pub height: i32,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

/// Sets the release's cover art (replacing any earlier image).
pub async fn put_artwork(conn: &mut PgConnection, a: &ArtworkRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO release_artwork (release_id, sha256, format, width, height, uploaded_by, uploaded_at, size, md5)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (release_id) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, md5 = EXCLUDED.md5,
             format = EXCLUDED.format,
             width = EXCLUDED.width, height = EXCLUDED.height, uploaded_by = EXCLUDED.uploaded_by,
             uploaded_at = EXCLUDED.uploaded_at",
        a.release_id as _,
        a.sha256,
        a.format,
        a.width,
        a.height,
        a.uploaded_by,
        a.uploaded_at,
        a.size,
        a.md5
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn artwork(conn: &mut PgConnection, id: ReleaseId) -> sqlx::Result<Option<ArtworkRow>> {
    sqlx::query_as!(
        ArtworkRow,
        r#"SELECT release_id AS "release_id: ReleaseId", sha256, md5, size, format, width, height, uploaded_by, uploaded_at
           FROM release_artwork WHERE release_id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// A release in an artist's public discography.
#[derive(Debug, Clone)]
pub struct PublicRow {
    pub id: ReleaseId,
    pub status: ReleaseStatus,
    pub release_type: ReleaseType,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    pub label_name: String,
    pub release_date: Option<NaiveDate>,
}

/// The releases that credit the artist profile's label artist as a main or featured artist, newest
/// release date first: those out in stores or scheduled for them, or `every` one (for the artist).
pub async fn by_artist(
    conn: &mut PgConnection,
    artist_profile: Uuid,
    every: bool,
    limit: i64,
) -> sqlx::Result<Vec<PublicRow>> {
    sqlx::query_as!(
        PublicRow,
        r#"SELECT r.id AS "id: ReleaseId", r.status AS "status: ReleaseStatus",
                  r.release_type AS "release_type: ReleaseType", r.title, r.version, r.display_artist, r.label_name,
                  r.release_date
           FROM releases r
           WHERE ($2 OR r.status IN ('scheduled', 'delivered', 'live'))
             AND EXISTS (SELECT 1 FROM catalog_credits c JOIN catalog_parties p ON p.id = c.party_id
                         WHERE c.release_id = r.id AND c.role IN ('main_artist', 'featured_artist')
                           AND p.artist_profile_id = $1)
           ORDER BY r.release_date DESC NULLS LAST, r.id
           LIMIT $3"#,
        artist_profile,
        every,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Releases by UPC/EAN as 13 digits (a UPC-A with a leading zero): (code, release, label).
pub async fn by_icpns(conn: &mut PgConnection, codes: &[String]) -> sqlx::Result<Vec<(String, ReleaseId, Uuid)>> {
    let rows = sqlx::query!(
        r#"SELECT lpad(upc, 13, '0') AS "code!", id AS "id: ReleaseId", org_id FROM releases
           WHERE lpad(upc, 13, '0') = ANY($1)"#,
        codes
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.id, r.org_id)).collect())
}
