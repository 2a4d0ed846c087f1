//! The ledger: the database's invariants, concurrency, idempotency, statements, and a randomized run
//! audited with SQL.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use ledger::error::LedgerError;
use ledger::model::{Currency, Owner, kinds};
use ledger::service;
use serde_json::json;
use sqlx::PgPool;
use testkit::TestDb;
use uuid::Uuid;

use crate::support::{app, signed_in, signed_in_admin};

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// A user wallet funded from the platform's clearing account.
async fn funded(pool: &PgPool, user: Uuid, amount: i64) -> ledger::model::AccountId {
    let mut tx = pool.begin().await.unwrap();
    let now = Utc::now();
    let clearing = service::account(&mut tx, Owner::Platform, kinds::CLEARING, &eur(), now).await.unwrap();
    let wallet = service::account(&mut tx, Owner::User(user), kinds::AVAILABLE, &eur(), now).await.unwrap();
    if amount > 0 {
        service::transfer(&mut tx, clearing.id, wallet.id, amount, "payment.captured", "top up", now).await.unwrap();
    }
    tx.commit().await.unwrap();
    wallet.id
}

/// The audit an accountant would run: every entry balanced per currency with two or more legs, every
/// cached balance equal to its postings, no forbidden negative balance.
async fn audit(pool: &PgPool) {
    let unbalanced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT entry_id, currency FROM postings GROUP BY entry_id, currency HAVING sum(amount) <> 0) t",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let short: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM journal_entries e WHERE (SELECT count(*) FROM postings p WHERE p.entry_id = e.id) < 2",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let drift: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ledger_accounts a WHERE a.balance <> coalesce((SELECT sum(amount) FROM postings p WHERE p.account_id = a.id), 0)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let negative: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ledger_accounts WHERE NOT allow_negative AND balance < 0")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((unbalanced, short, drift, negative), (0, 0, 0, 0), "ledger audit: unbalanced, short, drift, negative");
}

#[tokio::test]
async fn the_database_refuses_unbalanced_altered_and_overdrawn_entries() {
    let db = TestDb::new().await;
    let user = Uuid::now_v7();
    let wallet = funded(&db.pool, user, 1000).await;
    let other = funded(&db.pool, Uuid::now_v7(), 0).await;
    let raw = |sql: String| {
        let pool = db.pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let entry = Uuid::now_v7();
            sqlx::query("INSERT INTO journal_entries (id, kind, created_at) VALUES ($1, 'test', now())")
                .bind(entry)
                .execute(&mut *tx)
                .await?;
            sqlx::raw_sql(&sql.replace("$entry", &format!("'{entry}'"))).execute(&mut *tx).await?;
            tx.commit().await
        }
    };
    let legs = |a: i64, b: i64, currency: &str| {
        format!(
            "INSERT INTO postings (entry_id, account_id, amount, currency, created_at) VALUES
             ($entry, '{wallet}', {a}, '{currency}', now()), ($entry, '{other}', {b}, '{currency}', now())"
        )
    };
    let err = raw(legs(-100, 99, "EUR")).await.unwrap_err();
    assert!(err.to_string().contains("does not balance"), "{err}");
    let err = raw(format!("INSERT INTO postings (entry_id, account_id, amount, currency, created_at) VALUES ($entry, '{other}', 5, 'EUR', now())")).await.unwrap_err();
    assert!(err.to_string().contains("at least two"), "{err}");
    let err = raw(legs(-100, 100, "USD")).await.unwrap_err();
    assert!(err.to_string().contains("to an account in EUR"), "{err}");
    let err = raw(legs(-1001, 1001, "EUR")).await.unwrap_err();
    assert!(err.to_string().contains("ledger_accounts_no_overdraft"), "{err}");
    raw(legs(-1000, 1000, "EUR")).await.expect("exactly the balance may move");
    for sql in [
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM postings",
        "DELETE FROM journal_entries",
        "TRUNCATE postings",
    ] {
        let err = sqlx::query(sql).execute(&db.pool).await.unwrap_err();
        assert!(err.to_string().contains("cannot be changed or removed"), "{sql}: {err}");
    }
    audit(&db.pool).await;
}

