//! Waiting rooms through the HTTP API: the random draw at the opening, admission at the room's rate,
//! the pass the order endpoint requires (forged, foreign, expired and reused ones refused), the limit per
//! client address under concurrency, and the room closing on sell-out, told to every follower at once.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::notifications::next_event;
use crate::support::{app, drain_jobs, signed_in};
use crate::ticketing::{buyers, on_sale};

fn room_url(event: &str) -> String {
    format!("/v1/events/{event}/waiting-room")
}

/// Minutes to the opening (access tokens last fifteen minutes; the tests stay within them).
const OPENS_IN: i64 = 5;

/// Puts the event behind a room opening in [`OPENS_IN`] minutes; answers the room.
async fn room(app: &TestApp, organizer: &str, event: &str, extra: Value) -> Value {
    let mut body = json!({"opens_at": app.clock_now() + Duration::minutes(OPENS_IN)});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.put(&room_url(event)).bearer(organizer).json(&body).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

async fn join(app: &TestApp, token: &str, event: &str, ip: &str) -> testkit::TestResponse {
    app.post(&format!("{}/places", room_url(event))).bearer(token).ip(ip).send().await
}

async fn place(app: &TestApp, token: &str, event: &str) -> Value {
    let res = app.get(&format!("{}/places/me", room_url(event))).bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

fn order(
    app: &TestApp,
    token: &str,
    event: &str,
    tier: &str,
    pass: Option<&str>,
) -> impl Future<Output = testkit::TestResponse> {
    let mut body = json!({"items": [{"tier_id": tier, "quantity": 1}]});
    if let Some(pass) = pass {
        body["pass"] = json!(pass);
    }
    app.post(&format!("/v1/events/{event}/orders")).bearer(token).json(&body).send()
}

/// Moves the clock and runs what is due (the room's timer among it).
async fn advance(app: &TestApp, by: Duration) {
    app.clock.advance(by);
    drain_jobs(app).await;
}

fn ip(i: usize) -> String {
    format!("10.1.{}.{}", i / 250, i % 250 + 1)
}

#[tokio::test]
async fn early_arrivals_get_distinct_places_drawn_at_the_opening_and_later_ones_join_the_end() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "room_organizer").await;
    let (event, _) = on_sale(&app, &organizer, json!({"quantity": 1000})).await;
    room(&app, &organizer, &event, json!({"rate_per_minute": 60})).await;
    let early = buyers(&app, "early", 60).await;

    // One by one, so that the order of arrival is known: before the opening nobody has a position.
    for (i, (token, _)) in early.iter().enumerate() {
        let res = join(&app, token, &event, &ip(i)).await;
        res.assert_status(StatusCode::CREATED);
        let p = res.value();
        assert_eq!((p["status"].as_str(), p["position"].as_i64()), (Some("waiting"), None), "{p}");
        app.clock.advance(Duration::seconds(1));
    }
    // Joining again answers the same place.
    let again = join(&app, &early[0].0, &event, &ip(0)).await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.value()["joined_at"], place(&app, &early[0].0, &event).await["joined_at"]);

    advance(&app, Duration::minutes(OPENS_IN)).await;
    let mut positions = Vec::new();
    for (token, _) in &early {
        let p = place(&app, token, &event).await;
        positions.push(p["position"].as_i64().expect("a place drawn at the opening"));
    }
    let distinct: HashSet<i64> = positions.iter().copied().collect();
    assert_eq!(distinct, (1..=60).collect(), "every early arrival has a distinct place; none are lost");
    // Arriving earlier gave no edge: the order of arrival is not the order of places (a fair draw
    // keeps it with probability 1/60!), and the first ten arrivals are not the first ten places.
    assert_ne!(positions, (1..=60).collect::<Vec<_>>());
    assert!(positions[..10].iter().any(|&p| p > 10), "{positions:?}");

    // After the opening, places are taken at the end, in order.
    let late = buyers(&app, "late", 3).await;
    for (i, (token, _)) in late.iter().enumerate() {
        let p = join(&app, token, &event, &ip(100 + i)).await.value();
        assert_eq!(p["position"].as_i64(), Some(61 + i as i64), "{p}");
    }
    let room = app.get(&room_url(&event)).send().await.value();
    assert_eq!((room["state"].as_str(), room["places"].as_i64()), (Some("open"), Some(63)));
    assert!(room.get("stats").is_none(), "the public does not see the organizer's figures");
}

