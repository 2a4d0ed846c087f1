//! In-process API tests: the real router over a real PostgreSQL database per test.

mod admin;
mod booking;
mod briefs;
mod browser;
mod catalog;
mod catalog_web;
mod edge;
mod identity;
mod jobs;
mod ledger;
mod notifications;
mod openapi;
mod ops;
mod organizations;
mod ownership;
mod royalties;
mod royalties_web;
mod shutdown;
mod stripe;
mod support;
mod tasks;
mod tasks_web;
mod ticketing;
mod waiting_room;
mod web;
mod webhooks;
