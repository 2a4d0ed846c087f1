//! The Stripe adapter against a local server that replays recorded Stripe answers
//! (tests/fixtures/stripe) and records what Backline sent: payments, 3-D Secure finished by webhook,
//! manual capture, refunds, declines, outages retried with the same key, Connect payouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use ledger::model::{Owner, kinds};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::ledger::{audit, balance, funded, signed};
use crate::support::{drain_jobs_with_stripe, signed_in};

const SECRET_KEY: &str = "sk_test_backline_replay";
const WEBHOOK_SECRET: &str = "whsec_stripe_replay";
/// The connected account the recorded `account.json` describes.
const ACCOUNT: &str = "acct_1QJuZ9PqRsT3uVwX";
/// A connected account whose transfers Stripe refuses for lack of platform balance.
const POOR_ACCOUNT: &str = "acct_1QJuZ9PoorBalance";

/// One request as the Stripe server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    version: Option<String>,
    form: Vec<(String, String)>,
}

impl Seen {
    fn param(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    /// While true, every answer is a 500 (an outage).
    down: bool,
    /// Answers by idempotency key, replayed as Stripe replays them.
    by_key: HashMap<String, (StatusCode, Value)>,
    /// Ids handed out so far.
    ids: std::collections::HashSet<String>,
    issued: u32,
}

#[derive(Clone, Default)]
struct FakeStripe {
    state: Arc<Mutex<State>>,
    /// Held for writing by a test, it stalls every answer until released (requests are still seen).
    gate: Arc<tokio::sync::RwLock<()>>,
}

impl FakeStripe {
    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/stripe/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Stripe's answer to a request, from the recorded fixtures.
fn answer(method: &Method, path: &str, form: &[(String, String)]) -> (StatusCode, Value) {
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "payment_intents"]) => match (param("payment_method"), param("capture_method")) {
            (Some("pm_card_chargeDeclined"), _) => (StatusCode::PAYMENT_REQUIRED, fixture("card_declined")),
            (Some("pm_nope"), _) => (StatusCode::BAD_REQUEST, fixture("payment_method_missing")),
            (Some("pm_card_authenticationRequired"), _) => (StatusCode::OK, fixture("payment_intent_requires_action")),
            (_, Some("manual")) => (StatusCode::OK, fixture("payment_intent_requires_capture")),
            _ => (StatusCode::OK, fixture("payment_intent_succeeded")),
        },
        ("POST", ["v1", "payment_intents", id, action @ ("capture" | "cancel")]) => {
            let mut intent =
                fixture(if *action == "capture" { "payment_intent_captured" } else { "payment_intent_canceled" });
            intent["id"] = json!(id);
            (StatusCode::OK, intent)
        }
        ("POST", ["v1", "refunds"]) => (StatusCode::OK, fixture("refund")),
        ("POST", ["v1", "transfers"]) if param("destination") == Some(POOR_ACCOUNT) => {
            (StatusCode::BAD_REQUEST, fixture("balance_insufficient"))
        }
        ("POST", ["v1", "transfers"]) => (StatusCode::OK, fixture("transfer")),
        ("GET", ["v1", "accounts", id]) if *id == ACCOUNT || *id == POOR_ACCOUNT => {
            let mut account = fixture("account");
            account["id"] = json!(id);
            (StatusCode::OK, account)
        }
        _ => (StatusCode::NOT_FOUND, fixture("resource_missing")),
    }
}

async fn handle(
    axum::extract::State(stripe): axum::extract::State<FakeStripe>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let form: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(&body)))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let seen = Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        version: header("stripe-version"),
        form: form.clone(),
    };
    stripe.state.lock().unwrap().seen.push(seen.clone());
    let _open = stripe.gate.read().await;
    let mut state = stripe.state.lock().unwrap();
    if state.down {
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(fixture("api_error"))).into_response();
    }
    if seen.authorization.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        let error = json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
    }
    let (status, value) = match seen.idempotency_key.as_ref().and_then(|k| state.by_key.get(k)) {
        Some(replayed) => replayed.clone(),
        None => {
            let (status, mut value) = answer(&method, uri.path(), &form);
            // Stripe never hands out an id twice: a recorded object answering a second, different
            // creation gets a fresh id.
            if let Some(id) = value["id"].as_str().map(str::to_owned).filter(|_| method == Method::POST) {
                state.issued += 1;
                if !state.ids.insert(id.clone()) && !uri.path().contains(&id) {
                    let fresh = format!("{id}{}", state.issued);
                    value["id"] = json!(fresh);
                    if let Some(secret) = value["client_secret"].as_str() {
                        value["client_secret"] = json!(secret.replace(&id, &fresh));
                    }
                }
            }
            (status, value)
        }
    };
    if let Some(key) = seen.idempotency_key {
        state.by_key.insert(key, (status, value.clone()));
    }
    (status, axum::Json(value)).into_response()
}

