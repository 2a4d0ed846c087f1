//! Organizations: members and roles, invitations, teams, and the permission checks other domains use.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
