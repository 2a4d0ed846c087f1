//! The chain's SQL, checked at compile time.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::model::{EventId, TicketId};

/// A record of the chain as stored.
pub struct RecordRow {
    pub seq: i64,
    pub ticket_id: TicketId,
    pub action: String,
    pub data: Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// The event's chain length and head hash; `lock` serializes appends to the event's chain.
pub async fn head(conn: &mut PgConnection, event: EventId, lock: bool) -> sqlx::Result<(i64, Vec<u8>)> {
    let row = if lock {
        sqlx::query!("SELECT chain_length, chain_head FROM events WHERE id = $1 FOR NO KEY UPDATE", event as _)
            .fetch_one(conn)
            .await
            .map(|r| (r.chain_length, r.chain_head))?
    } else {
        sqlx::query!("SELECT chain_length, chain_head FROM events WHERE id = $1", event as _)
            .fetch_one(conn)
            .await
            .map(|r| (r.chain_length, r.chain_head))?
    };
    Ok(row)
}

/// Appends a record and moves the event's head to it.
pub async fn insert(conn: &mut PgConnection, event: EventId, record: &RecordRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO ticket_chain (event_id, seq, ticket_id, action, data, prev_hash, hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        event as _,
        record.seq,
        record.ticket_id as _,
        record.action,
        &record.data,
        &record.prev_hash,
        &record.hash,
        record.created_at
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"UPDATE events SET chain_length = $2, chain_head = $3 WHERE id = $1"#,
        event as _,
        record.seq,
        &record.hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every record of the event's chain, in order.
pub async fn records(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Vec<RecordRow>> {
    sqlx::query_as!(
        RecordRow,
        r#"SELECT seq, ticket_id AS "ticket_id: TicketId", action, data, prev_hash, hash, created_at
           FROM ticket_chain WHERE event_id = $1 ORDER BY seq"#,
        event as _
    )
    .fetch_all(conn)
    .await
}
