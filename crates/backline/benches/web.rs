//! Web app benchmark: every main page of the web app with the demo data, against the JSON API call
//! that reads the same data, measured side by side on the same server in one run. The target is a p99
//! under 50 ms per page on this machine. Run with `cargo bench -p backline --bench web`; results in
//! docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::AppContext;
use support::{Client, Latencies, Work, load, ms, serve};

const CONNECTIONS: usize = 4;
const EACH: Duration = Duration::from_secs(5);

/// Closed-loop latencies of GET `path` (with `headers`) on 4 kept-alive connections for 5 s; every
/// answer must be a 200.
async fn measure(addr: std::net::SocketAddr, path: String, headers: Vec<(String, String)>) -> Latencies {
    let path = Arc::new(path);
    let headers = Arc::new(headers);
    let work: Work = Arc::new(move |client: &mut Client, _| {
        let path = path.clone();
        let headers = headers.clone();
        Box::pin(async move {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let started = Instant::now();
            let (status, body) = client.send_with("GET", &path, &pairs, None).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            started.elapsed()
        })
    });
    load(addr, CONNECTIONS, EACH, work).await
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(20).connect(&db.url()).await.unwrap();
    // The demo seals the events' signing keys with the server's secrets: the same ones, or no ticket opens.
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid");
    let env =
        platform::demo::DemoEnv { secrets: ctx.secrets.clone(), storage: ctx.storage.clone(), now: chrono::Utc::now() };
    platform::demo::load(&pool, &backline::demo_datasets(), &env).await.unwrap();
    let addr = serve(ctx).await;

    // Each persona's session: the API's token, as the page's cookie and as a bearer.
    let mut client = Client::connect(addr).await;
    let mut sessions = std::collections::HashMap::new();
    for login in ["fan_felix", "promo_pete", "olga_events", "admin"] {
        let body = serde_json::json!({"login": login, "password": identity::demo::DEMO_PASSWORD}).to_string();
        let (status, answer) = client.send("POST", "/v1/auth/login", None, Some(&body)).await;
        assert_eq!(status, 200, "{login}");
        let token =
            serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["access_token"].as_str().unwrap().to_owned();
        let cookie = vec![("Cookie".to_owned(), format!("bl_access={token}; bl_csrf={}", "ab".repeat(32)))];
        let bearer = vec![("Authorization".to_owned(), format!("Bearer {token}"))];
        sessions.insert(login, (cookie, bearer));
    }
    let mut read = async |path: &str, login: &str| -> serde_json::Value {
        let bearer = &sessions[login].1[0];
        let (status, body) = client.send_with("GET", path, &[(bearer.0.as_str(), bearer.1.as_str())], None).await;
        assert_eq!(status, 200, "{path}");
        serde_json::from_slice(&body).unwrap()
    };
    let event = read("/v1/events?limit=1", "fan_felix").await["items"][0]["id"].as_str().unwrap().to_owned();
    let artist = read("/v1/artists?limit=1", "promo_pete").await["items"][0]["id"].as_str().unwrap().to_owned();
    let booking = read("/v1/me/bookings", "promo_pete").await["items"][0]["id"].as_str().unwrap().to_owned();
    let org = read("/v1/orgs", "promo_pete").await["items"][0]["id"].as_str().unwrap().to_owned();
    let managed = read("/v1/me/events", "olga_events").await[0]["id"].as_str().unwrap().to_owned();
    let (cookie, bearer) = sessions["fan_felix"].clone();
    let (pete, pete_bearer) = sessions["promo_pete"].clone();
    let (olga, olga_bearer) = sessions["olga_events"].clone();
    let (staff, staff_bearer) = sessions["admin"].clone();
    let pairs = [
        ("home page `/`", "/".to_owned(), vec![], "/v1/events?limit=6".to_owned(), vec![]),
        ("search `/events`", "/events".to_owned(), vec![], "/v1/events?limit=20".to_owned(), vec![]),
        (
            "search `/events?q=jazz`",
            "/events?q=jazz".to_owned(),
            vec![],
            "/v1/events?q=jazz&limit=20".to_owned(),
            vec![],
        ),
        ("event page", format!("/events/{event}"), vec![], format!("/v1/events/{event}"), vec![]),
        (
            "my tickets (signed in)",
            "/me/tickets".to_owned(),
            cookie.clone(),
            "/v1/me/tickets".to_owned(),
            bearer.clone(),
        ),
        ("wallet", "/me/wallet".to_owned(), cookie.clone(), "/v1/me/wallet".to_owned(), bearer.clone()),
        (
            "notifications",
            "/me/notifications".to_owned(),
            cookie.clone(),
            "/v1/me/notifications".to_owned(),
            bearer.clone(),
        ),
        (
            "account (profile and sessions)",
            "/me/account".to_owned(),
            cookie.clone(),
            "/v1/me/sessions".to_owned(),
            bearer.clone(),
        ),
        ("payouts", "/me/payouts".to_owned(), cookie.clone(), "/v1/me/withdrawals".to_owned(), bearer.clone()),
        ("API keys", "/me/keys".to_owned(), cookie.clone(), "/v1/me/api-keys".to_owned(), bearer.clone()),
        (
            "artist directory",
            "/artists".to_owned(),
            pete.clone(),
            "/v1/artists?limit=20".to_owned(),
            pete_bearer.clone(),
        ),
        (
            "artist page",
            format!("/artists/{artist}"),
            pete.clone(),
            format!("/v1/artists/{artist}"),
            pete_bearer.clone(),
        ),
        ("bookings inbox", "/bookings".to_owned(), pete.clone(), "/v1/me/bookings".to_owned(), pete_bearer.clone()),
        (
            "a booking (thread, contract, money)",
            format!("/bookings/{booking}"),
            pete.clone(),
            format!("/v1/bookings/{booking}"),
            pete_bearer.clone(),
        ),
        (
            "an organization",
            format!("/orgs/{org}"),
            pete.clone(),
            format!("/v1/orgs/{org}/members"),
            pete_bearer.clone(),
        ),
        (
            "sales dashboard",
            format!("/manage/events/{managed}/sales"),
            olga.clone(),
            format!("/v1/events/{managed}/sales"),
            olga_bearer.clone(),
        ),
        (
            "staff: reviews and disputes",
            "/admin/bookings".to_owned(),
            staff.clone(),
            "/v1/admin/bookings".to_owned(),
            staff_bearer.clone(),
        ),
        (
            "staff: audit log",
            "/admin/audit".to_owned(),
            staff.clone(),
            "/v1/admin/audit?limit=50".to_owned(),
            staff_bearer.clone(),
        ),
    ];
    println!("web benchmark: {CONNECTIONS} connections, {} s each, demo data", EACH.as_secs());
    println!("| page | requests/s | p50 | p99 | the API's read: p50 / p99 | page p99 ÷ API p99 |");
    println!("|---|---|---|---|---|---|");
    let mut worst = Duration::ZERO;
    for (name, page, page_headers, api, api_headers) in pairs {
        let p = measure(addr, page, page_headers).await;
        let a = measure(addr, api, api_headers).await;
        let ratio = p.percentile(99.0).as_secs_f64() / a.percentile(99.0).as_secs_f64().max(1e-9);
        worst = worst.max(p.percentile(99.0));
        println!(
            "| {name} | {:.0} | {} | {} | {} / {} | {ratio:.2} |",
            p.rate(EACH),
            ms(p.percentile(50.0)),
            ms(p.percentile(99.0)),
            ms(a.percentile(50.0)),
            ms(a.percentile(99.0)),
        );
    }
    println!("worst page p99: {} (target: under 50 ms)", ms(worst));
}
