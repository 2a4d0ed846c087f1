//! The business objects a thread can be attached to. Each kind is answered by the domain that owns it
//! (the binary registers `booking` with the booking domain's rule, `event` with ticketing's, ...), so
//! that whoever may see the object may take part in its thread, and nobody else. Collaboration itself
//! never reads another domain's tables.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use identity::auth::Principal;
use platform::ApiError;
use platform::discussion::Discussion;
use sqlx::PgConnection;
use uuid::Uuid;

/// A future borrowing the connection and the caller for the check's length.
pub type CheckFuture<'c> = Pin<Box<dyn Future<Output = Result<Option<Discussion>, ApiError>> + Send + 'c>>;

/// Asks the owning domain whether the caller may take part in the thread of object `id`: `None` when
/// the object does not exist or the caller may not see it.
pub type Check = Arc<dyn for<'c> Fn(&'c mut PgConnection, &'c Principal, Uuid) -> CheckFuture<'c> + Send + Sync>;

/// The registry of subject kinds, built once at start-up.
#[derive(Clone, Default)]
pub struct Subjects(Arc<BTreeMap<&'static str, Check>>);

impl std::fmt::Debug for Subjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Subjects").field(&self.kinds()).finish()
    }
}

impl Subjects {
    /// Adds a kind of object, answered by `check`.
    #[must_use]
    pub fn with<F>(self, kind: &'static str, check: F) -> Self
    where
        F: for<'c> Fn(&'c mut PgConnection, &'c Principal, Uuid) -> CheckFuture<'c> + Send + Sync + 'static,
    {
        let mut map = Arc::unwrap_or_clone(self.0);
        map.insert(kind, Arc::new(check));
        Self(Arc::new(map))
    }

    /// The kinds registered, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }

    /// The registered name of `kind`, if it is one.
    pub fn kind(&self, kind: &str) -> Option<&'static str> {
        self.0.get_key_value(kind).map(|(k, _)| *k)
    }

    /// Asks the owner of `kind` about object `id` for the caller.
    pub async fn check(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        kind: &str,
        id: Uuid,
    ) -> Result<Option<Discussion>, ApiError> {
        match self.0.get(kind) {
            Some(check) => check(conn, principal, id).await,
            None => Ok(None),
        }
    }
}
