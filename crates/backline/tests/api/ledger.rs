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
pub(crate) async fn funded(pool: &PgPool, user: Uuid, amount: i64) -> ledger::model::AccountId {
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

/// The audit an accountant would run (the one a restore runs too): every entry balanced per currency
/// with two or more legs, every kept balance equal to its postings, no forbidden negative balance.
pub(crate) async fn audit(pool: &PgPool) {
    let audit = ledger::accounts::repo::audit(&mut pool.acquire().await.unwrap()).await.unwrap();
    assert!(audit.is_clean(), "ledger audit: {audit:?}");
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
        // The service's role is refused by its grants; even the owner is refused by the trigger.
        let err = sqlx::query(sql).execute(&db.pool).await.unwrap_err();
        assert!(err.to_string().contains("permission denied for table"), "{sql}: {err}");
        let err = sqlx::query(sql).execute(&mut db.owner().await).await.unwrap_err();
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

/// The service numbers the connections it opens, and a sliced account's credit goes to the slice of the
/// connection's number: forty connections of one pool, all held at once, credit forty different
/// slices, even when other connections were opened between them (as another process's are): by
/// process id modulo 64, as before, forty connections whose ids are spread over more than 64 would
/// share slices. A connection the service did not open keeps its process id's slice.
#[tokio::test]
async fn the_connections_of_one_pool_never_share_a_slice() {
    let db = TestDb::new().await;
    let settings =
        platform::db::PoolSettings { max_connections: 40, acquire_timeout: std::time::Duration::from_secs(30) };
    let pool = platform::db::connect(db.connect_options(), settings).await.unwrap();
    let mut held = Vec::new();
    let mut slices = std::collections::BTreeSet::new();
    for _ in 0..40 {
        // Another connection opened and closed between two of the pool's: its process takes an id.
        let other = <sqlx::PgConnection as sqlx::Connection>::connect_with(&db.connect_options()).await.unwrap();
        sqlx::Connection::close(other).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let slice = sqlx::query_scalar!(r#"SELECT ledger_slice() AS "slice!""#).fetch_one(&mut *conn).await.unwrap();
        assert!((0..64).contains(&slice));
        slices.insert(slice);
        held.push(conn);
    }
    assert_eq!(slices.len(), 40, "the slices of forty connections: {slices:?}");
    let mut plain = db.pool.acquire().await.unwrap();
    let (slice, pid) = sqlx::query!(r#"SELECT ledger_slice() AS "slice!", pg_backend_pid() % 64 AS "pid!""#)
        .fetch_one(&mut *plain)
        .await
        .map(|r| (i32::from(r.slice), r.pid))
        .unwrap();
    assert_eq!(slice, pid);
}

/// Movements posted together (`transfers_between`, what purchases bought together use): one balanced
/// entry each, in the order given, with its own memo; an account new to the ledger (the event's
/// escrow here) is created on first use; one movement that would overdraw its account refuses them
/// all and nothing of any stays; a movement of exactly what is left passes; a zero amount is refused.
#[tokio::test]
async fn movements_posted_together_are_an_entry_each_and_all_or_nothing() {
    let db = TestDb::new().await;
    let event = Owner::Event(Uuid::now_v7());
    let buyers: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    for buyer in &buyers {
        funded(&db.pool, *buyer, 1000).await;
    }
    let currency = eur();
    let movement = |buyer: Uuid, amount: i64| service::Movement {
        from: (Owner::User(buyer), kinds::AVAILABLE),
        to: (event, kinds::ESCROW),
        currency: &currency,
        amount,
        kind: "ticket.sale",
        memo: format!("sale to {buyer}"),
    };

    // One cent more than a wallet holds refuses every movement.
    let mut too_much: Vec<_> = buyers.iter().map(|b| movement(*b, 400)).collect();
    too_much[3].amount = 1001;
    let mut tx = db.pool.begin().await.unwrap();
    let refused = service::transfers_between(&mut tx, &too_much, Utc::now()).await;
    assert!(matches!(refused, Err(LedgerError::InsufficientFunds)), "{refused:?}");
    drop(tx);
    for buyer in &buyers {
        assert_eq!(balance(&db.pool, Owner::User(*buyer), kinds::AVAILABLE).await, 1000);
    }
    let mut tx = db.pool.begin().await.unwrap();
    let zero = service::transfers_between(&mut tx, &[movement(buyers[0], 0)], Utc::now()).await;
    assert!(matches!(zero, Err(LedgerError::ZeroAmount)), "{zero:?}");
    drop(tx);

    // Exactly what one holds, and less for the others.
    let amounts = [1000, 100, 200, 300, 999];
    let moves: Vec<_> = buyers.iter().zip(amounts).map(|(b, amount)| movement(*b, amount)).collect();
    let mut tx = db.pool.begin().await.unwrap();
    let entries = service::transfers_between(&mut tx, &moves, Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(entries.len(), moves.len());
    let mut conn = db.pool.acquire().await.unwrap();
    for (entry, m) in entries.iter().zip(&moves) {
        let row = ledger::repo::entry(&mut *conn, *entry).await.unwrap().expect("the entry");
        assert_eq!((row.kind.as_str(), row.memo.as_str()), ("ticket.sale", m.memo.as_str()));
        let mut legs: Vec<i64> =
            ledger::repo::postings_of(&mut *conn, *entry).await.unwrap().iter().map(|p| p.amount).collect();
        legs.sort_unstable();
        assert_eq!(legs, vec![-m.amount, m.amount], "one entry per movement, of its two legs");
    }
    for (buyer, amount) in buyers.iter().zip(amounts) {
        assert_eq!(balance(&db.pool, Owner::User(*buyer), kinds::AVAILABLE).await, 1000 - amount);
    }
    assert_eq!(balance(&db.pool, event, kinds::ESCROW).await, amounts.iter().sum::<i64>());
    audit(&db.pool).await;
}

/// An event's escrow takes its sales' credits in slices (no row lock shared between sales), yet no
/// debit takes more than the credits committed: three rounds of 40 sales of 2.50 at once beside 30
/// payouts of 5.00 at once (more than the sales bring) end with the escrow never below zero, its
/// balance equal to its postings, and the credits spread over several slices; then a payout of
/// exactly what is left passes and one more cent is refused.
#[tokio::test]
async fn a_sliced_escrow_takes_sales_at_once_and_never_pays_out_more_than_it_holds() {
    let db = TestDb::new().await;
    let event = Owner::Event(Uuid::now_v7());
    let mut buyers = Vec::new();
    for _ in 0..40 {
        let buyer = Uuid::now_v7();
        funded(&db.pool, buyer, 750).await;
        buyers.push(buyer);
    }
    let payee = funded(&db.pool, Uuid::now_v7(), 0).await;
    let mut tx = db.pool.begin().await.unwrap();
    let escrow = service::account(&mut tx, event, kinds::ESCROW, &eur(), Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    let (mut sales, mut payouts, mut refused) = (0_i64, 0_i64, 0);
    for _ in 0..3 {
        let mut tasks = Vec::new();
        for &buyer in &buyers {
            let pool = db.pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                let from = (Owner::User(buyer), kinds::AVAILABLE);
                let to = (event, kinds::ESCROW);
                service::transfer_between(&mut tx, from, to, &eur(), 250, "ticket.sale", "", json!({}), Utc::now())
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                (250, 0)
            }));
        }
        for _ in 0..30 {
            let pool = db.pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                match service::transfer(&mut tx, escrow.id, payee, 500, "test.payout", "", Utc::now()).await {
                    Ok(_) => {
                        tx.commit().await.unwrap();
                        (0, 500)
                    }
                    Err(LedgerError::InsufficientFunds) => (0, 0),
                    Err(other) => panic!("{other:?}"),
                }
            }));
        }
        for task in tasks {
            let (sold, paid) = task.await.unwrap();
            sales += sold;
            payouts += paid;
            refused += i32::from(sold == 0 && paid == 0);
        }
    }
    assert_eq!(sales, 3 * 40 * 250);
    assert!(refused > 0 && payouts <= sales, "{refused} payouts refused, {payouts} paid of {sales}");
    let left = sales - payouts;
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(ledger::accounts::repo::account(&mut *conn, escrow.id).await.unwrap().unwrap().balance, left);
    let slices: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM ledger_account_slices WHERE account_id = $1"#, escrow.id.0)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert!(slices > 1, "the sales' credits went to {slices} slice(s)");
    audit(&db.pool).await;

    // At the boundary: exactly what is left may be paid out, then not one cent more.
    if left > 0 {
        let mut tx = db.pool.begin().await.unwrap();
        service::transfer(&mut tx, escrow.id, payee, left, "test.payout", "", Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = db.pool.begin().await.unwrap();
    let err = service::transfer(&mut tx, escrow.id, payee, 1, "test.payout", "", Utc::now()).await.unwrap_err();
    assert!(matches!(err, LedgerError::InsufficientFunds), "{err:?}");
    drop(tx);
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
    let total = sqlx::query_scalar!(r#"SELECT sum(ledger_balance(a))::int8 AS "total!" FROM ledger_accounts a"#)
        .fetch_one(&db.pool)
        .await
        .unwrap();
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
    // The money moved on the real clock; the app's clock stands still: ask for an explicit period.
    let period = "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";
    let statement =
        app.get(&format!("/v1/ledger/accounts/{wallet}/statement?{period}")).bearer(&token).send().await.value();
    let balances: Vec<i64> =
        statement["lines"].as_array().unwrap().iter().map(|l| l["balance"].as_i64().unwrap()).collect();
    assert_eq!(balances, [2500, 1500]);
    assert_eq!((statement["opening_balance"].as_i64(), statement["closing_balance"].as_i64()), (Some(0), Some(1500)));
    let backwards = app
        .get(&format!("/v1/ledger/accounts/{wallet}/statement?from=2100-01-01T00:00:00Z&to=2000-01-01T00:00:00Z"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(
        backwards.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "to"
    );
    let csv =
        app.get(&format!("/v1/ledger/accounts/{wallet}/statement?format=csv&{period}")).bearer(&token).send().await;
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
                res.value()["id"].as_str().map_or_else(|| res.text(), str::to_owned),
                res.header("idempotent-replayed").map(str::to_owned),
            )
        }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for task in tasks {
        let (status, id, replayed) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{id}");
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

pub(crate) const GOOD_IBAN: &str = "DE89 3704 0044 0532 0130 00";
/// Valid, but the sandbox bank refuses transfers to accounts ending in 0000.
const REFUSED_IBAN: &str = "DE94370400440532010000";

pub(crate) async fn bank_account(app: &testkit::TestApp, token: &str, iban: &str) -> String {
    let res = app
        .post("/v1/me/payout-methods")
        .bearer(token)
        .json(&json!({"kind": "bank_account", "iban": iban, "account_holder": "Ana Beats", "make_default": true}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn balance(pool: &PgPool, owner: Owner, kind: &str) -> i64 {
    let (owner_type, owner_id) = owner.parts();
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(ledger_balance(a)), 0)::int8 AS "balance!" FROM ledger_accounts a
           WHERE owner_type = $1 AND owner_id IS NOT DISTINCT FROM $2 AND kind = $3"#,
        owner_type,
        owner_id,
        kind
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn payout_methods_are_checked_sealed_and_masked() {
    let app = app().await;
    let (token, _, _) = signed_in(&app, "payee").await;
    let bad = app
        .post("/v1/me/payout-methods")
        .bearer(&token)
        .json(&json!({"kind": "bank_account", "iban": "DE89 3704 0044 0532 0130 01", "account_holder": "A"}))
        .send()
        .await;
    let problem = bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["message"].as_str()),
        (Some("iban"), Some("has wrong check digits"))
    );
    let first = bank_account(&app, &token, GOOD_IBAN).await;
    let paypal = app
        .post("/v1/me/payout-methods")
        .bearer(&token)
        .json(&json!({"kind": "paypal", "email": "ana@example.com"}))
        .send()
        .await
        .value();
    assert_eq!(paypal["display"], "a•••@example.com");
    assert_eq!(paypal["is_default"], false, "the first method stays the default");
    let list = app.get("/v1/me/payout-methods").bearer(&token).send().await.value();
    assert_eq!(list["items"][0]["display"], "DE89 •••• 3000");
    assert_eq!(list["items"][0]["id"], first.as_str());
    let stored: String = sqlx::query_scalar("SELECT string_agg(details_sealed, ' ') FROM payout_methods")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(
        !stored.contains("370400440532013000") && !stored.contains("ana@example.com"),
        "details are sealed at rest"
    );
    let second = bank_account(&app, &token, REFUSED_IBAN).await;
    let list = app.get("/v1/me/payout-methods").bearer(&token).send().await.value();
    let defaults: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["is_default"] == true)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, [second.as_str()], "one default per user");
}

#[tokio::test]
async fn a_withdrawal_holds_its_money_then_pays_out_or_returns_it() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "withdrawer").await;
    let user = Owner::User(user_id.parse().unwrap());
    funded(&app.db.pool, user_id.parse().unwrap(), 10_000).await;
    let good = bank_account(&app, &token, GOOD_IBAN).await;

    let w = app
        .post("/v1/me/withdrawals")
        .bearer(&token)
        .json(&json!({"amount": 2000, "currency": "EUR", "payout_method_id": good}))
        .send()
        .await;
    w.assert_status(StatusCode::CREATED);
    let w = w.value();
    assert_eq!((w["state"].as_str(), w["fee"].as_i64()), (Some("queued"), Some(100)));
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 7_900);
    assert_eq!(balance(&app.db.pool, user, kinds::HELD).await, 2_100);
    crate::support::drain_jobs(&app).await;
    let list = app.get("/v1/me/withdrawals").bearer(&token).send().await.value();
    assert_eq!(list["items"][0]["state"], "paid");
    // Like a real provider, the sandbox gives every payout its own reference.
    let id = w["id"].as_str().unwrap();
    assert_eq!(list["items"][0]["provider_ref"], format!("sandbox_po_{}", id.replace('-', "")));
    assert_eq!(balance(&app.db.pool, user, kinds::HELD).await, 0);
    assert_eq!(balance(&app.db.pool, Owner::Platform, kinds::FEES).await, 100);
    assert_eq!(balance(&app.db.pool, Owner::Platform, kinds::CLEARING).await, -10_000 + 2_000);

    // A refused transfer returns the money, fee included.
    let refused = bank_account(&app, &token, REFUSED_IBAN).await;
    app.post("/v1/me/withdrawals")
        .bearer(&token)
        .json(&json!({"amount": 5000, "currency": "EUR", "payout_method_id": refused}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2_900, "5000 and no fee from 5000 on");
    crate::support::drain_jobs(&app).await;
    let list = app.get("/v1/me/withdrawals").bearer(&token).send().await.value();
    assert_eq!(list["items"][0]["state"], "failed");
    assert!(list["items"][0]["failure_reason"].as_str().unwrap().contains("refused"));
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 7_900);

    // A queued withdrawal can be cancelled, a settled one cannot.
    let queued = app
        .post("/v1/me/withdrawals")
        .bearer(&token)
        .json(&json!({"amount": 1000, "currency": "EUR", "payout_method_id": good}))
        .send()
        .await
        .value();
    let id = queued["id"].as_str().unwrap();
    let cancelled = app.post(&format!("/v1/me/withdrawals/{id}/cancel")).bearer(&token).send().await.value();
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 7_900);
    app.post(&format!("/v1/me/withdrawals/{id}/cancel"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "not_cancellable");
    crate::support::drain_jobs(&app).await;
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 7_900, "a cancelled withdrawal is never paid");
    // The user was told of the payout and of the failure, with amounts as people read them.
    let notes = app.get("/v1/me/notifications").bearer(&token).send().await.value();
    let titles: Vec<&str> = notes["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Your withdrawal of 20.00 EUR was paid"), "{titles:?}");
    assert!(titles.contains(&"Your withdrawal of 50.00 EUR did not go through"), "{titles:?}");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn withdrawal_minimum_fee_threshold_and_funds_at_their_boundaries() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "boundary").await;
    funded(&app.db.pool, user_id.parse().unwrap(), 7_200).await;
    let method = bank_account(&app, &token, GOOD_IBAN).await;
    let ask = |amount: i64| {
        app.post("/v1/me/withdrawals")
            .bearer(&token)
            .json(&json!({"amount": amount, "currency": "EUR", "payout_method_id": method}))
            .send()
    };
    assert_eq!(
        ask(999).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["code"],
        "below_minimum"
    );
    assert_eq!(ask(1000).await.value()["fee"], 100);
    assert_eq!(ask(4999).await.value()["fee"], 100);
    // 7200 - 1100 - 5099 = 1001 left: 1000 + fee 100 does not fit.
    ask(1000).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    assert_eq!(
        ask(5000).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds")["code"],
        "insufficient_funds"
    );
    let (other, _, _) = signed_in(&app, "not_yours").await;
    let res = app
        .post("/v1/me/withdrawals")
        .bearer(&other)
        .json(&json!({"amount": 1000, "currency": "EUR", "payout_method_id": method}))
        .send()
        .await;
    assert_eq!(
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "payout_method_id"
    );
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn concurrent_withdrawals_cannot_spend_money_twice_and_a_key_runs_once() {
    let app = Arc::new(app().await);
    let (token, user_id, _) = signed_in(&app, "racer_w").await;
    funded(&app.db.pool, user_id.parse().unwrap(), 100_000).await;
    let method = bank_account(&app, &token, GOOD_IBAN).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (app, token, method) = (app.clone(), token.clone(), method.clone());
        tasks.push(tokio::spawn(async move {
            app.post("/v1/me/withdrawals")
                .bearer(&token)
                .json(&json!({"amount": 10_000, "currency": "EUR", "payout_method_id": method}))
                .send()
                .await
                .status
        }));
    }
    let mut statuses = std::collections::HashMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&StatusCode::CREATED), Some(&10), "{statuses:?}");
    assert_eq!(statuses.get(&StatusCode::CONFLICT), Some(&90), "{statuses:?}");

    let (token2, user2, _) = signed_in(&app, "retrier").await;
    funded(&app.db.pool, user2.parse().unwrap(), 50_000).await;
    let method2 = bank_account(&app, &token2, GOOD_IBAN).await;
    let body = json!({"amount": 6000, "currency": "EUR", "payout_method_id": method2});
    let first =
        app.post("/v1/me/withdrawals").bearer(&token2).header("idempotency-key", "w-1").json(&body).send().await;
    let again =
        app.post("/v1/me/withdrawals").bearer(&token2).header("idempotency-key", "w-1").json(&body).send().await;
    assert_eq!(first.value()["id"], again.value()["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM withdrawals WHERE user_id = $1::uuid")
        .bind(&user2)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    audit(&app.db.pool).await;
}

