//! Labels: identifier settings (ISRC registrant codes, a GS1 company prefix, a pool of bought UPCs, the
//! DDEX party id), the assignment of codes from them, and the artists and contributors a label credits.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
