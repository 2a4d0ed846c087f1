//! The process's one listener on the real-time channel: a `LISTEN` connection per process hears what
//! any process announced (`pg_notify` on [`STREAM_CHANNEL`], delivered on commit) and wakes the streams
//! of this process that it concerns: a user's notifications and progress reports (`notify`'s
//! `/v1/me/stream`), or a topic's passing reports (a waiting room's admissions).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::sync::broadcast;
use uuid::Uuid;

pub use crate::events::STREAM_CHANNEL;

/// What wakes streams.
#[derive(Debug, Clone)]
pub enum Signal {
    /// This user has something new.
    User(Uuid),
    /// A progress report for this user, sent as it is (an SSE event `progress`, without an id).
    Progress(Uuid, Arc<serde_json::Value>),
    /// A passing report to everyone following a topic (a waiting room's progress), sent once for all.
    Topic(Arc<str>, Arc<serde_json::Value>),
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
                    if listener.listen(STREAM_CHANNEL).await.is_ok() {
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
                                    if let Some(topic) = payload["topic"].as_str() {
                                        let topic: Arc<str> = topic.into();
                                        let data = Arc::new(payload["data"].take());
                                        let _ = self.tx.send(Signal::Topic(topic, data));
                                        continue;
                                    }
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

/// Sends `data` to every stream following `topic`, on every node, when the caller's transaction commits.
/// Nothing is kept: a follower that is not connected reads the state instead.
pub async fn announce(conn: &mut PgConnection, topic: &str, data: &serde_json::Value) -> sqlx::Result<()> {
    let payload = serde_json::json!({"topic": topic, "data": data}).to_string();
    sqlx::query!("SELECT pg_notify($1, $2)", STREAM_CHANNEL, payload).execute(conn).await?;
    Ok(())
}
