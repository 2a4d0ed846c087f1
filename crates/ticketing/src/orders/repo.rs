//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use platform::db::{HotWrite, Literal};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{EventId, OrderId, TicketId, TierId};
use crate::rooms::repo::{PlaceRow, RoomState};
use crate::state::{EventStatus, OrderState, TicketState, Visibility};
use crate::tiers::repo::TierRow;

#[derive(Debug, Clone)]
pub struct OrderItemRow {
    pub tier_id: TierId,
    pub tier_name: String,
    pub quantity: i32,
    pub unit_price: i64,
}

#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: OrderId,
    pub event_id: EventId,
    pub buyer_id: Uuid,
    pub state: OrderState,
    pub amount: i64,
    pub currency: String,
    pub expires_at: DateTime<Utc>,
    pub payment_id: Option<Uuid>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attribution_link_id: Option<Uuid>,
}

pub async fn insert_order(conn: &mut PgConnection, o: &OrderRow, items: &[OrderItemRow]) -> sqlx::Result<()> {
    sqlx::query!(r#"INSERT INTO orders (id, event_id, buyer_id, state, amount, currency, expires_at, created_at, updated_at, attribution_link_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)"#, o.id as _, o.event_id as _, o.buyer_id, o.state as _, o.amount, &o.currency, o.expires_at, o.created_at, o.attribution_link_id)
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
        sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state AS "state: OrderState", amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE id = $1 FOR UPDATE"#, id as _)
            .fetch_optional(conn)
            .await
    } else {
        sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state AS "state: OrderState", amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE id = $1"#, id as _).fetch_optional(conn).await
    }
}

