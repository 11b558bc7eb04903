//! Bad input to the wallet: a URI that is not ours, malformed, old or future-version links, an
//! expired or absent request, claimed identities that lie, a relay that is down. Each ends with a typed `ERROR <code>` line and a
//! non-zero status, in bounded time.

mod common;

use std::time::Duration;

use common::{NativeDapp, Relay, WalletProcess, data_dir, run_wallet};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use walletwire::base64url;
use walletwire::crypto::KeyPair;
use walletwire::protocol::{Metadata, Mode, PROTOCOL_VERSION, SessionRequest, random_uuid};
use walletwire::relay::hub::HubEvent;
use walletwire_wallet::driver::DriverEvent;
use walletwire_wallet::system::{now_ms, os_random};

/// A session request of today's version whose fields the test sets, as a dApp would make it.
fn request(relay: &str, expires_at: u64, dapp: Metadata) -> SessionRequest {
    let mut rng = os_random();
    let key = KeyPair::generate(rng.as_mut());
    let id = random_uuid(rng.as_mut());
    SessionRequest {
        v: PROTOCOL_VERSION,
        channel: format!("handshake:{id}"),
        id,
        mode: Mode::Trusted,
        public_key: base64url::encode(&key.public().0),
        expires_at,
        relay: relay.to_owned(),
        dapp,
        scopes: None,
        optional_scopes: None,
    }
}

fn named(name: &str) -> Metadata {
    Metadata {
        name: name.into(),
        url: None,
        icon: None,
    }
}

