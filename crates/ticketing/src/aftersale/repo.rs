//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{EventId, TicketId, TierId};
use crate::state::{ListingState, TicketState, TransferState};

/// A ticket's row, locked, with what the rules after the sale need.
#[derive(Debug, Clone)]
pub struct LockedTicket {
    pub id: TicketId,
    pub event_id: EventId,
    pub tier_id: TierId,
    pub holder_id: Uuid,
    pub price: i64,
    pub refunded_amount: i64,
    pub state: TicketState,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub currency: String,
    pub tier_name: String,
    pub transferable: bool,
    pub resaleable: bool,
    pub refundable: bool,
}

pub async fn lock_ticket(conn: &mut PgConnection, id: TicketId) -> sqlx::Result<Option<LockedTicket>> {
    sqlx::query_as!(LockedTicket, r#"SELECT k.id AS "id: TicketId", k.event_id AS "event_id: EventId", k.tier_id AS "tier_id: TierId", k.holder_id, k.price, k.refunded_amount, k.state AS "state: TicketState", k.checked_in_at, t.currency, t.name AS tier_name, t.transferable, t.resaleable, t.refundable
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

/// The ledger entry of the sale a ticket came from.
pub async fn sale_entry(conn: &mut PgConnection, ticket: TicketId) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT o.payment_entry FROM orders o JOIN tickets k ON k.order_id = o.id WHERE k.id = $1"#,
        ticket as _
    )
    .fetch_one(conn)
    .await
}

