//! A project's checklists: items its makers list and its members tick (a project's viewers read them).
//! A project made from a template gets the template's checklists, nothing ticked.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