/// Publishes `request` sealed on its handshake channel of the relay at `url`, as the dApp
/// does (a third WebSocket speaking the relay's protocol by hand), and returns its QR text.
async fn publish(url: &str, request: &SessionRequest) -> String {
    let sealed = request.sealed_message(os_random().as_mut()).expect("seals");
    let (mut ws, _) = tokio::time::timeout(common::WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("WebSocket handshake in time")
        .expect("WebSocket handshake");
    let frames = [
        json!({"id": 1, "connect": {"name": "test-dapp"}}),
        json!({"id": 2, "publish": {"channel": request.channel, "data": serde_json::from_str::<serde_json::Value>(&sealed).unwrap()}}),
    ];
    for frame in frames {
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .expect("relay takes the frame");
    }
    let published = async {
        while let Some(Ok(Message::Text(text))) = ws.next().await {
            for line in text.lines() {
                let reply: serde_json::Value = serde_json::from_str(line).expect("JSON reply");
                if reply["id"] == 2 {
                    assert!(reply.get("error").is_none(), "publish refused: {reply}");
                    return;
                }
            }
        }
        panic!("relay closed before the publish reply");
    };
    tokio::time::timeout(common::WAIT, published)
        .await
        .expect("publish reply in time");
    let _ = ws.close(None).await;
    request.to_uri()
}

async fn pair_fails(input: &str, extra: &[&str]) -> (Option<i32>, String) {
    let dir = data_dir("bad");
    let mut args = vec!["pair", input, "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (status, lines) = run_wallet(&args).await;
    let error = lines
        .iter()
        .find_map(|l| l.strip_prefix("ERROR "))
        .unwrap_or_else(|| panic!("no ERROR line: {lines:?}"))
        .to_owned();
    (status.code(), error)
}

#[tokio::test]
async fn uri_that_is_not_ours() {
    for input in [
        "https://example.com/connect?r=abc",
        "wc:8a5e5bdc-a0e4-4702-ba63-8f1a5655744f@2?relay-protocol=irn",
        "walletwire:connect?r=***",
        "",
    ] {
        let (status, error) = pair_fails(input, &[]).await;
        assert_eq!(status, Some(2), "{input:?}");
        assert!(error.starts_with("invalid_request"), "{input:?}: {error}");
    }
}

#[tokio::test]
async fn malformed_and_future_requests() {
    let relay = "ws%3A%2F%2F127.0.0.1%3A9%2Fconnection%2Fwebsocket";
    let key = base64url::encode(&[7u8; 48]);
    for (uri, code) in [
        (
            format!("walletwire:connect?v=3&m=t&k=AAAA&r={relay}"),
            "invalid_request",
        ),
        (
            format!("walletwire:connect?v=3&m=x&k={key}&r={relay}"),
            "invalid_request",
        ),
        (
            format!("walletwire:connect?v=3&m=t&k={key}&r=http://x"),
            "invalid_request",
        ),
        (
            format!("walletwire:connect?v=3&v=3&m=t&k={key}&r={relay}"),
            "invalid_request",
        ),
        (
            format!("walletwire:connect?v=three&k={key}&r={relay}"),
            "invalid_request",
        ),
    ] {
        let (status, error) = pair_fails(&uri, &[]).await;
        assert_eq!(status, Some(2), "{uri}");
        assert!(error.starts_with(code), "{uri}: {error}");
    }

    // Links of versions 1 and 2 (the whole request as JSON in `r`, or bare JSON) and one
    // from the future: refused by name, before any network traffic.
    for v in [1u64, 2] {
        let old = json!({"v": v, "id": random_uuid(os_random().as_mut()), "mode": "trusted",
            "relay": "ws://127.0.0.1:9/connection/websocket", "dapp": {"name": "Old dApp"}});
        let link = format!(
            "walletwire:connect?r={}",
            base64url::encode(old.to_string().as_bytes())
        );
        for input in [link, old.to_string()] {
            let (status, error) = pair_fails(&input, &[]).await;
            assert_eq!(status, Some(2));
            let want = format!("unsupported_version unsupported protocol version {v}");
            assert!(error.starts_with(&want), "{input}: {error}");
        }
    }
    let future = format!("walletwire:connect?v=4&m=t&k={key}&r={relay}&x=new");
    let (status, error) = pair_fails(&future, &[]).await;
    assert_eq!(status, Some(2));
    assert!(
        error.starts_with("unsupported_version unsupported protocol version 4"),
        "{error}"
    );

    let huge = format!("walletwire:connect?v=3&r={}", "A".repeat(5000));
    let (status, error) = pair_fails(&huge, &[]).await;
    assert_eq!(status, Some(2));
    assert!(error.starts_with("request_too_large"), "{error}");
}

#[tokio::test]
async fn expired_request() {
    let relay = Relay::start().await;
    let request = request(&relay.url(), now_ms() - 120_000, named("Expired dApp"));
    let uri = publish(&relay.url(), &request).await;
    let (status, error) = pair_fails(&uri, &[]).await;
    assert_eq!(status, Some(2));
    assert!(error.starts_with("request_expired"), "{error}");
}

#[tokio::test]
async fn no_request_on_the_relay() {
    // A QR code whose dApp never published (or whose request the relay no longer holds):
    // the wallet gives up after its read timeout with a typed error, not a hang.
    let relay = Relay::start().await;
    let request = request(&relay.url(), now_ms() + 60_000, named("Absent dApp"));
    let dir = data_dir("absent");
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &[]);
    // READ_TIMEOUT_MS (20 s) and a margin for a busy machine.
    let read_timeout = Duration::from_millis(walletwire::protocol::READ_TIMEOUT_MS);
    let status = wallet.exit_within(read_timeout * 3).await;
    assert_eq!(status.code(), Some(2), "{:?}", wallet.seen);
    let error = wallet.seen.iter().find_map(|l| l.strip_prefix("ERROR "));
    assert!(
        error.is_some_and(|e| e.starts_with("request_not_found")),
        "{:?}",
        wallet.seen
    );
}

#[tokio::test]
async fn relay_down_for_the_wallet() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let relay = format!("ws://127.0.0.1:{port}/connection/websocket");
    let request = request(&relay, now_ms() + 60_000, named("Unreachable"));
    let started = std::time::Instant::now();
    let (status, error) = pair_fails(&request.to_uri(), &["--connect-timeout", "2"]).await;
    assert_eq!(status, Some(3));
    assert!(error.starts_with("relay_unreachable"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
#[tokio::test]
async fn relay_down_for_the_dapp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}/connection/websocket");
    let mut dapp = NativeDapp::start(&url, &url, Mode::Trusted);
    // The driver reports each failed attempt; no request is shown without a relay.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, dapp.driver.next())
            .await
            .expect("a typed failure in time");
        match event {
            DriverEvent::SocketFailed { error } => {
                assert!(error.contains("refused"), "{error}");
                break;
            }
            DriverEvent::Hub(HubEvent::Event { event, .. }) => {
                assert!(!matches!(
                    event,
                    walletwire::protocol::Event::SessionRequest(_)
                ))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    dapp.run_for(Duration::from_millis(500)).await;
    assert!(
        dapp.log
            .iter()
            .all(|e| !matches!(e, walletwire::protocol::Event::SessionRequest(_)))
    );
}

#[tokio::test]
async fn attack_claimed_identity_tricks_are_refused_by_the_wallet() {
    // A dApp claiming a script URL, a data: icon, or a name whose bidi override or zero-width
    // characters make it display as something else: the real wallet refuses the request with
    // a typed error before any network traffic (the relay URL points nowhere).
    let tricks = [
        json!({"name": "Uniswap", "url": "javascript:alert(document.cookie)"}),
        json!({"name": "Uniswap", "url": "http://uniswap.example.evil"}),
        json!({"name": "Uniswap", "icon": "data:image/svg+xml,<svg onload=alert(1)>"}),
        json!({"name": "Uniswap", "url": "https://user@uniswap.example"}),
        json!({"name": "evil\u{202E}paws.inU"}),
        json!({"name": "Uni\u{200B}swap"}),
        json!({"name": "\u{2066}Uniswap\u{2069}"}),
        json!({"name": "   "}),
    ];
    let relay = Relay::start().await;
    for dapp in tricks {
        let meta: Metadata = serde_json::from_value(dapp.clone()).expect("metadata JSON");
        let request = request(&relay.url(), now_ms() + 60_000, meta);
        let uri = publish(&relay.url(), &request).await;
        let (status, error) = pair_fails(&uri, &[]).await;
        assert_eq!(status, Some(2), "{dapp}: {error}");
        assert!(error.starts_with("invalid_request "), "{dapp}: {error}");
        assert!(error.contains("metadata"), "{dapp}: {error}");
    }
    // The honest forms are accepted: the wallet shows the proposal.
    let honest = Metadata {
        name: "Café 交易".into(),
        url: Some("https://dapp.example/app".into()),
        icon: Some("https://dapp.example/i.png".into()),
    };
    let request = request(&relay.url(), now_ms() + 60_000, honest);
    let uri = publish(&relay.url(), &request).await;
    let dir = data_dir("honest");
    let mut wallet = WalletProcess::pair(&uri, &dir, &[]);
    assert_eq!(wallet.expect("PROPOSAL ").await, "Café_交易");
    wallet.signal("KILL").await;
}
