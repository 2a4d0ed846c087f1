//! A user's wallet: every account with its balance, and an account's statement with its running
//! balance drawn as a chart.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ledger::model::AccountId;
use platform::AppContext;

use super::{Layout, page, to_signin};
use crate::{chart, format};

/// An account in the wallet.
pub struct AccountLine {
    pub id: String,
    pub kind: String,
    pub currency: String,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct Wallet {
    layout: Layout,
    accounts: Vec<AccountLine>,
}

pub async fn wallet(State(ctx): State<AppContext>, session: crate::session::Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/wallet") };
    match ledger::service::wallet(&ctx, principal).await {
        Ok(wallet) => {
            let accounts = wallet
                .accounts
                .into_iter()
                .map(|a| AccountLine {
                    id: a.id.to_string(),
                    kind: a.kind.replace('_', " "),
                    balance: format::money(a.balance, &a.currency),
                    currency: a.currency,
                })
                .collect();
            page(StatusCode::OK, &Wallet { layout: Layout::new("Wallet", &session), accounts })
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A line of a statement.
pub struct Line {
    pub when: String,
    pub kind: String,
    pub memo: String,
    pub amount: String,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct Statement {
    layout: Layout,
    id: String,
    title: String,
    opening: String,
    closing: String,
    chart: String,
    lines: Vec<Line>,
}

pub async fn statement(
    State(ctx): State<AppContext>,
    session: crate::session::Session,
    Path(id): Path<AccountId>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/me/wallet/{id}")) };
    let account = match ledger::service::readable(&ctx, principal, id).await {
        Ok(account) => account,
        Err(err) => return super::error(&session, &err),
    };
    let from = account.created_at;
    let to = ctx.clock.now() + chrono::Duration::seconds(1);
    let statement = match ctx.db.acquire().await {
        Ok(mut conn) => ledger::service::statement(&mut conn, account, from, to).await,
        Err(err) => Err(err),
    };
    let statement = match statement {
        Ok(statement) => statement,
        Err(err) => return super::error(&session, &err.into()),
    };
    let currency = statement.account.currency.clone();
    let mut balances = vec![statement.opening_balance];
    balances.extend(statement.lines.iter().map(|l| l.balance));
    let title = format!("{} {}", statement.account.kind.replace('_', " "), currency);
    let label = format!(
        "The {title} balance over time, from {} to {}",
        format::money(statement.opening_balance, &currency),
        format::money(statement.closing_balance, &currency)
    );
    let view = Statement {
        layout: Layout::new(format!("Statement of {title}"), &session),
        id: id.to_string(),
        opening: format::money(statement.opening_balance, &currency),
        closing: format::money(statement.closing_balance, &currency),
        chart: chart::line(&balances, 640, 160, &label),
        lines: statement
            .lines
            .iter()
            .rev()
            .map(|l| Line {
                when: format::when(l.at),
                kind: l.kind.clone(),
                memo: l.memo.clone(),
                amount: format::money(l.amount, &currency),
                balance: format::money(l.balance, &currency),
            })
            .collect(),
        title,
    };
    page(StatusCode::OK, &view)
}
