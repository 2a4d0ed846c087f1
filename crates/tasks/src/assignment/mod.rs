//! Assignment: the versioned configuration of the algorithm, ranking candidates for a task (`score.rs`
//! is the pure rule), offers with acceptance windows swept by timers at their second, the escalation
//! ladder (offers at two skill thresholds, then claims, then staff), claims, assignment by hand, and
//! "who would get this task, and why".

pub mod dto;
pub mod http;
pub mod repo;
pub mod score;
pub mod service;
