//! Graceful shutdown over real TCP: in-flight requests finish, new connections are refused, and the
//! grace period bounds the wait.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use platform::server::{Drained, serve};
use tokio::sync::oneshot;

/// A router whose one route tells `started` when it is being handled, then answers once `release` is
/// notified (or never).
fn router(started: tokio::sync::mpsc::UnboundedSender<()>, release: std::sync::Arc<tokio::sync::Notify>) -> Router {
    Router::new().route(
        "/slow",
        get(move || async move {
            let _ = started.send(());
            release.notified().await;
            "finished"
        }),
    )
}

/// Sends a request on a blocking socket and returns the whole response.
fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[tokio::test]
async fn in_flight_request_finishes_and_new_connections_are_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let router = router(started_tx, release.clone());
    let server = tokio::spawn(serve(listener, router, async { stop_rx.await.unwrap_or(()) }, Duration::from_secs(10)));

    let in_flight = tokio::task::spawn_blocking(move || http_get(addr, "/slow"));
    started.recv().await.unwrap(); // the request is now being handled
    stop_tx.send(()).unwrap();
    release.notify_one();

    let response = in_flight.await.unwrap().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("finished"), "{response}");
    assert_eq!(server.await.unwrap().unwrap(), Drained::Completely);
    assert!(TcpStream::connect(addr).is_err(), "the listener must be closed after shutdown");
}

#[tokio::test]
async fn grace_period_bounds_the_drain() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    // Never released: the request outlives the grace period.
    let router = router(started_tx, std::sync::Arc::new(tokio::sync::Notify::new()));
    let server =
        tokio::spawn(serve(listener, router, async { stop_rx.await.unwrap_or(()) }, Duration::from_millis(200)));
    let _stuck = tokio::task::spawn_blocking(move || http_get(addr, "/slow"));
    started.recv().await.unwrap();
    stop_tx.send(()).unwrap();
    let drained = tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve returned").unwrap().unwrap();
    assert_eq!(drained, Drained::GraceExpired);
}