/// A replaying Stripe server on a local port, and a client pointed at it.
async fn fake_stripe() -> (FakeStripe, ledger::stripe::Client) {
    fake_stripe_waiting(std::time::Duration::from_secs(5)).await
}

/// [`fake_stripe`] with a client that waits up to `timeout` for an answer.
async fn fake_stripe_waiting(timeout: std::time::Duration) -> (FakeStripe, ledger::stripe::Client) {
    let stripe = FakeStripe::default();
    let router = axum::Router::new().fallback(handle).with_state(stripe.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = ledger::stripe::Client::new(&ledger::stripe::StripeConfig {
        secret_key: SECRET_KEY.into(),
        base_url: format!("http://{addr}"),
        timeout,
    })
    .unwrap();
    (stripe, client)
}

fn stripe_settings(client: &ledger::stripe::Client) -> ledger::LedgerSettings {
    ledger::LedgerSettings {
        providers: ledger::ProviderSecrets { stripe: vec![WEBHOOK_SECRET.into()], ..Default::default() },
        stripe: Some(client.clone()),
        ..Default::default()
    }
}

async fn stripe_app(client: &ledger::stripe::Client) -> TestApp {
    let settings = stripe_settings(client);
    TestApp::new(move |ctx| backline::app_with(ctx, platform::http::EdgeLimits::default(), None, settings)).await
}

fn pay(app: &TestApp, token: &str, body: &Value, key: &str) -> impl Future<Output = testkit::TestResponse> {
    app.post("/v1/payments").bearer(token).header("idempotency-key", key).json(body).send()
}

async fn payments_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM payment_intents").fetch_one(&app.db.pool).await.unwrap()
}

