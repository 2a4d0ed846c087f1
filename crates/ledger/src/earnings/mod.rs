//! Earnings: money earned and held for a holding period before it is available.

pub mod service;

pub use service::credit;
