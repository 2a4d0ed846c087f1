//! Stores' inboxes: where a store leaves a label's sales reports (a folder of its SFTP server or S3
//! bucket, reached with the store's registered credentials). A scheduled job takes each new file once,
//! streamed into the same path as an upload, and remembers what became of it.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
