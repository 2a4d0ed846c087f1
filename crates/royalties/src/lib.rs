//! Royalties: the sales reports stores send (DDEX DSR flat files), received and read at file scale.
//! See docs/royalties.md.
//!
//! Areas: `reports` (a report uploaded as one or several files, plain or gzip, streamed; read by a job
//! into summary records and usage lines loaded with `COPY`; checked, matched to the catalog and turned
//! into royalty lines with the distribution fee), `terms` (exchange rates, deals), `splits` (payees,
//! invitations, splits, recoupables) and `statements` (closing a month into statements posted to the
//! ledger, and the reconciliation proof). [`dsr`] reads the files; [`allocation`] shares a summary's
//! revenue among its lines exactly.

pub mod allocation;
pub mod analytics;
pub mod csv;
pub mod demo;
pub mod dsr;
pub mod error;
pub mod inboxes;
pub mod model;
pub mod reports;
pub mod splits;
pub mod statements;
pub mod terms;

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
        .routes(routes!(reports::http::csv_mappings))
        .routes(routes!(reports::http::save_csv_mapping))
        .routes(routes!(terms::http::set_exchange_rate, terms::http::exchange_rates))
        .routes(routes!(terms::http::import_exchange_rates))
        .routes(routes!(terms::http::royalty_deal, terms::http::set_royalty_deal))
        .routes(routes!(splits::http::label_payees, splits::http::invite_payee))
        .routes(routes!(splits::http::accept_royalty_invitation))
        .routes(routes!(splits::http::change_payee))
        .routes(routes!(splits::http::release_splits, splits::http::set_release_split))
        .routes(routes!(splits::http::track_splits, splits::http::set_track_split))
        .routes(routes!(splits::http::label_recoupables, splits::http::add_recoupable))
        .routes(routes!(statements::http::close_royalty_period, statements::http::royalty_periods))
        .routes(routes!(statements::http::label_royalty_statements))
        .routes(routes!(statements::http::my_royalty_statements))
        .routes(routes!(statements::http::royalty_statement))
        .routes(routes!(statements::http::report_proof))
        .routes(routes!(analytics::http::label_royalty_analytics))
        .routes(routes!(analytics::http::my_royalty_analytics))
        .routes(routes!(inboxes::http::royalty_inboxes, inboxes::http::add_royalty_inbox))
        .routes(routes!(inboxes::http::poll_royalty_inbox))
}

/// Registers the royalties' jobs: reading a report, expiring invitations, polling stores' inboxes.
pub fn register(registry: &mut platform::jobs::Registry) {
    reports::service::register(registry);
    splits::service::register(registry);
    inboxes::service::register(registry);
}
