//! The HTTP surface: the relay's WebSocket endpoint plus `/healthz` and `/metrics`, served on
//! one listener with graceful shutdown. Other services of the binary add their routes here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::relay::{Relay, WEBSOCKET_PATH};

/// Every route of the server.
pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics).with_state(relay.clone()))
        .merge(relay.routes())
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

/// Binds, announces the address on stdout (scripts read the port from it), and serves until
/// SIGINT/SIGTERM, then closes every relay connection with 3001.
pub async fn serve(listen: SocketAddr, relay: Arc<Relay>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    println!("relay listening on ws://{address}{WEBSOCKET_PATH}");
    tracing::info!(%address, broker = ?relay.options.broker, "relay listening");
    let app = router(relay.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            crate::shutdown::signal().await;
            relay.shutdown(Relay::SHUTDOWN_GRACE).await;
        })
        .await?;
    tracing::info!("server stopped");
    Ok(())
}
