//! Ticketing through the HTTP API: the event lifecycle, search, orders that never oversell, per-buyer
//! limits, holds that expire, payment into escrow, signed tickets and check-in.

use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ledger::model::{Owner, kinds};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::ledger::{audit, balance, funded};
use crate::support::{PASSWORD, app, drain_jobs, login, signed_in, signed_in_admin};

pub(crate) async fn token_of(app: &TestApp, username: &str) -> String {
    login(app, username, PASSWORD).await.value()["access_token"].as_str().unwrap().to_owned()
}

fn at(app: &TestApp, days: i64) -> DateTime<Utc> {
    app.clock_now() + Duration::days(days)
}

/// A draft event organized by the holder of `token`.
pub(crate) async fn draft(app: &TestApp, token: &str, extra: Value) -> String {
    let mut body = json!({
        "title": "Nova Beats live", "description": "An evening of drum & bass.",
        "starts_at": at(app, 30), "ends_at": at(app, 30) + Duration::hours(4), "timezone": "Europe/Berlin",
        "venue": {"name": "Tresor", "city": "Berlin", "country": "DE"}, "tags": ["Drum & Bass", "live"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/v1/events").bearer(token).json(&body).send().await;
    res.assert_status(StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn add_tier(app: &TestApp, token: &str, event: &str, tier: Value) -> String {
    let res = app.post(&format!("/v1/events/{event}/tiers")).bearer(token).json(&tier).send().await;
    res.assert_status(StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn set_status(app: &TestApp, token: &str, event: &str, status: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/events/{event}/status")).bearer(token).json(&json!({"status": status})).send().await
}

/// A published event with one tier; answers (event, tier).
pub(crate) async fn on_sale(app: &TestApp, token: &str, tier: Value) -> (String, String) {
    let event = draft(app, token, json!({})).await;
    let mut body = json!({"name": "General admission", "price": 2500, "currency": "EUR", "quantity": 100});
    for (k, v) in tier.as_object().unwrap() {
        body[k] = v.clone();
    }
    let tier = add_tier(app, token, &event, body).await;
    set_status(app, token, &event, "published").await.assert_status(StatusCode::OK);
    (event, tier)
}

/// `n` verified buyers, created directly (one password hash for all) and signed in through the API.
pub(crate) async fn buyers(app: &Arc<TestApp>, prefix: &str, n: usize) -> Vec<(String, Uuid)> {
    let hash = identity::password::hash(PASSWORD.to_owned()).await.unwrap();
    let mut users = Vec::new();
    for i in 0..n {
        let mut conn = app.db.pool.acquire().await.unwrap();
        let name = format!("{prefix}{i}");
        let id = identity::service::create_verified_user(
            &mut conn,
            &format!("{name}@example.com"),
            &name,
            &name,
            &hash,
            &[],
            app.clock_now(),
        )
        .await
        .unwrap();
        users.push((name, id));
    }
    let mut tasks = Vec::new();
    for (name, id) in users {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let res = login(&app, &name, PASSWORD).await;
            (res.value()["access_token"].as_str().unwrap().to_owned(), id.0)
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

pub(crate) fn reserve(
    app: &TestApp,
    token: &str,
    event: &str,
    tier: &str,
    quantity: i32,
) -> impl Future<Output = testkit::TestResponse> {
    app.post(&format!("/v1/events/{event}/orders")).bearer(token).json(&order_body(tier, quantity)).send()
}

fn order_body(tier: &str, quantity: i32) -> Value {
    json!({"items": [{"tier_id": tier, "quantity": quantity}]})
}

pub(crate) async fn pay_card(app: &TestApp, token: &str, order: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/orders/{order}/pay"))
        .bearer(token)
        .json(&json!({"card_number": "4242424242424242"}))
        .send()
        .await
}

pub(crate) async fn tier_counts(app: &TestApp, tier: &str) -> (i32, i32, i32) {
    sqlx::query_as("SELECT quantity, sold, held FROM ticket_tiers WHERE id = $1")
        .bind(Uuid::parse_str(tier).unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_event_lifecycle_is_enforced_with_its_actors() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "organizer").await;
    let (stranger, _, _) = signed_in(&app, "stranger").await;
    let admin = signed_in_admin(&app).await;

    // Validation names every field.
    let bad = app
        .post("/v1/events")
        .bearer(&organizer)
        .json(&json!({"title": "", "starts_at": at(&app, 2), "ends_at": at(&app, 1), "timezone": "Mars/Olympus",
                      "capacity": 0, "tags": ["ok", ";nope"], "category": "no-such", "resale_cap_bps": -1}))
        .send()
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<String> =
        bad.value()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    for field in ["title", "ends_at", "timezone", "capacity", "tags[1]", "category", "resale_cap_bps"] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    let event = draft(&app, &organizer, json!({})).await;
    // A draft is its organizer's alone.
    app.get(&format!("/v1/events/{event}")).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/events/{event}")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    set_status(&app, &stranger, &event, "published").await.assert_status(StatusCode::NOT_FOUND);
    let mine = app.get(&format!("/v1/events/{event}")).bearer(&organizer).send().await.value();
    assert_eq!(mine["status"], "draft");
    assert_eq!(mine["tags"], json!(["drum & bass", "live"]));

    // Publishing needs a tier; an admin may not publish for the organizer.
    let refused = set_status(&app, &organizer, &event, "published").await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(refused.value()["errors"][0]["field"], "tiers");
    add_tier(&app, &organizer, &event, json!({"name": "GA", "price": 1000, "currency": "EUR", "quantity": 10})).await;
    set_status(&app, &admin, &event, "published")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "transition_not_permitted");
    let published = set_status(&app, &organizer, &event, "published").await;
    published.assert_status(StatusCode::OK);
    assert!(published.value()["published_at"].is_string());
    app.get(&format!("/v1/events/{event}")).send().await.assert_status(StatusCode::OK);

    // Refused transitions, and the allowed ones.
    set_status(&app, &organizer, &event, "draft").await.assert_problem(StatusCode::CONFLICT, "invalid_transition");
    set_status(&app, &organizer, &event, "completed").await.assert_problem(StatusCode::CONFLICT, "event_not_over");
    set_status(&app, &stranger, &event, "cancelled").await.assert_status(StatusCode::FORBIDDEN);
    set_status(&app, &organizer, &event, "postponed").await.assert_status(StatusCode::OK);
    set_status(&app, &organizer, &event, "draft").await.assert_status(StatusCode::OK);
    set_status(&app, &organizer, &event, "published").await.assert_status(StatusCode::OK);
    set_status(&app, &admin, &event, "cancelled").await.assert_status(StatusCode::OK);
    // A cancelled event stays visible to the public (its ticket holders look it up).
    assert_eq!(app.get(&format!("/v1/events/{event}")).send().await.value()["status"], "cancelled");
    set_status(&app, &organizer, &event, "published").await.assert_status(StatusCode::OK);

    // Completed is final, and only once the event has ended.
    app.clock.advance(Duration::days(31));
    let organizer = token_of(&app, "organizer").await;
    set_status(&app, &organizer, &event, "completed").await.assert_status(StatusCode::OK);
    for to in ["draft", "published", "postponed", "cancelled"] {
        set_status(&app, &organizer, &event, to).await.assert_problem(StatusCode::CONFLICT, "invalid_transition");
    }
    app.patch(&format!("/v1/events/{event}"))
        .bearer(&organizer)
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "event_completed");

    // Publishing needs a future start.
    let late = draft(&app, &organizer, json!({"starts_at": at(&app, -1), "ends_at": at(&app, 1)})).await;
    add_tier(&app, &organizer, &late, json!({"name": "GA", "price": 0, "currency": "EUR", "quantity": 10})).await;
    let refused = set_status(&app, &organizer, &late, "published").await;
    assert_eq!(refused.value()["errors"][0]["field"], "starts_at");
}

async fn publish(
    app: &TestApp,
    organizer: &str,
    title: &str,
    days: i64,
    city: &str,
    category: Option<&str>,
    tags: Value,
) -> String {
    let event = draft(
        app,
        organizer,
        json!({"title": title, "starts_at": at(app, days), "ends_at": at(app, days) + Duration::hours(3),
               "venue": {"city": city}, "category": category, "tags": tags}),
    )
    .await;
    add_tier(app, organizer, &event, json!({"name": "GA", "price": 0, "currency": "EUR", "quantity": 5})).await;
    set_status(app, organizer, &event, "published").await.assert_status(StatusCode::OK);
    event
}

async fn search(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/v1/events?{query}")).send().await.value()
}

/// Every event a search finds, read a page of one at a time by its cursor (`query` ends with `&`).
async fn pages_of_one(app: &TestApp, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = search(app, &format!("{query}limit=1&cursor={cursor}")).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn search_ranks_filters_pages_and_never_shows_drafts() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (organizer, _, _) = signed_in(&app, "searcher").await;
    for (slug, parent) in [("music", None), ("electronic", Some("music"))] {
        app.post("/v1/event-categories")
            .bearer(&admin)
            .json(&json!({"slug": slug, "name": slug, "parent": parent}))
            .send()
            .await
            .assert_status(StatusCode::CREATED);
    }
    app.post("/v1/event-categories")
        .bearer(&organizer)
        .json(&json!({"slug": "mine", "name": "Mine"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let techno =
        publish(&app, &organizer, "Techno night techno", 10, "Berlin", Some("electronic"), json!(["techno"])).await;
    let jazz = publish(&app, &organizer, "Jazz brunch", 5, "Paris", Some("music"), json!(["jazz"])).await;
    let mixed = publish(&app, &organizer, "Techno and jazz", 20, "Berlin", None, json!(["techno", "jazz"])).await;
    let hidden = draft(&app, &organizer, json!({"title": "Techno secret draft"})).await;

    let ids = |res: &Value| -> Vec<String> {
        res["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    // Ranked: the title that says it twice first; drafts never.
    let found = search(&app, "q=techno").await;
    assert_eq!(ids(&found), vec![techno.clone(), mixed.clone()]);
    assert!(found["items"][0]["rank"].as_f64().unwrap() > found["items"][1]["rank"].as_f64().unwrap());
    assert!(!ids(&found).contains(&hidden));
    // Without words: by start time.
    assert_eq!(ids(&search(&app, "").await), vec![jazz.clone(), techno.clone(), mixed.clone()]);
    // A category includes its subcategories.
    assert_eq!(ids(&search(&app, "category=music").await), vec![jazz.clone(), techno.clone()]);
    assert_eq!(ids(&search(&app, "category=electronic").await), vec![techno.clone()]);
    assert_eq!(ids(&search(&app, "tag=jazz").await), vec![jazz.clone(), mixed.clone()]);
    assert_eq!(ids(&search(&app, "city=berlin").await), vec![techno.clone(), mixed.clone()]);
    let window = format!("from={}&to={}", (at(&app, 6)).to_rfc3339(), (at(&app, 15)).to_rfc3339()).replace('+', "%2B");
    assert_eq!(ids(&search(&app, &window).await), vec![techno.clone()]);
    // Pages of one, without repeats or gaps.
    assert_eq!(pages_of_one(&app, "").await, vec![jazz.clone(), techno.clone(), mixed.clone()]);
    let tags = app.get("/v1/event-tags").send().await.value();
    assert_eq!(tags["items"][0], json!({"name": "jazz", "use_count": 2}));

    // In one city the search reads an index that carries each event's words, and a description too
    // long for an index entry is searched all the same: every filter and the pages hold there too.
    let words: Vec<String> = (0..400).map(|i| format!("word{i}")).collect();
    let long = draft(
        &app,
        &organizer,
        json!({"title": "Late session", "description": format!("{} saxophone", words.join(" ")),
               "starts_at": at(&app, 30), "ends_at": at(&app, 30) + Duration::hours(3),
               "venue": {"city": "Berlin"}, "category": "music", "tags": ["jazz"]}),
    )
    .await;
    add_tier(&app, &organizer, &long, json!({"name": "GA", "price": 0, "currency": "EUR", "quantity": 5})).await;
    set_status(&app, &organizer, &long, "published").await.assert_status(StatusCode::OK);
    let size = sqlx::query_scalar!(
        r#"SELECT octet_length(search::text) AS "size!" FROM events WHERE id = $1"#,
        long.parse::<uuid::Uuid>().unwrap()
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(size > 1500, "the long description's vector is {size} bytes");
    assert_eq!(ids(&search(&app, "city=Berlin&q=saxophone").await), vec![long.clone()]);
    assert_eq!(ids(&search(&app, "city=berlin").await), vec![techno.clone(), mixed.clone(), long.clone()]);
    assert_eq!(ids(&search(&app, "city=BERLIN&q=jazz").await), vec![mixed.clone()]);
    assert_eq!(ids(&search(&app, "city=berlin&tag=jazz").await), vec![mixed.clone(), long.clone()]);
    assert_eq!(ids(&search(&app, "city=berlin&category=music").await), vec![techno.clone(), long.clone()]);
    assert_eq!(ids(&search(&app, &format!("city=berlin&{window}")).await), vec![techno.clone()]);
    assert!(ids(&search(&app, "city=Paris&q=techno").await).is_empty());
    assert_eq!(pages_of_one(&app, "city=berlin&q=techno&").await, vec![techno, mixed]);
}

#[tokio::test]
async fn concurrent_buyers_never_oversell_and_every_ticket_sells() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "flash_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 20, "max_per_order": 2})).await;
    let buyers = buyers(&app, "flash", 40).await;
    let mut tasks = Vec::new();
    for (token, _) in &buyers {
        let (app, token, event, tier) = (app.clone(), token.clone(), event.clone(), tier.clone());
        tasks.push(tokio::spawn(async move {
            let res = reserve(&app, &token, &event, &tier, 1).await;
            (res.status, res.value(), token)
        }));
    }
    let (mut won, mut sold_out) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::CREATED, order, token) => won.push((order["id"].as_str().unwrap().to_owned(), token)),
            (StatusCode::CONFLICT, problem, _) if problem["code"] == "sold_out" => sold_out += 1,
            (status, body, _) => panic!("unexpected answer {status} {body}"),
        }
    }
    assert_eq!(won.len(), 20, "demand exceeds supply: every ticket is reserved");
    assert_eq!(sold_out, 20);
    assert_eq!(tier_counts(&app, &tier).await, (20, 0, 20));

    // Everyone who won pays at once: 20 tickets, 20 distinct codes, none issued twice.
    let mut tasks = Vec::new();
    for (order, token) in won {
        let app = app.clone();
        tasks.push(tokio::spawn(async move { pay_card(&app, &token, &order).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(tier_counts(&app, &tier).await, (20, 20, 0));
    let (tickets, codes): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT k.id), count(DISTINCT c.code) FROM tickets k JOIN ticket_codes c ON c.ticket_id = k.id",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((tickets, codes), (20, 20));
    let escrow = balance(&app.db.pool, Owner::Event(Uuid::parse_str(&event).unwrap()), kinds::ESCROW).await;
    assert_eq!(escrow, 20 * 2500, "every sale is in the event's escrow");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn the_per_buyer_limit_holds_under_concurrency() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "limit_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"max_per_buyer": 3})).await;
    let (token, _, _) = signed_in(&app, "eager_fan").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, token, event, tier) = (app.clone(), token.clone(), event.clone(), tier.clone());
        tasks.push(tokio::spawn(async move { reserve(&app, &token, &event, &tier, 1).await.status }));
    }
    let mut created = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 3);
    let over = reserve(&app, &token, &event, &tier, 1).await;
    assert_eq!(over.value()["errors"][0]["code"], "buyer_limit");
    // Per order: between min and max.
    let big = reserve(&app, &token, &event, &tier, 11).await;
    assert_eq!(big.value()["errors"][0]["code"], "out_of_range");
}

/// The per-buyer limit counts tickets however they came: bought, received by transfer, bought on
/// resale. Transfers accepted, a resale bought and orders placed at once never take a buyer past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_buyer_limit_holds_across_orders_transfers_and_resale_at_once() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "paths_organizer").await;
    let givers = buyers(&app, "giver", 4).await;
    for round in 0..3 {
        let (event, tier) = on_sale(&app, &organizer, json!({"price": 0, "max_per_buyer": 2})).await;
        let (collector, collector_id) = buyers(&app, &format!("collector{round}_"), 1).await.remove(0);
        // Three givers offer their ticket to the collector; a fourth lists hers for resale.
        let mut transfers = Vec::new();
        for (token, _) in &givers[..3] {
            let ticket = bought(&app, token, &event, &tier, 1).await.remove(0);
            let res = app
                .post(&format!("/v1/tickets/{}/transfers", ticket["id"].as_str().unwrap()))
                .bearer(token)
                .json(&json!({"to_user_id": collector_id}))
                .send()
                .await;
            transfers.push(res.value()["id"].as_str().unwrap().to_owned());
        }
        let listed = bought(&app, &givers[3].0, &event, &tier, 1).await.remove(0);
        let listing = app
            .post(&format!("/v1/tickets/{}/listings", listed["id"].as_str().unwrap()))
            .bearer(&givers[3].0)
            .json(&json!({"price": 0}))
            .send()
            .await
            .value()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // All at once: three acceptances, one resale purchase, two orders of one ticket each.
        let mut tasks: Vec<tokio::task::JoinHandle<StatusCode>> = Vec::new();
        for transfer in transfers {
            let (app, token) = (app.clone(), collector.clone());
            tasks.push(tokio::spawn(async move {
                app.post(&format!("/v1/transfers/{transfer}/accept")).bearer(&token).send().await.status
            }));
        }
        {
            let (app, token, listing) = (app.clone(), collector.clone(), listing.clone());
            tasks.push(tokio::spawn(async move {
                app.post(&format!("/v1/listings/{listing}/buy"))
                    .bearer(&token)
                    .json(&json!({"source": "wallet"}))
                    .send()
                    .await
                    .status
            }));
        }
        for _ in 0..2 {
            let (app, token, event, tier) = (app.clone(), collector.clone(), event.clone(), tier.clone());
            tasks.push(tokio::spawn(async move { reserve(&app, &token, &event, &tier, 1).await.status }));
        }
        let mut ok = 0;
        for task in tasks {
            let status = task.await.unwrap();
            assert!(status.is_success() || status.is_client_error(), "{status}");
            ok += usize::from(status.is_success());
        }
        assert_eq!(ok, 2, "round {round}: the limit is two tickets, however they come");
        let held = sqlx::query_scalar!(
            r#"SELECT count(*) AS "held!" FROM tickets WHERE holder_id = $1 AND state = 'valid'"#,
            collector_id
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(held, 2, "round {round}");
    }
}

/// The event's tickets, and their distinct codes.
pub(crate) async fn tickets_and_codes(app: &TestApp, event: &str) -> (i64, i64) {
    let event_id: Uuid = event.parse().unwrap();
    let row = sqlx::query!(
        r#"SELECT count(DISTINCT k.id) AS "tickets!", count(DISTINCT c.code) AS "codes!"
           FROM tickets k JOIN ticket_codes c ON c.ticket_id = k.id WHERE k.event_id = $1"#,
        event_id
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    (row.tickets, row.codes)
}

/// An order of `quantity` tickets paid at once from the wallet.
pub(crate) fn buy_now(
    app: &TestApp,
    token: &str,
    event: &str,
    tier: &str,
    quantity: i32,
) -> impl Future<Output = testkit::TestResponse> {
    let mut body = order_body(tier, quantity);
    body["pay"] = json!("wallet");
    app.post(&format!("/v1/events/{event}/orders")).bearer(token).json(&body).send()
}

/// Once a purchase finds a tier sold out, the node answers `sold_out` from memory for a second to
/// orders asking for more than was left, even if tickets came back meanwhile (which proves the
/// answer did not come from the database); a request with an `Idempotency-Key` is answered from the
/// database; a second later the tickets are on sale again.
#[tokio::test]
async fn a_sold_out_tier_is_answered_from_memory_for_a_second() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "memory_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 2, "price": 1000})).await;
    let fans = buyers(&app, "memory", 3).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 5000).await;
    }
    let held = reserve(&app, &fans[0].0, &event, &tier, 2).await;
    held.assert_status(StatusCode::CREATED);
    // Both tickets held: the purchase finds the tier sold out, with none left.
    let refused = buy_now(&app, &fans[1].0, &event, &tier, 1).await.assert_problem(StatusCode::CONFLICT, "sold_out");
    assert!(refused["detail"].as_str().unwrap().contains("has 0 tickets left"), "{refused}");
    let order = held.value()["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/orders/{order}/cancel")).bearer(&fans[0].0).send().await.assert_status(StatusCode::OK);
    assert_eq!(tier_counts(&app, &tier).await, (2, 0, 0), "both tickets back on sale");

    // The same instant and 999 ms on: refused from memory, nothing written; who may not buy at all
    // (an unverified account paying from a wallet) is told that instead.
    buy_now(&app, &fans[1].0, &event, &tier, 1).await.assert_problem(StatusCode::CONFLICT, "sold_out");
    crate::support::register(&app, "memory_unverified").await;
    let unverified = crate::support::login(&app, "memory_unverified", crate::support::PASSWORD).await.value();
    let unverified = unverified["access_token"].as_str().unwrap();
    buy_now(&app, unverified, &event, &tier, 1).await.assert_problem(StatusCode::FORBIDDEN, "email_not_verified");
    app.clock.advance(chrono::Duration::milliseconds(999));
    buy_now(&app, &fans[2].0, &event, &tier, 2).await.assert_problem(StatusCode::CONFLICT, "sold_out");
    assert_eq!(tier_counts(&app, &tier).await, (2, 0, 0));
    assert_eq!(wallet(&app, fans[1].1).await, 5000);
    // With an Idempotency-Key the database answers, and it has the tickets.
    let mut body = order_body(&tier, 1);
    body["pay"] = json!("wallet");
    let keyed = app
        .post(&format!("/v1/events/{event}/orders"))
        .bearer(&fans[1].0)
        .header("Idempotency-Key", "memory-1")
        .json(&body)
        .send()
        .await;
    keyed.assert_status(StatusCode::CREATED);
    // A second after the tier was found sold out, the memory has let it go.
    app.clock.advance(chrono::Duration::milliseconds(1));
    buy_now(&app, &fans[2].0, &event, &tier, 1).await.assert_status(StatusCode::CREATED);
    assert_eq!(tier_counts(&app, &tier).await, (2, 2, 0));
}

/// An order that waited for a connection while another found its tier sold out is refused from
/// memory once it has one, before any statement: in a sold-out on-sale, the crowd already queued for
/// the pool is answered without a transaction each, however long it queued. Here the service has one connection; the
/// second buyer's purchase could not run (the test holds that buyer's lock in the database), so
/// it is answered only if it is refused before reaching the database.
#[tokio::test]
async fn orders_queued_for_a_connection_are_refused_from_memory_once_they_have_it() {
    let app = Arc::new(
        TestApp::with_pool_size(1, |ctx| backline::app(ctx, platform::http::EdgeLimits::default(), None)).await,
    );
    let (organizer, _, _) = signed_in(&app, "queued_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 2, "price": 1000})).await;
    let fans = buyers(&app, "queued", 3).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 5000).await;
    }
    reserve(&app, &fans[0].0, &event, &tier, 2).await.assert_status(StatusCode::CREATED);
    let mut blocker = app.db.pool.acquire().await.unwrap();
    let lock = crate::group_purchase::hold_buyer(&mut blocker, &event, fans[2].1).await;
    let only = app.ctx.db.acquire().await.unwrap();
    let send = |fan: usize| {
        let (app, token, event, tier) = (app.clone(), fans[fan].0.clone(), event.clone(), tier.clone());
        tokio::spawn(async move { buy_now(&app, &token, &event, &tier, 1).await.value() })
    };
    let first = send(1);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = send(2);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // They waited two seconds: the memory's second counts from when the first found the tier sold
    // out, not from when its request arrived.
    app.clock.advance(chrono::Duration::seconds(2));
    drop(only);
    assert_eq!(first.await.unwrap()["code"], "sold_out", "the first finds the tier sold out in the database");
    let second = tokio::time::timeout(std::time::Duration::from_secs(20), second)
        .await
        .expect("the second is answered without reaching the database")
        .unwrap();
    assert_eq!(second["code"], "sold_out");
    assert!(second["detail"].as_str().unwrap().contains("has 0 tickets left"), "{second}");
    crate::group_purchase::give_back(&mut blocker, &lock).await;
}

/// Buying at once from the wallet: one request, the paid order with its tickets; money short or a
/// sold-out tier write nothing; the issues join the chain after it, in order, and before anything
/// else that happens to those tickets.
#[tokio::test]
async fn buying_at_once_from_the_wallet_pays_issues_and_chains_later_in_order() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "instant_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 3, "price": 2500})).await;
    let mut fans = buyers(&app, "instant", 3).await;
    let (poor, poor_id) = fans.pop().unwrap();
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 5000).await;
    }
    funded(&app.db.pool, poor_id, 2499).await;

    // Short of money by a cent: nothing written, the tickets still there.
    buy_now(&app, &poor, &event, &tier, 1).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    assert_eq!(tier_counts(&app, &tier).await, (3, 0, 0));
    // Only `wallet` pays at once.
    let res = app
        .post(&format!("/v1/events/{event}/orders"))
        .bearer(&fans[0].0)
        .json(&json!({"items": [{"tier_id": tier, "quantity": 1}], "pay": "card"}))
        .send()
        .await;
    assert_eq!(res.value()["errors"][0]["field"], "pay");

    let res = buy_now(&app, &fans[0].0, &event, &tier, 2).await;
    res.assert_status(StatusCode::CREATED);
    let order = res.value();
    assert_eq!((order["state"].as_str(), order["amount"].as_i64()), (Some("paid"), Some(5000)));
    let tickets = order["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    // The answer is what the API reads back.
    let stored =
        app.get(&format!("/v1/orders/{}", order["id"].as_str().unwrap())).bearer(&fans[0].0).send().await.value();
    assert_eq!(stored["tickets"], order["tickets"]);
    assert_eq!(stored["items"], order["items"]);
    assert_eq!(wallet(&app, fans[0].1).await, 0);
    assert_eq!(escrow(&app, &event).await, 5000);
    // One left; two asked: sold out, nothing written.
    buy_now(&app, &fans[1].0, &event, &tier, 2).await.assert_problem(StatusCode::CONFLICT, "sold_out");
    assert_eq!(tier_counts(&app, &tier).await, (3, 2, 0));
    assert_eq!(wallet(&app, fans[1].1).await, 5000);

    // Not in the chain yet; a check-in of the second ticket brings both issues in first, in order.
    assert_eq!(chain_ok(&app, &event).await["records"], 0);
    let scan = app
        .post("/v1/checkin/scan")
        .bearer(&organizer)
        .json(&json!({"event_id": event, "code": tickets[1]["code"]}))
        .send()
        .await;
    assert_eq!(scan.value()["outcome"], "checked_in");
    let event_id: Uuid = event.parse().unwrap();
    let actions: Vec<(String, String)> = sqlx::query!(
        r#"SELECT action, ticket_id::text AS "ticket!" FROM ticket_chain WHERE event_id = $1 ORDER BY seq"#,
        event_id
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.action, r.ticket))
    .collect();
    let first = tickets[0]["id"].as_str().unwrap().to_owned();
    let second = tickets[1]["id"].as_str().unwrap().to_owned();
    let mut issued = [first.clone(), second.clone()];
    issued.sort(); // issued in the same instant: in id order
    assert_eq!(
        actions,
        vec![
            ("issue".to_owned(), issued[0].clone()),
            ("issue".to_owned(), issued[1].clone()),
            ("checkin".to_owned(), second.clone())
        ]
    );
    // The last ticket, whose catch-up is lost (as when a purchase commits while the event's catch-up
    // is finishing and finds it taken): the minute's sweep wakes one; its issue follows; the chain
    // verifies.
    buy_now(&app, &fans[1].0, &event, &tier, 1).await.assert_status(StatusCode::CREATED);
    sqlx::query!("DELETE FROM jobs WHERE kind = 'ticketing.chain.catch_up'").execute(&app.db.pool).await.unwrap();
    drain_jobs(&app).await;
    assert_eq!(chain_ok(&app, &event).await["records"], 3, "nothing woke the chain");
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert_eq!(ticketing::chain::service::sweep(&mut conn, app.clock_now()).await.unwrap(), 1);
    drop(conn);
    drain_jobs(&app).await;
    let verified = chain_ok(&app, &event).await;
    assert_eq!((verified["valid"].as_bool(), verified["records"].as_i64()), (Some(true), Some(4)));
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert_eq!(ticketing::chain::service::sweep(&mut conn, app.clock_now()).await.unwrap(), 0, "none behind");
    audit(&app.db.pool).await;
}

/// An instant purchase keyed by an `Idempotency-Key` buys once however often, and however many times at
/// once, it is sent (its stored answer is written before the sold count goes out with the commit);
/// one refused as sold out stores nothing, so the same key buys once tickets are there again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instant_purchase_with_a_key_buys_once_and_a_refused_one_can_be_retried() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "keyed_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 2, "price": 1000})).await;
    let fans = buyers(&app, "keyed", 1).await;
    let (fan, fan_id) = fans[0].clone();
    funded(&app.db.pool, fan_id, 10_000).await;
    let send = |key: &'static str| {
        let (app, fan, event, tier) = (app.clone(), fan.clone(), event.clone(), tier.clone());
        async move {
            let mut body = order_body(&tier, 1);
            body["pay"] = json!("wallet");
            app.post(&format!("/v1/events/{event}/orders"))
                .bearer(&fan)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
        }
    };
    let first = send("instant-1").await;
    first.assert_status(StatusCode::CREATED);
    let again = send("instant-1").await;
    assert_eq!((again.status, again.header("idempotent-replayed")), (StatusCode::CREATED, Some("true")));
    assert_eq!(again.value()["id"], first.value()["id"]);
    // Eight at once with a new key: they queue on the key; one purchase, its order answered to all.
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(send("instant-2"))).collect();
    let mut orders = std::collections::BTreeSet::new();
    let mut replays = 0;
    for task in tasks {
        let res = task.await.unwrap();
        res.assert_status(StatusCode::CREATED);
        replays += usize::from(res.header("idempotent-replayed") == Some("true"));
        orders.insert(res.value()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!((orders.len(), replays), (1, 7), "{orders:?}");
    assert_eq!(tier_counts(&app, &tier).await, (2, 2, 0));
    assert_eq!(wallet(&app, fan_id).await, 8_000, "charged once per key");
    // Sold out: refused, nothing stored; once the organizer adds a ticket, the same key buys it.
    send("instant-3").await.assert_problem(StatusCode::CONFLICT, "sold_out");
    app.patch(&format!("/v1/events/{event}/tiers/{tier}"))
        .bearer(&organizer)
        .json(&json!({"quantity": 3}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let retried = send("instant-3").await;
    assert_eq!((retried.status, retried.header("idempotent-replayed")), (StatusCode::CREATED, Some("false")));
    assert_eq!(tier_counts(&app, &tier).await, (3, 3, 0));
    assert_eq!(wallet(&app, fan_id).await, 7_000);
    audit(&app.db.pool).await;
}

/// The write a purchase sends with its COMMIT (the tiers' sold counts): when it holds, it commits with
/// everything the transaction wrote before it, up to exactly the tier's quantity; when it breaks its
/// constraint (one ticket more), the refusal it names is the answer and nothing of the transaction
/// stays; either way the connection is left outside any transaction (what it writes next is seen at
/// once by others). Each transaction's earlier write is an audit entry.
#[tokio::test]
async fn a_hot_write_commits_with_its_transaction_or_refuses_all_of_it() {
    use platform::audit::{Actor, Entry};
    use platform::db::{HotWrite, Literal, commit_with};
    use sqlx::Connection as _;
    use ticketing::model::EventId;
    use ticketing::orders::repo::{NO_OVERSELL, sold_counts};
    let app = app().await;
    let pool = &app.db.pool;
    let (organizer, _, _) = signed_in(&app, "hot_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 3})).await;
    let (event, tier): (Uuid, Uuid) = (event.parse().unwrap(), tier.parse().unwrap());
    let sell = |n: i32| {
        sold_counts(EventId(event), &[tier], &[n])
            .unwrap()
            .refused_by(NO_OVERSELL, platform::ApiError::new(ticketing::error::TicketingCode::SoldOut, "full"))
    };
    let note = async |conn: &mut sqlx::PgConnection, action: &str| {
        Entry::new(Actor { user_id: None, api_key_id: None }, action, "probe", tier)
            .record(conn, app.clock_now())
            .await
            .unwrap();
    };
    let state = async || -> (i32, Vec<String>) {
        let sold =
            sqlx::query_scalar!("SELECT sold FROM ticket_tiers WHERE id = $1", tier).fetch_one(pool).await.unwrap();
        let notes = sqlx::query_scalar!("SELECT action FROM audit_log WHERE resource_type = 'probe' ORDER BY action")
            .fetch_all(pool)
            .await
            .unwrap();
        (sold, notes)
    };
    let mut conn = pool.acquire().await.unwrap();
    for (n, action, holds) in [(3, "first", true), (1, "second", false), (0, "third", true)] {
        let mut tx = conn.begin().await.unwrap();
        note(&mut tx, action).await;
        let done = commit_with(tx, sell(n)).await;
        if holds {
            done.unwrap();
        } else {
            assert_eq!(done.unwrap_err().code(), "sold_out", "the named refusal is the answer");
        }
        // Out of any transaction: a row written now is seen from another connection at once.
        note(&mut conn, &format!("{action} after")).await;
    }
    assert_eq!(
        state().await,
        (3, ["first", "first after", "second after", "third", "third after"].map(String::from).to_vec()),
        "the refused transaction left nothing; the others committed whole"
    );
    // A write that fails otherwise (no refusal named for it) is an error of its own, and leaves nothing.
    let mut tx = conn.begin().await.unwrap();
    note(&mut tx, "fourth").await;
    let broken = HotWrite::new(
        "UPDATE ticket_tiers SET sold = sold / $2 WHERE id = $1",
        &[Literal::Uuid(tier), Literal::Int(0)],
    );
    assert_eq!(commit_with(tx, broken).await.unwrap_err().status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(state().await.1.len(), 5);
}

/// Many buyers paying at once from their wallets: exactly the tickets there are, each once, every cent
/// in escrow, and the chain complete after it, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_instant_buyers_never_oversell_and_the_chain_catches_up() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "rush_organizer").await;
    let fans = buyers(&app, "rush", 40).await;
    for (_, id) in &fans {
        funded(&app.db.pool, *id, 100_000).await;
    }
    for round in 0..3 {
        let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 25, "price": 1000, "max_per_order": 2})).await;
        let mut tasks = Vec::new();
        for (i, (token, _)) in fans.iter().enumerate() {
            let (app, token, event, tier) = (app.clone(), token.clone(), event.clone(), tier.clone());
            let n = 1 + i32::try_from(i % 2).unwrap();
            tasks.push(tokio::spawn(async move {
                let res = buy_now(&app, &token, &event, &tier, n).await;
                (res.status, res.value(), n)
            }));
        }
        let (mut sold, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                (StatusCode::CREATED, order, n) => {
                    assert_eq!(order["tickets"].as_array().unwrap().len(), usize::try_from(n).unwrap());
                    sold += n;
                }
                (StatusCode::CONFLICT, problem, _) if problem["code"] == "sold_out" => refused += 1,
                (status, body, _) => panic!("round {round}: unexpected {status} {body}"),
            }
        }
        let (_, tier_sold, held) = tier_counts(&app, &tier).await;
        assert_eq!((tier_sold, held), (sold, 0), "round {round}");
        assert!(sold >= 24 && refused > 0, "round {round}: demand exceeds supply; {sold} sold");
        assert_eq!(escrow(&app, &event).await, i64::from(sold) * 1000, "round {round}");
        drain_jobs(&app).await;
        let verified = chain_ok(&app, &event).await;
        assert_eq!((verified["valid"].as_bool(), verified["records"].as_i64()), (Some(true), Some(i64::from(sold))));
        assert_eq!(tickets_and_codes(&app, &event).await, (i64::from(sold), i64::from(sold)), "round {round}");
    }
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn an_order_takes_between_the_tiers_minimum_and_maximum_inclusive() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "bounds_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"min_per_order": 2, "max_per_order": 4})).await;
    let (fan, _, _) = signed_in(&app, "bounds_fan").await;
    for quantity in [1, 5] {
        let res = reserve(&app, &fan, &event, &tier, quantity).await;
        res.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(res.value()["errors"][0]["code"], "out_of_range", "{quantity} tickets");
    }
    for quantity in [2, 4] {
        let order = reserve(&app, &fan, &event, &tier, quantity).await;
        order.assert_status(StatusCode::CREATED);
        assert_eq!(order.value()["amount"], 2500 * quantity, "{quantity} tickets");
    }
    assert_eq!(tier_counts(&app, &tier).await.2, 6, "only the orders within bounds hold tickets");
}

