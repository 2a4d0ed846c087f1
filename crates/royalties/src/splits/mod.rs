//! Who is paid and how much: payees (the label itself, and people invited by email who accept within
//! 14 days), splits of a recording's or a release's revenue in basis points effective from a date, and
//! the advances and expenses a payee's share recoups first.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
