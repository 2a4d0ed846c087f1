//! Identity benchmark: login throughput against raw Argon2id verification on the same machine, and the
//! p99 of a cheap authenticated read (`GET /v1/me`) alone and during a flood of logins, side by side in
//! one run. Run with `cargo bench -p backline --bench identity`; results go in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use platform::AppContext;
use support::{Client, Work, load, load_paced, ms, serve};

const USERS: usize = 2000;
const READERS: usize = 4;
/// Reads per second per reader connection: a steady load, well below what the machine can serve, so that
/// its latency shows what the logins cost the other requests.
const READ_RATE: f64 = 100.0;
const LOGIN_FLOOD: usize = 32;
const PHASE: Duration = Duration::from_secs(8);

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let ctx = AppContext::new(db.pool.clone(), "http://bench.invalid");
    let addr = serve(ctx).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "identity benchmark: {cores} cores; reads: {READERS} connections at {READ_RATE}/s each; \
         logins: {LOGIN_FLOOD} connections as fast as they go; {} s phases",
        PHASE.as_secs()
    );

    // Accounts to sign in as: each may log in 5 times per 15 minutes from one address, so the flood cycles
    // through many.
    let password = "bench password 2026";
    let hash = identity::password::hash(password.to_owned()).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    for i in 0..USERS {
        let name = format!("bench_{i}");
        identity::service::create_verified_user(
            &mut conn,
            &format!("{name}@bench.invalid"),
            &name,
            &name,
            &hash,
            &["fan"],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    drop(conn);

    // Baseline: raw Argon2id verifications through the same bounded pool, no HTTP and no database.
    let started = Instant::now();
    let verified = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..LOGIN_FLOOD {
        let (hash, verified) = (hash.clone(), verified.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < PHASE / 2 {
                assert!(identity::password::verify("bench password 2026".into(), Some(hash.clone())).await.unwrap());
                verified.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let raw_rate = verified.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // A reader with a token.
    let mut client = Client::connect(addr).await;
    let body = format!(r#"{{"login":"bench_0","password":"{password}"}}"#);
    let (status, answer) = client.send("POST", "/v1/auth/login", None, Some(&body)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let token: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let token = Arc::new(token["access_token"].as_str().unwrap().to_owned());

    let read: Work = {
        let token = token.clone();
        Arc::new(move |client: &mut Client, _| {
            let token = token.clone();
            Box::pin(async move {
                let started = Instant::now();
                let (status, _) = client.send("GET", "/v1/me", Some(&token), None).await;
                assert_eq!(status, 200);
                started.elapsed()
            })
        })
    };
    let next_user = Arc::new(AtomicUsize::new(1));
    let login: Work = Arc::new(move |client: &mut Client, _| {
        let user = next_user.fetch_add(1, Ordering::Relaxed) % USERS;
        Box::pin(async move {
            let body = format!(r#"{{"login":"bench_{user}","password":"bench password 2026"}}"#);
            let started = Instant::now();
            let (status, answer) = client.send("POST", "/v1/auth/login", None, Some(&body)).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
            started.elapsed()
        })
    });

    let alone = load_paced(addr, READERS, READ_RATE, PHASE, read.clone()).await;
    let (during, logins) =
        tokio::join!(load_paced(addr, READERS, READ_RATE, PHASE, read), load(addr, LOGIN_FLOOD, PHASE, login));

    let ratio = during.percentile(99.0).as_secs_f64() / alone.percentile(99.0).as_secs_f64();
    let login_rate = logins.rate(PHASE);
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| raw Argon2id verifications/s (baseline, same bounded pool) | {raw_rate:.1} |");
    println!("| logins/s through HTTP and PostgreSQL | {login_rate:.1} |");
    println!("| logins/s ÷ raw verifications/s | {:.2} |", login_rate / raw_rate);
    println!(
        "| login p50 / p99 during the flood | {} / {} |",
        ms(logins.percentile(50.0)),
        ms(logins.percentile(99.0))
    );
    println!(
        "| GET /v1/me alone: requests/s, p50, p99 | {:.0}, {}, {} |",
        alone.rate(PHASE),
        ms(alone.percentile(50.0)),
        ms(alone.percentile(99.0))
    );
    println!(
        "| GET /v1/me during the flood: requests/s, p50, p99 | {:.0}, {}, {} |",
        during.rate(PHASE),
        ms(during.percentile(50.0)),
        ms(during.percentile(99.0))
    );
    println!("| read p99 during flood ÷ read p99 alone | {ratio:.2} (target ≤ 2) |");
    println!();
    println!("verdict: {}", if ratio <= 2.0 { "within target" } else { "OVER TARGET" });
}
