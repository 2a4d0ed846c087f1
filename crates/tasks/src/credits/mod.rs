//! Credits: a client company's unit of account for tasks, kept in the ledger as the currency `CREDIT`
//! (the company's available and held accounts, the platform's issued and redeemed ones): packs bought
//! with money, held when a task is created, spent at approval, released at cancellation, so that every
//! credit is traceable to an entry and the books balance.

pub mod dto;
pub mod http;
pub mod service;
