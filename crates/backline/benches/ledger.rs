//! Ledger benchmark: balanced two-posting transfers per second beside a plain single-row INSERT loop on
//! the same server, and a randomized run of 100,000 operations (transfers, holds, captures, releases,
//! reversals) from 8 concurrent tasks, audited with SQL afterwards. Run with
//! `cargo bench -p backline --bench ledger`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use ledger::error::LedgerError;
use ledger::model::{AccountId, Currency, EntryId, Owner, kinds};
use ledger::service;
use uuid::Uuid;

const USERS: usize = 100;
const OPERATIONS: u64 = 100_000;
const TASKS: usize = 8;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// xorshift: deterministic per task.
fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut s = seed | 1;
    move |n| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % n
    }
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let pool = db.pool.clone();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("ledger benchmark: {cores} cores, {TASKS} concurrent tasks, PostgreSQL on the same machine");

    // Baseline: single-row INSERTs, one at a time, each its own transaction.
    sqlx::raw_sql(&format!(
        "CREATE TABLE bench_rows (id uuid PRIMARY KEY, v bigint NOT NULL); GRANT SELECT, INSERT ON bench_rows TO {}",
        platform::db::APP_ROLE
    ))
    .execute(&mut db.owner().await)
    .await
    .unwrap();
    let started = Instant::now();
    let inserted = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (pool, inserted) = (pool.clone(), inserted.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < Duration::from_secs(5) {
                sqlx::query("INSERT INTO bench_rows VALUES ($1, 1)").bind(Uuid::now_v7()).execute(&pool).await.unwrap();
                inserted.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let insert_rate = inserted.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Accounts: users funded from the platform's clearing account.
    let mut wallets: Vec<AccountId> = Vec::new();
    let owners: Vec<Owner> = (0..USERS).map(|_| Owner::User(Uuid::now_v7())).collect();
    let mut tx = pool.begin().await.unwrap();
    let clearing = service::account(&mut tx, Owner::Platform, kinds::CLEARING, &eur(), Utc::now()).await.unwrap();
    for owner in &owners {
        let wallet = service::account(&mut tx, *owner, kinds::AVAILABLE, &eur(), Utc::now()).await.unwrap();
        service::transfer(&mut tx, clearing.id, wallet.id, 1_000_000, "bench.fund", "", Utc::now()).await.unwrap();
        wallets.push(wallet.id);
    }
    tx.commit().await.unwrap();
    let wallets = Arc::new(wallets);
    let owners = Arc::new(owners);

    // Two-posting transfers, each its own transaction.
    let started = Instant::now();
    let transfers = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (pool, wallets, transfers) = (pool.clone(), wallets.clone(), transfers.clone());
        tasks.push(tokio::spawn(async move {
            let mut next = rng(0x5eed + task as u64);
            while started.elapsed() < Duration::from_secs(5) {
                let (a, b) = (wallets[next(USERS as u64) as usize], wallets[next(USERS as u64) as usize]);
                let mut tx = pool.begin().await.unwrap();
                if service::transfer(&mut tx, a, b, 1 + next(100) as i64, "bench.transfer", "", Utc::now())
                    .await
                    .is_ok()
                {
                    tx.commit().await.unwrap();
                    transfers.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let transfer_rate = transfers.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // The randomized run.
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (pool, wallets, owners, done, refused) =
            (pool.clone(), wallets.clone(), owners.clone(), done.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            let mut next = rng(0xabcdef + task as u64);
            let mut mine: Vec<EntryId> = Vec::new();
            while done.fetch_add(1, Ordering::Relaxed) < OPERATIONS {
                let i = next(USERS as u64) as usize;
                let j = next(USERS as u64) as usize;
                let amount = 1 + next(50_000) as i64;
                let now = Utc::now();
                let mut tx = pool.begin().await.unwrap();
                let result = match next(6) {
                    0 | 1 => {
                        service::transfer(&mut tx, wallets[i], wallets[j], amount, "random.transfer", "", now).await
                    }
                    2 => service::hold(&mut tx, owners[i], &eur(), amount, "", now).await,
                    3 => service::capture(&mut tx, owners[i], &eur(), amount, wallets[j], "", now).await,
                    4 => service::release(&mut tx, owners[i], &eur(), amount, "", now).await,
                    _ => match mine.pop() {
                        Some(entry) => service::reverse(&mut tx, entry, "", now).await,
                        None => {
                            service::transfer(&mut tx, wallets[i], wallets[j], amount, "random.transfer", "", now).await
                        }
                    },
                };
                match result {
                    Ok(entry) => {
                        tx.commit().await.unwrap();
                        mine.push(entry);
                    }
                    Err(LedgerError::InsufficientFunds | LedgerError::AlreadyReversed) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let random_elapsed = started.elapsed();
    // The audit the ledger runs (and a restore runs), and the sum of every balance.
    let audit = ledger::accounts::repo::audit(&mut pool.acquire().await.unwrap()).await.unwrap();
    let (entries, unbalanced, drift, negative) =
        (audit.entries, audit.unbalanced_entries, audit.drifted_accounts, audit.negative_accounts);
    let total =
        sqlx::query_scalar!(r#"SELECT coalesce(sum(ledger_balance(a)), 0)::int8 AS "total!" FROM ledger_accounts a"#)
            .fetch_one(&pool)
            .await
            .unwrap();

    // 1,000 concurrent requests with one idempotency key: one effect.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (pool, wallets) = (pool.clone(), wallets.clone());
        tasks.push(tokio::spawn(async move {
            let now = Utc::now();
            let outcome = platform::idempotency::run(
                &pool,
                "bench",
                Some("one-key"),
                b"same request",
                axum::http::StatusCode::CREATED,
                now,
                async |conn| Ok(service::transfer(conn, wallets[0], wallets[1], 1, "bench.idempotent", "", now).await?),
            )
            .await
            .unwrap();
            outcome.replayed
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        if !t.await.unwrap() {
            fresh += 1;
        }
    }
    let idempotent_elapsed = started.elapsed();
    let effects =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM journal_entries WHERE kind = 'bench.idempotent'"#)
            .fetch_one(&pool)
            .await
            .unwrap();

    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| baseline: single-row INSERTs/s ({TASKS} tasks, one per transaction) | {insert_rate:.0} |");
    println!(
        "| balanced two-posting transfers/s ({TASKS} tasks, one per transaction) | {transfer_rate:.0} (aim ≥ 2000) |"
    );
    println!("| transfers/s ÷ INSERTs/s | {:.2} |", transfer_rate / insert_rate);
    println!(
        "| randomized run: {OPERATIONS} operations in {:.1} s ({:.0}/s), refused for funds or already reversed | {} |",
        random_elapsed.as_secs_f64(),
        OPERATIONS as f64 / random_elapsed.as_secs_f64(),
        refused.load(Ordering::Relaxed)
    );
    println!(
        "| after the run: entries / unbalanced / drifted balances / forbidden negatives / sum of all balances | {entries} / {unbalanced} / {drift} / {negative} / {total} |"
    );
    println!(
        "| 1,000 concurrent requests with one idempotency key: executed / effects | {fresh} / {effects} in {:.2} s |",
        idempotent_elapsed.as_secs_f64()
    );
}
