//! After the sale: refunds, transfers between fans, and the resale market.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