pub async fn order_items(conn: &mut PgConnection, id: OrderId) -> sqlx::Result<Vec<OrderItemRow>> {
    sqlx::query_as!(
        OrderItemRow,
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
    state: OrderState,
    payment: Option<Uuid>,
    entry: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    tracing::info!(object = "order", id = %id.0, to = state.as_str(), "state changed");
    sqlx::query!(r#"UPDATE orders SET state = $2, payment_id = coalesce($3, payment_id), payment_entry = coalesce($4, payment_entry),
             paid_at = CASE WHEN $2 = 'paid' THEN $5 ELSE paid_at END, updated_at = $5
         WHERE id = $1"#, id as _, state as _, payment, entry, now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn orders_of(conn: &mut PgConnection, buyer: Uuid) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as!(OrderRow, r#"SELECT id AS "id: OrderId", event_id AS "event_id: EventId", buyer_id, state AS "state: OrderState", amount, currency, expires_at, payment_id,
                  paid_at, created_at, attribution_link_id FROM orders WHERE buyer_id = $1 ORDER BY id DESC LIMIT 200"#, buyer)
        .fetch_all(conn)
        .await
}

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

#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: TicketId,
    pub event_id: EventId,
    pub tier_id: TierId,
    pub tier_name: String,
    pub holder_id: Uuid,
    pub state: TicketState,
    pub code: String,
    pub price: i64,
    pub currency: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub transferable: bool,
    pub resaleable: bool,
}

pub async fn tickets_of_order(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state AS "state: TicketState", c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.order_id = $1 ORDER BY k.id"#, order as _)
        .fetch_all(conn)
        .await
}

/// A holder's tickets, newest first, after the ticket `before` (keyset paging), at most `limit`.
pub async fn tickets_of_holder(
    conn: &mut PgConnection,
    holder: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state AS "state: TicketState", c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.holder_id = $1 AND ($2::uuid IS NULL OR k.id < $2) ORDER BY k.id DESC LIMIT $3"#, holder, before, limit)
        .fetch_all(conn)
        .await
}

pub async fn ticket(conn: &mut PgConnection, id: TicketId) -> sqlx::Result<Option<TicketRow>> {
    sqlx::query_as!(TicketRow, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", t.name AS tier_name,
                  k.holder_id, k.state AS "state: TicketState", c.code, k.price, t.currency, k.checked_in_at, t.transferable, t.resaleable
           FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN ticket_codes c ON c.ticket_id = k.id AND c.revoked_at IS NULL
           WHERE k.id = $1"#, id as _)
        .fetch_optional(conn)
        .await
}

/// Serializes a buyer's orders for one event until the transaction ends (per-buyer limits count
/// pending orders too).
pub async fn lock_buyer(conn: &mut PgConnection, event: EventId, buyer: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#,
        format!("ticketing:buyer:{event}:{buyer}")
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The event's pending orders, locked, in id order.
pub async fn lock_pending_orders(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<OrderId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: OrderId" FROM orders WHERE event_id = $1 AND state = 'pending' ORDER BY id FOR UPDATE"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

/// Tickets issued, by state (`valid`, `refunded`), for `/metrics`.
pub async fn ticket_counts(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE state = 'valid') AS "valid!", count(*) FILTER (WHERE state = 'refunded') AS "refunded!"
           FROM tickets"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.valid, row.refunded))
}

/// What a purchase paid at once needs to know of the event, read while taking the buyer's lock (one
/// buyer's purchases of one event are serialized until the transaction ends).
#[derive(Debug, Clone)]
pub struct SaleEvent {
    pub status: EventStatus,
    pub ends_at: DateTime<Utc>,
    pub signing_key_sealed: String,
    pub signing_public_key: Vec<u8>,
    pub splits_frozen: bool,
    pub room: Option<RoomState>,
}

/// Everything a purchase paid at once reads, in one round trip: the event, its waiting room and the
/// buyer's place in it, and the tiers asked for (in id order).
#[derive(Debug, Clone)]
pub struct Sale {
    pub event: SaleEvent,
    pub place: Option<PlaceRow>,
    pub tiers: Vec<TierRow>,
}

/// The event with the buyer's place and the tiers among `tiers`, while taking the buyer's lock; `None`
/// when there is no such event. The rows are read as they were when the statement began, which may be
/// before another purchase of the same buyer released the lock: what such a purchase changes is checked
/// again where it is written (the pass is spent only if unspent, the sold count is bounded by the
/// tier's constraint), and the per-buyer limits are counted by a later statement.
pub async fn sale(conn: &mut PgConnection, event: EventId, buyer: Uuid, tiers: &[Uuid]) -> sqlx::Result<Option<Sale>> {
    let rows = sqlx::query!(
        r#"WITH buyer AS (SELECT pg_advisory_xact_lock(hashtextextended($2, 0)))
           SELECT e.status AS "status: EventStatus", e.ends_at, e.signing_key_sealed, e.signing_public_key,
                  e.splits_frozen_at IS NOT NULL AS "splits_frozen!", r.state AS "room?: RoomState",
                  p.user_id AS "place_user?", p.joined_at AS "place_joined_at?", p.position AS "place_position?",
                  p.admitted_at AS "place_admitted_at?", p.pass_expires_at AS "place_pass_expires_at?",
                  p.order_id AS "place_order_id?",
                  t.id AS "tier_id?: TierId", t.name AS "tier_name?", t.description AS "tier_description?",
                  t.price AS "tier_price?", t.currency AS "tier_currency?", t.quantity AS "tier_quantity?",
                  t.sold AS "tier_sold?", t.held AS "tier_held?", t.quantity - t.sold - t.held AS "tier_available?",
                  t.sales_start AS "tier_sales_start?", t.sales_end AS "tier_sales_end?",
                  t.min_per_order AS "tier_min_per_order?", t.max_per_order AS "tier_max_per_order?",
                  t.max_per_buyer AS "tier_max_per_buyer?", t.visibility AS "tier_visibility?: Visibility",
                  t.transferable AS "tier_transferable?", t.resaleable AS "tier_resaleable?",
                  t.refundable AS "tier_refundable?", t.position AS "tier_position?"
           FROM buyer CROSS JOIN events e
           LEFT JOIN waiting_rooms r ON r.event_id = e.id
           LEFT JOIN waiting_room_places p ON r.event_id IS NOT NULL AND p.event_id = e.id AND p.user_id = $3
           LEFT JOIN ticket_tiers t ON t.event_id = e.id AND t.id = ANY($4)
           WHERE e.id = $1 AND e.deleted_at IS NULL
           ORDER BY t.id"#,
        event as _,
        format!("ticketing:buyer:{event}:{buyer}"),
        buyer,
        tiers
    )
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let event = SaleEvent {
        status: first.status,
        ends_at: first.ends_at,
        signing_key_sealed: first.signing_key_sealed.clone(),
        signing_public_key: first.signing_public_key.clone(),
        splits_frozen: first.splits_frozen,
        room: first.room,
    };
    let place = first.place_user.zip(first.place_joined_at).map(|(user_id, joined_at)| PlaceRow {
        user_id,
        joined_at,
        position: first.place_position,
        admitted_at: first.place_admitted_at,
        pass_expires_at: first.place_pass_expires_at,
        order_id: first.place_order_id,
    });
    let tiers = rows
        .into_iter()
        .filter_map(|r| {
            Some(TierRow {
                id: r.tier_id?,
                name: r.tier_name?,
                description: r.tier_description?,
                price: r.tier_price?,
                currency: r.tier_currency?,
                quantity: r.tier_quantity?,
                sold: r.tier_sold?,
                held: r.tier_held?,
                available: r.tier_available?,
                sales_start: r.tier_sales_start,
                sales_end: r.tier_sales_end,
                min_per_order: r.tier_min_per_order?,
                max_per_order: r.tier_max_per_order?,
                max_per_buyer: r.tier_max_per_buyer,
                visibility: r.tier_visibility?,
                transferable: r.tier_transferable?,
                resaleable: r.tier_resaleable?,
                refundable: r.tier_refundable?,
                position: r.tier_position?,
            })
        })
        .collect();
    Ok(Some(Sale { event, place, tiers }))
}

/// Takes the locks of `buyers` for the event ([`lock_buyer`]'s), in one statement and in the order of
/// their keys, so that two transactions taking several never deadlock.
pub async fn lock_buyers(conn: &mut PgConnection, event: EventId, buyers: &[Uuid]) -> sqlx::Result<()> {
    let keys: Vec<String> = buyers.iter().map(|b| format!("ticketing:buyer:{event}:{b}")).collect();
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "locked!" FROM (
               SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k) d
               ORDER BY h) l"#,
        &keys
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// The event as a purchase reads it ([`SaleEvent`]); `None` when there is no such event.
pub async fn sale_event(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Option<SaleEvent>> {
    sqlx::query_as!(
        SaleEvent,
        r#"SELECT e.status AS "status: EventStatus", e.ends_at, e.signing_key_sealed, e.signing_public_key,
                  e.splits_frozen_at IS NOT NULL AS "splits_frozen!", r.state AS "room?: RoomState"
           FROM events e LEFT JOIN waiting_rooms r ON r.event_id = e.id
           WHERE e.id = $1 AND e.deleted_at IS NULL"#,
        event as _
    )
    .fetch_optional(conn)
    .await
}

/// Purchases of one event paid at once and bought together, written in one statement, as
/// [`write_purchase`] writes one: their orders (`orders[n]` by `buyers[n]`), items, tickets and
/// codes, and the passes they spend (`pass_buyers[n]`'s on `pass_orders[n]`). Answers how many passes
/// were spent.
#[derive(Debug, Default)]
pub struct Purchases {
    pub orders: Vec<Uuid>,
    pub buyers: Vec<Uuid>,
    pub amounts: Vec<i64>,
    pub currencies: Vec<String>,
    pub entries: Vec<Option<Uuid>>,
    pub item_orders: Vec<Uuid>,
    pub item_tiers: Vec<Uuid>,
    pub item_quantities: Vec<i32>,
    pub item_prices: Vec<i64>,
    pub tickets: Vec<Uuid>,
    pub ticket_orders: Vec<Uuid>,
    pub ticket_tiers: Vec<Uuid>,
    pub ticket_prices: Vec<i64>,
    pub ticket_holders: Vec<Uuid>,
    pub codes: Vec<String>,
    pub pass_buyers: Vec<Uuid>,
    pub pass_orders: Vec<Uuid>,
}

pub async fn write_purchases(
    conn: &mut PgConnection,
    event: EventId,
    p: &Purchases,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"WITH o AS (INSERT INTO orders (id, event_id, buyer_id, state, amount, currency, expires_at, paid_at, payment_entry, created_at, updated_at)
                 SELECT x.id, $6, x.buyer, 'paid', x.amount, x.currency, $7, $7, x.entry, $7, $7
                 FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::uuid[]) AS x(id, buyer, amount, currency, entry)
                 RETURNING id),
           items AS (INSERT INTO order_items (order_id, tier_id, quantity, unit_price)
                     SELECT o.id, q.tier, q.n, q.p FROM unnest($8::uuid[], $9::uuid[], $10::int4[], $11::int8[]) AS q(o, tier, n, p)
                     JOIN o ON o.id = q.o),
           k AS (INSERT INTO tickets (id, event_id, tier_id, order_id, holder_id, price, created_at, updated_at, issue_chained)
                 SELECT x.id, $6, x.tier, o.id, x.holder, x.price, $7, $7, false
                 FROM unnest($12::uuid[], $13::uuid[], $14::uuid[], $15::int8[], $16::uuid[]) AS x(id, o, tier, price, holder)
                 JOIN o ON o.id = x.o),
           c AS (INSERT INTO ticket_codes (code, ticket_id, issued_at) SELECT x.code, x.id, $7 FROM unnest($12::uuid[], $17::text[]) AS x(id, code)),
           pass AS (UPDATE waiting_room_places p SET order_id = x.o FROM unnest($18::uuid[], $19::uuid[]) AS x(u, o)
                    WHERE p.event_id = $6 AND p.user_id = x.u AND p.order_id IS NULL AND p.admitted_at IS NOT NULL
                          AND EXISTS (SELECT 1 FROM o WHERE o.id = x.o)
                    RETURNING 1)
           SELECT count(*) AS "passes!" FROM pass"#,
        &p.orders,
        &p.buyers,
        &p.amounts,
        &p.currencies,
        &p.entries as &[Option<Uuid>],
        event as _,
        now,
        &p.item_orders,
        &p.item_tiers,
        &p.item_quantities,
        &p.item_prices,
        &p.tickets,
        &p.ticket_orders,
        &p.ticket_tiers,
        &p.ticket_prices,
        &p.ticket_holders,
        &p.codes,
        &p.pass_buyers,
        &p.pass_orders
    )
    .fetch_one(conn)
    .await
}

/// A purchase paid at once, written in one statement: the paid order and its items, the tickets and
/// their codes (their issues join the chain later), the attribution, and the spent pass; the tiers'
/// sold counts follow with the commit ([`sold_counts`]). Answers whether the pass was spent.
pub struct Purchase<'a> {
    pub order: OrderId,
    pub event: EventId,
    pub buyer: Uuid,
    pub amount: i64,
    pub currency: &'a str,
    pub entry: Option<Uuid>,
    pub attribution: Option<Uuid>,
    pub spends_pass: bool,
    pub tiers: Vec<Uuid>,
    pub quantities: Vec<i32>,
    pub prices: Vec<i64>,
    pub tickets: Vec<Uuid>,
    pub ticket_tiers: Vec<Uuid>,
    pub ticket_prices: Vec<i64>,
    pub codes: Vec<String>,
}

