//! Files attached to messages: uploaded into a conversation (streamed into the object store, scanned
//! like project files, waiting unattached until the uploader's message takes them), or a project's file
//! version attached in that project's channels. Whoever may read the message's conversation downloads
//! them; nobody else, and nobody once the message is deleted.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
