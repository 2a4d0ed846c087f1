//! In-process API tests: the real router over a real PostgreSQL database per test.

mod edge;
mod identity;
mod openapi;
mod ops;
mod shutdown;
mod support;
