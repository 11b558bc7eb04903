//! The relay process dies (SIGKILL: no goodbye) with messages in flight and comes back.
//!
//! * Redis broker: what the relay accepted before it died, and what the peers sent while it
//!   was down, all arrives once after the restart; nothing is reported lost. Also with two
//!   relay nodes on one Redis, the dApp on the node that dies and the wallet on the other.
//! * Memory broker: history dies with the process. Both peers reconnect, resubscribe and are
//!   told (`messages_lost` with no count); a request whose frame (or whose answer) was in
//!   flight settles with the typed `timeout` error at its deadline; the session goes on. A
//!   handshake whose offer was lost ends with `request_expired`: the dApp starts over.
//!
//! "In flight" is made exact with the proxy: it holds (stalls) the bytes the relay pushes to
//! a peer, the relay is killed, and the proxy's sockets are cut, so the held bytes die with
//! them. `wallet/tests/relay_restart.rs` covers a memory-broker restart with a request queued
//! in the dApp while the relay is down.

mod common;

use std::time::Duration;

use common::{NativeDapp, Proxy, Redis, Relay, WAIT, WalletProcess, data_dir};
use serde_json::{Value, json};
use walletwire::protocol::{Disconnect, Error, Event, Mode};

/// The relay alone, without the signaling server of the direct flow.
const QUIET: [&str; 1] = ["--no-signaling"];

/// Time for a publication the relay acknowledged on one socket to be stored (the test cannot
/// see another process's acknowledgements).
const STORED: Duration = Duration::from_millis(500);

fn account(n: u64) -> String {
    format!("{n:064x}")
}

/// A dApp on `dapp_url` paired in trusted mode with a wallet process on `wallet_url` that asks
/// before signing; returns both, the session id and the wallet's first account.
async fn paired(
    dapp_url: &str,
    wallet_url: &str,
    dir: &str,
) -> (NativeDapp, WalletProcess, String, String) {
    let mut dapp = NativeDapp::start(dapp_url, wallet_url, Mode::Trusted);
    let request = dapp.session_request().await;
    let dir = data_dir(dir);
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &["--auto-approve", "false"]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    let address = first_account(&mut dapp).await;
    (dapp, wallet, session, address)
}

/// The first account of the wallet, for `message.sign`.
async fn first_account(dapp: &mut NativeDapp) -> String {
    let accounts = dapp.request("accounts.list", json!({})).await.unwrap();
    accounts["accounts"][0]["address"]
        .as_str()
        .expect("an address")
        .to_owned()
}

fn sign_params(address: &str, k: u64) -> Value {
    json!({"account": address, "message": format!("message {k}")})
}

/// Approves the next `n` requests the wallet asks about.
async fn approve(wallet: &mut WalletProcess, n: usize) {
    for _ in 0..n {
        wallet.expect("APPROVE ").await;
        wallet.answer("y").await;
    }
}

/// Nothing lost, nothing twice: the wallet printed `requests` REQUEST lines, the dApp got
/// `requests` responses, and neither side reported a loss.
async fn assert_exactly_once(dapp: &mut NativeDapp, wallet: &mut WalletProcess, requests: usize) {
    dapp.run_for(Duration::from_millis(300)).await;
    wallet.drain_for(Duration::from_millis(300)).await;
    assert_eq!(wallet.count("REQUEST "), requests, "{:?}", wallet.seen);
    assert_eq!(wallet.count("MESSAGES_LOST"), 0, "{:?}", wallet.seen);
    assert_eq!(dapp.seen(|e| matches!(e, Event::MessagesLost { .. })), 0);
    assert_eq!(
        dapp.seen(|e| matches!(e, Event::Response { .. })),
        requests,
        "{:?}",
        dapp.log
    );
}

