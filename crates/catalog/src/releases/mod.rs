//! Releases: the product a label delivers (metadata, territories, credits, track list), its validation
//! report, and its lifecycle from draft through review to the stores and back down.

pub mod dto;
pub mod ern;
pub mod http;
pub mod repo;
pub mod service;
pub mod validation;