#[tokio::test]
async fn a_stripe_payment_is_created_once_captured_and_credited() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user_id, _) = signed_in(&app, "stripe_payer").await;
    let user = Owner::User(user_id.parse().unwrap());
    let body = json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa", "description": "Backline test"});

    let first = pay(&app, &token, &body, "pay-1").await;
    first.assert_status(StatusCode::CREATED);
    let intent = first.value();
    assert_eq!(intent["provider"], "stripe");
    assert_eq!(intent["state"], "captured");
    assert_eq!(intent["provider_ref"], "pi_3QJvQ2LkdIwHu7ix0bGc5tAu");
    assert!(intent.get("client_secret").is_none(), "no secret once the payment is done");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000);

    // What Stripe received: the documented form, authenticated, versioned and keyed.
    let seen = stripe.seen();
    assert_eq!(seen.len(), 1);
    let call = &seen[0];
    assert_eq!((call.method.as_str(), call.path.as_str()), ("POST", "/v1/payment_intents"));
    assert_eq!(call.authorization.as_deref(), Some("Bearer sk_test_backline_replay"));
    assert_eq!(call.version.as_deref(), Some(ledger::stripe::API_VERSION));
    for (name, value) in [
        ("amount", "2000"),
        ("currency", "eur"),
        ("payment_method", "pm_card_visa"),
        ("payment_method_types[]", "card"),
        ("confirm", "true"),
        ("capture_method", "automatic"),
        ("description", "Backline test"),
        ("metadata[backline_payment_id]", intent["id"].as_str().unwrap()),
    ] {
        assert_eq!(call.param(name), Some(value), "{name}");
    }
    let key = call.idempotency_key.clone().expect("an idempotency key");
    assert!(key.starts_with("backline-payment-") && !key.contains("pay-1"), "derived, not the client's own: {key}");

    // A retry is answered from the stored response; Stripe is not called again.
    let replay = pay(&app, &token, &body, "pay-1").await;
    replay.assert_status(StatusCode::CREATED);
    assert_eq!(replay.value()["id"], intent["id"]);
    assert_eq!(stripe.seen().len(), 1);
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000, "credited once");

    // Refunds: part, then the rest; then nothing is left to refund and Stripe is not asked.
    let id = intent["id"].as_str().unwrap();
    let refund = |amount: Option<i64>, key: &str| {
        app.post(&format!("/v1/payments/{id}/refunds"))
            .bearer(&token)
            .header("idempotency-key", key)
            .json(&json!({"amount": amount}))
            .send()
    };
    stripe.set_down(true);
    refund(Some(500), "refund-0").await.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000, "nothing moved");
    stripe.set_down(false);
    let part = refund(Some(500), "refund-1").await;
    part.assert_status(StatusCode::CREATED);
    assert_eq!(part.value()["refunded_amount"], 500);
    assert_eq!(part.value()["state"], "captured");
    let rest = refund(None, "refund-2").await;
    rest.assert_status(StatusCode::CREATED);
    assert_eq!(rest.value()["state"], "refunded");
    refund(None, "refund-3").await.assert_problem(StatusCode::CONFLICT, "already_refunded");
    let refunds: Vec<Seen> = stripe.seen().into_iter().filter(|s| s.path == "/v1/refunds").skip(1).collect();
    assert_eq!(refunds.len(), 2, "after the one during the outage");
    assert_eq!(refunds[0].param("payment_intent"), Some("pi_3QJvQ2LkdIwHu7ix0bGc5tAu"));
    assert_eq!(refunds[0].param("amount"), Some("500"));
    assert_eq!(refunds[1].param("amount"), Some("1500"));
    assert_ne!(refunds[0].idempotency_key, refunds[1].idempotency_key, "two refunds, two keys");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 0);
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn declines_fail_the_payment_and_bad_input_never_reaches_stripe() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user_id, _) = signed_in(&app, "declined").await;
    let user = Owner::User(user_id.parse().unwrap());

    let declined = pay(
        &app,
        &token,
        &json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_chargeDeclined"}),
        "decline-1",
    )
    .await;
    declined.assert_status(StatusCode::CREATED);
    let declined = declined.value();
    assert_eq!(declined["state"], "failed");
    assert_eq!(declined["failure_reason"], "generic_decline", "the issuer's reason");
    assert_eq!(declined["provider_ref"], "pi_3QJvT4LkdIwHu7ix1Hq2xRcD");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 0);

    // Refused before any call: a missing or malformed payment method, an unknown provider.
    let before = stripe.seen().len();
    for (body, field) in [
        (json!({"amount": 2000, "currency": "EUR", "provider": "stripe"}), "payment_method"),
        (
            json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "4242424242424242"}),
            "payment_method",
        ),
        (
            json!({"amount": 2000, "currency": "EUR", "provider": "paypal", "payment_method": "pm_card_visa"}),
            "provider",
        ),
        (json!({"amount": 0, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa"}), "amount"),
    ] {
        let res = app.post("/v1/payments").bearer(&token).json(&body).send().await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(res.value()["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(stripe.seen().len(), before);

    // Stripe refusing a parameter (here: an unknown PaymentMethod) names our field.
    let unknown = pay(
        &app,
        &token,
        &json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_nope"}),
        "x",
    )
    .await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.value()["errors"][0]["field"], "payment_method");
    assert_eq!(unknown.value()["errors"][0]["code"], "resource_missing");
    assert_eq!(payments_count(&app).await, 1, "only the declined payment is stored");
}

#[tokio::test]
async fn an_outage_stores_nothing_and_the_retry_charges_once() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user_id, _) = signed_in(&app, "retrier").await;
    let user = Owner::User(user_id.parse().unwrap());
    let body = json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa"});

    stripe.set_down(true);
    pay(&app, &token, &body, "outage-1").await.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable");
    assert_eq!(payments_count(&app).await, 0, "nothing half-written");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 0);

    stripe.set_down(false);
    let retried = pay(&app, &token, &body, "outage-1").await;
    retried.assert_status(StatusCode::CREATED);
    assert_eq!(retried.value()["state"], "captured");
    let seen = stripe.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].idempotency_key, seen[1].idempotency_key, "the retry is the same call to Stripe");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000);

    // A different client key is a different payment (and key) at Stripe.
    let other = json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa"});
    let _ = pay(&app, &token, &other, "outage-2").await;
    let seen = stripe.seen();
    assert_ne!(seen[2].idempotency_key, seen[1].idempotency_key);
}

