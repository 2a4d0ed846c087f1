//! Conversations: a project's channels, and the one thread attached to each business object (a
//! booking, an event, ...) whose owning domain says who may take part (`crate::subjects`). Who may read
//! and write a conversation is decided here (`service::access`) for every route that touches one;
//! each reader's read position gives their unread counts.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
