//! An organization's webhook endpoints: signed deliveries of its events, retried, logged, and disabled
//! after repeated failures.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;

pub use service::{DeliveryPolicy, signature_header};
