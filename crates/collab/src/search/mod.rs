//! Search over what the searcher may read: messages (full text, ranked, with filters) in the channels
//! of their projects and the threads they take part in, and their projects by name and description.

pub mod dto;
pub mod http;
pub mod query;
pub mod repo;
pub mod service;
