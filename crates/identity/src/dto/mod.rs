//! Request and response bodies of the identity API.

pub mod accounts;
pub mod admin;
pub mod organizations;

pub use accounts::*;