#[tokio::test]
async fn a_refused_movement_leaves_nothing_behind_and_reversal_happens_once() {
    let db = TestDb::new().await;
    let a = funded(&db.pool, Uuid::now_v7(), 500).await;
    let b = funded(&db.pool, Uuid::now_v7(), 0).await;
    let mut tx = db.pool.begin().await.unwrap();
    let err = service::transfer(&mut tx, a, b, 501, "test.move", "", Utc::now()).await.unwrap_err();
    assert!(matches!(err, LedgerError::InsufficientFunds), "{err:?}");
    drop(tx);
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_entries WHERE kind = 'test.move'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(entries, 0);

    let mut tx = db.pool.begin().await.unwrap();
    let moved = service::transfer(&mut tx, a, b, 300, "test.move", "", Utc::now()).await.unwrap();
    let undone = service::reverse(&mut tx, moved, "mistake", Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    let balances: Vec<i64> = sqlx::query_scalar("SELECT balance FROM ledger_accounts WHERE id = ANY($1) ORDER BY id")
        .bind([a.0, b.0])
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(balances.iter().sum::<i64>(), 500);
    assert!(balances.contains(&500) && balances.contains(&0));
    let mut tx = db.pool.begin().await.unwrap();
    assert!(matches!(
        service::reverse(&mut tx, moved, "again", Utc::now()).await.unwrap_err(),
        LedgerError::AlreadyReversed
    ));
    drop(tx);
    let linked: Option<Uuid> = sqlx::query_scalar("SELECT reverses FROM journal_entries WHERE id = $1")
        .bind(undone)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(linked, Some(moved.0));
    audit(&db.pool).await;
}

#[tokio::test]
async fn of_100_concurrent_withdrawals_of_a_tenth_exactly_10_succeed() {
    let db = TestDb::new().await;
    let wallet = funded(&db.pool, Uuid::now_v7(), 10_000).await;
    let sink = funded(&db.pool, Uuid::now_v7(), 0).await;
    let pool = Arc::new(db.pool.clone());
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            match service::transfer(&mut tx, wallet, sink, 1000, "test.withdraw", "", Utc::now()).await {
                Ok(_) => tx.commit().await.is_ok(),
                Err(LedgerError::InsufficientFunds) => false,
                Err(other) => panic!("{other:?}"),
            }
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 10);
    let balance: i64 = sqlx::query_scalar("SELECT balance FROM ledger_accounts WHERE id = $1")
        .bind(wallet)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(balance, 0);
    audit(&db.pool).await;
}