#[tokio::test]
async fn an_unpaid_hold_expires_by_timer_and_its_tickets_return() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "hold_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 2})).await;
    let (fan, _, _) = signed_in(&app, "slow_fan").await;
    let (other, _, _) = signed_in(&app, "quick_fan").await;
    let order = reserve(&app, &fan, &event, &tier, 2).await.value();
    assert_eq!(order["state"], "pending");
    assert_eq!(order["amount"], 5000);
    let expires: DateTime<Utc> = order["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - app.clock_now(), Duration::minutes(15));
    reserve(&app, &other, &event, &tier, 1).await.assert_problem(StatusCode::CONFLICT, "sold_out");

    // One second before the end: still held.
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(tier_counts(&app, &tier).await, (2, 0, 2));
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(tier_counts(&app, &tier).await, (2, 0, 0));
    // Access tokens last 15 minutes too: sign in again.
    let (fan, other) = (token_of(&app, "slow_fan").await, token_of(&app, "quick_fan").await);
    let id = order["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/orders/{id}")).bearer(&fan).send().await.value()["state"], "expired");
    pay_card(&app, &fan, id).await.assert_problem(StatusCode::CONFLICT, "order_expired");
    // Back on sale.
    reserve(&app, &other, &event, &tier, 1).await.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn paying_issues_tickets_into_escrow_and_failures_lose_nothing() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "pay_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let (fan, fan_id, _) = signed_in(&app, "paying_fan").await;
    let fan_id: Uuid = fan_id.parse().unwrap();
    let event_owner = Owner::Event(Uuid::parse_str(&event).unwrap());

    let order = reserve(&app, &fan, &event, &tier, 2).await.value();
    let id = order["id"].as_str().unwrap().to_owned();
    // Declined: nothing moves, the order stays pending.
    let declined = app
        .post(&format!("/v1/orders/{id}/pay"))
        .bearer(&fan)
        .json(&json!({"card_number": "4000000000000002"}))
        .send()
        .await;
    declined.assert_problem(StatusCode::PAYMENT_REQUIRED, "payment_failed");
    assert_eq!(app.get(&format!("/v1/orders/{id}")).bearer(&fan).send().await.value()["state"], "pending");
    // The wallet cannot cover it.
    app.post(&format!("/v1/orders/{id}/pay"))
        .bearer(&fan)
        .json(&json!({"source": "wallet"}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    // A stranger cannot pay it or see it.
    let (stranger, _, _) = signed_in(&app, "order_stranger").await;
    pay_card(&app, &stranger, &id).await.assert_status(StatusCode::NOT_FOUND);

    // Paid, with a retry of the same key answered once.
    let pay = || {
        app.post(&format!("/v1/orders/{id}/pay"))
            .bearer(&fan)
            .header("idempotency-key", "pay-order-1")
            .json(&json!({"card_number": "4242424242424242"}))
            .send()
    };
    let paid = pay().await;
    paid.assert_status(StatusCode::CREATED);
    let paid = paid.value();
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid["tickets"].as_array().unwrap().len(), 2);
    let replay = pay().await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    pay_card(&app, &fan, &id).await.assert_problem(StatusCode::CONFLICT, "order_not_pending");
    assert_eq!(balance(&app.db.pool, event_owner, kinds::ESCROW).await, 5000);
    assert_eq!(
        balance(&app.db.pool, Owner::User(fan_id), kinds::AVAILABLE).await,
        0,
        "the card paid, the wallet passed it on"
    );

    // From the wallet.
    funded(&app.db.pool, fan_id, 2500).await;
    let second = reserve(&app, &fan, &event, &tier, 1).await.value();
    let wallet_paid = app
        .post(&format!("/v1/orders/{}/pay", second["id"].as_str().unwrap()))
        .bearer(&fan)
        .json(&json!({"source": "wallet"}))
        .send()
        .await;
    wallet_paid.assert_status(StatusCode::CREATED);
    assert_eq!(balance(&app.db.pool, event_owner, kinds::ESCROW).await, 7500);

    // Free tickets are issued at once.
    let (free_event, free_tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let free = reserve(&app, &fan, &free_event, &free_tier, 2).await.value();
    assert_eq!(free["state"], "paid");
    assert_eq!(free["tickets"].as_array().unwrap().len(), 2);

    let mine = app.get("/v1/me/tickets").bearer(&fan).send().await.value();
    let all: Vec<String> =
        mine["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 5);
    assert!(mine.get("next_cursor").is_none());
    let mut newest_first = all.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, newest_first, "newest first");
    // Two at a time: every ticket once, in the same order.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/v1/me/tickets?limit=2&cursor={cursor}")).bearer(&fan).send().await.value();
        paged.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert_eq!(app.get("/v1/me/tickets?limit=5").bearer(&fan).send().await.value().get("next_cursor"), None);
    assert!(app.get("/v1/me/tickets?limit=4").bearer(&fan).send().await.value()["next_cursor"].is_string());
    for limit in [0, 201] {
        app.get(&format!("/v1/me/tickets?limit={limit}"))
            .bearer(&fan)
            .send()
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert_eq!(
        app.get("/v1/me/tickets?limit=200").bearer(&fan).send().await.value()["items"].as_array().unwrap().len(),
        5
    );
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn ticket_payloads_verify_offline_with_an_independent_ed25519_library() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "sign_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (fan, _, _) = signed_in(&app, "signed_fan").await;
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let ticket = &order["tickets"][0];
    let payload = ticket["qr_payload"].as_str().unwrap();
    let key = app.get(&format!("/v1/events/{event}/checkin-key")).send().await.value();
    assert_eq!(key["algorithm"], "Ed25519");

    let public = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(key["public_key"].as_str().unwrap()).unwrap();
    let (message, signature) = payload.rsplit_once('.').unwrap();
    assert_eq!(
        message,
        format!("BL1.{}.{}", Uuid::parse_str(&event).unwrap().simple(), ticket["code"].as_str().unwrap())
    );
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).unwrap();
    let key = ed25519_compact::PublicKey::from_slice(&public).unwrap();
    let signature = ed25519_compact::Signature::from_slice(&signature).unwrap();
    key.verify(message, &signature).expect("the payload verifies with the published key");
    assert!(
        key.verify(message.replace(ticket["code"].as_str().unwrap(), "AAAAAAAAAAAAAAAAAAAAAAAA"), &signature).is_err()
    );

    // The QR image carries exactly the payload, read back by an independent QR reader (rqrr).
    let id = ticket["id"].as_str().unwrap();
    let png = app.get(&format!("/v1/tickets/{id}/qr.png?scale=3")).bearer(&fan).send().await;
    png.assert_status(StatusCode::OK);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(png.header("cache-control"), Some("private, no-store"));
    let decoder = ::png::Decoder::new(&png.body[..]);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let width = info.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, info.height as usize, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids[0].decode().unwrap().1, payload);
    let svg = app.get(&format!("/v1/tickets/{id}/qr.svg")).bearer(&fan).send().await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text().contains("<svg"));
    let (stranger, _, _) = signed_in(&app, "qr_stranger").await;
    app.get(&format!("/v1/tickets/{id}/qr.png")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn check_in_is_atomic_and_refuses_with_reasons() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "door_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (other_event, other_tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (fan, _, _) = signed_in(&app, "door_fan").await;
    let (door, door_id, _) = signed_in(&app, "door_staff").await;
    let tickets = reserve(&app, &fan, &event, &tier, 3).await.value()["tickets"].clone();
    let foreign = reserve(&app, &fan, &other_event, &other_tier, 1).await.value()["tickets"][0].clone();
    let code = |i: usize| tickets[i]["code"].as_str().unwrap().to_owned();
    let scan = |token: &str, code: &str| {
        app.post("/v1/checkin/scan").bearer(token).json(&json!({"event_id": event, "code": code})).send()
    };

    // Not staff yet: the event is not even found.
    scan(&door, &code(0)).await.assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/v1/events/{event}/staff"))
        .bearer(&organizer)
        .json(&json!({"user_id": door_id}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);

    // Ten scanners read the same code at once: exactly one lets the holder in.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, door, event, code) = (app.clone(), door.clone(), event.clone(), code(0));
        tasks.push(tokio::spawn(async move {
            app.post("/v1/checkin/scan")
                .bearer(&door)
                .json(&json!({"event_id": event, "code": code}))
                .send()
                .await
                .value()
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|a| a["accepted"] == true).count(), 1);
    let first = answers.iter().find(|a| a["accepted"] == true).unwrap()["checked_in_at"].clone();
    for again in answers.iter().filter(|a| a["accepted"] == false) {
        assert_eq!(again["outcome"], "already_checked_in");
        assert_eq!(again["checked_in_at"], first, "the time of the first scan");
    }

    // The QR payload works too; other events' codes, unknown codes and forgeries are refused.
    let by_payload = scan(&door, tickets[1]["qr_payload"].as_str().unwrap()).await.value();
    assert_eq!(by_payload["outcome"], "checked_in");
    assert_eq!(scan(&door, foreign["code"].as_str().unwrap()).await.value()["outcome"], "foreign_event");
    assert_eq!(scan(&door, foreign["qr_payload"].as_str().unwrap()).await.value()["outcome"], "foreign_event");
    assert_eq!(scan(&door, "AAAAAAAAAAAAAAAAAAAAAAAA").await.value()["outcome"], "unknown_code");
    let forged = tickets[2]["qr_payload"].as_str().unwrap().replace(&code(2), &code(1));
    assert_eq!(scan(&door, &forged).await.value()["outcome"], "invalid_signature");

    // An offline scanner uploads: the first scan of each ticket wins, duplicates resolve to it.
    let t0 = app.clock_now() - Duration::minutes(30);
    let batch = app
        .post(&format!("/v1/events/{event}/checkin/batch"))
        .bearer(&door)
        .json(&json!({"scans": [
            {"code": code(2), "scanned_at": t0 + Duration::minutes(5)},
            {"code": code(2), "scanned_at": t0},
            {"code": code(0), "scanned_at": t0},
        ]}))
        .send()
        .await
        .value();
    let results = batch["results"].as_array().unwrap();
    assert_eq!(results[1]["outcome"], "checked_in", "the earliest scan of ticket 3");
    assert_eq!(results[0]["outcome"], "already_checked_in");
    let recorded: DateTime<Utc> = results[0]["checked_in_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(recorded, t0);
    // Ticket 1 was checked in online later than t0: the offline scan was first, its time is kept.
    assert_eq!(results[2]["outcome"], "already_checked_in");
    assert_eq!(results[2]["checked_in_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), t0);

    let attendance = app.get(&format!("/v1/events/{event}/attendance")).bearer(&door).send().await.value();
    assert_eq!(attendance["sold"], 3);
    assert_eq!(attendance["checked_in"], 3);
    app.get(&format!("/v1/events/{event}/attendance")).bearer(&fan).send().await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paying_an_order_of_an_event_no_longer_on_sale_is_refused_before_any_charge() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "postponing_organizer").await;
    let (fan, fan_id, _) = signed_in(&app, "postponed_fan").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let order = reserve(&app, &fan, &event, &tier, 2).await.value();
    let id = order["id"].as_str().unwrap().to_owned();
    set_status(&app, &organizer, &event, "postponed").await.assert_status(StatusCode::OK);
    pay_card(&app, &fan, &id).await.assert_problem(StatusCode::CONFLICT, "not_on_sale");
    let charges: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_intents WHERE user_id = $1::uuid")
        .bind(&fan_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(charges, 0, "no card was charged");
    assert_eq!(tier_counts(&app, &tier).await, (100, 0, 0), "the held tickets went back");
    // On sale again, the order stays cancelled: a new one is needed.
    set_status(&app, &organizer, &event, "published").await.assert_status(StatusCode::OK);
    pay_card(&app, &fan, &id).await.assert_problem(StatusCode::CONFLICT, "order_not_pending");
    let fresh = reserve(&app, &fan, &event, &tier, 2).await.value();
    pay_card(&app, &fan, fresh["id"].as_str().unwrap()).await.assert_status(StatusCode::CREATED);
    // A paid order stays paid whatever the event does next.
    set_status(&app, &organizer, &event, "postponed").await.assert_status(StatusCode::OK);
    pay_card(&app, &fan, fresh["id"].as_str().unwrap()).await.assert_problem(StatusCode::CONFLICT, "order_not_pending");
}

/// Reserving and refunding answer a retry with their first answer and do their work once.
#[tokio::test]
async fn reservations_and_refunds_replay_their_first_answer() {
    use crate::support::assert_replayed;
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "replay_organizer").await;
    let (fan, fan_id, _) = signed_in(&app, "replay_fan").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let reserve = || {
        app.post(&format!("/v1/events/{event}/orders"))
            .bearer(&fan)
            .header("idempotency-key", "replay-reserve")
            .json(&json!({"items": [{"tier_id": tier, "quantity": 2}]}))
            .send()
    };
    let order = assert_replayed(reserve, StatusCode::CREATED).await;
    assert_eq!(tier_counts(&app, &tier).await, (100, 0, 2), "held once");
    let paid = pay_card(&app, &fan, order["id"].as_str().unwrap()).await.value();
    let ticket = paid["tickets"][0]["id"].as_str().unwrap().to_owned();
    let refund = || {
        app.post(&format!("/v1/tickets/{ticket}/refund"))
            .bearer(&organizer)
            .header("idempotency-key", "replay-refund")
            .json(&json!({"amount": 1000}))
            .send()
    };
    assert_replayed(refund, StatusCode::CREATED).await;
    assert_eq!(wallet(&app, fan_id.parse().unwrap()).await, 1000, "refunded once");
}

/// A small deterministic shuffle (xorshift), so that every scanner reads the codes in its own order.
fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap());
    }
    out
}

/// The answer of a door client that retries what the server asks it to retry (`503`), as scanners do.
async fn answered<F: Future<Output = testkit::TestResponse>>(send: impl Fn() -> F) -> Value {
    for _ in 0..10 {
        let res = send().await;
        if res.status != StatusCode::SERVICE_UNAVAILABLE {
            res.assert_status(StatusCode::OK);
            return res.value();
        }
    }
    panic!("still refused after 10 tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_scanners_and_uploads_admit_each_ticket_exactly_once() {
    const TICKETS: usize = 24;
    const SCANNERS: usize = 10;
    const UPLOADERS: usize = 3;
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "rush_organizer").await;
    let (fan, _, _) = signed_in(&app, "rush_fan").await;
    for round in 0..4u64 {
        let (event, tier) = on_sale(&app, &organizer, json!({"price": 0, "max_per_order": TICKETS})).await;
        let order = reserve(&app, &fan, &event, &tier, i32::try_from(TICKETS).unwrap()).await.value();
        let codes: Vec<String> =
            order["tickets"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), TICKETS);
        // Offline scans were made before the doors' online scans; each uploader has its own times.
        let t0 = app.clock_now();
        let offline = |uploader: usize, i: usize| {
            t0 - Duration::seconds(
                i64::try_from(1 + (uploader * 37 + i * 11 + usize::try_from(round).unwrap()) % 600).unwrap(),
            )
        };

        // The clock moves while the doors scan, so that concurrent online scans carry different times.
        let ticking = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let ticker = {
            let (app, ticking) = (app.clone(), ticking.clone());
            tokio::spawn(async move {
                // About as fast as real time: tokens stay valid however long the round takes.
                while ticking.load(std::sync::atomic::Ordering::Relaxed) {
                    app.clock.advance(Duration::milliseconds(1));
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            })
        };
        let mut online = Vec::new();
        for scanner in 0..SCANNERS {
            let (app, organizer, event) = (app.clone(), organizer.clone(), event.clone());
            let order = shuffled(&codes, round * 100 + scanner as u64 + 1);
            online.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for code in order {
                    let scan = || {
                        app.post("/v1/checkin/scan")
                            .bearer(&organizer)
                            .json(&json!({"event_id": event, "code": code}))
                            .send()
                    };
                    answers.push(answered(scan).await);
                }
                answers
            }));
        }
        let mut uploads = Vec::new();
        for uploader in 0..UPLOADERS {
            let (app, organizer, event) = (app.clone(), organizer.clone(), event.clone());
            let scans: Vec<Value> = shuffled(&(0..TICKETS).collect::<Vec<_>>(), round * 1000 + uploader as u64 + 7)
                .into_iter()
                .map(|i| json!({"code": codes[i], "scanned_at": offline(uploader, i)}))
                .collect();
            uploads.push(tokio::spawn(async move {
                let upload = || {
                    app.post(&format!("/v1/events/{event}/checkin/batch"))
                        .bearer(&organizer)
                        .json(&json!({"scans": scans}))
                        .send()
                };
                answered(upload).await["results"].as_array().unwrap().clone()
            }));
        }
        let mut answers = Vec::new();
        for task in online.into_iter().chain(uploads) {
            answers.extend(task.await.unwrap());
        }
        ticking.store(false, std::sync::atomic::Ordering::Relaxed);
        ticker.await.unwrap();

        assert_eq!(answers.len(), TICKETS * (SCANNERS + UPLOADERS));
        for (i, code) in codes.iter().enumerate() {
            let mine: Vec<&Value> = answers.iter().filter(|a| a["code"] == code.as_str()).collect();
            let admitted = mine.iter().filter(|a| a["outcome"] == "checked_in").count();
            assert_eq!(admitted, 1, "round {round}: ticket {i} admitted {admitted} times");
            assert_eq!(mine.iter().filter(|a| a["accepted"] == true).count(), 1);
            assert!(mine.iter().all(|a| a["outcome"] == "checked_in" || a["outcome"] == "already_checked_in"));
            // The earliest scan of all is the recorded time.
            let earliest = (0..UPLOADERS).map(|u| offline(u, i)).min().unwrap();
            let recorded: DateTime<Utc> = sqlx::query_scalar(
                "SELECT k.checked_in_at FROM tickets k JOIN ticket_codes c ON c.ticket_id = k.id WHERE c.code = $1",
            )
            .bind(code)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            assert_eq!(recorded, earliest, "round {round}: ticket {i}");
        }
        let records: i64 =
            sqlx::query_scalar("SELECT count(*) FROM ticket_chain WHERE event_id = $1 AND action = 'checkin'")
                .bind(Uuid::parse_str(&event).unwrap())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(records, i64::try_from(TICKETS).unwrap(), "round {round}: one chain record per admission");
        assert_eq!(chain_ok(&app, &event).await["valid"], true);
        let attendance = app.get(&format!("/v1/events/{event}/attendance")).bearer(&organizer).send().await.value();
        assert_eq!(attendance["checked_in"], TICKETS);
    }
}

