//! Stores: the registry of the digital stores releases are delivered to (admins keep it), with their
//! DDEX party ids, delivery endpoints (SFTP or S3, credentials sealed at rest) and territories.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
