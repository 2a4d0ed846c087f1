//! Waiting rooms: a high-demand on-sale behind a fair queue. Buyers who arrive before the opening get a
//! place drawn at random when it opens (arriving early gives no edge); later arrivals join the end. The
//! room admits places in order, at a rate the organizer sets, into a purchase window with a signed pass
//! that the order endpoint requires; it closes when the sale sells out, and everyone following it is
//! told at once. See docs/ticketing.md.

pub mod admission;
pub mod dto;
pub mod http;
pub mod pass;
pub mod repo;
pub mod service;
