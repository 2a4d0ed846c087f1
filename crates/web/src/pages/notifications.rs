//! The notification center: what happened for the user, newest first, with the unread marked and a way
//! to mark everything read.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use notify::notifications::dto::NotificationQuery;
use platform::AppContext;
use serde::Deserialize;

use super::{Layout, page, to_signin, urlencode};
use crate::format;
use crate::session::{Form, Session};

/// A notification as the list shows it.
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
                items: list
                    .items
                    .into_iter()
                    .map(|n| Line { title: n.title, body: n.body, when: format::when(n.created_at), read: n.read })
                    .collect(),
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
