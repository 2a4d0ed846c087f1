//! The per-process PostgreSQL server and the per-test databases.

use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use platform::db::{self, MIGRATOR, quote_ident};
use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

struct Server {
    /// Options for the server's maintenance database (`postgres`).
    admin: PgConnectOptions,
    template: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
/// The embedded cluster and its directory, when this process started one; taken at exit.
static EMBEDDED: Mutex<Option<(EmbeddedPostgres, tempfile::TempDir)>> = Mutex::new(None);

/// Options for the test server's maintenance database, starting the server on first use.
pub fn server_options() -> PgConnectOptions {
    server().admin.clone()
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // Initialisation is async but may be reached from any test's runtime: run it on a thread of its own.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(start_server())
        })
        .join()
        .expect("the test database server failed to start")
    })
}

async fn start_server() -> Server {
    let url = std::env::var("BACKLINE_TEST_DATABASE_URL").or_else(|_| std::env::var("DATABASE_URL")).ok();
    let admin = match url {
        Some(url) => PgConnectOptions::from_str(&url)
            .expect("BACKLINE_TEST_DATABASE_URL is not a PostgreSQL URL")
            .database("postgres"),
        None => start_embedded(),
    };
    let template = format!("backline_tpl_{}", migrations_fingerprint());
    create_template(&admin, &template).await;
    Server { admin, template }
}

static TRACK_STATEMENTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Loads `pg_stat_statements` into the embedded test server this process starts (call it before the
/// first database is made): the benchmarks count the statements a request costs with it.
pub fn track_statements() {
    TRACK_STATEMENTS.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn start_embedded() -> PgConnectOptions {
    remove_abandoned_clusters();
    let dir = tempfile::Builder::new().prefix("backline-test-").tempdir().expect("temporary directory");
    let mut config = EmbeddedConfig::new(dir.path());
    config.ephemeral = true;
    config.max_connections = 300;
    if TRACK_STATEMENTS.load(std::sync::atomic::Ordering::SeqCst) {
        config.settings.push("shared_preload_libraries=pg_stat_statements".to_owned());
        config.settings.push("pg_stat_statements.track_utility=on".to_owned());
        config.settings.push("pg_stat_statements.track_planning=on".to_owned());
    }
    let cluster =
        EmbeddedPostgres::start(&config).unwrap_or_else(|err| panic!("cannot start a test PostgreSQL cluster: {err}"));
    let admin = cluster.connect_options("postgres");
    *EMBEDDED.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((cluster, dir));
    register_cleanup();
    admin
}

extern "C" fn stop_embedded_at_exit() {
    let taken = EMBEDDED.lock().ok().and_then(|mut guard| guard.take());
    if let Some((mut cluster, dir)) = taken {
        cluster.stop();
        drop(cluster);
        drop(dir); // removes the directory
    }
}

fn register_cleanup() {
    // SAFETY: atexit(3) takes a plain `extern "C" fn()` that stays valid for the life of the process.
    // The handler runs during exit(3), while other threads still exist, so stopping the cluster (which
    // joins its supervisor thread) is sound. A test process killed outright skips it: the cluster then
    // shuts itself down (parent-death signal) and `remove_abandoned_clusters` deletes the directory later.
    unsafe {
        libc::atexit(stop_embedded_at_exit);
    }
}

/// Deletes the directories of test clusters whose process is gone.
fn remove_abandoned_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_test_cluster = entry.file_name().to_string_lossy().starts_with("backline-test-");
        if !is_test_cluster || path.join("pgdata/postmaster.pid").exists() {
            continue;
        }
        let Ok(lock) = std::fs::OpenOptions::new().write(true).open(path.join("backline.lock")) else { continue };
        if lock.try_lock().is_ok() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Changes whenever a migration is added or edited, so that a stale template is never used.
fn migrations_fingerprint() -> String {
    // FNV-1a: stable across toolchains, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in MIGRATOR.iter() {
        for byte in migration.version.to_le_bytes().iter().chain(migration.checksum.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Creates the migrated template once per server, even with several test processes racing.
async fn create_template(admin: &PgConnectOptions, template: &str) {
    let mut conn = PgConnection::connect_with(admin).await.expect("connect to the test server");
    sqlx::query("SELECT pg_advisory_lock(hashtext('backline.test_template'))").execute(&mut conn).await.expect("lock");
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(template)
        .fetch_one(&mut conn)
        .await
        .expect("look up the template");
    db::ensure_app_role(&mut conn, db::APP_ROLE).await.expect("create the application role");
    if !exists {
        let building = format!("{template}_building");
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building)))
            .execute(&mut conn)
            .await
            .expect("drop");
        sqlx::raw_sql(&format!("CREATE DATABASE {}", quote_ident(&building)))
            .execute(&mut conn)
            .await
            .expect("create template");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone().database(&building))
            .await
            .expect("connect template");
        db::migrate(&pool).await.expect("migrate the template");
        pool.close().await;
        // Tests connect as the application role, with the privileges the service has and no more.
        let mut template_conn =
            PgConnection::connect_with(&admin.clone().database(&building)).await.expect("connect template");
        db::grant_app_role(&mut template_conn, db::APP_ROLE).await.expect("grant the application role");
        let _ = template_conn.close().await;
        sqlx::raw_sql(&format!(
            "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} WITH IS_TEMPLATE true",
            quote_ident(&building),
            quote_ident(template),
            quote_ident(template)
        ))
        .execute(&mut conn)
        .await
        .expect("publish the template");
    }
    sqlx::query("SELECT pg_advisory_unlock(hashtext('backline.test_template'))")
        .execute(&mut conn)
        .await
        .expect("unlock");
    let _ = conn.close().await;
}

