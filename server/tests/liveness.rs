//! Timers and lifecycle: ping/pong, connect timeout, connection limit, graceful shutdown,
//! health and metrics endpoints.

mod common;

use std::time::Duration;

use common::{Client, Closed, Server, channel};
use serde_json::json;

#[tokio::test]
async fn clients_answering_pings_stay_and_silent_ones_are_closed_with_no_pong() {
    let server = Server::start(&["--ping-interval", "1s", "--pong-timeout", "500ms"]);
    let mut polite = Client::connect(&server.url()).await;
    let mut silent = Client::connect(&server.url()).await;
    silent.auto_pong = false;
    let watch_silent = tokio::spawn(async move { (silent.closed().await, silent.pings) });
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    while tokio::time::Instant::now() < deadline {
        // Reads (and answers) pings; nothing else arrives.
        let _ = tokio::time::timeout(Duration::from_millis(200), polite.next()).await;
    }
    assert!(polite.pings >= 2, "pings seen: {}", polite.pings);
    let (closed, pings) = watch_silent.await.expect("watcher finished");
    assert_eq!(closed, Closed::Code(3012));
    assert_eq!(pings, 1);
    // The polite client is still connected.
    let session = channel("session");
    let reply = polite
        .command("history", json!({"channel": session, "limit": 0}))
        .await;
    assert!(reply["history"].is_object());
}

#[tokio::test]
async fn connections_without_connect_are_closed_as_stale() {
    let server = Server::start(&["--connect-timeout", "1s"]);
    let mut idle = Client::open(&server.url()).await;
    let started = tokio::time::Instant::now();
    assert_eq!(idle.closed().await, Closed::Code(3502));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn the_connection_limit_closes_extra_connections_with_3504() {
    let server = Server::start(&["--max-connections", "2"]);
    let _first = Client::connect(&server.url()).await;
    let _second = Client::connect(&server.url()).await;
    let mut third = Client::open(&server.url()).await;
    assert_eq!(third.closed().await, Closed::Code(3504));
}

#[tokio::test]
async fn sigterm_closes_every_client_with_shutdown_and_exits_zero() {
    let mut server = Server::start(&[]);
    let mut subscribed = Client::connect(&server.url()).await;
    subscribed.subscribe(&channel("session")).await;
    let mut connecting = Client::open(&server.url()).await;
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(subscribed.closed().await, Closed::Code(3001));
    assert_eq!(connecting.closed().await, Closed::Code(3001));
}

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let server = Server::start(&[]);
    assert_eq!(server.get("/healthz"), (200, "ok".to_owned()));
    let session = channel("session");
    let mut subscriber = Client::connect(&server.url()).await;
    subscriber.subscribe(&session).await;
    let mut publisher = Client::connect(&server.url()).await;
    publisher.publish(&session, json!(1)).await;
    subscriber.publication().await;
    let mut bad = Client::connect(&server.url()).await;
    bad.send_text("nonsense").await;
    assert_eq!(bad.closed().await, Closed::Code(3501));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    for line in [
        "walletwire_relay_connections 2\n",
        "walletwire_relay_connections_total 3\n",
        "walletwire_relay_channels 1\n",
        "walletwire_relay_publications_total 1\n",
        "walletwire_relay_deliveries_total 1\n",
        "walletwire_relay_disconnects_total{code=\"3501\"} 1\n",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}
