//! Tasks: a client company's commissions, from a ready brief to approval: credits held at creation,
//! urgency and complexity, the lifecycle after assignment (start, deliver, staff review, client review,
//! revisions), cancellation with the credits back, auto-approval by timer, and each task's activity.

pub mod complexity;
pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