/// Joins race the opening: whichever side of the draw a join lands on, it gets exactly one place and
/// the places stay 1..n without a gap or a repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joins_racing_the_opening_all_get_one_place_without_gaps() {
    const N: usize = 150;
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "race_organizer").await;
    for round in 0..3 {
        let (event, _) = on_sale(&app, &organizer, json!({"quantity": 1000})).await;
        room(&app, &organizer, &event, json!({"per_address": 1000})).await;
        let buyers = buyers(&app, &format!("race{round}_"), N).await;
        let mut tasks = Vec::new();
        for (i, (token, _)) in buyers.iter().enumerate() {
            let (app, token, event) = (app.clone(), token.clone(), event.clone());
            tasks.push(tokio::spawn(async move { join(&app, &token, &event, &ip(i)).await.status }));
        }
        // The opening arrives while joins are in flight (most wait for a database connection, having
        // read the clock before it): the draw runs among them.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        app.clock.advance(Duration::minutes(OPENS_IN));
        drain_jobs(&app).await;
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::CREATED);
        }
        drain_jobs(&app).await;
        let event_id: uuid::Uuid = event.parse().unwrap();
        let row = sqlx::query!(
            r#"SELECT count(*) AS "count!", count(DISTINCT position) AS "distinct!", min(position) AS min, max(position) AS max
               FROM waiting_room_places WHERE event_id = $1"#,
            event_id
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            (row.count, row.distinct, row.min, row.max),
            (N as i64, N as i64, Some(1), Some(N as i64)),
            "round {round}"
        );
    }
}

