//! Identity's rules, one module per area. Each operation is one transaction with its audit row,
//! security events and mail.

pub mod accounts;
pub mod admin;
pub mod organizations;

pub use accounts::*;
