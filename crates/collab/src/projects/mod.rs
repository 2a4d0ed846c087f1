//! An organization's projects: their details and lifecycle, and their members with project roles (a
//! client from outside the organization included). Who may touch a project is decided here
//! (`service::standing`) for every area of the crate.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
