//! The terms money is reckoned by: exchange rates per day (entered by staff or imported as CSV) and each
//! label's distribution deal (the platform's fee in basis points, from a date).

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
