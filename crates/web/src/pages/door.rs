//! The door: staff type or paste a ticket's code (or its QR payload), or scan it with the device's
//! camera where the browser offers a barcode detector; each scan answers at once, and the counts of who
//! came follow.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::AppContext;
use serde::Deserialize;
use ticketing::checkin::dto::{Attendance, Scan, ScanResult};
use ticketing::model::EventId;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// A scan's answer as the door shows it.
pub struct Outcome {
    pub accepted: bool,
    pub heading: String,
    pub detail: String,
}

impl From<ScanResult> for Outcome {
    fn from(r: ScanResult) -> Self {
        let tier = r.tier_name.unwrap_or_default();
        let at = r.checked_in_at.map(format::when).unwrap_or_default();
        let (heading, detail) = match r.outcome.as_str() {
            "checked_in" => ("Admit".to_owned(), format!("{tier} · checked in {at}")),
            "already_checked_in" => ("Already in".to_owned(), format!("{tier} · this ticket came in {at}")),
            "revoked" => ("Refuse".to_owned(), "An old code: the ticket was transferred or resold.".to_owned()),
            "refunded" => ("Refuse".to_owned(), "This ticket was refunded.".to_owned()),
            "foreign_event" => ("Refuse".to_owned(), "A ticket of another event.".to_owned()),
            "invalid_signature" => {
                ("Refuse".to_owned(), "The code's signature is not this event's: forged.".to_owned())
            }
            _ => ("Refuse".to_owned(), "No ticket has this code.".to_owned()),
        };
        Self { accepted: r.accepted, heading, detail }
    }
}

/// Counts per tier.
pub struct Count {
    pub tier: String,
    pub checked_in: i64,
    pub sold: i64,
}

#[derive(Template)]
#[template(path = "door.html")]
struct Door {
    layout: Layout,
    id: String,
    checked_in: i64,
    sold: i64,
    counts: Vec<Count>,
    outcome: Option<Outcome>,
}

fn view(session: &Session, id: EventId, attendance: Attendance, outcome: Option<Outcome>) -> Door {
    Door {
        layout: Layout::new("Door", session),
        id: id.to_string(),
        checked_in: attendance.checked_in,
        sold: attendance.sold,
        counts: attendance
            .tiers
            .into_iter()
            .map(|t| Count { tier: t.tier_name, checked_in: t.checked_in, sold: t.sold })
            .collect(),
        outcome,
    }
}

pub async fn door(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/events/{id}/door")) };
    match ticketing::checkin::service::attendance(&ctx, principal, id).await {
        Ok(attendance) => page(StatusCode::OK, &view(&session, id, attendance, None)),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct ScanForm {
    code: String,
}

pub async fn scan(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<ScanForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/events/{id}/door")) };
    let scan = Scan { event_id: id, code: form.code.trim().to_owned() };
    let outcome = match ticketing::checkin::service::scan(&ctx, principal, scan).await {
        Ok(result) => Outcome::from(result),
        Err(err) => return super::error(&session, &err),
    };
    match ticketing::checkin::service::attendance(&ctx, principal, id).await {
        Ok(attendance) => page(StatusCode::OK, &view(&session, id, attendance, Some(outcome))),
        Err(err) => super::error(&session, &err),
    }
}
