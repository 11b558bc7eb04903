//! The relay: a Centrifugo-compatible pub/sub server for the relay flow.
//!
//! ```text
//! client ──WebSocket──▶ connection::serve ──▶ Session (commands, ping/pong, limits)
//!                              │                      │ publish / history / subscribe
//!                              ▼                      ▼
//!                       writer (batches)        Broker (memory | Redis)
//!                              ▲                      │ publications in offset order
//!                              └──── ConnectionHandle ◀── Hub (local fan-out)
//! ```

pub mod address;
pub mod broker;
pub mod channel;
pub mod connection;
pub mod hub;
pub mod limits;
pub mod metrics;
pub mod options;
pub mod publication;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Notify;
use walletwire::relay::DisconnectCode;

use self::address::Addresses;
use self::broker::Broker;
use self::channel::ChannelPolicies;
use self::connection::handle::ConnectionHandle;
use self::hub::Hub;
use self::metrics::Metrics;
use self::options::RelayOptions;

/// Path of the Centrifugo WebSocket endpoint.
pub const WEBSOCKET_PATH: &str = "/connection/websocket";

/// Shared state of the relay.
#[derive(Debug)]
pub struct Relay {
    /// Command-line options.
    pub options: RelayOptions,
    /// History policy per namespace.
    pub policies: ChannelPolicies,
    /// Local subscribers.
    pub hub: Arc<Hub>,
    /// History and cross-node delivery.
    pub broker: Broker,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Connections and command budget per client address.
    pub addresses: Arc<Addresses>,
    connections: Mutex<HashMap<u64, Arc<ConnectionHandle>>>,
    next_id: AtomicU64,
    shutting_down: AtomicBool,
    drained: Notify,
}

impl Relay {
    /// Builds the relay and connects its broker.
    pub async fn new(options: RelayOptions) -> anyhow::Result<Arc<Self>> {
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(metrics.clone()));
        let broker = Broker::from_options(&options, hub.clone(), metrics.clone()).await?;
        Ok(Arc::new(Self {
            policies: ChannelPolicies::from_options(&options),
            hub,
            broker,
            addresses: Addresses::new(&options, metrics.clone()),
            metrics,
            options,
            connections: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            drained: Notify::new(),
        }))
    }

    /// The relay's HTTP routes.
    pub fn routes(self: &Arc<Self>) -> Router {
        Router::new()
            .route(WEBSOCKET_PATH, get(websocket))
            .with_state(self.clone())
    }

    /// A fresh connection id.
    pub fn next_connection_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnectionHandle>>> {
        self.connections
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Admits a connection, or says how to refuse it.
    pub fn register(&self, handle: &Arc<ConnectionHandle>) -> Result<(), DisconnectCode> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(DisconnectCode::Shutdown);
        }
        let mut connections = self.connections();
        if connections.len() >= self.options.max_connections {
            return Err(DisconnectCode::ConnectionLimit);
        }
        connections.insert(handle.id(), handle.clone());
        Ok(())
    }

    /// Forgets a closed connection.
    pub fn unregister(&self, id: u64) {
        let mut connections = self.connections();
        connections.remove(&id);
        if connections.is_empty() {
            self.drained.notify_waiters();
        }
    }

    /// Closes every connection with 3001 and waits (at most `grace`) until they are gone.
    pub async fn shutdown(&self, grace: Duration) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let handles: Vec<_> = self.connections().values().cloned().collect();
        tracing::info!(connections = handles.len(), "shutting down relay");
        for handle in handles {
            handle.disconnect(DisconnectCode::Shutdown);
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let drained = self.drained.notified();
            if self.connections().is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                tracing::warn!("connections still open after the shutdown grace period");
                return;
            }
        }
    }

    /// Shutdown grace period used by the binary.
    pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
}

/// The client's address: the last value of `--client-address-header` when set (a trusted
/// proxy's), else the TCP peer; None when neither is known (in-process harnesses).
fn client_address(relay: &Relay, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    if let Some(name) = &relay.options.client_address_header {
        return headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(|value| value.trim().parse().ok());
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// Whether a WebSocket request may proceed under `--allowed-origins` (ASCII case-insensitive,
/// a trailing slash ignored; no `Origin` header: not a browser, allowed).
fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/');
    allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
}

async fn websocket(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    extensions: Extensions,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&relay.options.allowed_origins, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let limit = relay.options.max_frame_size;
    let address = client_address(&relay, &headers, &extensions);
    upgrade
        // tungstenite's default 128 KiB read buffer per connection dominated memory at 10k
        // connections; frames are small and writes are already batched.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| connection::serve(socket, relay, address))
}
