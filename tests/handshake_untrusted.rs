//! Untrusted mode: the six-digit code, its deadline, three attempts, and racing fake offers.
mod common;

use common::*;
use serde_json::json;
use walletwire::base64url;
use walletwire::crypto::{KeyPair, KeySchedule};
use walletwire::protocol::{
    Disconnect, Error, Event, Metadata, Mode, OfferBody, OfferMessage, SessionRequest, State,
    offer_aad,
};

#[test]
fn untrusted_pairing_with_otp_then_requests_and_wallet_close() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    assert_eq!(otp.len(), 6);
    assert!(pair.dapp.has_event(|e| matches!(
        e,
        Event::OtpRequired {
            attempts_left: 3,
            ..
        }
    )));
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::State(State::AwaitingOtp))
    );
    assert!(
        !pair.wallet().has_event(is_connected),
        "wallet waits for the ack"
    );
    let now = pair.now;
    pair.dapp.conn.submit_otp(&otp, now).unwrap();
    pair.drive();
    assert!(pair.dapp.has_event(is_connected));
    assert!(pair.wallet().has_event(is_connected), "ack received");

    let id = pair
        .dapp
        .conn
        .request("sign", json!({"msg": "hi"}), None, now)
        .unwrap();
    pair.drive();
    let wid = first_request_id(&pair.wallet().events);
    pair.wallet()
        .conn
        .respond(wid, Ok(json!("sig")), now)
        .unwrap();
    pair.drive();
    assert!(pair.dapp.has_event(|e| *e
        == Event::Response {
            id,
            result: Ok(json!("sig"))
        }));

    let wid = pair
        .wallet()
        .conn
        .request("dapp.info", json!(null), None, now)
        .unwrap();
    pair.drive();
    let did = first_request_id(&pair.dapp.events);
    pair.dapp.conn.respond(did, Ok(json!("ok")), now).unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(|e| *e
        == Event::Response {
            id: wid,
            result: Ok(json!("ok"))
        }));

    pair.wallet().conn.close("wallet closed", now);
    pair.drive();
    assert!(pair.dapp.has_event(|e| *e
        == Event::Disconnected(Disconnect::Peer {
            reason: "wallet closed".into()
        })));
}

fn wrong_code(otp: &str) -> String {
    let first = (otp.as_bytes()[0] - b'0' + 1) % 10;
    format!("{first}{}", &otp[1..])
}

#[test]
fn otp_bruteforce_stops_at_three_attempts() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let now = pair.now;
    let bad = wrong_code(&otp);
    assert_eq!(
        pair.dapp.conn.submit_otp("12a", now),
        Err(Error::OtpMalformed),
        "malformed input costs nothing"
    );
    assert_eq!(
        pair.dapp.conn.submit_otp(&bad, now),
        Err(Error::OtpMismatch { attempts_left: 2 })
    );
    assert_eq!(
        pair.dapp.conn.submit_otp(&bad, now),
        Err(Error::OtpMismatch { attempts_left: 1 })
    );
    assert_eq!(
        pair.dapp.conn.submit_otp(&bad, now),
        Err(Error::OtpAttemptsExhausted)
    );
    pair.drive();
    assert!(
        pair.dapp.has_event(
            |e| *e == Event::Disconnected(Disconnect::Failed(Error::OtpAttemptsExhausted))
        )
    );
    // The fourth attempt, even with the right code, is refused.
    assert_eq!(
        pair.dapp.conn.submit_otp(&otp, now),
        Err(Error::OtpAttemptsExhausted)
    );
    assert!(pair.dapp.conn.session().is_none());
    assert!(pair.dapp.store.is_empty());
    // The wallet gives up at its deadline.
    pair.advance(70_001);
    assert!(
        pair.wallet()
            .has_event(|e| *e == Event::Disconnected(Disconnect::Failed(Error::HandshakeTimeout)))
    );
}

