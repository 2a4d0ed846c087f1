//! The double-entry ledger: every movement of money in Backline (tickets, gig fees, royalties, credits,
//! payouts) is a balanced journal entry between accounts; balances are derived from the postings; the
//! database enforces balance, no overdraft and immutability. See docs/ledger.md.

pub mod demo;
pub mod dto;
pub mod earnings;
pub mod error;
mod http;
pub mod model;
pub mod money;
pub mod payments;
pub mod payouts;
pub mod repo;
pub mod service;
pub mod stripe;

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The ledger's settings.
#[derive(Debug, Clone, Default)]
pub struct LedgerSettings {
    pub providers: ProviderSecrets,
    /// The provider of payments that do not name one.
    pub default_provider: payments::Provider,
    /// Stripe's API, when configured.
    pub stripe: Option<stripe::Client>,
    pub withdrawals: payouts::WithdrawalSettings,
}

/// Webhook secrets of the payment providers.
#[derive(Debug, Clone)]
pub struct ProviderSecrets {
    /// Stripe's endpoint secrets (several while rotating).
    pub stripe: Vec<String>,
    /// The sandbox provider's secret.
    pub sandbox: String,
}

impl Default for ProviderSecrets {
    fn default() -> Self {
        Self { stripe: Vec::new(), sandbox: "whsec_sandbox".into() }
    }
}

pub fn router(settings: LedgerSettings) -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(http::wallet))
        .routes(routes!(http::statement))
        .routes(routes!(http::entry))
        .routes(routes!(http::adjust))
        .routes(routes!(http::reverse))
        .routes(routes!(http::add_payout_method, http::payout_methods))
        .routes(routes!(http::remove_payout_method))
        .routes(routes!(http::withdraw, http::withdrawals))
        .routes(routes!(http::cancel_withdrawal))
        .routes(routes!(http::create_payment))
        .routes(routes!(http::payment))
        .routes(routes!(http::capture_payment))
        .routes(routes!(http::cancel_payment))
        .routes(routes!(http::refund_payment))
        .routes(routes!(http::provider_webhook))
        .routes(routes!(http::awaiting_approval))
        .routes(routes!(http::decide_withdrawal))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
}

/// Registers the ledger's jobs; payouts to Stripe Connect accounts need `stripe`.
pub fn register(registry: &mut platform::jobs::Registry, stripe: Option<stripe::Client>) {
    payments::register(registry, stripe.clone());
    payouts::register(registry, stripe);
    earnings::register(registry);
}
