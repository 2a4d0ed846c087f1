//! Settling: a label closes a month; each payee's share of the month's reports becomes a statement in
//! the payee's currency (converted at the rate of the report period's last day, rounded once by largest
//! remainder), recoups what is outstanding, and is posted to their pending earnings in the ledger. And
//! the proof that a report's money is all accounted for.

pub mod dto;
pub mod http;
pub mod repo;
pub mod rounding;
pub mod service;
