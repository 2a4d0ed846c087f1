//! Stripe's REST API, as Stripe documents it: PaymentIntents and Refunds for money in, Connect transfers
//! (and account lookups) for money out. Every call is a form-encoded request authenticated with the
//! secret key as a Bearer token, with a pinned `Stripe-Version`; every POST carries an `Idempotency-Key`
//! chosen by the caller, so that a call retried after a timeout or a crash has exactly one effect at
//! Stripe. The base URL is configurable: tests point it at a local server that replays recorded Stripe
//! responses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The API version every request asks for, so that Stripe's answers keep the shape this code reads.
pub const API_VERSION: &str = "2024-06-20";

/// Where Stripe is and how to authenticate.
#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_live_...` or `sk_test_...` (a restricted `rk_...` key works too).
    pub secret_key: String,
    /// `https://api.stripe.com` in production.
    pub base_url: String,
    /// How long one call may take.
    pub timeout: Duration,
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret key never reaches a log.
        f.debug_struct("StripeConfig").field("base_url", &self.base_url).field("secret_key", &"[redacted]").finish()
    }
}

/// A Stripe API client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Arc<str>,
    secret_key: Arc<str>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stripe::Client").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// A PaymentIntent, as far as Backline reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    /// `requires_payment_method`, `requires_confirmation`, `requires_action`, `processing`,
    /// `requires_capture`, `canceled` or `succeeded`.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub client_secret: Option<String>,
    pub last_payment_error: Option<ErrorBody>,
}

/// A Refund.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    pub amount: i64,
    pub failure_reason: Option<String>,
}

/// A Connect transfer to a connected account.
#[derive(Debug, Clone, Deserialize)]
pub struct Transfer {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub destination: Option<String>,
}

/// A connected account.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    #[serde(default)]
    pub payouts_enabled: bool,
    #[serde(default)]
    pub capabilities: serde_json::Map<String, serde_json::Value>,
}

impl Account {
    /// Whether the platform can transfer money to this account now.
    pub fn accepts_transfers(&self) -> bool {
        self.capabilities.get("transfers").and_then(|v| v.as_str()) == Some("active")
    }
}

/// Stripe's error object (`{"error": {...}}`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub param: Option<String>,
    pub payment_intent: Option<Box<PaymentIntent>>,
}

