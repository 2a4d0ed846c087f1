//! The database: connection pools, the one ordered history of migrations, readiness, and the helpers the
//! binary uses to create its database on a fresh server.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor as _, PgConnection, PgPool};

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

/// A connection idle for longer than this is asked whether it is still alive before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_millis(100);

/// The number the next connection this process opens gets as its `backline.slot`: counting on from a
/// random start, so that two processes' connections rarely meet. The ledger credits a sliced account
/// in the slice of the connection's slot (`ledger_slice()`, migration 0068): the connections of one
/// pool then never share a slice.
static NEXT_SLOT: std::sync::LazyLock<std::sync::atomic::AtomicU32> = std::sync::LazyLock::new(|| {
    let start = (uuid::Uuid::new_v4().as_u128() % 64) as u32;
    std::sync::atomic::AtomicU32::new(start)
});

/// Opens a pool. Statements are logged at debug level only, so that values never reach the logs by default.
///
/// The driver checks every connection that comes back to the pool (one round trip), and drops it if
/// the server is gone. One handed out is checked again only if it sat idle for over 100 ms: a
/// connection returned before the server went away has been idle at least as long as the server took to
/// come back, so it is still checked after a restart, while under load (connections reused within a
/// millisecond) a request costs one round trip fewer for each connection it takes.
pub async fn connect(options: PgConnectOptions, settings: PoolSettings) -> Result<PgPool, sqlx::Error> {
    let options = options
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(1));
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                let slot = NEXT_SLOT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string();
                sqlx::query_scalar!("SELECT set_config('backline.slot', $1, false)", slot).fetch_one(conn).await?;
                Ok(())
            })
        })
        .before_acquire(ping_after_idle)
        .connect_with(options)
        .await
}

/// A pool of one connection to `pool`'s database, opened on first use, checked before use as the
/// service's are: for work done for many requests at once that must never queue behind them for the
/// service's pool (counting requests for the per-client limit, recognising callers).
pub fn own_connection(pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(ping_after_idle)
        .connect_lazy_with(pool.connect_options().as_ref().clone())
}

/// Asks a connection that sat idle for over [`PING_AFTER_IDLE`] whether it is still alive.
#[allow(clippy::needless_pass_by_value, reason = "the pool's hook is given the metadata by value")]
fn ping_after_idle(
    conn: &mut PgConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for > PING_AFTER_IDLE {
            sqlx::Connection::ping(conn).await?;
        }
        Ok(true)
    })
}

/// Applies every pending migration. Safe to run from several processes at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// The role the service connects as when the database has an owner role of its own (the embedded
/// cluster always has: its superuser owns the tables): it reads and writes rows, nothing else.
pub const APP_ROLE: &str = "backline_app";

/// Tables whose rows are never changed or removed once written: the application role may only read and
/// insert them. Their triggers refuse changes too, but a grant is refused by PostgreSQL before any
/// trigger runs, and no role without ownership can disable it.
pub const APPEND_ONLY: &[&str] = &["audit_log", "journal_entries", "postings", "ticket_chain"];

/// Creates the application role unless it exists: it may log in, and nothing else (no superuser, no
/// database or role creation, no replication, no bypassing row security). Needs CREATEROLE.
pub async fn ensure_app_role(conn: &mut PgConnection, role: &str) -> Result<(), sqlx::Error> {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        quote_ident(role)
    );
    // Two processes starting at once may both try; `unique_violation` on pg_authid is the loser's.
    match sqlx::raw_sql(&sql).execute(conn).await {
        Err(err) if err.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "23505") => Ok(()),
        other => other.map(drop),
    }
}

/// Gives `role` the row privileges the service needs on every table and sequence the migrations made,
/// and no more: no DDL (it owns nothing and may create nothing in the schema), no TRUNCATE, no
/// triggers, only SELECT and INSERT on the append-only tables, only SELECT on the migration history.
/// Run by the owner after migrating; idempotent.
pub async fn grant_app_role(conn: &mut PgConnection, role: &str) -> Result<(), sqlx::Error> {
    let role = quote_ident(role);
    let append_only = APPEND_ONLY.join(", ");
    let sql = format!(
        "REVOKE ALL ON SCHEMA public FROM {role};
         GRANT USAGE ON SCHEMA public TO {role};
         REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
         GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role};
         REVOKE UPDATE, DELETE ON {append_only} FROM {role};
         REVOKE INSERT, UPDATE, DELETE ON _sqlx_migrations FROM {role};"
    );
    sqlx::raw_sql(&sql).execute(conn).await.map(drop)
}

