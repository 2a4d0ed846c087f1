//! Booking through the HTTP API: profiles and categories, the directory, negotiation rounds with turns,
//! steps and deadlines, applications, and the database's refusal of double bookings.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use testkit::TestApp;

use crate::support::{PASSWORD, app, create_org, drain_jobs, login, signed_in, signed_in_admin};

async fn token_of(app: &TestApp, username: &str) -> String {
    login(app, username, PASSWORD).await.value()["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn created(res: testkit::TestResponse) -> Value {
    res.assert_status(StatusCode::CREATED);
    res.value()
}

fn at(app: &TestApp, days: i64) -> DateTime<Utc> {
    app.clock_now() + Duration::days(days)
}

fn terms(app: &TestApp, fee: i64, days: i64) -> Value {
    json!({"fee": fee, "currency": "EUR", "starts_at": at(app, days), "ends_at": at(app, days) + Duration::hours(2),
           "rider": {"technical": "2 DI boxes", "hospitality": "water"}})
}

/// An artist (with a price range) and a promoter, each with their own user; answers their tokens and ids.
pub(crate) struct Parties {
    pub artist: String,
    pub artist_id: String,
    pub organizer: String,
    pub promoter_id: String,
}

pub(crate) async fn parties(app: &TestApp, prefix: &str) -> Parties {
    let (artist, _, _) = signed_in(app, &format!("{prefix}_artist")).await;
    let (organizer, _, _) = signed_in(app, &format!("{prefix}_promoter")).await;
    let a = created(
        app.post("/v1/artists")
            .bearer(&artist)
            .json(&json!({"stage_name": format!("{prefix} band"), "genres": ["Jazz"], "price_min": 20000, "price_max": 80000}))
            .send()
            .await,
    )
    .await;
    let p = created(
        app.post("/v1/promoters").bearer(&organizer).json(&json!({"name": format!("{prefix} presents")})).send().await,
    )
    .await;
    Parties {
        artist,
        artist_id: a["id"].as_str().unwrap().to_owned(),
        organizer,
        promoter_id: p["id"].as_str().unwrap().to_owned(),
    }
}

pub(crate) async fn offer(app: &TestApp, p: &Parties, fee: i64, days: i64) -> testkit::TestResponse {
    app.post("/v1/bookings")
        .bearer(&p.organizer)
        .json(&json!({"artist_id": p.artist_id, "promoter_id": p.promoter_id, "terms": terms(app, fee, days)}))
        .send()
        .await
}

#[tokio::test]
async fn profiles_categories_and_the_directory() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let (solo, _, _) = signed_in(&app, "solo_singer").await;
    let (manager, _, _) = signed_in(&app, "band_manager_x").await;
    let (stranger, _, _) = signed_in(&app, "directory_stranger").await;
    let band_org = create_org(&app, &manager, "the-quartet").await;

    // The price range suggests the category; each change is kept.
    let singer = created(
        app.post("/v1/artists")
            .bearer(&solo)
            .json(&json!({"stage_name": "Nova Jazz", "bio": "Smoky jazz vocals", "genres": ["Jazz", "Soul"],
                          "city": "Berlin", "country": "DE", "latitude": 52.52, "longitude": 13.405,
                          "price_min": 30000, "price_max": 90000}))
            .send()
            .await,
    )
    .await;
    assert_eq!(singer["category"], "budding");
    let id = singer["id"].as_str().unwrap().to_owned();
    app.post("/v1/artists")
        .bearer(&solo)
        .json(&json!({"stage_name": "Nova Jazz again"}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "profile_exists");
    let raised =
        app.patch(&format!("/v1/artists/{id}")).bearer(&solo).json(&json!({"price_max": 150000})).send().await.value();
    assert_eq!(raised["category"], "mid_scale");
    app.patch(&format!("/v1/artists/{id}"))
        .bearer(&stranger)
        .json(&json!({"bio": "mine now"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // An admin sets and locks it; the price range no longer moves it.
    app.put(&format!("/v1/artists/{id}/category"))
        .bearer(&solo)
        .json(&json!({"category": "international"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let locked = app
        .put(&format!("/v1/artists/{id}/category"))
        .bearer(&admin)
        .json(&json!({"category": "international", "reason": "headlined three festivals"}))
        .send()
        .await
        .value();
    assert_eq!((locked["category"].as_str(), locked["category_locked"].as_bool()), (Some("international"), Some(true)));
    let still =
        app.patch(&format!("/v1/artists/{id}")).bearer(&solo).json(&json!({"price_max": 40000})).send().await.value();
    assert_eq!(still["category"], "international");
    let history = app.get(&format!("/v1/artists/{id}/category-history")).bearer(&solo).send().await.value();
    let steps: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from_cat"].as_str().unwrap().to_owned(), h["to_cat"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(steps, vec![("budding".into(), "mid_scale".into()), ("mid_scale".into(), "international".into())]);

    // A band: its organization's managers keep the profile.
    let band = created(
        app.post("/v1/artists")
            .bearer(&manager)
            .json(
                &json!({"organization_id": band_org, "stage_name": "The Quartet", "genres": ["jazz"], "city": "Hamburg",
                          "latitude": 53.551, "longitude": 9.993, "price_min": 100000, "price_max": 300000}),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(band["owner"]["type"], "organization");
    app.post("/v1/artists")
        .bearer(&stranger)
        .json(&json!({"organization_id": band_org, "stage_name": "Impostors"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let bad = app
        .post("/v1/artists")
        .bearer(&stranger)
        .json(&json!({"stage_name": "", "latitude": 95.0, "price_min": 500, "price_max": 100}))
        .send()
        .await;
    let fields: Vec<String> =
        bad.value()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    for field in ["stage_name", "longitude", "latitude", "price_max"] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    // The directory: words, genre, distance, budget.
    let names = |res: &Value| -> Vec<String> {
        res["items"].as_array().unwrap().iter().map(|a| a["stage_name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&app.get("/v1/artists?q=smoky%20vocals").send().await.value()), vec!["Nova Jazz"]);
    assert_eq!(names(&app.get("/v1/artists?genre=Jazz").send().await.value()), vec!["Nova Jazz", "The Quartet"]);
    // Berlin to Hamburg is about 255 km.
    let near = app.get("/v1/artists?lat=52.52&lng=13.405&radius_km=100").send().await.value();
    assert_eq!(names(&near), vec!["Nova Jazz"]);
    assert!(near["items"][0]["distance_km"].as_f64().unwrap() < 1.0);
    assert_eq!(names(&app.get("/v1/artists?lat=52.52&lng=13.405&radius_km=300").send().await.value()).len(), 2);
    // Budgets overlapping the price range (Nova asks 300.00–400.00, the Quartet 1,000.00–3,000.00).
    assert_eq!(
        names(&app.get("/v1/artists?budget_min=250000&budget_max=400000").send().await.value()),
        vec!["The Quartet"]
    );
    app.get("/v1/artists?lat=52.52").send().await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Venues and promoters.
    created(
        app.post("/v1/venues")
            .bearer(&stranger)
            .json(&json!({"name": "Velvet Room", "city": "Berlin", "country": "DE", "capacity": 400, "amenities": ["PA", "Backstage"]}))
            .send()
            .await,
    )
    .await;
    created(
        app.post("/v1/venues")
            .bearer(&stranger)
            .json(&json!({"name": "Tiny Bar", "city": "Berlin", "country": "DE", "capacity": 60}))
            .send()
            .await,
    )
    .await;
    let big = app.get("/v1/venues?city=berlin&min_capacity=100").send().await.value();
    assert_eq!(big["items"].as_array().unwrap().len(), 1);
    assert_eq!(big["items"][0]["amenities"], json!(["pa", "backstage"]));
    let promoter =
        created(app.post("/v1/promoters").bearer(&stranger).json(&json!({"name": "Night Owls"})).send().await).await;
    assert_eq!((promoter["trust_score"].as_i64(), promoter["verified"].as_bool()), (Some(50), Some(false)));
    let reviewed = app
        .put(&format!("/v1/promoters/{}/review", promoter["id"].as_str().unwrap()))
        .bearer(&admin)
        .json(&json!({"verified": true, "trust_score": 85}))
        .send()
        .await
        .value();
    assert_eq!((reviewed["trust_score"].as_i64(), reviewed["verified"].as_bool()), (Some(85), Some(true)));
}

/// Near a place, the directory answers nearest first (not by name), pages through every artist in
/// the radius exactly once (two at the same spot too), and the radius is a great-circle bound to the
/// metre: an artist 33.358 km away is in a 33.36 km radius and out of a 33.35 km one.
#[tokio::test]
async fn the_directory_near_a_place_is_nearest_first_and_pages_without_gaps() {
    let app = app().await;
    // Along the meridian 11°E from 48°N: 0.1° of latitude is 11.1195 km. Names run against distance.
    let names = ["Zed", "Yara", "Xeno", "Wren", "Vega", "Uma"];
    let mut made = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let (token, _, _) = signed_in(&app, &format!("near_{k}")).await;
        let body = json!({"stage_name": name, "latitude": 48.0 + 0.1 * (k + 1) as f64, "longitude": 11.0});
        let artist = created(app.post("/v1/artists").bearer(&token).json(&body).send().await).await;
        made.push((token, artist["id"].as_str().unwrap().to_owned()));
    }
    // Two more at Yara's spot: paging one at a time must not lose one of three at one distance.
    for twin in ["Ada", "Bea"] {
        let (token, _, _) = signed_in(&app, &format!("near_{twin}")).await;
        let body = json!({"stage_name": twin, "latitude": 48.2, "longitude": 11.0});
        created(app.post("/v1/artists").bearer(&token).json(&body).send().await).await;
    }
    // Yara moves away and back: the index now meets her after the other two, though her id is the
    // smallest of the three (a page cut inside the three must still take them in id order).
    let (yara_token, yara) = &made[1];
    for latitude in [48.25, 48.2] {
        let path = format!("/v1/artists/{yara}");
        app.patch(&path)
            .bearer(yara_token)
            .json(&json!({"latitude": latitude, "longitude": 11.0}))
            .send()
            .await
            .assert_status(StatusCode::OK);
    }

    let list = |query: String| {
        let app = &app;
        async move {
            let page = app.get(&format!("/v1/artists?lat=48&lng=11&{query}")).send().await.value();
            let items = page["items"].as_array().unwrap().clone();
            (items, page["next_cursor"].as_str().map(str::to_owned))
        }
    };
    let (all, more) = list("radius_km=60".into()).await;
    assert_eq!(more, None);
    let order: Vec<&str> = all.iter().map(|a| a["stage_name"].as_str().unwrap()).collect();
    assert_eq!(order.len(), 7, "{order:?}");
    assert_eq!(order[0], "Zed");
    let mut twins = order[1..4].to_vec();
    twins.sort_unstable();
    assert_eq!(twins, ["Ada", "Bea", "Yara"], "the three at 22.24 km follow, in id order");
    assert_eq!(order[4..], ["Xeno", "Wren", "Vega"]);
    let distances: Vec<f64> = all.iter().map(|a| a["distance_km"].as_f64().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!((distances[0] - 11.1195).abs() < 0.001, "{distances:?}");

    // One at a time, by cursor: the same order, nobody twice, nobody missed.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (items, next) = list(format!("radius_km=60&limit=1&cursor={cursor}")).await;
        paged.extend(items.iter().map(|a| a["stage_name"].as_str().unwrap().to_owned()));
        match next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(paged, order);

    // The radius to the metre: Xeno is 0.3° (33.358 km) away.
    let names_in = |items: &[Value]| -> Vec<String> {
        items.iter().map(|a| a["stage_name"].as_str().unwrap().to_owned()).collect()
    };
    let (inside, _) = list("radius_km=33.36".into()).await;
    assert_eq!(names_in(&inside).last().map(String::as_str), Some("Xeno"));
    let (outside, _) = list("radius_km=33.35".into()).await;
    assert!(!names_in(&outside).iter().any(|n| n == "Xeno"), "{outside:?}");
    assert_eq!(outside.len(), 4);
    // With words, relevance orders and the radius still bounds.
    let (words, _) = list("radius_km=15&q=zed".into()).await;
    assert_eq!(names_in(&words), ["Zed"]);
}

#[tokio::test]
async fn negotiation_follows_turns_and_steps_and_agreement_fixes_the_figures() {
    let app = app().await;
    let p = parties(&app, "neg").await;
    let (stranger, _, _) = signed_in(&app, "neg_stranger").await;

    // Below the category's minimum fee (budding: 100.00).
    let low = offer(&app, &p, 9_999, 30).await;
    assert_eq!(low.value()["errors"][0]["code"], "below_minimum");
    let booking = offer(&app, &p, 50_000, 30).await;
    booking.assert_status(StatusCode::CREATED);
    let booking = booking.value();
    assert_eq!(
        (booking["status"].as_str(), booking["step"].as_i64(), booking["turn"].as_str()),
        (Some("offered"), Some(1), Some("artist"))
    );
    let id = booking["id"].as_str().unwrap().to_owned();
    let path = |what: &str| format!("/v1/bookings/{id}/{what}");

    // Only the side whose turn it is moves; strangers see nothing.
    app.get(&format!("/v1/bookings/{id}")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    app.post(&path("proposals"))
        .bearer(&p.organizer)
        .json(&terms(&app, 60_000, 30))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "not_your_turn");
    app.post(&path("accept")).bearer(&p.organizer).send().await.assert_problem(StatusCode::CONFLICT, "not_your_turn");
    let seen = app.get(&format!("/v1/bookings/{id}")).bearer(&p.artist).send().await.value();
    assert_eq!(seen["can"], json!(["propose", "accept", "decline"]));

    // Step 2: the artist counters; step 3: the organizer counters; then the artist may only accept or walk away.
    let two = app.post(&path("proposals")).bearer(&p.artist).json(&terms(&app, 80_000, 31)).send().await;
    two.assert_status(StatusCode::CREATED);
    assert_eq!(
        (two.value()["status"].as_str(), two.value()["turn"].as_str()),
        (Some("negotiating"), Some("organizer"))
    );
    let three = app.post(&path("proposals")).bearer(&p.organizer).json(&terms(&app, 70_000, 31)).send().await.value();
    assert_eq!(three["step"], 3);
    assert_eq!(three["can"], json!(["decline"]), "the organizer waits");
    let artist_view = app.get(&format!("/v1/bookings/{id}")).bearer(&p.artist).send().await.value();
    assert_eq!(artist_view["can"], json!(["accept", "decline"]), "no fourth proposal");
    app.post(&path("proposals"))
        .bearer(&p.artist)
        .json(&terms(&app, 75_000, 31))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "no_more_rounds");

    // Accepting fixes the last proposal and the commission (budding, trust 50: 5% on top, 80% to the artist).
    let agreed = app.post(&path("accept")).bearer(&p.artist).send().await;
    agreed.assert_status(StatusCode::OK);
    let agreed = agreed.value();
    assert_eq!(agreed["status"], "contracting");
    let figures = &agreed["agreement"]["figures"];
    assert_eq!(
        (
            figures["fee"].as_i64(),
            figures["organizer_pays"].as_i64(),
            figures["artist_receives"].as_i64(),
            figures["platform_keeps"].as_i64()
        ),
        (Some(70_000), Some(73_500), Some(56_000), Some(17_500))
    );
    assert_eq!(agreed["agreement"]["terms"]["rider"]["technical"], "2 DI boxes");
    assert_eq!(agreed["starts_at"], three["starts_at"], "the booking takes the agreed slot");
    app.post(&path("decline"))
        .bearer(&p.organizer)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "not_negotiating");
    let mine = app.get("/v1/me/bookings").bearer(&p.organizer).send().await.value();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"][0]["proposals"].as_array().unwrap().len(), 3);

    // A high-risk promoter pays two points more.
    let admin = signed_in_admin(&app).await;
    app.put(&format!("/v1/promoters/{}/review", p.promoter_id))
        .bearer(&admin)
        .json(&json!({"trust_score": 20}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let second = offer(&app, &p, 100_000, 60).await.value();
    let accepted = app
        .post(&format!("/v1/bookings/{}/accept", second["id"].as_str().unwrap()))
        .bearer(&p.artist)
        .send()
        .await
        .value();
    assert_eq!(accepted["agreement"]["figures"]["organizer_pays"], 107_000);
    assert_eq!(accepted["agreement"]["figures"]["trust"], "high_risk");
}

#[tokio::test]
async fn an_unanswered_negotiation_expires_at_its_deadline_and_both_sides_are_told() {
    let app = app().await;
    let p = parties(&app, "late").await;
    let booking = offer(&app, &p, 50_000, 30).await.value();
    let id = booking["id"].as_str().unwrap().to_owned();
    let deadline: DateTime<Utc> = booking["deadline_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline - app.clock_now(), Duration::hours(72));

    // A counter-offer resets the deadline.
    app.clock.advance(Duration::hours(71));
    let artist = token_of(&app, "late_artist").await;
    let countered = app
        .post(&format!("/v1/bookings/{id}/proposals"))
        .bearer(&artist)
        .json(&terms(&app, 60_000, 30))
        .send()
        .await
        .value();
    let reset: DateTime<Utc> = countered["deadline_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(reset - app.clock_now(), Duration::hours(72));
    app.clock.advance(Duration::hours(2));
    drain_jobs(&app).await;
    let organizer = token_of(&app, "late_promoter").await;
    assert_eq!(app.get(&format!("/v1/bookings/{id}")).bearer(&organizer).send().await.value()["status"], "negotiating");

    // One second before the new deadline: still open; at it: cancelled by the system.
    app.clock.advance(Duration::hours(70) - Duration::seconds(1));
    drain_jobs(&app).await;
    let organizer = token_of(&app, "late_promoter").await;
    assert_eq!(app.get(&format!("/v1/bookings/{id}")).bearer(&organizer).send().await.value()["status"], "negotiating");
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let expired = app.get(&format!("/v1/bookings/{id}")).bearer(&organizer).send().await.value();
    assert_eq!((expired["status"].as_str(), expired["cancelled_by"].as_str()), (Some("cancelled"), Some("system")));
    assert!(expired["cancel_reason"].as_str().unwrap().contains("organizer"));
    let told: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT user_id) FROM notifications WHERE kind = 'booking.cancelled'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(told, 2, "both sides");
}

#[tokio::test]
async fn artists_apply_to_open_calls_and_the_organizer_proposes_first() {
    let app = app().await;
    let p = parties(&app, "call").await;
    // A ticketed event of the promoter's user, open for applications.
    let event = app
        .post("/v1/events")
        .bearer(&p.organizer)
        .json(&json!({"title": "Open stage", "starts_at": at(&app, 20), "ends_at": at(&app, 20) + Duration::hours(3), "timezone": "Europe/Berlin"}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let apply = || {
        app.post(&format!("/v1/events/{event}/applications"))
            .bearer(&p.artist)
            .json(&json!({"artist_id": p.artist_id, "message": "We play jazz"}))
            .send()
    };
    apply().await.assert_problem(StatusCode::CONFLICT, "not_open");
    app.put(&format!("/v1/events/{event}/open-call"))
        .bearer(&p.organizer)
        .json(&json!({"promoter_id": p.promoter_id, "closes_at": at(&app, 10)}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let applied = apply().await;
    applied.assert_status(StatusCode::CREATED);
    let applied = applied.value();
    assert_eq!(
        (applied["status"].as_str(), applied["turn"].as_str(), applied["step"].as_i64()),
        (Some("inquiry"), Some("organizer"), Some(0))
    );
    apply().await.assert_problem(StatusCode::CONFLICT, "already_applied");
    let id = applied["id"].as_str().unwrap();
    // The artist cannot propose first, nor accept nothing.
    app.post(&format!("/v1/bookings/{id}/proposals"))
        .bearer(&p.artist)
        .json(&terms(&app, 50_000, 20))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "not_your_turn");
    let first = app
        .post(&format!("/v1/bookings/{id}/proposals"))
        .bearer(&p.organizer)
        .json(&terms(&app, 50_000, 20))
        .send()
        .await
        .value();
    assert_eq!((first["status"].as_str(), first["step"].as_i64()), (Some("negotiating"), Some(1)));
    let accepted = app.post(&format!("/v1/bookings/{id}/accept")).bearer(&p.artist).send().await.value();
    assert_eq!(accepted["status"], "contracting");
}

#[tokio::test]
async fn overlapping_confirmations_at_once_confirm_exactly_one() {
    let app = Arc::new(app().await);
    // The evenings below start at the hour the test starts: from noon (UTC), none crosses midnight in
    // any zone the directory may count days in, whatever the hour the suite runs at.
    let now = app.clock_now();
    let noon = now.date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    app.clock.advance(if noon > now { noon - now } else { noon + Duration::days(1) - now });
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "double").await;
    let (other_org, _, _) = signed_in(&app, "double_other").await;
    let other =
        app.post("/v1/promoters").bearer(&other_org).json(&json!({"name": "Rival presents"})).send().await.value();
    // Two agreements for overlapping evenings (19:00-21:00 and 20:00-22:00 on day 30), one on day 31.
    let a = agreed(&app, &p, 30).await;
    let b = app
        .post("/v1/bookings")
        .bearer(&other_org)
        .json(&json!({"artist_id": p.artist_id, "promoter_id": other["id"], "terms": {"fee": 60_000, "currency": "EUR",
              "starts_at": at(&app, 30) + Duration::hours(1), "ends_at": at(&app, 30) + Duration::hours(3)}}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/bookings/{b}/accept")).bearer(&p.artist).send().await.assert_status(StatusCode::OK);
    let c = agreed(&app, &p, 31).await;
    for (id, organizer) in [(&a, &p.organizer), (&b, &other_org), (&c, &p.organizer)] {
        let sha = app.get(&format!("/v1/bookings/{id}/contract")).bearer(organizer).send().await.value()["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        sign(&app, organizer, id, &sha).await.assert_status(StatusCode::OK);
        sign(&app, &p.artist, id, &sha).await.assert_status(StatusCode::OK);
    }
    // Both overlapping ones approved at once: exactly one holds the date.
    let review = |id: String| {
        let (app, admin) = (app.clone(), admin.clone());
        tokio::spawn(async move {
            app.post(&format!("/v1/bookings/{id}/contract/review"))
                .bearer(&admin)
                .json(&json!({"decision": "approve"}))
                .send()
                .await
        })
    };
    let (x, y) = (review(a.clone()), review(b.clone()));
    let (x, y) = (x.await.unwrap(), y.await.unwrap());
    let statuses = [x.status, y.status];
    assert!(statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
    let refused = if x.status == StatusCode::CONFLICT { x } else { y };
    assert_eq!(refused.value()["code"], "double_booking");
    review(c.clone()).await.unwrap().assert_status(StatusCode::OK);
    let confirmed: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'confirmed'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(confirmed, 2, "one on day 30, one on day 31");
    // The directory knows: not available on day 30, available the day after day 31's evening ends (which
    // is day 32 or, when the tests run late in the day, day 33).
    let on = |day: chrono::NaiveDate| {
        let app = app.clone();
        async move {
            let res = app.get(&format!("/v1/artists?available_on={day}")).send().await.value();
            res["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(on(at(&app, 30).date_naive()).await, 0);
    let last_evening_ends = at(&app, 31) + Duration::hours(2);
    assert_eq!(on(last_evening_ends.date_naive().succ_opt().unwrap()).await, 1);
}

/// A booking agreed at 700.00 (contracting); answers its id.
pub(crate) async fn agreed(app: &TestApp, p: &Parties, days: i64) -> String {
    let booking = offer(app, p, 70_000, days).await.value();
    let id = booking["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/bookings/{id}/accept")).bearer(&p.artist).send().await.assert_status(StatusCode::OK);
    id
}

pub(crate) async fn sign(app: &TestApp, token: &str, id: &str, sha: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/bookings/{id}/contract/sign"))
        .bearer(token)
        .header("user-agent", "backline-tests/1")
        .ip("203.0.113.7")
        .json(&json!({"sha256": sha}))
        .send()
        .await
}

#[tokio::test]
async fn contracts_are_signed_in_order_edited_once_per_side_reviewed_and_printed() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "ink").await;
    let id = agreed(&app, &p, 40).await;
    let contract = app.get(&format!("/v1/bookings/{id}/contract")).bearer(&p.organizer).send().await.value();
    assert_eq!(contract["version"], 1);
    let text = contract["text"].as_str().unwrap();
    assert!(text.contains("ink band") && text.contains("ink presents") && text.contains("2 DI boxes"), "{text}");
    // The schedule: 30% of 735.00 at confirmation, the rest 24 hours before the show.
    let schedule = &contract["document"]["schedule"];
    assert_eq!((schedule[0]["amount"].as_i64(), schedule[1]["amount"].as_i64()), (Some(22_050), Some(51_450)));
    let v1 = contract["sha256"].as_str().unwrap().to_owned();

    sign(&app, &p.artist, &id, &v1).await.assert_problem(StatusCode::CONFLICT, "organizer_signs_first");
    sign(&app, &p.organizer, &id, &"0".repeat(64)).await.assert_problem(StatusCode::CONFLICT, "contract_changed");
    sign(&app, &p.organizer, &id, &v1).await.assert_status(StatusCode::OK);
    sign(&app, &p.organizer, &id, &v1).await.assert_problem(StatusCode::CONFLICT, "already_signed");

    // The artist asks for its one edit: version 2, which both sign again.
    let edited = app
        .post(&format!("/v1/bookings/{id}/contract/edits"))
        .bearer(&p.artist)
        .json(&json!({"clause": "Soundcheck at 17:00."}))
        .send()
        .await;
    edited.assert_status(StatusCode::CREATED);
    let edited = edited.value();
    assert_eq!((edited["version"].as_i64(), edited["signed"].as_bool()), (Some(2), Some(false)));
    let v2 = edited["sha256"].as_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    app.post(&format!("/v1/bookings/{id}/contract/edits"))
        .bearer(&p.artist)
        .json(&json!({"clause": "And a parrot."}))
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "edit_used");
    sign(&app, &p.artist, &id, &v1).await.assert_problem(StatusCode::CONFLICT, "contract_changed");
    sign(&app, &p.organizer, &id, &v2).await.assert_status(StatusCode::OK);
    let both = sign(&app, &p.artist, &id, &v2).await.value();
    assert_eq!((both["signed"].as_bool(), both["review_pending"].as_bool()), (Some(true), Some(true)));
    let artist_signature =
        both["signatures"].as_array().unwrap().iter().find(|s| s["version"] == 2 && s["side"] == "artist").unwrap();
    assert_eq!(artist_signature["sha256"], v2.as_str());
    assert_eq!(artist_signature["ip"], "203.0.113.7");
    assert_eq!(artist_signature["user_agent"], "backline-tests/1");

    // An admin's review confirms it.
    app.post(&format!("/v1/bookings/{id}/contract/review"))
        .bearer(&p.organizer)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("/v1/bookings/{id}/contract/review"))
        .bearer(&admin)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let booking = app.get(&format!("/v1/bookings/{id}")).bearer(&p.artist).send().await.value();
    assert_eq!(booking["status"], "confirmed");

    // The PDF's text, read by an independent PDF library, shows the terms and the hash.
    let pdf = app.get(&format!("/v1/bookings/{id}/contract.pdf")).bearer(&p.artist).send().await;
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let doc = lopdf::Document::load_mem(&pdf.body).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let extracted = doc.extract_text(&pages).unwrap();
    assert!(extracted.contains(&v2), "{extracted}");
    assert!(extracted.contains("Soundcheck at 17:00."));
    let (stranger, _, _) = signed_in(&app, "ink_stranger").await;
    app.get(&format!("/v1/bookings/{id}/contract.pdf"))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unsigned_contract_expires_and_overlapping_confirmations_are_refused() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "void").await;
    let lapsing = agreed(&app, &p, 50).await;
    // Two agreements on the same evening; both signed by both sides.
    let first = agreed(&app, &p, 40).await;
    let second = agreed(&app, &p, 40).await;
    for id in [&first, &second] {
        let sha = app.get(&format!("/v1/bookings/{id}/contract")).bearer(&p.organizer).send().await.value()["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        sign(&app, &p.organizer, id, &sha).await.assert_status(StatusCode::OK);
        sign(&app, &p.artist, id, &sha).await.assert_status(StatusCode::OK);
    }
    let review = |id: &str| {
        app.post(&format!("/v1/bookings/{id}/contract/review"))
            .bearer(&admin)
            .json(&json!({"decision": "approve"}))
            .send()
    };
    review(&first).await.assert_status(StatusCode::OK);
    review(&second).await.assert_problem(StatusCode::CONFLICT, "double_booking");

    // 48 hours later, the contract nobody signed is void and its booking cancelled.
    app.clock.advance(Duration::hours(48) - Duration::seconds(1));
    drain_jobs(&app).await;
    let organizer = token_of(&app, "void_promoter").await;
    assert_eq!(
        app.get(&format!("/v1/bookings/{lapsing}")).bearer(&organizer).send().await.value()["status"],
        "contracting"
    );
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let void = app.get(&format!("/v1/bookings/{lapsing}")).bearer(&organizer).send().await.value();
    assert_eq!((void["status"].as_str(), void["cancelled_by"].as_str()), (Some("cancelled"), Some("system")));
    let still = app.get(&format!("/v1/bookings/{first}")).bearer(&organizer).send().await.value();
    assert_eq!(still["status"], "confirmed", "a confirmed booking does not expire");
}

/// A booking confirmed (signed by both, approved) for a show `days` ahead; answers its id.
pub(crate) async fn confirmed(app: &TestApp, p: &Parties, admin: &str, days: i64) -> String {
    let id = agreed(app, p, days).await;
    let sha = app.get(&format!("/v1/bookings/{id}/contract")).bearer(&p.organizer).send().await.value()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    sign(app, &p.organizer, &id, &sha).await.assert_status(StatusCode::OK);
    sign(app, &p.artist, &id, &sha).await.assert_status(StatusCode::OK);
    app.post(&format!("/v1/bookings/{id}/contract/review"))
        .bearer(admin)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    id
}

/// A booking's status as stored (text: a test may store one no enum knows).
pub(crate) async fn status_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar!("SELECT status FROM bookings WHERE id = $1", Uuid::parse_str(id).unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

pub(crate) async fn owner_of(app: &TestApp, table: &str, id: &str) -> Uuid {
    sqlx::query_scalar(&format!("SELECT user_id FROM {table} WHERE id = $1"))
        .bind(Uuid::parse_str(id).unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

pub(crate) async fn fund(app: &TestApp, user: Uuid, amount: i64) {
    crate::ledger::funded(&app.db.pool, user, amount).await;
}

async fn bal(app: &TestApp, owner: ledger::model::Owner, kind: &str) -> i64 {
    crate::ledger::balance(&app.db.pool, owner, kind).await
}

use ledger::model::{Owner as L, kinds};
use uuid::Uuid;

#[tokio::test]
async fn deposit_balance_and_release_are_traced_in_the_ledger() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "cash").await;
    let organizer = L::User(owner_of(&app, "promoter_profiles", &p.promoter_id).await);
    let artist = L::User(owner_of(&app, "artist_profiles", &p.artist_id).await);
    fund(&app, owner_of(&app, "promoter_profiles", &p.promoter_id).await, 100_000).await;

    // Confirmed: the deposit (30% of 735.00) leaves the organizer's wallet for the booking's escrow.
    let id = confirmed(&app, &p, &admin, 10).await;
    let booking_owner = L::Booking(Uuid::parse_str(&id).unwrap());
    let seen = app.get(&format!("/v1/bookings/{id}")).bearer(&p.organizer).send().await.value();
    assert_eq!(seen["status"], "paid_deposit");
    assert_eq!((seen["money"]["deposit"].as_i64(), seen["money"]["balance"].as_i64()), (Some(22_050), Some(51_450)));
    assert_eq!(bal(&app, booking_owner, kinds::ESCROW).await, 22_050);
    assert_eq!(bal(&app, organizer, kinds::AVAILABLE).await, 100_000 - 22_050);

    // 24 hours before the show the balance is collected (→ scheduled).
    app.clock.advance(Duration::days(9) - Duration::seconds(1));
    drain_jobs(&app).await;
    let token = token_of(&app, "cash_promoter").await;
    assert_eq!(app.get(&format!("/v1/bookings/{id}")).bearer(&token).send().await.value()["status"], "paid_deposit");
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(app.get(&format!("/v1/bookings/{id}")).bearer(&token).send().await.value()["status"], "scheduled");
    assert_eq!(bal(&app, booking_owner, kinds::ESCROW).await, 73_500);

    // After the show, completion releases 560.00 to the artist's pending earnings and 175.00 to the platform.
    app.post(&format!("/v1/bookings/{id}/complete"))
        .bearer(&token)
        .send()
        .await
        .assert_problem(StatusCode::CONFLICT, "show_not_over");
    app.clock.advance(Duration::days(1) + Duration::hours(3));
    let token = token_of(&app, "cash_promoter").await;
    let done = app.post(&format!("/v1/bookings/{id}/complete")).bearer(&token).send().await.value();
    assert_eq!(done["status"], "completed");
    assert_eq!(bal(&app, booking_owner, kinds::ESCROW).await, 0);
    assert_eq!(bal(&app, artist, kinds::PENDING).await, 56_000);
    assert_eq!(bal(&app, L::Platform, kinds::REVENUE).await, 17_500);
    crate::ledger::audit(&app.db.pool).await;
}

#[tokio::test]
async fn an_unfunded_organizer_pays_by_card_and_an_unpaid_balance_is_overdue_at_the_show() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "broke").await;
    let id = confirmed(&app, &p, &admin, 5).await;
    let seen = app.get(&format!("/v1/bookings/{id}")).bearer(&p.organizer).send().await.value();
    assert_eq!(seen["status"], "confirmed", "the deposit waits");
    let pay = |token: &str, body: Value| app.post(&format!("/v1/bookings/{id}/pay")).bearer(token).json(&body).send();
    pay(&p.artist, json!({})).await.assert_problem(StatusCode::FORBIDDEN, "not_the_organizer");
    pay(&p.organizer, json!({})).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    let paid = pay(&p.organizer, json!({"source": "card", "card_number": "4242424242424242"})).await;
    paid.assert_status(StatusCode::CREATED);
    assert_eq!(paid.value()["status"], "paid_deposit");
    // The balance is asked for 24 hours before, then overdue at the show.
    app.clock.advance(Duration::days(4));
    drain_jobs(&app).await;
    app.clock.advance(Duration::days(1));
    drain_jobs(&app).await;
    let token = token_of(&app, "broke_promoter").await;
    let late = app.get(&format!("/v1/bookings/{id}")).bearer(&token).send().await.value();
    assert_eq!(
        (late["status"].as_str(), late["money"]["balance_overdue"].as_bool()),
        (Some("paid_deposit"), Some(true))
    );
    let kinds_told: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT kind FROM notifications WHERE kind LIKE 'booking.%' ORDER BY kind")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert!(
        kinds_told.contains(&"booking.payment_due".to_owned())
            && kinds_told.contains(&"booking.balance_overdue".to_owned()),
        "{kinds_told:?}"
    );
}

#[tokio::test]
async fn a_card_payment_retried_with_its_key_is_answered_as_the_first_time() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "retry").await;
    let id = confirmed(&app, &p, &admin, 5).await;
    let organizer_id = owner_of(&app, "promoter_profiles", &p.promoter_id).await;
    let card = json!({"source": "card", "card_number": "4242424242424242"});
    let pay = |key: &str| {
        app.post(&format!("/v1/bookings/{id}/pay"))
            .bearer(&p.organizer)
            .header("idempotency-key", key)
            .json(&card)
            .send()
    };
    let first = pay("booking-pay-1").await;
    first.assert_status(StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    assert_eq!(first.value()["status"], "paid_deposit");
    // The client timed out and sends the same request again: the first answer, nothing charged twice,
    // although the booking now asks for its balance.
    let again = pay("booking-pay-1").await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.value(), first.value());
    let charges: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_intents WHERE user_id = $1")
        .bind(organizer_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(charges, 1);
    // A new key pays the balance.
    let balance = pay("booking-pay-2").await;
    balance.assert_status(StatusCode::CREATED);
    assert_eq!(balance.value()["status"], "scheduled");
    // The same key with another request is refused.
    app.post(&format!("/v1/bookings/{id}/pay"))
        .bearer(&p.organizer)
        .header("idempotency-key", "booking-pay-1")
        .json(&json!({"source": "wallet"}))
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
}

#[tokio::test]
async fn cancellation_penalties_apply_by_side_and_days_left() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "pen").await;
    let organizer_user = owner_of(&app, "promoter_profiles", &p.promoter_id).await;
    let artist_user = owner_of(&app, "artist_profiles", &p.artist_id).await;
    fund(&app, organizer_user, 1_000_000).await;
    fund(&app, artist_user, 1_000_000).await;
    let (organizer, artist) = (L::User(organizer_user), L::User(artist_user));
    // Fee 700.00; the deposit held is 220.50. (side, days, artist's pending gain, organizer's net change)
    for (side, days, artist_gets, organizer_net) in [
        ("organizer", 31, 14_000, -14_000), // 20% of the fee, from the deposit
        ("organizer", 30, 22_050, -22_050), // 50% (350.00) but only the deposit is held
        ("organizer", 14, 22_050, -22_050), // 100%
        ("artist", 91, 0, 0),               // nothing
        ("artist", 90, -14_000, 14_000),    // 20%, from the artist's wallet to the organizer
        ("artist", 29, -35_000, 35_000),    // 50%
    ] {
        let id = confirmed(&app, &p, &admin, days).await;
        let (o0, a0, ap0) = (
            bal(&app, organizer, kinds::AVAILABLE).await,
            bal(&app, artist, kinds::AVAILABLE).await,
            bal(&app, artist, kinds::PENDING).await,
        );
        // The deposit was taken at confirmation: count from before it.
        let o0 = o0 + 22_050;
        let token = if side == "organizer" { &p.organizer } else { &p.artist };
        let cancelled =
            app.post(&format!("/v1/bookings/{id}/cancel")).bearer(token).json(&json!({"reason": "test"})).send().await;
        cancelled.assert_status(StatusCode::OK);
        assert_eq!(cancelled.value()["cancelled_by"], side);
        let artist_change =
            (bal(&app, artist, kinds::AVAILABLE).await - a0) + (bal(&app, artist, kinds::PENDING).await - ap0);
        assert_eq!(artist_change, artist_gets, "{side} at {days} days");
        assert_eq!(bal(&app, organizer, kinds::AVAILABLE).await - o0, organizer_net, "{side} at {days} days");
        assert_eq!(bal(&app, L::Booking(Uuid::parse_str(&id).unwrap()), kinds::ESCROW).await, 0);
    }
    crate::ledger::audit(&app.db.pool).await;
}

#[tokio::test]
async fn a_dispute_freezes_the_escrow_until_an_admin_splits_it() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "feud").await;
    fund(&app, owner_of(&app, "promoter_profiles", &p.promoter_id).await, 100_000).await;
    let id = confirmed(&app, &p, &admin, 2).await;
    app.clock.advance(Duration::days(1));
    drain_jobs(&app).await; // the balance is collected: scheduled
    let token = token_of(&app, "feud_promoter").await;
    app.post(&format!("/v1/bookings/{id}/dispute"))
        .bearer(&token)
        .json(&json!({"reason": ""}))
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let disputed = app
        .post(&format!("/v1/bookings/{id}/dispute"))
        .bearer(&token)
        .json(&json!({"reason": "the set was 20 minutes"}))
        .send()
        .await
        .value();
    assert_eq!(disputed["status"], "disputed");
    // The automatic completion 48 hours after the show does not release a disputed booking.
    app.clock.advance(Duration::days(4));
    drain_jobs(&app).await;
    let escrow = L::Booking(Uuid::parse_str(&id).unwrap());
    assert_eq!(bal(&app, escrow, kinds::ESCROW).await, 73_500);
    let admin = signed_in_admin_again(&app).await;
    let split = app
        .post(&format!("/v1/bookings/{id}/resolution"))
        .bearer(&admin)
        .json(&json!({"outcome": "split", "artist_bps": 6000, "note": "partial set"}))
        .send()
        .await
        .value();
    assert_eq!(split["status"], "refunded");
    let artist = L::User(owner_of(&app, "artist_profiles", &p.artist_id).await);
    assert_eq!(bal(&app, artist, kinds::PENDING).await, 44_100, "60% of 735.00");
    assert_eq!(bal(&app, escrow, kinds::ESCROW).await, 0);
    crate::ledger::audit(&app.db.pool).await;
}

async fn signed_in_admin_again(app: &TestApp) -> String {
    token_of(app, "root_admin").await
}

#[tokio::test]
async fn calendar_feeds_are_secret_rotatable_and_read_by_an_independent_parser() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "cal").await;
    let (stranger, _, _) = signed_in(&app, "cal_stranger").await;
    let id = confirmed(&app, &p, &admin, 12).await;
    let _tentative = agreed(&app, &p, 20).await;
    let rotate = |token: &str| app.post(&format!("/v1/artists/{}/calendar-url", p.artist_id)).bearer(token).send();
    rotate(&stranger).await.assert_status(StatusCode::FORBIDDEN);
    let url = rotate(&p.artist).await.value()["url"].as_str().unwrap().to_owned();
    let path = &url[url.find("/v1/").unwrap()..];
    let feed = app.get(path).send().await;
    feed.assert_status(StatusCode::OK);
    assert_eq!(feed.header("content-type"), Some("text/calendar; charset=utf-8"));
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(&feed.body[..]));
    let calendar = parser.next().unwrap().unwrap();
    assert_eq!(calendar.events.len(), 2);
    let prop = |event: &ical::parser::ical::component::IcalEvent, name: &str| {
        event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap()
    };
    let first = &calendar.events[0];
    assert_eq!(prop(first, "UID"), format!("{id}@backline"));
    assert_eq!(prop(first, "STATUS"), "CONFIRMED");
    assert_eq!(prop(first, "DTSTART"), at(&app, 12).format("%Y%m%dT%H%M%SZ").to_string());
    assert_eq!(prop(&calendar.events[1], "STATUS"), "TENTATIVE");
    // Rotating retires the old URL.
    let new_url = rotate(&p.artist).await.value()["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    app.get(path).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&new_url[new_url.find("/v1/").unwrap()..]).send().await.assert_status(StatusCode::OK);
}

/// A published ticketed event of the organizer's user, with `sold` tickets at `price` bought by a fan;
/// answers its id.
async fn event_with_sales(app: &TestApp, organizer: &str, fan: &str, price: i64, sold: i32) -> String {
    let event = app
        .post("/v1/events")
        .bearer(organizer)
        .json(&json!({"title": "Door night", "starts_at": at(app, 5), "ends_at": at(app, 5) + Duration::hours(4), "timezone": "Europe/Berlin"}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tier = app
        .post(&format!("/v1/events/{event}/tiers"))
        .bearer(organizer)
        .json(&json!({"name": "GA", "price": price, "currency": "EUR", "quantity": 100}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/events/{event}/status"))
        .bearer(organizer)
        .json(&json!({"status": "published"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let order = app
        .post(&format!("/v1/events/{event}/orders"))
        .bearer(fan)
        .json(&json!({"items": [{"tier_id": tier, "quantity": sold}]}))
        .send()
        .await
        .value();
    app.post(&format!("/v1/orders/{}/pay", order["id"].as_str().unwrap()))
        .bearer(fan)
        .json(&json!({"card_number": "4242424242424242"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    event
}

#[tokio::test]
async fn door_and_versus_deals_settle_from_the_events_ticket_sales() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let p = parties(&app, "door").await;
    let (fan, _, _) = signed_in(&app, "door_fan").await;
    let organizer_user = owner_of(&app, "promoter_profiles", &p.promoter_id).await;
    fund(&app, organizer_user, 100_000).await;
    let artist = L::User(owner_of(&app, "artist_profiles", &p.artist_id).await);
    // Busy: 10 tickets at 20.00 (net 200.00). Quiet: 2 at 25.00 (net 50.00).
    let busy = event_with_sales(&app, &p.organizer, &fan, 2_000, 10).await;
    let quiet = event_with_sales(&app, &p.organizer, &fan, 2_500, 2).await;
    let deal = |event: &str, deal_type: &str, door_bps: i64, days: i64| {
        let terms = json!({"fee": 10_000, "currency": "EUR", "deal_type": deal_type, "door_bps": door_bps,
                           "starts_at": at(&app, days), "ends_at": at(&app, days) + Duration::hours(2)});
        app.post("/v1/bookings")
            .bearer(&p.organizer)
            .json(&json!({"artist_id": p.artist_id, "promoter_id": p.promoter_id, "event_id": event, "terms": terms}))
            .send()
    };
    // Another promoter cannot tie a deal to this event's ticket money, nor open it for applications.
    let (rival, _, _) = signed_in(&app, "door_rival").await;
    let rival_promoter = app.post("/v1/promoters").bearer(&rival).json(&json!({"name": "Rival"})).send().await.value();
    let stolen = app
        .post("/v1/bookings")
        .bearer(&rival)
        .json(&json!({"artist_id": p.artist_id, "promoter_id": rival_promoter["id"], "event_id": busy,
                      "terms": {"fee": 10_000, "currency": "EUR", "deal_type": "door", "door_bps": 10_000,
                                "starts_at": at(&app, 7), "ends_at": at(&app, 7) + Duration::hours(2)}}))
        .send()
        .await;
    stolen.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(stolen.value()["errors"][0]["code"], "not_your_event");
    app.put(&format!("/v1/events/{busy}/open-call"))
        .bearer(&rival)
        .json(&json!({"promoter_id": rival_promoter["id"], "closes_at": at(&app, 3)}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let mut ids = Vec::new();
    for (event, deal_type, bps, days) in [(&busy, "versus", 6_000, 5), (&quiet, "door", 5_000, 6)] {
        let id = deal(event, deal_type, bps, days).await.value()["id"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/bookings/{id}/accept")).bearer(&p.artist).send().await.assert_status(StatusCode::OK);
        let sha = app.get(&format!("/v1/bookings/{id}/contract")).bearer(&p.organizer).send().await.value()["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        sign(&app, &p.organizer, &id, &sha).await.assert_status(StatusCode::OK);
        sign(&app, &p.artist, &id, &sha).await.assert_status(StatusCode::OK);
        app.post(&format!("/v1/bookings/{id}/contract/review"))
            .bearer(&admin)
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .assert_status(StatusCode::OK);
        ids.push(id);
    }
    // Both balances are collected the day before; after the shows the organizer completes them.
    app.clock.advance(Duration::days(6) + Duration::hours(4));
    drain_jobs(&app).await;
    let organizer = token_of(&app, "door_promoter").await;
    let platform_before = bal(&app, L::Platform, kinds::REVENUE).await;
    let busy_escrow_before = bal(&app, L::Event(Uuid::parse_str(&busy).unwrap()), kinds::ESCROW).await;
    assert_eq!(busy_escrow_before, 20_000);

    // Versus: 60% of 200.00 is 120.00, more than the 100.00 guarantee: the organizer owes 126.00 in all; the
    // escrow held 105.00, so 21.00 comes from the event's ticket money. The artist gets 80% of 120.00.
    let before = bal(&app, artist, kinds::PENDING).await;
    app.post(&format!("/v1/bookings/{}/complete", ids[0]))
        .bearer(&organizer)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(bal(&app, artist, kinds::PENDING).await - before, 9_600);
    assert_eq!(bal(&app, L::Event(Uuid::parse_str(&busy).unwrap()), kinds::ESCROW).await, 20_000 - 2_100);
    assert_eq!(bal(&app, L::Platform, kinds::REVENUE).await - platform_before, 3_000);

    // Door: 50% of 50.00 is 25.00: the organizer owes 26.25 of the 105.00 it paid and gets 78.75 back.
    let (before, wallet_before) =
        (bal(&app, artist, kinds::PENDING).await, bal(&app, L::User(organizer_user), kinds::AVAILABLE).await);
    app.post(&format!("/v1/bookings/{}/complete", ids[1]))
        .bearer(&organizer)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(bal(&app, artist, kinds::PENDING).await - before, 2_000);
    assert_eq!(bal(&app, L::User(organizer_user), kinds::AVAILABLE).await - wallet_before, 7_875);
    crate::ledger::audit(&app.db.pool).await;
}

#[tokio::test]
async fn holds_rank_by_time_and_a_challenged_first_hold_must_offer_or_lose_it() {
    let app = app().await;
    let p = parties(&app, "hold").await;
    let (rival, _, _) = signed_in(&app, "hold_rival").await;
    let rival_promoter =
        app.post("/v1/promoters").bearer(&rival).json(&json!({"name": "Rival nights"})).send().await.value();
    let place = |token: &str, promoter: &Value, hours: i64| {
        app.post(&format!("/v1/artists/{}/holds", p.artist_id))
            .bearer(token)
            .json(&json!({"promoter_id": promoter, "starts_at": at(&app, 20) + Duration::hours(hours), "ends_at": at(&app, 20) + Duration::hours(hours + 2)}))
            .send()
    };
    let first = place(&p.organizer, &json!(p.promoter_id), 0).await.value();
    let second = place(&rival, &rival_promoter["id"], 1).await.value();
    assert_eq!((first["rank"].as_i64(), second["rank"].as_i64()), (Some(1), Some(2)));
    // The rival only sees its own hold; the artist sees both.
    let seen = |token: &str| {
        let app = &app;
        let path = format!("/v1/artists/{}/holds", p.artist_id);
        let token = token.to_owned();
        async move { app.get(&path).bearer(&token).send().await.value()["items"].as_array().unwrap().len() }
    };
    assert_eq!((seen(&rival).await, seen(&p.artist).await), (1, 2));
    // The first holder cannot challenge; the second challenges once.
    let challenge = |token: &str, hold: &Value| {
        app.post(&format!("/v1/holds/{}/challenge", hold["id"].as_str().unwrap())).bearer(token).send()
    };
    challenge(&p.organizer, &first).await.assert_problem(StatusCode::CONFLICT, "nothing_to_challenge");
    challenge(&rival, &second).await.assert_status(StatusCode::OK);
    challenge(&rival, &second).await.assert_problem(StatusCode::CONFLICT, "already_challenged");
    // One second short of 48 hours, the first hold stands; at 48 hours without an offer it is
    // released and the rival's becomes the first.
    app.clock.advance(Duration::hours(48) - Duration::seconds(1));
    drain_jobs(&app).await;
    let artist = token_of(&app, "hold_artist").await;
    let all = app.get(&format!("/v1/artists/{}/holds", p.artist_id)).bearer(&artist).send().await.value();
    let ranks: Vec<(&str, i64)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["state"].as_str().unwrap(), h["rank"].as_i64().unwrap()))
        .collect();
    assert_eq!(ranks, vec![("active", 1), ("active", 2)]);
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let rival = token_of(&app, "hold_rival").await;
    let mine = app.get(&format!("/v1/artists/{}/holds", p.artist_id)).bearer(&rival).send().await.value();
    assert_eq!(mine["items"][0]["rank"], 1);
    let artist = token_of(&app, "hold_artist").await;
    let all = app.get(&format!("/v1/artists/{}/holds", p.artist_id)).bearer(&artist).send().await.value();
    let states: Vec<&str> = all["items"].as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["released", "active"]);
    // An offer on the held time converts the hold.
    let terms = json!({"fee": 50_000, "currency": "EUR", "starts_at": at(&app, 18) + Duration::hours(1), "ends_at": at(&app, 18) + Duration::hours(3)});
    app.post("/v1/bookings")
        .bearer(&rival)
        .json(&json!({"artist_id": p.artist_id, "promoter_id": rival_promoter["id"], "terms": terms}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let after = app.get(&format!("/v1/artists/{}/holds", p.artist_id)).bearer(&rival).send().await.value();
    assert_eq!(after["items"][0]["state"], "converted");
}

/// A status the code does not know (written by a newer migration, say) is an error that is logged and
/// answered 500, never read as another status.
#[tokio::test]
async fn an_unknown_status_in_the_database_is_an_error_not_another_status() {
    let app = app().await;
    let p = parties(&app, "unknown").await;
    let id = offer(&app, &p, 50_000, 30).await.value()["id"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/bookings/{id}")).bearer(&p.organizer).send().await.assert_status(StatusCode::OK);
    sqlx::raw_sql("ALTER TABLE bookings DROP CONSTRAINT bookings_status_check")
        .execute(&mut app.db.owner().await)
        .await
        .unwrap();
    sqlx::query("UPDATE bookings SET status = 'archived' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let res = app.get(&format!("/v1/bookings/{id}")).bearer(&p.organizer).send().await;
    res.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
    assert!(!res.text().contains("archived"), "the cause is logged, not shown");
    // Nothing was changed by the refusal, and nothing acts on it: cancelling is refused the same way.
    app.post(&format!("/v1/bookings/{id}/cancel"))
        .bearer(&p.organizer)
        .json(&json!({"reason": "no"}))
        .send()
        .await
        .assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
    assert_eq!(status_of(&app, &id).await, "archived");
}

/// A caller's bookings page with cursors, latest show first, each once.
#[tokio::test]
async fn my_bookings_page_with_cursors() {
    let app = app().await;
    let p = parties(&app, "pager").await;
    for days in [20, 30, 40, 50, 60] {
        offer(&app, &p, 50_000, days).await.assert_status(StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/v1/me/bookings?limit=2&cursor={cursor}")).bearer(&p.artist).send().await.value();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|b| b["starts_at"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "latest show first");
    app.get("/v1/me/bookings?cursor=zz")
        .bearer(&p.artist)
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
