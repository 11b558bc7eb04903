//! A native dApp and the `walletwire-wallet` binary pair through the real relay in both modes
//! and use the whole wallet API; two native peers exchange requests both ways.

mod common;

use common::{NativeDapp, Relay, WAIT, WalletProcess, data_dir};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};
use walletwire::protocol::{
    Disconnect, Error, Event, Limits, Metadata, Mode, RpcError, WalletOptions,
};
use walletwire::relay::hub::HubEvent;
use walletwire_wallet::driver::{Driver, DriverEvent};
use walletwire_wallet::hex;
use walletwire_wallet::ledger::OPENING_BALANCE;
use walletwire_wallet::system::{now_ms, os_random};

fn remote_code(result: Result<Value, Error>) -> i64 {
    match result {
        Err(Error::Remote { code, .. }) => code,
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test]
async fn trusted_pairing_serves_the_wallet_api() {
    let relay = Relay::start().await;
    let dir = data_dir("trusted");
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &[]);
    let session = wallet.expect("CONNECTED ").await;
    let info = dapp.connected().await;
    assert_eq!(info.id, session, "both sides name the same session");
    assert_eq!(info.peer.name, "walletwire reference wallet");
    assert_eq!(wallet.count("OTP "), 0, "no code in trusted mode");

    let about = dapp.request("wallet.info", json!({})).await.unwrap();
    assert_eq!(about["protocol"], 3);

    let accounts = dapp.request("accounts.list", json!({})).await.unwrap();
    let accounts = accounts["accounts"].as_array().unwrap().clone();
    assert!(accounts.len() >= 2);
    let from = accounts[0]["address"].as_str().unwrap().to_owned();
    let to = accounts[1]["address"].as_str().unwrap().to_owned();

    // A signature any ed25519 implementation accepts, under the listed public key.
    let message = "Sign in to Test dApp: nonce 8f2c";
    let signed = dapp
        .request("message.sign", json!({"account": from, "message": message}))
        .await
        .unwrap();
    assert_eq!(signed["publicKey"], json!(from));
    let key = VerifyingKey::from_bytes(&hex::decode_array(&from).unwrap()).unwrap();
    let signature =
        Signature::from_bytes(&hex::decode_array(signed["signature"].as_str().unwrap()).unwrap());
    key.verify(message.as_bytes(), &signature).unwrap();
    assert!(key.verify(b"another message", &signature).is_err());

    // A transaction changes the ledger file.
    let tx = dapp
        .request(
            "transaction.submit",
            json!({"from": from, "to": to, "amount": 1234}),
        )
        .await
        .unwrap();
    assert_eq!(tx["balance"], OPENING_BALANCE - 1234);
    let ledger: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ledger.json")).unwrap()).unwrap();
    assert_eq!(ledger["balances"][&from], OPENING_BALANCE - 1234);
    assert_eq!(ledger["balances"][&to], OPENING_BALANCE + 1234);
    assert_eq!(ledger["transactions"][0]["id"], tx["txId"]);
    let balance = dapp
        .request("balances.get", json!({"account": to}))
        .await
        .unwrap();
    assert_eq!(balance["balance"], OPENING_BALANCE + 1234);

    // Bad input gets JSON-RPC errors and the session goes on.
    assert_eq!(
        remote_code(dapp.request("wallet.explode", json!({})).await),
        -32601
    );
    assert_eq!(
        remote_code(dapp.request("balances.get", json!({"account": 5})).await),
        -32602
    );
    assert_eq!(
        remote_code(
            dapp.request(
                "transaction.submit",
                json!({"from": from, "to": to, "amount": OPENING_BALANCE * 10}),
            )
            .await
        ),
        -32000
    );
    assert!(dapp.request("wallet.info", json!({})).await.is_ok());

    // The sessions file holds the session while it lives.
    let sessions = std::fs::read_to_string(dir.join("sessions.json")).unwrap();
    assert!(sessions.contains(&session));

    // The dApp disconnects: the wallet learns it, forgets the session and exits cleanly.
    dapp.close().await;
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
    assert!(wallet.exit().await.success());
    let sessions = std::fs::read_to_string(dir.join("sessions.json")).unwrap();
    assert!(!sessions.contains(&session), "closed session deleted");
}

#[tokio::test]
async fn untrusted_pairing_with_the_printed_code() {
    let relay = Relay::start().await;
    let dir = data_dir("untrusted");
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Untrusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &[]);
    let otp = dapp.until_line(&mut wallet, "OTP ").await;
    assert!(
        otp.len() == 6 && otp.bytes().all(|b| b.is_ascii_digit()),
        "{otp:?}"
    );
    let attempts = dapp.otp_required().await;
    assert_eq!(attempts, 3);
    // A wrong code costs an attempt and changes nothing.
    let wrong = if otp == "000000" { "000001" } else { "000000" };
    assert!(matches!(
        dapp.submit_otp(wrong),
        Err(Error::OtpMismatch { attempts_left: 2 })
    ));
    assert_eq!(wallet.count("CONNECTED "), 0);
    dapp.submit_otp(&otp).unwrap();
    let info = dapp.connected().await;
    // The wallet is connected only when the dApp's ack arrives.
    let session = dapp.until_line(&mut wallet, "CONNECTED ").await;
    assert_eq!(session, info.id);
    let accounts = dapp.request("accounts.list", json!({})).await.unwrap();
    assert_eq!(accounts["accounts"][0]["keyType"], "ed25519");
    dapp.close().await;
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
    assert!(wallet.exit().await.success());
}

