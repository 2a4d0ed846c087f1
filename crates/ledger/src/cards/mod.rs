//! Saved cards: a card its holder keeps on file so that what they agreed to pay later (an
//! organization's plan each month) is charged without them. The card's details are sealed at rest and
//! shown masked; a charge goes through the same provider path as any payment, into the holder's wallet.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
