//! The state every handler receives: the database pool, the clock, metrics and the public settings.

use std::sync::Arc;

use sqlx::PgPool;

use crate::clock::{SharedClock, SystemClock};
use crate::crypto::SecretBox;
use crate::metrics::Metrics;
use crate::storage::Storage;

#[derive(Clone)]
pub struct AppContext {
    pub db: PgPool,
    pub clock: SharedClock,
    pub metrics: Metrics,
    /// The address users reach Backline at, used in links sent by email.
    pub public_url: Arc<str>,
    /// Seals secrets that must be read back (see [`crate::crypto`]).
    pub secrets: Arc<SecretBox>,
    /// Files: artwork, audio, documents (see [`crate::storage`]).
    pub storage: Arc<Storage>,
    /// The folder that stores delivered to on this server's own disk write into (protocol
    /// `directory`): each such store has a folder under it.
    pub drops: Arc<std::path::Path>,
    /// The read replica, when one is configured (see [`crate::replica`]).
    pub replica: Option<Arc<crate::replica::Replica>>,
    /// How this installation is configured, for the security self-check.
    pub posture: Arc<Posture>,
}

/// Facts about how this installation is configured, which the security self-check judges.
#[derive(Debug, Clone, Default)]
pub struct Posture {
    /// The secret key was given (`BACKLINE_SECRET_KEY`) rather than created in the data directory.
    pub secret_key_configured: bool,
    /// Webhooks may be sent to private and loopback addresses.
    pub webhooks_to_private_addresses: bool,
    /// The service runs with demo data (`serve --demo`).
    pub demo: bool,
}

impl AppContext {
    pub fn new(db: PgPool, public_url: &str) -> Self {
        Self {
            db,
            clock: Arc::new(SystemClock),
            metrics: Metrics::default(),
            public_url: public_url.trim_end_matches('/').into(),
            secrets: Arc::new(SecretBox::ephemeral()),
            storage: Arc::new(Storage::temporary().expect("a temporary directory for files")),
            drops: std::env::temp_dir().join("backline-drops").into(),
            replica: None,
            posture: Arc::new(Posture::default()),
        }
    }

    pub fn with_posture(mut self, posture: Posture) -> Self {
        self.posture = Arc::new(posture);
        self
    }

    /// The pool for a read that may be a moment behind (a public search, the directory, analytics,
    /// statements): the replica's while it is in use, else the primary's. Never for a write, nor for a
    /// read that must see the caller's own write.
    pub fn reader(&self) -> &PgPool {
        self.replica.as_deref().and_then(crate::replica::Replica::pool_for_read).unwrap_or(&self.db)
    }

    pub fn with_replica(mut self, replica: Arc<crate::replica::Replica>) -> Self {
        self.replica = Some(replica);
        self
    }

    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.storage = Arc::new(storage);
        self
    }

    pub fn with_drops(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.drops = dir.into().into();
        self
    }

    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = Arc::new(secrets);
        self
    }

    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}