/// Two native peers on the tokio driver: requests and notifications in both directions.
#[tokio::test]
async fn native_peers_request_both_ways() {
    let relay = Relay::start().await;
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = Driver::new(
        relay.url(),
        common::quick_relay_options(),
        Limits::default(),
        None,
    );
    let meta = Metadata {
        name: "in-test wallet".into(),
        url: None,
        icon: None,
    };
    let wallet_id = wallet
        .hub()
        .connect_wallet(&request, WalletOptions::new(meta), now_ms(), os_random())
        .unwrap();
    // Drive the wallet until connected, then ask the dApp something.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, wallet.next())
            .await
            .unwrap();
        if let DriverEvent::Hub(HubEvent::Event {
            event: Event::Connected(_),
            ..
        }) = event
        {
            break;
        }
    }
    dapp.connected().await;
    let asked = wallet
        .hub()
        .connection(wallet_id)
        .unwrap()
        .request(
            "dapp.origin",
            json!({"why": "test"}),
            Some(10_000),
            now_ms(),
        )
        .unwrap();
    // The dApp receives it while the wallet's driver delivers the frame.
    let (dapp_request, answered) = tokio::join!(
        dapp.wait_for("request", |e| match e {
            Event::Request { id, method, params } => Some((*id, method.clone(), params.clone())),
            _ => None,
        }),
        wallet.settle(WAIT)
    );
    assert!(answered);
    assert_eq!(dapp_request.1, "dapp.origin");
    assert_eq!(dapp_request.2.value().unwrap()["why"], "test");
    dapp.driver
        .hub()
        .connection(dapp.id)
        .unwrap()
        .respond(
            dapp_request.0,
            Ok(json!({"origin": "http://127.0.0.1"}).into()),
            now_ms(),
        )
        .unwrap();
    // And the other way at the same time: the dApp asks, the wallet refuses.
    let pending = dapp.send("accounts.list", json!({}));
    let mut got_response = false;
    let mut answered_dapp = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(got_response && answered_dapp) {
        tokio::select! {
            event = wallet.next() => match event {
                DriverEvent::Hub(HubEvent::Event { event: Event::Response { id, result }, .. }) => {
                    assert_eq!(id, asked);
                    assert_eq!(result.unwrap().value().unwrap()["origin"], "http://127.0.0.1");
                    got_response = true;
                }
                DriverEvent::Hub(HubEvent::Event { event: Event::Request { id, method, .. }, .. }) => {
                    assert_eq!(method, "accounts.list");
                    let refusal = RpcError { code: 4001, message: "no".into() };
                    wallet.hub().connection(wallet_id).unwrap().respond(id, Err(refusal), now_ms()).unwrap();
                }
                _ => {}
            },
            result = dapp.response(pending), if !answered_dapp => {
                assert_eq!(remote_code(result), 4001);
                answered_dapp = true;
            }
            () = tokio::time::sleep_until(deadline) => panic!("requests both ways did not settle"),
        }
    }
    // Notifications reach the peer too.
    wallet
        .hub()
        .connection(wallet_id)
        .unwrap()
        .notify("accountsChanged", json!([]), now_ms())
        .unwrap();
    assert!(wallet.settle(WAIT).await);
    let note = dapp
        .wait_for("notification", |e| match e {
            Event::Notification { method, .. } => Some(method.clone()),
            _ => None,
        })
        .await;
    assert_eq!(note, "accountsChanged");
    // The wallet closes: the dApp sees the peer leave.
    wallet
        .hub()
        .connection(wallet_id)
        .unwrap()
        .close("bye", now_ms());
    assert!(wallet.settle(WAIT).await);
    assert!(matches!(dapp.disconnected().await, Disconnect::Peer { .. }));
}

/// Without auto-approve, signing waits for the user's y/n on stdin; reading stays automatic.
#[tokio::test]
async fn signing_waits_for_approval_without_auto_approve() {
    let relay = Relay::start().await;
    let mut dapp = NativeDapp::start(&relay.url(), &relay.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let dir = data_dir("approve");
    let mut wallet = WalletProcess::pair(&request.to_uri(), &dir, &["--auto-approve", "false"]);
    wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    let accounts = dapp.request("accounts.list", json!({})).await.unwrap();
    let account = accounts["accounts"][0]["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let params = json!({"account": account, "message": "pay me"});

    let refused = dapp.send("message.sign", params.clone());
    let prompt = dapp.until_line(&mut wallet, "APPROVE ").await;
    assert!(prompt.contains("message.sign"), "{prompt}");
    wallet.answer("n").await;
    assert_eq!(remote_code(dapp.response(refused).await), 4001);

    let approved = dapp.send("message.sign", params);
    dapp.until_line(&mut wallet, "APPROVE ").await;
    wallet.answer("y").await;
    let signed = dapp.response(approved).await.unwrap();
    assert_eq!(signed["signature"].as_str().unwrap().len(), 128);
    dapp.close().await;
    assert!(wallet.exit().await.success());
}
