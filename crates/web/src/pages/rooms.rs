//! A buyer in an on-sale's waiting room: joining, the place as it moves (live, from the room's stream),
//! and the way back to the event's page with the pass once admitted.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use platform::AppContext;
use platform::stream::Hub;
use ticketing::model::EventId;
use ticketing::rooms::dto::Place;
use ticketing::rooms::service as rooms;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::Session;

/// The place, as the page and its live updates show it.
#[derive(Template)]
#[template(path = "waiting_place.html")]
pub struct PlacePanel {
    pub event: String,
    pub status: String,
    pub position: String,
    pub ahead: String,
    pub wait: String,
    pub opens: String,
    pub until: String,
    pub closed_reason: String,
}

impl From<&Place> for PlacePanel {
    fn from(p: &Place) -> Self {
        Self {
            event: p.event_id.to_string(),
            status: p.status.clone(),
            position: p.position.map(|n| n.to_string()).unwrap_or_default(),
            ahead: p.ahead.map(|n| n.to_string()).unwrap_or_default(),
            wait: p.estimated_wait_seconds.map(format::duration_seconds).unwrap_or_default(),
            opens: format::when(p.opens_at),
            until: p.pass_expires_at.map(format::when).unwrap_or_default(),
            closed_reason: p.closed_reason.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "waiting_room.html")]
struct RoomPage {
    layout: Layout,
    id: String,
    title: String,
    panel: String,
}

/// The buyer's place in the event's waiting room, kept live.
pub async fn room(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    let here = format!("/events/{id}/waiting-room");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let place = match rooms::mine(&ctx, principal, id).await {
        Ok(place) => place,
        Err(err) if err.status() == StatusCode::NOT_FOUND => {
            return Redirect::to(&format!("/events/{id}")).into_response();
        }
        Err(err) => return super::error(&session, &err),
    };
    let title = match ticketing::events::service::get(&ctx, Some(principal), id).await {
        Ok(event) => event.title,
        Err(err) => return super::error(&session, &err),
    };
    let panel = PlacePanel::from(&place).render().unwrap_or_default();
    page(
        StatusCode::OK,
        &RoomPage { layout: Layout::new(format!("Waiting room: {title}"), &session), id: id.to_string(), title, panel },
    )
}

/// Takes a place, then shows it.
pub async fn join(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/events/{id}")) };
    match rooms::join(&ctx, principal, id).await {
        Ok(_) => Redirect::to(&format!("/events/{id}/waiting-room")).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// The place as it changes, as the panel's HTML (`event: place`).
pub async fn stream(
    State(ctx): State<AppContext>,
    Extension(hub): Extension<Arc<Hub>>,
    session: Session,
    Path(id): Path<EventId>,
) -> Response {
    let Some(principal) = &session.principal else { return StatusCode::UNAUTHORIZED.into_response() };
    let render = |place: &Place| {
        let html = PlacePanel::from(place).render().unwrap_or_default();
        Event::default().event("place").data(html)
    };
    match rooms::follow_with(&ctx, &hub, principal, id, render).await {
        Ok(sse) => sse.into_response(),
        Err(err) => super::error(&session, &err),
    }
}
