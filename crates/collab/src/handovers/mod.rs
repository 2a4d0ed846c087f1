//! Handing an approved version of a project's file to an object of another domain: a release takes it
//! as its cover art, a track as its audio, a task as a deliverable, a booking's contract as an annex.
//! Only an approved version goes; the owning domain takes it through its own upload and rules (see
//! `crate::takers`), and each handover is kept, so a version shows where it went.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
