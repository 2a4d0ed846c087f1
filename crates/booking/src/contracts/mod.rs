//! Contracts: the agreed terms rendered, signed by both sides, edited on request, reviewed by an admin.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
