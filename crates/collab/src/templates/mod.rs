//! An organization's project templates: a project's structure (its folders, its members' roles, its
//! checklists) kept under a name, and copied into each project made from it.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
