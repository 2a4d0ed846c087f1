//! Test support for Backline: one PostgreSQL server per test process, a fresh database per test cloned
//! from a migrated template (milliseconds), and [`TestApp`], which drives the real router in-process.
//!
//! The server is `BACKLINE_TEST_DATABASE_URL` (or `DATABASE_URL`) when set; otherwise an embedded cluster
//! in a temporary directory, started on first use and stopped and removed when the test process exits.
#![allow(unsafe_code)] // atexit(3) registration; see `register_cleanup`.

mod app;
pub mod ddex;
pub mod dsr;
pub mod media;
mod server;
pub mod stores;

pub use app::{TestApp, TestRequest, TestResponse};
pub use server::{TestDb, server_options, track_statements};
