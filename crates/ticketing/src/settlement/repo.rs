//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{EventId, OrderId};
use crate::state::{AttributionState, PartnerKind, RecipientType, ShareType};

/// One party's split of an event's revenue, as stored.
pub struct SplitRow {
    pub role: String,
    pub recipient_type: RecipientType,
    pub recipient_id: Option<Uuid>,
    pub bps: i32,
}

pub struct LinkRow {
    pub id: Uuid,
    pub event_id: EventId,
    pub partner_id: Uuid,
    pub kind: PartnerKind,
    pub code: String,
    pub share_type: ShareType,
    pub share_value: i64,
    pub created_at: DateTime<Utc>,
}

pub struct AttributionRow {
    pub order_id: OrderId,
    pub link_id: Uuid,
    pub code: String,
    pub partner_id: Uuid,
    pub state: AttributionState,
    pub order_amount: i64,
    pub amount: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// An approved attribution awaiting settlement, with its order's net after refunds.
pub struct ApprovedRow {
    pub order_id: OrderId,
    pub partner_id: Uuid,
    pub share_type: ShareType,
    pub share_value: i64,
    pub net: i64,
}

pub async fn splits_of(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<SplitRow>> {
    sqlx::query_as!(
        SplitRow,
        r#"SELECT role, recipient_type AS "recipient_type: RecipientType", recipient_id, bps
           FROM event_splits WHERE event_id = $1 ORDER BY position"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

pub async fn replace_splits(conn: &mut PgConnection, event: EventId, splits: &[SplitRow]) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM event_splits WHERE event_id = $1"#, event as _).execute(&mut *conn).await?;
    for (position, split) in splits.iter().enumerate() {
        sqlx::query!(
            r#"INSERT INTO event_splits (event_id, position, role, recipient_type, recipient_id, bps)
             VALUES ($1, $2, $3, $4, $5, $6)"#,
            event as _,
            i32::try_from(position).unwrap_or(i32::MAX),
            &split.role,
            split.recipient_type as _,
            split.recipient_id,
            split.bps
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Freezes the event's splits; false when they were frozen already.
pub async fn freeze_splits(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE events SET splits_frozen_at = $2 WHERE id = $1 AND splits_frozen_at IS NULL"#,
        event as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn splits_frozen_at(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(r#"SELECT splits_frozen_at FROM events WHERE id = $1"#, event as _).fetch_one(conn).await
}

pub async fn settled_at(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(r#"SELECT settled_at FROM events WHERE id = $1"#, event as _).fetch_one(conn).await
}

pub async fn mark_settled(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE events SET settled_at = $2 WHERE id = $1"#, event as _, now).execute(conn).await?;
    Ok(())
}

/// The event's approved attributions, locked, in order.
pub async fn approved_attributions(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<ApprovedRow>> {
    sqlx::query_as!(
        ApprovedRow,
        r#"SELECT a.order_id AS "order_id: OrderId", l.partner_id, l.share_type AS "share_type: ShareType",
                  l.share_value,
                  o.amount - coalesce((SELECT sum(refunded_amount) FROM tickets k WHERE k.order_id = o.id), 0)::int8
                    AS "net!"
           FROM attributions a JOIN attribution_links l ON l.id = a.link_id JOIN orders o ON o.id = a.order_id
           WHERE l.event_id = $1 AND a.state = 'approved' ORDER BY a.order_id FOR UPDATE OF a"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

pub async fn mark_paid(conn: &mut PgConnection, order: OrderId, amount: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE attributions SET state = 'paid', amount = $2, decided_at = coalesce(decided_at, $3)
           WHERE order_id = $1"#,
        order as _,
        amount,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a link; `None` when its code is taken.
pub async fn insert_link(conn: &mut PgConnection, link: &LinkRow) -> sqlx::Result<Option<LinkRow>> {
    sqlx::query_as!(
        LinkRow,
        r#"INSERT INTO attribution_links (id, event_id, partner_id, kind, code, share_type, share_value, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING
           RETURNING id, event_id AS "event_id: EventId", partner_id, kind AS "kind: PartnerKind", code,
                     share_type AS "share_type: ShareType", share_value, created_at"#,
        link.id,
        link.event_id as _,
        link.partner_id,
        link.kind as _,
        link.code,
        link.share_type as _,
        link.share_value,
        link.created_at
    )
    .fetch_optional(conn)
    .await
}

pub async fn links_of(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<LinkRow>> {
    sqlx::query_as!(
        LinkRow,
        r#"SELECT id, event_id AS "event_id: EventId", partner_id, kind AS "kind: PartnerKind", code,
                  share_type AS "share_type: ShareType", share_value, created_at
           FROM attribution_links WHERE event_id = $1 ORDER BY id"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

/// The link a buyer's code names, for this event.
pub async fn link_for(conn: &mut PgConnection, event: EventId, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(r#"SELECT id FROM attribution_links WHERE event_id = $1 AND code = $2"#, event as _, code)
        .fetch_optional(conn)
        .await
}

/// Records a paid order's attribution, if it came through a link.
pub async fn attribute(conn: &mut PgConnection, order: OrderId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO attributions (order_id, link_id, created_at)
         SELECT id, attribution_link_id, $2 FROM orders WHERE id = $1 AND attribution_link_id IS NOT NULL
         ON CONFLICT DO NOTHING"#,
        order as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn attributions_of(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<AttributionRow>> {
    sqlx::query_as!(
        AttributionRow,
        r#"SELECT a.order_id AS "order_id: OrderId", a.link_id, l.code, l.partner_id,
                  a.state AS "state: AttributionState", o.amount AS order_amount, a.amount, a.created_at
           FROM attributions a JOIN attribution_links l ON l.id = a.link_id JOIN orders o ON o.id = a.order_id
           WHERE l.event_id = $1 ORDER BY a.order_id"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

pub async fn attribution(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Option<AttributionRow>> {
    sqlx::query_as!(
        AttributionRow,
        r#"SELECT a.order_id AS "order_id: OrderId", a.link_id, l.code, l.partner_id,
                  a.state AS "state: AttributionState", o.amount AS order_amount, a.amount, a.created_at
           FROM attributions a JOIN attribution_links l ON l.id = a.link_id JOIN orders o ON o.id = a.order_id
           WHERE a.order_id = $1"#,
        order as _
    )
    .fetch_optional(conn)
    .await
}

/// The event an attributed order belongs to.
pub async fn attribution_event(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Option<EventId>> {
    sqlx::query_scalar!(
        r#"SELECT l.event_id AS "event_id: EventId" FROM attributions a JOIN attribution_links l ON l.id = a.link_id
           WHERE a.order_id = $1"#,
        order as _
    )
    .fetch_optional(conn)
    .await
}

/// Approves or rejects an attribution that is not paid yet; false when it was paid.
pub async fn decide(
    conn: &mut PgConnection,
    order: OrderId,
    state: AttributionState,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE attributions SET state = $2, decided_at = $3
           WHERE order_id = $1 AND state IN ('pending', 'approved', 'rejected')"#,
        order as _,
        state as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Each tier of the event with its tickets counted, in the tiers' order.
pub async fn tier_sales(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<super::dto::TierSales>> {
    sqlx::query_as!(
        super::dto::TierSales,
        r#"SELECT t.id AS tier_id, t.name, t.price, t.currency, t.quantity,
                  count(k.id) AS "sold!",
                  count(k.id) FILTER (WHERE k.state = 'refunded') AS "refunded!",
                  count(k.checked_in_at) AS "checked_in!",
                  coalesce(sum(k.price - k.refunded_amount), 0)::bigint AS "revenue!"
           FROM ticket_tiers t LEFT JOIN tickets k ON k.tier_id = t.id
           WHERE t.event_id = $1
           GROUP BY t.id ORDER BY t.position, t.created_at, t.id"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

/// Tickets issued per day in `zone` (an IANA name), oldest first.
pub async fn daily_sales(
    conn: &mut PgConnection,
    event: EventId,
    zone: &str,
) -> sqlx::Result<Vec<super::dto::DaySales>> {
    sqlx::query_as!(
        super::dto::DaySales,
        r#"SELECT (k.created_at AT TIME ZONE $2)::date AS "day!", count(*) AS "tickets!",
                  sum(k.price)::bigint AS "revenue!"
           FROM tickets k WHERE k.event_id = $1
           GROUP BY 1 ORDER BY 1"#,
        event as _,
        zone
    )
    .fetch_all(conn)
    .await
}