/// A database of its own for one test, migrated, dropped when the value is dropped. Its pool connects as
/// the application role (rows only, as the service does); [`TestDb::owner`] is the owner, for what a
/// test does behind the service's back (altering a table, forging a row).
pub struct TestDb {
    pub pool: PgPool,
    name: String,
    /// The owner's options (the server's superuser).
    options: PgConnectOptions,
}

impl TestDb {
    /// A fresh migrated database.
    pub async fn new() -> Self {
        let server = server();
        Self::create(&server.admin, Some(&server.template)).await
    }

    /// A fresh database with no migrations applied.
    pub async fn empty() -> Self {
        Self::create(&server().admin, None).await
    }

    async fn create(admin: &PgConnectOptions, template: Option<&str>) -> Self {
        let name = format!("test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect_with(admin).await.expect("connect to the test server");
        let sql = match template {
            Some(template) => format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(template)),
            None => format!("CREATE DATABASE {}", quote_ident(&name)),
        };
        sqlx::raw_sql(&sql).execute(&mut conn).await.expect("create the test database");
        let _ = conn.close().await;
        let options = admin.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options.clone().username(db::APP_ROLE))
            .await
            .expect("connect the test database");
        Self { pool, name, options }
    }

    /// Options to open more connections to this database, as the application role.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options.clone().username(db::APP_ROLE)
    }

    /// Options to connect as the owner (the server's superuser).
    pub fn owner_options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A connection as the owner (the server's superuser).
    pub async fn owner(&self) -> PgConnection {
        PgConnection::connect_with(&self.options).await.expect("connect as the owner")
    }

    /// A `DATABASE_URL` for this database as the application role.
    pub fn app_url(&self) -> String {
        self.url().replacen(&format!("//{}@", self.options.get_username()), &format!("//{}@", db::APP_ROLE), 1)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `DATABASE_URL` for this database as its owner, for processes the test starts (a socket
    /// directory is percent-encoded as the host).
    pub fn url(&self) -> String {
        let o = &self.options;
        let host = o.get_socket().map_or_else(|| o.get_host().to_owned(), |s| s.to_string_lossy().replace('/', "%2F"));
        format!("postgresql://{}@{host}:{}/{}", o.get_username(), o.get_port(), self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.options.clone().database("postgres");
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name));
        // Drop runs inside a test's runtime, which cannot block on itself: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin).await.ok()?;
                sqlx::raw_sql(&sql).execute(&mut conn).await.ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}
