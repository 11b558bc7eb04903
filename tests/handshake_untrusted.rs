//! Untrusted mode: the six-digit code, its deadline, three attempts, and racing fake offers.
mod common;

use common::*;
use serde_json::json;
use walletwire::base64url;
use walletwire::crypto::{KeyPair, KeySchedule};
use walletwire::protocol::{
    DappConnection, Disconnect, Error, Event, Mode, OfferMessage, Role, SessionRequest, State,
    frame_aad, offer_aad, sas,
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
        .respond(wid, Ok(json!("sig").into()), now)
        .unwrap();
    pair.drive();
    assert!(pair.dapp.has_event(|e| *e
        == Event::Response {
            id,
            result: Ok(json!("sig").into())
        }));

    let wid = pair
        .wallet()
        .conn
        .request("dapp.info", json!(null), None, now)
        .unwrap();
    pair.drive();
    let did = first_request_id(&pair.dapp.events);
    pair.dapp
        .conn
        .respond(did, Ok(json!("ok").into()), now)
        .unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(|e| *e
        == Event::Response {
            id: wid,
            result: Ok(json!("ok").into())
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

/// A hand-made offer of the wallet key `[key; 32]`, committed to the nonce `[key; 32]`, with
/// the given code deadline; `otp` set makes it an offer of the old, uncommitted kind.
fn crafted_offer(request: &SessionRequest, key: u8, deadline: u64, otp: Option<&str>) -> String {
    let attacker = KeyPair::from_secret([key; 32]);
    let dapp_pk = request.dapp_public_key().unwrap();
    let shared = attacker.agree(&dapp_pk).unwrap();
    let keys = KeySchedule::derive(&shared, &request.id, &dapp_pk, &attacker.public());
    let transcript = sas::transcript(&request.id, &dapp_pk, &attacker.public());
    let mut body = json!({
        "channel": format!("session:00000000-0000-4000-8000-0000000006{key:02x}"),
        "wallet": {"name": "Reference Wallet"},
        "otpDeadline": deadline,
    });
    match otp {
        Some(otp) => body["otp"] = json!(otp),
        None => {
            body["commit"] = json!(base64url::encode(&sas::commit(&transcript, &[key; 32])));
        }
    }
    let sealed = keys.handshake.seal_with_nonce(
        [9; 24],
        &offer_aad(&request.id),
        body.to_string().as_bytes(),
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

fn prompts(pair: &Pair) -> usize {
    pair.dapp
        .events
        .iter()
        .filter(|e| matches!(e, Event::OtpRequired { .. }))
        .count()
}

#[test]
fn the_code_is_shown_only_after_the_dapp_answered_the_commitment() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    // The wallet publishes its offer but holds the code back while the dApp is away.
    pair.dapp.frozen = true;
    pair.scan();
    let offer = pair.relay.channels[&request.channel].publications[0].clone();
    assert!(
        !offer.contains("otp\""),
        "the offer carries no code: {offer}"
    );
    assert_eq!(displayed_otp(&pair.wallet().events), None);
    assert!(!pair.wallet().has_event(is_connected));
    // The dApp wakes: its nonce, the wallet's reveal, and one code on both sides.
    pair.dapp.frozen = false;
    pair.drive();
    let otp = pair.wallet_otp();
    assert_eq!(prompts(&pair), 1);
    let now = pair.now;
    pair.dapp.conn.submit_otp(&otp, now).unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(is_connected));
}

#[test]
fn attack_racing_fake_offer_contests_the_handshake_and_never_hijacks() {
    let mut pair = Pair::new(Mode::Untrusted);
    // A QR observer's wallet answers first and completes its side: the prompt is raised.
    let rogue = pair.rogue_scan(99, 60_000);
    assert_eq!(prompts(&pair), 1);
    // Then the real wallet answers: two wallets, the handshake ends before any code check.
    pair.scan();
    assert!(contested(&pair), "{:?}", pair.dapp.events);
    // The dApp left before sending the real wallet its nonce: that wallet shows no code.
    assert_eq!(displayed_otp(&pair.wallet().events), None);
    let now = pair.now;
    for code in [pair.rogue_otp(rogue), "000000".into()] {
        assert_eq!(
            pair.dapp.conn.submit_otp(&code, now),
            Err(Error::HandshakeContested)
        );
    }
    assert!(pair.dapp.conn.session().is_none(), "nobody connected");
    pair.drive();
    assert!(!pair.rogues[rogue].has_event(is_connected));
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
fn attack_a_second_offer_after_the_real_one_contests_and_never_wins() {
    let mut pair = Pair::new(Mode::Untrusted);
    pair.scan();
    let otp = pair.wallet_otp();
    let rogue = pair.rogue_scan(99, 60_000);
    assert!(contested(&pair));
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp(&otp, now),
        Err(Error::HandshakeContested)
    );
    assert_eq!(
        pair.rogues[rogue]
            .events
            .iter()
            .filter(|e| is_connected(e))
            .count(),
        0
    );
    assert!(pair.dapp.conn.session().is_none());
}

/// The attack the committed code stops: an app that intercepts the deep link runs two legs.
/// Towards the real wallet it is a dApp with its own key (so it learns the code the wallet
/// shows); towards the real dApp it is a wallet with its own key. The user types the real
/// wallet's code into the real dApp. With a code inside the offer (protocol v1) the attacker
/// put that code in its own offer and won; now each leg's code hashes that leg's keys and
/// nonces, and the attacker had to commit before seeing the dApp's nonce.
#[test]
fn attack_an_intercepting_app_in_the_middle_never_matches_the_code() {
    for seed in 0..64u64 {
        let mut pair = Pair::with_seed(Mode::Untrusted, 1000 + seed * 10);
        let intercepted = pair.request();
        // Leg 1: the attacker as a dApp, showing the real wallet the real dApp's metadata.
        let mut fake_dapp_options = dapp_options(Mode::Untrusted);
        fake_dapp_options.dapp = intercepted.dapp.clone();
        let fake_dapp = DappConnection::new(
            fake_dapp_options,
            pair.now,
            SeededRandom::boxed(7000 + seed),
        )
        .unwrap();
        let mut leg1 = Pair {
            relay: LoopbackRelay::default(),
            dapp: Peer::new(fake_dapp),
            wallet: None,
            rogues: Vec::new(),
            now: pair.now,
            seed: 5000 + seed,
            limits: pair.limits.clone(),
        };
        leg1.drive();
        leg1.scan();
        // The real wallet shows its code; the attacker's dApp side knows it too.
        let shown = leg1.wallet_otp();
        assert_eq!(prompts(&leg1), 1);
        leg1.dapp.conn.submit_otp(&shown, leg1.now).unwrap();
        leg1.drive();
        assert!(
            leg1.wallet().has_event(is_connected),
            "leg 1 is a real pairing"
        );
        // Leg 2: the attacker as a wallet towards the real dApp (its best: answer at once).
        let rogue = pair.rogue_scan(9000 + seed, 60_000);
        assert_eq!(prompts(&pair), 1);
        let expected = pair.rogue_otp(rogue);
        assert_ne!(shown, expected, "seed {seed}: the legs' codes differ");
        // The user types what the real wallet shows, three times.
        let now = pair.now;
        assert_eq!(
            pair.dapp.conn.submit_otp(&shown, now),
            Err(Error::OtpMismatch { attempts_left: 2 })
        );
        assert_eq!(
            pair.dapp.conn.submit_otp(&shown, now),
            Err(Error::OtpMismatch { attempts_left: 1 })
        );
        assert_eq!(
            pair.dapp.conn.submit_otp(&shown, now),
            Err(Error::OtpAttemptsExhausted)
        );
        pair.drive();
        assert!(pair.dapp.conn.session().is_none());
        assert!(
            !pair.rogues[rogue].has_event(is_connected),
            "no ack for the attacker"
        );
    }
}

#[test]
fn attack_an_uncommitted_offer_of_the_old_kind_is_refused_and_cannot_downgrade() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    let old = crafted_offer(&request, 0x66, pair.now + 60_000, Some("000000"));
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&request.channel, None, &old, pair.now),
        Err(walletwire::protocol::Discard::Malformed)
    );
    pair.drive();
    assert_eq!(prompts(&pair), 0);
    assert!(!contested(&pair));
    // The real wallet still pairs with one code entry.
    pair.scan();
    let otp = pair.wallet_otp();
    let now = pair.now;
    pair.dapp.conn.submit_otp(&otp, now).unwrap();
    pair.drive();
    assert!(pair.wallet().has_event(is_connected));
}

