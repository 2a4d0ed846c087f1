//! Rights: claims on a release or a track (master, publishing, sync, performance) with holder, share,
//! territories and period; verification by staff, expiry by timer, and conflicts (more than the whole of
//! one right at one territory and time), which block delivery there until staff resolve them.

pub mod conflict;
pub mod document;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
