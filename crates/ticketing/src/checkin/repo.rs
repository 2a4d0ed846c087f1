//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{EventId, TicketId, TierId};
use crate::state::TicketState;

#[derive(Debug, Clone)]
pub struct TierAttendanceRow {
    pub tier_id: TierId,
    pub tier_name: String,
    pub sold: i64,
    pub checked_in: i64,
}

/// What a code is: its ticket, event, whether it was revoked, and the ticket's state and check-in.
#[derive(Debug, Clone)]
pub struct CodeLookup {
    pub ticket_id: TicketId,
    pub holder_id: Uuid,
    pub event_id: EventId,
    pub tier_name: String,
    pub revoked: bool,
    pub state: TicketState,
    pub checked_in_at: Option<DateTime<Utc>>,
}

pub async fn lookup_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<CodeLookup>> {
    sqlx::query_as!(CodeLookup, r#"SELECT k.id AS "ticket_id: TicketId", k.holder_id, k.event_id AS "event_id: EventId", t.name AS tier_name, c.revoked_at IS NOT NULL AS "revoked!", k.state AS "state: TicketState", k.checked_in_at
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

pub async fn attendance(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<TierAttendanceRow>> {
    sqlx::query_as!(TierAttendanceRow, r#"SELECT t.id AS "tier_id: TierId", t.name AS tier_name, count(k.id) FILTER (WHERE k.state = 'valid')::int8 AS "sold!", count(k.id) FILTER (WHERE k.checked_in_at IS NOT NULL)::int8 AS "checked_in!"
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
