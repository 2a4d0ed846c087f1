//! Finding events, and an event's page with its tiers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use platform::AppContext;
use serde::Deserialize;
use ticketing::events::dto::{EventSearch, EventSummary};
use ticketing::model::EventId;

use super::{Layout, page, urlencode};
use crate::format;
use crate::session::Session;

/// An event in a list.
pub struct EventCard {
    pub id: String,
    pub title: String,
    pub when: String,
    pub place: String,
    pub category: String,
    pub status: String,
}

impl From<EventSummary> for EventCard {
    fn from(e: EventSummary) -> Self {
        let place = [e.venue_name, e.city].into_iter().flatten().collect::<Vec<_>>().join(", ");
        Self {
            id: e.id.to_string(),
            title: e.title,
            when: format::when(e.starts_at),
            place,
            category: e.category.unwrap_or_default(),
            status: e.status.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    category: String,
    /// `YYYY-MM-DD`, from a date input.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "events.html")]
struct Events {
    layout: Layout,
    q: String,
    city: String,
    category: String,
    from: String,
    to: String,
    events: Vec<EventCard>,
    next: Option<String>,
    error: Option<String>,
}

fn day(text: &str) -> Result<Option<chrono::DateTime<Utc>>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
        .map_err(|_| format!("{text} is not a date (YYYY-MM-DD)"))
}

pub async fn search(State(ctx): State<AppContext>, session: Session, Query(q): Query<SearchQuery>) -> Response {
    let mut view = Events {
        layout: Layout::new("Events", &session),
        q: q.q.clone(),
        city: q.city.clone(),
        category: q.category.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        events: Vec::new(),
        next: None,
        error: None,
    };
    let (from, to) = match (day(&q.from), day(&q.to)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => {
            view.error = Some(e);
            return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let search = EventSearch {
        q: non_empty(&q.q),
        category: non_empty(&q.category),
        city: non_empty(&q.city),
        from,
        to: to.map(|t| t + chrono::Duration::days(1)),
        limit: Some(20),
        cursor: q.cursor.clone(),
        ..EventSearch::default()
    };
    match ticketing::events::service::search(&ctx, search).await {
        Ok(found) => {
            view.events = found.items.into_iter().map(EventCard::from).collect();
            view.next = found.next_cursor.map(|cursor| {
                format!(
                    "/events?q={}&city={}&category={}&from={}&to={}&cursor={}",
                    urlencode(&q.q),
                    urlencode(&q.city),
                    urlencode(&q.category),
                    urlencode(&q.from),
                    urlencode(&q.to),
                    urlencode(&cursor)
                )
            });
            page(StatusCode::OK, &view)
        }
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            view.error = Some(err.detail().to_owned());
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A tier as the event page shows it.
pub struct TierLine {
    pub id: String,
    pub min: i32,
    pub max: i32,
    pub name: String,
    pub description: String,
    pub price: String,
    pub available: i32,
    pub on_sale: bool,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    id: String,
    title: String,
    description: String,
    when: String,
    until: String,
    venue: String,
    address: String,
    category: String,
    status: String,
    tags: Vec<String>,
    tiers: Vec<TierLine>,
    /// The attribution code the visitor came with (`?ref=`), carried into the order.
    referral: String,
    /// Tickets other fans put up for resale: (listing id, tier, price).
    resale: Vec<(String, String, String)>,
    /// A fresh key for each resale form: the same form sent twice buys once.
    key: String,
    /// The on-sale is behind a waiting room that has not closed: when it opens.
    room_opens: Option<String>,
    /// The visitor's place in it, as its panel shows it (empty without one).
    place_panel: String,
    /// The visitor's live pass, carried into the buy forms.
    pass: String,
    /// Whether the buy forms show: no room, or the visitor's turn.
    can_buy: bool,
    /// Whether the visitor may take a place: they have none, or their turn ended unused.
    can_join: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EventQuery {
    #[serde(rename = "ref")]
    referral: String,
}

pub async fn event(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Query(q): Query<EventQuery>,
) -> Response {
    let event = match ticketing::events::service::get(&ctx, session.principal.as_ref(), id).await {
        Ok(event) => event,
        Err(err) => return super::error(&session, &err),
    };
    let resale = match ticketing::aftersale::service::listings(&ctx, session.principal.as_ref(), id).await {
        Ok(list) => list
            .items
            .into_iter()
            .map(|l| (l.id.to_string(), l.tier_name, format::money(l.price, &l.currency)))
            .collect(),
        Err(err) => return super::error(&session, &err),
    };
    let room =
        ticketing::rooms::service::get(&ctx, session.principal.as_ref(), id).await.ok().filter(|r| r.state != "closed");
    let place = match (&room, &session.principal) {
        (Some(_), Some(principal)) => ticketing::rooms::service::mine(&ctx, principal, id).await.ok(),
        _ => None,
    };
    let pass = place.as_ref().and_then(|p| p.pass.clone()).unwrap_or_default();
    let now = ctx.clock.now();
    let tiers = event
        .tiers
        .iter()
        .map(|t| TierLine {
            id: t.id.to_string(),
            min: t.min_per_order,
            max: t.max_per_order.min(t.available).max(t.min_per_order),
            name: t.name.clone(),
            description: t.description.clone(),
            price: if t.price == 0 { "Free".to_owned() } else { format::money(t.price, &t.currency) },
            available: t.available,
            on_sale: t.available > 0 && t.sales_start.is_none_or(|s| s <= now) && t.sales_end.is_none_or(|e| e > now),
        })
        .collect();
    let view = EventPage {
        layout: Layout::new(event.title.clone(), &session),
        id: event.id.to_string(),
        title: event.title,
        description: event.description,
        when: format::when(event.starts_at),
        until: format::when(event.ends_at),
        venue: event.venue.name.clone().unwrap_or_default(),
        address: [event.venue.address.clone(), event.venue.city.clone(), event.venue.country.clone()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        category: event.category.map(|c| c.name).unwrap_or_default(),
        status: event.status.to_string(),
        tags: event.tags,
        tiers,
        referral: q.referral.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).take(40).collect(),
        resale,
        // 28 hex digits; each form adds its row number, so that every listing has its own key.
        key: uuid::Uuid::new_v4().simple().to_string()[..28].to_owned(),
        room_opens: room.as_ref().map(|r| format::when(r.opens_at)),
        place_panel: place
            .as_ref()
            .map(|p| super::rooms::PlacePanel::from(p).render().unwrap_or_default())
            .unwrap_or_default(),
        can_buy: room.is_none() || !pass.is_empty(),
        can_join: place.as_ref().is_none_or(|p| p.status == "expired"),
        pass,
    };
    page(StatusCode::OK, &view)
}
