//! All of identity's SQL, one module per area. Functions take a connection so that the service owns the
//! transaction.

pub mod accounts;
pub mod admin;
pub mod organizations;

pub use accounts::*;
