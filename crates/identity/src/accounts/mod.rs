//! Accounts: registration, email verification, passwords, sessions and refresh-token rotation, API keys, and
//! the functions other domains ask about users.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
