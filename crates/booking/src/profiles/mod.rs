//! The directory: artist, venue and promoter profiles, artist categories, promoter reviews, and who acts for a profile.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
