//! Giving a ticket to someone: the holder offers it by email, the recipient accepts (the ticket becomes
//! theirs with a new code; the old one stops working) or declines, and the holder may withdraw a pending
//! offer.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::AppContext;
use serde::Deserialize;
use ticketing::aftersale::dto::{Transfer, TransferRequest};
use ticketing::model::TicketId;
use uuid::Uuid;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

#[derive(Deserialize)]
pub struct OfferForm {
    email: String,
}

pub async fn offer(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<TicketId>,
    Form(form): Form<OfferForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/tickets") };
    let request = TransferRequest { to_email: Some(form.email.trim().to_owned()), to_user_id: None };
    match ticketing::aftersale::service::offer(&ctx, principal, id, request).await {
        Ok(t) => super::done("/me/transfers", &format!("The ticket is offered to {}.", t.to_email)),
        Err(err) => super::error(&session, &err),
    }
}

/// A transfer as the list shows it.
pub struct Line {
    pub id: String,
    pub event: String,
    pub tier: String,
    pub email: String,
    pub state: String,
    pub when: String,
}

impl From<Transfer> for Line {
    fn from(t: Transfer) -> Self {
        Self {
            id: t.id.to_string(),
            event: t.event_title,
            tier: t.tier_name,
            email: t.to_email,
            state: t.state,
            when: format::when(t.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "transfers.html")]
struct Transfers {
    layout: Layout,
    incoming: Vec<Line>,
    outgoing: Vec<Line>,
}

pub async fn list(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/transfers") };
    match ticketing::aftersale::service::transfers(&ctx, principal).await {
        Ok(list) => {
            let view = Transfers {
                layout: Layout::new("Transfers", &session),
                incoming: list.incoming.into_iter().map(Line::from).collect(),
                outgoing: list.outgoing.into_iter().map(Line::from).collect(),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {}

/// `accept`, `decline` (the recipient) or `cancel` (the holder).
pub async fn decide(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, decision)): Path<(Uuid, String)>,
    Form(_): Form<DecideForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/transfers") };
    if !matches!(decision.as_str(), "accept" | "decline" | "cancel") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ticketing::aftersale::service::decide(&ctx, principal, id, &decision).await {
        Ok(_) if decision == "accept" => Redirect::to("/me/tickets").into_response(),
        Ok(_) => Redirect::to("/me/transfers").into_response(),
        Err(err) => super::error(&session, &err),
    }
}
