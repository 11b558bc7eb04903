//! Trusted mode end to end: no code, no ack, the wallet connected at once, the dApp picking
//! the offer up live or from history after being frozen.
mod common;

use common::*;
use serde_json::json;
use walletwire::protocol::{Disconnect, Error, Event, Mode, State};

#[test]
fn trusted_pairing_requests_both_ways_and_close() {
    let mut pair = Pair::connected(Mode::Trusted);
    assert!(pair.wallet().has_event(is_connected));
    assert!(pair.dapp.has_event(is_connected));
    assert!(
        !pair
            .wallet()
            .has_event(|e| matches!(e, Event::DisplayOtp { .. })),
        "no OTP in trusted mode"
    );
    // No ack is sent in trusted mode: the dApp published nothing on the session channel
    // (only its sealed request, on the handshake channel).
    assert!(
        pair.dapp
            .published
            .iter()
            .all(|(channel, _)| channel.starts_with("handshake:"))
    );

    // dApp -> wallet request.
    let now = pair.now;
    let id = pair
        .dapp
        .conn
        .request("accounts.list", json!({}), None, now)
        .unwrap();
    pair.drive();
    let (wid, method) = pair
        .wallet()
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { id, method, .. } => Some((*id, method.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(method, "accounts.list");
    pair.wallet()
        .conn
        .respond(wid, Ok(json!(["acc-1"]).into()), now)
        .unwrap();
    pair.drive();
    assert!(pair.dapp.has_event(|e| *e
        == Event::Response {
            id,
            result: Ok(json!(["acc-1"]).into())
        }));

    // wallet -> dApp request, rejected by the dApp.
    let wreq = pair
        .wallet()
        .conn
        .request("dapp.ping", json!(1), None, now)
        .unwrap();
    pair.drive();
    let did = pair
        .dapp
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    pair.dapp
        .conn
        .respond(
            did,
            Err(walletwire::protocol::RpcError {
                code: 4001,
                message: "no".into(),
            }),
            now,
        )
        .unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(|e| *e
        == Event::Response {
            id: wreq,
            result: Err(Error::Remote {
                code: 4001,
                message: "no".into()
            })
        }));

    // Notifications and pings.
    pair.dapp
        .conn
        .notify("chain.changed", json!({"chain": 2}), now)
        .unwrap();
    let n = pair.wallet().conn.ping(now).unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(
        |e| matches!(e, Event::Notification { method, .. } if method == "chain.changed")
    ));
    assert!(pair.wallet().has_event(|e| *e == Event::Pong { n }));

    // The dApp closes: the wallet learns it, pending requests settle, records are gone.
    let pending = pair
        .wallet()
        .conn
        .request("never.answered", json!(null), None, now)
        .unwrap();
    pair.drive();
    pair.dapp.conn.close("bye", now);
    pair.drive();
    assert!(pair.wallet().has_event(|e| *e
        == Event::Disconnected(Disconnect::Peer {
            reason: "bye".into()
        })));
    assert!(pair.wallet().has_event(|e| *e
        == Event::Response {
            id: pending,
            result: Err(Error::PeerClosed)
        }));
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::Disconnected(Disconnect::Local))
    );
    assert!(pair.dapp.store.is_empty() && pair.wallet().store.is_empty());
    assert_eq!(
        pair.dapp.conn.request("x", json!(null), None, now),
        Err(Error::InvalidState("closed"))
    );
}

#[test]
fn frozen_dapp_picks_the_offer_from_history_after_expiry() {
    let mut pair = Pair::new(Mode::Trusted);
    let request = pair.request();
    pair.dapp.frozen = true; // the OS suspends the tab as the user deep-links to the wallet
    pair.scan();
    assert!(
        pair.wallet().has_event(is_connected),
        "wallet connected optimistically"
    );
    // The wallet sends a request before the dApp is even awake.
    let now = pair.now;
    pair.wallet()
        .conn
        .request("hello", json!("early"), Some(600_000), now)
        .unwrap();
    pair.drive();
    // The tab wakes long after the request expired: the expiry timer fires first, but the
    // dApp syncs before giving up and finds the offer.
    pair.dapp.frozen = false;
    pair.advance_to(request.expires_at + 5_000);
    assert!(pair.dapp.has_event(is_connected));
    assert!(!pair.dapp.has_event(|e| matches!(e, Event::Disconnected(_))));
    assert!(
        pair.dapp
            .has_event(|e| matches!(e, Event::Request { method, .. } if method == "hello")),
        "frames the wallet sent before the dApp joined are recovered"
    );
}

#[test]
fn request_expires_when_no_wallet_answers() {
    let mut pair = Pair::new(Mode::Trusted);
    let request = pair.request();
    pair.advance_to(request.expires_at + 1);
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::Disconnected(Disconnect::Failed(Error::RequestExpired)))
    );
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::State(State::Disconnected))
    );
    assert!(pair.dapp.store.is_empty(), "pending record removed");
    // A wallet scanning the expired QR refuses it.
    let err = walletwire::protocol::WalletConnection::accept(
        &request,
        wallet_options(),
        request.expires_at + 60_000,
        SeededRandom::boxed(3),
    )
    .unwrap_err();
    assert_eq!(err, Error::RequestExpired);
}

#[test]
fn request_timeout_settles_with_timeout() {
    let mut pair = Pair::connected(Mode::Trusted);
    let now = pair.now;
    let id = pair
        .dapp
        .conn
        .request("slow", json!(null), Some(5_000), now)
        .unwrap();
    pair.drive();
    pair.advance(4_999);
    assert!(!pair.dapp.has_event(|e| matches!(e, Event::Response { .. })));
    pair.advance(1);
    assert!(pair.dapp.has_event(|e| *e
        == Event::Response {
            id,
            result: Err(Error::Timeout)
        }));
    // The late answer is ignored rather than delivered twice.
    let wid = pair
        .wallet()
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    let now = pair.now;
    pair.wallet()
        .conn
        .respond(wid, Ok(json!(1).into()), now)
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.dapp
            .events
            .iter()
            .filter(|e| matches!(e, Event::Response { .. }))
            .count(),
        1
    );
}