pub(crate) fn signed(body: &str, secret: &str, at: i64) -> String {
    notify::webhooks::signature_header(&[secret.to_owned()], at, body.as_bytes())
}

#[tokio::test]
async fn sandbox_payments_capture_fail_authorize_and_refund() {
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "payer").await;
    let user = Owner::User(user_id.parse().unwrap());
    let pay = |card: &str, capture: &str| {
        app.post("/v1/payments")
            .bearer(&token)
            .json(&json!({"amount": 2500, "currency": "EUR", "card_number": card, "capture": capture}))
            .send()
    };
    let paid = pay("4242 4242 4242 4242", "automatic").await.value();
    assert_eq!(paid["state"], "captured");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2500);
    let declined = pay("4000000000000002", "automatic").await.value();
    assert_eq!(
        (declined["state"].as_str(), declined["failure_reason"].as_str()),
        (Some("failed"), Some("card_declined"))
    );
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2500);
    let unknown = pay("4111111111111111", "automatic").await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["errors"][0]["field"],
        "card_number"
    );

    let authorized = pay("4242424242424242", "manual").await.value();
    assert_eq!(authorized["state"], "authorized");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2500, "authorized money is not in the wallet yet");
    let id = authorized["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/v1/payments/{id}/capture")).bearer(&token).send().await.value()["state"],
        "captured"
    );
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 5000);
    app.post(&format!("/v1/payments/{id}/capture"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "invalid_payment_state");
    let other = pay("4242424242424242", "manual").await.value();
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/v1/payments/{other_id}/cancel")).bearer(&token).send().await.value()["state"],
        "cancelled"
    );

    // Refunds: partial, then the rest, then no more.
    let pid = paid["id"].as_str().unwrap();
    let partial = app
        .post(&format!("/v1/payments/{pid}/refunds"))
        .bearer(&token)
        .json(&json!({"amount": 1000}))
        .send()
        .await
        .value();
    assert_eq!((partial["state"].as_str(), partial["refunded_amount"].as_i64()), (Some("captured"), Some(1000)));
    let too_much =
        app.post(&format!("/v1/payments/{pid}/refunds")).bearer(&token).json(&json!({"amount": 1501})).send().await;
    too_much.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let rest = app.post(&format!("/v1/payments/{pid}/refunds")).bearer(&token).json(&json!({})).send().await.value();
    assert_eq!((rest["state"].as_str(), rest["refunded_amount"].as_i64()), (Some("refunded"), Some(2500)));
    app.post(&format!("/v1/payments/{pid}/refunds"))
        .bearer(&token)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "already_refunded");
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2500);
    let (stranger, _, _) = signed_in(&app, "not_payer").await;
    app.get(&format!("/v1/payments/{pid}"))
        .bearer(&stranger)
        .send()
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn provider_webhooks_are_verified_and_applied_once() {
    let app = Arc::new(app().await);
    let (token, user_id, _) = signed_in(&app, "later_payer").await;
    let user = Owner::User(user_id.parse().unwrap());
    let pending = app
        .post("/v1/payments")
        .bearer(&token)
        .json(&json!({"amount": 4000, "currency": "EUR", "card_number": "4000000000003220"}))
        .send()
        .await
        .value();
    assert_eq!(pending["state"], "initiated");
    let reference = pending["provider_ref"].as_str().unwrap();
    let body = json!({"id": "evt_sb_1", "type": "payment_intent.succeeded", "data": {"object": {"id": reference}}})
        .to_string();
    let now = app.clock_now().timestamp();

    // Delivered ten times at once: applied once.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, body) = (app.clone(), body.clone());
        let signature = signed(&body, "whsec_sandbox", now);
        tasks.push(tokio::spawn(async move {
            let res = app
                .post("/v1/webhooks/sandbox")
                .header("stripe-signature", &signature)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            (res.status, res.value()["first_delivery"].as_bool())
        }));
    }
    let mut first = 0;
    for task in tasks {
        let (status, first_delivery) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        if first_delivery == Some(true) {
            first += 1;
        }
    }
    assert_eq!(first, 1);
    assert_eq!(
        app.get(&format!("/v1/payments/{}", pending["id"].as_str().unwrap())).bearer(&token).send().await.value()["state"],
        "captured"
    );
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 4000, "credited once");

    let send = |body: String, signature: String| {
        let app = app.clone();
        async move { app.post("/v1/webhooks/sandbox").header("stripe-signature", &signature).body(body).send().await }
    };
    let fresh =
        json!({"id": "evt_sb_2", "type": "charge.dispute.created", "data": {"object": {"id": "dp_1"}}}).to_string();
    send(fresh.clone(), signed(&fresh, "whsec_sandbox", now - 301))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    send(fresh.clone(), signed(&fresh, "whsec_sandbox", now + 301))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    send(fresh.replace("dp_1", "dp_2"), signed(&fresh, "whsec_sandbox", now))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    send(fresh.clone(), signed(&fresh, "whsec_wrong", now))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    // An unknown type is stored and acknowledged.
    let res = send(fresh.clone(), signed(&fresh, "whsec_sandbox", now - 300)).await;
    res.assert_status(StatusCode::OK);
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM provider_events WHERE type = 'charge.dispute.created' AND processed_at IS NOT NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);
    // Stripe is refused until its secret is configured.
    let res = app
        .post("/v1/webhooks/stripe")
        .header("stripe-signature", &signed(&fresh, "x", now))
        .body(fresh.clone())
        .send()
        .await;
    res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
    app.post("/v1/webhooks/paypal").body("{}").send().await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn earnings_become_available_after_their_holding_period() {
    let app = app().await;
    let artist = Owner::User(Uuid::now_v7());
    let escrow = funded(&app.db.pool, Uuid::now_v7(), 90_000).await;
    let mut tx = app.db.pool.begin().await.unwrap();
    ledger::earnings::credit(&mut tx, artist, &eur(), 60_000, escrow, "gig_fee", app.clock_now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(balance(&app.db.pool, artist, kinds::PENDING).await, 60_000);
    app.clock.advance(chrono::Duration::days(7) - chrono::Duration::seconds(1));
    crate::support::drain_jobs(&app).await;
    assert_eq!(balance(&app.db.pool, artist, kinds::AVAILABLE).await, 0, "one second early: still pending");
    app.clock.advance(chrono::Duration::seconds(1));
    crate::support::drain_jobs(&app).await;
    assert_eq!(balance(&app.db.pool, artist, kinds::PENDING).await, 0);
    assert_eq!(balance(&app.db.pool, artist, kinds::AVAILABLE).await, 60_000);
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn opposing_transfers_at_once_never_deadlock() {
    let db = TestDb::new().await;
    let a = funded(&db.pool, Uuid::now_v7(), 100_000).await;
    let b = funded(&db.pool, Uuid::now_v7(), 100_000).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let pool = db.pool.clone();
        let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            // Touch the other account first, as a hold or capture would, to provoke opposite lock orders.
            let other = if i % 2 == 0 { b } else { a };
            sqlx::query("SELECT balance FROM ledger_accounts WHERE id = $1")
                .bind(other)
                .execute(&mut *tx)
                .await
                .unwrap();
            service::transfer(&mut tx, from, to, 10, "test.pingpong", "", Utc::now())
                .await
                .map_err(|e| format!("{e:?}"))?;
            tx.commit().await.map_err(|e| e.to_string())
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("no transfer fails, none deadlocks");
    }
    audit(&db.pool).await;
}

#[tokio::test]
async fn large_withdrawals_wait_for_an_admin_when_the_setting_is_on() {
    let settings = ledger::LedgerSettings {
        withdrawals: ledger::payouts::WithdrawalSettings { approval_from: Some(50_000), ..Default::default() },
        ..Default::default()
    };
    let app = testkit::TestApp::new(move |ctx| {
        backline::app_with(ctx, platform::http::EdgeLimits::default(), None, settings)
    })
    .await;
    let admin = signed_in_admin(&app).await;
    let (token, user_id, _) = signed_in(&app, "big_spender").await;
    let user = Owner::User(user_id.parse().unwrap());
    funded(&app.db.pool, user_id.parse().unwrap(), 200_000).await;
    let method = bank_account(&app, &token, GOOD_IBAN).await;
    let ask = |amount: i64| {
        app.post("/v1/me/withdrawals")
            .bearer(&token)
            .json(&json!({"amount": amount, "currency": "EUR", "payout_method_id": method}))
            .send()
    };

    let small = ask(49_999).await.value();
    assert_eq!(small["needs_approval"], false);
    let big = ask(50_000).await.value();
    assert_eq!(big["needs_approval"], true);
    let rejected = ask(60_000).await.value();
    crate::support::drain_jobs(&app).await;
    let states: std::collections::HashMap<String, String> =
        app.get("/v1/me/withdrawals").bearer(&token).send().await.value()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["id"].as_str().unwrap().to_owned(), w["state"].as_str().unwrap().to_owned()))
            .collect();
    assert_eq!(states[small["id"].as_str().unwrap()], "paid");
    assert_eq!(states[big["id"].as_str().unwrap()], "queued", "waits for an admin");

    let waiting = app.get("/v1/admin/withdrawals/awaiting-approval").bearer(&admin).send().await.value();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 2);
    app.get("/v1/admin/withdrawals/awaiting-approval")
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let big_id = big["id"].as_str().unwrap();
    let decision = |id: &str, body: serde_json::Value, who: &str| {
        app.post(&format!("/v1/admin/withdrawals/{id}/decision")).bearer(who).json(&body).send()
    };
    decision(big_id, json!({"decision": "approve"}), &token).await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(decision(big_id, json!({"decision": "approve"}), &admin).await.value()["approved_at"].is_string());
    decision(big_id, json!({"decision": "approve"}), &admin)
        .await
        .assert_problem(StatusCode::CONFLICT, "not_awaiting_approval");
    let rejected_id = rejected["id"].as_str().unwrap();
    let after =
        decision(rejected_id, json!({"decision": "reject", "reason": "verify identity first"}), &admin).await.value();
    assert_eq!(after["state"], "cancelled");
    assert!(after["failure_reason"].as_str().unwrap().contains("verify identity first"));
    crate::support::drain_jobs(&app).await;
    let list = app.get("/v1/me/withdrawals").bearer(&token).send().await.value();
    let big_state = list["items"].as_array().unwrap().iter().find(|w| w["id"] == big_id).unwrap()["state"].clone();
    assert_eq!(big_state, "paid");
    // Free from 5,000 on: 200,000 − 49,999 − 50,000 = 100,001; the rejected 60,000 came back.
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 100_001);
    audit(&app.db.pool).await;
}