pub(crate) async fn wallet(app: &TestApp, user: Uuid) -> i64 {
    balance(&app.db.pool, Owner::User(user), kinds::AVAILABLE).await
}

pub(crate) async fn escrow(app: &TestApp, event: &str) -> i64 {
    balance(&app.db.pool, Owner::Event(Uuid::parse_str(event).unwrap()), kinds::ESCROW).await
}

/// Buys `n` tickets by card; answers the tickets.
async fn bought(app: &TestApp, token: &str, event: &str, tier: &str, n: i32) -> Vec<Value> {
    let order = reserve(app, token, event, tier, n).await.value();
    let id = order["id"].as_str().unwrap();
    let paid = if order["state"] == "paid" { order.clone() } else { pay_card(app, token, id).await.value() };
    paid["tickets"].as_array().unwrap().clone()
}

pub(crate) async fn chain_ok(app: &TestApp, event: &str) -> Value {
    app.get(&format!("/v1/events/{event}/ticket-chain/verify")).send().await.value()
}

#[tokio::test]
async fn refunds_move_money_back_and_cancellation_refunds_everyone() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "refund_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let (fan, fan_id, _) = signed_in(&app, "refund_fan").await;
    let fan_id: Uuid = fan_id.parse().unwrap();
    let tickets = bought(&app, &fan, &event, &tier, 3).await;
    assert_eq!(escrow(&app, &event).await, 7500);
    let refund = |token: &str, ticket: &Value, body: Value, key: &str| {
        app.post(&format!("/v1/tickets/{}/refund", ticket["id"].as_str().unwrap()))
            .bearer(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };

    // Only the organizer refunds; the holder cannot refund themselves.
    refund(&fan, &tickets[0], json!({}), "r0").await.assert_status(StatusCode::NOT_FOUND);
    // Partial, then the rest (at its boundary), then nothing is left.
    let part = refund(&organizer, &tickets[0], json!({"amount": 1000, "reason": "sound problems"}), "r1").await;
    part.assert_status(StatusCode::CREATED);
    assert_eq!(part.value()["state"], "valid");
    refund(&organizer, &tickets[0], json!({"amount": 1501}), "r2")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let rest = refund(&organizer, &tickets[0], json!({"amount": 1500}), "r3").await.value();
    assert_eq!((rest["state"].as_str(), rest["refunded_amount"].as_i64()), (Some("refunded"), Some(2500)));
    refund(&organizer, &tickets[0], json!({}), "r4").await.assert_problem(StatusCode::CONFLICT, "already_refunded");
    assert_eq!(wallet(&app, fan_id).await, 2500);
    assert_eq!(escrow(&app, &event).await, 5000);
    // A refunded ticket cannot be checked in.
    let scan = app
        .post("/v1/checkin/scan")
        .bearer(&organizer)
        .json(&json!({"event_id": event, "code": tickets[0]["code"]}))
        .send()
        .await
        .value();
    assert_eq!((scan["accepted"].as_bool(), scan["outcome"].as_str()), (Some(false), Some("refunded")));

    // Cancelling refunds every remaining ticket by job, and tells the holders.
    let cancelled = app
        .post(&format!("/v1/events/{event}/status"))
        .bearer(&organizer)
        .json(&json!({"status": "cancelled", "reason": "the venue flooded"}))
        .send()
        .await;
    cancelled.assert_status(StatusCode::OK);
    drain_jobs(&app).await;
    assert_eq!(escrow(&app, &event).await, 0);
    assert_eq!(wallet(&app, fan_id).await, 7500);
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM tickets WHERE event_id = $1")
        .bind(Uuid::parse_str(&event).unwrap())
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert!(states.iter().all(|s| s == "refunded"), "{states:?}");
    let told: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'event.cancelled'")
            .bind(fan_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(told, 1);
    assert_eq!(chain_ok(&app, &event).await["valid"], true);

    // A tier that is not refundable refuses while the event is on.
    let (event2, tier2) = on_sale(&app, &organizer, json!({"refundable": false})).await;
    let ticket = bought(&app, &fan, &event2, &tier2, 1).await.remove(0);
    refund(&organizer, &ticket, json!({}), "r5").await.assert_problem(StatusCode::CONFLICT, "not_refundable");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn a_transfer_needs_both_sides_and_reissues_the_code() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "transfer_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (locked_event, locked_tier) = on_sale(&app, &organizer, json!({"price": 0, "transferable": false})).await;
    let (alice, _, _) = signed_in(&app, "alice_fan").await;
    let (bob, bob_id, _) = signed_in(&app, "bob_fan").await;
    let (eve, _, _) = signed_in(&app, "eve_fan").await;
    let ticket = bought(&app, &alice, &event, &tier, 1).await.remove(0);
    let id = ticket["id"].as_str().unwrap();
    let old_code = ticket["code"].as_str().unwrap().to_owned();
    let offer = |token: &str, ticket: &str, body: Value| {
        app.post(&format!("/v1/tickets/{ticket}/transfers")).bearer(token).json(&body).send()
    };

    let locked = bought(&app, &alice, &locked_event, &locked_tier, 1).await.remove(0);
    offer(&alice, locked["id"].as_str().unwrap(), json!({"to_email": "bob_fan@example.com"}))
        .await
        .assert_problem(StatusCode::CONFLICT, "not_transferable");
    offer(&bob, id, json!({"to_email": "eve_fan@example.com"})).await.assert_status(StatusCode::NOT_FOUND);
    offer(&alice, id, json!({"to_email": "alice_fan@example.com"}))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    let transfer = offer(&alice, id, json!({"to_email": "Bob_Fan@example.com"})).await;
    transfer.assert_status(StatusCode::CREATED);
    let transfer = transfer.value()["id"].as_str().unwrap().to_owned();
    offer(&alice, id, json!({"to_user_id": bob_id})).await.assert_problem(StatusCode::CONFLICT, "ticket_busy");
    // Only the recipient accepts; the ticket is still Alice's until then.
    app.post(&format!("/v1/transfers/{transfer}/accept"))
        .bearer(&eve)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/tickets/{id}")).bearer(&alice).send().await.value()["code"], old_code.as_str());
    let incoming = app.get("/v1/me/transfers").bearer(&bob).send().await.value();
    assert_eq!(incoming["incoming"][0]["id"], transfer.as_str());
    let accepted = app.post(&format!("/v1/transfers/{transfer}/accept")).bearer(&bob).send().await;
    accepted.assert_status(StatusCode::OK);
    assert_eq!(accepted.value()["state"], "accepted");
    app.post(&format!("/v1/transfers/{transfer}/accept"))
        .bearer(&bob)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "transfer_decided");

    // Bob holds it with a new code; Alice no longer sees it; the old code is revoked at the door.
    let now_bobs = app.get(&format!("/v1/tickets/{id}")).bearer(&bob).send().await.value();
    assert_ne!(now_bobs["code"], old_code.as_str());
    app.get(&format!("/v1/tickets/{id}")).bearer(&alice).send().await.assert_status(StatusCode::NOT_FOUND);
    let scan = |code: &str| {
        app.post("/v1/checkin/scan").bearer(&organizer).json(&json!({"event_id": event, "code": code})).send()
    };
    assert_eq!(scan(&old_code).await.value()["outcome"], "revoked");
    assert_eq!(scan(now_bobs["code"].as_str().unwrap()).await.value()["outcome"], "checked_in");
    // A used ticket cannot be passed on.
    offer(&bob, id, json!({"to_email": "eve_fan@example.com"}))
        .await
        .assert_problem(StatusCode::CONFLICT, "ticket_not_valid");

    // Declining and withdrawing leave the ticket where it was.
    let second = bought(&app, &alice, &event, &tier, 1).await.remove(0);
    let second_id = second["id"].as_str().unwrap();
    let declined = offer(&alice, second_id, json!({"to_user_id": bob_id})).await.value();
    app.post(&format!("/v1/transfers/{}/decline", declined["id"].as_str().unwrap()))
        .bearer(&bob)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let withdrawn = offer(&alice, second_id, json!({"to_user_id": bob_id})).await.value();
    app.post(&format!("/v1/transfers/{}/cancel", withdrawn["id"].as_str().unwrap()))
        .bearer(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        app.get(&format!("/v1/tickets/{second_id}")).bearer(&alice).send().await.value()["code"],
        second["code"]
    );
    let history = app.get("/v1/me/transfers").bearer(&alice).send().await.value();
    let states: Vec<&str> =
        history["outgoing"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["cancelled", "declined", "accepted"]);
    assert_eq!(chain_ok(&app, &event).await["valid"], true);
}

