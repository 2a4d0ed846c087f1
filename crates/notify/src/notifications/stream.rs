//! Real-time delivery: `GET /v1/me/stream` (Server-Sent Events) pushes a user's notifications as they
//! are created. One `LISTEN` connection per process hears every notification created by any process on
//! the database and wakes that user's streams, which read the rows themselves, so a client connected to
//! one process sees what another process created. Clients resume with `Last-Event-ID`: every event's id
//! is its notification's time-ordered id, and a stream first sends what the client missed. Passing
//! progress reports (a sales report being read) come on the same channel and are sent as they are, as
//! `progress` events without an id: they are not kept, and a client that reconnects reads the state.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
pub use platform::stream::{Hub, Signal};
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::dto::Notification;
use super::repo;

struct State {
    pool: PgPool,
    user: Uuid,
    /// The position of the last notification sent.
    last: i64,
    rx: broadcast::Receiver<Signal>,
    pending: std::collections::VecDeque<(i64, Notification)>,
    look: bool,
}

fn event_of(n: &Notification) -> Event {
    Event::default()
        .id(n.id.to_string())
        .event("notification")
        .json_data(n)
        .unwrap_or_else(|_| Event::default().comment("unrenderable"))
}

/// The stream for `user`, resuming after `last_event_id` when the client sends one.
pub async fn stream(
    hub: &Arc<Hub>,
    pool: PgPool,
    user: Uuid,
    last_event_id: Option<Uuid>,
) -> sqlx::Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>> {
    stream_with(hub, pool, user, last_event_id, event_of).await
}

/// [`stream`] with each notification made into its event by `render` (the web app sends HTML).
pub async fn stream_with<R>(
    hub: &Arc<Hub>,
    pool: PgPool,
    user: Uuid,
    last_event_id: Option<Uuid>,
    render: R,
) -> sqlx::Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<R>>>
where
    R: Fn(&Notification) -> Event + Send + Sync + 'static,
{
    // Subscribe before reading, so nothing created in between is missed.
    let rx = hub.subscribe();
    // A client that reconnects resumes after the notification it last received (an id that is not one of
    // its notifications starts afresh, as a new client does).
    let resumed = match last_event_id {
        Some(id) => repo::position_of(&pool, user, id).await?,
        None => None,
    };
    let (last, look) = match resumed {
        Some(position) => (position, true),
        None => (repo::newest_position(&pool, user).await?, false),
    };
    let state = State { pool, user, last, rx, pending: Default::default(), look };
    let render = Arc::new(render);
    let events = futures_util::stream::unfold(state, move |mut state| {
        let render = render.clone();
        async move {
            loop {
                if let Some((position, n)) = state.pending.pop_front() {
                    state.last = position;
                    return Some((Ok(render(&n)), state));
                }
                if state.look {
                    state.look = false;
                    match repo::notifications_after(&state.pool, state.user, state.last, 200).await {
                        Ok(rows) => {
                            // A full page means there may be more behind it.
                            state.look = rows.len() == 200;
                            state
                                .pending
                                .extend(rows.into_iter().map(|(position, row)| (position, Notification::from(row))));
                        }
                        Err(err) => tracing::warn!(error = %err, "stream cannot read notifications"),
                    }
                    continue;
                }
                match state.rx.recv().await {
                    Ok(Signal::User(user)) if user == state.user => state.look = true,
                    Ok(Signal::Progress(user, progress)) if user == state.user => {
                        let event = Event::default()
                            .event("progress")
                            .json_data(&*progress)
                            .unwrap_or_else(|_| Event::default().comment("unrenderable"));
                        return Some((Ok(event), state));
                    }
                    Ok(Signal::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => state.look = true,
                    Ok(Signal::User(_) | Signal::Progress(..) | Signal::Topic(..)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
