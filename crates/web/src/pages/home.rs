//! The home page: what is on soon, and (with the demo data) the personas to sign in as.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::AppContext;
use ticketing::events::dto::EventSearch;

use super::events::EventCard;
use super::{Layout, page};
use crate::WebSettings;
use crate::session::Session;

/// A demo persona: who they are and what they can try.
pub struct Persona {
    pub username: &'static str,
    pub who: &'static str,
}

const PERSONAS: &[Persona] = &[
    Persona { username: "fan_felix", who: "a fan: browse events, buy tickets, see them with their QR codes" },
    Persona { username: "olga_events", who: "an organizer: events, tiers, sales and the door" },
    Persona { username: "nova", who: "an artist: offers, contracts and earnings" },
    Persona { username: "promo_pete", who: "a promoter: artist search, offers and bookings" },
    Persona { username: "admin", who: "staff: users, reviews, disputes and jobs" },
];

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    events: Vec<EventCard>,
    personas: &'static [Persona],
    demo_password: &'static str,
}

pub async fn home(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
) -> Response {
    let search = EventSearch { limit: Some(6), ..EventSearch::default() };
    let events = match ticketing::events::service::search(&ctx, search).await {
        Ok(page) => page.items.into_iter().map(EventCard::from).collect(),
        Err(err) => return super::error(&session, &err),
    };
    let personas = if settings.demo { PERSONAS } else { &[] };
    let home = Home {
        layout: Layout::new("Backline", &session),
        events,
        personas,
        demo_password: identity::demo::DEMO_PASSWORD,
    };
    page(StatusCode::OK, &home)
}