/// Every money-moving route of the ledger answers a retry with its first answer and does its work once.
#[tokio::test]
async fn each_idempotent_ledger_route_replays_its_first_answer() {
    use crate::support::assert_replayed;
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (token, user_id, _) = signed_in(&app, "replayer").await;
    let user = Owner::User(user_id.parse().unwrap());

    let pay = || {
        app.post("/v1/payments")
            .bearer(&token)
            .header("idempotency-key", "replay-pay")
            .json(&json!({"amount": 3000, "currency": "EUR", "card_number": "4242424242424242"}))
            .send()
    };
    let paid = assert_replayed(pay, StatusCode::CREATED).await;
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 3000, "charged once");

    let pid = paid["id"].as_str().unwrap();
    let refund = || {
        app.post(&format!("/v1/payments/{pid}/refunds"))
            .bearer(&token)
            .header("idempotency-key", "replay-refund")
            .json(&json!({"amount": 1000}))
            .send()
    };
    assert_eq!(assert_replayed(refund, StatusCode::CREATED).await["refunded_amount"], 1000);
    assert_eq!(balance(&app.db.pool, user, kinds::AVAILABLE).await, 2000, "refunded once");

    let from = funded(&app.db.pool, Uuid::now_v7(), 10_000).await;
    let to = funded(&app.db.pool, Uuid::now_v7(), 0).await;
    let adjust = || {
        app.post("/v1/admin/ledger/entries")
            .bearer(&admin)
            .header("idempotency-key", "replay-entry")
            .json(&json!({"memo": "goodwill", "postings": [{"account_id": from, "amount": -700}, {"account_id": to, "amount": 700}]}))
            .send()
    };
    let entry = assert_replayed(adjust, StatusCode::CREATED).await;
    let eid = entry["id"].as_str().unwrap();
    let reverse = || {
        app.post(&format!("/v1/admin/ledger/entries/{eid}/reverse"))
            .bearer(&admin)
            .header("idempotency-key", "replay-reverse")
            .json(&json!({"memo": "posted twice"}))
            .send()
    };
    assert_replayed(reverse, StatusCode::CREATED).await;
    let entries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM journal_entries WHERE kind IN ('adjustment', 'adjustment.reversal')")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(entries, 2, "one adjustment, one reversal");
    audit(&app.db.pool).await;
}

