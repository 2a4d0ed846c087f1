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

/// The event's chain length, head hash and records, read in one statement (one snapshot), so that
/// they agree even while records are appended.
pub async fn snapshot(conn: &mut PgConnection, event: EventId) -> sqlx::Result<(i64, Vec<u8>, Vec<RecordRow>)> {
    let rows = sqlx::query!(
        r#"SELECT e.chain_length, e.chain_head, c.seq AS "seq?", c.ticket_id AS "ticket_id?: TicketId",
                  c.action AS "action?", c.data AS "data?", c.prev_hash AS "prev_hash?", c.hash AS "hash?",
                  c.created_at AS "created_at?"
           FROM events e LEFT JOIN ticket_chain c ON c.event_id = e.id
           WHERE e.id = $1 ORDER BY c.seq"#,
        event as _
    )
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else { return Err(sqlx::Error::RowNotFound) };
    let (length, head) = (first.chain_length, first.chain_head.clone());
    let records = rows
        .into_iter()
        .filter_map(|r| {
            Some(RecordRow {
                seq: r.seq?,
                ticket_id: r.ticket_id?,
                action: r.action?,
                data: r.data?,
                prev_hash: r.prev_hash?,
                hash: r.hash?,
                created_at: r.created_at?,
            })
        })
        .collect();
    Ok((length, head, records))
}

/// A ticket whose issue is not in the chain yet, with what its issue record says: the buyer it was
/// issued to, its first code, its order and price.
pub struct PendingIssue {
    pub ticket_id: TicketId,
    pub holder: uuid::Uuid,
    pub code: String,
    pub order_id: uuid::Uuid,
    pub price: i64,
}

/// The event's tickets whose issue is not in the chain yet, in the order they were issued (at most
/// `limit`).
pub async fn pending_issues(conn: &mut PgConnection, event: EventId, limit: i64) -> sqlx::Result<Vec<PendingIssue>> {
    sqlx::query_as!(
        PendingIssue,
        r#"SELECT k.id AS "ticket_id: TicketId", o.buyer_id AS holder,
                  (SELECT c.code FROM ticket_codes c WHERE c.ticket_id = k.id ORDER BY c.issued_at, c.code LIMIT 1) AS "code!",
                  k.order_id, k.price
           FROM tickets k JOIN orders o ON o.id = k.order_id
           WHERE k.event_id = $1 AND NOT k.issue_chained ORDER BY k.created_at, k.id LIMIT $2"#,
        event as _,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Appends records in one statement, moves the head to the last and marks the tickets' issues chained.
pub async fn insert_issues(conn: &mut PgConnection, event: EventId, records: &[RecordRow]) -> sqlx::Result<()> {
    let Some(last) = records.last() else { return Ok(()) };
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    let tickets: Vec<uuid::Uuid> = records.iter().map(|r| r.ticket_id.0).collect();
    let data: Vec<Value> = records.iter().map(|r| r.data.clone()).collect();
    let prev: Vec<Vec<u8>> = records.iter().map(|r| r.prev_hash.clone()).collect();
    let hashes: Vec<Vec<u8>> = records.iter().map(|r| r.hash.clone()).collect();
    sqlx::query!(
        r#"WITH chained AS (
               INSERT INTO ticket_chain (event_id, seq, ticket_id, action, data, prev_hash, hash, created_at)
               SELECT $1, s, t, 'issue', d, p, h, $7 FROM unnest($2::int8[], $3::uuid[], $4::jsonb[], $5::bytea[], $6::bytea[]) AS r(s, t, d, p, h)
               RETURNING ticket_id),
           marked AS (UPDATE tickets SET issue_chained = true WHERE id IN (SELECT ticket_id FROM chained))
           UPDATE events SET chain_length = $8, chain_head = $9 WHERE id = $1"#,
        event as _,
        &seqs,
        &tickets,
        &data,
        &prev,
        &hashes,
        last.created_at,
        last.seq,
        &last.hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Events with tickets whose issue is not in the chain yet (read through the partial index).
pub async fn events_behind(conn: &mut PgConnection) -> sqlx::Result<Vec<EventId>> {
    sqlx::query_scalar!(r#"SELECT DISTINCT event_id AS "id: EventId" FROM tickets WHERE NOT issue_chained"#)
        .fetch_all(conn)
        .await
}
