//! A client company's brand (name, colours, fonts, tone, do and don't, its logo and assets) and its
//! saved audiences (demographics, firmographics, psychographics, behaviour), and the company's files:
//! brand files and briefs' attachments, in object storage, known by their first bytes.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
pub mod sniff;