/// Every change of a withdrawal's state logs one line naming the object and its id; the lines the
/// payout job logs are inside its `job` span, which carries the job's kind, id and attempt.
#[tokio::test]
async fn state_changes_log_one_line_each_inside_the_jobs_span() {
    let capture = crate::support::LogCapture::default();
    let _guard = capture.install();
    let app = app().await;
    let (token, user_id, _) = signed_in(&app, "logged").await;
    funded(&app.db.pool, user_id.parse().unwrap(), 10_000).await;
    let good = bank_account(&app, &token, GOOD_IBAN).await;
    let w = app
        .post("/v1/me/withdrawals")
        .bearer(&token)
        .json(&json!({"amount": 2000, "currency": "EUR", "payout_method_id": good}))
        .send()
        .await
        .value();
    let id = w["id"].as_str().unwrap().to_owned();
    crate::support::drain_jobs(&app).await;
    let job: (Uuid, i32) = sqlx::query_as("SELECT id, attempts FROM jobs WHERE kind = 'withdrawal.process'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();

    let changes: Vec<_> = capture
        .events()
        .into_iter()
        .filter(|e| e.fields.get("object").map(String::as_str) == Some("withdrawal"))
        .filter(|e| e.fields.get("id") == Some(&id))
        .collect();
    let targets: Vec<&str> = changes.iter().map(|e| e.fields["to"].as_str()).collect();
    assert_eq!(targets, ["processing", "paid"], "one line per change, in order: {changes:#?}");
    for change in &changes {
        let (name, span) = change.spans.iter().find(|(name, _)| name == "job").expect("inside the job's span");
        assert_eq!(name, "job");
        assert_eq!(span.get("kind").map(String::as_str), Some("withdrawal.process"));
        assert_eq!(span.get("id"), Some(&job.0.to_string()));
        assert_eq!(span.get("attempt"), Some(&job.1.to_string()));
        assert_eq!(
            change.fields.get("from").map(String::as_str),
            Some(if change.fields["to"] == "paid" { "processing" } else { "queued" })
        );
    }
}
