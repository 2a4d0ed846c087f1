//! Getting money out: payout methods (a bank account here; PayPal and Stripe Connect through the API)
//! and withdrawals from the available balance to one of them, cancellable while queued.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ledger::payouts::dto::{PayoutMethodRequest, WithdrawalRequest};
use platform::{ApiError, AppContext, FieldError};
use serde::Deserialize;
use uuid::Uuid;

use super::{FieldErrors, Layout, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A payout method as the page shows it.
pub struct MethodLine {
    pub id: String,
    pub display: String,
    pub kind: String,
    pub verification: String,
    pub default: bool,
}

/// A withdrawal as the page shows it.
pub struct WithdrawalLine {
    pub id: String,
    pub amount: String,
    pub fee: String,
    pub state: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "payouts.html")]
struct Payouts {
    layout: Layout,
    methods: Vec<MethodLine>,
    withdrawals: Vec<WithdrawalLine>,
    errors: FieldErrors,
    error: Option<String>,
}

async fn payouts_page(
    ctx: &AppContext,
    session: &Session,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<Payouts, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let methods = ledger::payouts::service::methods(ctx, principal).await?;
    let withdrawals = ledger::payouts::service::withdrawals(ctx, principal).await?;
    Ok(Payouts {
        layout: Layout::new("Payouts", session),
        methods: methods
            .items
            .into_iter()
            .map(|m| MethodLine {
                id: m.id.to_string(),
                display: m.display,
                kind: m.kind.replace('_', " "),
                verification: m.verification,
                default: m.is_default,
            })
            .collect(),
        withdrawals: withdrawals
            .items
            .into_iter()
            .map(|w| WithdrawalLine {
                id: w.id.to_string(),
                amount: format::money(w.amount, &w.currency),
                fee: format::money(w.fee, &w.currency),
                state: w.state,
                when: format::when(w.created_at),
            })
            .collect(),
        errors,
        error,
    })
}

fn answer(session: &Session, view: Result<Payouts, ApiError>, status: StatusCode) -> Response {
    match view {
        Ok(view) => page(status, &view),
        Err(err) => super::error(session, &err),
    }
}

pub async fn show(State(ctx): State<AppContext>, session: Session) -> Response {
    if session.principal.is_none() {
        return to_signin("/me/payouts");
    }
    answer(&session, payouts_page(&ctx, &session, FieldErrors::default(), None).await, StatusCode::OK)
}

/// Sends a refusal back to the page, with field errors beside their fields.
async fn refused(ctx: &AppContext, session: &Session, err: &ApiError) -> Response {
    if !err.status().is_client_error() || err.status() == StatusCode::NOT_FOUND {
        return super::error(session, err);
    }
    let errors = FieldErrors::from_error(err);
    let message = errors.is_empty().then(|| err.detail().to_owned());
    answer(session, payouts_page(ctx, session, errors, message).await, err.status())
}

#[derive(Deserialize)]
pub struct BankForm {
    iban: String,
    account_holder: String,
}

pub async fn add_bank_account(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Form(form): Form<BankForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/payouts") };
    let request = PayoutMethodRequest {
        kind: "bank_account".into(),
        iban: Some(form.iban),
        account_holder: Some(form.account_holder),
        email: None,
        stripe_account_id: None,
        make_default: false,
    };
    match ledger::payouts::service::add_method(&ctx, principal, settings.ledger.stripe.as_ref(), request).await {
        Ok(_) => Redirect::to("/me/payouts").into_response(),
        Err(err) => refused(&ctx, &session, &err).await,
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    amount: String,
    currency: String,
    payout_method_id: Uuid,
}

pub async fn withdraw(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Form(form): Form<WithdrawForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/payouts") };
    let currency = form.currency.trim().to_uppercase();
    let Some(amount) = format::parse_money(&form.amount, &currency) else {
        let err = ApiError::validation(vec![FieldError::new(
            "amount",
            "invalid_format",
            "must be an amount such as 20 or 20.50",
        )]);
        return refused(&ctx, &session, &err).await;
    };
    let request = WithdrawalRequest { amount, currency, payout_method_id: form.payout_method_id };
    let now = ctx.clock.now();
    let result = async {
        let mut tx = ctx.db.begin().await?;
        let withdrawal =
            ledger::payouts::service::request(&mut tx, principal, settings.ledger.withdrawals, &request, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(withdrawal)
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/me/payouts").into_response(),
        Err(err) => refused(&ctx, &session, &err).await,
    }
}

#[derive(Deserialize)]
pub struct CancelForm {}

pub async fn cancel(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<Uuid>,
    Form(_): Form<CancelForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/payouts") };
    match ledger::payouts::service::cancel(&ctx, principal, id).await {
        Ok(_) => Redirect::to("/me/payouts").into_response(),
        Err(err) => refused(&ctx, &session, &err).await,
    }
}
