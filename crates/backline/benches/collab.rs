//! Collaboration benchmark, in one run on one PostgreSQL: a channel of 1,000 members with 200 of them
//! following it live (`GET /v1/conversations/{id}/stream`) while messages are posted — messages posted a
//! second, and how long each takes to reach each follower, beside a bare `NOTIFY` round trip; search
//! over a channel of 1,000,000 messages (a ranked query with a `from:` filter, and without it); and an
//! upload of 200 MB beside a plain copy of the same file, with the process's peak memory. Run with
//! `cargo bench -p backline --bench collab`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::AppContext;
use serde_json::Value;
use support::{Client, Latencies, Work, load, ms, serve};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use uuid::Uuid;

const MEMBERS: usize = 1_000;
const FOLLOWERS: usize = 200;
const POSTERS: usize = 4;
const POSTING: Duration = Duration::from_secs(10);
const MESSAGES: i64 = 1_000_000;
const UPLOAD_MB: usize = 200;

/// Words the million messages are made of; a message holds twelve, drawn by its number.
const WORDS: &[&str] = &[
    "mix", "master", "cover", "artwork", "proof", "stage", "riser", "tour", "van", "merch", "poster", "vinyl", "test",
    "pressing", "label", "release", "single", "album", "video", "shoot", "edit", "colour", "grade", "lyrics", "sheet",
    "rider", "sound", "check", "load", "in", "out", "door", "list", "guest", "budget", "invoice", "deadline", "draft",
    "final", "approved", "changes", "logo", "font", "teaser", "launch", "playlist", "pitch", "radio", "press", "photo",
    "session", "studio", "drums", "bass", "vocals", "synth", "marigold", "zephyr", "quasar", "lullaby",
];

