//! Accounts, journal entries and postings: the posting engine every domain moves money with, wallets,
//! statements, and admins' adjustments and reversals.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
