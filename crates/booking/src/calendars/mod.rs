//! Calendar feeds (iCalendar) of artists' and venues' confirmed dates, behind secret URLs.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
