//! A project's files: uploads streamed into the object store (content kept once per SHA-256), a name in
//! a folder with every version kept, restore as a new version, downloads with byte ranges, and each
//! organization's storage allowance, charged for distinct content under the organization's lock so that
//! uploads at once never pass it.

pub mod dto;
pub mod http;
pub mod media;
pub mod office;
pub mod repo;
pub mod review;
pub mod service;
