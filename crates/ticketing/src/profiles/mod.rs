//! Fan, creator and sponsor profiles, and fans' Stellar wallets.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
