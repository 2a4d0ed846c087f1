//! Orders: reserving tickets (never overselling), paying through the ledger, expiry, and the tickets issued with their signed codes.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
pub mod together;
