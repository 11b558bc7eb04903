//! A peer's socket is cut (a TCP proxy in front of the relay drops it and refuses new ones)
//! while the other peer publishes: after reconnecting, every frame arrives exactly once,
//! recovered from the relay's history, with nothing reported lost.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{NativeDapp, Proxy, Relay, WalletProcess, data_dir};
use serde_json::json;
use walletwire::protocol::{Event, Mode};

const REQUESTS: usize = 8;

#[tokio::test]
async fn wallet_cut_off_while_the_dapp_sends() {
    let relay = Relay::start().await;
    let proxy = Proxy::start(relay.port).await;
    // The wallet reaches the relay through the proxy (the request names it); the dApp directly.
    let mut dapp = NativeDapp::start(&relay.url(), &proxy.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("cut-wallet"), &[]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());

    proxy.cut();
    assert_eq!(wallet.expect("LINK ").await, "down");
    let ids: Vec<u64> = (0..REQUESTS)
        .map(|n| dapp.send("balances.get", json!({"account": format!("{n:064x}")})))
        .collect();
    assert!(
        dapp.driver.settle(common::WAIT).await,
        "the relay holds them"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore();

    let mut answers = BTreeMap::new();
    for id in &ids {
        let result = dapp.response(*id).await.unwrap();
        answers.insert(*id, result["account"].as_str().unwrap().to_owned());
    }
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            answers[id],
            format!("{n:064x}"),
            "answers match their requests"
        );
    }
    // Exactly once: one REQUEST line per request, no loss reported on either side.
    dapp.run_for(Duration::from_millis(300)).await;
    wallet.drain_for(Duration::from_millis(300)).await;
    let requests: Vec<&String> = wallet
        .seen
        .iter()
        .filter(|l| l.starts_with("REQUEST "))
        .collect();
    assert_eq!(requests.len(), REQUESTS + 1, "{requests:?}");
    assert_eq!(wallet.count("MESSAGES_LOST"), 0);
    assert_eq!(dapp.seen(|e| matches!(e, Event::MessagesLost { .. })), 0);
    assert_eq!(
        dapp.seen(|e| matches!(e, Event::Response { .. })),
        REQUESTS + 1
    );
    dapp.close().await;
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
}

#[tokio::test]
async fn dapp_cut_off_while_the_wallet_answers() {
    let relay = Relay::start().await;
    let proxy = Proxy::start(relay.port).await;
    // The dApp reaches the relay through the proxy; the wallet directly.
    let mut dapp = NativeDapp::start(&proxy.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("cut-dapp"), &[]);
    wallet.expect("CONNECTED ").await;
    dapp.connected().await;

    let ids: Vec<u64> = (0..REQUESTS)
        .map(|_| dapp.send("wallet.info", json!({})))
        .collect();
    assert!(dapp.driver.settle(common::WAIT).await);
    proxy.cut();
    // The wallet answers all of them while the dApp is away.
    for _ in 0..REQUESTS {
        wallet.expect("REQUEST ").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore();
    for id in &ids {
        assert!(dapp.response(*id).await.is_ok());
    }
    dapp.run_for(Duration::from_millis(300)).await;
    assert!(dapp.links.contains(&false), "the dApp's link did drop");
    assert_eq!(dapp.seen(|e| matches!(e, Event::Response { .. })), REQUESTS);
    assert_eq!(dapp.seen(|e| matches!(e, Event::MessagesLost { .. })), 0);
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
}
