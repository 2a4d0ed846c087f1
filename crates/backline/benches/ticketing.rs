//! Ticketing benchmark: a flash sale. 5,000 buyers, each on their own connection, start at once and try
//! to buy one of 1,000 tickets through the real HTTP API, in one request each (an order paid from the
//! wallet at once). It must end with exactly 1,000 sold, none oversold, no code twice, every buyer
//! answered (sold or sold out), and the ticket chain complete once its job has run.
//!
//! Beside it, in the same run on the same PostgreSQL:
//! - the statements one purchase costs, counted by `pg_stat_statements` over purchases made one at a
//!   time (the one-request purchase, and the older reserve-then-pay for comparison);
//! - `pgbench` running the minimal SQL of one purchase (the conditional update of the tier, the order,
//!   the ticket, a balanced ledger entry with two postings and their balances): the physical limit of
//!   this design on this machine;
//! - a waiting room with 5,000 people following it live, and the p99 of another endpoint (an event's
//!   page) with and without them.
//!
//! The sale is made three times (`BENCH_SALES`), each with 5,000 buyers of its own, and the table gives
//! the median sale (by purchases per second) with the range: runs of one build differ by a tenth.
//!
//! Run with `cargo bench -p backline --bench ticketing`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ledger::model::{Currency, Owner, kinds};
use platform::AppContext;
use platform::ratelimit::Limit;
use support::{Client, Latencies, ms, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const BUYERS: usize = 5_000;
const TICKETS: i32 = 1_000;
const PRICE: i64 = 2_500;
/// Buyers of the calm purchases whose statements are counted, per kind of purchase.
const COUNTED: usize = 50;

/// How many flash sales the run makes, each with buyers of its own (BENCH_SALES overrides): runs of one
/// build differ by a tenth, so the table gives the median sale and the range.
fn sales() -> usize {
    std::env::var("BENCH_SALES").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(3)
}

/// Database connections of the application: the production default (BENCH_DB_CONNECTIONS overrides).
fn pool_size() -> u32 {
    std::env::var("BENCH_DB_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

/// Runs a `pgbench` script (`clients` clients, 10 s); answers its transactions per second.
fn pgbench(url: &str, script: &str, clients: u32) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.sql");
    std::fs::write(&path, script).unwrap();
    let clients = clients.to_string();
    let output = std::process::Command::new("pgbench")
        .args(["-n", "-c", &clients, "-j", "2", "-T", "10", "-f"])
        .arg(&path)
        .arg(url)
        .output()
        .expect("pgbench is installed (postgresql-contrib / postgresql client)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "pgbench failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next()?.parse().ok())
        .expect("pgbench reports tps")
}

/// The minimal SQL of one purchase, on tables of the same shape as the service's.
const PURCHASE_SETUP: &str = "
CREATE TABLE bench_tier (id int PRIMARY KEY, quantity int NOT NULL, sold int NOT NULL, CHECK (sold <= quantity));
INSERT INTO bench_tier VALUES (1, 2000000000, 0);
CREATE TABLE bench_account (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO bench_account SELECT g, 1000000000000 FROM generate_series(0, 5000) g;
CREATE TABLE bench_order (id uuid PRIMARY KEY, buyer int NOT NULL, amount bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_ticket (id uuid PRIMARY KEY, order_id uuid NOT NULL REFERENCES bench_order, code text NOT NULL UNIQUE);
CREATE TABLE bench_entry (id uuid PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_posting (entry_id uuid NOT NULL REFERENCES bench_entry, account int NOT NULL, amount bigint NOT NULL);
CREATE TABLE bench_slice (account int NOT NULL, slice int NOT NULL, balance bigint NOT NULL, PRIMARY KEY (account, slice));
";

/// The same with the escrow sliced as the ledger slices it (migration 0067): the sale's credit raises the
/// slice of its connection, so the tier's count is the only row every purchase shares.
const SLICED_PURCHASE_SCRIPT: &str = "\\set buyer random(1, 5000)
BEGIN;
WITH e AS (INSERT INTO bench_entry VALUES (gen_random_uuid(), 'ticket.sale', now()) RETURNING id)
  INSERT INTO bench_posting SELECT e.id, v.a, v.m FROM e, (VALUES (:buyer, -2500), (0, 2500)) AS v(a, m);
UPDATE bench_account SET balance = balance - 2500 WHERE id = :buyer;
INSERT INTO bench_slice AS s VALUES (0, pg_backend_pid() % 64, 2500)
  ON CONFLICT (account, slice) DO UPDATE SET balance = s.balance + EXCLUDED.balance;
WITH o AS (INSERT INTO bench_order VALUES (gen_random_uuid(), :buyer, 2500, now()) RETURNING id)
  INSERT INTO bench_ticket SELECT gen_random_uuid(), o.id, md5(random()::text) FROM o;
UPDATE bench_tier SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= quantity;
COMMIT;
";

/// Purchases in one transaction of [`grouped_purchase_script`].
const GROUPED: usize = 10;

/// The sliced minimal purchase made for [`GROUPED`] buyers at once, in one transaction: one statement
/// for their entries and postings, one for their balances (locked in id order), one credit to the
/// escrow's slice, one for their orders and tickets, one sold count. What PostgreSQL could do if the
/// service bought the purchases waiting at the same moment together (a group commit); each
/// transaction counts as that many purchases.
fn grouped_purchase_script() -> String {
    let buyers: Vec<String> = (1..=GROUPED).map(|i| format!(":b{i}")).collect();
    let sets: String = (1..=GROUPED).map(|i| format!("\\set b{i} random(1, 5000)\n")).collect();
    let values = buyers.iter().map(|b| format!("({b}::int)")).collect::<Vec<_>>().join(", ");
    let list = buyers.join(", ");
    let (n, total) = (GROUPED, 2500 * GROUPED);
    format!(
        "{sets}BEGIN;
WITH x AS (SELECT buyer, gen_random_uuid() AS e FROM (VALUES {values}) AS b (buyer)),
  ie AS (INSERT INTO bench_entry SELECT e, 'ticket.sale', now() FROM x)
  INSERT INTO bench_posting SELECT x.e, v.a, v.m FROM x, LATERAL (VALUES (x.buyer, -2500), (0, 2500)) AS v (a, m);
WITH l AS (SELECT id FROM bench_account WHERE id IN ({list}) ORDER BY id FOR UPDATE)
  UPDATE bench_account a SET balance = balance - 2500 FROM l WHERE a.id = l.id;
INSERT INTO bench_slice AS s VALUES (0, pg_backend_pid() % 64, {total})
  ON CONFLICT (account, slice) DO UPDATE SET balance = s.balance + EXCLUDED.balance;
WITH o AS (INSERT INTO bench_order SELECT gen_random_uuid(), buyer, 2500, now() FROM (VALUES {values}) AS b (buyer) RETURNING id)
  INSERT INTO bench_ticket SELECT gen_random_uuid(), o.id, md5(random()::text) FROM o;
UPDATE bench_tier SET sold = sold + {n} WHERE id = 1 AND sold + {n} <= quantity;
COMMIT;
"
    )
}

const PURCHASE_SCRIPT: &str = "\\set buyer random(1, 5000)
BEGIN;
WITH e AS (INSERT INTO bench_entry VALUES (gen_random_uuid(), 'ticket.sale', now()) RETURNING id)
  INSERT INTO bench_posting SELECT e.id, v.a, v.m FROM e, (VALUES (:buyer, -2500), (0, 2500)) AS v(a, m);
UPDATE bench_account SET balance = balance - 2500 WHERE id = :buyer;
UPDATE bench_account SET balance = balance + 2500 WHERE id = 0;
WITH o AS (INSERT INTO bench_order VALUES (gen_random_uuid(), :buyer, 2500, now()) RETURNING id)
  INSERT INTO bench_ticket SELECT gen_random_uuid(), o.id, md5(random()::text) FROM o;
UPDATE bench_tier SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= quantity;
COMMIT;
";

/// Statements run since the last reset, other than transaction control, and the `BEGIN`s and
/// `COMMIT`s; `None` when the server does not track them.
async fn statements(pool: &sqlx::PgPool) -> Option<(i64, i64)> {
    sqlx::query_as(
        "SELECT coalesce(sum(calls) FILTER (WHERE query NOT IN ('BEGIN', 'COMMIT', 'COMMIT AND CHAIN', 'ROLLBACK')), 0)::int8,
                coalesce(sum(calls) FILTER (WHERE query IN ('BEGIN', 'COMMIT', 'COMMIT AND CHAIN', 'ROLLBACK')), 0)::int8
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT LIKE '%pg_stat_statements%'",
    )
    .fetch_one(pool)
    .await
    .ok()
}

/// Each statement the purchases ran, with how many times per purchase (what the count is made of).
async fn print_statements(pool: &sqlx::PgPool, purchases: usize, kind: &str) {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT calls, regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'
         ORDER BY calls DESC, query",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    println!("statements of {purchases} purchases, {kind} (calls per purchase, the statement's start):");
    for (calls, query) in rows {
        println!("  {:>5.2}  {query}", calls as f64 / purchases as f64);
    }
}

async fn reset_statements(pool: &sqlx::PgPool) -> bool {
    sqlx::query("SELECT pg_stat_statements_reset()").execute(pool).await.is_ok()
}

/// An event with one tier of `quantity` at `PRICE`, published through the API; answers (event, tier).
async fn event_on_sale(client: &mut Client, organizer: &str, title: &str, quantity: i32) -> (String, String) {
    let starts = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let ends = (Utc::now() + chrono::Duration::days(30) + chrono::Duration::hours(4)).to_rfc3339();
    let body = format!(r#"{{"title":"{title}","starts_at":"{starts}","ends_at":"{ends}","timezone":"Europe/Berlin"}}"#);
    let (status, answer) = client.send("POST", "/v1/events", Some(organizer), Some(&body)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let event: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let event = event["id"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"name":"GA","price":{PRICE},"currency":"EUR","quantity":{quantity}}}"#);
    let (status, answer) =
        client.send("POST", &format!("/v1/events/{event}/tiers"), Some(organizer), Some(&body)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let tier: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let tier = tier["id"].as_str().unwrap().to_owned();
    let (status, _) = client
        .send("POST", &format!("/v1/events/{event}/status"), Some(organizer), Some(r#"{"status":"published"}"#))
        .await;
    assert_eq!(status, 200);
    (event, tier)
}

/// Buys one ticket; answers whether it sold (false: sold out).
async fn buy(client: &mut Client, key: &str, event: &str, tier: &str, at_once: bool) -> bool {
    let path = format!("/v1/events/{event}/orders");
    let pay = if at_once { r#","pay":"wallet""# } else { "" };
    let body = format!(r#"{{"items":[{{"tier_id":"{tier}","quantity":1}}]{pay}}}"#);
    let (status, answer) = client.send("POST", &path, Some(key), Some(&body)).await;
    if status == 409 {
        let problem: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(problem["code"], "sold_out");
        return false;
    }
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    if !at_once {
        let order: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        let pay = format!("/v1/orders/{}/pay", order["id"].as_str().unwrap());
        let (status, answer) = client.send("POST", &pay, Some(key), Some(r#"{"source":"wallet"}"#)).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    }
    true
}

/// Peak resident memory of this process (the service runs in it), from /proc.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l["VmHWM:".len()..].trim().to_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// CPU seconds used so far by this process (the service and its clients) and by every PostgreSQL
/// process alive, from /proc (user and system time).
fn cpu_seconds() -> (f64, f64) {
    let ticks = |stat: &str| -> Option<(String, f64)> {
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (user, system): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
        Some((comm, (user + system) / 100.0))
    };
    let own = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| ticks(&s)).map_or(0.0, |t| t.1);
    let mut postgres = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some((comm, seconds)) = std::fs::read_to_string(entry.path().join("stat")).ok().and_then(|s| ticks(&s))
            && comm == "postgres"
        {
            postgres += seconds;
        }
    }
    (own, postgres)
}

/// The statements that took the most time in the database since the last reset: calls, mean and
/// total milliseconds executing (lock waits included), and total milliseconds planning.
async fn print_statement_times(pool: &sqlx::PgPool) {
    let rows: Vec<(i64, f64, f64, f64, String)> = sqlx::query_as(
        "SELECT calls, mean_exec_time, total_exec_time, total_plan_time, regexp_replace(left(query, 80), '\\s+', ' ', 'g') FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'
         ORDER BY total_exec_time + total_plan_time DESC LIMIT 12",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    println!(
        "time in the database during the sale (calls, mean ms, total ms executing, total ms planning, the statement's start):"
    );
    for (calls, mean, total, planning, query) in rows {
        println!("  {calls:>6} {mean:>8.3} {total:>9.1} {planning:>9.1}  {query}");
    }
}

/// p99 of `GET /v1/events/{id}` from 20 connections for 5 seconds.
async fn page_p99(addr: std::net::SocketAddr, event: &str) -> (Duration, f64) {
    let path = Arc::new(format!("/v1/events/{event}"));
    let work: support::Work = Arc::new(move |client: &mut Client, _| {
        let path = path.clone();
        Box::pin(async move {
            let started = Instant::now();
            let (status, _) = client.send("GET", &path, None, None).await;
            assert_eq!(status, 200);
            started.elapsed()
        })
    });
    let span = Duration::from_secs(5);
    let latencies = support::load(addr, 20, span, work).await;
    (latencies.percentile(99.0), latencies.rate(span))
}

/// One flash sale's outcome.
struct Sale {
    sold: Latencies,
    sold_out: Latencies,
    /// When the last purchase was answered, from the start.
    last_sale: Duration,
    /// When the last buyer was answered.
    everyone: Duration,
    cpu_before: (f64, f64),
    cpu_after: (f64, f64),
    /// Statements (and transaction control) during the sale, when tracked.
    in_sale: Option<(i64, i64)>,
}

impl Sale {
    /// Purchases per second, to the sell-out.
    fn rate(&self) -> f64 {
        f64::from(TICKETS) / self.last_sale.as_secs_f64()
    }
}

/// A flash sale: `buyers` (one connection each) all try at once to buy one of the event's tickets;
/// with `track`, the database's time per statement during it is printed.
async fn flash_sale(
    addr: std::net::SocketAddr,
    pool: &sqlx::PgPool,
    track: bool,
    buyers: &[String],
    event: &str,
    tier: &str,
) -> Sale {
    let mut clients = Vec::with_capacity(buyers.len());
    for n in 0..buyers.len() {
        clients.push(Client::connect_from(addr, support::client_address(n)).await);
    }
    let gate = Arc::new(tokio::sync::Barrier::new(buyers.len() + 1));
    let (event, tier) = (Arc::new(event.to_owned()), Arc::new(tier.to_owned()));
    let mut tasks = Vec::with_capacity(buyers.len());
    for (mut client, key) in clients.into_iter().zip(buyers.iter().cloned()) {
        let (gate, event, tier) = (gate.clone(), event.clone(), tier.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let started = Instant::now();
            let bought = buy(&mut client, &key, &event, &tier, true).await;
            (bought, started.elapsed(), started)
        }));
    }
    let tracked = reset_statements(pool).await;
    let cpu_before = cpu_seconds();
    // A mark for a profiler to start on (`perf record -a` from this line to the sale's result line).
    println!("sale starts: {} buyers connected", buyers.len());
    gate.wait().await;
    let began = Instant::now();
    let (mut sold, mut sold_out) = (Latencies::default(), Latencies::default());
    let mut last_sale = Duration::ZERO;
    for task in tasks {
        let (bought, latency, started) = task.await.unwrap();
        if bought {
            sold.0.push(latency);
            last_sale = last_sale.max(started.duration_since(began) + latency);
        } else {
            sold_out.0.push(latency);
        }
    }
    let everyone = began.elapsed();
    let cpu_after = cpu_seconds();
    let in_sale = statements(pool).await.filter(|_| tracked);
    if track && tracked {
        print_statement_times(pool).await;
    }
    Sale { sold, sold_out, last_sale, everyone, cpu_before, cpu_after, in_sale }
}

/// A sale's invariants, from the database, once the chain has caught up: every buyer answered, every
/// ticket sold once, none oversold or left held, the money in escrow, the chain whole. Answers the
/// tickets issued, their distinct codes, and how many were oversold.
async fn check_sale(pool: &sqlx::PgPool, client: &mut Client, event: &str, sale: &Sale) -> (i64, i64, i32) {
    let (sold, sold_out) = (&sale.sold, &sale.sold_out);
    let event_id = Uuid::parse_str(event).unwrap();
    let tier = sqlx::query!("SELECT quantity, sold, held FROM ticket_tiers WHERE event_id = $1", event_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let issued = sqlx::query!(
        r#"SELECT count(DISTINCT k.id) AS "tickets!", count(DISTINCT c.code) AS "codes!", count(DISTINCT k.holder_id) AS "holders!"
           FROM tickets k JOIN ticket_codes c ON c.ticket_id = k.id WHERE k.event_id = $1"#,
        event_id
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let escrow = sqlx::query_scalar!(
        r#"SELECT ledger_balance(a) AS "balance!" FROM ledger_accounts a WHERE owner_type = 'event' AND owner_id = $1 AND kind = 'escrow'"#,
        event_id
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (status, answer) = client.send("GET", &format!("/v1/events/{event}/ticket-chain/verify"), None, None).await;
    assert_eq!(status, 200);
    let chain: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(sold.0.len() + sold_out.0.len(), BUYERS, "every buyer answered");
    assert_eq!(sold.0.len(), TICKETS as usize, "every ticket sold");
    assert_eq!((tier.quantity, tier.sold, tier.held), (TICKETS, TICKETS, 0), "none oversold, none left held");
    assert_eq!(
        (issued.tickets, issued.codes, issued.holders),
        (i64::from(TICKETS), i64::from(TICKETS), i64::from(TICKETS)),
        "no ticket or code twice"
    );
    assert_eq!(escrow, i64::from(TICKETS) * PRICE, "every sale in escrow");
    assert_eq!((chain["valid"].as_bool(), chain["records"].as_i64()), (Some(true), Some(i64::from(TICKETS))));
    (issued.tickets, issued.codes, (tier.sold + tier.held - tier.quantity).max(0))
}

/// Starts a job worker running `concurrency` jobs at once over `ctx`; stop it by sending on the answer.
fn start_worker(
    ctx: &AppContext,
    concurrency: usize,
    id: &str,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let registry = Arc::new(backline::job_registry(
        platform::mail::Transport::File(platform::mail::FileTransport::new(tempfile::tempdir().unwrap().keep())),
        notify::webhooks::DeliveryPolicy::default(),
        None,
    ));
    let config = platform::jobs::WorkerConfig {
        concurrency,
        poll_interval: Duration::from_millis(100),
        id: id.into(),
        passes: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(platform::jobs::run(ctx.clone(), registry, config, async move {
        let _ = stopped.await;
    }));
    (stop, worker)
}

#[tokio::main]
async fn main() {
    testkit::track_statements();
    let db = testkit::TestDb::new().await;
    let url = db.url();
    // The pool as the service opens it (platform::db::connect), of the benchmark's size; a buyer waits
    // up to 30 s for a connection (the service's 5 s would turn a slow run's last buyers into 503s).
    let settings =
        platform::db::PoolSettings { max_connections: pool_size(), acquire_timeout: Duration::from_secs(30) };
    let pool = platform::db::connect(url.parse().unwrap(), settings).await.unwrap();
    let tracked = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(&pool).await.is_ok();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid");
    let addr = serve(ctx.clone()).await;
    // The purchases go to the service as `backline serve` runs it: every request counted against the
    // per-client limit (its default, 1,200 a minute), each buyer from an address of its own.
    let limited = support::serve_limited(ctx.clone(), Limit::new(1_200, Duration::from_secs(60))).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "ticketing benchmark: {cores} cores, {BUYERS} buyers for {TICKETS} tickets, {} database connections",
        pool_size()
    );

    // Buyers: verified users with an API key each and money in their wallet (set up directly), and
    // 2 × COUNTED more for the counted purchases.
    let hash = identity::password::hash("bench password 2026".to_owned()).await.unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let mut tx = pool.begin().await.unwrap();
    let now = Utc::now();
    let clearing = ledger::service::account(&mut tx, Owner::Platform, kinds::CLEARING, &eur, now).await.unwrap();
    let crowd = BUYERS * sales();
    let mut keys = Vec::with_capacity(crowd + 2 * COUNTED + 1);
    for i in 0..=crowd + 2 * COUNTED {
        let name = format!("buyer_{i}");
        let user = identity::service::create_verified_user(
            &mut tx,
            &format!("{name}@bench.invalid"),
            &name,
            &name,
            &hash,
            &["fan"],
            now,
        )
        .await
        .unwrap();
        let (key, key_hash) = identity::tokens::generate(identity::tokens::Kind::ApiKey);
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) VALUES ($1, $2, 'bench', $3, $4, ARRAY['*'], $5)",
        )
        .bind(Uuid::now_v7())
        .bind(user.0)
        .bind(&key[..10])
        .bind(&key_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        let wallet = ledger::service::account(&mut tx, Owner::User(user.0), kinds::AVAILABLE, &eur, now).await.unwrap();
        ledger::service::transfer(&mut tx, clearing.id, wallet.id, PRICE, "bench.fund", "", now).await.unwrap();
        keys.push(key);
    }
    tx.commit().await.unwrap();
    let organizer = keys.pop().unwrap();
    let two_step_keys = keys.split_off(crowd + COUNTED);
    let one_step_keys = keys.split_off(crowd);
    let mut client = Client::connect(addr).await;

    // Statements per purchase, counted one purchase at a time on an event of its own.
    let (calm, calm_tier) = event_on_sale(&mut client, &organizer, "Counted", 1_000).await;
    // The event's first sale freezes its splits once: not part of every purchase.
    assert!(buy(&mut Client::connect(limited).await, &one_step_keys[0], &calm, &calm_tier, true).await);
    let mut counted = Vec::new();
    for (keys, at_once) in [(&one_step_keys[1..], true), (&two_step_keys[..], false)] {
        let mut buyer = Client::connect(limited).await;
        reset_statements(&pool).await;
        for key in keys {
            assert!(buy(&mut buyer, key, &calm, &calm_tier, at_once).await);
        }
        let per = statements(&pool)
            .await
            .filter(|_| tracked)
            .map(|(work, control)| (work as f64 / keys.len() as f64, control as f64 / keys.len() as f64));
        counted.push(per);
        if tracked {
            print_statements(&pool, keys.len(), if at_once { "one request" } else { "reserve then pay" }).await;
        }
    }

    // Baselines, same machine, same PostgreSQL, same run.
    sqlx::query("CREATE TABLE bench_hot (id int PRIMARY KEY, n bigint NOT NULL)").execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO bench_hot VALUES (1, 0)").execute(&pool).await.unwrap();
    let hot_row_tps = pgbench(&url, "UPDATE bench_hot SET n = n + 1 WHERE id = 1;\n", 8);
    sqlx::raw_sql(PURCHASE_SETUP).execute(&pool).await.unwrap();
    let single_escrow_tps = pgbench(&url, PURCHASE_SCRIPT, pool_size());
    let minimal_tps = pgbench(&url, SLICED_PURCHASE_SCRIPT, pool_size());
    let grouped_tps = pgbench(&url, &grouped_purchase_script(), pool_size()) * GROUPED as f64;

    // With BENCH_WORKER_DURING_SALE, jobs run during the sales too, as in `backline serve` (16 at once).
    let during = std::env::var_os("BENCH_WORKER_DURING_SALE").map(|_| start_worker(&ctx, 16, "bench-during"));
    // The flash sales: in each, its buyers connect first; then all start together.
    let mut rounds = Vec::new();
    for (round, buyers) in keys.chunks(BUYERS).enumerate() {
        let (event, tier) = event_on_sale(&mut client, &organizer, &format!("Flash sale {round}"), TICKETS).await;
        let last = round + 1 == sales();
        let sale = flash_sale(limited, &pool, tracked && last, buyers, &event, &tier).await;
        println!(
            "sale {}: sold out in {}, {:.0} purchases/s, purchase p99 {}, sold-out answer p99 {}, every buyer answered in {}",
            round + 1,
            ms(sale.last_sale),
            sale.rate(),
            ms(sale.sold.percentile(99.0)),
            ms(sale.sold_out.percentile(99.0)),
            ms(sale.everyone)
        );
        rounds.push((event, sale));
    }
    let rates: Vec<f64> = rounds.iter().map(|(_, s)| s.rate()).collect();
    let mut by_rate: Vec<usize> = (0..rounds.len()).collect();
    by_rate.sort_by(|a, b| rates[*a].total_cmp(&rates[*b]));
    let median_at = by_rate[by_rate.len() / 2];
    let (event, median) = &rounds[median_at];
    let event = event.clone();
    let Sale { sold, sold_out, last_sale, everyone, cpu_before, cpu_after, in_sale } = median;
    let (last_sale, everyone) = (*last_sale, *everyone);
    let (slowest, fastest) = (rates[by_rate[0]], rates[by_rate[by_rate.len() - 1]]);

    if let Some((stop, worker)) = during {
        let _ = stop.send(());
        worker.await.unwrap().unwrap();
    }
    // The chain catches up (a worker runs the jobs the sale queued).
    let (stop_worker, worker) = start_worker(&ctx, 4, "bench");
    let chained = Instant::now();
    for (event, _) in &rounds {
        let event_id = Uuid::parse_str(event).unwrap();
        loop {
            let length = sqlx::query_scalar!("SELECT chain_length FROM events WHERE id = $1", event_id)
                .fetch_one(&pool)
                .await
                .unwrap();
            if length == i64::from(TICKETS) {
                break;
            }
            assert!(chained.elapsed() < Duration::from_secs(60), "the chain caught up with {length} issues only");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let chain_catch_up = chained.elapsed();
    let mut checked = Vec::with_capacity(rounds.len());
    for (event, sale) in &rounds {
        checked.push(check_sale(&pool, &mut client, event, sale).await);
    }
    let (tickets, codes, oversold) = checked[median_at];

    // The waiting room: 5,000 people follow it live while another endpoint is measured.
    let (page_alone, page_rate_alone) = page_p99(addr, &event).await;
    let (room_event, _) = event_on_sale(&mut client, &organizer, "Waiting room", TICKETS).await;
    let opens = (Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let body = format!(r#"{{"opens_at":"{opens}","rate_per_minute":6000,"per_address":100000}}"#);
    let (status, answer) =
        client.send("PUT", &format!("/v1/events/{room_event}/waiting-room"), Some(&organizer), Some(&body)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let joined = Instant::now();
    let mut joins = Vec::new();
    for chunk in keys[..BUYERS].chunks(BUYERS / 50) {
        let (chunk, room_event) = (chunk.to_vec(), room_event.clone());
        joins.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            for key in chunk {
                let (status, _) = client
                    .send("POST", &format!("/v1/events/{room_event}/waiting-room/places"), Some(&key), None)
                    .await;
                assert!(status == 201 || status == 200, "{status}");
            }
        }));
    }
    for join in joins {
        join.await.unwrap();
    }
    let join_time = joined.elapsed();
    // Every one of them follows their place on a stream of their own; the bytes they receive are counted.
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut followers = Vec::new();
    for key in &keys[..BUYERS] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "GET /v1/events/{room_event}/waiting-room/stream HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let received = received.clone();
        followers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                received.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    // The room opens (the draw), then admits at its rate while the page is measured.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (page_in_room, page_rate_in_room) = page_p99(addr, &event).await;
    let (status, answer) = client.send("GET", &format!("/v1/events/{room_event}/waiting-room"), None, None).await;
    assert_eq!(status, 200);
    let room: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let streamed = received.load(std::sync::atomic::Ordering::Relaxed);
    for follower in followers {
        follower.abort();
    }
    let _ = stop_worker.send(());
    let _ = worker.await;

    let purchase_rate = f64::from(TICKETS) / last_sale.as_secs_f64();
    let per_purchase = |c: Option<(f64, f64)>| {
        c.map_or_else(|| "not tracked".to_owned(), |(work, control)| format!("{work:.1} (+ {control:.1} BEGIN/COMMIT)"))
    };
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| buyers / tickets, in each sale | {BUYERS} / {TICKETS} |");
    println!("| sold / sold out / errors | {} / {} / 0 |", sold.0.len(), sold_out.0.len());
    println!("| tickets issued, distinct codes, oversold | {tickets}, {codes}, {oversold} |");
    println!("| time to sell out (last purchase answered) | {} |", ms(last_sale));
    println!("| time until every buyer was answered | {} |", ms(everyone));
    println!(
        "| purchases/s (one request each, to sell-out): the median sale of {} (slowest–fastest) | {purchase_rate:.0} ({slowest:.0}–{fastest:.0}) |",
        rounds.len()
    );
    println!("| purchase p50 / p99 | {} / {} |", ms(sold.percentile(50.0)), ms(sold.percentile(99.0)));
    println!("| sold-out answer p50 / p99 | {} / {} |", ms(sold_out.percentile(50.0)), ms(sold_out.percentile(99.0)));
    let everyone_answered = Latencies::merge(vec![Latencies(sold.0.clone()), Latencies(sold_out.0.clone())]);
    println!(
        "| every buyer's answer p50 / p99 (sold or sold out) | {} / {} |",
        ms(everyone_answered.percentile(50.0)),
        ms(everyone_answered.percentile(99.0))
    );
    println!(
        "| the chain's issues appended after the sales ({} × 1,000, by its job) | {} |",
        rounds.len(),
        ms(chain_catch_up)
    );
    println!("| statements per purchase, one request (pay from the wallet) | {} |", per_purchase(counted[0]));
    println!("| statements per purchase, reserve then pay (two requests) | {} |", per_purchase(counted[1]));
    if let Some((work, control)) = in_sale {
        println!("| statements in the whole sale (5,000 buyers) | {work} (+ {control} BEGIN/COMMIT) |");
    }
    println!(
        "| CPU during the sale: this process (service, clients) / PostgreSQL / available ({cores} cores) | {:.2} s / {:.2} s / {:.2} s |",
        cpu_after.0 - cpu_before.0,
        cpu_after.1 - cpu_before.1,
        everyone.as_secs_f64() * cores as f64
    );
    println!("| pgbench single hot-row updates/s (8 clients) | {hot_row_tps:.0} |");
    println!("| pgbench minimal purchases/s, one escrow row ({} clients) | {single_escrow_tps:.0} |", pool_size());
    println!(
        "| pgbench minimal purchases/s, sliced escrow as the ledger keeps it ({} clients) | {minimal_tps:.0} |",
        pool_size()
    );
    println!(
        "| pgbench minimal purchases/s, {GROUPED} bought in each transaction, sliced escrow ({} clients) | {grouped_tps:.0} |",
        pool_size()
    );
    println!("| purchases/s ÷ minimal purchases/s with one escrow row | {:.2} |", purchase_rate / single_escrow_tps);
    println!("| **purchases/s ÷ minimal purchases/s** | **{:.2}** |", purchase_rate / minimal_tps);
    println!("| purchases/s ÷ hot-row updates/s | {:.3} |", purchase_rate / hot_row_tps);
    println!("| peak RSS of the process (service, 5,000 clients, followers) | {} |", peak_rss());
    println!("| waiting room: 5,000 joins | {} ({:.0}/s) |", ms(join_time), BUYERS as f64 / join_time.as_secs_f64());
    println!(
        "| waiting room: admitted after 4 s at 100/s, state | {} of {}, {} |",
        room["admitted_through"], room["places"], room["state"]
    );
    println!("| waiting room: bytes streamed to the 5,000 followers | {streamed} |");
    println!(
        "| event page p99 without / with 5,000 following the room | {} ({page_rate_alone:.0}/s) / {} ({page_rate_in_room:.0}/s) |",
        ms(page_alone),
        ms(page_in_room)
    );
    println!(
        "| **event page p99 with ÷ without the room** | **{:.2}** |",
        page_in_room.as_secs_f64() / page_alone.as_secs_f64()
    );
}
