//! Opens the database the configuration names: the server at `DATABASE_URL` (creating its database if it
//! is missing), or else the embedded cluster under the data directory.
//!
//! Least privilege: the embedded cluster's superuser owns the tables and runs migrations, and the service
//! connects as the role [`platform::db::APP_ROLE`], which may read and write rows and nothing else. With
//! `DATABASE_URL`, the same split holds when `BACKLINE_DATABASE_OWNER_URL` names the owner role.

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
    /// The service's pool, as the application role.
    pub pool: PgPool,
    /// Where migrations run: the owner role, when it is not the pool's own.
    owner: Option<Owner>,
    /// The owner's URL (the pool's when they are one role), for `pg_dump` and `pg_restore`.
    owner_url: String,
    embedded: Option<EmbeddedPostgres>,
}

struct Owner {
    options: PgConnectOptions,
    /// The role the owner grants row privileges to after migrating.
    app_role: String,
}

impl Database {
    pub async fn open(args: &GlobalArgs) -> anyhow::Result<Self> {
        let settings = PoolSettings { max_connections: args.db_max_connections, ..PoolSettings::default() };
        match &args.database_url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
                let name = options.get_database().unwrap_or("postgres").to_owned();
                let owner_url = args.database_owner_url.clone().unwrap_or_else(|| url.clone());
                let owner = match &args.database_owner_url {
                    Some(owner) => Some(Owner {
                        options: PgConnectOptions::from_str(owner)
                            .context("BACKLINE_DATABASE_OWNER_URL is not a valid PostgreSQL URL")?
                            .database(&name),
                        app_role: options.get_username().to_owned(),
                    }),
                    None => None,
                };
                let creator = owner.as_ref().map_or(&options, |o| &o.options);
                db::ensure_database(creator, &name).await.with_context(|| {
                    format!("cannot reach the PostgreSQL server at DATABASE_URL (database `{name}`)")
                })?;
                let pool = db::connect(options, settings).await.context("connecting to DATABASE_URL")?;
                Ok(Self { pool, owner, owner_url, embedded: None })
            }
            None => {
                let mut config = EmbeddedConfig::new(&args.data_dir);
                config.bin_dir.clone_from(&args.pg_bindir);
                config.run_as.clone_from(&args.pg_user);
                config.max_connections = (args.db_max_connections + 10).max(100);
                let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await??;
                let server = cluster.connect_options("postgres");
                db::ensure_database(&server, EMBEDDED_DATABASE).await.context("creating the database")?;
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&server).await?;
                db::ensure_app_role(&mut conn, db::APP_ROLE).await.context("creating the application role")?;
                sqlx::Connection::close(conn).await?;
                let owner = cluster.connect_options(EMBEDDED_DATABASE);
                let pool = db::connect(owner.clone().username(db::APP_ROLE), settings).await?;
                tracing::info!(url = %cluster.url(EMBEDDED_DATABASE), "using the embedded PostgreSQL cluster");
                Ok(Self {
                    pool,
                    owner: Some(Owner { options: owner, app_role: db::APP_ROLE.to_owned() }),
                    owner_url: cluster.url(EMBEDDED_DATABASE),
                    embedded: Some(cluster),
                })
            }
        }
    }

    /// Options to connect as the owner role.
    pub fn owner_options(&self) -> PgConnectOptions {
        self.owner.as_ref().map_or_else(|| (*self.pool.connect_options()).clone(), |o| o.options.clone())
    }

    /// The owner role's URL, for PostgreSQL's own tools.
    pub fn owner_url(&self) -> &str {
        &self.owner_url
    }

    /// Applies every pending migration as the owner role, then grants the application role its row
    /// privileges on what they made; with one role for both, through the pool.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.owner {
            Some(owner) => db::migrate_as_owner(&owner.options, Some(&owner.app_role)).await,
            None => db::migrate(&self.pool).await.context("applying migrations"),
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
