//! The notification center: what happened for the user, newest first, with the unread marked and a way
//! to mark everything read. The page stays live: new notifications arrive over Server-Sent Events
//! (`/me/stream`, htmx's SSE extension) as rendered list items, resuming after the last one the browser
//! saw when it reconnects.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use notify::notifications::dto::{Notification, NotificationQuery};
use notify::stream::Hub;
use platform::AppContext;
use serde::Deserialize;
use uuid::Uuid;

use super::{Layout, page, to_signin, urlencode};
use crate::format;
use crate::session::{Form, Session};

/// A notification as the list shows it.
#[derive(Template)]
#[template(path = "notification_line.html")]
pub struct Line {
    pub title: String,
    pub body: String,
    pub when: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct Notifications {
    layout: Layout,
    unread: i64,
    items: Vec<Line>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
}

pub async fn list(State(ctx): State<AppContext>, session: Session, Query(q): Query<ListQuery>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/notifications") };
    let query = NotificationQuery { unread_only: false, limit: Some(50), cursor: q.cursor };
    let found = notify::notifications::service::notifications(&ctx, principal, query).await;
    let unread = notify::notifications::service::unread_count(&ctx, principal).await;
    match (found, unread) {
        (Ok(list), Ok(unread)) => {
            let view = Notifications {
                layout: Layout::new("Notifications", &session),
                unread: unread.unread,
                next: list.next_cursor.map(|c| format!("/me/notifications?cursor={}", urlencode(&c))),
                items: list.items.into_iter().map(|n| Line::from(&n)).collect(),
            };
            page(StatusCode::OK, &view)
        }
        (Err(err), _) | (_, Err(err)) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct ReadAllForm {}

pub async fn read_all(State(ctx): State<AppContext>, session: Session, Form(_): Form<ReadAllForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/me/notifications") };
    match notify::notifications::service::mark_all_read(&ctx, principal).await {
        Ok(_) => Redirect::to("/me/notifications").into_response(),
        Err(err) => super::error(&session, &err),
    }
}

impl From<&Notification> for Line {
    fn from(n: &Notification) -> Self {
        Self { title: n.title.clone(), body: n.body.clone(), when: format::when(n.created_at), read: n.read }
    }
}

/// A new notification as the stream sends it: the list item, ready to be put first.
fn event_of(n: &Notification) -> Event {
    let html = Line::from(n).render().unwrap_or_default();
    Event::default().id(n.id.to_string()).event("notification").data(html)
}

/// The signed-in user's notifications as they happen, as HTML for the notification center.
pub async fn stream(
    State(ctx): State<AppContext>,
    Extension(hub): Extension<Arc<Hub>>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return StatusCode::UNAUTHORIZED.into_response() };
    // The browser sends the last id it received when it reconnects; anything else starts afresh.
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<Uuid>().ok());
    match notify::stream::stream_with(&hub, ctx.db.clone(), principal.user_id.0, last, event_of).await {
        Ok(sse) => sse.into_response(),
        Err(err) => super::error(&session, &err.into()),
    }
}
