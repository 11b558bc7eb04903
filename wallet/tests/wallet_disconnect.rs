//! The wallet ends the session and the dApp learns it: after N requests, on Ctrl-C, and with
//! `walletwire-wallet disconnect <id>` for a session no process is serving.

mod common;

use common::{NativeDapp, Relay, WalletProcess, data_dir, run_wallet};
use serde_json::json;
use walletwire::protocol::{Disconnect, Error, Mode};

async fn paired(
    relay: &Relay,
    dir: &std::path::Path,
    extra: &[&str],
) -> (NativeDapp, WalletProcess, String) {
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), dir, extra);
    let session = wallet.expect("CONNECTED ").await;
    assert_eq!(dapp.connected().await.id, session);
    (dapp, wallet, session)
}

#[tokio::test]
async fn disconnect_after_requests_is_seen_by_the_dapp() {
    let relay = Relay::start().await;
    let (mut dapp, mut wallet, session) =
        paired(&relay, &data_dir("after"), &["--disconnect-after", "2"]).await;
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    let why = dapp.disconnected().await;
    assert!(matches!(why, Disconnect::Peer { .. }), "{why:?}");
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} local")
    );
    assert!(wallet.exit().await.success());
    // Nothing can be asked any more.
    let conn = dapp.driver.hub().connection(dapp.id);
    assert!(conn.is_none(), "closed connections leave the hub");
}

#[tokio::test]
async fn ctrl_c_closes_the_session_for_the_dapp() {
    let relay = Relay::start().await;
    let (mut dapp, mut wallet, session) = paired(&relay, &data_dir("sigint"), &[]).await;
    // A request the wallet will never answer settles with peer_closed, not a timeout.
    let pending = dapp.send("wallet.info", json!({}));
    let first = dapp.response(pending).await;
    assert!(first.is_ok());
    wallet.signal("INT").await;
    let why = dapp.disconnected().await;
    assert!(matches!(why, Disconnect::Peer { .. }), "{why:?}");
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} local")
    );
    assert!(wallet.exit().await.success());
}

#[tokio::test]
async fn disconnect_command_closes_a_stored_session() {
    let relay = Relay::start().await;
    let dir = data_dir("command");
    let (mut dapp, mut wallet, session) = paired(&relay, &dir, &["--keep-sessions"]).await;
    // Stopped with --keep-sessions: the dApp is not told, the session stays on file.
    wallet.signal("TERM").await;
    assert!(wallet.exit().await.success());
    let dir_arg = dir.to_str().unwrap();
    let (status, lines) = run_wallet(&["sessions", "--data-dir", dir_arg]).await;
    assert!(status.success());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("SESSION {session} trusted connected"))),
        "{lines:?}"
    );
    // A request sent now waits on the relay; the dApp is still connected.
    let pending = dapp.send("wallet.info", json!({}));
    let (status, lines) = run_wallet(&["disconnect", &session, "--data-dir", dir_arg]).await;
    assert!(status.success(), "{lines:?}");
    assert!(
        lines.contains(&format!("DISCONNECTED {session} local")),
        "{lines:?}"
    );
    assert!(matches!(dapp.disconnected().await, Disconnect::Peer { .. }));
    assert!(matches!(
        dapp.response(pending).await,
        Err(Error::PeerClosed)
    ));
    let (_, lines) = run_wallet(&["sessions", "--data-dir", dir_arg]).await;
    assert!(
        !lines.iter().any(|l| l.contains(&session)),
        "forgotten: {lines:?}"
    );
    let (status, lines) = run_wallet(&["disconnect", &session, "--data-dir", dir_arg]).await;
    assert_eq!(status.code(), Some(2));
    assert!(lines.iter().any(|l| l.starts_with("ERROR unknown_session")));
}

#[tokio::test]
async fn a_second_wallet_process_on_the_same_data_directory_refuses() {
    let relay = Relay::start().await;
    let dir = data_dir("locked");
    let (mut dapp, mut wallet, session) = paired(&relay, &dir, &[]).await;
    let dir_arg = dir.to_str().unwrap();
    // The first process serves the session; a second one would send under the same counters.
    for args in [
        vec!["resume", "--data-dir", dir_arg],
        vec!["disconnect", session.as_str(), "--data-dir", dir_arg],
    ] {
        let (status, lines) = run_wallet(&args).await;
        assert_eq!(status.code(), Some(1), "{args:?}: {lines:?}");
        assert!(
            lines.iter().any(|l| l.starts_with("ERROR data_dir_busy ")),
            "{args:?}: {lines:?}"
        );
    }
    // The first process is undisturbed: it still answers, and the session is still on file.
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    let (_, lines) = run_wallet(&["sessions", "--data-dir", dir_arg]).await;
    assert!(lines.iter().any(|l| l.contains(&session)), "{lines:?}");
    // Once it has stopped, the directory is free again.
    wallet.signal("INT").await;
    assert!(wallet.exit().await.success());
    let (status, lines) = run_wallet(&["resume", "--data-dir", dir_arg]).await;
    assert!(status.success(), "{lines:?}");
    assert!(lines.contains(&"NO_SESSIONS".to_owned()), "{lines:?}");
}
