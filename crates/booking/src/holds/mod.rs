//! Date holds: first, second and later holds on an artist's date, challenges and expiry.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
