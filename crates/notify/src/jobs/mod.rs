//! The administration of the job queue.

pub mod dto;
pub mod http;
pub mod service;