#[tokio::test]
async fn redis_relay_killed_with_messages_in_flight_delivers_them_after_restart() {
    let redis = Redis::start().await;
    let relay = redis.relay(0, "kill", &QUIET).await;
    let port = relay.port;
    let dapp_side = Proxy::start(port).await;
    let wallet_side = Proxy::start(port).await;
    let (mut dapp, mut wallet, session, address) =
        paired(&dapp_side.url(), &wallet_side.url(), "faults-redis-kill").await;

    // Requests the relay took but had not yet handed to the wallet when it died.
    wallet_side.stall();
    let mut asked: Vec<(u64, u64)> = (0..6)
        .map(|n| (dapp.send("balances.get", json!({"account": account(n)})), n))
        .collect();
    assert!(dapp.driver.settle(WAIT).await, "the relay took them");
    relay.kill().await;
    wallet_side.cut();
    // Requests made while no relay runs wait in the dApp.
    dapp.run_for(Duration::from_millis(200)).await;
    assert_eq!(dapp.links.last(), Some(&false));
    asked.extend((6..10).map(|n| (dapp.send("balances.get", json!({"account": account(n)})), n)));
    let relay = redis.relay(port, "kill", &QUIET).await;
    wallet_side.resume();
    wallet_side.restore();
    for (id, n) in &asked {
        let result = dapp.response(*id).await.unwrap();
        assert_eq!(result["account"], account(*n));
    }

    // Answers the relay took but had not yet handed to the dApp when it died.
    let signs: Vec<u64> = (0..4)
        .map(|k| dapp.send("message.sign", sign_params(&address, k)))
        .collect();
    assert!(dapp.driver.settle(WAIT).await);
    dapp_side.stall();
    approve(&mut wallet, signs.len()).await;
    tokio::time::sleep(STORED).await;
    relay.kill().await;
    dapp_side.cut();
    let _relay = redis.relay(port, "kill", &QUIET).await;
    dapp_side.resume();
    dapp_side.restore();
    for id in &signs {
        let result = dapp.response(*id).await.unwrap();
        assert!(result["signature"].is_string(), "{result}");
    }

    assert_exactly_once(&mut dapp, &mut wallet, 1 + asked.len() + signs.len()).await;
    assert!(dapp.links.iter().filter(|up| !**up).count() >= 2);
    dapp.close_seen_by(&mut wallet, &session).await;
}

#[tokio::test]
async fn two_relay_nodes_on_one_redis_node_of_the_dapp_killed_and_restarted() {
    let redis = Redis::start().await;
    let node_a = redis.relay(0, "nodes", &QUIET).await;
    let node_b = redis.relay(0, "nodes", &QUIET).await;
    let port_a = node_a.port;
    // The dApp talks to node A, the wallet (named in the request) to node B.
    let (mut dapp, mut wallet, session, address) =
        paired(&node_a.url(), &node_b.url(), "faults-two-nodes").await;

    // Node A takes the requests and dies; node B hands them to the wallet through Redis,
    // and the wallet's answers wait in Redis while the dApp has no node.
    let signs: Vec<u64> = (0..4)
        .map(|k| dapp.send("message.sign", sign_params(&address, k)))
        .collect();
    assert!(dapp.driver.settle(WAIT).await, "node A took them");
    node_a.kill().await;
    approve(&mut wallet, signs.len()).await;
    dapp.run_for(Duration::from_millis(200)).await;
    assert_eq!(dapp.links.last(), Some(&false));
    let queued: Vec<(u64, u64)> = (0..4)
        .map(|n| (dapp.send("balances.get", json!({"account": account(n)})), n))
        .collect();
    tokio::time::sleep(STORED).await;

    let _node_a = redis.relay(port_a, "nodes", &QUIET).await;
    for id in &signs {
        let result = dapp.response(*id).await.unwrap();
        assert!(result["signature"].is_string(), "{result}");
    }
    for (id, n) in &queued {
        assert_eq!(dapp.response(*id).await.unwrap()["account"], account(*n));
    }
    assert_exactly_once(&mut dapp, &mut wallet, 1 + signs.len() + queued.len()).await;
    assert_eq!(wallet.count("LINK down"), 0, "node B stayed up");
    dapp.close_seen_by(&mut wallet, &session).await;
}

