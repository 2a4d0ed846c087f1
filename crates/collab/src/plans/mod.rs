//! Organizations' plans (Free, Pro, Team): what each allows (open projects, people on projects,
//! storage), upgrades paid from the organization's wallet through the ledger, monthly renewals by a
//! timer with retries, downgrades at the period's end, and the fall back to Free of a period that ends
//! unpaid (nothing deleted).

pub mod catalogue;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
