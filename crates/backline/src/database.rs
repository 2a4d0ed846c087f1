//! Opens the database the configuration names: the server at `DATABASE_URL` (creating its database if it
//! is missing), or else the embedded cluster under the data directory.

use std::str::FromStr;

use anyhow::Context as _;
use platform::db::{self, PoolSettings};
use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use crate::config::GlobalArgs;

/// The database's name in the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "backline";

/// An open database, and the embedded cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub async fn open(args: &GlobalArgs) -> anyhow::Result<Self> {
        let settings = PoolSettings { max_connections: args.db_max_connections, ..PoolSettings::default() };
        match &args.database_url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
                let name = options.get_database().unwrap_or("postgres").to_owned();
                db::ensure_database(&options, &name).await.with_context(|| {
                    format!("cannot reach the PostgreSQL server at DATABASE_URL (database `{name}`)")
                })?;
                let pool = db::connect(options, settings).await.context("connecting to DATABASE_URL")?;
                Ok(Self { pool, embedded: None })
            }
            None => {
                let mut config = EmbeddedConfig::new(&args.data_dir);
                config.bin_dir.clone_from(&args.pg_bindir);
                config.run_as.clone_from(&args.pg_user);
                config.max_connections = (args.db_max_connections + 10).max(100);
                let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await??;
                let server = cluster.connect_options("postgres");
                db::ensure_database(&server, EMBEDDED_DATABASE).await.context("creating the database")?;
                let pool = db::connect(cluster.connect_options(EMBEDDED_DATABASE), settings).await?;
                tracing::info!(url = %cluster.url(EMBEDDED_DATABASE), "using the embedded PostgreSQL cluster");
                Ok(Self { pool, embedded: Some(cluster) })
            }
        }
    }

    /// Resolves when the embedded cluster stopped for good (its postmaster died and could not be started
    /// again), with the reason; never for a database at `DATABASE_URL`.
    pub fn lost(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let lost = self.embedded.as_ref().map(EmbeddedPostgres::lost);
        async move {
            let Some(lost) = lost else { return std::future::pending().await };
            loop {
                if let Some(reason) = lost.reason() {
                    return reason;
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }

    /// Closes the pool, then stops the embedded cluster if there is one.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}
