//! A new wallet process resumes the sessions file and answers on the old session, including
//! a request the dApp sent while no wallet was running.

mod common;

use common::{NativeDapp, Relay, WalletProcess, data_dir, run_wallet};
use serde_json::json;
use walletwire::protocol::{Event, Mode};

#[tokio::test]
async fn a_new_process_resumes_the_stored_session() {
    let relay = Relay::start().await;
    let dir = data_dir("resume");
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Untrusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &[]);
    let otp = dapp.until_line(&mut wallet, "OTP ").await;
    dapp.wait_for("otp_required", |e| {
        matches!(e, Event::OtpRequired { .. }).then_some(())
    })
    .await;
    dapp.submit_otp(&otp).unwrap();
    let info = dapp.connected().await;
    let session = dapp.until_line(&mut wallet, "CONNECTED ").await;
    assert_eq!(session, info.id);
    let accounts = dapp.request("accounts.list", json!({})).await.unwrap();

    // The wallet dies without a word (a crash, a phone killing the app).
    wallet.signal("KILL").await;
    let _ = wallet.exit().await;

    // The dApp asks meanwhile; the frame waits in the relay's history.
    let while_down = dapp.send("accounts.list", json!({}));
    assert!(dapp.driver.settle(common::WAIT).await);

    let dir_arg = dir.to_str().unwrap();
    let mut resumed = WalletProcess::spawn(&["resume", "--data-dir", dir_arg]);
    assert_eq!(resumed.expect("RESUMED ").await, session);
    // Same keys, same session: the answer to the old request arrives, then new ones work.
    assert_eq!(dapp.response(while_down).await.unwrap(), accounts);
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());
    assert_eq!(resumed.count("MESSAGES_LOST"), 0);
    assert_eq!(dapp.seen(|e| matches!(e, Event::MessagesLost { .. })), 0);
    dapp.close().await;
    assert_eq!(
        resumed.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
    assert!(resumed.exit().await.success());

    // Nothing left to resume.
    let (status, lines) = run_wallet(&["resume", "--data-dir", dir_arg]).await;
    assert!(status.success());
    assert_eq!(lines, vec!["NO_SESSIONS".to_owned()]);
}

#[tokio::test]
async fn garbage_in_the_sessions_file_is_dropped_not_fatal() {
    let dir = data_dir("garbage");
    let record = r#"{"v":1,"records":{"walletwire:v1:session:x":"{\"v\":1,\"kind\":\"session\"}","walletwire:v1:session:y":"junk"}}"#;
    std::fs::write(dir.join("sessions.json"), record).unwrap();
    let dir_arg = dir.to_str().unwrap();
    let (status, lines) = run_wallet(&["resume", "--data-dir", dir_arg]).await;
    assert!(status.success(), "{lines:?}");
    assert_eq!(lines, vec!["NO_SESSIONS".to_owned()]);
    let file = std::fs::read_to_string(dir.join("sessions.json")).unwrap();
    assert!(!file.contains("junk"), "unusable records deleted: {file}");
    // A file that is not JSON at all: listed as an error, not a crash.
    std::fs::write(dir.join("sessions.json"), "\u{0}\u{1}garbage").unwrap();
    let (status, lines) = run_wallet(&["sessions", "--data-dir", dir_arg]).await;
    assert_eq!(status.code(), Some(1));
    assert!(
        lines.iter().any(|l| l.starts_with("ERROR store_failed")),
        "{lines:?}"
    );
}
