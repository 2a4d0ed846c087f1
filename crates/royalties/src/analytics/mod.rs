//! Streams, downloads and revenue over time, by recording, release, store and territory, for labels
//! (from the royalty lines, the per-report rollup of the usage lines made at ingestion) and for payees
//! (from their statements' lines). A report counts on the first day of its period; a corrected report
//! counts instead of the one it replaced.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
