//! Tracks: recordings with their ISRC, ISWC, credits and technical details; a track belongs to its
//! label and appears on one or more of its releases.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
