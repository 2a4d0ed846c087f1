//! The support desk: tickets opened by any user and answered by the platform's agents, with internal
//! notes the requester never sees, canned replies, first-response and resolution targets whose timers
//! escalate a miss, satisfaction ratings, and reopening within seven days. A ticket's conversation is
//! an ordinary thread.

pub mod canned;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
pub mod sla;
