//! Appending to an event's chain (inside the caller's transaction) and verifying it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::digest::{Action, digest, first_problem};
use super::dto::Verification;
use super::repo::{self, RecordRow};
use crate::model::{EventId, TicketId};

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
    let (length, head) = repo::head(conn, event, true).await?;
    let seq = length + 1;
    // PostgreSQL keeps microseconds; the hash covers exactly what is stored.
    let micros = now.timestamp_micros();
    let created_at = DateTime::from_timestamp_micros(micros).unwrap_or(now);
    let hash = digest(&head, event, seq, ticket, action.as_str(), &data, micros);
    let record = RecordRow {
        seq,
        ticket_id: ticket,
        action: action.as_str().to_owned(),
        data,
        prev_hash: head,
        hash: hash.to_vec(),
        created_at,
    };
    repo::insert(conn, event, &record).await
}

/// Recomputes every record of the event's chain, in order, against the head the event row holds.
pub async fn verify(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Verification> {
    let (length, head) = repo::head(conn, event, false).await?;
    let records = repo::records(conn, event).await?;
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
