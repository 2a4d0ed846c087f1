//! The platform every Backline domain stands on: the database (and the embedded PostgreSQL cluster that
//! serves it by default), the HTTP edge (errors, JSON extraction, request ids, metrics, timeouts), the
//! OpenAPI document and its offline viewer, telemetry, the clock and identifiers.
//!
//! Domains depend on this crate and never on each other's tables.

pub mod audit;
pub mod batch;
pub mod clock;
pub mod context;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod discussion;
pub mod embedded;
pub mod error;
pub mod events;
pub mod hex;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod json;
pub mod lifecycle;
pub mod mail;
pub mod markup;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod pdf;
pub mod ratelimit;
pub mod replica;
pub mod server;
pub mod storage;
pub mod stream;
pub mod telemetry;
pub mod text_enum;
pub mod threads;

pub use context::AppContext;
pub use error::{ApiError, ApiResult, Code, FieldError, PlatformCode};
pub use json::Json;
