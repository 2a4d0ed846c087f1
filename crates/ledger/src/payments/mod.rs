//! Payments in: payment intents through the sandbox or Stripe, refunds, and the providers' webhooks.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;

pub use dto::{PaymentIntent, PaymentRequest};
pub use service::{Provider, captured, charge_to_wallet, pending, pending_payment};
