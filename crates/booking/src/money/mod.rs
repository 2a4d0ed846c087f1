//! A booking's money: deposit and balance into escrow, release on completion, cancellation penalties, disputes.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
