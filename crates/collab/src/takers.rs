//! The objects of other domains that take a project file's approved version: a release's cover art, a
//! track's audio, a task's deliverable, a booking contract's annex. Each kind is answered by the domain
//! that owns the object (the binary registers them), which takes the bytes through its own upload, so
//! its own rules hold: who may change the object, in which state, and which files it accepts.
//! Collaboration only offers the approved bytes; it never writes another domain's tables.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use identity::auth::Principal;
use platform::{ApiError, AppContext};
use uuid::Uuid;

/// A version's content, offered to the taking domain as the body of its own upload.
pub struct Offered {
    /// The file's name ("cover.png").
    pub name: String,
    /// The version's media type as uploaded.
    pub media_type: String,
    /// The content's bytes, streamed from the object store.
    pub body: axum::body::Body,
}

/// The taking domain's answer: its own view of the object after taking the file (the release, the
/// task's file, the contract).
pub type TakeFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, ApiError>> + Send>>;

/// Hands `Offered` to object `id` for the caller.
pub type Take = Arc<dyn Fn(AppContext, Principal, Uuid, Offered) -> TakeFuture + Send + Sync>;

/// The registry of takers, built once at start-up.
#[derive(Clone, Default)]
pub struct Takers(Arc<BTreeMap<&'static str, Take>>);

impl std::fmt::Debug for Takers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Takers").field(&self.kinds()).finish()
    }
}

impl Takers {
    /// Adds a kind of taker, answered by `take`.
    #[must_use]
    pub fn with<F>(self, kind: &'static str, take: F) -> Self
    where
        F: Fn(AppContext, Principal, Uuid, Offered) -> TakeFuture + Send + Sync + 'static,
    {
        let mut map = Arc::unwrap_or_clone(self.0);
        map.insert(kind, Arc::new(take));
        Self(Arc::new(map))
    }

    /// The kinds registered, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }

    /// The registered taker of `kind`, with its name.
    pub(crate) fn get(&self, kind: &str) -> Option<(&'static str, Take)> {
        self.0.get_key_value(kind).map(|(k, take)| (*k, take.clone()))
    }
}
