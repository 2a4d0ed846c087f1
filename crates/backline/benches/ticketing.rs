//! Ticketing benchmark: a flash sale. 5,000 buyers, each on their own connection, start at once and try
//! to buy one of 1,000 tickets through the real HTTP API (reserve, then pay from their wallet). It must
//! end with exactly 1,000 sold, none oversold, no code twice, and every buyer answered (sold or sold
//! out). Beside it, in the same run on the same PostgreSQL, `pgbench` measures how many updates per
//! second a single hot row takes: the ceiling any design that counts tickets in one row lives under.
//! Run with `cargo bench -p backline --bench ticketing`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ledger::model::{Currency, Owner, kinds};
use platform::AppContext;
use support::{Client, Latencies, ms, serve};
use uuid::Uuid;

const BUYERS: usize = 5_000;
const TICKETS: i32 = 1_000;
const PRICE: i64 = 2_500;
/// Database connections of the application: the production default (BENCH_DB_CONNECTIONS overrides).
fn pool_size() -> u32 {
    std::env::var("BENCH_DB_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

/// How many single-row updates per second `pgbench` reaches on one hot row (8 clients, 10 s).
fn pgbench_hot_row(url: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hot.sql");
    std::fs::write(&script, "UPDATE bench_hot SET n = n + 1 WHERE id = 1;\n").unwrap();
    let output = std::process::Command::new("pgbench")
        .args(["-n", "-c", "8", "-j", "2", "-T", "10", "-f"])
        .arg(&script)
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

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let url = db.url();
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(pool_size()).connect(&url).await.unwrap();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid");
    let addr = serve(ctx).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "ticketing benchmark: {cores} cores, {BUYERS} buyers for {TICKETS} tickets, {} database connections",
        pool_size()
    );

    // Buyers: verified users with an API key each and money in their wallet (set up directly).
    let hash = identity::password::hash("bench password 2026".to_owned()).await.unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let mut tx = pool.begin().await.unwrap();
    let now = Utc::now();
    let clearing = ledger::service::account(&mut tx, Owner::Platform, kinds::CLEARING, &eur, now).await.unwrap();
    let mut keys = Vec::with_capacity(BUYERS + 1);
    for i in 0..=BUYERS {
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

    // The organizer (the last key) publishes the event through the API.
    let organizer = keys.pop().unwrap();
    let mut client = Client::connect(addr).await;
    let starts = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let ends = (Utc::now() + chrono::Duration::days(30) + chrono::Duration::hours(4)).to_rfc3339();
    let body =
        format!(r#"{{"title":"Flash sale","starts_at":"{starts}","ends_at":"{ends}","timezone":"Europe/Berlin"}}"#);
    let (status, answer) = client.send("POST", "/v1/events", Some(&organizer), Some(&body)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let event: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let event = event["id"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"name":"GA","price":{PRICE},"currency":"EUR","quantity":{TICKETS}}}"#);
    let (status, answer) =
        client.send("POST", &format!("/v1/events/{event}/tiers"), Some(&organizer), Some(&body)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    let tier: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let tier = tier["id"].as_str().unwrap().to_owned();
    let (status, _) = client
        .send("POST", &format!("/v1/events/{event}/status"), Some(&organizer), Some(r#"{"status":"published"}"#))
        .await;
    assert_eq!(status, 200);

    // Baseline, same machine, same PostgreSQL, same run.
    sqlx::query("CREATE TABLE bench_hot (id int PRIMARY KEY, n bigint NOT NULL)").execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO bench_hot VALUES (1, 0)").execute(&pool).await.unwrap();
    let hot_row_tps = pgbench_hot_row(&url);

    // Every buyer connects first; then all start together.
    let mut clients = Vec::with_capacity(BUYERS);
    for _ in 0..BUYERS {
        clients.push(Client::connect(addr).await);
    }
    let gate = Arc::new(tokio::sync::Barrier::new(BUYERS + 1));
    let reserve_path = Arc::new(format!("/v1/events/{event}/orders"));
    let reserve_body = Arc::new(format!(r#"{{"items":[{{"tier_id":"{tier}","quantity":1}}]}}"#));
    let mut tasks = Vec::with_capacity(BUYERS);
    for (mut client, key) in clients.into_iter().zip(keys) {
        let (gate, reserve_path, reserve_body) = (gate.clone(), reserve_path.clone(), reserve_body.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let started = Instant::now();
            let (status, answer) = client.send("POST", &reserve_path, Some(&key), Some(&reserve_body)).await;
            if status == 409 {
                let problem: serde_json::Value = serde_json::from_slice(&answer).unwrap();
                assert_eq!(problem["code"], "sold_out");
                return (false, started.elapsed(), started);
            }
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
            let order: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            let pay = format!("/v1/orders/{}/pay", order["id"].as_str().unwrap());
            let (status, answer) = client.send("POST", &pay, Some(&key), Some(r#"{"source":"wallet"}"#)).await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
            (true, started.elapsed(), started)
        }));
    }
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

    // The invariants, from the database.
    let event_id = Uuid::parse_str(&event).unwrap();
    let (quantity, tier_sold, held): (i32, i32, i32) =
        sqlx::query_as("SELECT quantity, sold, held FROM ticket_tiers WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    let (tickets, codes, holders): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT k.id), count(DISTINCT c.code), count(DISTINCT k.holder_id)
         FROM tickets k JOIN ticket_codes c ON c.ticket_id = k.id WHERE k.event_id = $1",
    )
    .bind(event_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let escrow: i64 = sqlx::query_scalar(
        "SELECT balance FROM ledger_accounts WHERE owner_type = 'event' AND owner_id = $1 AND kind = 'escrow'",
    )
    .bind(event_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sold.0.len() + sold_out.0.len(), BUYERS, "every buyer answered");
    assert_eq!(sold.0.len(), TICKETS as usize, "every ticket sold");
    assert_eq!((quantity, tier_sold, held), (TICKETS, TICKETS, 0), "none oversold, none left held");
    assert_eq!(
        (tickets, codes, holders),
        (i64::from(TICKETS), i64::from(TICKETS), i64::from(TICKETS)),
        "no ticket or code twice"
    );
    assert_eq!(escrow, i64::from(TICKETS) * PRICE, "every sale in escrow");

    let purchase_rate = f64::from(TICKETS) / last_sale.as_secs_f64();
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| buyers / tickets | {BUYERS} / {TICKETS} |");
    println!("| sold / sold out / errors | {} / {} / 0 |", sold.0.len(), sold_out.0.len());
    println!(
        "| tickets issued, distinct codes, oversold | {tickets}, {codes}, {} |",
        (tier_sold + held - quantity).max(0)
    );
    println!("| time to sell out (last payment answered) | {} |", ms(last_sale));
    println!("| time until every buyer was answered | {} |", ms(everyone));
    println!("| purchases/s (reserve + pay, to sell-out) | {purchase_rate:.0} |");
    println!("| purchase p50 / p99 (both requests) | {} / {} |", ms(sold.percentile(50.0)), ms(sold.percentile(99.0)));
    println!("| sold-out answer p50 / p99 | {} / {} |", ms(sold_out.percentile(50.0)), ms(sold_out.percentile(99.0)));
    println!("| pgbench single hot-row updates/s (8 clients, same server) | {hot_row_tps:.0} |");
    println!("| **purchases/s ÷ hot-row updates/s** | **{:.3}** |", purchase_rate / hot_row_tps);
}
