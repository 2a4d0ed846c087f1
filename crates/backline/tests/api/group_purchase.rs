//! Purchases paid at once that arrive together are bought together, in one transaction per batch
//! (`ticketing::orders::together`): each buyer answered as if alone, never an oversell across nodes,
//! a batch the database refuses made again one purchase at a time, and each order its own ledger
//! entry, audit entry and refund.

use std::sync::Arc;

use axum::http::StatusCode;
use ledger::model::{Owner, kinds};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::ledger::{audit, funded};
use crate::support::{app, drain_jobs, signed_in};
use crate::ticketing::{buy_now, buyers, chain_ok, escrow, on_sale, tickets_and_codes, tier_counts, wallet};

/// The event's orders: how many, and how many transactions wrote them.
async fn orders_and_transactions(app: &TestApp, event: &str) -> (i64, i64) {
    let event: Uuid = event.parse().unwrap();
    let row = sqlx::query!(
        r#"SELECT count(*) AS "orders!", count(DISTINCT xmin::text) AS "transactions!" FROM orders WHERE event_id = $1"#,
        event
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    (row.orders, row.transactions)
}

/// Sends every `(node, token)` purchase of one ticket at once; answers each one's status and body, in
/// the order given.
async fn all_at_once(
    app: &Arc<TestApp>,
    purchases: Vec<(Option<axum::Router>, String)>,
    event: &str,
    tier: &str,
) -> Vec<(StatusCode, Value)> {
    let gate = Arc::new(tokio::sync::Barrier::new(purchases.len()));
    let tasks: Vec<_> = purchases
        .into_iter()
        .map(|(node, token)| {
            let (app, gate, event, tier) = (app.clone(), gate.clone(), event.to_owned(), tier.to_owned());
            tokio::spawn(async move {
                gate.wait().await;
                let body = json!({"items": [{"tier_id": tier, "quantity": 1}], "pay": "wallet"});
                let request = app.post(&format!("/v1/events/{event}/orders")).bearer(&token).json(&body);
                let res = match &node {
                    Some(node) => request.to(node).send().await,
                    None => request.send().await,
                };
                (res.status, res.value())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// A crowd buying from their wallets at once: the purchases share transactions, yet every buyer is
/// answered as alone: exactly the tickets there are sell, a buyer whose wallet is short is refused
/// and keeps their money while the others buy, a buyer sending two purchases at once gets both
/// answered, every order has its own ledger entry and audit entry (naming its request), the chain
/// catches up, and refunding one order of a shared transaction moves that order's money only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purchases_arriving_together_are_bought_together_each_answered_as_alone() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "together_org").await;
    let fans = buyers(&app, "together", 48).await;
    let (rich, poor) = fans.split_at(42);
    for (_, id) in rich {
        funded(&app.db.pool, *id, 100_000).await;
    }
    for (_, id) in poor {
        funded(&app.db.pool, *id, 500).await;
    }
    let mut shared = None;
    for round in 0..3 {
        let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 30, "price": 1000})).await;
        let before: Vec<i64> = futures_util::future::join_all(fans.iter().map(|(_, id)| wallet(&app, *id))).await;
        // The first rich buyer sends two purchases at once.
        let mut crowd: Vec<(Option<axum::Router>, String)> = fans.iter().map(|(t, _)| (None, t.clone())).collect();
        crowd.push((None, rich[0].0.clone()));
        let answers = all_at_once(&app, crowd, &event, &tier).await;
        let mut bought = std::collections::HashMap::<Uuid, i64>::new();
        let mut codes = std::collections::HashSet::new();
        for (n, (status, body)) in answers.iter().enumerate() {
            let buyer = if n < fans.len() { fans[n].1 } else { rich[0].1 };
            match (*status, body["code"].as_str()) {
                (StatusCode::CREATED, _) => {
                    assert_eq!(body["state"], "paid", "round {round}: {body}");
                    assert!(n < rich.len() || n == fans.len(), "round {round}: a short wallet bought: {body}");
                    let tickets = body["tickets"].as_array().unwrap();
                    assert_eq!(tickets.len(), 1);
                    assert_eq!(tickets[0]["holder_id"], json!(buyer));
                    assert!(codes.insert(tickets[0]["code"].as_str().unwrap().to_owned()), "a code twice");
                    *bought.entry(buyer).or_default() += 1;
                }
                (StatusCode::CONFLICT, Some("sold_out")) => {}
                (StatusCode::CONFLICT, Some("insufficient_funds")) => {
                    assert!(n >= rich.len() && n < fans.len(), "round {round}: a full wallet refused: {body}");
                }
                (status, _) => panic!("round {round}: unexpected {status} {body}"),
            }
        }
        let sold: i64 = bought.values().sum();
        assert_eq!(sold, 30, "round {round}: 49 asked for 30 tickets; every ticket sells");
        assert_eq!(tier_counts(&app, &tier).await, (30, 30, 0), "round {round}");
        assert_eq!(escrow(&app, &event).await, 30 * 1000, "round {round}");
        for ((_, id), before) in fans.iter().zip(&before) {
            let spent = bought.get(id).copied().unwrap_or(0) * 1000;
            assert_eq!(wallet(&app, *id).await, before - spent, "round {round}: each pays for what they bought");
        }
        // Shared transactions, yet one ledger entry and one audit entry per order.
        let (orders, transactions) = orders_and_transactions(&app, &event).await;
        assert_eq!(orders, 30);
        assert!(transactions < orders, "round {round}: purchases arriving together share transactions");
        let event_id: Uuid = event.parse().unwrap();
        let per_order = sqlx::query!(
            r#"SELECT count(DISTINCT o.payment_entry) AS "entries!",
                      count(*) FILTER (WHERE e.memo = 'order ' || o.id::text AND e.kind = 'ticket.sale') AS "named!",
                      count(DISTINCT a.request_id) AS "requests!", count(a.id) AS "audited!"
               FROM orders o JOIN journal_entries e ON e.id = o.payment_entry
               LEFT JOIN audit_log a ON a.resource_type = 'order' AND a.resource_id = o.id::text AND a.action = 'order.buy'
               WHERE o.event_id = $1"#,
            event_id
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            (per_order.entries, per_order.named, per_order.requests, per_order.audited),
            (30, 30, 30, 30),
            "round {round}: per order: its entry, its audit row naming its own request"
        );
        drain_jobs(&app).await;
        let chain = chain_ok(&app, &event).await;
        assert_eq!((chain["valid"].as_bool(), chain["records"].as_i64()), (Some(true), Some(30)), "round {round}");
        if shared.is_none() {
            shared = shared_order(&app, &event).await.map(|order| (event.clone(), order));
        }
    }

    // A refund of one order bought in a shared transaction moves that order's money only.
    let (event, order) = shared.expect("an order bought in a shared transaction");
    let ticket = sqlx::query!(r#"SELECT id, holder_id FROM tickets WHERE order_id = $1"#, order)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let (held_before, escrow_before) = (wallet(&app, ticket.holder_id).await, escrow(&app, &event).await);
    app.post(&format!("/v1/tickets/{}/refund", ticket.id))
        .bearer(&organizer)
        .header("idempotency-key", "together-refund")
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(wallet(&app, ticket.holder_id).await, held_before + 1000);
    assert_eq!(escrow(&app, &event).await, escrow_before - 1000);
    let refunded = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM tickets WHERE event_id = $1 AND state = 'refunded'"#,
        event.parse::<Uuid>().unwrap()
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(refunded, 1, "the other orders of its transaction keep their tickets");
    audit(&app.db.pool).await;
}

/// An order of the event written in the same transaction as another.
async fn shared_order(app: &TestApp, event: &str) -> Option<Uuid> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM orders o WHERE event_id = $1
             AND (SELECT count(*) FROM orders p WHERE p.event_id = o.event_id AND p.xmin::text = o.xmin::text) > 1
           LIMIT 1"#,
        event.parse::<Uuid>().unwrap()
    )
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

/// Two nodes, each with its own batches and memory of sold-out tiers, selling the same tickets at
/// once: never more than there are, each once, every ticket sold, every cent in escrow.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_buying_together_never_oversell() {
    let app = Arc::new(app().await);
    let other = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
    let (organizer, _, _) = signed_in(&app, "nodes_org").await;
    let fans = buyers(&app, "nodes", 60).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 100_000).await;
    }
    for round in 0..3 {
        let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 25, "price": 1000})).await;
        let crowd = fans
            .iter()
            .enumerate()
            .map(|(n, (token, _))| ((n % 2 == 1).then(|| other.clone()), token.clone()))
            .collect();
        let answers = all_at_once(&app, crowd, &event, &tier).await;
        let mut sold = 0;
        for (status, body) in &answers {
            match (*status, body["code"].as_str()) {
                (StatusCode::CREATED, _) => sold += 1,
                (StatusCode::CONFLICT, Some("sold_out")) => {}
                (status, _) => panic!("round {round}: unexpected {status} {body}"),
            }
        }
        assert_eq!(sold, 25, "round {round}");
        assert_eq!(tier_counts(&app, &tier).await, (25, 25, 0), "round {round}");
        assert_eq!(escrow(&app, &event).await, 25 * 1000, "round {round}");
        assert_eq!(tickets_and_codes(&app, &event).await, (25, 25), "round {round}");
    }
    audit(&app.db.pool).await;
}

