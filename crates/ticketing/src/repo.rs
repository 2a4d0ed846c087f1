//! All of ticketing's SQL. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::dto::{Category, OrderItem, TagCount, Tier, TierAttendance};
use crate::model::{CategoryId, EventId, OrderId, TicketId, TierId};
use crate::state::EventStatus;
use identity::party::Party;

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

// Categories and tags.

pub async fn category_by_slug(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<Category>> {
    sqlx::query_as!(Category, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories WHERE slug = $1"#, slug)
        .fetch_optional(conn)
        .await
}

pub async fn category(conn: &mut PgConnection, id: CategoryId) -> sqlx::Result<Option<Category>> {
    sqlx::query_as!(Category, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories WHERE id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn categories(conn: &mut PgConnection) -> sqlx::Result<Vec<Category>> {
    sqlx::query_as!(Category, r#"SELECT id AS "id: CategoryId", parent_id AS "parent_id: CategoryId", slug, name, icon, color, position FROM event_categories
         ORDER BY parent_id NULLS FIRST, position, name"#)
    .fetch_all(conn)
    .await
}

pub async fn insert_category(conn: &mut PgConnection, c: &Category, now: DateTime<Utc>) -> sqlx::Result<()> {
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

pub async fn popular_tags(conn: &mut PgConnection, prefix: &str, limit: i64) -> sqlx::Result<Vec<TagCount>> {
    sqlx::query_as!(
        TagCount,
        r#"SELECT name, use_count FROM tags WHERE use_count > 0 AND name LIKE $1 || '%'
         ORDER BY use_count DESC, name LIMIT $2"#,
        prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"),
        limit
    )
    .fetch_all(conn)
    .await
}

// Search.

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
pub async fn search(conn: &mut PgConnection, f: &SearchFilter<'_>) -> sqlx::Result<Vec<SearchRow>> {
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

/// Events the user organizes, or that they created for an organization, drafts included.
pub async fn events_of(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<SearchRow>> {
    sqlx::query_as!(SearchRow, r#"SELECT e.id AS "id: EventId", e.organizer_user_id, e.organizer_org_id, e.created_by, e.title, e.starts_at, e.ends_at, e.timezone, e.city, e.venue_name, e.cover_url, c.slug AS "category?", e.status AS "status: EventStatus", 0::real AS "rank!"
         FROM events e LEFT JOIN event_categories c ON c.id = e.category_id
         WHERE (e.organizer_user_id = $1 OR e.created_by = $1) AND e.deleted_at IS NULL
         ORDER BY e.starts_at DESC LIMIT 500"#, user)
    .fetch_all(conn)
    .await
}

// Tiers.

pub async fn tiers(conn: &mut PgConnection, event: EventId, hidden_too: bool) -> sqlx::Result<Vec<Tier>> {
    sqlx::query_as!(Tier, r#"SELECT id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility, transferable, resaleable,  refundable, position FROM ticket_tiers WHERE event_id = $1 AND ($2 OR visibility = 'public')
         ORDER BY position, id"#, event as _, hidden_too)
    .fetch_all(conn)
    .await
}

pub async fn tier(conn: &mut PgConnection, event: EventId, id: TierId) -> sqlx::Result<Option<Tier>> {
    sqlx::query_as!(Tier, r#"SELECT id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility, transferable, resaleable,  refundable, position FROM ticket_tiers WHERE event_id = $1 AND id = $2"#, event as _, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn upsert_tier(conn: &mut PgConnection, event: EventId, t: &Tier, now: DateTime<Utc>) -> sqlx::Result<Tier> {
    sqlx::query_as!(Tier, r#"INSERT INTO ticket_tiers (id, event_id, name, description, price, currency, quantity, sales_start, sales_end,
             min_per_order, max_per_order, max_per_buyer, visibility, transferable, resaleable, refundable, position,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
         ON CONFLICT (id) DO UPDATE SET name = $3, description = $4, price = $5, currency = $6, quantity = $7,
             sales_start = $8, sales_end = $9, min_per_order = $10, max_per_order = $11, max_per_buyer = $12,
             visibility = $13, transferable = $14, resaleable = $15, refundable = $16, position = $17, updated_at = $18
         RETURNING id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility, transferable, resaleable,  refundable, position"#, t.id as _, event as _, &t.name, &t.description, t.price, &t.currency, t.quantity, t.sales_start, t.sales_end, t.min_per_order, t.max_per_order, t.max_per_buyer, &t.visibility, t.transferable, t.resaleable, t.refundable, t.position, now)
    .fetch_one(conn)
    .await
}

/// Holds `quantity` tickets of a tier if that many are left: one atomic update of the tier's row, so
/// sold + held never exceeds the quantity and no ticket is left unsold by a race.
pub async fn hold(conn: &mut PgConnection, tier: TierId, quantity: i32) -> sqlx::Result<bool> {
    let held = sqlx::query!(
        r#"UPDATE ticket_tiers SET held = held + $2 WHERE id = $1 AND sold + held + $2 <= quantity"#,
        tier as _,
        quantity
    )
    .execute(conn)
    .await?;
    Ok(held.rows_affected() == 1)
}

/// Returns held tickets to sale (`sell` false) or turns them into sold ones (`sell` true).
pub async fn settle_hold(conn: &mut PgConnection, tier: TierId, quantity: i32, sell: bool) -> sqlx::Result<()> {
    let sold = if sell { quantity } else { 0 };
    sqlx::query!(
        r#"UPDATE ticket_tiers SET held = held - $2, sold = sold + $3 WHERE id = $1"#,
        tier as _,
        quantity,
        sold
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Tickets of a tier the buyer bought or holds in pending orders.
pub async fn bought_by(conn: &mut PgConnection, buyer: Uuid, tier: TierId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT coalesce(sum(i.quantity), 0)::int8 AS "quantity!" FROM order_items i JOIN orders o ON o.id = i.order_id
         WHERE o.buyer_id = $1 AND i.tier_id = $2 AND o.state IN ('pending', 'paid')"#, buyer, tier as _)
    .fetch_one(conn)
    .await
}

// Orders.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: OrderId,
    pub event_id: EventId,
    pub buyer_id: Uuid,
    pub state: String,
    pub amount: i64,
    pub currency: String,
    pub expires_at: DateTime<Utc>,
    pub payment_id: Option<Uuid>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attribution_link_id: Option<Uuid>,
}

pub async fn insert_order(conn: &mut PgConnection, o: &OrderRow, items: &[OrderItem]) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO orders (id, event_id, buyer_id, state, amount, currency, expires_at, created_at, updated_at, attribution_link_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)"#, o.id as _, o.event_id as _, o.buyer_id, &o.state, o.amount, &o.currency, o.expires_at, o.created_at, o.attribution_link_id)
    .execute(&mut *conn)
    .await?;
    for item in items {
        sqlx::query!(
            r#"INSERT INTO order_items (order_id, tier_id, quantity, unit_price) VALUES ($1, $2, $3, $4)"#,
            o.id as _,
            item.tier_id as _,
            item.quantity,
            item.unit_price
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn order(conn: &mut PgConnection, id: OrderId, lock: bool) -> sqlx::Result<Option<OrderRow>> {
    if lock {
        sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state, amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE id = $1 FOR UPDATE"#, id as _)
            .fetch_optional(conn)
            .await
    } else {
        sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state, amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE id = $1"#, id as _).fetch_optional(conn).await
    }
}

pub async fn order_items(conn: &mut PgConnection, id: OrderId) -> sqlx::Result<Vec<OrderItem>> {
    sqlx::query_as!(
        OrderItem,
        r#"SELECT i.tier_id AS "tier_id: TierId", t.name AS tier_name, i.quantity, i.unit_price FROM order_items i
         JOIN ticket_tiers t ON t.id = i.tier_id WHERE i.order_id = $1 ORDER BY i.tier_id"#,
        id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn set_order_state(
    conn: &mut PgConnection,
    id: OrderId,
    state: &str,
    payment: Option<Uuid>,
    entry: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    tracing::info!(object = "order", id = %id.0, to = state, "state changed");
    sqlx::query!(r#"UPDATE orders SET state = $2, payment_id = coalesce($3, payment_id), payment_entry = coalesce($4, payment_entry),
             paid_at = CASE WHEN $2 = 'paid' THEN $5 ELSE paid_at END, updated_at = $5
         WHERE id = $1"#, id as _, state, payment, entry, now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn orders_of(conn: &mut PgConnection, buyer: Uuid) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state, amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE buyer_id = $1 ORDER BY id DESC LIMIT 200"#, buyer)
        .fetch_all(conn)
        .await
}

// Tickets.

pub async fn insert_ticket(
    conn: &mut PgConnection,
    id: TicketId,
    order: &OrderRow,
    tier: TierId,
    price: i64,
    code: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO tickets (id, event_id, tier_id, order_id, holder_id, price, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"#,
        id as _,
        order.event_id as _,
        tier as _,
        order.id as _,
        order.buyer_id,
        price,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(r#"INSERT INTO ticket_codes (code, ticket_id, issued_at) VALUES ($1, $2, $3)"#, code, id as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: TicketId,
    pub event_id: EventId,
    pub tier_id: TierId,
    pub tier_name: String,
    pub holder_id: Uuid,
    pub state: String,
    pub code: String,
    pub price: i64,
    pub currency: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub transferable: bool,
    pub resaleable: bool,
}

pub async fn tickets_of_order(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state, c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.order_id = $1 ORDER BY k.id"#, order as _)
        .fetch_all(conn)
        .await
}

pub async fn tickets_of_holder(conn: &mut PgConnection, holder: Uuid) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state, c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.holder_id = $1 ORDER BY k.id DESC LIMIT 500"#, holder)
        .fetch_all(conn)
        .await
}

pub async fn ticket(conn: &mut PgConnection, id: TicketId) -> sqlx::Result<Option<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state, c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

/// What a code is: its ticket, event, whether it was revoked, and the ticket's state and check-in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeLookup {
    pub ticket_id: TicketId,
    pub holder_id: Uuid,
    pub event_id: EventId,
    pub tier_name: String,
    pub revoked: bool,
    pub state: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

pub async fn lookup_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<CodeLookup>> {
    sqlx::query_as!(CodeLookup, r#"SELECT k.id AS "ticket_id: TicketId", k.holder_id, k.event_id AS "event_id: EventId", t.name AS tier_name, c.revoked_at IS NOT NULL AS "revoked!", k.state, k.checked_in_at
         FROM ticket_codes c JOIN tickets k ON k.id = c.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
         WHERE c.code = $1"#, code)
    .fetch_optional(conn)
    .await
}

/// Records a ticket's check-in at `at`; the caller holds the ticket's lock and has decided.
pub async fn check_in(conn: &mut PgConnection, ticket: TicketId, at: DateTime<Utc>, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE tickets SET checked_in_at = $2, checked_in_by = $3, updated_at = $2 WHERE id = $1"#,
        ticket as _,
        at,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks tickets for a change, in the order given (callers sort them, so that lockers never wait in a
/// cycle).
pub async fn lock_tickets(conn: &mut PgConnection, tickets: &[TicketId]) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.0).collect();
    sqlx::query!(r#"SELECT 1 AS "locked!" FROM tickets WHERE id = ANY($1) ORDER BY id FOR UPDATE"#, &ids)
        .fetch_all(conn)
        .await?;
    Ok(())
}

pub async fn attendance(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<TierAttendance>> {
    sqlx::query_as!(TierAttendance, r#"SELECT t.id AS "tier_id: TierId", t.name AS tier_name, count(k.id) FILTER (WHERE k.state = 'valid')::int8 AS "sold!", count(k.id) FILTER (WHERE k.checked_in_at IS NOT NULL)::int8 AS "checked_in!"
         FROM ticket_tiers t LEFT JOIN tickets k ON k.tier_id = t.id
         WHERE t.event_id = $1 GROUP BY t.id, t.name, t.position ORDER BY t.position, t.id"#, event as _)
    .fetch_all(conn)
    .await
}

pub async fn is_staff(conn: &mut PgConnection, event: EventId, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM event_staff WHERE event_id = $1 AND user_id = $2) AS "exists!""#,
        event as _,
        user
    )
    .fetch_one(conn)
    .await
}

pub async fn add_staff(conn: &mut PgConnection, event: EventId, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO event_staff (event_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"#,
        event as _,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

// After the sale.

/// A ticket's row, locked, with what the rules after the sale need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedTicket {
    pub id: TicketId,
    pub event_id: EventId,
    pub tier_id: TierId,
    pub holder_id: Uuid,
    pub price: i64,
    pub refunded_amount: i64,
    pub state: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub currency: String,
    pub tier_name: String,
    pub transferable: bool,
    pub resaleable: bool,
    pub refundable: bool,
}

pub async fn lock_ticket(conn: &mut PgConnection, id: TicketId) -> sqlx::Result<Option<LockedTicket>> {
    sqlx::query_as!(LockedTicket, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", k.holder_id, k.price, k.refunded_amount, k.state, k.checked_in_at, t.currency, t.name AS tier_name, t.transferable, t.resaleable, t.refundable
         FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id WHERE k.id = $1 FOR UPDATE OF k"#, id as _)
    .fetch_optional(conn)
    .await
}

/// Gives a ticket to `holder` with a fresh code; the old code is revoked for `why`.
pub async fn reissue(
    conn: &mut PgConnection,
    ticket: TicketId,
    holder: Uuid,
    code: &str,
    why: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE ticket_codes SET revoked_at = $2, revoked_why = $3 WHERE ticket_id = $1 AND revoked_at IS NULL"#,
        ticket as _,
        now,
        why
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"INSERT INTO ticket_codes (code, ticket_id, issued_at) VALUES ($1, $2, $3)"#,
        code,
        ticket as _,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(r#"UPDATE tickets SET holder_id = $2, updated_at = $3 WHERE id = $1"#, ticket as _, holder, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the ticket has a pending transfer or an active listing (it can have one at a time).
pub async fn ticket_busy(conn: &mut PgConnection, ticket: TicketId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM ticket_transfers WHERE ticket_id = $1 AND state = 'pending')
             OR EXISTS (SELECT 1 FROM resale_listings WHERE ticket_id = $1 AND state = 'active') AS "busy!""#,
        ticket as _
    )
    .fetch_one(conn)
    .await
}