#[tokio::test]
async fn memory_relay_restart_reports_the_loss_and_settles_requests_in_flight() {
    const LOST_AFTER: Duration = Duration::from_secs(3);
    let relay = Relay::start_with(0, &QUIET).await;
    let port = relay.port;
    let dapp_side = Proxy::start(port).await;
    let wallet_side = Proxy::start(port).await;
    let (mut dapp, mut wallet, session, address) =
        paired(&dapp_side.url(), &wallet_side.url(), "faults-memory-kill").await;

    // A request the relay took but had not handed to the wallet: gone with the process.
    wallet_side.stall();
    // Read on the driver's own clock before the request: its deadline is at least this + 3 s.
    let sent = walletwire_wallet::system::now_ms();
    let lost = dapp.send_within("balances.get", json!({"account": account(1)}), LOST_AFTER);
    assert!(dapp.driver.settle(WAIT).await, "the relay took it");
    relay.kill().await;
    wallet_side.cut();
    let relay = Relay::start_with(port, &QUIET).await;
    wallet_side.resume();
    wallet_side.restore();
    // Both are told; the request settles with a typed error when its time is up.
    dapp.history_lost(&mut wallet, &session).await;
    assert_eq!(dapp.response(lost).await, Err(Error::Timeout));
    let settled = walletwire_wallet::system::now_ms();
    assert!(
        settled >= sent + LOST_AFTER.as_millis() as u64,
        "settled before its deadline: {} ms after it was sent",
        settled - sent
    );

    // An answer the relay took but had not handed to the dApp: the same.
    let sign = dapp.send_within("message.sign", sign_params(&address, 1), LOST_AFTER);
    assert!(dapp.driver.settle(WAIT).await);
    dapp_side.stall();
    approve(&mut wallet, 1).await;
    tokio::time::sleep(STORED).await;
    relay.kill().await;
    dapp_side.cut();
    let _relay = Relay::start_with(port, &QUIET).await;
    dapp_side.resume();
    dapp_side.restore();
    assert_eq!(
        dapp.until_line(&mut wallet, "MESSAGES_LOST ").await,
        format!("{session} unknown")
    );
    assert_eq!(dapp.response(sign).await, Err(Error::Timeout));
    assert_eq!(
        dapp.seen(|e| matches!(e, Event::MessagesLost { count: None })),
        2,
        "one notice per restart: {:?}",
        dapp.log
    );

    // The session itself survives both restarts.
    let info = dapp.request("wallet.info", json!({})).await.unwrap();
    assert!(info["methods"].is_array());
    wallet.drain_for(Duration::from_millis(200)).await;
    // accounts.list, message.sign, wallet.info: the lost request never reached the wallet.
    assert_eq!(wallet.count("REQUEST "), 3, "{:?}", wallet.seen);
    assert_eq!(wallet.count("DISCONNECTED"), 0);
    dapp.close_seen_by(&mut wallet, &session).await;
}

#[tokio::test]
async fn memory_relay_restart_during_the_handshake_makes_the_dapp_start_over() {
    let relay = Relay::start_with(0, &QUIET).await;
    let port = relay.port;
    let dapp_side = Proxy::start(port).await;
    let mut dapp = NativeDapp::start_with(&dapp_side.url(), &relay.url(), Mode::Trusted, |o| {
        o.request_ttl_ms = Some(3_000);
    });
    let request = dapp.session_request().await;
    // The wallet's offer reaches the relay; the bytes carrying it to the dApp are held.
    dapp_side.stall();
    let dir = data_dir("faults-memory-handshake");
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &[]);
    let session = wallet.expect("CONNECTED ").await;
    tokio::time::sleep(STORED).await;
    relay.kill().await;
    dapp_side.cut();
    let _relay = Relay::start_with(port, &QUIET).await;
    dapp_side.resume();
    dapp_side.restore();
    // The dApp is told the handshake channel lost its history, then the request expires:
    // it must show a new request (the demo page does so by itself).
    dapp.wait_for("messages_lost", |e| {
        matches!(e, Event::MessagesLost { count: None }).then_some(())
    })
    .await;
    assert_eq!(
        dapp.disconnected().await,
        Disconnect::Failed(Error::RequestExpired)
    );
    assert_eq!(dapp.seen(|e| matches!(e, Event::Connected(_))), 0);
    // The trusted wallet went ahead without an answer and only learns of the loss.
    wallet.drain_for(Duration::from_millis(300)).await;
    println!("wallet of session {session} printed {:?}", wallet.seen);
}