#[test]
fn late_otp_is_refused_and_the_deadline_ends_the_handshake() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let deadline = pair
        .dapp
        .events
        .iter()
        .find_map(|e| match e {
            Event::OtpRequired { deadline, .. } => Some(*deadline),
            _ => None,
        })
        .unwrap();
    assert_eq!(deadline, pair.now + 60_000);
    pair.advance_to(deadline + 1);
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::Disconnected(Disconnect::Failed(Error::OtpExpired)))
    );
    let now = pair.now;
    assert_eq!(pair.dapp.conn.submit_otp(&otp, now), Err(Error::OtpExpired));
}

#[test]
fn otp_submitted_just_after_deadline_without_timer_is_refused() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let late = pair.now + 60_001;
    assert_eq!(
        pair.dapp.conn.submit_otp(&otp, late),
        Err(Error::OtpExpired)
    );
}

/// An attacker who saw the QR code publishes its own offer first.
fn fake_offer(request: &SessionRequest, otp: &str, now: u64) -> String {
    fake_offer_with_deadline(request, otp, now + 60_000)
}

fn fake_offer_with_deadline(request: &SessionRequest, otp: &str, deadline: u64) -> String {
    fake_offer_from(request, otp, deadline, 0x66)
}

/// An offer of the wallet key `[key; 32]` with the given code and code deadline.
fn fake_offer_from(request: &SessionRequest, otp: &str, deadline: u64, key: u8) -> String {
    let attacker = KeyPair::from_secret([key; 32]);
    let dapp_pk = request.dapp_public_key().unwrap();
    let shared = attacker.agree(&dapp_pk).unwrap();
    let keys = KeySchedule::derive(&shared, &request.id, &dapp_pk, &attacker.public());
    let body = OfferBody {
        channel: "session:00000000-0000-4000-8000-000000000666".into(),
        wallet: Metadata {
            name: "Reference Wallet".into(),
            url: None,
            icon: None,
        },
        otp: Some(otp.into()),
        otp_deadline: Some(deadline),
        since: None,
    };
    let sealed = keys.handshake.seal_with_nonce(
        [9; 24],
        &offer_aad(&request.id),
        &serde_json::to_vec(&body).unwrap(),
    );
    serde_json::to_string(&OfferMessage {
        t: "offer".into(),
        pk: base64url::encode(&attacker.public().0),
        sealed: base64url::encode(&sealed),
    })
    .unwrap()
}

/// The dApp's handshake ended with this error.
fn contested(pair: &Pair) -> bool {
    pair.dapp.has_event(|e| {
        matches!(
            e,
            Event::Disconnected(Disconnect::Failed(Error::HandshakeContested))
        )
    })
}

#[test]
fn attack_racing_fake_offer_contests_the_handshake_and_never_hijacks() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    pair.relay
        .publish(&request.channel, fake_offer(&request, "000000", pair.now));
    pair.drive();
    // The prompt is raised by the first (fake) offer; the real wallet answers afterwards.
    assert!(
        pair.dapp
            .has_event(|e| matches!(e, Event::OtpRequired { .. }))
    );
    pair.scan();
    // Two wallets answered: the handshake ends before any code is compared with either.
    assert!(contested(&pair), "{:?}", pair.dapp.events);
    let otp = pair.wallet_otp();
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp(&otp, now),
        Err(Error::HandshakeContested)
    );
    assert!(pair.dapp.conn.session().is_none(), "nobody connected");
    // Pairing again with a fresh request works.
    let mut again = Pair::with_seed(Mode::Untrusted, 2);
    again.scan();
    let otp = again.wallet_otp();
    let now = again.now;
    again.dapp.conn.submit_otp(&otp, now).unwrap();
    again.drive();
    assert!(again.wallet().has_event(is_connected));
}