/// The window the shared lock closes, held open on purpose: a join that read the room as scheduled but
/// has not written its place when the opening's draw starts still gets a drawn place (the draw waits).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_draw_waits_for_an_early_join_in_flight() {
    use ticketing::model::EventId;
    use ticketing::rooms::repo;
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "window_organizer").await;
    let (event, _) = on_sale(&app, &organizer, json!({})).await;
    room(&app, &organizer, &event, json!({})).await;
    let (_, user) = buyers(&app, "inflight", 1).await.remove(0);
    let id = EventId(event.parse().unwrap());
    let now = app.clock_now();
    let mut tx = app.db.pool.begin().await.unwrap();
    let r = repo::room_shared(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(r.state, repo::RoomState::Scheduled);
    app.clock.advance(Duration::minutes(OPENS_IN));
    let opener = {
        let app = app.clone();
        tokio::spawn(async move { drain_jobs(&app).await })
    };
    // Between reading the room and writing the place, the opening's timer runs.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(repo::insert_place(&mut tx, id, user, "10.0.0.9", 7, None, now).await.unwrap());
    tx.commit().await.unwrap();
    opener.await.unwrap();
    let position = sqlx::query_scalar!(
        "SELECT position FROM waiting_room_places WHERE event_id = $1 AND user_id = $2",
        id.0,
        user
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(position, Some(1), "the join in flight was part of the draw");
}

#[tokio::test]
async fn admission_keeps_the_rate_and_the_pass_is_required_bound_and_spent_once() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "rate_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 100})).await;
    room(&app, &organizer, &event, json!({"rate_per_minute": 60, "window_minutes": 2})).await;
    let buyers = buyers(&app, "rated", 10).await;
    for (i, (token, _)) in buyers.iter().enumerate() {
        join(&app, token, &event, &ip(i)).await.assert_status(StatusCode::CREATED);
    }
    // Before the opening nobody may buy without a pass; nor with a made-up one.
    let res = order(&app, &buyers[0].0, &event, &tier, None).await;
    res.assert_problem(StatusCode::FORBIDDEN, "pass_required");

    advance(&app, Duration::minutes(OPENS_IN)).await;
    let admitted = |places: &[Value]| places.iter().filter(|p| p["status"] == "admitted").count();
    let mut places = Vec::new();
    for (token, _) in &buyers {
        places.push(place(&app, token, &event).await);
    }
    assert_eq!(admitted(&places), 0, "no time has passed since the opening");
    // One a second: after 999 ms nobody more, at 3 s exactly three, in the order of their places.
    advance(&app, Duration::milliseconds(999)).await;
    assert_eq!(app.get(&room_url(&event)).send().await.value()["admitted_through"], 0);
    advance(&app, Duration::milliseconds(2001)).await;
    let mut by_position = Vec::new();
    for (token, _) in &buyers {
        let p = place(&app, token, &event).await;
        by_position.push((p["position"].as_i64().unwrap(), token.clone(), p));
    }
    by_position.sort_by_key(|(position, _, _)| *position);
    let statuses: Vec<&str> = by_position.iter().map(|(_, _, p)| p["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "admitted", "admitted", "admitted", "waiting", "waiting", "waiting", "waiting", "waiting", "waiting",
            "waiting"
        ]
    );
    // Place 5 has one place before it in line (place 4) and is two seconds away at one a second.
    assert_eq!(
        (by_position[4].2["ahead"].as_i64(), by_position[4].2["estimated_wait_seconds"].as_i64()),
        (Some(1), Some(2))
    );
    assert!(by_position[3].2["pass"].is_null(), "a waiting buyer has no pass");

    let (first, second, third) = (&by_position[0], &by_position[1], &by_position[2]);
    let pass = first.2["pass"].as_str().unwrap().to_owned();
    // Someone else's pass, a forged one, and a waiting buyer borrowing an admitted buyer's pass.
    order(&app, &second.1, &event, &tier, Some(&pass)).await.assert_problem(StatusCode::FORBIDDEN, "pass_invalid");
    order(&app, &by_position[5].1, &event, &tier, Some(&pass))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "pass_invalid");
    let mut forged = pass.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    order(&app, &first.1, &event, &tier, Some(&forged)).await.assert_problem(StatusCode::FORBIDDEN, "pass_invalid");
    order(&app, &first.1, &event, &tier, Some("BLP1.nothing"))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "pass_invalid");
    order(&app, &first.1, &event, &tier, None).await.assert_problem(StatusCode::FORBIDDEN, "pass_required");

    // The holder's own pass buys once; its second use is refused, even for another tier or quantity.
    let bought = order(&app, &first.1, &event, &tier, Some(&pass)).await;
    bought.assert_status(StatusCode::CREATED);
    order(&app, &first.1, &event, &tier, Some(&pass)).await.assert_problem(StatusCode::CONFLICT, "pass_used");
    let used = place(&app, &first.1, &event).await;
    assert_eq!((used["status"].as_str(), used["order_id"].as_str()), (Some("used"), bought.value()["id"].as_str()));

    // The window is two minutes: a second before its end the pass still buys, at its end it does not.
    let second_pass = second.2["pass"].as_str().unwrap().to_owned();
    let third_pass = third.2["pass"].as_str().unwrap().to_owned();
    let ends = chrono::DateTime::parse_from_rfc3339(second.2["pass_expires_at"].as_str().unwrap()).unwrap().to_utc();
    app.clock.advance(ends - app.clock_now() - Duration::seconds(1));
    order(&app, &second.1, &event, &tier, Some(&second_pass)).await.assert_status(StatusCode::CREATED);
    app.clock.advance(Duration::seconds(1));
    order(&app, &third.1, &event, &tier, Some(&third_pass)).await.assert_problem(StatusCode::FORBIDDEN, "pass_expired");
    assert_eq!(place(&app, &third.1, &event).await["status"], "expired");
    // Whose turn ended unused may join again, at the end of the line.
    let again = join(&app, &third.1, &event, &ip(2)).await;
    again.assert_status(StatusCode::CREATED);
    let again = again.value();
    assert_eq!((again["status"].as_str(), again["position"].as_i64()), (Some("waiting"), Some(11)), "{again}");
    // Whose pass bought its order may not.
    let used = join(&app, &first.1, &event, &ip(0)).await;
    used.assert_status(StatusCode::OK);
    assert_eq!(used.value()["status"], "used");
    // The organizer's figures: ten people, two orders with a pass, seven waiting and the one who came
    // back, none with a live pass.
    let r = app.get(&room_url(&event)).bearer(&organizer).send().await.value();
    assert_eq!(
        (r["stats"]["waiting"].as_i64(), r["stats"]["orders"].as_i64(), r["stats"]["live_passes"].as_i64()),
        (Some(8), Some(2), Some(0)),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_limit_per_client_address_holds_under_concurrency() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "address_organizer").await;
    let (event, _) = on_sale(&app, &organizer, json!({})).await;
    room(&app, &organizer, &event, json!({"per_address": 3})).await;
    let buyers = buyers(&app, "shared", 30).await;
    for round in 0..2 {
        let mut tasks = Vec::new();
        for (token, _) in buyers.iter().skip(round * 15).take(15) {
            let (app, token, event) = (app.clone(), token.clone(), event.clone());
            let address = format!("10.7.7.{}", round + 1);
            tasks.push(tokio::spawn(async move { join(&app, &token, &event, &address).await }));
        }
        let (mut created, mut limited) = (0, 0);
        for task in tasks {
            let res = task.await.unwrap();
            match res.status {
                StatusCode::CREATED => created += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    res.assert_problem(StatusCode::TOO_MANY_REQUESTS, "address_limit");
                    limited += 1;
                }
                status => panic!("unexpected {status}: {}", String::from_utf8_lossy(&res.body)),
            }
        }
        assert_eq!((created, limited), (3, 12), "round {round}: one address takes exactly three places");
    }
}

