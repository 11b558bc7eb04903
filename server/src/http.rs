//! The HTTP surface: the relay's WebSocket endpoint plus `/healthz`, served on one listener with
//! graceful shutdown, and `/metrics` on its own listener (`--metrics-listen`) or, with
//! `--public-metrics`, on the main one. Other services of the binary add their routes here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;

use crate::relay::{Relay, WEBSOCKET_PATH};

/// Directories served as static files (the demo), both optional.
#[derive(Debug, Default, Clone)]
pub struct StaticFiles {
    /// Served at `/`.
    pub www: Option<PathBuf>,
    /// Served at `/pkg`.
    pub pkg: Option<PathBuf>,
    /// `/metrics` on the main listener too.
    pub public_metrics: bool,
}

/// Every route of the server.
pub fn router(relay: Arc<Relay>, files: &StaticFiles) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(relay.routes());
    if files.public_metrics {
        router = router.route("/metrics", get(metrics).with_state(relay.clone()));
    }
    if let Some(pkg) = &files.pkg {
        router = router.nest_service("/pkg", ServeDir::new(pkg));
    }
    if let Some(www) = &files.www {
        router = router.fallback_service(ServeDir::new(www));
    }
    router
}

async fn metrics(State(relay): State<Arc<Relay>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        relay.metrics.render(),
    )
}

/// Serves `/metrics` (and `/healthz`) on `listener` until SIGINT/SIGTERM.
pub async fn serve_metrics(listener: TcpListener, relay: Arc<Relay>) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    // After the relay's line, which scripts read first.
    tokio::task::yield_now().await;
    println!("metrics at http://{address}/metrics");
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics).with_state(relay));
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown::signal())
        .await?;
    Ok(())
}

/// Binds, announces the address on stdout (scripts read the port from it), and serves until
/// SIGINT/SIGTERM, then closes every relay connection with 3001.
pub async fn serve(
    listen: SocketAddr,
    relay: Arc<Relay>,
    files: StaticFiles,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    println!("relay listening on ws://{address}{WEBSOCKET_PATH}");
    if files.www.is_some() {
        println!("pages at http://{address}/");
    }
    tracing::info!(%address, broker = ?relay.options.broker, "relay listening");
    let app = router(relay.clone(), &files);
    // Small request/response frames must not wait for Nagle's algorithm and the peer's
    // delayed ACK (about 40 ms per round trip on Linux otherwise).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        crate::shutdown::signal().await;
        relay.shutdown(Relay::SHUTDOWN_GRACE).await;
    })
    .await?;
    tracing::info!("server stopped");
    Ok(())
}
