//! The relay (memory broker) is killed and restarted on the same port mid-session: both
//! peers reconnect, learn that history is gone (`messages_lost`), and the session keeps
//! working for new messages, including one sent while the relay was down.

mod common;

use std::time::Duration;

use common::{NativeDapp, Relay, WalletProcess, data_dir};
use serde_json::json;
use walletwire::protocol::Mode;

#[tokio::test]
async fn sessions_survive_a_relay_restart() {
    let relay = Relay::start().await;
    let port = relay.port;
    let url = relay.url();
    let mut dapp = NativeDapp::start(&url, &url, Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("restart"), &[]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());

    relay.kill().await;
    // Both links notice at once (the socket closes); a request made now is queued.
    dapp.run_for(Duration::from_millis(300)).await;
    assert_eq!(dapp.links.last(), Some(&false), "dApp saw the link drop");
    let queued = dapp.send("accounts.list", json!({}));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let _relay = Relay::start_on(port).await;
    // History is gone with the old relay: each side is told, neither session ends.
    dapp.history_lost(&mut wallet, &session).await;
    let accounts = dapp.response(queued).await.unwrap();
    assert!(accounts["accounts"].is_array());
    for _ in 0..3 {
        assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    }
    assert_eq!(wallet.count("DISCONNECTED"), 0);
    dapp.close_seen_by(&mut wallet, &session).await;
    assert!(wallet.exit().await.success());
}