/// Takes the lock a purchase of `buyer` takes (on the test's own connection), so that the
/// purchase waits; answers the key to give it back with [`give_back`].
pub(crate) async fn hold_buyer(conn: &mut sqlx::PgConnection, event: &str, buyer: Uuid) -> String {
    let key = format!("ticketing:buyer:{event}:{buyer}");
    let locked = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS "locked!""#, key)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(locked, "the buyer's lock is the test's");
    key
}

pub(crate) async fn give_back(conn: &mut sqlx::PgConnection, key: &str) {
    let unlocked = sqlx::query_scalar!(r#"SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS "unlocked!""#, key)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(unlocked);
}

/// Waits until `at_least` statements whose text contains `text` wait for a lock.
async fn until_waiting(app: &TestApp, text: &str, at_least: i64) {
    for _ in 0..400 {
        let waiting = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0"#,
            text
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        if waiting >= at_least {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no statement containing {text:?} came to wait for a lock");
}

/// A batch that the database refuses (here: a wallet emptied by another transaction between the
/// batch's read and its payment) is made again one purchase at a time: the buyer whose wallet is
/// now empty is refused, every other buyer of the batch buys, each in a transaction of their own.
///
/// The node answers four batches at once. The test holds four buyers' locks, so that four purchases
/// made alone occupy the four lanes; the eleven that arrive meanwhile wait, and become one batch
/// when the first lane is free. The test empties one of the eleven's wallets in a transaction it
/// has not committed, sees the batch's payment wait for that wallet, and commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_the_database_refuses_is_made_again_alone() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "refused_batch_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 100, "price": 1000})).await;
    let fans = buyers(&app, "refused_batch", 15).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 5000).await;
    }
    let (blocked, batch) = fans.split_at(4);
    let mut locks = app.db.pool.acquire().await.unwrap();
    let mut keys = Vec::new();
    for (_, id) in blocked {
        keys.push(hold_buyer(&mut locks, &event, *id).await);
    }
    let send = |token: String| {
        let (app, event, tier) = (app.clone(), event.clone(), tier.clone());
        tokio::spawn(async move {
            let res = buy_now(&app, &token, &event, &tier, 1).await;
            (res.status, res.value())
        })
    };
    let mut first_four = Vec::new();
    for (n, (token, _)) in (1..).zip(blocked) {
        first_four.push(send(token.clone()));
        until_waiting(&app, "pg_advisory_xact_lock", n).await;
    }
    let waiting_on_buyers = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, 'pg_advisory_xact_lock') > 0"#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(waiting_on_buyers, 4, "four purchases alone, one in each lane");

    // The eleven arrive while every lane is busy; one wallet among them is emptied, not yet committed.
    let drained = batch[5].1;
    let mut drain = app.db.pool.begin().await.unwrap();
    let eur = ledger::model::Currency::parse("EUR").unwrap();
    ledger::accounts::service::transfer_between(
        &mut drain,
        (Owner::User(drained), kinds::AVAILABLE),
        (Owner::Platform, kinds::CLEARING),
        &eur,
        5000,
        "test.drain",
        "spent elsewhere meanwhile",
        json!({}),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let eleven: Vec<_> = batch.iter().map(|(token, _)| send(token.clone())).collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    give_back(&mut locks, &keys[0]).await;
    // The batch of eleven read the wallet before the drain and now waits for it, in its payment.
    until_waiting(&app, "unnest($1::uuid[], $2::text[], $3::text[], $4::text[]", 1).await;
    drain.commit().await.unwrap();

    for (n, task) in eleven.into_iter().enumerate() {
        let (status, body) = task.await.unwrap();
        if n == 5 {
            assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("insufficient_funds")), "{body}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    for key in &keys[1..] {
        give_back(&mut locks, key).await;
    }
    for task in first_four {
        assert_eq!(task.await.unwrap().0, StatusCode::CREATED);
    }
    assert_eq!(wallet(&app, drained).await, 0);
    assert_eq!(tier_counts(&app, &tier).await, (100, 14, 0));
    assert_eq!(escrow(&app, &event).await, 14 * 1000);
    let (orders, transactions) = orders_and_transactions(&app, &event).await;
    assert_eq!((orders, transactions), (14, 14), "the refused batch's purchases were each made alone");
    let audited = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM audit_log a JOIN orders o ON a.resource_id = o.id::text
           WHERE a.action = 'order.buy' AND o.event_id = $1"#,
        event.parse::<Uuid>().unwrap()
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 14, "nothing of the refused batch stays");
    audit(&app.db.pool).await;
}

/// A tier's per-buyer limit holds when a buyer's purchases arrive together with a crowd's: ten
/// buyers send three purchases each at once, of a tier allowing two per buyer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_buyer_limit_holds_for_purchases_arriving_together() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "limit_together_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 100, "price": 1000, "max_per_buyer": 2})).await;
    let fans = buyers(&app, "limit_together", 10).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 100_000).await;
    }
    let crowd =
        fans.iter().flat_map(|(token, _)| [(None, token.clone()), (None, token.clone()), (None, token.clone())]);
    let answers = all_at_once(&app, crowd.collect(), &event, &tier).await;
    for (n, chunk) in answers.chunks(3).enumerate() {
        let bought = chunk.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
        assert_eq!(bought, 2, "buyer {n}: {chunk:?}");
        let refused = chunk.iter().find(|(status, _)| *status != StatusCode::CREATED).unwrap();
        assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{refused:?}");
        assert_eq!(refused.1["errors"][0]["code"], "buyer_limit", "{refused:?}");
        assert_eq!(wallet(&app, fans[n].1).await, 100_000 - 2000);
    }
    assert_eq!(tier_counts(&app, &tier).await, (100, 20, 0));
}
