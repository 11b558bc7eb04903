//! A peer stays away longer than the relay's history window (`--session-history-size 4`)
//! while the other one keeps sending: when it comes back it is told what it missed
//! (`messages_lost` without a count when recovery fails, then with the exact count once the
//! frames the relay still kept are read), never left to guess; those kept frames are
//! delivered; requests whose frames were lost settle with the typed `timeout` error; and the
//! session goes on.

mod common;

use std::time::Duration;

use common::{NativeDapp, Proxy, Relay, WAIT, WalletProcess, data_dir};
use serde_json::json;
use walletwire::protocol::{Error, Event, Mode};

/// The relay keeps 4 publications per session channel.
const SMALL_HISTORY: [&str; 3] = ["--session-history-size", "4", "--no-signaling"];
/// Deadline of the requests sent while the peer is away.
const DEADLINE: Duration = Duration::from_secs(5);
/// Time for publications of the wallet process to reach the relay.
const STORED: Duration = Duration::from_millis(500);

fn account(n: u64) -> String {
    format!("{n:064x}")
}

/// How the requests sent while the peer was away ended: (answered, timed out).
async fn settle_all(
    dapp: &mut NativeDapp,
    ids: &[u64],
    answered: impl Fn(&Result<serde_json::Value, Error>) -> bool,
) -> (usize, usize) {
    let (mut ok, mut timed_out) = (0, 0);
    for id in ids {
        let outcome = dapp.response(*id).await;
        if answered(&outcome) {
            ok += 1;
        } else if outcome == Err(Error::Timeout) {
            timed_out += 1;
        } else {
            panic!("request {id} ended {outcome:?}");
        }
    }
    (ok, timed_out)
}

#[tokio::test]
async fn a_wallet_away_longer_than_the_history_is_told_what_it_missed() {
    let relay = Relay::start_with(0, &SMALL_HISTORY).await;
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let dir = data_dir("faults-history-wallet");
    let dir_arg = dir.to_str().expect("UTF-8 temp path");
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &["--keep-sessions"]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());

    // The wallet stops and keeps the session; the dApp sends 10 frames, the relay keeps 4.
    wallet.signal("TERM").await;
    assert!(wallet.exit().await.success());
    for k in 0..6 {
        dapp.notify("dapp.note", json!({"k": k}));
    }
    let asked: Vec<u64> = (0..4)
        .map(|n| dapp.send_within("balances.get", json!({"account": account(n)}), DEADLINE))
        .collect();
    assert!(dapp.driver.settle(WAIT).await);

    let mut resumed = WalletProcess::spawn(&["resume", "--data-dir", dir_arg]);
    assert_eq!(resumed.expect("RESUMED ").await, session);
    let lost = dapp.until_line(&mut resumed, "MESSAGES_LOST ").await;
    let count = lost
        .strip_prefix(&format!("{session} "))
        .unwrap_or_else(|| panic!("MESSAGES_LOST {lost}"));
    // First the relay could not recover (no count yet), then the wallet read the 4 frames
    // the relay kept and counted exactly the 6 notes that are gone.
    assert_eq!(count, "unknown", "{lost}");
    let lost = dapp.until_line(&mut resumed, "MESSAGES_LOST ").await;
    assert_eq!(lost, format!("{session} 6"), "exactly the 6 dropped frames");
    let (answered, timed_out) = settle_all(&mut dapp, &asked, Result::is_ok).await;
    assert_eq!(
        (answered, timed_out),
        (4, 0),
        "the 4 requests the relay kept are answered"
    );

    // The session goes on.
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    resumed.drain_for(Duration::from_millis(200)).await;
    assert_eq!(
        resumed.count("REQUEST "),
        answered + 1,
        "answered requests were seen once: {:?}",
        resumed.seen
    );
    println!(
        "wallet back after 10 frames (history 4): {:?}; requests answered {answered}, timed out {timed_out}",
        resumed
            .seen
            .iter()
            .filter(|l| l.starts_with("MESSAGES_LOST"))
            .collect::<Vec<_>>()
    );
    dapp.close().await;
    assert_eq!(
        resumed.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
}

#[tokio::test]
async fn a_dapp_away_longer_than_the_history_is_told_what_it_missed() {
    let relay = Relay::start_with(0, &SMALL_HISTORY).await;
    let dapp_side = Proxy::start(relay.port).await;
    let mut dapp = NativeDapp::start(&dapp_side.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let dir = data_dir("faults-history-dapp");
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &["--auto-approve", "false"]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;

    // Six requests reach the wallet; the dApp's link goes down; the wallet answers all six
    // (the user rejects them) and the relay keeps only the last 4 answers.
    let asked: Vec<u64> = (0..6)
        .map(|n| {
            let params = json!({"account": account(n), "message": "hello"});
            dapp.send_within("message.sign", params, DEADLINE)
        })
        .collect();
    assert!(dapp.driver.settle(WAIT).await);
    wallet.expect("APPROVE ").await;
    dapp_side.cut();
    wallet.answer("n").await;
    for _ in 1..asked.len() {
        wallet.expect("APPROVE ").await;
        wallet.answer("n").await;
    }
    tokio::time::sleep(STORED).await;
    dapp_side.restore();

    dapp.wait_for("messages_lost", |e| {
        matches!(e, Event::MessagesLost { .. }).then_some(())
    })
    .await;
    let rejected = |outcome: &Result<serde_json::Value, Error>| {
        matches!(outcome, Err(Error::Remote { code: 4001, .. }))
    };
    let (answered, timed_out) = settle_all(&mut dapp, &asked, rejected).await;
    assert_eq!(
        (answered, timed_out),
        (4, 2),
        "the 4 answers the relay kept arrive; the 2 it dropped time out"
    );

    // The session goes on.
    let info = dapp.request("wallet.info", json!({})).await.unwrap();
    assert!(info["methods"].is_array());
    let notices: Vec<_> = dapp
        .log
        .iter()
        .filter(|e| matches!(e, Event::MessagesLost { .. }))
        .collect();
    println!(
        "dApp back after 6 answers (history 4): {notices:?}; answered {answered}, timed out {timed_out}"
    );
    let counted: u64 = notices
        .iter()
        .map(|e| match e {
            Event::MessagesLost { count } => count.unwrap_or(0),
            _ => 0,
        })
        .sum();
    let unknown = notices
        .iter()
        .any(|e| matches!(e, Event::MessagesLost { count: None }));
    assert!(unknown, "the failed recovery is reported at once");
    assert_eq!(counted, 2, "then exactly the 2 dropped answers are counted");
    assert_eq!(wallet.count("DISCONNECTED"), 0);
    dapp.close().await;
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
}