/// A refund of a ticket, as stored.
pub struct RefundRow {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub amount: i64,
    pub reason: String,
    pub entry_id: Uuid,
    pub refunded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_refund(conn: &mut PgConnection, r: &RefundRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO ticket_refunds (id, ticket_id, amount, reason, entry_id, refunded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
        r.id,
        r.ticket_id as _,
        r.amount,
        r.reason,
        r.entry_id,
        r.refunded_by,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds `amount` to what the ticket's holder got back, and sets its state.
pub async fn add_refunded(
    conn: &mut PgConnection,
    ticket: TicketId,
    amount: i64,
    state: TicketState,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE tickets SET refunded_amount = refunded_amount + $2, state = $3, updated_at = $4 WHERE id = $1"#,
        ticket as _,
        amount,
        state as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The holders of the event's valid tickets.
pub async fn valid_holders(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(r#"SELECT DISTINCT holder_id FROM tickets WHERE event_id = $1 AND state = 'valid'"#, event as _)
        .fetch_all(conn)
        .await
}

/// The first `limit` valid tickets of the event, in id order.
pub async fn valid_tickets(conn: &mut PgConnection, event: EventId, limit: i64) -> sqlx::Result<Vec<TicketId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: TicketId" FROM tickets WHERE event_id = $1 AND state = 'valid' ORDER BY id LIMIT $2"#,
        event as _,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A transfer with its ticket's event and tier, as the parties see it.
pub struct TransferRow {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub event_id: EventId,
    pub event_title: String,
    pub tier_name: String,
    pub from_user: Uuid,
    pub to_email: String,
    pub state: TransferState,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub async fn transfer(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<TransferRow>> {
    sqlx::query_as!(
        TransferRow,
        r#"SELECT x.id, x.ticket_id AS "ticket_id: TicketId", k.event_id AS "event_id: EventId",
                  e.title AS event_title, t.name AS tier_name, x.from_user, x.to_email,
                  x.state AS "state: TransferState", x.created_at, x.decided_at
           FROM ticket_transfers x JOIN tickets k ON k.id = x.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN events e ON e.id = k.event_id
           WHERE x.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The latest 200 transfers offered to a user (by id, or by email before they had an account).
pub async fn transfers_to(conn: &mut PgConnection, user: Uuid, email: &str) -> sqlx::Result<Vec<TransferRow>> {
    sqlx::query_as!(
        TransferRow,
        r#"SELECT x.id, x.ticket_id AS "ticket_id: TicketId", k.event_id AS "event_id: EventId",
                  e.title AS event_title, t.name AS tier_name, x.from_user, x.to_email,
                  x.state AS "state: TransferState", x.created_at, x.decided_at
           FROM ticket_transfers x JOIN tickets k ON k.id = x.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN events e ON e.id = k.event_id
           WHERE x.to_user = $1 OR (x.to_user IS NULL AND lower(x.to_email) = lower($2))
           ORDER BY x.id DESC LIMIT 200"#,
        user,
        email
    )
    .fetch_all(conn)
    .await
}

/// The latest 200 transfers a user offered.
pub async fn transfers_from(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<TransferRow>> {
    sqlx::query_as!(
        TransferRow,
        r#"SELECT x.id, x.ticket_id AS "ticket_id: TicketId", k.event_id AS "event_id: EventId",
                  e.title AS event_title, t.name AS tier_name, x.from_user, x.to_email,
                  x.state AS "state: TransferState", x.created_at, x.decided_at
           FROM ticket_transfers x JOIN tickets k ON k.id = x.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
           JOIN events e ON e.id = k.event_id
           WHERE x.from_user = $1 ORDER BY x.id DESC LIMIT 200"#,
        user
    )
    .fetch_all(conn)
    .await
}

/// A new pending transfer.
pub struct NewTransfer<'a> {
    pub id: Uuid,
    pub ticket: TicketId,
    pub from_user: Uuid,
    pub to_user: Option<Uuid>,
    pub to_email: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert_transfer(conn: &mut PgConnection, t: &NewTransfer<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO ticket_transfers (id, ticket_id, from_user, to_user, to_email, state, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)"#,
        t.id,
        t.ticket as _,
        t.from_user,
        t.to_user,
        t.to_email,
        t.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A transfer's parties and state, locked for a decision.
pub struct LockedTransfer {
    pub ticket_id: TicketId,
    pub from_user: Uuid,
    pub to_user: Option<Uuid>,
    pub to_email: String,
    pub state: TransferState,
}

pub async fn lock_transfer(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LockedTransfer>> {
    sqlx::query_as!(
        LockedTransfer,
        r#"SELECT ticket_id AS "ticket_id: TicketId", from_user, to_user, to_email, state AS "state: TransferState"
           FROM ticket_transfers WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Records a decision; `to_user` fills in the recipient's account when it was offered by email.
pub async fn decide_transfer(
    conn: &mut PgConnection,
    id: Uuid,
    state: TransferState,
    to_user: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE ticket_transfers SET state = $2, decided_at = $3, to_user = coalesce(to_user, $4) WHERE id = $1"#,
        id,
        state as _,
        now,
        to_user
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A resale listing with its ticket's tier.
pub struct ListingRow {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub event_id: EventId,
    pub tier_name: String,
    pub price: i64,
    pub currency: String,
    pub state: ListingState,
    pub created_at: DateTime<Utc>,
}

pub async fn listing(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ListingRow>> {
    sqlx::query_as!(
        ListingRow,
        r#"SELECT l.id, l.ticket_id AS "ticket_id: TicketId", l.event_id AS "event_id: EventId", t.name AS tier_name,
                  l.price, l.currency, l.state AS "state: ListingState", l.created_at
           FROM resale_listings l JOIN tickets k ON k.id = l.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
           WHERE l.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The event's active listings, cheapest first (at most 200).
pub async fn active_listings(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<ListingRow>> {
    sqlx::query_as!(
        ListingRow,
        r#"SELECT l.id, l.ticket_id AS "ticket_id: TicketId", l.event_id AS "event_id: EventId", t.name AS tier_name,
                  l.price, l.currency, l.state AS "state: ListingState", l.created_at
           FROM resale_listings l JOIN tickets k ON k.id = l.ticket_id JOIN ticket_tiers t ON t.id = k.tier_id
           WHERE l.event_id = $1 AND l.state = 'active' ORDER BY l.price, l.id LIMIT 200"#,
        event as _
    )
    .fetch_all(conn)
    .await
}

/// A new active listing.
pub struct NewListing<'a> {
    pub id: Uuid,
    pub ticket: TicketId,
    pub event: EventId,
    pub seller: Uuid,
    pub price: i64,
    pub currency: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert_listing(conn: &mut PgConnection, l: &NewListing<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO resale_listings (id, ticket_id, event_id, seller_id, price, currency, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)"#,
        l.id,
        l.ticket as _,
        l.event as _,
        l.seller,
        l.price,
        l.currency,
        l.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Cancels the seller's active listing; false when there is none.
pub async fn cancel_listing(conn: &mut PgConnection, id: Uuid, seller: Uuid, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE resale_listings SET state = 'cancelled', closed_at = $3
           WHERE id = $1 AND seller_id = $2 AND state = 'active'"#,
        id,
        seller,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a purchase of a listing needs to know.
pub struct ListingTerms {
    pub ticket_id: TicketId,
    pub seller_id: Uuid,
    pub price: i64,
    pub currency: String,
    pub state: ListingState,
}

/// A listing's terms; `lock` holds the listing for the purchase's transaction.
pub async fn listing_terms(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<ListingTerms>> {
    if lock {
        sqlx::query_as!(
            ListingTerms,
            r#"SELECT ticket_id AS "ticket_id: TicketId", seller_id, price, currency, state AS "state: ListingState"
               FROM resale_listings WHERE id = $1 FOR UPDATE"#,
            id
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            ListingTerms,
            r#"SELECT ticket_id AS "ticket_id: TicketId", seller_id, price, currency, state AS "state: ListingState"
               FROM resale_listings WHERE id = $1"#,
            id
        )
        .fetch_optional(conn)
        .await
    }
}

pub async fn mark_sold(
    conn: &mut PgConnection,
    id: Uuid,
    buyer: Uuid,
    fee: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE resale_listings SET state = 'sold', buyer_id = $2, fee = $3, closed_at = $4 WHERE id = $1"#,
        id,
        buyer,
        fee,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
