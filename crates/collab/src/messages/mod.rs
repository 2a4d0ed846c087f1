//! Messages in a conversation: posting (Markdown up to 16,000 characters), replies that form a thread
//! under their first message, editing by the author within 15 minutes with every earlier text kept,
//! and deletion (soft) by the author or a moderator.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
