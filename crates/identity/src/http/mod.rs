//! Identity's HTTP handlers: extract, call the service, answer.

pub mod accounts;
pub mod admin;
pub mod organizations;

pub use accounts::*;
