//! Distribution: a release's delivery to each chosen store, scheduled by timer (the store's lead time before
//! the release date by default), delivered as a batch (resource files, the DDEX message, a completion
//! marker last) to the store's SFTP server or S3 bucket with retries, and moved to live or failed by the
//! store's acknowledgement, which a polling job picks up. Takedowns travel the same way.

pub mod ack;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
