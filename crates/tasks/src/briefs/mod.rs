//! Briefs built in steps (summary, platform, content type, intent, audience, formats, visual direction
//! with chosen style cards, outline, attachments), each step confirmed by the client; a ready brief
//! becomes a task once. `steps.rs` is the rule of the steps and of readiness.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
pub mod steps;