/// Applies every pending migration over one connection of the owner role, then grants the application
/// role (when there is one apart from the owner) what it needs on what they made.
pub async fn migrate_as_owner(owner: &PgConnectOptions, app_role: Option<&str>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut conn = PgConnection::connect_with(owner).await.context("connecting as the database's owner role")?;
    MIGRATOR.run(&mut conn).await.context("applying migrations")?;
    if let Some(role) = app_role {
        grant_app_role(&mut conn, role).await.with_context(|| format!("granting the application role {role}"))?;
    }
    conn.close().await?;
    Ok(())
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

/// The one write of a transaction that takes a row every concurrent transaction also needs (an
/// on-sale's tier and its sold count), sent together with the transaction's `COMMIT` in one message
/// ([`commit_with`]): the row's lock is then held for no round trip to the service, and never across
/// the service's wait to be scheduled again on a busy machine, which is what bounds how many such
/// transactions commit per second.
///
/// One message carrying two statements is PostgreSQL's simple query protocol, which has no parameters:
/// the values are written into the statement as literals, and only values whose text cannot hold a
/// quote are accepted (numbers and UUIDs, alone or in arrays).
#[derive(Debug)]
pub struct HotWrite {
    sql: String,
    refusal: Option<(&'static str, crate::ApiError)>,
}

/// A value written into a [`HotWrite`].
#[derive(Debug, Clone)]
pub enum Literal {
    Int(i64),
    Uuid(uuid::Uuid),
    Ints(Vec<i64>),
    Uuids(Vec<uuid::Uuid>),
}

impl Literal {
    fn render(&self) -> String {
        fn list<T: std::fmt::Display>(items: &[T]) -> String {
            items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
        }
        match self {
            Self::Int(n) => format!("({n})::int8"),
            Self::Uuid(id) => format!("'{id}'::uuid"),
            Self::Ints(ns) => format!("'{{{}}}'::int8[]", list(ns)),
            Self::Uuids(ids) => format!("'{{{}}}'::uuid[]", list(ids)),
        }
    }
}

impl HotWrite {
    /// `template` with `$1`, `$2`, ... standing for `values` in order.
    pub fn new(template: &'static str, values: &[Literal]) -> Self {
        let mut sql = String::with_capacity(template.len() + 64 * values.len());
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            sql.push_str(&rest[..at]);
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let index: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
            let value = index.checked_sub(1).and_then(|i| values.get(i));
            assert!(
                value.is_some(),
                "a hot write's template names ${index}, which is not among its {} values",
                values.len()
            );
            sql.push_str(&value.map(Literal::render).unwrap_or_default());
            rest = &rest[at + 1 + digits..];
        }
        sql.push_str(rest);
        Self { sql, refusal: None }
    }

    /// This write, then `next`, in the same message (several rows, in the order they are to be locked).
    #[must_use]
    pub fn then(mut self, next: HotWrite) -> Self {
        self.sql.push_str(";\n");
        self.sql.push_str(&next.sql);
        self.refusal = self.refusal.or(next.refusal);
        self
    }

    /// The answer when the write breaks the named constraint (a tier with fewer tickets left than
    /// asked, say): the transaction is then rolled back and this is what the caller is told.
    #[must_use]
    pub fn refused_by(mut self, constraint: &'static str, error: crate::ApiError) -> Self {
        self.refusal = Some((constraint, error));
        self
    }

    /// The statement as it is sent.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// Runs `write` and commits `tx` in one round trip. On failure (the write refused, or a check deferred
/// to the commit), nothing of the transaction stays.
pub async fn commit_with(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    write: HotWrite,
) -> Result<(), crate::ApiError> {
    // `COMMIT AND CHAIN` commits and opens an empty transaction in its place, which dropping `tx` then
    // rolls back: the driver queues that ROLLBACK to go out with the connection's next message (the
    // pool's check when the connection is given back), so it costs no round trip of its own, and the
    // driver's count of open transactions stays right.
    let sql = format!("{};\nCOMMIT AND CHAIN", write.sql);
    match tx.execute(sqlx::raw_sql(&sql)).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) => match write.refusal {
            Some((name, error)) if db.constraint() == Some(name) => Err(error),
            _ => Err(sqlx::Error::Database(db).into()),
        },
        Err(err) => Err(err.into()),
    }
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
    fn hot_writes_carry_their_values_as_literals() {
        let id = uuid::Uuid::nil();
        let write = HotWrite::new(
            "UPDATE t SET n = n - $2 WHERE id = $1 AND k = ANY($3) AND m = ANY($4) AND $10 = $10",
            &[
                Literal::Uuid(id),
                Literal::Int(-5),
                Literal::Ints(vec![1, -2]),
                Literal::Uuids(vec![id, id]),
                Literal::Int(0),
                Literal::Int(0),
                Literal::Int(0),
                Literal::Int(0),
                Literal::Int(0),
                Literal::Int(10),
            ],
        );
        let nil = "00000000-0000-0000-0000-000000000000";
        assert_eq!(
            write.sql(),
            format!(
                "UPDATE t SET n = n - (-5)::int8 WHERE id = '{nil}'::uuid AND k = ANY('{{1,-2}}'::int8[]) AND m = ANY('{{{nil},{nil}}}'::uuid[]) AND (10)::int8 = (10)::int8"
            )
        );
    }

    #[test]
    fn hot_writes_follow_one_another_in_one_message() {
        let refused = crate::ApiError::new(crate::PlatformCode::AlreadyExists, "taken");
        let both = HotWrite::new("UPDATE a SET n = $1", &[Literal::Int(1)])
            .then(HotWrite::new("UPDATE b SET n = $1", &[Literal::Int(2)]).refused_by("b_cap", refused));
        assert_eq!(both.sql(), "UPDATE a SET n = (1)::int8;\nUPDATE b SET n = (2)::int8");
        assert_eq!(both.refusal.map(|(name, error)| (name, error.code())), Some(("b_cap", "already_exists")));
    }

    #[test]
    #[should_panic(expected = "names $3")]
    fn a_hot_write_naming_a_missing_value_is_a_bug() {
        let _ = HotWrite::new("SELECT $1, $3", &[Literal::Int(1), Literal::Int(2)]);
    }

    #[test]
    fn migrations_are_embedded_in_order() {
        let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(!versions.is_empty());
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    }
}