#[tokio::test]
async fn three_d_secure_waits_for_the_webhook_and_manual_capture_goes_through_stripe() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user_id, _) = signed_in(&app, "secure").await;
    let user = Owner::User(user_id.parse().unwrap());

    let waiting = pay(
        &app,
        &token,
        &json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_authenticationRequired"}),
        "3ds-1",
    )
    .await
    .value();
    assert_eq!(waiting["state"], "initiated");
    assert_eq!(waiting["client_secret"], "pi_3QJvS1LkdIwHu7ix0Zr8yGfM_secret_Vt6Hn2QpL9xWc4Rk8Jm1Zs5Ab");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 0);
    // Reading it later never shows the secret.
    let read = app.get(&format!("/v1/payments/{}", waiting["id"].as_str().unwrap())).bearer(&token).send().await;
    assert!(read.value().get("client_secret").is_none());

    // The customer authenticates; Stripe signs and sends the event.
    let now = app.clock_now().timestamp();
    let event = json!({"id": "evt_3QJvS1LkdIwHu7ix0yRm2Lq8", "object": "event", "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_3QJvS1LkdIwHu7ix0Zr8yGfM", "object": "payment_intent", "status": "succeeded", "amount": 2000, "currency": "eur"}}})
    .to_string();
    let hook = app
        .post("/v1/webhooks/stripe")
        .header("stripe-signature", &signed(&event, WEBHOOK_SECRET, now))
        .body(event.clone())
        .send()
        .await;
    hook.assert_status(StatusCode::OK);
    assert_eq!(hook.value()["first_delivery"], true);
    let done = app.get(&format!("/v1/payments/{}", waiting["id"].as_str().unwrap())).bearer(&token).send().await;
    assert_eq!(done.value()["state"], "captured");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000);
    // Manual capture: authorized first, captured through Stripe; a second capture is refused here.
    let authorized = pay(
        &app,
        &token,
        &json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa", "capture": "manual"}),
        "manual-1",
    )
    .await
    .value();
    assert_eq!(authorized["state"], "authorized");
    let id = authorized["id"].as_str().unwrap();
    // A sandbox event naming this Stripe reference cannot touch it.
    let sandbox_event = json!({"id": "evt_sb_forged", "type": "payment_intent.payment_failed",
        "data": {"object": {"id": authorized["provider_ref"]}}})
    .to_string();
    app.post("/v1/webhooks/sandbox")
        .header("stripe-signature", &signed(&sandbox_event, "whsec_sandbox", now))
        .body(sandbox_event)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let still = app.get(&format!("/v1/payments/{id}")).bearer(&token).send().await.value();
    assert_eq!(still["state"], "authorized");
    let captured = app.post(&format!("/v1/payments/{id}/capture")).bearer(&token).send().await;
    captured.assert_status(StatusCode::OK);
    assert_eq!(captured.value()["state"], "captured");
    app.post(&format!("/v1/payments/{id}/capture"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid_payment_state");
    let captures: Vec<Seen> = stripe.seen().into_iter().filter(|s| s.path.ends_with("/capture")).collect();
    assert_eq!(captures.len(), 1);
    assert_eq!(captures[0].path, "/v1/payment_intents/pi_3QJvR8LkdIwHu7ix1tWq0eNd/capture");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 4000);

    // A cancellation that Stripe cannot be told about changes nothing here.
    let second = pay(
        &app,
        &token,
        &json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa", "capture": "manual"}),
        "manual-2",
    )
    .await
    .value();
    let second_id = second["id"].as_str().unwrap();
    stripe.set_down(true);
    app.post(&format!("/v1/payments/{second_id}/cancel"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable");
    stripe.set_down(false);
    let cancelled = app.post(&format!("/v1/payments/{second_id}/cancel")).bearer(&token).send().await;
    assert_eq!(cancelled.value()["state"], "cancelled");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn stripe_connect_payouts_transfer_once_and_return_refused_money() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user_id, _) = signed_in(&app, "connected").await;
    let user_uuid: Uuid = user_id.parse().unwrap();
    let user = Owner::User(user_uuid);
    funded(&app.db.pool, user_uuid, 10_000).await;

    let add = |account: &str| {
        app.post("/v1/me/payout-methods")
            .bearer(&token)
            .json(&json!({"kind": "stripe_connect", "stripe_account_id": account}))
            .send()
    };
    let unknown = add("acct_1QJuZ9NoSuChAcct").await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(unknown.value()["errors"][0]["code"], "unknown_account");
    let method = add(ACCOUNT).await;
    method.assert_status(StatusCode::CREATED);
    let method = method.value();
    assert_eq!(method["provider"], "stripe");
    assert_eq!(method["verification"], "verified", "its transfers capability is active");
    let poor = add(POOR_ACCOUNT).await.value();

    let withdraw = |method: &str, key: &str| {
        app.post("/v1/me/withdrawals")
            .bearer(&token)
            .header("idempotency-key", key)
            .json(&json!({"amount": 4000, "currency": "EUR", "payout_method_id": method}))
            .send()
    };
    // An outage: the job retries later, and the transfer it finally makes is keyed by the withdrawal.
    let paid = withdraw(method["id"].as_str().unwrap(), "w-1").await.value();
    stripe.set_down(true);
    drain_jobs_with_stripe(&app, client.clone()).await;
    let state: String = sqlx::query_scalar("SELECT state FROM withdrawals WHERE id = $1")
        .bind(Uuid::parse_str(paid["id"].as_str().unwrap()).unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    // Nothing settled while Stripe is down; the withdrawal is `processing` (a call that timed out may have
    // made the transfer, so it can no longer be cancelled) until the retried job hears Stripe's answer.
    assert_eq!(state, "processing", "nothing settled while Stripe is down");
    app.post(&format!("/v1/me/withdrawals/{}/cancel", paid["id"].as_str().unwrap()))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "not_cancellable");
    stripe.set_down(false);
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE state = 'queued'")
        .bind(app.clock_now())
        .execute(&app.db.pool)
        .await
        .unwrap();
    drain_jobs_with_stripe(&app, client.clone()).await;
    let list = app.get("/v1/me/withdrawals").bearer(&token).send().await.value();
    let item = |id: &Value| list["items"].as_array().unwrap().iter().find(|w| w["id"] == *id).unwrap().clone();
    let paid = item(&paid["id"]);
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid["provider_ref"], "tr_1QJvU7LkdIwHu7ixh3Vb8WqE");
    let transfers: Vec<Seen> = stripe.seen().into_iter().filter(|s| s.path == "/v1/transfers").collect();
    assert!(transfers.len() >= 2, "tried during the outage, then again");
    assert!(transfers.iter().all(|t| t.idempotency_key == transfers[0].idempotency_key), "one key for every try");
    let last = transfers.last().unwrap();
    assert_eq!(last.param("destination"), Some(ACCOUNT));
    assert_eq!(last.param("amount"), Some("4000"));
    assert_eq!(last.param("currency"), Some("eur"));
    assert_eq!(last.param("metadata[backline_withdrawal_id]"), paid["id"].as_str());

    // Stripe refuses the next transfer: the withdrawal fails and its money (and fee) come back.
    let refused = withdraw(poor["id"].as_str().unwrap(), "w-2").await.value();
    let available_while_held = balance(&app.db.pool, user, kinds::AVAILABLE).await;
    drain_jobs_with_stripe(&app, client.clone()).await;
    let list = app.get("/v1/me/withdrawals").bearer(&token).send().await.value();
    let refused = list["items"].as_array().unwrap().iter().find(|w| w["id"] == refused["id"]).unwrap().clone();
    assert_eq!(refused["state"], "failed");
    assert!(refused["failure_reason"].as_str().unwrap().contains("balance_insufficient"));
    assert_eq!(
        balance(&app.db.pool, user, kinds::AVAILABLE).await,
        available_while_held + 4000 + refused["fee"].as_i64().unwrap()
    );
    let paid_total = 4000 + paid["fee"].as_i64().unwrap();
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 10_000 - paid_total, "only the paid one left");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn stripe_needs_configuration() {
    let app = crate::support::app().await;
    let (token, _, _) = signed_in(&app, "unconfigured").await;
    let res = app
        .post("/v1/payments")
        .bearer(&token)
        .json(&json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa"}))
        .send()
        .await;
    res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(res.value()["errors"][0]["code"], "not_configured");
    // Without Stripe, a Connect account is a sandbox method.
    let method = app
        .post("/v1/me/payout-methods")
        .bearer(&token)
        .json(&json!({"kind": "stripe_connect", "stripe_account_id": ACCOUNT}))
        .send()
        .await
        .value();
    assert_eq!(method["provider"], "sandbox");
}

/// No database connection is held while Stripe is asked: with a pool of four connections and Stripe
/// stalled in four calls at once (payments, a capture, a refund), twenty other requests are answered
/// before Stripe answers any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_provider_holds_no_database_connection() {
    // The client waits for Stripe longer than the test's guard below, so that a request holding a
    // connection while it waits would keep holding it.
    let (stripe, client) = fake_stripe_waiting(std::time::Duration::from_secs(60)).await;
    let settings = stripe_settings(&client);
    let app = Arc::new(
        TestApp::with_pool_size(4, move |ctx| {
            backline::app_with(ctx, platform::http::EdgeLimits::default(), None, settings)
        })
        .await,
    );
    let (token, _, _) = signed_in(&app, "stall_payer").await;
    let card = |capture: &str| json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa", "capture": capture});
    let captured = pay(&app, &token, &card("automatic"), "before-1").await.value();
    let authorized = pay(&app, &token, &card("manual"), "before-2").await.value();
    let seen_before = stripe.seen().len();

    let stall = stripe.gate.clone().write_owned().await;
    let mut stalled = Vec::new();
    for (i, request) in ["pay", "pay", "capture", "refund"].into_iter().enumerate() {
        let (app, token) = (app.clone(), token.clone());
        let (captured, authorized) =
            (captured["id"].as_str().unwrap().to_owned(), authorized["id"].as_str().unwrap().to_owned());
        stalled.push(tokio::spawn(async move {
            match request {
                "pay" => pay(&app, &token, &card("automatic"), &format!("stalled-{i}")).await,
                "capture" => app.post(&format!("/v1/payments/{authorized}/capture")).bearer(&token).send().await,
                _ => {
                    app.post(&format!("/v1/payments/{captured}/refunds"))
                        .bearer(&token)
                        .header("idempotency-key", "stalled-refund")
                        .json(&json!({"amount": 500}))
                        .send()
                        .await
                }
            }
        }));
    }
    // Wait until Stripe holds all four calls.
    for _ in 0..500 {
        if stripe.seen().len() >= seen_before + 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(stripe.seen().len(), seen_before + 4, "four calls wait at Stripe");

    let mut others = Vec::new();
    for _ in 0..20 {
        let (app, token, id) = (app.clone(), token.clone(), captured["id"].as_str().unwrap().to_owned());
        others.push(tokio::spawn(
            async move { app.get(&format!("/v1/payments/{id}")).bearer(&token).send().await.status },
        ));
    }
    for other in others {
        // A guard against hanging, not a measurement: the answer comes while Stripe still stalls.
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), other)
            .await
            .expect("answered while Stripe stalls")
            .unwrap();
        assert_eq!(status, StatusCode::OK);
    }
    assert!(stalled.iter().all(|task| !task.is_finished()), "Stripe has answered none of the stalled calls yet");

    drop(stall);
    let mut statuses = Vec::new();
    for task in stalled {
        statuses.push(task.await.unwrap().status);
    }
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CREATED, StatusCode::OK, StatusCode::CREATED]);
    let refunded = app.get(&format!("/v1/payments/{}", captured["id"].as_str().unwrap())).bearer(&token).send().await;
    assert_eq!(
        (refunded.value()["refunded_amount"].as_i64(), refunded.value()["refund_pending"].as_i64()),
        (Some(500), Some(0))
    );
    audit(&app.db.pool).await;
}