/// One follower's stream: every `message` event's message id, with when it arrived.
async fn follow(
    addr: std::net::SocketAddr,
    path: String,
    key: String,
    seen: tokio::sync::mpsc::UnboundedSender<(Uuid, Instant)>,
) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let mut event = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ") {
            if event == "message"
                && let Ok(message) = serde_json::from_str::<Value>(data)
                && let Some(id) = message["id"].as_str().and_then(|id| id.parse().ok())
            {
                let _ = seen.send((id, Instant::now()));
            }
        } else if line.is_empty() {
            event.clear();
        }
    }
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(40).connect(&db.url()).await.unwrap();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid");
    let addr = serve(ctx).await;

    // A thousand people (one password hash for all: the run measures messages, not sign-ups).
    let hash = identity::password::hash("bench password 2026".to_owned()).await.unwrap();
    let mut users = Vec::with_capacity(MEMBERS);
    let mut conn = pool.acquire().await.unwrap();
    for i in 0..MEMBERS {
        let id = identity::service::create_verified_user(
            &mut conn,
            &format!("u{i}@bench.invalid"),
            &format!("bench_u{i}"),
            &format!("Member {i}"),
            &hash,
            &[],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        users.push(id.0);
    }
    drop(conn);
    let owner = support::api_key(&pool, users[0]).await;
    let mut client = Client::connect(addr).await;
    let mut call = async |method: &str, path: &str, body: Value| -> Value {
        let (status, answer) = client.send(method, path, Some(&owner), Some(&body.to_string())).await;
        assert!(status < 300, "{path}: {status} {}", String::from_utf8_lossy(&answer));
        serde_json::from_slice(&answer).unwrap()
    };
    let org =
        call("POST", "/v1/orgs", serde_json::json!({"name": "Bench Studio", "slug": "bench-studio", "kind": "label"}))
            .await["id"]
            .as_str()
            .unwrap()
            .parse::<Uuid>()
            .unwrap();
    let project = call("POST", "/v1/projects", serde_json::json!({"organization_id": org, "name": "Busy"})).await["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let channels = call("GET", &format!("/v1/projects/{project}/channels"), Value::Null).await;
    let channel: Uuid = channels[0]["id"].as_str().unwrap().parse().unwrap();
    // Everyone joins the organization and the project, written directly: no plan holds a thousand
    // people, and the run measures the channel, not the joining.
    sqlx::query!(
        "INSERT INTO org_members (org_id, user_id, role, joined_at) SELECT $1, u, 'member', now() FROM unnest($2::uuid[]) u
         ON CONFLICT DO NOTHING",
        org,
        &users[1..]
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO project_members (project_id, user_id, role, added_by, added_at)
         SELECT $1, u, 'commenter', $3, now() FROM unnest($2::uuid[]) u ON CONFLICT DO NOTHING",
        project,
        &users[1..],
        users[0]
    )
    .execute(&pool)
    .await
    .unwrap();

    // ---- A bare NOTIFY round trip: the floor of any delivery through PostgreSQL.
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await.unwrap();
    listener.listen("bench_round_trip").await.unwrap();
    let mut notify = Latencies::default();
    for i in 0..2_000 {
        let started = Instant::now();
        sqlx::query!("SELECT pg_notify('bench_round_trip', $1)", i.to_string()).execute(&pool).await.unwrap();
        listener.recv().await.unwrap();
        notify.0.push(started.elapsed());
    }
    drop(listener);

    // ---- 200 followers, then posters for ten seconds.
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let stream_path = format!("/v1/conversations/{channel}/stream");
    for user in users.iter().skip(1).take(FOLLOWERS) {
        let key = support::api_key(&pool, *user).await;
        tokio::spawn(follow(addr, stream_path.clone(), key, seen_tx.clone()));
    }
    drop(seen_tx);
    let mut poster_keys = Vec::new();
    for user in users.iter().skip(1 + FOLLOWERS).take(POSTERS) {
        poster_keys.push(support::api_key(&pool, *user).await);
    }
    // Every follower is listening once a first message reaches all of them.
    let post_path = format!("/v1/conversations/{channel}/messages");
    let mut warm = Client::connect(addr).await;
    let mut arrivals: HashMap<Uuid, Vec<Instant>> = HashMap::new();
    'warm: for _ in 0..100 {
        let (status, body) =
            warm.send("POST", &post_path, Some(&poster_keys[0]), Some(r#"{"body":"warming up"}"#)).await;
        assert_eq!(status, 201);
        let id: Uuid = serde_json::from_slice::<Value>(&body).unwrap()["id"].as_str().unwrap().parse().unwrap();
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some((seen, at))) = tokio::time::timeout(Duration::from_millis(100), seen_rx.recv()).await {
                arrivals.entry(seen).or_default().push(at);
                if arrivals.get(&id).is_some_and(|a| a.len() == FOLLOWERS) {
                    break 'warm;
                }
            }
        }
    }
    arrivals.clear();
    let sent: Arc<tokio::sync::Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let mut posters = Vec::new();
    let posting_started = Instant::now();
    for key in poster_keys {
        let (sent, path) = (sent.clone(), post_path.clone());
        posters.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let mut n = 0;
            while posting_started.elapsed() < POSTING {
                let body = format!(r#"{{"body":"Message {n}: the proofs are in"}}"#);
                let started = Instant::now();
                let (status, answer) = client.send("POST", &path, Some(&key), Some(&body)).await;
                assert_eq!(status, 201);
                let id: Uuid =
                    serde_json::from_slice::<Value>(&answer).unwrap()["id"].as_str().unwrap().parse().unwrap();
                sent.lock().await.insert(id, started);
                n += 1;
            }
        }));
    }
    for p in posters {
        p.await.unwrap();
    }
    let posting_took = posting_started.elapsed();
    let sent = Arc::try_unwrap(sent).unwrap().into_inner();
    // Deliveries still on their way arrive within a few seconds, or are counted missing.
    let expected = sent.len() * FOLLOWERS;
    let mut delivered = 0;
    let mut delivery = Latencies::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered < expected && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), seen_rx.recv()).await {
            Ok(Some((id, at))) => {
                if let Some(started) = sent.get(&id) {
                    delivered += 1;
                    delivery.0.push(at.duration_since(*started));
                }
            }
            _ => continue,
        }
    }
    let drained = posting_started.elapsed();

    // ---- Search over a million messages.
    let seeding = Instant::now();
    let words: Vec<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
    for chunk in 0..10 {
        let from = chunk * (MESSAGES / 10);
        sqlx::query!(
            "INSERT INTO messages (id, conversation_id, author_id, body, created_at)
             SELECT gen_random_uuid(), $1, ($2::uuid[])[(1 + g % $5)::int],
                    array_to_string(ARRAY(SELECT ($3::text[])[(1 + ((g * 7919 + k * 104729) % cardinality($3::text[])))::int]
                                          FROM generate_series(1, 12) AS k), ' '),
                    now() - make_interval(secs => g)
             FROM generate_series($4::bigint, $4::bigint + $6 - 1) AS g",
            channel,
            &users,
            &words,
            from,
            MEMBERS as i64,
            MESSAGES / 10
        )
        .execute(&pool)
        .await
        .unwrap();
    }
    // VACUUM cannot be a prepared statement, so it is sent as plain SQL (a fixed text, no input).
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&pool).await.unwrap();
    let seeded = seeding.elapsed();
    let search = |q: &'static str| -> Work {
        let key = owner.clone();
        Arc::new(move |client: &mut Client, _| {
            let key = key.clone();
            Box::pin(async move {
                let started = Instant::now();
                let (status, body) = client.send("GET", &format!("/v1/search?q={q}"), Some(&key), None).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                started.elapsed()
            })
        })
    };
    let ranked_from = load(addr, 4, Duration::from_secs(10), search("zephyr+lullaby+from:bench_u417")).await;
    let ranked = load(addr, 4, Duration::from_secs(10), search("zephyr+lullaby")).await;

    // ---- An upload of 200 MB beside a plain copy of the same file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("take.bin");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..UPLOAD_MB {
            for b in block.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b.copy_from_slice(&state.to_le_bytes());
            }
            out.write_all(&block).unwrap();
        }
    }
    let copied = Instant::now();
    std::fs::copy(&file, dir.path().join("copy.bin")).unwrap();
    let copy_took = copied.elapsed();
    let rss_before = support::peak_rss_mb();
    let uploaded = Instant::now();
    let (status, answer) = support::send_file(
        addr,
        "POST",
        &format!("/v1/projects/{project}/files?name=take.bin"),
        &owner,
        "application/octet-stream",
        &file,
    )
    .await;
    let upload_took = uploaded.elapsed();
    assert_eq!(status, 201, "{answer}");
    let rss_after = support::peak_rss_mb();

    let mb = UPLOAD_MB as f64;
    println!("## Collaboration: a busy channel, search over a million messages, uploads\n");
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| bare `NOTIFY` round trip, p50 / p99 | {} / {} |",
        ms(notify.percentile(50.0)),
        ms(notify.percentile(99.0))
    );
    println!(
        "| messages posted ({POSTERS} writers, {FOLLOWERS} of {MEMBERS} members following) | {} in {:.1} s = **{:.0} a second** |",
        sent.len(),
        posting_took.as_secs_f64(),
        sent.len() as f64 / posting_took.as_secs_f64()
    );
    println!(
        "| deliveries to followers | {delivered} of {expected} ({:.0} a second, the last {:.1} s after posting began) |",
        delivered as f64 / drained.as_secs_f64(),
        drained.as_secs_f64()
    );
    println!(
        "| delivery latency (post sent → event read), p50 / p99 | {} / {} |",
        ms(delivery.percentile(50.0)),
        ms(delivery.percentile(99.0))
    );
    println!(
        "| p50 delivery ÷ bare `NOTIFY` round trip | {:.1} |",
        delivery.percentile(50.0).as_secs_f64() / notify.percentile(50.0).as_secs_f64()
    );
    println!("| seeding {MESSAGES} messages | {:.1} s |", seeded.as_secs_f64());
    println!(
        "| search `zephyr lullaby from:` ({} requests), p50 / p99 | {} / {} |",
        ranked_from.0.len(),
        ms(ranked_from.percentile(50.0)),
        ms(ranked_from.percentile(99.0))
    );
    println!(
        "| search `zephyr lullaby` ({} requests), p50 / p99 | {} / {} |",
        ranked.0.len(),
        ms(ranked.percentile(50.0)),
        ms(ranked.percentile(99.0))
    );
    println!(
        "| upload of {UPLOAD_MB} MB over HTTP | {:.2} s = {:.0} MB/s |",
        upload_took.as_secs_f64(),
        mb / upload_took.as_secs_f64()
    );
    println!(
        "| plain copy of the same file | {:.2} s = {:.0} MB/s |",
        copy_took.as_secs_f64(),
        mb / copy_took.as_secs_f64()
    );
    println!("| upload ÷ copy (time) | {:.1} |", upload_took.as_secs_f64() / copy_took.as_secs_f64());
    println!("| peak RSS of the process before / after the upload | {rss_before:.0} MB / {rss_after:.0} MB |");
}
