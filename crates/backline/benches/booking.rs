//! Booking benchmark: the artist directory (20 artists) and a promoter's bookings list (10 bookings with
//! their parties, venue and proposals) under 64 connections, against the rates the booking seed's
//! original implementation reached on this kind of machine (344 requests/s, p99 290 ms; 77 requests/s,
//! p99 1.4 s). Run with `cargo bench -p backline --bench booking`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use platform::AppContext;
use support::{Client, Work, api_key, load, ms, serve};

const CONNECTIONS: usize = 64;
const PHASE: Duration = Duration::from_secs(8);
/// The original implementation's figures (the issue's measurement: 2 cores, 64 connections).
const ORIGINAL_DIRECTORY: (f64, f64) = (344.0, 290.0);
const ORIGINAL_BOOKINGS: (f64, f64) = (77.0, 1_400.0);

async fn call(client: &mut Client, method: &str, path: &str, key: &str, body: Option<&str>) -> serde_json::Value {
    let (status, answer) = client.send(method, path, Some(key), body).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {}", String::from_utf8_lossy(&answer));
    serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null)
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(20).connect(&db.url()).await.unwrap();
    let addr = serve(AppContext::new(pool.clone(), "http://bench.invalid")).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("booking benchmark: {cores} cores, {CONNECTIONS} connections, {} s phases", PHASE.as_secs());

    // 20 artists and one promoter with 10 bookings (offered, countered, some agreed), each at a venue.
    let hash = identity::password::hash("bench password 2026".to_owned()).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let mut keys = Vec::new();
    for i in 0..21 {
        let name = format!("bench_user_{i}");
        let user = identity::service::create_verified_user(
            &mut conn,
            &format!("{name}@bench.invalid"),
            &name,
            &name,
            &hash,
            &[],
            Utc::now(),
        )
        .await
        .unwrap();
        keys.push(api_key(&pool, user.0).await);
    }
    drop(conn);
    let mut client = Client::connect(addr).await;
    let promoter_key = keys.pop().unwrap();
    let promoter =
        call(&mut client, "POST", "/v1/promoters", &promoter_key, Some(r#"{"name":"Bench Presents"}"#)).await;
    let venue = call(
        &mut client,
        "POST",
        "/v1/venues",
        &promoter_key,
        Some(r#"{"name":"Bench Hall","city":"Berlin","country":"DE","capacity":800,"amenities":["pa","backstage"]}"#),
    )
    .await;
    let mut artists = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let body = format!(
            r#"{{"stage_name":"Artist {i:02}","bio":"Plays {} music on stages across Europe.","genres":["jazz","soul","funk"],"city":"Berlin","country":"DE","latitude":52.5,"longitude":13.4,"price_min":20000,"price_max":90000,"social_links":{{"instagram":"https://instagram.com/artist{i}"}},"media":["https://example.com/{i}.mp3"]}}"#,
            ["jazz", "soul", "funk"][i % 3]
        );
        artists.push(call(&mut client, "POST", "/v1/artists", key, Some(&body)).await);
    }
    for (i, artist) in artists.iter().take(10).enumerate() {
        let starts = Utc::now() + chrono::Duration::days(30 + i as i64);
        let body = serde_json::json!({
            "artist_id": artist["id"], "promoter_id": promoter["id"], "venue_id": venue["id"],
            "terms": {"fee": 50_000, "currency": "EUR", "starts_at": starts, "ends_at": starts + chrono::Duration::hours(2),
                      "rider": {"technical": "2 DI boxes, 4 monitors", "hospitality": "dinner for 4"}}
        })
        .to_string();
        let booking = call(&mut client, "POST", "/v1/bookings", &promoter_key, Some(&body)).await;
        let id = booking["id"].as_str().unwrap().to_owned();
        if i % 2 == 0 {
            let counter = serde_json::json!({"fee": 60_000, "currency": "EUR", "starts_at": starts, "ends_at": starts + chrono::Duration::hours(2)}).to_string();
            call(&mut client, "POST", &format!("/v1/bookings/{id}/proposals"), &keys[i], Some(&counter)).await;
            call(&mut client, "POST", &format!("/v1/bookings/{id}/accept"), &promoter_key, None).await;
        }
    }
    let listed = call(&mut client, "GET", "/v1/me/bookings", &promoter_key, None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 10);
    let found = call(&mut client, "GET", "/v1/artists?limit=20", &promoter_key, None).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 20);

    let directory: Work = Arc::new(|client: &mut Client, _| {
        Box::pin(async move {
            let started = Instant::now();
            let (status, _) = client.send("GET", "/v1/artists?limit=20", None, None).await;
            assert_eq!(status, 200);
            started.elapsed()
        })
    });
    let key = Arc::new(promoter_key);
    let bookings: Work = Arc::new(move |client: &mut Client, _| {
        let key = key.clone();
        Box::pin(async move {
            let started = Instant::now();
            let (status, _) = client.send("GET", "/v1/me/bookings", Some(&key), None).await;
            assert_eq!(status, 200);
            started.elapsed()
        })
    });
    let dir = load(addr, CONNECTIONS, PHASE, directory).await;
    let mine = load(addr, CONNECTIONS, PHASE, bookings).await;

    println!();
    println!("| measurement | Backline | original | ratio |");
    println!("|---|---|---|---|");
    for (name, lat, (rate, p99)) in [
        ("GET /v1/artists (20 artists)", &dir, ORIGINAL_DIRECTORY),
        ("GET /v1/me/bookings (10 bookings)", &mine, ORIGINAL_BOOKINGS),
    ] {
        let ours_rate = lat.rate(PHASE);
        let ours_p99 = lat.percentile(99.0).as_secs_f64() * 1000.0;
        println!("| {name}: requests/s | {ours_rate:.0} | {rate:.0} | **{:.1}×** (target ≥ 5) |", ours_rate / rate);
        println!(
            "| {name}: p50 / p99 | {} / {} | — / {p99:.0} ms | p99 **{:.3}** of the original (target ≤ 0.2) |",
            ms(lat.percentile(50.0)),
            ms(lat.percentile(99.0)),
            ours_p99 / p99
        );
    }
}
