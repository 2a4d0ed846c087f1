//! Check-in: the door's verification key, online and offline scans, door staff and attendance.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