#[tokio::test]
async fn a_randomized_run_ends_with_zero_drift() {
    let db = TestDb::new().await;
    let users: Vec<Uuid> = (0..12).map(|_| Uuid::now_v7()).collect();
    for user in &users {
        funded(&db.pool, *user, 10_000).await;
    }
    // A small deterministic generator: the run is the same every time.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut entries: Vec<ledger::model::EntryId> = Vec::new();
    let now = Utc::now();
    for _ in 0..1500 {
        let from = Owner::User(users[next(12) as usize]);
        let to = Owner::User(users[next(12) as usize]);
        let amount = 1 + i64::try_from(next(3000)).unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        let result = match next(5) {
            0 | 1 => {
                let a = service::account(&mut tx, from, kinds::AVAILABLE, &eur(), now).await.unwrap().id;
                let b = service::account(&mut tx, to, kinds::AVAILABLE, &eur(), now).await.unwrap().id;
                service::transfer(&mut tx, a, b, amount, "random.transfer", "", now).await
            }
            2 => service::hold(&mut tx, from, &eur(), amount, "", now).await,
            3 => {
                let b = service::account(&mut tx, to, kinds::AVAILABLE, &eur(), now).await.unwrap().id;
                service::capture(&mut tx, from, &eur(), amount, b, "", now).await
            }
            _ => match entries.get(next(entries.len().max(1) as u64) as usize).copied() {
                Some(entry) => service::reverse(&mut tx, entry, "", now).await,
                None => service::release(&mut tx, from, &eur(), amount, "", now).await,
            },
        };
        match result {
            Ok(entry) => {
                tx.commit().await.unwrap();
                entries.push(entry);
            }
            Err(LedgerError::InsufficientFunds | LedgerError::AlreadyReversed) => drop(tx),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(entries.len() > 300, "enough of the run went through: {}", entries.len());
    audit(&db.pool).await;
    let total: i64 =
        sqlx::query_scalar("SELECT sum(balance)::int8 FROM ledger_accounts").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, 0, "money is neither made nor lost");
}

#[tokio::test]
async fn wallets_and_statements_show_running_balances_to_their_owner_only() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "saver").await;
    let (stranger, _, _) = signed_in(&app, "peeker").await;
    let user: Uuid = user_id.parse().unwrap();
    let wallet = funded(&app.db.pool, user, 2500).await;
    let sink = funded(&app.db.pool, Uuid::now_v7(), 0).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    service::transfer(&mut tx, wallet, sink, 1000, "test.spend", "tickets, \"front row\"", Utc::now()).await.unwrap();
    tx.commit().await.unwrap();

    let mine = app.get("/v1/me/wallet").bearer(&token).send().await.value();
    assert_eq!(mine["accounts"][0]["balance"], 1500);
    assert_eq!(mine["accounts"][0]["currency"], "EUR");
    let statement = app.get(&format!("/v1/ledger/accounts/{wallet}/statement")).bearer(&token).send().await.value();
    let balances: Vec<i64> =
        statement["lines"].as_array().unwrap().iter().map(|l| l["balance"].as_i64().unwrap()).collect();
    assert_eq!(balances, [2500, 1500]);
    assert_eq!((statement["opening_balance"].as_i64(), statement["closing_balance"].as_i64()), (Some(0), Some(1500)));
    let csv = app.get(&format!("/v1/ledger/accounts/{wallet}/statement?format=csv")).bearer(&token).send().await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("at,entry_id,kind,memo,amount_minor,balance_minor,currency\r\n"), "{text}");
    assert!(text.contains(",\"test.spend\",\"tickets, \"\"front row\"\"\",-1000,1500,EUR\r\n"), "{text}");
    app.get(&format!("/v1/ledger/accounts/{wallet}/statement"))
        .bearer(&stranger)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/v1/ledger/accounts/{sink}/statement"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn one_idempotency_key_one_effect_even_under_concurrency() {
    let app = Arc::new(app().await);
    let admin = signed_in_admin(&app).await;
    let from = funded(&app.db.pool, Uuid::now_v7(), 10_000).await;
    let to = funded(&app.db.pool, Uuid::now_v7(), 0).await;
    let body = json!({"memo": "goodwill", "postings": [{"account_id": from, "amount": -700}, {"account_id": to, "amount": 700}]});
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (app, admin, body) = (app.clone(), admin.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = app
                .post("/v1/admin/ledger/entries")
                .bearer(&admin)
                .header("idempotency-key", "adj-2026-001")
                .json(&body)
                .send()
                .await;
            (
                res.status,
                res.value()["id"].as_str().unwrap_or_default().to_owned(),
                res.header("idempotent-replayed").map(str::to_owned),
            )
        }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for task in tasks {
        let (status, id, replayed) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        ids.insert(id);
        if replayed.as_deref() == Some("false") {
            fresh += 1;
        }
    }
    assert_eq!((ids.len(), fresh), (1, 1), "one entry, executed once, replayed to everyone else");
    let balance: i64 = sqlx::query_scalar("SELECT balance FROM ledger_accounts WHERE id = $1")
        .bind(to)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(balance, 700);
    let other = json!({"memo": "goodwill", "postings": [{"account_id": from, "amount": -800}, {"account_id": to, "amount": 800}]});
    let reused = app
        .post("/v1/admin/ledger/entries")
        .bearer(&admin)
        .header("idempotency-key", "adj-2026-001")
        .json(&other)
        .send()
        .await;
    reused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
    let unbalanced =
        json!({"memo": "oops", "postings": [{"account_id": from, "amount": -1}, {"account_id": to, "amount": 2}]});
    let res = app
        .post("/v1/admin/ledger/entries")
        .bearer(&admin)
        .header("idempotency-key", "adj-2026-002")
        .json(&unbalanced)
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "unbalanced"
    );
    let over = json!({"memo": "too much", "postings": [{"account_id": from, "amount": -100000}, {"account_id": to, "amount": 100000}]});
    app.post("/v1/admin/ledger/entries")
        .bearer(&admin)
        .json(&over)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    audit(&app.db.pool).await;
}
