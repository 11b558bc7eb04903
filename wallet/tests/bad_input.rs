//! Bad input to the wallet: a URI that is not ours, malformed or future-version requests, an
//! expired request, a relay that is down. Each ends with a typed `ERROR <code>` line and a
//! non-zero status, in bounded time.

mod common;

use std::time::Duration;

use common::{NativeDapp, data_dir, run_wallet};
use serde_json::json;
use walletwire::base64url;
use walletwire::crypto::KeyPair;
use walletwire::protocol::{Mode, random_uuid};
use walletwire::relay::hub::HubEvent;
use walletwire_wallet::driver::DriverEvent;
use walletwire_wallet::system::{now_ms, os_random};

fn request_json(relay: &str, expires_at: u64) -> serde_json::Value {
    let mut rng = os_random();
    let key = KeyPair::generate(rng.as_mut());
    json!({
        "v": walletwire::protocol::PROTOCOL_VERSION,
        "id": random_uuid(rng.as_mut()),
        "mode": "trusted",
        "channel": format!("handshake:{}", random_uuid(rng.as_mut())),
        "publicKey": base64url::encode(&key.public().0),
        "expiresAt": expires_at,
        "relay": relay,
        "dapp": {"name": "Bad input test"},
    })
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
    let relay = "ws://127.0.0.1:9/connection/websocket";
    let mut bad_key = request_json(relay, now_ms() + 60_000);
    bad_key["publicKey"] = json!("AAAA");
    let (status, error) = pair_fails(&bad_key.to_string(), &[]).await;
    assert_eq!(status, Some(2));
    assert!(error.starts_with("invalid_request"), "{error}");

    // A request of protocol v1 (its code travelled inside the offer) and one from the future.
    for v in [1, 3] {
        let mut other = request_json(relay, now_ms() + 60_000);
        other["v"] = json!(v);
        let (status, error) = pair_fails(&other.to_string(), &[]).await;
        assert_eq!(status, Some(2));
        assert!(
            error.starts_with(&format!(
                "unsupported_version unsupported protocol version {v}"
            )),
            "{error}"
        );
    }

    let huge = format!("walletwire:connect?r={}", "A".repeat(5000));
    let (status, error) = pair_fails(&huge, &[]).await;
    assert_eq!(status, Some(2));
    assert!(error.starts_with("request_too_large"), "{error}");
}

#[tokio::test]
async fn expired_request() {
    let request = request_json("ws://127.0.0.1:9/connection/websocket", now_ms() - 120_000);
    let uri = format!(
        "walletwire:connect?r={}",
        base64url::encode(request.to_string().as_bytes())
    );
    let (status, error) = pair_fails(&uri, &[]).await;
    assert_eq!(status, Some(2));
    assert!(error.starts_with("request_expired"), "{error}");
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
    let request = request_json(&relay, now_ms() + 60_000);
    let started = std::time::Instant::now();
    let (status, error) = pair_fails(&request.to_string(), &["--connect-timeout", "2"]).await;
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
    for dapp in tricks {
        let mut request = request_json("ws://127.0.0.1:9/connection/websocket", now_ms() + 60_000);
        request["dapp"] = dapp.clone();
        let uri = format!(
            "walletwire:connect?r={}",
            base64url::encode(request.to_string().as_bytes())
        );
        let (status, error) = pair_fails(&uri, &[]).await;
        assert_eq!(status, Some(2), "{dapp}: {error}");
        assert!(error.starts_with("invalid_request "), "{dapp}: {error}");
        assert!(error.contains("metadata"), "{dapp}: {error}");
    }
    // The honest forms are accepted (the wallet gets as far as the relay, which is down).
    let mut request = request_json("ws://127.0.0.1:9/connection/websocket", now_ms() + 60_000);
    request["dapp"] = json!({"name": "Café 交易", "url": "https://dapp.example/app", "icon": "https://dapp.example/i.png"});
    let uri = format!(
        "walletwire:connect?r={}",
        base64url::encode(request.to_string().as_bytes())
    );
    let (_, error) = pair_fails(&uri, &["--connect-timeout", "2"]).await;
    assert!(!error.starts_with("invalid_request"), "{error}");
}