#[test]
fn oversize_payload_is_refused_before_sending() {
    let mut pair = Pair::connected(Mode::Trusted);
    let now = pair.now;
    let big = "x".repeat(60_000);
    let err = pair
        .dapp
        .conn
        .request("big", json!(big), None, now)
        .unwrap_err();
    assert_eq!(err.code(), "payload_too_large");
    pair.drive();
    assert!(
        pair.wallet()
            .events
            .iter()
            .all(|e| !matches!(e, Event::Request { .. }))
    );
    // The session still works afterwards.
    pair.dapp.conn.notify("small", json!(1), now).unwrap();
    pair.drive();
    assert!(
        pair.wallet()
            .has_event(|e| matches!(e, Event::Notification { .. }))
    );
}

#[test]
fn raised_payload_limit_carries_a_60_kb_request_both_ways() {
    let limits = walletwire::protocol::Limits {
        max_payload: 70_000,
        ..Default::default()
    };
    assert!(limits.max_frame_len() > 64 * 1024);
    let mut pair = Pair::connected_with_limits(Mode::Trusted, 1, limits);
    let now = pair.now;
    let big = "y".repeat(60_000);
    pair.dapp
        .conn
        .request("echo", json!(big), None, now)
        .expect("60 KB fits the raised limit");
    pair.drive();
    let id = common::first_request_id(&pair.wallet().events);
    assert!(
        pair.wallet()
            .has_event(|e| matches!(e, Event::Request { params, .. } if *params == json!(big)))
    );
    pair.wallet()
        .conn
        .respond(id, Ok(json!(big).into()), now)
        .expect("the answer fits too");
    pair.drive();
    assert!(
        pair.dapp
            .has_event(|e| matches!(e, Event::Response { result: Ok(v), .. } if *v == json!(big)))
    );
}

#[test]
fn session_expires_after_its_ttl_without_use() {
    let mut pair = Pair::connected(Mode::Trusted);
    let ttl = walletwire::protocol::Limits::default().session_ttl_ms;
    pair.advance(ttl + 1);
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::Disconnected(Disconnect::Failed(Error::SessionExpired)))
    );
    assert!(
        pair.wallet()
            .has_event(|e| *e == Event::Disconnected(Disconnect::Failed(Error::SessionExpired)))
    );
}

#[test]
fn a_sync_that_never_finishes_still_ends_the_handshake() {
    let mut pair = Pair::new(Mode::Trusted);
    let request = pair.request();
    // The driver is "stuck": it never answers the Sync (e.g. the relay is unreachable).
    pair.dapp.frozen = true;
    pair.dapp.conn.handle_timeout(request.expires_at);
    let outputs: Vec<_> = std::iter::from_fn(|| pair.dapp.conn.poll_output()).collect();
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, walletwire::protocol::Output::Sync { .. }))
    );
    assert_eq!(
        pair.dapp.conn.poll_timeout(),
        Some(request.expires_at + walletwire::protocol::SYNC_TIMEOUT_MS)
    );
    pair.dapp
        .conn
        .handle_timeout(request.expires_at + walletwire::protocol::SYNC_TIMEOUT_MS);
    let outputs: Vec<_> = std::iter::from_fn(|| pair.dapp.conn.poll_output()).collect();
    assert!(
        outputs.contains(&walletwire::protocol::Output::Event(Event::Disconnected(
            Disconnect::Failed(Error::RequestExpired)
        )))
    );
}

#[test]
fn a_wallet_whose_relay_never_answers_gives_up_when_the_request_expires() {
    let pair = Pair::new(Mode::Trusted);
    let request = pair.request();
    let mut wallet = walletwire::protocol::WalletConnection::accept(
        &request,
        wallet_options(),
        pair.now,
        SeededRandom::boxed(5),
    )
    .unwrap();
    // Nobody feeds `handle_subscribed`: the relay is down.
    let deadline = request.expires_at + wallet_options().clock_skew_ms;
    assert_eq!(wallet.poll_timeout(), Some(deadline));
    wallet.handle_timeout(deadline);
    let outputs: Vec<_> = std::iter::from_fn(|| wallet.poll_output()).collect();
    assert!(
        outputs.contains(&walletwire::protocol::Output::Event(Event::Disconnected(
            Disconnect::Failed(Error::RequestExpired)
        )))
    );
    assert!(wallet.is_closed());
}

#[test]
fn floats_in_params_arrive_bit_for_bit() {
    // serde_json without `float_roundtrip` may read a printed float back one unit in the last
    // place off (found by the fuzz targets); amounts must not change on their way.
    let mut pair = Pair::connected(Mode::Trusted);
    let now = pair.now;
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let values: Vec<f64> = std::iter::from_fn(|| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Some(f64::from_bits(state))
    })
    .filter(|v| v.is_finite())
    .take(2000)
    .collect();
    pair.dapp
        .conn
        .request("amounts", json!(values), None, now)
        .unwrap();
    pair.drive();
    let received = pair
        .wallet()
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { params, .. } => Some(params.clone()),
            _ => None,
        })
        .expect("the request arrived");
    let received: Vec<f64> = serde_json::from_str(received.as_str()).unwrap();
    assert_eq!(received.len(), values.len());
    for (sent, got) in values.iter().zip(&received) {
        assert_eq!(sent.to_bits(), got.to_bits(), "{sent:e} became {got:e}");
    }
}
