//! Keep-alive over the real relay: with fast server pings both clients answer every ping,
//! so an idle session keeps its links (no drop, no reconnect) and still works afterwards.

mod common;

use std::time::Duration;

use common::{NativeDapp, Relay, WalletProcess, data_dir};
use serde_json::json;
use walletwire::protocol::Mode;

#[tokio::test]
async fn idle_session_answers_relay_pings() {
    // Pings every second, a client that does not answer within a second is closed.
    let relay = Relay::start_with(0, &["--ping-interval", "1s", "--pong-timeout", "1s"]).await;
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("liveness"), &[]);
    wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    dapp.run_for(Duration::from_secs(4)).await;
    wallet.drain_for(Duration::from_millis(100)).await;
    assert!(
        !dapp.links.contains(&false),
        "dApp link dropped: {:?}",
        dapp.links
    );
    assert_eq!(wallet.count("LINK down"), 0, "{:?}", wallet.seen);
    assert_eq!(wallet.count("LINK up"), 1);
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
}

/// A link that goes silent without closing (a dead NAT mapping): the dApp's watchdog notices
/// the missing pings, reconnects, and re-sends the request that was stuck in the dead socket.
#[tokio::test]
async fn silent_link_is_detected_and_the_request_retried() {
    let relay = Relay::start_with(0, &["--ping-interval", "1s", "--pong-timeout", "5s"]).await;
    let proxy = common::Proxy::start(relay.port).await;
    let mut dapp = NativeDapp::start(&proxy.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("silent"), &[]);
    wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    proxy.freeze();
    let started = std::time::Instant::now();
    let stuck = dapp.send("wallet.info", json!({}));
    assert!(dapp.response(stuck).await.is_ok());
    // Detected by the watchdog (1 s ping + 1.5 s grace), not by a request timeout.
    assert!(dapp.links.contains(&false), "{:?}", dapp.links);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    wallet.drain_for(Duration::from_millis(200)).await;
    assert_eq!(
        wallet.count("REQUEST "),
        1,
        "answered once: {:?}",
        wallet.seen
    );
}
