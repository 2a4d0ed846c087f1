//! Messages in a conversation: posting (Markdown up to 16,000 characters), replies that form a thread
//! under their first message, editing by the author within 15 minutes with every earlier text kept,
//! deletion (soft) by the author or a moderator, mentions of people who may read the conversation, and
//! reactions (one per person per emoji, at most 50 distinct on a message).

pub mod dto;
pub mod fanout;
pub mod http;
pub mod mentions;
pub mod repo;
pub mod service;