impl ErrorBody {
    /// The most specific reason Stripe gave: the issuer's decline code, else the error code, else its type.
    pub fn reason(&self) -> String {
        self.decline_code.clone().or_else(|| self.code.clone()).unwrap_or_else(|| self.kind.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe refused the request (a 4xx answer: a declined card, a bad parameter, an unknown account,
    /// too little balance). Retrying the same call gives the same answer.
    #[error("Stripe refused the request: {}", .error.message.as_deref().unwrap_or("no reason given"))]
    Refused { status: u16, error: ErrorBody },
    /// Stripe could not be reached, timed out, throttled, or failed on its side. The same call, with the
    /// same idempotency key, may be retried.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
}

/// One form parameter.
pub type Param = (&'static str, String);

impl Client {
    pub fn new(config: &StripeConfig) -> anyhow::Result<Self> {
        let base_url = config.base_url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base_url).map_err(|e| anyhow::anyhow!("the Stripe API base URL: {e}"))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            anyhow::bail!("the Stripe API base URL must be http(s)");
        }
        if config.secret_key.trim().is_empty() {
            anyhow::bail!("the Stripe secret key is empty");
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Backline/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base_url: base_url.into(), secret_key: config.secret_key.trim().into() })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[Param],
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.secret_key)
            .header("Stripe-Version", API_VERSION);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if !params.is_empty() {
            request = request.form(params);
        }
        let response = request.send().await.map_err(|e| StripeError::Unavailable(without_url(e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| StripeError::Unavailable(without_url(e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| StripeError::Unavailable(format!("Stripe's answer could not be read: {e}")));
        }
        #[derive(Deserialize)]
        struct Envelope {
            error: ErrorBody,
        }
        let error = serde_json::from_slice::<Envelope>(&body).map(|e| e.error).unwrap_or_default();
        match status.as_u16() {
            // A wrong or revoked key is the operator's problem, not the customer's: say so in the log.
            401 | 403 => {
                tracing::error!(
                    status = status.as_u16(),
                    "Stripe refused the API key; check BACKLINE_STRIPE_SECRET_KEY"
                );
                Err(StripeError::Unavailable(format!("Stripe refused the API key ({status})")))
            }
            429 => Err(StripeError::Unavailable("Stripe is throttling requests".into())),
            400..=499 => Err(StripeError::Refused { status: status.as_u16(), error }),
            _ => Err(StripeError::Unavailable(format!("Stripe answered {status}"))),
        }
    }

    /// `POST /v1/payment_intents`, confirmed at once with `payment_method`.
    pub async fn create_payment_intent(
        &self,
        params: &[Param],
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        self.call(reqwest::Method::POST, "/v1/payment_intents", params, Some(idempotency_key)).await
    }

    /// `POST /v1/payment_intents/{id}/capture`.
    pub async fn capture_payment_intent(&self, id: &str, idempotency_key: &str) -> Result<PaymentIntent, StripeError> {
        self.call(
            reqwest::Method::POST,
            &format!("/v1/payment_intents/{}/capture", segment(id)),
            &[],
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub async fn cancel_payment_intent(&self, id: &str, idempotency_key: &str) -> Result<PaymentIntent, StripeError> {
        self.call(
            reqwest::Method::POST,
            &format!("/v1/payment_intents/{}/cancel", segment(id)),
            &[],
            Some(idempotency_key),
        )
        .await
    }

    /// `POST /v1/refunds` for all or part of a PaymentIntent.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let params = [("payment_intent", payment_intent.to_owned()), ("amount", amount.to_string())];
        self.call(reqwest::Method::POST, "/v1/refunds", &params, Some(idempotency_key)).await
    }

    /// `POST /v1/transfers` from the platform's balance to a connected account.
    pub async fn create_transfer(&self, params: &[Param], idempotency_key: &str) -> Result<Transfer, StripeError> {
        self.call(reqwest::Method::POST, "/v1/transfers", params, Some(idempotency_key)).await
    }

    /// `GET /v1/accounts/{id}`.
    pub async fn retrieve_account(&self, id: &str) -> Result<Account, StripeError> {
        self.call(reqwest::Method::GET, &format!("/v1/accounts/{}", segment(id)), &[], None).await
    }
}

/// An id as one URL path segment (Stripe ids are `[A-Za-z0-9_]`; anything else is refused by Stripe,
/// and must never change the path).
fn segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// A transport error without the URL (which is ours, and says nothing the log needs).
fn without_url(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    format!("{kind}: {}", err.without_url())
}

/// Stripe's currency code for a Backline currency (`EUR` → `eur`).
pub fn currency(code: &str) -> String {
    code.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_never_shows_in_debug_output() {
        let config = StripeConfig {
            secret_key: "sk_test_secret".into(),
            base_url: "https://api.stripe.com".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(!format!("{config:?}").contains("sk_test_secret"));
        let client = Client::new(&config).unwrap();
        assert!(!format!("{client:?}").contains("sk_test_secret"));
    }

    #[test]
    fn ids_cannot_change_the_path() {
        assert_eq!(segment("pi_123"), "pi_123");
        assert_eq!(segment("../v1/charges?x=1"), "v1chargesx1");
    }

    #[test]
    fn the_reason_is_the_most_specific_code() {
        let body = ErrorBody {
            kind: "card_error".into(),
            code: Some("card_declined".into()),
            decline_code: Some("insufficient_funds".into()),
            ..ErrorBody::default()
        };
        assert_eq!(body.reason(), "insufficient_funds");
        assert_eq!(ErrorBody { decline_code: None, ..body.clone() }.reason(), "card_declined");
        assert_eq!(ErrorBody { kind: "api_error".into(), ..ErrorBody::default() }.reason(), "api_error");
    }
}