/// A refund whose request dies while Stripe is asked (its client hung up: the handler is dropped) keeps
/// its money reserved, and the resume job asks Stripe again with the same key and records the answer.
#[tokio::test]
async fn a_refund_whose_request_died_is_finished_by_its_job() {
    let (stripe, client) = fake_stripe_waiting(std::time::Duration::from_secs(60)).await;
    let app = Arc::new(stripe_app(&client).await);
    let (token, user_id, _) = signed_in(&app, "dying_refund").await;
    let user = Owner::User(user_id.parse().unwrap());
    let body = json!({"amount": 2000, "currency": "EUR", "provider": "stripe", "payment_method": "pm_card_visa"});
    let id = pay(&app, &token, &body, "pay-dying").await.value()["id"].as_str().unwrap().to_owned();
    let seen_before = stripe.seen().len();

    let stall = stripe.gate.clone().write_owned().await;
    let request = {
        let (app, token, id) = (app.clone(), token.clone(), id.clone());
        tokio::spawn(async move {
            app.post(&format!("/v1/payments/{id}/refunds"))
                .bearer(&token)
                .header("idempotency-key", "refund-dying")
                .json(&json!({"amount": 700}))
                .send()
                .await
        })
    };
    for _ in 0..500 {
        if stripe.seen().len() > seen_before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    drop(stall);
    // Reserved, not yet refunded: the wallet cannot spend it, and a second refund waits its turn.
    let payment = app.get(&format!("/v1/payments/{id}")).bearer(&token).send().await.value();
    assert_eq!((payment["refund_pending"].as_i64(), payment["refunded_amount"].as_i64()), (Some(700), Some(0)));
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 1300);
    assert_eq!(balance(&app.db.pool, user, kinds::HELD).await, 700);
    app.post(&format!("/v1/payments/{id}/refunds"))
        .bearer(&token)
        .json(&json!({"amount": 100}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "refund_in_progress");

    // Not before its time; then the job asks Stripe again, with the same key, and records the refund.
    app.clock.advance(chrono::Duration::minutes(5) - chrono::Duration::seconds(1));
    drain_jobs_with_stripe(&app, client.clone()).await;
    assert_eq!(stripe.seen().len(), seen_before + 1);
    app.clock.advance(chrono::Duration::seconds(1));
    drain_jobs_with_stripe(&app, client.clone()).await;
    let refunds: Vec<Seen> = stripe.seen().into_iter().filter(|s| s.path == "/v1/refunds").collect();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0].idempotency_key, refunds[1].idempotency_key, "the same refund, asked again");
    let payment = app.get(&format!("/v1/payments/{id}")).bearer(&token).send().await.value();
    assert_eq!((payment["refund_pending"].as_i64(), payment["refunded_amount"].as_i64()), (Some(0), Some(700)));
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 1300);
    assert_eq!(balance(&app.db.pool, user, kinds::HELD).await, 0);
    audit(&app.db.pool).await;
}

