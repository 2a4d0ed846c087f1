//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use identity::party::Party;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{CategoryId, EventId};
use crate::state::EventStatus;

#[derive(Debug, Clone)]
pub struct TagCountRow {
    pub name: String,
    pub use_count: i32,
}

#[derive(Debug, Clone)]
pub struct CategoryRow {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub slug: String,
    pub name: String,
    pub icon: String,
    pub color: String,
    pub position: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: EventId,
    pub organizer_user_id: Option<Uuid>,
    pub organizer_org_id: Option<Uuid>,
    pub created_by: Uuid,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub venue_name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub cover_url: Option<String>,
    pub category_id: Option<CategoryId>,
    pub status: EventStatus,
    pub resale_cap_bps: i32,
    pub signing_key_sealed: String,
    pub signing_public_key: Vec<u8>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl EventRow {
    pub fn organizer(&self) -> Party {
        Party::from_columns(self.organizer_user_id, self.organizer_org_id).unwrap_or(Party::User(self.created_by))
    }
}

/// The event, locked for update when `lock`; deleted events are not found.
pub async fn event(conn: &mut PgConnection, id: EventId, lock: bool) -> sqlx::Result<Option<EventRow>> {
    if lock {
        sqlx::query_as!(
            EventRow,
            r#"SELECT id AS "id: EventId", organizer_user_id, organizer_org_id, created_by, title, description, starts_at, ends_at,
                  timezone, capacity, venue_name, address, city, country, cover_url, category_id AS "category_id: CategoryId",
                  status AS "status: EventStatus", resale_cap_bps, signing_key_sealed, signing_public_key, published_at,
                  created_at, updated_at, deleted_at
               FROM events WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            EventRow,
            r#"SELECT id AS "id: EventId", organizer_user_id, organizer_org_id, created_by, title, description, starts_at, ends_at,
                  timezone, capacity, venue_name, address, city, country, cover_url, category_id AS "category_id: CategoryId",
                  status AS "status: EventStatus", resale_cap_bps, signing_key_sealed, signing_public_key, published_at,
                  created_at, updated_at, deleted_at
               FROM events WHERE id = $1 AND deleted_at IS NULL"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    }
}

pub async fn insert_event(conn: &mut PgConnection, row: &EventRow) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO events (id, organizer_user_id, organizer_org_id, created_by, title, description, starts_at, ends_at,
             timezone, capacity, venue_name, address, city, country, cover_url, category_id, status, resale_cap_bps,
             signing_key_sealed, signing_public_key, published_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"#, row.id as _, row.organizer_user_id, row.organizer_org_id, row.created_by, &row.title, &row.description, row.starts_at, row.ends_at, &row.timezone, row.capacity, &row.venue_name as _, &row.address as _, &row.city as _, &row.country as _, &row.cover_url as _, row.category_id as _, row.status as _, row.resale_cap_bps, &row.signing_key_sealed, &row.signing_public_key, row.published_at, row.created_at, row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the editable fields of `row`.
/// Writes an event's fields; a change of its status is logged.
pub async fn update_event(conn: &mut PgConnection, row: &EventRow) -> sqlx::Result<()> {
    let before: EventStatus = sqlx::query_scalar!(
        r#"UPDATE events SET title = $2, description = $3, starts_at = $4, ends_at = $5, timezone = $6, capacity = $7,
             venue_name = $8, address = $9, city = $10, country = $11, cover_url = $12, category_id = $13,
             resale_cap_bps = $14, status = $15, published_at = $16, updated_at = $17
         FROM (SELECT status AS before FROM events WHERE id = $1) old
         WHERE id = $1 RETURNING old.before AS "before: EventStatus""#,
        row.id as _,
        &row.title,
        &row.description,
        row.starts_at,
        row.ends_at,
        &row.timezone,
        row.capacity,
        &row.venue_name as _,
        &row.address as _,
        &row.city as _,
        &row.country as _,
        &row.cover_url as _,
        row.category_id as _,
        row.resale_cap_bps,
        row.status as _,
        row.published_at,
        row.updated_at
    )
    .fetch_one(conn)
    .await?;
    platform::lifecycle::log_change("event", row.id, before, row.status);
    Ok(())
}

pub async fn soft_delete_event(conn: &mut PgConnection, id: EventId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE events SET deleted_at = $2, updated_at = $2 WHERE id = $1"#, id as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn timezone_exists(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS "exists!""#, name)
        .fetch_one(conn)
        .await
}

pub async fn category_by_slug(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<CategoryRow>> {
    sqlx::query_as!(CategoryRow, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories WHERE slug = $1"#, slug)
        .fetch_optional(conn)
        .await
}

pub async fn category(conn: &mut PgConnection, id: CategoryId) -> sqlx::Result<Option<CategoryRow>> {
    sqlx::query_as!(CategoryRow, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories WHERE id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn categories(conn: &mut PgConnection) -> sqlx::Result<Vec<CategoryRow>> {
    sqlx::query_as!(CategoryRow, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories
         ORDER BY parent_id NULLS FIRST, position, name"#)
    .fetch_all(conn)
    .await
}

pub async fn insert_category(conn: &mut PgConnection, c: &CategoryRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO event_categories (id, parent_id, slug, name, icon, color, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        c.id as _,
        c.parent_id as _,
        &c.slug,
        &c.name,
        &c.icon,
        &c.color,
        c.position,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn tags_of(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT t.name FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id = $1 ORDER BY t.name"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

/// Replaces an event's tags, keeping every tag's use count equal to the events using it.
pub async fn set_tags(conn: &mut PgConnection, event: EventId, tags: &[String]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"WITH gone AS (DELETE FROM event_tags WHERE event_id = $1 AND tag_id NOT IN
                           (SELECT id FROM tags WHERE name = ANY($2)) RETURNING tag_id)
         UPDATE tags SET use_count = use_count - 1 WHERE id IN (SELECT tag_id FROM gone)"#,
        event as _,
        tags
    )
    .execute(&mut *conn)
    .await?;
    for name in tags {
        let tag: Uuid = sqlx::query_scalar!(r#"INSERT INTO tags (id, name) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"#, platform::ids::new_id(), name)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query!(r#"WITH added AS (INSERT INTO event_tags (event_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING tag_id)
             UPDATE tags SET use_count = use_count + 1 WHERE id IN (SELECT tag_id FROM added)"#, event as _, tag)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn popular_tags(conn: &mut PgConnection, prefix: &str, limit: i64) -> sqlx::Result<Vec<TagCountRow>> {
    sqlx::query_as!(
        TagCountRow,
        r#"SELECT name, use_count FROM tags WHERE use_count > 0 AND name LIKE $1 || '%'
         ORDER BY use_count DESC, name LIMIT $2"#,
        prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"),
        limit
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct SearchRow {
    pub id: EventId,
    pub organizer_user_id: Option<Uuid>,
    pub organizer_org_id: Option<Uuid>,
    pub created_by: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub city: Option<String>,
    pub venue_name: Option<String>,
    pub cover_url: Option<String>,
    pub category: Option<String>,
    pub status: EventStatus,
    pub rank: f32,
}

/// What a search filters on; `after` is the cursor (rank, start, id) of the last row seen.
pub struct SearchFilter<'a> {
    pub query: Option<&'a str>,
    pub category: Option<CategoryId>,
    pub tag: Option<&'a str>,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    pub city: Option<&'a str>,
    pub after: Option<(f32, DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Public events, ranked by relevance to the query (when there is one), then by start.
/// Public events matching the filters. Every filter is optional (`$n IS NULL OR ...`): a generic plan,
/// which PostgreSQL switches a prepared statement to after a few runs, cannot use an index for any of
/// them and reads every future event (38 ms at 200,000 events, against 1.8 ms planned for the values
/// given), so this statement is planned for its values each time.
pub async fn search(conn: &mut PgConnection, f: &SearchFilter<'_>) -> sqlx::Result<Vec<SearchRow>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query!("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut *tx).await?;
    let rows = match f.city {
        Some(city) => search_in_city(&mut tx, f, city).await?,
        None => search_anywhere(&mut tx, f).await?,
    };
    tx.commit().await?;
    Ok(rows)
}

async fn search_anywhere(conn: &mut PgConnection, f: &SearchFilter<'_>) -> sqlx::Result<Vec<SearchRow>> {
    sqlx::query_as!(SearchRow, r#"WITH q AS (SELECT CASE WHEN $1::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', $1) END AS query),
         hits AS (
            SELECT e.*, c.slug AS category,
                   CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(e.search, q.query) END AS rank
            FROM events e CROSS JOIN q
            LEFT JOIN event_categories c ON c.id = e.category_id
            WHERE e.status IN ('published', 'postponed') AND e.deleted_at IS NULL
              AND (q.query IS NULL OR e.search @@ q.query)
              AND e.starts_at >= $4 AND ($5::timestamptz IS NULL OR e.starts_at < $5)
              AND ($2::uuid IS NULL OR e.category_id IN (
                    WITH RECURSIVE sub AS (SELECT id FROM event_categories WHERE id = $2
                                           UNION ALL SELECT c2.id FROM event_categories c2 JOIN sub ON c2.parent_id = sub.id)
                    SELECT id FROM sub))
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM event_tags et JOIN tags t ON t.id = et.tag_id
                                               WHERE et.event_id = e.id AND t.name = $3))
              AND ($6::text IS NULL OR lower(e.city) = lower($6)))
         SELECT id AS "id!: EventId", organizer_user_id AS "organizer_user_id?", organizer_org_id AS "organizer_org_id?",
                created_by AS "created_by!", title AS "title!", starts_at AS "starts_at!", ends_at AS "ends_at!",
                timezone AS "timezone!", city AS "city?", venue_name AS "venue_name?", cover_url AS "cover_url?",
                category AS "category?", status AS "status!: EventStatus", rank AS "rank!"
         FROM hits
         WHERE $7::real IS NULL OR rank < $7 OR (rank = $7 AND (starts_at, id) > ($8::timestamptz, $9::uuid))
         ORDER BY rank DESC, starts_at, id
         LIMIT $10"#, f.query, f.category as _, f.tag, f.from, f.to, f.city, f.after.map(|a| a.0), f.after.map(|a| a.1), f.after.map(|a| a.2), f.limit)
    .fetch_all(conn)
    .await
}

/// A search in one city, without reading the events it passes over: the city's public events by date
/// carry their search vector and category (`events_city_search_idx`, migration 0047), so matching and
/// ranking are an index-only scan, and only the page's events are read. Vectors too large for an index
/// entry (over 1,500 bytes as text: long descriptions) are in `events_city_large_idx` and read from the
/// table, in the second branch.
async fn search_in_city(conn: &mut PgConnection, f: &SearchFilter<'_>, city: &str) -> sqlx::Result<Vec<SearchRow>> {
    sqlx::query_as!(SearchRow, r#"WITH q AS (SELECT CASE WHEN $1::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', $1) END AS query),
         ids AS (
            SELECT e.id, e.starts_at, CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(e.search, q.query) END AS rank
            FROM events e CROSS JOIN q
            WHERE e.status IN ('published', 'postponed') AND e.deleted_at IS NULL AND octet_length(e.search::text) <= 1500
              AND lower(e.city) = lower($6) AND e.starts_at >= $4 AND ($5::timestamptz IS NULL OR e.starts_at < $5)
              AND (q.query IS NULL OR e.search @@ q.query)
              AND ($2::uuid IS NULL OR e.category_id IN (
                    WITH RECURSIVE sub AS (SELECT id FROM event_categories WHERE id = $2
                                           UNION ALL SELECT c2.id FROM event_categories c2 JOIN sub ON c2.parent_id = sub.id)
                    SELECT id FROM sub))
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM event_tags et JOIN tags t ON t.id = et.tag_id
                                               WHERE et.event_id = e.id AND t.name = $3))
            UNION ALL
            SELECT e.id, e.starts_at, CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(e.search, q.query) END AS rank
            FROM events e CROSS JOIN q
            WHERE e.status IN ('published', 'postponed') AND e.deleted_at IS NULL AND octet_length(e.search::text) > 1500
              AND lower(e.city) = lower($6) AND e.starts_at >= $4 AND ($5::timestamptz IS NULL OR e.starts_at < $5)
              AND (q.query IS NULL OR e.search @@ q.query)
              AND ($2::uuid IS NULL OR e.category_id IN (
                    WITH RECURSIVE sub AS (SELECT id FROM event_categories WHERE id = $2
                                           UNION ALL SELECT c2.id FROM event_categories c2 JOIN sub ON c2.parent_id = sub.id)
                    SELECT id FROM sub))
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM event_tags et JOIN tags t ON t.id = et.tag_id
                                               WHERE et.event_id = e.id AND t.name = $3))),
         page AS (
            SELECT id, starts_at, rank FROM ids
            WHERE $7::real IS NULL OR rank < $7 OR (rank = $7 AND (starts_at, id) > ($8::timestamptz, $9::uuid))
            ORDER BY rank DESC, starts_at, id
            LIMIT $10)
         SELECT e.id AS "id!: EventId", e.organizer_user_id AS "organizer_user_id?", e.organizer_org_id AS "organizer_org_id?",
                e.created_by AS "created_by!", e.title AS "title!", e.starts_at AS "starts_at!", e.ends_at AS "ends_at!",
                e.timezone AS "timezone!", e.city AS "city?", e.venue_name AS "venue_name?", e.cover_url AS "cover_url?",
                c.slug AS "category?", e.status AS "status!: EventStatus", page.rank AS "rank!"
         FROM page JOIN events e ON e.id = page.id
         LEFT JOIN event_categories c ON c.id = e.category_id
         ORDER BY page.rank DESC, page.starts_at, page.id"#, f.query, f.category as _, f.tag, f.from, f.to, city, f.after.map(|a| a.0), f.after.map(|a| a.1), f.after.map(|a| a.2), f.limit)
    .fetch_all(conn)
    .await
}

/// Events the user organizes, or that they created for an organization, drafts included.
pub async fn events_of(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<SearchRow>> {
    sqlx::query_as!(SearchRow, r#"SELECT e.id AS "id: EventId", e.organizer_user_id, e.organizer_org_id, e.created_by, e.title, e.starts_at, e.ends_at, e.timezone, e.city, e.venue_name, e.cover_url, c.slug AS "category?", e.status AS "status: EventStatus", 0::real AS "rank!"
         FROM events e LEFT JOIN event_categories c ON c.id = e.category_id
         WHERE (e.organizer_user_id = $1 OR e.created_by = $1) AND e.deleted_at IS NULL
         ORDER BY e.starts_at DESC LIMIT 500"#, user)
    .fetch_all(conn)
    .await
}
