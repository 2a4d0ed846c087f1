//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{EventId, TierId};
use crate::state::Visibility;

/// A tier as stored, with what is left of it.
#[derive(Debug, Clone)]
pub struct TierRow {
    pub id: TierId,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    pub quantity: i32,
    pub sold: i32,
    pub held: i32,
    pub available: i32,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    pub min_per_order: i32,
    pub max_per_order: i32,
    pub max_per_buyer: Option<i32>,
    pub visibility: Visibility,
    pub transferable: bool,
    pub resaleable: bool,
    pub refundable: bool,
    pub position: i32,
}

impl TierRow {
    /// A new tier as it starts before its fields are given: nothing sold, one to ten per order, public,
    /// transferable, resaleable and refundable.
    pub fn new(id: TierId) -> Self {
        Self {
            id,
            name: String::new(),
            description: String::new(),
            price: 0,
            currency: String::new(),
            quantity: 0,
            sold: 0,
            held: 0,
            available: 0,
            sales_start: None,
            sales_end: None,
            min_per_order: 1,
            max_per_order: 10,
            max_per_buyer: None,
            visibility: Visibility::Public,
            transferable: true,
            resaleable: true,
            refundable: true,
            position: 0,
        }
    }
}

pub async fn tiers(conn: &mut PgConnection, event: EventId, hidden_too: bool) -> sqlx::Result<Vec<TierRow>> {
    sqlx::query_as!(TierRow, r#"SELECT id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility AS "visibility: Visibility", transferable, resaleable,  refundable, position FROM ticket_tiers WHERE event_id = $1 AND ($2 OR visibility = 'public')
         ORDER BY position, id"#, event as _, hidden_too)
    .fetch_all(conn)
    .await
}

/// The event's tiers among `ids`, in id order.
pub async fn tiers_among(conn: &mut PgConnection, event: EventId, ids: &[Uuid]) -> sqlx::Result<Vec<TierRow>> {
    sqlx::query_as!(TierRow, r#"SELECT id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility AS "visibility: Visibility", transferable, resaleable,  refundable, position FROM ticket_tiers WHERE event_id = $1 AND id = ANY($2) ORDER BY id"#, event as _, ids)
        .fetch_all(conn)
        .await
}

pub async fn tier(conn: &mut PgConnection, event: EventId, id: TierId) -> sqlx::Result<Option<TierRow>> {
    sqlx::query_as!(TierRow, r#"SELECT id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility AS "visibility: Visibility", transferable, resaleable,  refundable, position FROM ticket_tiers WHERE event_id = $1 AND id = $2"#, event as _, id as _)
        .fetch_optional(conn)
        .await
}

pub async fn upsert_tier(
    conn: &mut PgConnection,
    event: EventId,
    t: &TierRow,
    now: DateTime<Utc>,
) -> sqlx::Result<TierRow> {
    sqlx::query_as!(TierRow, r#"INSERT INTO ticket_tiers (id, event_id, name, description, price, currency, quantity, sales_start, sales_end,
             min_per_order, max_per_order, max_per_buyer, visibility, transferable, resaleable, refundable, position,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
         ON CONFLICT (id) DO UPDATE SET name = $3, description = $4, price = $5, currency = $6, quantity = $7,
             sales_start = $8, sales_end = $9, min_per_order = $10, max_per_order = $11, max_per_buyer = $12,
             visibility = $13, transferable = $14, resaleable = $15, refundable = $16, position = $17, updated_at = $18
         RETURNING id AS "id: TierId", name, description, price, currency, quantity, sold, held, quantity - sold - held AS "available!",  sales_start, sales_end, min_per_order, max_per_order, max_per_buyer, visibility AS "visibility: Visibility", transferable, resaleable,  refundable, position"#, t.id as _, event as _, &t.name, &t.description, t.price, &t.currency, t.quantity, t.sales_start, t.sales_end, t.min_per_order, t.max_per_order, t.max_per_buyer, t.visibility as _, t.transferable, t.resaleable, t.refundable, t.position, now)
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

/// Tickets of a tier that came to the buyer: bought or held in pending orders, and received from
/// someone else (a transfer or a resale) and still held. The per-buyer limit counts them all.
pub async fn bought_by(conn: &mut PgConnection, buyer: Uuid, tier: TierId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT (SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE o.buyer_id = $1 AND i.tier_id = $2 AND o.state IN ('pending', 'paid'))::int8
              + (SELECT count(*) FROM tickets k JOIN orders o ON o.id = k.order_id
                 WHERE k.holder_id = $1 AND k.tier_id = $2 AND k.state = 'valid' AND o.buyer_id <> $1) AS "quantity!""#,
        buyer,
        tier as _
    )
    .fetch_one(conn)
    .await
}

/// The currency of the event's tickets (all of an event's tiers share one).
pub async fn currency_of_event(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(r#"SELECT currency FROM ticket_tiers WHERE event_id = $1 LIMIT 1"#, event as _)
        .fetch_optional(conn)
        .await
}
