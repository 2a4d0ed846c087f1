//! Royalties: the sales reports stores send (DDEX DSR flat files), received and read at file scale.
//! See docs/royalties.md.
//!
//! Built so far: [`dsr`], the reader of a report's files, and the `reports` area: a report uploaded as
//! one or several files (plain or gzip, streamed), read by a job into its summary records and usage
//! lines (loaded with `COPY`), with its progress, its counts and totals checked, refused whole with its
//! errors, and recognised when sent twice. Matching, allocation, splits, recoupment and statements
//! build on it.

pub mod allocation;
pub mod dsr;
pub mod error;
pub mod model;
pub mod reports;

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(reports::http::upload_report))
        .routes(routes!(reports::http::report))
        .routes(routes!(reports::http::add_report_file))
        .routes(routes!(reports::http::label_reports))
        .routes(routes!(reports::http::report_reconciliation))
        .routes(routes!(reports::http::report_unmatched))
        .routes(routes!(reports::http::match_report_key))
}

/// Registers the royalties' jobs: reading a report.
pub fn register(registry: &mut platform::jobs::Registry) {
    reports::service::register(registry);
}
