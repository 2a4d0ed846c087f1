//! Serving HTTP with a graceful shutdown: on the shutdown signal, stop accepting connections, let the
//! requests in flight finish (within a bound), then return so that the caller can stop background work
//! and the database, in that order.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every in-flight request finished.
    Completely,
    /// The grace period ran out with requests still running; they were abandoned.
    GraceExpired,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<Drained> {
    let (signalled_tx, mut signalled_rx) = watch::channel(false);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; draining requests in flight");
        let _ = signalled_tx.send(true);
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map(|()| Drained::Completely),
        _ = signalled_rx.wait_for(|s| *s) => {}
    }
    match tokio::time::timeout(grace, &mut server).await {
        Ok(result) => result.map(|()| Drained::Completely),
        Err(_) => {
            tracing::warn!(
                grace_s = grace.as_secs_f64(),
                "requests still running after the grace period; abandoning them"
            );
            Ok(Drained::GraceExpired)
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: call it before announcing the service, so that an early Ctrl-C is never the
/// default (fatal) one.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => tracing::info!("received SIGINT"),
            () = wait(terminate) => tracing::info!("received SIGTERM"),
        }
    }
}
