//! Graceful shutdown over real TCP: in-flight requests finish, new connections are refused, and the
//! grace period bounds the wait.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use platform::server::{Drained, serve};
use tokio::sync::oneshot;

async fn slow(ms: u64) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "finished"
}

fn router() -> Router {
    Router::new().route("/slow/{ms}", get(|axum::extract::Path(ms): axum::extract::Path<u64>| slow(ms)))
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
    let server =
        tokio::spawn(serve(listener, router(), async { stop_rx.await.unwrap_or(()) }, Duration::from_secs(10)));

    let in_flight = tokio::task::spawn_blocking(move || http_get(addr, "/slow/600"));
    tokio::time::sleep(Duration::from_millis(200)).await; // the request is now being handled
    stop_tx.send(()).unwrap();

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
    let server =
        tokio::spawn(serve(listener, router(), async { stop_rx.await.unwrap_or(()) }, Duration::from_millis(200)));
    let _stuck = tokio::task::spawn_blocking(move || http_get(addr, "/slow/60000"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send(()).unwrap();
    let drained = tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve returned").unwrap().unwrap();
    assert_eq!(drained, Drained::GraceExpired);
}