/// A Stripe card on file (a PaymentMethod attached to a customer) is charged off session into its
/// holder's wallet; a retry with the same key is the same PaymentIntent; a declined one is a failed
/// payment with Stripe's reason; an ill-formed one never reaches Stripe.
#[tokio::test]
async fn a_stripe_card_on_file_is_charged_off_session() {
    let (stripe, client) = fake_stripe().await;
    let app = stripe_app(&client).await;
    let (token, user, _) = signed_in(&app, "stripe_cof").await;
    let user = Uuid::parse_str(&user).unwrap();
    let save = |method: &str| {
        app.post("/v1/me/cards")
            .bearer(&token)
            .json(&json!({"provider": "stripe", "payment_method": method, "customer": "cus_QbFq1w2e3r4t5y"}))
            .send()
    };
    let res = app
        .post("/v1/me/cards")
        .bearer(&token)
        .json(&json!({"provider": "stripe", "payment_method": "pm_card_visa"}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "customer");
    let card = save("pm_card_visa").await;
    card.assert_status(StatusCode::CREATED);
    let card = Uuid::parse_str(card.value()["id"].as_str().unwrap()).unwrap();
    assert!(stripe.seen().is_empty(), "saving asks Stripe nothing");

    let settings = stripe_settings(&client);
    let now = app.clock_now();
    let charge = |card: Uuid, key: &'static str| {
        ledger::cards::service::charge(&app.ctx, &settings, card, 2000, "EUR", "Pro plan", key, now)
    };
    let paid = charge(card, "renewal-1").await.unwrap();
    assert_eq!((paid.provider.as_str(), paid.state.as_str()), ("stripe", "captured"));
    let again = charge(card, "renewal-1").await.unwrap();
    assert_eq!(again.id, paid.id, "the retry is the first payment");
    let seen = stripe.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].param("customer"), Some("cus_QbFq1w2e3r4t5y"));
    assert_eq!(seen[0].param("off_session"), Some("true"));
    assert_eq!(seen[0].param("payment_method"), Some("pm_card_visa"));
    assert_eq!(balance(&app.db.pool, Owner::User(user), kinds::AVAILABLE).await, 2000);

    let declined = Uuid::parse_str(save("pm_card_chargeDeclined").await.value()["id"].as_str().unwrap()).unwrap();
    let failed = charge(declined, "renewal-2").await.unwrap();
    assert_eq!(failed.state, "failed");
    assert!(failed.failure_reason.is_some(), "{failed:?}");
    assert_eq!(balance(&app.db.pool, Owner::User(user), kinds::AVAILABLE).await, 2000);
}
