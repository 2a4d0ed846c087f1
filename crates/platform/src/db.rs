//! The database: connection pools, the one ordered history of migrations, readiness, and the helpers the
//! binary uses to create its database on a fresh server.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// Every migration of every domain, embedded in the binary, in one ordered history.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a free connection before it gets a 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 20, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Opens a pool. Statements are logged at debug level only, so that values never reach the logs by default.
pub async fn connect(options: PgConnectOptions, settings: PoolSettings) -> Result<PgPool, sqlx::Error> {
    let options = options
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1));
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
}

/// Applies every pending migration. Safe to run from several processes at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Creates `database` on the server unless it exists, connecting through its maintenance database.
pub async fn ensure_database(server: &PgConnectOptions, database: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(&server.clone().database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(database)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let sql = format!("CREATE DATABASE {}", quote_ident(database));
        if let Err(err) = sqlx::raw_sql(&sql).execute(&mut conn).await {
            // Another process may have created it in the meantime.
            let duplicate = err.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "42P04");
            if !duplicate {
                return Err(err);
            }
        }
    }
    conn.close().await
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether the service can do its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    DatabaseUnreachable(String),
    MigrationsPending { missing: Vec<i64> },
}

/// Checks that the database answers and that every migration this binary knows is applied.
pub async fn readiness(pool: &PgPool) -> Readiness {
    let check = async {
        let mut conn = pool.acquire().await?;
        let table: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(&mut *conn).await?;
        let applied: Vec<i64> = if table.is_some() {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&mut *conn).await?
        } else {
            Vec::new()
        };
        Ok::<_, sqlx::Error>(applied)
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Err(_) => Readiness::DatabaseUnreachable("no answer within 2 s".into()),
        Ok(Err(err)) => Readiness::DatabaseUnreachable(err.to_string()),
        Ok(Ok(applied)) => {
            let missing: Vec<i64> = MIGRATOR.iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect();
            if missing.is_empty() { Readiness::Ready } else { Readiness::MigrationsPending { missing } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("backline"), "\"backline\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn migrations_are_embedded_in_order() {
        let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(!versions.is_empty());
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    }
}
