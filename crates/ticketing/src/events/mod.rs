//! Events: drafts, publishing and the status machine, search, categories and tags, who may see and manage an event.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
