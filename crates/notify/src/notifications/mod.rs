//! The notification center: in-app notifications made from domain events, their email, the real-time
//! stream, and the templates of each event kind.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
pub mod stream;
pub mod template;
