//! A task's delivery: deliverable files (versioned by name, in object storage), messages on the task
//! between its company, its freelancer and staff, and the affinity that approved work builds between a
//! company and a freelancer.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