#[tokio::test]
async fn the_room_closes_on_sell_out_and_every_follower_is_told_at_once() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "soldout_organizer").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"quantity": 2, "price": 0})).await;
    room(&app, &organizer, &event, json!({"rate_per_minute": 600})).await;
    let buyers = buyers(&app, "follower", 6).await;
    for (i, (token, _)) in buyers.iter().enumerate() {
        join(&app, token, &event, &ip(i)).await.assert_status(StatusCode::CREATED);
    }
    // Everyone follows their place.
    let mut streams = Vec::new();
    for (token, _) in &buyers {
        let req = Request::get(format!("{}/stream", room_url(&event)))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let router = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
        let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut body = res.into_body();
        let (_, first) = next_event(&mut body).await;
        assert_eq!((first["status"].as_str(), first["position"].as_i64()), (Some("waiting"), None));
        streams.push(body);
    }
    // The opening: each stream hears its drawn place.
    advance(&app, Duration::minutes(OPENS_IN)).await;
    for body in &mut streams {
        let (_, drawn) = next_event(body).await;
        assert!(drawn["position"].as_i64().is_some(), "{drawn}");
    }
    // A tenth of a second admits one place (ten a second); its follower hears the pass; with two
    // tickets, the room admits at most two live passes.
    advance(&app, Duration::seconds(5)).await;
    let mut admitted = Vec::new();
    for (i, (token, _)) in buyers.iter().enumerate() {
        let p = place(&app, token, &event).await;
        if p["status"] == "admitted" {
            admitted.push((i, token.clone(), p["pass"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(admitted.len(), 2, "never more live passes than tickets left");
    for (i, token, pass) in &admitted {
        let event_of_stream = loop {
            let (_, p) = next_event(&mut streams[*i]).await;
            if p["status"] == "admitted" {
                break p;
            }
        };
        assert_eq!(event_of_stream["pass"].as_str(), Some(pass.as_str()));
        order(&app, token, &event, &tier, Some(pass)).await.assert_status(StatusCode::CREATED);
    }
    // Sold out: at the next tick the room closes and every waiting follower is told.
    advance(&app, Duration::seconds(1)).await;
    let room = app.get(&room_url(&event)).send().await.value();
    assert_eq!((room["state"].as_str(), room["closed_reason"].as_str()), (Some("closed"), Some("sold_out")));
    for (i, body) in streams.iter_mut().enumerate() {
        if admitted.iter().any(|(a, _, _)| *a == i) {
            continue;
        }
        let closed = loop {
            let (_, p) = next_event(body).await;
            if p["status"] != "waiting" {
                break p;
            }
        };
        assert_eq!((closed["status"].as_str(), closed["closed_reason"].as_str()), (Some("closed"), Some("sold_out")));
    }
    let res = join(&app, &signed_in(&app, "too_late").await.0, &event, "10.3.3.3").await;
    res.assert_problem(StatusCode::CONFLICT, "room_closed");
}

#[tokio::test]
async fn only_the_organizer_configures_a_room_and_its_rules_hold() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "config_organizer").await;
    let (stranger, _, _) = signed_in(&app, "config_stranger").await;
    let (event, _) = on_sale(&app, &organizer, json!({})).await;
    let soon = app.clock_now() + Duration::minutes(OPENS_IN);
    let res = app.put(&room_url(&event)).bearer(&stranger).json(&json!({"opens_at": soon})).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    app.get(&room_url(&event)).send().await.assert_status(StatusCode::NOT_FOUND);

    // Each setting at and beyond its bounds.
    for (field, bad, good) in [("rate_per_minute", 0, 1), ("window_minutes", 61, 60), ("per_address", 0, 100_000)] {
        let res =
            app.put(&room_url(&event)).bearer(&organizer).json(&json!({"opens_at": soon, field: bad})).send().await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={bad}");
        assert_eq!(res.value()["errors"][0]["field"], field);
        let res =
            app.put(&room_url(&event)).bearer(&organizer).json(&json!({"opens_at": soon, field: good})).send().await;
        res.assert_status(StatusCode::OK);
    }
    let past = app.clock_now() - Duration::seconds(1);
    let res = app.put(&room_url(&event)).bearer(&organizer).json(&json!({"opens_at": past})).send().await;
    assert_eq!(res.value()["errors"][0]["code"], "in_the_past");

    let r = room(&app, &organizer, &event, json!({"rate_per_minute": 120})).await;
    assert_eq!(
        (r["state"].as_str(), r["rate_per_minute"].as_i64(), r["window_minutes"].as_i64()),
        (Some("scheduled"), Some(120), Some(60))
    );
    assert_eq!(r["stats"]["waiting"], 0, "the organizer sees the figures");
    advance(&app, Duration::minutes(OPENS_IN)).await;
    // Open: the opening cannot move and the room cannot go, but the rate can change.
    let later = app.clock_now() + Duration::hours(1);
    let res = app.put(&room_url(&event)).bearer(&organizer).json(&json!({"opens_at": later})).send().await;
    res.assert_problem(StatusCode::CONFLICT, "room_opened");
    app.delete(&room_url(&event)).bearer(&organizer).send().await.assert_problem(StatusCode::CONFLICT, "room_opened");
    let opened = app.get(&room_url(&event)).bearer(&organizer).send().await.value()["opens_at"].clone();
    let res = app
        .put(&room_url(&event))
        .bearer(&organizer)
        .json(&json!({"opens_at": opened, "rate_per_minute": 3000}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["rate_per_minute"], 3000);
    // An event that stops selling closes its room at the next count; a closed room may go.
    crate::ticketing::set_status(&app, &organizer, &event, "postponed").await.assert_status(StatusCode::OK);
    advance(&app, Duration::seconds(1)).await;
    let closed = app.get(&room_url(&event)).bearer(&organizer).send().await.value();
    assert_eq!((closed["state"].as_str(), closed["closed_reason"].as_str()), (Some("closed"), Some("not_on_sale")));
    app.delete(&room_url(&event)).bearer(&organizer).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get(&room_url(&event)).send().await.assert_status(StatusCode::NOT_FOUND);
}

/// A fan in a real browser joins the room before the opening, watches the page follow the draw and
/// the line live, is sent to the tickets when their turn comes, and buys with the pass the page carries.
#[tokio::test]
async fn a_fan_waits_their_turn_and_buys_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "browser_room_org").await;
    let (event, _) = on_sale(&app, &organizer, json!({"name": "Floor", "price": 0})).await;
    room(&app, &organizer, &event, json!({"rate_per_minute": 60})).await;
    buyers(&app, "browser_fan", 1).await;
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "browser_fan0", &format!("/events/{event}")).await;
    let text = browser.wait_for_text("Waiting room").await;
    assert!(text.contains("drawn at random") && !text.contains("How many Floor tickets"), "{text}");
    let mut violations = browser.accessibility_violations().await;
    browser.click("#join-room").await;
    browser.wait_for_url(&format!("/events/{event}/waiting-room")).await;
    browser.wait_for_text("You are in the waiting room").await;
    violations.extend(browser.accessibility_violations().await);
    assert!(violations.is_empty(), "{violations:?}");

    // The opening: the page shows the drawn place by itself.
    advance(&app, Duration::minutes(OPENS_IN)).await;
    let text = browser.wait_for_text("Your place in line").await;
    assert!(text.contains("You are next"), "{text}");
    browser.snapshot("waiting-room").await;
    // A second later the fan is let in and sent to the tickets, the pass in the buy form.
    advance(&app, Duration::seconds(1)).await;
    browser.wait_for_url(&format!("/events/{event}")).await;
    let text = browser.wait_for_text("It is your turn").await;
    assert!(text.contains("How many Floor tickets"), "{text}");
    assert!(browser.source().await.contains("name=\"pass\" value=\"BLP1."));
    browser.click("form.buy button").await;
    browser.wait_for_text("Your order").await;
    // The organizer sees the room's figures on the event's management page.
    browser.sign_out().await;
    browser.sign_in(&served.base, "browser_room_org", &format!("/manage/events/{event}")).await;
    let text = browser.wait_for_text("Orders with a pass").await;
    assert!(text.contains("Places given") && text.contains("open"), "{text}");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.close().await;
    let event_id: uuid::Uuid = event.parse().unwrap();
    let used = sqlx::query_scalar!(
        r#"SELECT count(order_id) AS "used!" FROM waiting_room_places WHERE event_id = $1"#,
        event_id
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(used, 1, "the pass bought the order");
}

/// Buying at once from the wallet goes through the same pass check, and spends the pass in the same
/// statement that writes the order.
#[tokio::test]
async fn buying_at_once_needs_the_pass_and_spends_it() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "instant_room_org").await;
    let (event, tier) = on_sale(&app, &organizer, json!({"price": 1000})).await;
    room(&app, &organizer, &event, json!({"rate_per_minute": 60})).await;
    let fans = buyers(&app, "instant_room", 2).await;
    for (i, (token, id)) in fans.iter().enumerate() {
        crate::ledger::funded(&app.db.pool, *id, 5000).await;
        join(&app, token, &event, &ip(i)).await.assert_status(StatusCode::CREATED);
    }
    advance(&app, Duration::minutes(OPENS_IN)).await;
    advance(&app, Duration::seconds(1)).await;
    let (mut admitted, mut waiting) = (None, None);
    for (token, _) in &fans {
        let p = place(&app, token, &event).await;
        match p["status"].as_str() {
            Some("admitted") => admitted = Some((token.clone(), p["pass"].as_str().unwrap().to_owned())),
            _ => waiting = Some(token.clone()),
        }
    }
    let ((token, pass), other) = (admitted.unwrap(), waiting.unwrap());
    let buy = |token: &str, pass: Option<&str>| {
        let mut body = json!({"items": [{"tier_id": tier, "quantity": 1}], "pay": "wallet"});
        if let Some(pass) = pass {
            body["pass"] = json!(pass);
        }
        app.post(&format!("/v1/events/{event}/orders")).bearer(token).json(&body).send()
    };
    buy(&other, None).await.assert_problem(StatusCode::FORBIDDEN, "pass_required");
    buy(&other, Some(&pass)).await.assert_problem(StatusCode::FORBIDDEN, "pass_invalid");
    let bought = buy(&token, Some(&pass)).await;
    bought.assert_status(StatusCode::CREATED);
    assert_eq!(bought.value()["state"], "paid");
    buy(&token, Some(&pass)).await.assert_problem(StatusCode::CONFLICT, "pass_used");
    assert_eq!(place(&app, &token, &event).await["order_id"], bought.value()["id"]);
}

