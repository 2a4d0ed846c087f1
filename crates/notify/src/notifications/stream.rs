//! Real-time delivery: `GET /v1/me/stream` (Server-Sent Events) pushes a user's notifications as they
//! are created. One `LISTEN` connection per process hears every notification created by any process on
//! the database and wakes that user's streams, which read the rows themselves, so a client connected to
//! one process sees what another process created. Clients resume with `Last-Event-ID`: every event's id
//! is its notification's time-ordered id, and a stream first sends what the client missed. Passing
//! progress reports (a sales report being read) come on the same channel and are sent as they are, as
//! `progress` events without an id: they are not kept, and a client that reconnects reads the state.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::dto::Notification;
use super::repo;

/// The channel a new notification is announced on: `{"user_id": ..., "id": ...}`; a passing progress
/// report is `{"user_id": ..., "progress": {...}}` (see [`platform::events::progress`]).
pub const CHANNEL: &str = platform::events::STREAM_CHANNEL;

/// What wakes streams.
#[derive(Debug, Clone)]
pub enum Signal {
    /// This user has something new.
    User(Uuid),
    /// A progress report for this user, sent as it is (an SSE event `progress`, without an id).
    Progress(Uuid, Arc<serde_json::Value>),
    /// Announcements may have been missed (the listener reconnected): every stream looks again.
    Resync,
}

/// The process's listener and the streams it wakes.
pub struct Hub {
    /// None for a hub that serves no streams (building the API description).
    pool: Option<PgPool>,
    tx: broadcast::Sender<Signal>,
    started: AtomicBool,
}

impl Hub {
    pub fn new(pool: PgPool) -> Arc<Self> {
        let (tx, _) = broadcast::channel(4096);
        Arc::new(Self { pool: Some(pool), tx, started: AtomicBool::new(false) })
    }

    /// A hub with no database behind it: its streams never wake.
    pub fn detached() -> Arc<Self> {
        let (tx, _) = broadcast::channel(1);
        Arc::new(Self { pool: None, tx, started: AtomicBool::new(true) })
    }

    /// Subscribes, starting the listener on first use.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Signal> {
        let rx = self.tx.subscribe();
        if !self.started.swap(true, Ordering::SeqCst) {
            let hub = Arc::clone(self);
            tokio::spawn(async move { hub.listen().await });
        }
        rx
    }

    async fn listen(self: Arc<Self>) {
        let Some(pool) = self.pool.clone() else { return };
        loop {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if listener.listen(CHANNEL).await.is_ok() {
                        // Anything announced while we were not listening is found by a resync.
                        let _ = self.tx.send(Signal::Resync);
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(notification)) => {
                                    let Ok(mut payload) =
                                        serde_json::from_str::<serde_json::Value>(notification.payload())
                                    else {
                                        continue;
                                    };
                                    let user = payload["user_id"].as_str().and_then(|s| s.parse().ok());
                                    let progress = payload.get_mut("progress").map(serde_json::Value::take);
                                    match (user, progress) {
                                        (Some(user), Some(p)) => {
                                            let _ = self.tx.send(Signal::Progress(user, Arc::new(p)));
                                        }
                                        (Some(user), None) => {
                                            let _ = self.tx.send(Signal::User(user));
                                        }
                                        _ => {}
                                    }
                                }
                                Ok(None) => {
                                    let _ = self.tx.send(Signal::Resync);
                                }
                                Err(err) => {
                                    tracing::warn!(error = %err, "stream listener lost its connection");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "stream listener cannot connect"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

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
                    Ok(Signal::User(_) | Signal::Progress(..)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
