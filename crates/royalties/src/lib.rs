//! Royalties: the sales reports stores send (DDEX DSR flat files), read at file scale. See
//! docs/royalties.md.
//!
//! Built so far: [`dsr`], the reader of a report's files (every record of the Basic Audio Profile that
//! carries money or identifies a recording, its counts and totals checked). Ingestion, matching,
//! allocation, splits, recoupment and statements build on it.

pub mod dsr;
