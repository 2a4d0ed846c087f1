//! Settlement: revenue splits of an event, attribution links and their payouts when the event completes.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
