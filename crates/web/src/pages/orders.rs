//! Buying tickets: an order holds them while the buyer pays with a card (the sandbox's test cards, or
//! Stripe where it is configured); paid, they are issued at once.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::AppContext;
use serde::Deserialize;
use ticketing::model::{EventId, OrderId, TierId};
use ticketing::orders::dto::{NewOrder, Order, OrderItemRequest, PayOrder};
use ticketing::orders::service::{self as orders, Payment, Shop};

use super::{Layout, PayForm, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

#[derive(Deserialize)]
pub struct BuyForm {
    tier: TierId,
    quantity: i32,
    /// An attribution link's code, from the event page's `?ref=`.
    #[serde(default)]
    attribution: String,
    /// The waiting room's pass, when the on-sale is behind one.
    #[serde(default)]
    pass: String,
}

/// Reserves tickets of one tier; the order page then asks for the payment.
pub async fn reserve(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    Extension(sold_out): Extension<Arc<orders::SoldOutTiers>>,
    session: Session,
    Path(event): Path<EventId>,
    Form(form): Form<BuyForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/events/{event}")) };
    let request = NewOrder {
        items: vec![OrderItemRequest { tier_id: form.tier, quantity: form.quantity }],
        attribution: Some(form.attribution.trim().to_owned()).filter(|c| !c.is_empty()),
        pass: Some(form.pass.trim().to_owned()).filter(|p| !p.is_empty()),
        pay: None,
    };
    let now = ctx.clock.now();
    let result = async {
        let mut tx = ctx.db.begin().await?;
        let order = orders::reserve(
            &mut tx,
            orders::Seller { secrets: &ctx.secrets, sold_out: &sold_out },
            &settings.ticketing,
            principal,
            event,
            &request,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, platform::ApiError>(order)
    }
    .await;
    match result {
        Ok(order) => Redirect::to(&format!("/orders/{}", order.id)).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// A line of an order.
pub struct Line {
    pub tier: String,
    pub quantity: i32,
    pub price: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    id: String,
    event_id: String,
    event: String,
    state: String,
    total: String,
    expires: String,
    lines: Vec<Line>,
    tickets: usize,
    /// A key for this checkout: a form sent twice charges once.
    key: String,
    card: String,
    error: Option<String>,
}

async fn order_page(ctx: &AppContext, session: &Session, order: Order, card: &str, error: Option<String>) -> OrderPage {
    let mut conn = ctx.db.acquire().await.ok();
    let event = match conn.as_mut() {
        Some(conn) => ticketing::event_summary(conn, order.event_id.0).await.ok().flatten().map(|e| e.title),
        None => None,
    };
    OrderPage {
        layout: Layout::new("Your order", session),
        id: order.id.to_string(),
        event_id: order.event_id.to_string(),
        event: event.unwrap_or_else(|| "An event".to_owned()),
        state: order.state.clone(),
        total: if order.amount == 0 { "Free".to_owned() } else { format::money(order.amount, &order.currency) },
        expires: format::when(order.expires_at),
        lines: order
            .items
            .iter()
            .map(|i| Line {
                tier: i.tier_name.clone(),
                quantity: i.quantity,
                price: format::money(i.unit_price * i64::from(i.quantity), &order.currency),
            })
            .collect(),
        tickets: order.tickets.len(),
        key: platform::hex::encode(&platform::crypto::random_bytes::<16>()),
        card: card.to_owned(),
        error,
    }
}

pub async fn order(State(ctx): State<AppContext>, session: Session, Path(id): Path<OrderId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orders/{id}")) };
    match orders::get(&ctx, principal, id).await {
        Ok(order) => page(StatusCode::OK, &order_page(&ctx, &session, order, "4242 4242 4242 4242", None).await),
        Err(err) => super::error(&session, &err),
    }
}

/// How a ticket payment form pays: by card (the default) or from the wallet.
fn card_or_wallet(form: &PayForm) -> PayOrder {
    PayOrder {
        source: Some(form.source("card").into()),
        provider: None,
        card_number: form.card("card"),
        payment_method: None,
    }
}

/// Pays a pending order by card: the card is charged (no database transaction open while the provider
/// answers), then the order is paid from the wallet it credited and its tickets are issued.
pub async fn pay(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<OrderId>,
    Form(form): Form<PayForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orders/{id}")) };
    let now = ctx.clock.now();
    let how = card_or_wallet(&form);
    let key = form.retry_key("checkout");
    let shop = Shop::of(&ctx, &settings.ledger);
    let result = async {
        let charged = orders::charge_order(&shop, principal, id, &how, Some(&key), now).await?;
        let mut tx = ctx.db.begin().await?;
        let payment = Payment { order: id, body: &how, retry_key: Some(&key), charged };
        let order = orders::pay(&mut tx, &shop, principal, payment, now).await?;
        tx.commit().await?;
        Ok::<_, platform::ApiError>(order)
    }
    .await;
    match result {
        Ok(_) => super::done("/me/tickets", "Paid: your tickets are below."),
        // The card asks for 3-D Secure: the bank's step, then the order is paid from the wallet.
        Err(err) if ledger::payments::pending_payment(&err).is_some() => {
            let payment = ledger::payments::pending_payment(&err).unwrap_or_default();
            Redirect::to(&format!("/payments/{payment}/authenticate?order={id}")).into_response()
        }
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            // The order page again, with what went wrong beside the card.
            match orders::get(&ctx, principal, id).await {
                Ok(order) => {
                    let view =
                        order_page(&ctx, &session, order, &form.card_number, Some(err.detail().to_owned())).await;
                    page(err.status(), &view)
                }
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// Buys a ticket another fan put up for resale, from the wallet or by card (the card is charged before
/// the purchase's transaction, as for an order); the ticket gets a new code, the old one stops working.
pub async fn buy_listing(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(listing): Path<uuid::Uuid>,
    Form(form): Form<PayForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/events") };
    let now = ctx.clock.now();
    let how = card_or_wallet(&form);
    let key = form.retry_key("resale");
    let shop = Shop::of(&ctx, &settings.ledger);
    let result = async {
        let charged =
            ticketing::aftersale::service::charge_listing(&shop, principal, listing, &how, Some(&key), now).await?;
        let mut tx = ctx.db.begin().await?;
        let purchase = ticketing::aftersale::service::Purchase { listing, how: &how, retry_key: Some(&key), charged };
        let ticket =
            ticketing::aftersale::service::buy(&mut tx, &shop, &settings.ticketing, principal, purchase, now).await?;
        tx.commit().await?;
        Ok::<_, platform::ApiError>(ticket)
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/me/tickets").into_response(),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Template)]
#[template(path = "authenticate.html")]
struct Challenge {
    layout: Layout,
    id: String,
    amount: String,
    description: String,
    order: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChallengeQuery {
    order: String,
}

/// The sandbox's 3-D Secure page: what a bank shows when a card payment needs the customer's
/// confirmation (card `4000 0000 0000 3220`). Only the payer sees it.
pub async fn challenge(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<uuid::Uuid>,
    Query(q): Query<ChallengeQuery>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/payments/{id}/authenticate")) };
    match ledger::payments::service::get(&ctx, principal, id).await {
        Ok(p) if p.provider == "sandbox" && p.state == "initiated" => {
            let view = Challenge {
                layout: Layout::new("Confirm the payment", &session),
                id: id.to_string(),
                amount: format::money(p.amount, &p.currency),
                description: p.description,
                order: q.order.parse::<uuid::Uuid>().map(|o| o.to_string()).unwrap_or_default(),
            };
            page(StatusCode::OK, &view)
        }
        Ok(_) => super::error(&session, &platform::ApiError::not_found("No such payment waits for you.")),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChallengeForm {
    approve: String,
    order: String,
}

/// The payer's answer: approved, the payment is captured into their wallet and the order it was for is
/// paid from there; failed, the order page says so.
pub async fn answer_challenge(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<uuid::Uuid>,
    Form(form): Form<ChallengeForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/payments/{id}/authenticate")) };
    let approve = form.approve == "true";
    if let Err(err) = ledger::payments::service::sandbox_authenticate(&ctx, principal, id, approve).await {
        return super::error(&session, &err);
    }
    let Ok(order) = form.order.parse::<uuid::Uuid>().map(OrderId) else {
        return Redirect::to("/me/wallet").into_response();
    };
    if !approve {
        return match orders::get(&ctx, principal, order).await {
            Ok(o) => {
                let message =
                    "Your bank did not confirm the payment; nothing was charged. Try again or use another card.";
                let view = order_page(&ctx, &session, o, "4242 4242 4242 4242", Some(message.to_owned())).await;
                page(StatusCode::PAYMENT_REQUIRED, &view)
            }
            Err(err) => super::error(&session, &err),
        };
    }
    let now = ctx.clock.now();
    let how = PayOrder { source: Some("wallet".into()), provider: None, card_number: None, payment_method: None };
    let key = format!("web-3ds-{}", id.simple());
    let shop = Shop::of(&ctx, &settings.ledger);
    let result = async {
        let mut tx = ctx.db.begin().await?;
        let payment = Payment { order, body: &how, retry_key: Some(&key), charged: None };
        let paid = orders::pay(&mut tx, &shop, principal, payment, now).await?;
        tx.commit().await?;
        Ok::<_, platform::ApiError>(paid)
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/me/tickets").into_response(),
        // The money stays in the wallet whatever happened to the order (it expired, say).
        Err(err) => super::error(&session, &err),
    }
}
