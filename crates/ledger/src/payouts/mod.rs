//! Payouts: payout methods, withdrawals through the sandbox or Stripe Connect, and their approval.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;

pub use repo::raise_minimum;
pub use service::{WithdrawalSettings, demo_withdrawal};
