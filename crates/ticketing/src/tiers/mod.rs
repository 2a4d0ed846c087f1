//! Ticket tiers: prices, capacity, sale windows and per-buyer limits.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