#[test]
fn a_wrong_reveal_is_dropped_and_no_code_is_asked_for() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    let key = 0x42;
    let offer = crafted_offer(&request, key, pair.now + 60_000, None);
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&request.channel, None, &offer, pair.now),
        Ok(())
    );
    pair.drive();
    // The offerer reveals a nonce other than the one it committed to.
    let attacker = KeyPair::from_secret([key; 32]);
    let dapp_pk = request.dapp_public_key().unwrap();
    let keys = KeySchedule::derive(
        &attacker.agree(&dapp_pk).unwrap(),
        &request.id,
        &dapp_pk,
        &attacker.public(),
    );
    let channel = format!("session:00000000-0000-4000-8000-0000000006{key:02x}");
    let plain = json!({"t": "reveal", "nonce": base64url::encode(&[key ^ 1; 32])}).to_string();
    let sealed = keys.wallet_to_dapp.seal_with_nonce(
        [3; 24],
        &frame_aad(&channel, Role::Wallet, 0),
        plain.as_bytes(),
    );
    let frame = json!({"from": "wallet", "seq": 0, "box": base64url::encode(&sealed)}).to_string();
    assert_eq!(
        pair.dapp
            .conn
            .handle_publication(&channel, None, &frame, pair.now),
        Err(walletwire::protocol::Discard::Unexpected)
    );
    pair.drive();
    assert_eq!(prompts(&pair), 0);
    assert_eq!(
        pair.dapp.conn.submit_otp("123456", pair.now),
        Err(Error::InvalidState("awaiting_offer"))
    );
}

