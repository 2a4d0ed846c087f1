//! The double-entry ledger: every movement of money in Backline (tickets, gig fees, royalties, credits,
//! payouts) is a balanced journal entry between accounts; balances are derived from the postings; the
//! database enforces balance, no overdraft and immutability. See docs/ledger.md.

pub mod accounts;
pub mod cards;
pub mod demo;
pub mod earnings;
pub mod error;
pub mod model;
pub mod money;
pub mod payments;
pub mod payouts;
pub mod stripe;

// The posting engine, as other domains call it.
pub use accounts::repo::AccountRow;
pub use accounts::{dto, repo, service};

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The ledger's settings.
#[derive(Debug, Clone, Default)]
pub struct LedgerSettings {
    pub providers: ProviderSecrets,
    /// The provider of payments that do not name one.
    pub default_provider: payments::service::Provider,
    /// Stripe's API, when configured.
    pub stripe: Option<stripe::Client>,
    pub withdrawals: payouts::service::WithdrawalSettings,
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
        .routes(routes!(accounts::http::wallet))
        .routes(routes!(accounts::http::statement))
        .routes(routes!(accounts::http::entry))
        .routes(routes!(accounts::http::adjust))
        .routes(routes!(accounts::http::reverse))
        .routes(routes!(payouts::http::add_payout_method, payouts::http::payout_methods))
        .routes(routes!(cards::http::save_card, cards::http::saved_cards))
        .routes(routes!(cards::http::remove_saved_card))
        .routes(routes!(payouts::http::remove_payout_method))
        .routes(routes!(payouts::http::withdraw, payouts::http::withdrawals))
        .routes(routes!(payouts::http::cancel_withdrawal))
        .routes(routes!(payments::http::create_payment))
        .routes(routes!(payments::http::payment))
        .routes(routes!(payments::http::capture_payment))
        .routes(routes!(payments::http::sandbox_authentication))
        .routes(routes!(payments::http::cancel_payment))
        .routes(routes!(payments::http::refund_payment))
        .routes(routes!(payments::http::provider_webhook))
        .routes(routes!(payouts::http::awaiting_approval))
        .routes(routes!(payouts::http::decide_withdrawal))
        .layer(axum::Extension(std::sync::Arc::new(settings)))
}

/// Registers the ledger's jobs; payouts to Stripe Connect accounts need `stripe`.
pub fn register(registry: &mut platform::jobs::Registry, stripe: Option<stripe::Client>) {
    payments::service::register(registry, stripe.clone());
    payouts::service::register(registry, stripe);
    earnings::service::register(registry);
}
