//! Reloads: a page that reloads in the middle of the handshake or of a session resumes from
//! its stored record; stored junk is refused, never fatal.
mod common;

use common::*;
use serde_json::json;
use walletwire::protocol::{
    DappConnection, Error, Event, Mode, Record, RecordError, WalletConnection,
};

fn reload_dapp(pair: &mut Pair) {
    let records = pair.dapp.records(pair.now);
    assert_eq!(records.len(), 1, "one record stored");
    let conn = match &records[0] {
        Record::Pending(p) => {
            DappConnection::resume_pending(p, SeededRandom::boxed(77), Default::default())
        }
        Record::Session(s) => {
            DappConnection::resume_session(s, SeededRandom::boxed(77), Default::default())
        }
    };
    let store = std::mem::take(&mut pair.dapp.store);
    pair.dapp = Peer::new(conn);
    pair.dapp.store = store;
    pair.drive();
}

#[test]
fn dapp_reload_while_waiting_for_the_otp_resumes_the_handshake() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let now = pair.now;
    let bad = if otp == "000000" { "111111" } else { "000000" };
    assert_eq!(
        pair.dapp.conn.submit_otp(bad, now),
        Err(Error::OtpMismatch { attempts_left: 2 })
    );
    pair.drive();
    reload_dapp(&mut pair);
    // The offer is read again from the relay and the prompt comes back with the attempts
    // left as they were: reloading cannot reset the count.
    assert!(pair.dapp.has_event(|e| matches!(
        e,
        Event::OtpRequired {
            attempts_left: 2,
            ..
        }
    )));
    let now = pair.now;
    pair.dapp.conn.submit_otp(&otp, now).unwrap();
    pair.drive();
    assert!(pair.dapp.has_event(is_connected));
    assert!(pair.wallet().has_event(is_connected));
}

#[test]
fn dapp_reload_before_any_offer_shows_the_same_request() {
    let mut pair = Pair::new(Mode::Trusted);
    let before = pair.request();
    reload_dapp(&mut pair);
    assert_eq!(pair.request(), before);
    pair.scan();
    assert!(pair.dapp.has_event(is_connected));
}

#[test]
fn wallet_reload_while_awaiting_the_ack_shows_the_code_again() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let now = pair.now;
    let records = pair.wallet().records(now);
    let Some(Record::Session(record)) = records.into_iter().next() else {
        panic!("wallet record")
    };
    assert!(record.awaiting_ack.is_some());
    let mut wallet = Peer::new(WalletConnection::resume(
        &record,
        SeededRandom::boxed(5),
        Default::default(),
    ));
    wallet.store = std::mem::take(&mut pair.wallet().store);
    pair.wallet = Some(wallet);
    pair.drive();
    assert_eq!(pair.wallet_otp(), otp);
    let now = pair.now;
    pair.dapp.conn.submit_otp(&otp, now).unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(is_connected));
}

#[test]
fn session_survives_reloads_on_both_sides_without_loss_or_duplicates() {
    let mut pair = Pair::connected(Mode::Untrusted);
    let now = pair.now;
    // The wallet sends while the dApp is gone (tab closed).
    pair.dapp.frozen = true;
    for i in 0..3 {
        pair.wallet().conn.notify("n", json!(i), now).unwrap();
    }
    pair.drive();
    pair.dapp.frozen = false;
    reload_dapp(&mut pair);
    let got: Vec<_> = pair
        .dapp
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Notification { params, .. } => params.as_str().parse::<i64>().ok(),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![0, 1, 2]);
    // Reload again: nothing is delivered twice, and our sequence numbers continue.
    reload_dapp(&mut pair);
    assert!(
        !pair
            .dapp
            .has_event(|e| matches!(e, Event::Notification { .. }))
    );
    let now = pair.now;
    pair.dapp
        .conn
        .request("after.reload", json!(null), None, now)
        .unwrap();
    pair.drive();
    assert!(
        pair.wallet()
            .has_event(|e| matches!(e, Event::Request { method, .. } if method == "after.reload"))
    );
}

#[test]
fn stored_records_from_another_version_or_corrupted_are_refused() {
    let pair = Pair::connected(Mode::Trusted);
    let text = pair.dapp.store.values().next().unwrap().clone();
    assert!(Record::decode(&text, pair.now).is_ok());
    let other_version = text.replacen("\"v\":1", "\"v\":2", 1);
    assert_eq!(
        Record::decode(&other_version, pair.now),
        Err(RecordError::Version(2))
    );
    assert_eq!(
        Record::decode(&text[..text.len() / 2], pair.now),
        Err(RecordError::Corrupt)
    );
    assert_eq!(Record::decode("", pair.now), Err(RecordError::Corrupt));
    assert_eq!(
        Record::decode("{\"v\":1,\"kind\":\"session\"}", pair.now),
        Err(RecordError::Corrupt)
    );
    assert_eq!(
        Record::decode("{\"v\":\"1\"}", pair.now),
        Err(RecordError::Corrupt)
    );
    assert_eq!(
        Record::decode(&"x".repeat(20_000), pair.now),
        Err(RecordError::Corrupt)
    );
    let bad_key = text.replacen("\"sendKey\":\"", "\"sendKey\":\"A", 1);
    assert_eq!(
        Record::decode(&bad_key, pair.now),
        Err(RecordError::Corrupt)
    );
    let far_future = pair.now + 8 * 24 * 3600 * 1000;
    assert_eq!(Record::decode(&text, far_future), Err(RecordError::Expired));
}
