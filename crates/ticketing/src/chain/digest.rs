//! The hash of a chain record and the check of a chain, pure functions over records.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::repo::RecordRow;
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

/// The first record that breaks the chain, and why.
pub fn first_problem(event: EventId, records: &[RecordRow], length: i64, head: &[u8]) -> Option<(i64, String)> {
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