pub async fn write_purchase(conn: &mut PgConnection, p: &Purchase<'_>, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let spent = sqlx::query_scalar!(
        r#"WITH o AS (INSERT INTO orders (id, event_id, buyer_id, state, amount, currency, expires_at, paid_at, payment_entry, created_at, updated_at, attribution_link_id)
                 VALUES ($1, $2, $3, 'paid', $4, $5, $6, $6, $7, $6, $6, $8) RETURNING id),
           items AS (INSERT INTO order_items (order_id, tier_id, quantity, unit_price)
                     SELECT o.id, q.id, q.n, q.p FROM o, unnest($9::uuid[], $10::int4[], $11::int8[]) AS q(id, n, p)),
           k AS (INSERT INTO tickets (id, event_id, tier_id, order_id, holder_id, price, created_at, updated_at, issue_chained)
                 SELECT x.id, $2, x.tier, o.id, $3, x.price, $6, $6, false FROM o, unnest($12::uuid[], $13::uuid[], $14::int8[]) AS x(id, tier, price)),
           c AS (INSERT INTO ticket_codes (code, ticket_id, issued_at) SELECT x.code, x.id, $6 FROM o, unnest($12::uuid[], $15::text[]) AS x(id, code)),
           a AS (INSERT INTO attributions (order_id, link_id, created_at) SELECT o.id, $8, $6 FROM o WHERE $8::uuid IS NOT NULL),
           pass AS (UPDATE waiting_room_places SET order_id = $1
                    WHERE $16 AND event_id = $2 AND user_id = $3 AND order_id IS NULL AND admitted_at IS NOT NULL AND EXISTS (SELECT 1 FROM o)
                    RETURNING 1)
           SELECT count(*) AS "passes!" FROM pass"#,
        p.order as _,
        p.event as _,
        p.buyer,
        p.amount,
        p.currency,
        now,
        p.entry,
        p.attribution,
        &p.tiers,
        &p.quantities,
        &p.prices,
        &p.tickets,
        &p.ticket_tiers,
        &p.ticket_prices,
        &p.codes,
        p.spends_pass
    )
    .fetch_one(conn)
    .await?;
    Ok(spent == 1)
}

/// The constraint a tier's sold and held counts keep within its quantity.
pub const NO_OVERSELL: &str = "ticket_tiers_no_oversell";

/// The tiers' sold counts raised by a purchase: the rows every buyer of an on-sale needs, written last
/// and sent with the commit ([`platform::db::commit_with`]), so that their locks are held for no round
/// trip. A tier with fewer tickets left than asked breaks [`NO_OVERSELL`]. Not checked at compile time
/// (it travels as simple-protocol text); every purchase test runs it.
pub fn sold_counts(event: EventId, tiers: &[Uuid], quantities: &[i32]) -> Option<HotWrite> {
    // One plain update per tier, by its key (nothing to plan), in the order given: tier id order.
    let count = |(tier, n): (&Uuid, &i32)| {
        HotWrite::new(
            "UPDATE ticket_tiers SET sold = sold + $3 WHERE id = $2 AND event_id = $1",
            &[Literal::Uuid(event.0), Literal::Uuid(*tier), Literal::Int(i64::from(*n))],
        )
    };
    tiers.iter().zip(quantities).map(count).reduce(HotWrite::then)
}
