//! Administration: account status and roles, permission templates, the audit log and security events.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
