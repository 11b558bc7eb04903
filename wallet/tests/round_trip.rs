//! Request round trip through the local relay: a native dApp asks the `walletwire-wallet`
//! process `wallet.info` 200 times, one after the other; prints the median and p90.

mod common;

use std::time::Instant;

use common::{NativeDapp, Relay, WalletProcess, data_dir};
use serde_json::json;
use walletwire::protocol::Mode;

const ROUNDS: usize = 200;

#[tokio::test]
async fn wallet_info_round_trip() {
    let relay = Relay::start().await;
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("round-trip"), &[]);
    wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        dapp.request("wallet.info", json!({})).await.unwrap();
        times.push(started.elapsed());
        // Keep the wallet's stdout pipe drained.
        while let Ok(Some(_)) =
            tokio::time::timeout(std::time::Duration::ZERO, wallet.next_line()).await
        {}
    }
    times.sort();
    let median = times[ROUNDS / 2];
    let p90 = times[ROUNDS * 9 / 10];
    println!(
        "wallet.info round trip over {ROUNDS} requests: median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        median.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        times[ROUNDS - 1].as_secs_f64() * 1e3
    );
    assert!(median.as_millis() < 1000, "median {median:?}");
    dapp.close().await;
}
