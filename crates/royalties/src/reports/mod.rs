//! Sales reports as received: uploads of their files, the job that reads them into summary records and
//! usage lines, their progress and their refusal with every error.

pub mod dto;
pub mod http;
pub mod load;
pub mod repo;
pub mod service;
