//! The `backline` binary as a user runs it: the embedded cluster's life cycle, signals, and DATABASE_URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

const BIN: &str = env!("CARGO_BIN_EXE_backline");

fn backline(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DATABASE_URL")
        .env_remove("BACKLINE_PG_BINDIR")
        .env("BACKLINE_DATA_DIR", data_dir)
        .env("BACKLINE_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

/// A `backline serve` child and what it logged.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(backline(data_dir), extra)
    }

    /// Starts `backline serve` on a free port with `cmd`'s environment, and `extra` arguments.
    fn spawn(mut cmd: Command, extra: &[&str]) -> Self {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn backline");
        let log = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("Backline is listening on http://").nth(1) {
                    let addr: SocketAddr = rest.split_whitespace().next().unwrap().parse().unwrap();
                    let _ = addr_tx.send(addr);
                }
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let addr = match addr_rx.recv_timeout(Duration::from_secs(90)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("backline did not start; log:\n{}", log.lock().unwrap());
            }
        };
        Self { child, addr, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn signal(&self, signal: i32) {
        send_signal(self.child.id(), signal);
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "backline did not exit; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send_signal(pid: u32, signal: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn postmaster_pid(data_dir: &Path) -> u32 {
    let text = std::fs::read_to_string(data_dir.join("pgdata/postmaster.pid")).expect("postmaster.pid");
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// Alive and not a zombie.
fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => !status.lines().any(|l| l.starts_with("State:") && (l.contains('Z') || l.contains('X'))),
        Err(_) => false,
    }
}

fn wait_gone(pid: u32, within: Duration) {
    let deadline = Instant::now() + within;
    while is_running(pid) {
        assert!(Instant::now() < deadline, "postmaster {pid} is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap() // effective uid
}

fn cluster_options(data_dir: &Path) -> PgConnectOptions {
    PgConnectOptions::new().socket(data_dir.join("run")).port(5432).username("backline").database("backline")
}

fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("backline-cli-").tempdir().unwrap()
}

#[tokio::test]
async fn embedded_cluster_is_created_once_kept_across_restarts_and_stopped_cleanly() {
    let dir = data_dir();
    let mut server = Server::start(dir.path());
    assert!(server.log().contains("creating the embedded PostgreSQL cluster"), "{}", server.log());
    assert_eq!(http_get(server.addr, "/readyz").0, 200);
    assert_eq!(http_get(server.addr, "/healthz").0, 200);

    let postmaster = postmaster_pid(dir.path());
    #[allow(unsafe_code)]
    // SAFETY: geteuid(2) cannot fail.
    let our_uid = unsafe { libc::geteuid() };
    if our_uid == 0 {
        assert_ne!(uid_of(postmaster), 0, "as root, PostgreSQL must run as an unprivileged user");
    } else {
        assert_eq!(uid_of(postmaster), our_uid);
    }

    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    // The service connects as the application role; only the test's own connection is the owner's.
    let roles: Vec<String> = sqlx::query_scalar!(
        r#"SELECT DISTINCT usename::text AS "u!" FROM pg_stat_activity
           WHERE datname = 'backline' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"#
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(roles, [platform::db::APP_ROLE]);
    sqlx::query("INSERT INTO demo_datasets (name, version) VALUES ('restart_marker', 1)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    server.signal(libc::SIGTERM);
    let status = server.wait(Duration::from_secs(60));
    assert!(status.success(), "exit {status}; log:\n{}", server.log());
    wait_gone(postmaster, Duration::from_secs(5));
    assert!(!dir.path().join("pgdata/postmaster.pid").exists(), "PostgreSQL did not shut down cleanly");

    let mut again = Server::start(dir.path());
    assert!(!again.log().contains("creating the embedded PostgreSQL cluster"), "{}", again.log());
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM demo_datasets WHERE name = 'restart_marker'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept, 1, "data must survive a restart");
    conn.close().await.unwrap();

    let postmaster = postmaster_pid(dir.path());
    again.signal(libc::SIGINT);
    assert!(again.wait(Duration::from_secs(60)).success(), "log:\n{}", again.log());
    wait_gone(postmaster, Duration::from_secs(5));
}

#[test]
fn a_second_instance_on_the_same_data_dir_is_refused() {
    let dir = data_dir();
    let first = Server::start(dir.path());
    let output = backline(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another backline process"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.child.id())), "{stderr}");
    // The first instance is unharmed.
    assert_eq!(http_get(first.addr, "/readyz").0, 200);
}

#[test]
fn no_postmaster_survives_a_sigkill_of_backline() {
    let dir = data_dir();
    let mut server = Server::start(dir.path());
    let postmaster = postmaster_pid(dir.path());
    assert!(is_running(postmaster));
    server.signal(libc::SIGKILL);
    server.wait(Duration::from_secs(10));
    wait_gone(postmaster, Duration::from_secs(30));
    // And the next start recovers the cluster.
    let next = Server::start(dir.path());
    assert_eq!(http_get(next.addr, "/readyz").0, 200);
}

/// The embedded postmaster killed as the kernel's OOM killer would: Backline starts it again
/// (PostgreSQL's crash recovery) and answers within seconds.
#[test]
fn a_killed_postmaster_is_started_again_and_the_service_recovers() {
    let dir = data_dir();
    let server = Server::start(dir.path());
    let postmaster = postmaster_pid(dir.path());
    send_signal(postmaster, libc::SIGKILL);
    wait_gone(postmaster, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let restarted = std::fs::read_to_string(dir.path().join("pgdata/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .is_some_and(|pid| pid != postmaster && is_running(pid));
        if restarted && http_get(server.addr, "/readyz").0 == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again after 30 s; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(server.log().contains("starting it again (crash recovery)"), "{}", server.log());
    assert_eq!(http_get(server.addr, "/v1/events").0, 200, "a request reads the database again");
}

/// A postmaster that cannot be started again (its configuration is gone): Backline gives up after a
/// few attempts and exits non-zero with the reason, for its supervisor to act on.
#[test]
fn a_postmaster_that_cannot_start_again_stops_the_service_with_the_reason() {
    let dir = data_dir();
    let mut server = Server::start(dir.path());
    let postmaster = postmaster_pid(dir.path());
    let conf = dir.path().join("pgdata/postgresql.conf");
    std::fs::rename(&conf, conf.with_extension("away")).unwrap();
    send_signal(postmaster, libc::SIGKILL);
    let status = server.wait(Duration::from_secs(60));
    assert!(!status.success(), "log:\n{}", server.log());
    let log = server.log();
    assert!(log.contains("could not be started again"), "{log}");
    assert!(log.contains("5 attempts failed"), "{log}");
}

#[test]
fn missing_server_binaries_are_explained() {
    let dir = data_dir();
    let output =
        backline(dir.path()).env("BACKLINE_PG_BINDIR", dir.path().join("no-such-dir")).arg("migrate").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BACKLINE_PG_BINDIR"), "{stderr}");
    assert!(stderr.contains("does not hold both `initdb` and `postgres`"), "{stderr}");
}

#[test]
fn stripe_as_default_provider_without_a_key_is_refused_before_anything_starts() {
    let dir = data_dir();
    let output = backline(dir.path()).env("BACKLINE_PAYMENT_PROVIDER", "stripe").arg("serve").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs BACKLINE_STRIPE_SECRET_KEY"), "{stderr}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was created");
}

#[test]
fn an_unknown_payment_provider_is_refused_before_anything_starts() {
    let dir = data_dir();
    let output = backline(dir.path()).env("BACKLINE_PAYMENT_PROVIDER", "paypall").arg("serve").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid value 'paypall'") && stderr.contains("[possible values: sandbox, stripe]"),
        "{stderr}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was created");
}

#[tokio::test]
async fn with_database_url_nothing_is_started_and_migrate_and_seed_work() {
    let db = testkit::TestDb::empty().await;
    let dir = data_dir();
    let url = db.url();
    // Two roles, as on a managed server: the owner migrates and grants, the service seeds as the
    // application role, which may write rows and nothing else.
    for args in [&["migrate"][..], &["seed", "--demo"], &["seed", "--demo"]] {
        let output = backline(dir.path())
            .env("DATABASE_URL", db.app_url())
            .env("BACKLINE_DATABASE_OWNER_URL", &url)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // The self-check from the command line: least privilege holds; the demo's accounts do not belong
    // outside demo mode.
    let output = backline(dir.path())
        .env("DATABASE_URL", db.app_url())
        .env("BACKLINE_DATABASE_OWNER_URL", &url)
        .args(["security-check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed: Vec<&str> = run["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["demo_accounts"], "{run}");
    let owned = sqlx::query!(
        r#"SELECT count(*) AS "tables!", count(*) FILTER (WHERE tableowner = current_user) AS "own!"
           FROM pg_tables WHERE schemaname = 'public'"#
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (tables, own) = (owned.tables, owned.own);
    assert!(tables > 50 && own == 0, "the owner made all {tables} tables; the service's role owns {own}");
    assert_eq!(platform::db::readiness(&db.pool).await, platform::db::Readiness::Ready);
    // The demo data was loaded once, though seeding ran twice.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email LIKE '%@demo.backline.test'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, identity::demo::DEMO_USERS.len() as i64);
    let (orgs, teams, subs): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM teams),
                (SELECT count(*) FROM organizations WHERE parent_id IS NOT NULL)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((orgs, teams, subs), (5, 4, 1));
    // Demo money: wallets, pending earnings, a paid and a failed withdrawal, and a clean ledger.
    let (paid, failed, pending): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM withdrawals WHERE state = 'paid'), (SELECT count(*) FROM withdrawals WHERE state = 'failed'),
                (SELECT coalesce(sum(balance), 0)::int8 FROM ledger_accounts WHERE kind = 'pending')
                  - (SELECT coalesce(sum(payable + recouped), 0)::int8 FROM royalty_statements)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    // Pending: the ledger's demo earnings (795.00), a resale (27.50 less the 5% fee, 1.38, half-even) and
    // the completed demo booking (80% of a 750.00 fee), Fiona's approved demo task (70% of 10 credits at
    // 4.90 USD); besides the royalties of the demo month.
    assert_eq!((paid, failed, pending), (1, 1, 79_500 + 2_612 + 60_000 + 3_430));
    let audit = ledger::accounts::repo::audit(&mut db.pool.acquire().await.unwrap()).await.unwrap();
    assert_eq!(audit.drifted_accounts, 0);
    // Demo tickets: two published events and a draft, sales, a check-in, a transfer and a resale, and
    // every event's ticket chain verifies from the command line.
    let (published, drafts, tickets, checked_in, transfers, resales): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events WHERE status = 'published'), (SELECT count(*) FROM events WHERE status = 'draft'),
                (SELECT count(*) FROM tickets), (SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL),
                (SELECT count(*) FROM ticket_transfers WHERE state = 'accepted'),
                (SELECT count(*) FROM resale_listings WHERE state = 'sold')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((published, drafts, tickets, checked_in, transfers, resales), (2, 1, 6, 1, 1, 1));
    let events: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM events WHERE status = 'published'").fetch_all(&db.pool).await.unwrap();
    for event in events {
        let output = backline(dir.path())
            .env("DATABASE_URL", &url)
            .args(["verify-ticket-chain", &event.to_string()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("\"valid\": true"));
    }
    // Demo royalties: last month's report reconciles, proven from the command line.
    let report = sqlx::query_scalar!("SELECT id FROM royalty_reports LIMIT 1").fetch_one(&db.pool).await.unwrap();
    let output =
        backline(dir.path()).env("DATABASE_URL", &url).args(["royalties-proof", &report.to_string()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("USD") && printed.contains("exact") && printed.contains("Nova Rae"), "{printed}");
    let statements =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM royalty_statements"#).fetch_one(&db.pool).await.unwrap();
    assert_eq!(statements, 2);
    sqlx::query!("UPDATE royalty_lines SET fee = fee + 0.0000000001 WHERE n = 1").execute(&db.pool).await.unwrap();
    let output =
        backline(dir.path()).env("DATABASE_URL", &url).args(["royalties-proof", &report.to_string()]).output().unwrap();
    assert!(!output.status.success(), "a report that does not reconcile fails");
    assert!(String::from_utf8_lossy(&output.stdout).contains("DOES NOT RECONCILE"));
    // Demo bookings: one in every status, a contract for every agreed one.
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM bookings ORDER BY status").fetch_all(&db.pool).await.unwrap();
    assert_eq!(statuses.len(), 11, "{statuses:?}");
    sqlx::query!("UPDATE ticket_chain SET action = 'refund' WHERE seq = 1")
        .execute(&mut db.owner().await)
        .await
        .unwrap();
    let event: uuid::Uuid = sqlx::query_scalar("SELECT event_id FROM ticket_chain WHERE seq = 1 LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let output = backline(dir.path())
        .env("DATABASE_URL", &url)
        .args(["verify-ticket-chain", &event.to_string()])
        .output()
        .unwrap();
    assert!(!output.status.success(), "an altered chain fails");
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken at record 1"));
    assert!(!dir.path().join("pgdata").exists(), "no embedded cluster may be created with DATABASE_URL");
}

#[tokio::test]
async fn serve_demo_offers_the_documented_logins() {
    let dir = data_dir();
    let mut server = Server::start_with(dir.path(), &["--demo"]);
    let body = format!(r#"{{"login":"nova@demo.backline.test","password":"{}"}}"#, identity::demo::DEMO_PASSWORD);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"), "{response}");

    // Registration mail is delivered by the in-process workers as an .eml file.
    let body =
        r#"{"email":"cli@example.com","username":"cli_user","display_name":"Cli","password":"a long secret phrase"}"#;
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mail = loop {
        // The demo data sends mail of its own: find the message to the new user.
        let found = std::fs::read_dir(dir.path().join("mail")).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .find(|text| text.contains("To: cli@example.com"))
        });
        if let Some(mail) = found {
            break mail;
        }
        assert!(Instant::now() < deadline, "no .eml was written; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(mail.contains("To: cli@example.com"), "{mail}");
    server.signal(libc::SIGTERM);
    let status = server.wait(Duration::from_secs(60));
    assert!(status.success(), "exit {status}; log:\n{}", server.log());
}

#[tokio::test]
async fn jobs_of_a_worker_killed_with_sigkill_are_finished_by_another() {
    use platform::jobs::{self, NewJob};
    let db = testkit::TestDb::new().await;
    let url = db.url();
    let dir = data_dir();
    let mut tx = db.pool.begin().await.unwrap();
    for _ in 0..8 {
        jobs::enqueue(&mut tx, NewJob::new(jobs::NOOP, serde_json::json!({"sleep_ms": 1500})), chrono::Utc::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let spawn_worker = || {
        backline(dir.path())
            .env("DATABASE_URL", &url)
            .args(["worker", "--concurrency", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let running: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM jobs WHERE state = 'running' AND kind = 'system.noop'"#
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if running == 4 {
            break;
        }
        assert!(Instant::now() < deadline, "the first worker never took 4 jobs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    send_signal(first.id(), libc::SIGKILL);
    first.wait().unwrap();

    let mut second = spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Only the test's own jobs: the workers also run recurring schedules (such as the catalog's
        // acknowledgement poll every minute).
        let done: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM jobs WHERE state = 'succeeded' AND kind = 'system.noop'"#
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if done == 8 {
            break;
        }
        assert!(Instant::now() < deadline, "the jobs of the killed worker were not finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    send_signal(second.id(), libc::SIGTERM);
    assert!(second.wait().unwrap().success());
    let retaken: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM jobs WHERE attempts = 2 AND kind = 'system.noop'"#)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(retaken, 4, "the 4 interrupted jobs ran a second time, the others once");
}

/// Sends one request and returns the status and body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    http_with(addr, method, path, token, &[], body)
}

fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let (status, _, body) = http_full(addr, method, path, token, headers, body);
    (status, body)
}

/// Sends one request and returns the status, the response's head (status line and headers) and its body.
fn http_full(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut extra = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn a_notification_made_by_one_process_reaches_a_stream_on_another() {
    let db = testkit::TestDb::new().await;
    let url = db.url();
    let hash = identity::password::hash("a long secret phrase".into()).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    identity::service::create_verified_user(
        &mut conn,
        "sse@example.com",
        "sse_user",
        "Sse",
        &hash,
        &["fan"],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    drop(conn);
    let (dir_a, dir_b) = (data_dir(), data_dir());
    // A runs no jobs: whatever reaches its stream was made by B.
    let mut cmd_a = backline(dir_a.path());
    cmd_a.env("DATABASE_URL", &url).env("BACKLINE_WORKERS", "0");
    let a = Server::spawn(cmd_a, &[]);
    let mut cmd_b = backline(dir_b.path());
    cmd_b.env("DATABASE_URL", &url);
    let b = Server::spawn(cmd_b, &[]);

    let (status, login) =
        http(a.addr, "POST", "/v1/auth/login", None, Some(r#"{"login":"sse_user","password":"a long secret phrase"}"#));
    assert_eq!(status, 200, "{login}");
    let token = serde_json::from_str::<serde_json::Value>(&login).unwrap()["access_token"].as_str().unwrap().to_owned();

    let mut stream = TcpStream::connect(a.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "GET /v1/me/stream HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");

    // The change goes to B; B's worker makes the notification.
    let (status, body) = http(
        b.addr,
        "PUT",
        "/v1/me/password",
        Some(&token),
        Some(r#"{"current_password":"a long secret phrase","new_password":"an even longer secret phrase"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    while !seen.contains("account.password_changed") {
        assert!(Instant::now() < deadline, "the stream on A never received B's notification; got: {seen}");
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the stream closed; got: {seen}");
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("event: notification"), "{seen}");
    drop(a);
    drop(b);
}

#[test]
fn help_documents_every_setting() {
    let output = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for setting in [
        "BACKLINE_LISTEN",
        "DATABASE_URL",
        "BACKLINE_DATA_DIR",
        "BACKLINE_PUBLIC_URL",
        "BACKLINE_LOG_FORMAT",
        "BACKLINE_STRIPE_SECRET_KEY",
        "BACKLINE_STRIPE_API_BASE",
        "BACKLINE_PAYMENT_PROVIDER",
        "BACKLINE_STRIPE_WEBHOOK_SECRETS",
    ] {
        assert!(help.contains(setting), "{setting} missing from serve --help:\n{help}");
    }
    assert!(help.contains("127.0.0.1:8080") && help.contains("./.backline"), "{help}");
}

/// A backup of a live database (the demo, with its files) restored into a fresh embedded cluster: the
/// dump matches its manifest, every ledger balance, ticket chain and file checksum verifies, and the
/// restored service answers as the old one did. A second restore into the same database, and a damaged
/// dump, are refused and change nothing.
#[tokio::test]
async fn a_backup_restores_into_a_fresh_cluster_and_verifies() {
    let db = testkit::TestDb::new().await;
    let source = data_dir();
    let with_db = |cmd: &mut Command| {
        cmd.env("DATABASE_URL", db.app_url()).env("BACKLINE_DATABASE_OWNER_URL", db.url());
    };
    let mut seed = backline(source.path());
    with_db(&mut seed);
    let output = seed.args(["seed", "--demo"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let out = data_dir();
    let folder = out.path().join("nightly");
    let mut backup = backline(source.path());
    with_db(&mut backup);
    let output = backup.args(["backup", "--with-files"]).arg(&folder).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let stored: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM stored_files"#).fetch_one(&db.pool).await.unwrap();
    assert!(stored >= 10 && files.len() as i64 == stored, "{} of {stored}", files.len());
    for f in files {
        let sha = f["sha256"].as_str().unwrap();
        let bytes = std::fs::read(folder.join("objects").join(sha)).unwrap();
        assert_eq!(platform::hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)), sha);
    }
    // A backup goes into a new folder only.
    let mut again = backline(source.path());
    with_db(&mut again);
    let output = again.args(["backup"]).arg(&folder).output().unwrap();
    assert!(!output.status.success() && String::from_utf8_lossy(&output.stderr).contains("not empty"));

    // Into a fresh embedded cluster, with its own empty object store.
    let target = data_dir();
    let output = backline(target.path()).args(["restore"]).arg(&folder).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["totals_match"], true);
    assert_eq!(report["ledger"]["unbalanced_entries"], 0);
    assert!(report["ledger"]["postings"].as_i64().unwrap() > 20, "{report}");
    assert!(report["chains_checked"].as_i64().unwrap() >= 3, "{report}");
    assert_eq!(report["files_copied"].as_i64(), Some(stored));
    // The restored service: the demo artist signs in.
    let server = Server::start(target.path());
    let (status, body) = http(
        server.addr,
        "POST",
        "/v1/auth/login",
        None,
        Some(&format!(r#"{{"login":"nova@demo.backline.test","password":"{}"}}"#, identity::demo::DEMO_PASSWORD)),
    );
    assert_eq!(status, 200, "{body}");
    drop(server);

    // A second restore into the now full database is refused.
    let output = backline(target.path()).args(["restore"]).arg(&folder).output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("needs an empty database"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A damaged dump is refused before anything is touched.
    let mut dump = std::fs::read(folder.join("database.dump")).unwrap();
    let middle = dump.len() / 2;
    dump[middle] ^= 0x01;
    std::fs::write(folder.join("database.dump"), dump).unwrap();
    let fresh = data_dir();
    let output = backline(fresh.path()).args(["restore"]).arg(&folder).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not match its manifest"));
    assert!(!fresh.path().join("pgdata").exists(), "nothing was started");
}

/// The secret key every process of one installation shares (sealed event keys, store credentials).
const SHARED_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The real topology on one machine: a primary and a streaming replica made from it with
/// `pg_basebackup`, two `serve` nodes reading from the replica and a `worker`. The same purchases are
/// sent to both nodes at once under one idempotency key: each is made once. Public searches are served
/// by the replica on both nodes; when the replica stops, they go to the primary and `/readyz` and
/// `/metrics` say so.
#[tokio::test]
async fn two_nodes_a_worker_and_a_read_replica_lose_and_double_nothing() {
    use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
    let root = data_dir();
    let primary_dir = root.path().join("primary");
    let config = EmbeddedConfig::new(&primary_dir);
    let primary = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await.unwrap().unwrap();
    let owner_url = primary.url("backline");
    // The application role, as an administrator makes it once on a managed server.
    let mut admin = PgConnection::connect_with(&primary.connect_options("postgres")).await.unwrap();
    platform::db::ensure_app_role(&mut admin, platform::db::APP_ROLE).await.unwrap();
    admin.close().await.unwrap();
    // The primary: Backline's database, migrated by the owner, with the demo (an event, a funded fan).
    let seed = backline(&root.path().join("seed"))
        .env("BACKLINE_SECRET_KEY", SHARED_KEY)
        .env("DATABASE_URL", owner_url.replacen("//backline@", "//backline_app@", 1))
        .env("BACKLINE_DATABASE_OWNER_URL", &owner_url)
        .args(["seed", "--demo"])
        .output()
        .unwrap();
    assert!(seed.status.success(), "{}", String::from_utf8_lossy(&seed.stderr));

    // The replica: a base backup that follows the primary (`-R`), started as a hot standby.
    std::fs::create_dir_all(root.path().join("replica")).unwrap();
    let bin = platform::embedded::find_bin_dir(None).unwrap();
    let output = std::process::Command::new(bin.join("pg_basebackup"))
        .args(["--checkpoint=fast", "--wal-method=stream", "--write-recovery-conf", "--pgdata"])
        .arg(root.path().join("replica/pgdata"))
        .args(["--dbname", &primary.url("postgres")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let config = EmbeddedConfig::new(root.path().join("replica"));
    let replica = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await.unwrap().unwrap();
    let app_url = |cluster: &EmbeddedPostgres| cluster.url("backline").replacen("//backline@", "//backline_app@", 1);

    // Two nodes and a worker, sharing the secret key and the object store as several nodes must.
    let shared = root.path().join("shared");
    let node = |name: &str, workers: &str| {
        let mut cmd = backline(&root.path().join(name));
        cmd.env("DATABASE_URL", app_url(&primary))
            .env("BACKLINE_DATABASE_OWNER_URL", &owner_url)
            .env("BACKLINE_DATABASE_REPLICA_URL", app_url(&replica))
            .env("BACKLINE_SECRET_KEY", SHARED_KEY)
            .env("BACKLINE_STORAGE_DIR", &shared)
            .env("BACKLINE_WORKERS", workers);
        cmd
    };
    let a = Server::spawn(node("a", "0"), &[]);
    let b = Server::spawn(node("b", "0"), &[]);
    let worker_log = std::fs::File::create(root.path().join("worker.log")).unwrap();
    let mut worker = node("w", "0").args(["worker"]).stdout(Stdio::null()).stderr(worker_log).spawn().unwrap();

    // The replica comes into use on both nodes.
    let replica_status = |addr: SocketAddr| -> String {
        let (_, body) = http(addr, "GET", "/readyz", None, None);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["replica"]["status"].as_str().unwrap_or("").to_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while replica_status(a.addr) != "streaming" || replica_status(b.addr) != "streaming" {
        assert!(Instant::now() < deadline, "the replica never came into use: {}", a.log());
        std::thread::sleep(Duration::from_millis(200));
    }

    // Sessions across nodes: signed in on a, known on b.
    let login = format!(r#"{{"login":"fan_felix","password":"{}"}}"#, identity::demo::DEMO_PASSWORD);
    let (status, body) = http(a.addr, "POST", "/v1/auth/login", None, Some(&login));
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(http(b.addr, "GET", "/v1/me", Some(&token), None).0, 200);

    // Public search on both nodes, from the replica: the demo's on-sale event.
    let mut event = serde_json::Value::Null;
    for addr in [a.addr, b.addr] {
        let (status, body) = http(addr, "GET", "/v1/events?q=Midnight", None, None);
        assert_eq!(status, 200, "{body}");
        event = serde_json::from_str::<serde_json::Value>(&body).unwrap()["items"][0].clone();
        assert_eq!(event["title"], "Nova Rae: Midnight Tour");
    }
    let event_id = event["id"].as_str().unwrap().to_owned();
    let (_, body) = http(a.addr, "GET", &format!("/v1/events/{event_id}"), None, None);
    let tiers = serde_json::from_str::<serde_json::Value>(&body).unwrap()["tiers"].clone();
    let early = tiers.as_array().unwrap().iter().find(|t| t["name"] == "Early bird").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut conn = PgConnection::connect_with(&primary.connect_options("backline")).await.unwrap();
    let before = felix_on(&mut conn, &event_id).await;
    let event_key = ticketing::model::EventId(event_id.parse().unwrap());
    let chain_before = ticketing::chain::verify(&mut conn, event_key).await.unwrap().records;
    // Eight purchases, each sent to both nodes at once under one key: eight orders, paid once each.
    let purchase = format!(r#"{{"items":[{{"tier_id":"{early}","quantity":1}}],"pay":"wallet"}}"#);
    let mut sent = Vec::new();
    for n in 0..8 {
        for addr in [a.addr, b.addr] {
            let (token, purchase, event_id) = (token.clone(), purchase.clone(), event_id.clone());
            let key = format!("topology-{n}");
            sent.push(std::thread::spawn(move || {
                http_with(
                    addr,
                    "POST",
                    &format!("/v1/events/{event_id}/orders"),
                    Some(&token),
                    &[("Idempotency-Key", &key)],
                    Some(&purchase),
                )
            }));
        }
    }
    let answers: Vec<(u16, String)> = sent.into_iter().map(|t| t.join().unwrap()).collect();
    let mut orders = std::collections::HashSet::new();
    for (status, body) in &answers {
        let errors = |log: String| log.lines().filter(|l| l.contains("ERROR")).collect::<Vec<_>>().join("\n");
        assert!(matches!(status, 200 | 201 | 409), "{status} {body}\n{}\n{}", errors(a.log()), errors(b.log()));
        if *status != 409 {
            orders.insert(serde_json::from_str::<serde_json::Value>(body).unwrap()["id"].as_str().unwrap().to_owned());
        }
    }
    let (made, tickets) = felix_on(&mut conn, &event_id).await;
    assert_eq!((made - before.0, tickets - before.1), (8, 8), "each purchase made once: {answers:?}");
    assert_eq!(orders.len(), 8, "the answers of a key's two requests name one order");
    let audit = ledger::accounts::repo::audit(&mut conn).await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    // The worker appends the tickets' chain records after the purchases: eight issues, the chain intact
    // (within the minute's sweep at worst).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let chain = ticketing::chain::verify(&mut conn, event_key).await.unwrap();
        assert!(chain.valid, "{chain:?}");
        if chain.records >= chain_before + 8 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker never appended the chain: {chain:?}, {chain_before} before");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Replica reads were served on both nodes.
    let replica_reads = |addr: SocketAddr| -> f64 {
        let (_, text) = http(addr, "GET", "/metrics", None, None);
        text.lines()
            .find_map(|l| l.strip_prefix("backline_replica_reads_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    assert!(replica_reads(a.addr) >= 1.0 && replica_reads(b.addr) >= 1.0);

    // The replica stops: both nodes bypass it, say so, and keep answering from the primary.
    tokio::task::spawn_blocking(move || drop(replica)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while replica_status(a.addr) != "down" || replica_status(b.addr) != "down" {
        assert!(Instant::now() < deadline, "the replica's outage was never noticed");
        std::thread::sleep(Duration::from_millis(200));
    }
    for addr in [a.addr, b.addr] {
        assert_eq!(http(addr, "GET", "/readyz", None, None).0, 200, "the primary still serves");
        let (status, body) = http(addr, "GET", "/v1/events?q=Midnight", None, None);
        assert_eq!(status, 200, "{body}");
        let (_, text) = http(addr, "GET", "/metrics", None, None);
        assert!(text.contains("backline_replica_up 0"), "{text}");
    }
    let _ = worker.kill();
    let _ = worker.wait();
}

/// Felix's paid orders and tickets for an event.
async fn felix_on(conn: &mut PgConnection, event: &str) -> (i64, i64) {
    let row = sqlx::query!(
        r#"SELECT count(DISTINCT o.id) AS "orders!", count(t.id) AS "tickets!" FROM orders o JOIN users u ON u.id = o.buyer_id
           LEFT JOIN tickets t ON t.order_id = o.id
           WHERE u.username = 'fan_felix' AND o.event_id = $1 AND o.state = 'paid'"#,
        event.parse::<uuid::Uuid>().unwrap()
    )
    .fetch_one(conn)
    .await
    .unwrap();
    (row.orders, row.tickets)
}

/// The server killed with SIGKILL in the middle of a burst of purchases: after a restart, every
/// purchase either happened whole (a paid order, its ticket, the tier's count, the money moved) or not
/// at all, and the ledger audits clean.
#[tokio::test]
async fn a_server_killed_mid_purchase_loses_or_doubles_nothing() {
    let dir = data_dir();
    let server = Server::start_with(dir.path(), &["--demo"]);
    let token = felix_token(server.addr);
    let (event, tier) = midnight_tier(server.addr, "General admission");

    // Enough money for every purchase to go through while the server lives.
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    fund_felix(&mut conn, 1_000_000).await;
    let (balance_before, paid_before) = felix_money(&mut conn).await;
    let (orders_before, _) = felix_on(&mut conn, &event).await;
    conn.close().await.unwrap();

    // Purchases in flight from many clients; the server is killed under them.
    let purchase = format!(r#"{{"items":[{{"tier_id":"{tier}","quantity":1}}],"pay":"wallet"}}"#);
    let path = format!("/v1/events/{event}/orders");
    // Killed once some purchases went through, with more in flight.
    let answered = kill_amid(server, dir.path(), &path, &token, &purchase, async |conn: &mut PgConnection| {
        felix_on(conn, &event).await.0 > orders_before + 3
    })
    .await;

    // Started again: PostgreSQL's crash recovery, then the books.
    let again = Server::start(dir.path());
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    let paid_after = assert_purchases_whole(&mut conn, &tier, (balance_before, paid_before), &answered).await;
    assert!(paid_after > paid_before, "some purchases went through before the kill: {answered:?}");
    assert!(answered.contains(&0), "some were in flight when it was killed: {answered:?}");
    conn.close().await.unwrap();
    drop(again);
}

/// The server killed with SIGKILL while withdrawals are being requested and paid out. After a restart,
/// and once the killed process's job leases have run out, every withdrawal that exists is paid exactly
/// once (one `withdrawal.paid` entry, the provider's reference kept), none is lost or left holding money,
/// Felix's wallet lost exactly what was paid out, and the ledger audits clean.
#[tokio::test]
async fn a_server_killed_mid_withdrawal_loses_or_doubles_nothing() {
    let dir = data_dir();
    let server = Server::start_with(dir.path(), &["--demo"]);
    let token = felix_token(server.addr);
    let method = r#"{"kind":"bank_account","iban":"DE89 3704 0044 0532 0130 00","account_holder":"Felix Fan"}"#;
    let (status, body) = http(server.addr, "POST", "/v1/me/payout-methods", Some(&token), Some(method));
    assert_eq!(status, 201, "{body}");
    let method = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    fund_felix(&mut conn, 10_000_000).await;
    let (before, _) = felix_money(&mut conn).await;
    conn.close().await.unwrap();

    // Withdrawals (10.00 and a fee of 1.00 each) requested from many clients; the server, which also
    // runs the payout jobs, is killed under them.
    let request = format!(r#"{{"amount":1000,"currency":"EUR","payout_method_id":"{method}"}}"#);
    // Killed once some withdrawals were paid out while others wait.
    let method_id: uuid::Uuid = method.parse().unwrap();
    let answered = kill_amid(server, dir.path(), "/v1/me/withdrawals", &token, &request, async |conn: &mut PgConnection| {
        let row = sqlx::query!(
            r#"SELECT count(*) FILTER (WHERE state = 'paid') AS "paid!", count(*) FILTER (WHERE state = 'queued') AS "queued!"
               FROM withdrawals WHERE payout_method_id = $1"#,
            method_id
        )
        .fetch_one(conn)
        .await
        .unwrap();
        row.paid >= 2 && row.queued >= 2
    })
    .await;

    // Started again without workers, to look at what the kill left: every withdrawal that exists holds
    // its money, and the books balance; the jobs the dead process held still carry its lease.
    let mut quiet_cmd = backline(dir.path());
    quiet_cmd.env("BACKLINE_WORKERS", "0");
    let mut quiet = Server::spawn(quiet_cmd, &[]);
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    let audit = ledger::accounts::repo::audit(&mut conn).await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    let left = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE state = 'queued') AS "queued!",
                  count(*) FILTER (WHERE state = 'processing') AS "processing!",
                  count(*) FILTER (WHERE state = 'paid') AS "paid!",
                  count(*) AS "all!"
           FROM withdrawals WHERE payout_method_id = $1"#,
        method_id
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(left.paid > 0, "some withdrawals were paid before the kill: {answered:?}");
    assert!(left.queued + left.processing > 0, "some were still on their way when it was killed");
    let held = felix_held(&mut conn).await;
    assert_eq!(held, (left.queued + left.processing) * 1100, "each unsettled withdrawal holds its amount and fee");
    // The lease of the killed process's payout jobs runs out (five minutes, passed here).
    sqlx::query!(
        "UPDATE jobs SET locked_until = now() - interval '1 second' WHERE state = 'running' AND kind = 'withdrawal.process'"
    )
    .execute(&mut conn)
    .await
    .unwrap();
    quiet.signal(libc::SIGTERM);
    assert!(quiet.wait(Duration::from_secs(60)).success());

    // With workers: every withdrawal settles, once.
    let again = Server::start(dir.path());
    let mut conn = PgConnection::connect_with(&cluster_options(dir.path())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM withdrawals WHERE payout_method_id = $1 AND state IN ('queued', 'processing')"#,
            method_id
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} withdrawals never settled; log:\n{}", again.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let audit = ledger::accounts::repo::audit(&mut conn).await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    let settled = sqlx::query!(
        r#"SELECT count(*) AS "withdrawals!",
                  count(*) FILTER (WHERE w.state = 'paid' AND w.provider_ref = 'sandbox_po_' || replace(w.id::text, '-', '')) AS "paid!",
                  coalesce(sum(w.amount + w.fee), 0)::int8 AS "out!",
                  (SELECT count(*) FROM journal_entries e
                    WHERE e.kind = 'withdrawal.paid'
                      AND (e.metadata->>'withdrawal')::uuid IN (SELECT id FROM withdrawals WHERE payout_method_id = $1)) AS "entries!",
                  (SELECT count(DISTINCT e.metadata->>'withdrawal') FROM journal_entries e
                    WHERE e.kind = 'withdrawal.paid'
                      AND (e.metadata->>'withdrawal')::uuid IN (SELECT id FROM withdrawals WHERE payout_method_id = $1)) AS "distinct_entries!"
           FROM withdrawals w WHERE w.payout_method_id = $1"#,
        method_id
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(settled.paid, settled.withdrawals, "every withdrawal paid, with the sandbox's reference");
    assert_eq!(settled.entries, settled.withdrawals, "one payout entry per withdrawal, none doubled");
    assert_eq!(settled.distinct_entries, settled.withdrawals);
    let created = answered.iter().filter(|s| **s == 201).count() as i64;
    assert!(settled.withdrawals >= created, "an answered withdrawal was lost: {} < {created}", settled.withdrawals);
    assert!(answered.contains(&0), "some requests were in flight when it was killed: {answered:?}");
    let (after, _) = felix_money(&mut conn).await;
    assert_eq!(before - after, settled.out, "the wallet lost exactly what was paid out");
    assert_eq!(felix_held(&mut conn).await, 0, "nothing is left held");
    conn.close().await.unwrap();
    drop(again);
}

/// Felix's held euros (money set aside for withdrawals on their way).
async fn felix_held(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(a.balance), 0)::int8 AS "held!" FROM ledger_accounts a JOIN users u ON a.owner_id = u.id
           WHERE u.username = 'fan_felix' AND a.kind = 'held' AND a.currency = 'EUR'"#
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

/// PostgreSQL restarted under live traffic, as a managed server's failover or minor upgrade does:
/// requests cut off or sent during the outage fail cleanly with 503 and `Retry-After` (never a 500),
/// `/readyz` says the database is unreachable while it is down, the service recovers by itself, and no
/// purchase is half-written.
#[tokio::test]
async fn postgresql_restarted_under_traffic_fails_cleanly_and_recovers() {
    use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
    use std::sync::atomic::{AtomicBool, Ordering};
    let root = data_dir();
    let config = EmbeddedConfig::new(root.path().join("pg"));
    let start = |config: EmbeddedConfig| tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config));
    let pg = start(config.clone()).await.unwrap().unwrap();
    let owner_url = pg.url("backline");
    let app_url = owner_url.replacen("//backline@", "//backline_app@", 1);
    let mut admin = PgConnection::connect_with(&pg.connect_options("postgres")).await.unwrap();
    platform::db::ensure_app_role(&mut admin, platform::db::APP_ROLE).await.unwrap();
    admin.close().await.unwrap();
    let node = |name: &str| {
        let mut cmd = backline(&root.path().join(name));
        cmd.env("DATABASE_URL", &app_url)
            .env("BACKLINE_DATABASE_OWNER_URL", &owner_url)
            .env("BACKLINE_SECRET_KEY", SHARED_KEY);
        cmd
    };
    let seed = node("seed").args(["seed", "--demo"]).output().unwrap();
    assert!(seed.status.success(), "{}", String::from_utf8_lossy(&seed.stderr));
    let server = Server::spawn(node("node"), &[]);
    let token = felix_token(server.addr);
    let (event, tier) = midnight_tier(server.addr, "General admission");
    let mut conn = PgConnection::connect_with(&pg.connect_options("backline")).await.unwrap();
    fund_felix(&mut conn, 10_000_000).await;
    let before = felix_money(&mut conn).await;
    conn.close().await.unwrap();

    // Buyers and readers, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let purchase = format!(r#"{{"items":[{{"tier_id":"{tier}","quantity":1}}],"pay":"wallet"}}"#);
    let addr = server.addr;
    let clients: Vec<_> = (0..10)
        .map(|n| {
            let (token, purchase, event, stop) = (token.clone(), purchase.clone(), event.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                let mut k = 0;
                while !stop.load(Ordering::SeqCst) {
                    k += 1;
                    let key = format!("restart-{n}-{k}");
                    let (status, head, body) = if n % 2 == 0 {
                        let path = format!("/v1/events/{event}/orders");
                        http_full(addr, "POST", &path, Some(&token), &[("Idempotency-Key", &key)], Some(&purchase))
                    } else {
                        http_full(addr, "GET", "/v1/events?q=Midnight", None, &[], None)
                    };
                    answers.push((status, head.contains("\r\nretry-after:"), body));
                    std::thread::sleep(Duration::from_millis(20));
                }
                answers
            })
        })
        .collect();
    let ready = |addr| http(addr, "GET", "/readyz", None, None);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ready(addr).0, 200);

    // The restart: a fast shutdown (sessions cut off), a pause, the same cluster started again.
    drop(pg);
    let (status, body) = ready(addr);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database_unreachable"), "{body}");
    std::thread::sleep(Duration::from_millis(1500));
    let pg = start(config).await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready(addr).0 != 200 {
        assert!(Instant::now() < deadline, "the service never recovered; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Traffic goes on after the restart before the clients stop.
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::SeqCst);
    let answers: Vec<(u16, bool, String)> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();

    let failed: Vec<_> = answers.iter().filter(|(status, _, _)| !matches!(status, 200 | 201)).collect();
    assert!(!failed.is_empty(), "some requests met the outage");
    for (status, retry_after, body) in &failed {
        assert_eq!(*status, 503, "{body}; log:\n{}", server.log());
        assert!(*retry_after, "a 503 says when to retry: {body}");
    }
    let recovered = answers.iter().rev().take(20).filter(|(status, _, _)| matches!(status, 200 | 201)).count();
    assert!(recovered > 0, "requests succeed again after the restart");
    assert!(!server.log().contains("panicked"), "no request panicked; log:\n{}", server.log());
    let statuses: Vec<u16> = answers.iter().map(|(status, _, _)| *status).collect();
    let mut conn = PgConnection::connect_with(&pg.connect_options("backline")).await.unwrap();
    let paid_after = assert_purchases_whole(&mut conn, &tier, before, &statuses).await;
    assert!(paid_after > before.1, "purchases went through");
    conn.close().await.unwrap();
    drop(server);
}

/// Twelve clients POST `body` to `path` as one user, each under fresh idempotency keys until its
/// connection is cut off; once `ready` says (on a connection to the cluster) that enough has happened,
/// the server is killed with SIGKILL, and this waits until its PostgreSQL is gone too. The statuses
/// answered (0: cut off in flight).
async fn kill_amid(
    server: Server,
    data_dir: &Path,
    path: &str,
    token: &str,
    body: &str,
    mut ready: impl AsyncFnMut(&mut PgConnection) -> bool,
) -> Vec<u16> {
    let addr = server.addr;
    let clients: Vec<_> = (0..12)
        .map(|n| {
            let (path, token, body) = (path.to_owned(), token.to_owned(), body.to_owned());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                for k in 0..2_000 {
                    let key = format!("kill-{n}-{k}");
                    let answer = std::panic::catch_unwind(|| {
                        http_with(addr, "POST", &path, Some(&token), &[("Idempotency-Key", &key)], Some(&body))
                    });
                    let status = answer.map(|(status, _)| status).unwrap_or(0);
                    answers.push(status);
                    if status == 0 {
                        break;
                    }
                }
                answers
            })
        })
        .collect();
    let mut conn = PgConnection::connect_with(&cluster_options(data_dir)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready(&mut conn).await {
        assert!(Instant::now() < deadline, "the work to kill the server amid never got going; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    conn.close().await.unwrap();
    server.signal(libc::SIGKILL);
    let answered = tokio::task::spawn_blocking(move || clients.into_iter().flat_map(|c| c.join().unwrap()).collect())
        .await
        .unwrap();
    drop(server);
    let postmaster = data_dir.join("pgdata/postmaster.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while postmaster.exists() {
        assert!(Instant::now() < deadline, "PostgreSQL outlived its server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    answered
}

/// After a fault: the books audit clean and every purchase of `tier` happened whole (a paid order, its
/// ticket, the tier's count, Felix's money) or not at all; every purchase answered 201 exists. Returns
/// what Felix's paid orders cost now.
async fn assert_purchases_whole(conn: &mut PgConnection, tier: &str, before: (i64, i64), answered: &[u16]) -> i64 {
    let (balance_before, paid_before) = before;
    let audit = ledger::accounts::repo::audit(&mut *conn).await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    let row = sqlx::query!(
        r#"SELECT t.sold, t.held,
                  (SELECT count(*) FROM tickets k WHERE k.tier_id = t.id) AS "tickets!",
                  (SELECT count(*) FROM orders o WHERE o.event_id = t.event_id AND o.state = 'paid'
                     AND EXISTS (SELECT 1 FROM tickets k WHERE k.order_id = o.id AND k.tier_id = t.id)) AS "paid_orders!",
                  (SELECT count(*) FROM orders o WHERE o.event_id = t.event_id AND o.state = 'pending') AS "pending_orders!"
           FROM ticket_tiers t WHERE t.id = $1"#,
        tier.parse::<uuid::Uuid>().unwrap()
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let (sold, held, tickets, paid_orders, pending_orders) =
        (row.sold, row.held, row.tickets, row.paid_orders, row.pending_orders);
    assert_eq!(i64::from(sold), tickets, "the tier counts exactly the tickets that exist");
    assert_eq!((held, pending_orders), (0, 0), "a purchase at once holds nothing");
    // Every answered 201 is a paid order; none without its ticket; the wallet paid exactly those.
    let created = answered.iter().filter(|s| **s == 201).count() as i64;
    assert!(paid_orders >= created, "an answered purchase was lost: {paid_orders} < {created} ({answered:?})");
    let orders_without_tickets = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM orders o
           WHERE o.state = 'paid' AND NOT EXISTS (SELECT 1 FROM tickets k WHERE k.order_id = o.id)"#
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(orders_without_tickets, 0);
    let (balance_after, paid_after) = felix_money(&mut *conn).await;
    assert_eq!(balance_before - balance_after, paid_after - paid_before, "the wallet paid for exactly the orders made");
    paid_after
}

/// Felix (the demo's fan) signed in: his access token.
fn felix_token(addr: SocketAddr) -> String {
    let login = format!(r#"{{"login":"fan_felix","password":"{}"}}"#, identity::demo::DEMO_PASSWORD);
    let (status, body) = http(addr, "POST", "/v1/auth/login", None, Some(&login));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// The demo's on-sale event ("Nova Rae: Midnight Tour") and the id of its tier called `name`.
fn midnight_tier(addr: SocketAddr, name: &str) -> (String, String) {
    let (_, body) = http(addr, "GET", "/v1/events?q=Midnight", None, None);
    let event =
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, body) = http(addr, "GET", &format!("/v1/events/{event}"), None, None);
    let tiers = serde_json::from_str::<serde_json::Value>(&body).unwrap()["tiers"].clone();
    let tier = tiers.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].as_str().unwrap().to_owned();
    (event, tier)
}

/// Puts `amount` euro cents in Felix's wallet, moved from the platform's clearing account.
async fn fund_felix(conn: &mut PgConnection, amount: i64) {
    use ledger::accounts::service as accounts;
    use ledger::model::{Owner, kinds};
    let felix =
        sqlx::query_scalar!("SELECT id FROM users WHERE username = 'fan_felix'").fetch_one(&mut *conn).await.unwrap();
    let eur = ledger::model::Currency::parse("EUR").unwrap();
    let now = chrono::Utc::now();
    let mut tx = sqlx::Connection::begin(conn).await.unwrap();
    let clearing = accounts::account(&mut tx, Owner::Platform, kinds::CLEARING, &eur, now).await.unwrap();
    let wallet = accounts::account(&mut tx, Owner::User(felix), kinds::AVAILABLE, &eur, now).await.unwrap();
    accounts::transfer(&mut tx, clearing.id, wallet.id, amount, "payment.captured", "top up", now).await.unwrap();
    tx.commit().await.unwrap();
}

/// Felix's available euros and what his paid orders cost, together.
async fn felix_money(conn: &mut PgConnection) -> (i64, i64) {
    let row = sqlx::query!(
        r#"SELECT (SELECT a.balance FROM ledger_accounts a JOIN users u ON a.owner_id = u.id
                    WHERE u.username = 'fan_felix' AND a.kind = 'available' AND a.currency = 'EUR') AS "balance!",
                  (SELECT coalesce(sum(o.amount), 0)::int8 FROM orders o JOIN users u ON u.id = o.buyer_id
                    WHERE u.username = 'fan_felix' AND o.state = 'paid') AS "paid!""#
    )
    .fetch_one(conn)
    .await
    .unwrap();
    (row.balance, row.paid)
}
