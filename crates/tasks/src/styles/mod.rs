//! Style reference cards: the library staff curate (each card's traits and its image, whose perceptual
//! hash refuses a picture the library has already), browsed with filters, and suggested to a company
//! ranked by what its briefs chose before.

pub mod dto;
pub mod http;
pub mod phash;
pub mod rank;
pub mod repo;
pub mod service;