#[test]
fn an_expired_offer_is_pruned_and_the_next_one_is_checked() {
    let mut pair = Pair::new(Mode::Untrusted);
    // A wallet whose code window closes in one second, then the clock jumps without timers
    // running (a frozen tab).
    let first = pair.rogue_scan(99, 1_000);
    assert_eq!(prompts(&pair), 1);
    pair.now += 2_000;
    // After its deadline a second wallet's offer replaces it instead of contesting.
    let second = pair.rogue_scan(98, 60_000);
    assert!(!contested(&pair), "{:?}", pair.dapp.events);
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp(&pair.rogue_otp(second), now),
        Ok(()),
        "the live offer's code is accepted"
    );
    pair.drive();
    assert!(pair.rogues[second].has_event(is_connected));
    assert!(!pair.rogues[first].has_event(is_connected));
}

#[test]
fn offer_under_a_wrong_key_is_dropped() {
    let mut pair = Pair::new(Mode::Untrusted);
    let mut request = pair.request();
    // Sealed for a different dApp key: cannot be opened by this dApp.
    request.public_key = base64url::encode(&KeyPair::from_secret([0x11; 32]).public().0);
    let data = crafted_offer(&request, 0x66, pair.now + 60_000, None);
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
    assert_eq!(prompts(&pair), 0);
}

#[test]
fn attack_offer_flood_buys_no_extra_code_checks() {
    let mut pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    for i in 0..20u8 {
        let msg = crafted_offer(&request, i + 1, pair.now + 60_000, None);
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
    // No code is compared with any of them.
    let now = pair.now;
    assert_eq!(
        pair.dapp.conn.submit_otp("111111", now),
        Err(Error::HandshakeContested)
    );
    assert!(pair.dapp.conn.session().is_none());
    assert_eq!(prompts(&pair), 0);
}
