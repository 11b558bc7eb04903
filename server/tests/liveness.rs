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
    let server = Server::start(&["--public-metrics"]);
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

#[tokio::test]
async fn attack_metrics_are_not_public_unless_asked() {
    // Default: the relay's counters are not on the listener clients reach.
    let server = Server::start(&[]);
    assert_eq!(server.get("/metrics").0, 404);
    assert_eq!(server.get("/healthz"), (200, "ok".to_owned()));

    // `--metrics-listen`: on their own listener only.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_walletwire-server"))
        .args(["--listen", "127.0.0.1:0", "--no-signaling"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
        child.stdout.take().expect("stdout"),
    ));
    let mut port_after = |prefix: &str| -> u16 {
        let line = lines.next().expect("a line").expect("utf-8");
        let rest = line
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
        rest.split(['/', ':'])
            .find_map(|part| part.parse().ok())
            .expect("a port")
    };
    let relay_port = port_after("relay listening on ws://127.0.0.1");
    let metrics_port = port_after("metrics at http://127.0.0.1");
    let get = |port: u16, path: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(get(relay_port, "/metrics").starts_with("HTTP/1.1 404"));
    let metrics = get(metrics_port, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("walletwire_relay_connections 0"),
        "{metrics}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn attack_a_foreign_origin_is_refused_when_origins_are_listed() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = Server::start(&[
        "--allowed-origins",
        "https://dapp.example,http://127.0.0.1:8080/",
    ]);
    let with_origin = |origin: Option<&str>| {
        let mut request = server.url().into_client_request().expect("a request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("a header value"));
        }
        request
    };
    for origin in ["https://evil.example", "https://dapp.example.evil", "null"] {
        let refused = tokio_tungstenite::connect_async(with_origin(Some(origin))).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin}");
            }
            other => panic!("{origin}: expected 403, got {:?}", other.map(|_| ())),
        }
    }
    for origin in [
        Some("https://dapp.example"),
        Some("HTTP://127.0.0.1:8080"),
        None,
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(with_origin(origin))
            .await
            .unwrap_or_else(|e| panic!("{origin:?}: {e}"));
        use futures_util::{SinkExt, StreamExt};
        ws.send(r#"{"id":1,"connect":{}}"#.into())
            .await
            .expect("send");
        let reply = tokio::time::timeout(common::WAIT, ws.next())
            .await
            .expect("a reply in time")
            .expect("a frame")
            .expect("no error");
        assert!(
            reply.to_text().expect("text").contains("\"connect\""),
            "{origin:?}"
        );
    }
}
