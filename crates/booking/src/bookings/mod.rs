//! Bookings: offers, open calls and applications, proposals in turns with deadlines, agreement.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