#[tokio::test]
async fn resale_is_capped_pays_the_seller_less_the_fee_and_reissues_the_ticket() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "resale_organizer").await;
    let event = draft(&app, &organizer, json!({"resale_cap_bps": 12000})).await;
    let tier =
        add_tier(&app, &organizer, &event, json!({"name": "GA", "price": 2500, "currency": "EUR", "quantity": 10}))
            .await;
    set_status(&app, &organizer, &event, "published").await.assert_status(StatusCode::OK);
    let (seller, seller_id, _) = signed_in(&app, "resale_seller").await;
    let (buyer, buyer_id, _) = signed_in(&app, "resale_buyer").await;
    let (seller_id, buyer_id): (Uuid, Uuid) = (seller_id.parse().unwrap(), buyer_id.parse().unwrap());
    let ticket = bought(&app, &seller, &event, &tier, 1).await.remove(0);
    let id = ticket["id"].as_str().unwrap();
    let list = |price: i64| {
        app.post(&format!("/v1/tickets/{id}/listings")).bearer(&seller).json(&json!({"price": price})).send()
    };

    // The cap: 120% of 25.00 is 30.00; one cent more is refused.
    let above = list(3001).await;
    above.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(above.value()["errors"][0]["code"], "above_cap");
    let listing = list(3000).await;
    listing.assert_status(StatusCode::CREATED);
    let listing = listing.value()["id"].as_str().unwrap().to_owned();
    let public = app.get(&format!("/v1/events/{event}/listings")).send().await.value();
    assert_eq!(public["items"][0]["price"], 3000);
    app.post(&format!("/v1/tickets/{id}/transfers"))
        .bearer(&seller)
        .json(&json!({"to_user_id": buyer_id}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "ticket_busy");

    let buy = |token: &str, key: &str| {
        app.post(&format!("/v1/listings/{listing}/buy"))
            .bearer(token)
            .header("idempotency-key", key)
            .json(&json!({"card_number": "4242424242424242"}))
            .send()
    };
    buy(&seller, "own").await.assert_problem(StatusCode::CONFLICT, "own_listing");
    let bought_ticket = buy(&buyer, "buy-1").await;
    bought_ticket.assert_status(StatusCode::CREATED);
    let bought_ticket = bought_ticket.value();
    assert_eq!(bought_ticket["holder_id"], buyer_id.to_string());
    assert_ne!(bought_ticket["code"], ticket["code"]);
    assert_eq!(buy(&buyer, "buy-1").await.header("idempotent-replayed"), Some("true"));
    let (other, _, _) = signed_in(&app, "late_buyer").await;
    buy(&other, "buy-2").await.assert_problem(StatusCode::CONFLICT, "listing_closed");

    // Money: the buyer paid 30.00; the seller's pending earnings got it less 5% (1.50); the platform
    // kept the fee; the event's escrow still holds the original sale only.
    assert_eq!(wallet(&app, buyer_id).await, 0);
    assert_eq!(balance(&app.db.pool, Owner::User(seller_id), kinds::PENDING).await, 2850);
    assert_eq!(balance(&app.db.pool, Owner::Platform, kinds::FEES).await, 150);
    assert_eq!(escrow(&app, &event).await, 2500);
    let scan = |code: &Value| {
        app.post("/v1/checkin/scan").bearer(&organizer).json(&json!({"event_id": event, "code": code})).send()
    };
    assert_eq!(scan(&ticket["code"]).await.value()["outcome"], "revoked");
    assert_eq!(scan(&bought_ticket["code"]).await.value()["outcome"], "checked_in");
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn concurrent_buyers_of_one_listing_get_one_ticket_and_the_others_keep_their_money() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "race_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let (seller, seller_id, _) = signed_in(&app, "race_seller").await;
    let ticket = bought(&app, &seller, &event, &tier, 1).await.remove(0);
    let id = ticket["id"].as_str().unwrap();
    let listing = app.post(&format!("/v1/tickets/{id}/listings")).bearer(&seller).json(&json!({"price": 2000})).send();
    let listing = listing.await.value()["id"].as_str().unwrap().to_owned();
    let buyers = buyers(&app, "racer", 6).await;
    let mut tasks = Vec::new();
    for (token, user) in buyers {
        let (app, listing) = (app.clone(), listing.clone());
        tasks.push(tokio::spawn(async move {
            let res = app
                .post(&format!("/v1/listings/{listing}/buy"))
                .bearer(&token)
                .header("idempotency-key", &format!("race-{user}"))
                .json(&json!({"card_number": "4242424242424242"}))
                .send()
                .await;
            (res.status, res.value(), user)
        }));
    }
    let (mut winners, mut losers) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::CREATED, ticket, user) => winners.push((ticket, user)),
            (StatusCode::CONFLICT, problem, user) if problem["code"] == "listing_closed" => losers.push(user),
            (status, body, _) => panic!("unexpected answer {status} {body}"),
        }
    }
    assert_eq!((winners.len(), losers.len()), (1, 5), "one ticket, one buyer");
    let (won, winner) = &winners[0];
    assert_eq!(won["holder_id"], winner.to_string());
    let holders: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT holder_id, state FROM tickets WHERE event_id = $1 AND state = 'valid'")
            .bind(Uuid::parse_str(&event).unwrap())
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(holders, vec![(*winner, "valid".to_owned())], "the seat is held once, by the winner");
    // Every card that was charged is accounted for: the winner's paid the seller (less 5%), the
    // others' stays in their wallets.
    assert_eq!(wallet(&app, *winner).await, 0);
    for loser in losers {
        let charged: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(amount), 0)::bigint FROM payment_intents WHERE user_id = $1 AND state = 'captured'",
        )
        .bind(loser)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(wallet(&app, loser).await, charged, "a loser's charge, if any, is in its wallet");
    }
    let seller_id = Uuid::parse_str(&seller_id).unwrap();
    assert_eq!(balance(&app.db.pool, Owner::User(seller_id), kinds::PENDING).await, 1900);
    audit(&app.db.pool).await;
}