/// A pass sent many times at once to the instant purchase buys one order: each request reads the
/// buyer's place with the event in one statement, possibly before another of the buyer's purchases
/// has spent it, so the write that spends the pass is the authority. Eight buyers, six requests each
/// at once, on each of three events.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_pass_sent_many_times_at_once_buys_one_order() {
    let app = Arc::new(app().await);
    let (organizer, _, _) = signed_in(&app, "pass_race_org").await;
    for round in 0..3 {
        // New buyers each round: an access token lasts fifteen minutes of the test's clock.
        let fans = buyers(&app, &format!("pass_race{round}"), 8).await;
        for (_, id) in &fans {
            crate::ledger::funded(&app.db.pool, *id, 100_000).await;
        }
        let (event, tier) = on_sale(&app, &organizer, json!({"price": 1000})).await;
        room(&app, &organizer, &event, json!({"rate_per_minute": 600})).await;
        for (i, (token, _)) in fans.iter().enumerate() {
            join(&app, token, &event, &ip(i)).await.assert_status(StatusCode::CREATED);
        }
        advance(&app, Duration::minutes(OPENS_IN)).await;
        advance(&app, Duration::seconds(1)).await;
        let mut attempts = Vec::new();
        for (token, _) in &fans {
            let p = place(&app, token, &event).await;
            assert_eq!(p["status"], "admitted", "round {round}: {p}");
            let pass = p["pass"].as_str().unwrap().to_owned();
            for _ in 0..6 {
                let (app, token, pass) = (app.clone(), token.clone(), pass.clone());
                let body = json!({"items": [{"tier_id": tier, "quantity": 1}], "pay": "wallet", "pass": pass});
                let url = format!("/v1/events/{event}/orders");
                attempts.push(tokio::spawn(async move {
                    let res = app.post(&url).bearer(&token).json(&body).send().await;
                    (token, res.status, res.value())
                }));
            }
        }
        let mut bought = std::collections::HashMap::new();
        for attempt in attempts {
            let (token, status, body) = attempt.await.unwrap();
            match status {
                StatusCode::CREATED => *bought.entry(token).or_insert(0) += 1,
                StatusCode::CONFLICT => assert_eq!(body["code"], "pass_used", "round {round}: {body}"),
                other => panic!("round {round}: {other} {body}"),
            }
        }
        assert_eq!(bought.len(), fans.len(), "round {round}: every buyer bought");
        assert!(bought.values().all(|n| *n == 1), "round {round}: each pass bought once: {bought:?}");
        let (event_id, tier_id) = (uuid::Uuid::parse_str(&event).unwrap(), uuid::Uuid::parse_str(&tier).unwrap());
        let counts = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM orders WHERE event_id = $1) AS "orders!",
                      (SELECT count(*) FROM tickets WHERE event_id = $1) AS "tickets!",
                      (SELECT sold FROM ticket_tiers WHERE id = $2) AS "sold!""#,
            event_id,
            tier_id
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let (orders, tickets, sold) = (counts.orders, counts.tickets, counts.sold);
        assert_eq!((orders, tickets, sold), (8, 8, 8), "round {round}");
        for (_, id) in &fans {
            assert_eq!(crate::ticketing::wallet(&app, *id).await, 100_000 - 1000, "round {round}: charged once");
        }
    }
}
