//! The ticket chain: a tamper-evident, hash-chained history of every ticket of an event. Each issue,
//! transfer, resale, refund and check-in appends a record whose hash covers the record before it;
//! the event row keeps the length and the head hash, so altering, removing or reordering any record,
//! the last ones included, breaks verification.
//!
//! A record's hash is SHA-256 over: the previous hash (32 bytes, zero for the first), then the
//! record's fields joined by `\n`: `BLC1`, the event id, the sequence number, the ticket id, the
//! action, the data as compact JSON with sorted keys, the time in microseconds since the epoch.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::model::{EventId, TicketId};

/// What can happen to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Issue,
    Transfer,
    Resale,
    Refund,
    Checkin,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Transfer => "transfer",
            Self::Resale => "resale",
            Self::Refund => "refund",
            Self::Checkin => "checkin",
        }
    }
}

/// How a code appears in the chain: its SHA-256 in hex (the code itself is a secret of its holder).
pub fn code_hash(code: &str) -> String {
    platform::hex::encode(&Sha256::digest(code.as_bytes()))
}

/// The hash of one record.
pub fn digest(
    prev: &[u8],
    event: EventId,
    seq: i64,
    ticket: TicketId,
    action: &str,
    data: &Value,
    at_micros: i64,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    let fields = format!("BLC1\n{}\n{seq}\n{}\n{action}\n{}\n{at_micros}", event.0, ticket.0, data);
    hasher.update(fields.as_bytes());
    hasher.finalize().into()
}

/// Appends a record, in the caller's transaction (which it serializes with the event's other ticket
/// changes by locking the event row's chain head).
pub async fn append(
    conn: &mut PgConnection,
    event: EventId,
    ticket: TicketId,
    action: Action,
    data: Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (length, head): (i64, Vec<u8>) =
        sqlx::query_as("SELECT chain_length, chain_head FROM events WHERE id = $1 FOR NO KEY UPDATE")
            .bind(event)
            .fetch_one(&mut *conn)
            .await?;
    let seq = length + 1;
    // PostgreSQL keeps microseconds; the hash covers exactly what is stored.
    let micros = now.timestamp_micros();
    let at = DateTime::from_timestamp_micros(micros).unwrap_or(now);
    let hash = digest(&head, event, seq, ticket, action.as_str(), &data, micros);
    sqlx::query!(
        r#"INSERT INTO ticket_chain (event_id, seq, ticket_id, action, data, prev_hash, hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        event as _,
        seq,
        ticket as _,
        action.as_str(),
        &data,
        &head,
        hash.as_slice(),
        at
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"UPDATE events SET chain_length = $2, chain_head = $3 WHERE id = $1"#,
        event as _,
        seq,
        hash.as_slice()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The outcome of verifying an event's chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub event_id: EventId,
    /// Whether every record is intact and none is missing.
    pub valid: bool,
    /// Records checked.
    pub records: i64,
    /// The head hash (hex) the event row holds.
    pub head: String,
    /// The first record that fails, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_invalid_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Record {
    seq: i64,
    ticket_id: TicketId,
    action: String,
    data: Value,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    created_at: DateTime<Utc>,
}

/// Recomputes every record of the event's chain, in order, against the head the event row holds.
pub async fn verify(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Verification> {
    let head_row = sqlx::query!("SELECT chain_length, chain_head FROM events WHERE id = $1", event as _)
        .fetch_one(&mut *conn)
        .await?;
    let (length, head) = (head_row.chain_length, head_row.chain_head);
    let records: Vec<Record> = sqlx::query_as!(
        Record,
        r#"SELECT seq, ticket_id AS "ticket_id: TicketId", action, data, prev_hash, hash, created_at
           FROM ticket_chain WHERE event_id = $1 ORDER BY seq"#,
        event as _
    )
    .fetch_all(conn)
    .await?;
    let problem = first_problem(event, &records, length, &head);
    Ok(Verification {
        event_id: event,
        valid: problem.is_none(),
        records: records.len() as i64,
        head: platform::hex::encode(&head),
        first_invalid_seq: problem.as_ref().map(|p| p.0),
        problem: problem.map(|p| p.1),
    })
}

/// The first record that breaks the chain, and why.
fn first_problem(event: EventId, records: &[Record], length: i64, head: &[u8]) -> Option<(i64, String)> {
    let mut prev = vec![0u8; 32];
    for (i, record) in records.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if record.seq != expected_seq {
            return Some((expected_seq, format!("record {expected_seq} is missing")));
        }
        if record.prev_hash != prev {
            return Some((record.seq, "it does not follow the record before it".into()));
        }
        let hash = digest(
            &prev,
            event,
            record.seq,
            record.ticket_id,
            &record.action,
            &record.data,
            record.created_at.timestamp_micros(),
        );
        if record.hash != hash {
            return Some((record.seq, "its content does not match its hash (altered)".into()));
        }
        prev.clone_from(&record.hash);
    }
    if records.len() as i64 != length || prev != head {
        let next = records.len() as i64 + 1;
        return Some((next, format!("the event's chain has {length} records; {} remain", records.len())));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_every_field() {
        let event = EventId::new();
        let ticket = TicketId::new();
        let data = serde_json::json!({"holder": "a"});
        let base = digest(&[0; 32], event, 1, ticket, "issue", &data, 5);
        assert_ne!(base, digest(&[1; 32], event, 1, ticket, "issue", &data, 5));
        assert_ne!(base, digest(&[0; 32], EventId::new(), 1, ticket, "issue", &data, 5));
        assert_ne!(base, digest(&[0; 32], event, 2, ticket, "issue", &data, 5));
        assert_ne!(base, digest(&[0; 32], event, 1, TicketId::new(), "issue", &data, 5));
        assert_ne!(base, digest(&[0; 32], event, 1, ticket, "refund", &data, 5));
        assert_ne!(base, digest(&[0; 32], event, 1, ticket, "issue", &serde_json::json!({"holder": "b"}), 5));
        assert_ne!(base, digest(&[0; 32], event, 1, ticket, "issue", &data, 6));
        assert_eq!(base, digest(&[0; 32], event, 1, ticket, "issue", &data, 5));
    }
}