#[tokio::test]
async fn the_ticket_chain_detects_an_altered_or_removed_record() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "chain_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
    let (fan, _, _) = signed_in(&app, "chain_fan").await;
    let tickets = bought(&app, &fan, &event, &tier, 3).await;
    app.post("/v1/checkin/scan")
        .bearer(&organizer)
        .json(&json!({"event_id": event, "code": tickets[0]["code"]}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let intact = chain_ok(&app, &event).await;
    assert_eq!((intact["valid"].as_bool(), intact["records"].as_i64()), (Some(true), Some(4)));
    let event_id = Uuid::parse_str(&event).unwrap();

    // Someone with the owner's access to the database (the service's own role may not) rewrites who
    // held ticket 2.
    let mut owner = app.db.owner().await;
    sqlx::query("UPDATE ticket_chain SET data = jsonb_set(data, '{holder}', '\"00000000-0000-0000-0000-000000000000\"') WHERE event_id = $1 AND seq = 2")
        .bind(event_id)
        .execute(&mut owner)
        .await
        .unwrap();
    let altered = chain_ok(&app, &event).await;
    assert_eq!((altered["valid"].as_bool(), altered["first_invalid_seq"].as_i64()), (Some(false), Some(2)));

    // Put it back, then remove the last record (the check-in): the event's head still knows it.
    sqlx::query("UPDATE ticket_chain SET data = jsonb_set(data, '{holder}', to_jsonb((SELECT holder_id FROM tickets WHERE id = ticket_chain.ticket_id)::text)) WHERE event_id = $1 AND seq = 2")
        .bind(event_id)
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(chain_ok(&app, &event).await["valid"], true);
    sqlx::query("DELETE FROM ticket_chain WHERE event_id = $1 AND seq = 4")
        .bind(event_id)
        .execute(&mut owner)
        .await
        .unwrap();
    let truncated = chain_ok(&app, &event).await;
    assert_eq!((truncated["valid"].as_bool(), truncated["first_invalid_seq"].as_i64()), (Some(false), Some(4)));
}

#[tokio::test]
async fn settlement_pays_attributions_then_splits_by_largest_remainder() {
    let app = app().await;
    let (organizer, organizer_id, _) = signed_in(&app, "settle_organizer").await;
    let venue_org = crate::support::create_org(&app, &organizer, "settle-venue").await;
    let (_, creator_id, _) = signed_in(&app, "settle_creator").await;
    let (fan, _, _) = signed_in(&app, "settle_fan").await;
    let (other_fan, _, _) = signed_in(&app, "settle_fan_two").await;
    let event = draft(&app, &organizer, json!({})).await;
    let tier =
        add_tier(&app, &organizer, &event, json!({"name": "GA", "price": 3333, "currency": "EUR", "quantity": 10}))
            .await;
    let put_splits = |items: Value| {
        app.put(&format!("/v1/events/{event}/splits")).bearer(&organizer).json(&json!({"items": items})).send()
    };

    // Defaults until set; shares must sum to exactly 10,000 (the database checks it too).
    let defaults = app.get(&format!("/v1/events/{event}/splits")).bearer(&organizer).send().await.value();
    assert_eq!(defaults["defaults"], true);
    assert_eq!(
        defaults["items"].as_array().unwrap().iter().map(|s| s["bps"].as_i64().unwrap()).collect::<Vec<_>>(),
        vec![7000, 2000, 1000]
    );
    let short =
        put_splits(json!([{"role": "artist", "recipient_type": "user", "recipient_id": organizer_id, "bps": 9999}]))
            .await;
    assert_eq!(short.value()["errors"][0]["code"], "sum_not_whole");
    let mut tx = app.db.pool.begin().await.unwrap();
    sqlx::query("INSERT INTO event_splits (event_id, position, role, recipient_type, bps) VALUES ($1, 0, 'platform', 'platform', 9999)")
        .bind(Uuid::parse_str(&event).unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
    assert!(tx.commit().await.is_err(), "the database refuses splits that do not sum to 10,000");
    put_splits(json!([
        {"role": "artist", "recipient_type": "user", "recipient_id": organizer_id, "bps": 3333},
        {"role": "venue", "recipient_type": "organization", "recipient_id": venue_org, "bps": 3333},
        {"role": "platform", "recipient_type": "platform", "bps": 3334},
    ]))
    .await
    .assert_status(StatusCode::OK);
    set_status(&app, &organizer, &event, "published").await.assert_status(StatusCode::OK);

    // A creator's link: 10% of each attributed order's net.
    let link = app
        .post(&format!("/v1/events/{event}/attribution-links"))
        .bearer(&organizer)
        .json(&json!({"partner_id": creator_id, "kind": "creator", "share_type": "percent", "share_value": 1000, "code": "cara-10"}))
        .send()
        .await;
    link.assert_status(StatusCode::CREATED);
    let attributed = app
        .post(&format!("/v1/events/{event}/orders"))
        .bearer(&fan)
        .json(&json!({"items": [{"tier_id": tier, "quantity": 2}], "attribution": "cara-10"}))
        .send()
        .await
        .value();
    let attributed_id = attributed["id"].as_str().unwrap().to_owned();
    pay_card(&app, &fan, &attributed_id).await.assert_status(StatusCode::CREATED);
    let plain = bought(&app, &other_fan, &event, &tier, 1).await;
    // Frozen at the first sale.
    put_splits(json!([{"role": "platform", "recipient_type": "platform", "bps": 10000}]))
        .await
        .assert_problem(StatusCode::CONFLICT, "splits_frozen");
    app.post(&format!("/v1/events/{event}/orders"))
        .bearer(&fan)
        .json(&json!({"items": [{"tier_id": tier, "quantity": 1}], "attribution": "nope"}))
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // A partial refund lowers what is settled.
    app.post(&format!("/v1/tickets/{}/refund", plain[0]["id"].as_str().unwrap()))
        .bearer(&organizer)
        .json(&json!({"amount": 1000}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/v1/attributions/{attributed_id}/decision"))
        .bearer(&organizer)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(escrow(&app, &event).await, 3 * 3333 - 1000);

    // The event ends and completes; the settlement job pays everyone.
    app.clock.advance(Duration::days(31));
    let organizer = token_of(&app, "settle_organizer").await;
    set_status(&app, &organizer, &event, "completed").await.assert_status(StatusCode::OK);
    drain_jobs(&app).await;
    // 8,999 in escrow: the creator gets 10% of 6,666 = 666.6 -> 667 (half-even); 8,332 is split
    // 3333/3333/3334 bps: 2777.06, 2777.06, 2777.89 -> floors 2777 each, the left-over unit to the
    // largest remainder (the platform): 2777 + 2777 + 2778 = 8,332.
    let pending = |owner| balance(&app.db.pool, owner, kinds::PENDING);
    assert_eq!(pending(Owner::User(creator_id.parse().unwrap())).await, 667);
    assert_eq!(pending(Owner::User(organizer_id.parse().unwrap())).await, 2777);
    assert_eq!(pending(Owner::Organization(venue_org.parse().unwrap())).await, 2777);
    assert_eq!(balance(&app.db.pool, Owner::Platform, kinds::REVENUE).await, 2778);
    assert_eq!(escrow(&app, &event).await, 0);
    let list = app.get(&format!("/v1/events/{event}/attribution-links")).bearer(&organizer).send().await.value();
    assert_eq!(
        (list["attributions"][0]["state"].as_str(), list["attributions"][0]["amount"].as_i64()),
        (Some("paid"), Some(667))
    );
    // Settled once, and nothing is refunded afterwards.
    drain_jobs(&app).await;
    assert_eq!(balance(&app.db.pool, Owner::Platform, kinds::REVENUE).await, 2778);
    app.post(&format!("/v1/tickets/{}/refund", plain[0]["id"].as_str().unwrap()))
        .bearer(&organizer)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "event_settled");
    audit(&app.db.pool).await;
}

fn primaries_of(list: &Value, network: &str) -> usize {
    list["items"].as_array().unwrap().iter().filter(|w| w["network"] == network && w["is_primary"] == true).count()
}

#[tokio::test]
async fn wallets_keep_one_primary_per_network_and_fans_earn_points_per_attended_event() {
    let app = Arc::new(app().await);
    let (fan, _, _) = signed_in(&app, "wallet_fan").await;
    const A: &str = "GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYH";
    const B: &str = "GAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QZ6Q";
    const C: &str = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ";
    let add = |address: &str, primary: bool| {
        app.post("/v1/me/wallets")
            .bearer(&fan)
            .json(&json!({"network": "stellar", "address": address, "primary": primary}))
            .send()
    };
    let typo = add("GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYI", false).await;
    assert_eq!(typo.value()["errors"][0]["code"], "invalid_address");
    let first = add(A, false).await.value();
    assert_eq!(first["is_primary"], true, "the first address of a network is its primary");
    add(A, false).await.assert_problem(StatusCode::CONFLICT, "wallet_exists");
    // Two addresses asking to be primary at once: exactly one is.
    let (x, y) = tokio::join!(add(B, true), add(C, true));
    x.assert_status(StatusCode::CREATED);
    y.assert_status(StatusCode::CREATED);
    app.post("/v1/me/wallets")
        .bearer(&fan)
        .json(&json!({"network": "stellar_testnet", "address": A}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let list = app.get("/v1/me/wallets").bearer(&fan).send().await.value();
    assert_eq!((primaries_of(&list, "stellar"), primaries_of(&list, "stellar_testnet")), (1, 1));
    let primary = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["network"] == "stellar" && w["is_primary"] == true)
        .unwrap();
    let primary_id = primary["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/me/wallets/{primary_id}")).bearer(&fan).send().await.assert_status(StatusCode::NO_CONTENT);
    let list = app.get("/v1/me/wallets").bearer(&fan).send().await.value();
    assert_eq!(primaries_of(&list, "stellar"), 1, "another stellar address became primary");

    // Profiles: fan (with points), creator, sponsor.
    let fan_profile = app
        .put("/v1/me/profiles/fan")
        .bearer(&fan)
        .json(&json!({"favorite_genres": ["Jazz", "jazz", "Techno"], "interests": ["vinyl"]}))
        .send()
        .await
        .value();
    assert_eq!(fan_profile["favorite_genres"], json!(["jazz", "techno"]));
    let creator = app
        .put("/v1/me/profiles/creator")
        .bearer(&fan)
        .json(&json!({"content_types": ["video"], "rates": [{"service": "aftermovie", "amount": 50000, "currency": "eur"}],
                      "portfolio": ["ftp://nope"]}))
        .send()
        .await;
    assert_eq!(creator.value()["errors"][0]["field"], "portfolio[0]");
    let sponsor = app
        .put("/v1/me/profiles/sponsor")
        .bearer(&fan)
        .json(&json!({"brand": "Sunny Drinks", "industry": "beverages", "budget": 100000, "budget_currency": "EUR", "target_audience": "18-30"}))
        .send()
        .await;
    sponsor.assert_status(StatusCode::OK);
    assert_eq!(app.get("/v1/me/profiles/sponsor").bearer(&fan).send().await.value()["brand"], "Sunny Drinks");

    // Attending: points once per event, however many tickets are scanned.
    let (organizer, _, _) = signed_in(&app, "points_organizer").await;
    for _ in 0..2 {
        let (event, tier) = on_sale(&app, &organizer, json!({"price": 0})).await;
        for ticket in bought(&app, &fan, &event, &tier, 2).await {
            app.post("/v1/checkin/scan")
                .bearer(&organizer)
                .json(&json!({"event_id": event, "code": ticket["code"]}))
                .send()
                .await
                .assert_status(StatusCode::OK);
        }
    }
    let points = app.get("/v1/me/profiles/fan").bearer(&fan).send().await.value();
    assert_eq!((points["loyalty_points"].as_i64(), points["events_attended"].as_i64()), (Some(20), Some(2)));
}

#[tokio::test]
async fn a_published_event_completes_by_timer_72_hours_after_its_end_and_is_settled() {
    let app = app().await;
    let (organizer, organizer_id, _) = signed_in(&app, "timer_organizer").await;
    let (fan, _, _) = signed_in(&app, "timer_fan").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    bought(&app, &fan, &event, &tier, 2).await;
    // The event ends 30 days + 4 hours from now; 72 hours later, and not a second before, it completes.
    app.clock.advance(Duration::days(33) + Duration::hours(4) - Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(app.get(&format!("/v1/events/{event}")).send().await.value()["status"], "published");
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(app.get(&format!("/v1/events/{event}")).send().await.value()["status"], "completed");
    drain_jobs(&app).await;
    assert_eq!(escrow(&app, &event).await, 0, "settled");
    // The defaults: 90% to the organizer (artist and venue), 10% to the platform.
    assert_eq!(balance(&app.db.pool, Owner::User(organizer_id.parse().unwrap()), kinds::PENDING).await, 4_500);
}

#[tokio::test]
async fn a_payment_waiting_for_the_customer_is_kept_and_its_money_pays_the_order_later() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "later_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let (fan, fan_id, _) = signed_in(&app, "later_fan").await;
    let fan_id: Uuid = fan_id.parse().unwrap();
    let order = reserve(&app, &fan, &event, &tier, 1).await.value();
    let id = order["id"].as_str().unwrap();
    // The sandbox card that waits for the provider's webhook (as 3-D Secure does).
    let pending = app
        .post(&format!("/v1/orders/{id}/pay"))
        .bearer(&fan)
        .header("idempotency-key", "later-1")
        .json(&json!({"card_number": "4000000000003220"}))
        .send()
        .await;
    pending.assert_problem(StatusCode::CONFLICT, "payment_pending");
    // The payment is kept (not rolled back with the purchase), so its webhook finds it; the answer says
    // where it is.
    let (payment, reference): (Uuid, String) =
        sqlx::query_as("SELECT id, provider_ref FROM payment_intents WHERE user_id = $1 AND state = 'initiated'")
            .bind(fan_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(pending.header("location"), Some(format!("/v1/payments/{payment}").as_str()));
    let body = json!({"id": "evt_later_1", "type": "payment_intent.succeeded", "data": {"object": {"id": reference}}})
        .to_string();
    app.post("/v1/webhooks/sandbox")
        .header("stripe-signature", &crate::ledger::signed(&body, "whsec_sandbox", app.clock_now().timestamp()))
        .body(body)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(wallet(&app, fan_id).await, 2500, "the charged money is in the fan's wallet");
    // A retry of the first request does not charge again.
    app.post(&format!("/v1/orders/{id}/pay"))
        .bearer(&fan)
        .header("idempotency-key", "later-1")
        .json(&json!({"card_number": "4000000000003220"}))
        .send()
        .await;
    let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_intents WHERE user_id = $1")
        .bind(fan_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(payments, 1);
    let paid = app.post(&format!("/v1/orders/{id}/pay")).bearer(&fan).json(&json!({"source": "wallet"})).send().await;
    paid.assert_status(StatusCode::CREATED);
    assert_eq!(paid.value()["state"], "paid");
    assert_eq!(escrow(&app, &event).await, 2500);
    audit(&app.db.pool).await;
}

/// Verifying an event's chain while records are appended to it never reports a broken chain: the head
/// and the records are read in one statement (read in two, an append may land between them). Two
/// appenders and two verifiers at once, repeated.
#[tokio::test]
async fn the_chain_verifies_while_records_are_appended() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "chainrace_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({})).await;
    let (fan, _, _) = signed_in(&app, "chainrace_fan").await;
    let tickets = bought(&app, &fan, &event, &tier, 2).await;
    drain_jobs(&app).await;
    let event_id = ticketing::model::EventId(event.parse().unwrap());
    let now = app.clock_now();
    let mut tasks = Vec::new();
    for ticket in &tickets {
        let (pool, ticket) =
            (app.db.pool.clone(), ticketing::model::TicketId(ticket["id"].as_str().unwrap().parse().unwrap()));
        tasks.push(tokio::spawn(async move {
            for n in 0..40 {
                let mut tx = pool.begin().await.unwrap();
                ticketing::chain::append(
                    &mut tx,
                    event_id,
                    ticket,
                    ticketing::chain::Action::Checkin,
                    json!({"n": n}),
                    now,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            0
        }));
    }
    for _ in 0..2 {
        let pool = app.db.pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut checked = 0;
            for _ in 0..150 {
                let mut conn = pool.acquire().await.unwrap();
                let chain = ticketing::chain::verify(&mut conn, event_id).await.unwrap();
                assert!(chain.valid, "{chain:?}");
                checked += 1;
            }
            checked
        }));
    }
    let mut verified = 0;
    for task in tasks {
        verified += task.await.unwrap();
    }
    assert_eq!(verified, 300);
    assert_eq!(chain_ok(&app, &event).await["valid"], true);
}
