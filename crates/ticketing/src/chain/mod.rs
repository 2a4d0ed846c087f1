//! The ticket chain: a tamper-evident, hash-chained history of every ticket of an event. Each issue,
//! transfer, resale, refund and check-in appends a record whose hash covers the record before it;
//! the event row keeps the length and the head hash, so altering, removing or reordering any record,
//! the last ones included, breaks verification.
//!
//! A record's hash is SHA-256 over: the previous hash (32 bytes, zero for the first), then the
//! record's fields joined by `\n`: `BLC1`, the event id, the sequence number, the ticket id, the
//! action, the data as compact JSON with sorted keys, the time in microseconds since the epoch.

pub mod digest;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;

pub use digest::{Action, code_hash};
pub use dto::Verification;
pub use service::{append, verify};