#[test]
fn attack_fake_offer_copying_the_displayed_code_contests_and_never_wins() {
    // The attacker learns the code the user will type (here: forced by reusing it) and
    // publishes it after the real wallet: the second offer ends the handshake.
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    pair.scan();
    let otp = pair.wallet_otp();
    pair.relay
        .publish(&request.channel, fake_offer(&request, &otp, pair.now));
    pair.drive();
    assert!(contested(&pair));
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp(&otp, now),
        Err(Error::HandshakeContested)
    );
    assert!(pair.dapp.conn.session().is_none());
}

#[test]
fn an_expired_offer_is_pruned_and_the_next_one_is_checked() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    // An offer whose code window closes in one second, fed without running timers.
    let mut early = fake_offer_with_deadline(&request, "000000", pair.now + 1_000);
    let verdict = pair
        .dapp
        .conn
        .handle_publication(&request.channel, None, &early, pair.now);
    assert_eq!(verdict, Ok(()));
    // Its replay is dropped as such.
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&request.channel, None, &early, pair.now),
        Err(walletwire::protocol::Discard::Replay)
    );
    // After its deadline a second wallet's offer replaces it instead of contesting.
    let later = pair.now + 2_000;
    early = fake_offer_from(&request, "123456", later + 60_000, 0x77);
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&request.channel, None, &early, later),
        Ok(())
    );
    assert!(!contested(&pair));
    assert_eq!(
        pair.dapp.conn.submit_otp("123456", later),
        Ok(()),
        "the live offer's code is accepted"
    );
}

#[test]
fn offer_under_a_wrong_key_is_dropped() {
    let mut pair = Pair::new(Mode::Untrusted);
    let mut request = pair.request();
    // Sealed for a different dApp key: cannot be opened by this dApp.
    request.public_key = base64url::encode(&KeyPair::from_secret([0x11; 32]).public().0);
    let data = fake_offer(&request, "123456", pair.now);
    let verdict = pair
        .dapp
        .conn
        .handle_publication(&request.channel, None, &data, pair.now);
    assert_eq!(verdict, Err(walletwire::protocol::Discard::Decrypt));
    // A low-order wallet key is refused too.
    let junk = serde_json::to_string(&OfferMessage {
        t: "offer".into(),
        pk: base64url::encode(&[0; 32]),
        sealed: base64url::encode(&[0; 64]),
    })
    .unwrap();
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&request.channel, None, &junk, pair.now),
        Err(walletwire::protocol::Discard::Decrypt)
    );
    for garbage in [
        "",
        "null",
        "{}",
        "[1,2]",
        "{\"t\":\"offer\",\"pk\":\"!\",\"box\":\"\"}",
        "\u{0}",
    ] {
        assert!(
            pair.dapp
                .conn
                .handle_publication(&request.channel, None, garbage, pair.now)
                .is_err()
        );
    }
    pair.drive();
    assert!(
        !pair
            .dapp
            .has_event(|e| matches!(e, Event::OtpRequired { .. }))
    );
}

#[test]
fn attack_offer_flood_buys_no_extra_code_checks() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    for i in 0..20u8 {
        let msg = fake_offer_from(&request, "111111", pair.now + 60_000, i + 1);
        let verdict = pair
            .dapp
            .conn
            .handle_publication(&request.channel, None, &msg, pair.now);
        match i {
            // The first offer is kept, the second ends the handshake...
            0 | 1 => assert_eq!(verdict, Ok(())),
            // ...and the channel is no longer read.
            _ => assert!(verdict.is_err(), "offer {i}: {verdict:?}"),
        }
    }
    pair.drive();
    assert!(contested(&pair));
    // No code is compared with any of them: not even the flooders' own.
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp("111111", now),
        Err(Error::HandshakeContested)
    );
    assert!(pair.dapp.conn.session().is_none());
    let prompts = pair
        .dapp
        .events
        .iter()
        .filter(|e| matches!(e, Event::OtpRequired { .. }))
        .count();
    assert_eq!(prompts, 1);
}
