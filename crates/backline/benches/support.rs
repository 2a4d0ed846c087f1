//! What the benchmarks share: the real application served over TCP, a minimal keep-alive HTTP/1.1
//! client (so the measurement has no client library in it), and latency statistics.

#![allow(dead_code, clippy::print_stdout)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::AppContext;
use platform::http::EdgeLimits;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// An API key of every scope for `user`, written directly (the benchmarks measure requests, not key
/// creation).
pub async fn api_key(pool: &sqlx::PgPool, user: uuid::Uuid) -> String {
    let (key, hash) = identity::tokens::generate(identity::tokens::Kind::ApiKey);
    sqlx::query!(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at)
         VALUES ($1, $2, 'bench', $3, $4, ARRAY['*'], now())",
        uuid::Uuid::now_v7(),
        user,
        &key[..10],
        &hash
    )
    .execute(pool)
    .await
    .unwrap();
    key
}

/// A verified user of the `label` role with an API key of every scope: a label's staff for the catalog and
/// royalties benchmarks. Answers the key.
pub async fn label_key(pool: &sqlx::PgPool) -> String {
    let hash = identity::password::hash("bench password 2026".to_owned()).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let user = identity::service::create_verified_user(
        &mut conn,
        "label@bench.invalid",
        "bench_label",
        "Bench",
        &hash,
        &["label"],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    drop(conn);
    api_key(pool, user.0).await
}

/// Sends a file as a request body in 256 KiB chunks on a connection of its own (never the whole file in
/// memory); answers the status and the answer's body.
pub async fn send_file(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    content_type: &str,
    file: &std::path::Path,
) -> (u16, String) {
    let size = std::fs::metadata(file).unwrap().len();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut source = tokio::fs::File::open(file).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = source.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

/// The caller's real-time stream (`GET /v1/me/stream`), open: a client told of progress as it
/// happens, which need not ask again and again (a poll every few milliseconds would take some of the
/// cores it measures, and notice late).
pub struct Events {
    stream: BufReader<TcpStream>,
}

impl Events {
    /// Opens the stream and waits for its answer's head (from then on, nothing is missed).
    pub async fn open(addr: SocketAddr, key: &str) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut stream = BufReader::new(stream);
        let head = format!("GET /v1/me/stream HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n");
        stream.get_mut().write_all(head.as_bytes()).await.unwrap();
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "the stream answered {line}");
        while line != "\r\n" {
            line.clear();
            stream.read_line(&mut line).await.unwrap();
        }
        Self { stream }
    }

    /// The data of the first event whose data `wanted` accepts.
    pub async fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.stream.read_line(&mut line).await.unwrap() > 0, "the stream ended");
            if let Some(data) = line.trim_end().strip_prefix("data:")
                && wanted(data.trim())
            {
                return data.trim().to_owned();
            }
        }
    }
}

/// The process's peak resident memory (`VmHWM`) in MB.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Serves Backline over `ctx` on a loopback port. The general per-client limit is off: every load
/// connection comes from one address.
pub async fn serve(ctx: AppContext) -> SocketAddr {
    serve_with(ctx, None).await
}

/// [`serve`] as `backline serve` runs: with the general per-client limit on (`limit`; its default is
/// 1,200 requests a minute). Clients that are to look like many people connect from addresses of
/// their own ([`Client::connect_from`]).
pub async fn serve_limited(ctx: AppContext, limit: platform::ratelimit::Limit) -> SocketAddr {
    serve_with(ctx, Some(limit)).await
}

async fn serve_with(ctx: AppContext, per_client: Option<platform::ratelimit::Limit>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = backline::app(ctx, EdgeLimits::default(), per_client);
    tokio::spawn(platform::server::serve(listener, app, std::future::pending(), Duration::from_secs(1)));
    addr
}

/// The loopback address of client number `n`, one of 16 million (127.0.0.0/8 is all loopback).
pub fn client_address(n: usize) -> std::net::IpAddr {
    let n = u32::try_from(n % 0x00ff_ffff).unwrap() + 1;
    std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x7f00_0000 | n))
}

pub struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self { stream: BufReader::new(stream) }
    }

    /// [`Client::connect`] from the loopback address `from`: to the service, another client.
    pub async fn connect_from(addr: SocketAddr, from: std::net::IpAddr) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self { stream: BufReader::new(stream) }
    }

    /// Sends one request on the kept-alive connection; returns the status and body.
    pub async fn send(&mut self, method: &str, path: &str, bearer: Option<&str>, body: Option<&str>) -> (u16, Vec<u8>) {
        let auth = bearer.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.send_with(method, path, &headers, body).await
    }

    /// [`Client::send`] with any headers (a `Cookie`, say).
    pub async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, Vec<u8>) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.stream.get_mut().write_all(head.as_bytes()).await.unwrap();

        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.unwrap();
        (status, body)
    }
}

/// Latencies of one kind of request.
#[derive(Default)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn merge(parts: Vec<Latencies>) -> Self {
        Self(parts.into_iter().flat_map(|l| l.0).collect())
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn rate(&self, over: Duration) -> f64 {
        self.0.len() as f64 / over.as_secs_f64()
    }
}

/// One request on a kept-alive connection, returning how long it took.
pub type Work =
    Arc<dyn for<'c> Fn(&'c mut Client, usize) -> Pin<Box<dyn Future<Output = Duration> + Send + 'c>> + Send + Sync>;

/// Runs `work` in a loop on `connections` connections (each its own, kept alive) for `duration`.
pub async fn load(addr: SocketAddr, connections: usize, duration: Duration, work: Work) -> Latencies {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let mut latencies = Latencies::default();
            let mut i = 0;
            while Instant::now() < deadline {
                latencies.0.push(work(&mut client, i).await);
                i += 1;
            }
            latencies
        }));
    }
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.unwrap());
    }
    Latencies::merge(parts)
}

/// Runs `work` at a fixed rate per connection (an open loop) for `duration`. Each latency is measured
/// from the moment the request was due, so a stall delays every request behind it in the measurement too
/// (no coordinated omission).
pub async fn load_paced(
    addr: SocketAddr,
    connections: usize,
    per_second: f64,
    duration: Duration,
    work: Work,
) -> Latencies {
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let mut latencies = Latencies::default();
            // Connections start spread over one interval.
            let offset = interval.mul_f64(c as f64 / connections as f64);
            let mut i = 0u32;
            loop {
                let due = start + offset + interval * i;
                if due.duration_since(start) >= duration {
                    return latencies;
                }
                tokio::time::sleep_until(due).await;
                work(&mut client, i as usize).await;
                latencies.0.push(due.elapsed());
                i += 1;
            }
        }));
    }
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.unwrap());
    }
    Latencies::merge(parts)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
