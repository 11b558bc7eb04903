//! Session frames under attack: tampered, truncated, replayed, reordered, cross-channel and
//! reflected frames are dropped; gaps are reported; junk never disturbs the session.
mod common;

use common::*;
use serde_json::json;
use walletwire::protocol::{Discard, Event, Frame, Mode};

/// A connected pair plus the wallet's published frames on the session channel.
fn pair_with_frames(n: usize, seed: u64) -> (Pair, String, Vec<String>) {
    let mut pair = Pair::connected_with_seed(Mode::Trusted, seed);
    let channel = pair.dapp.conn.session().unwrap().channel.clone();
    let now = pair.now;
    // Freeze the dApp so it sees nothing by itself; we hand frames in by hand.
    pair.dapp.frozen = true;
    for i in 0..n {
        pair.wallet().conn.notify("n", json!(i), now).unwrap();
    }
    pair.drive();
    let frames = pair
        .wallet()
        .published
        .iter()
        .filter(|(c, _)| *c == channel)
        .map(|(_, d)| d.clone())
        .collect();
    (pair, channel, frames)
}

fn notifications(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notification { params, .. } => params.as_str().parse().ok(),
            _ => None,
        })
        .collect()
}

fn feed(pair: &mut Pair, channel: &str, data: &str) -> Result<(), Discard> {
    let now = pair.now;
    pair.dapp.conn.handle_publication(channel, None, data, now)
}

fn drain(pair: &mut Pair) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(o) = pair.dapp.conn.poll_output() {
        if let walletwire::protocol::Output::Event(e) = o {
            events.push(e);
        }
    }
    events
}

#[test]
fn replayed_frames_are_dropped() {
    let (mut pair, channel, frames) = pair_with_frames(2, 1);
    assert_eq!(feed(&mut pair, &channel, &frames[0]), Ok(()));
    assert_eq!(feed(&mut pair, &channel, &frames[0]), Err(Discard::Replay));
    assert_eq!(feed(&mut pair, &channel, &frames[1]), Ok(()));
    assert_eq!(feed(&mut pair, &channel, &frames[0]), Err(Discard::Replay));
    assert_eq!(notifications(&drain(&mut pair)), vec![0, 1]);
}

#[test]
fn reordered_frames_report_a_gap_and_never_deliver_twice() {
    let (mut pair, channel, frames) = pair_with_frames(3, 1);
    assert_eq!(feed(&mut pair, &channel, &frames[0]), Ok(()));
    assert_eq!(feed(&mut pair, &channel, &frames[2]), Ok(()));
    assert_eq!(feed(&mut pair, &channel, &frames[1]), Err(Discard::Replay));
    let events = drain(&mut pair);
    assert!(events.contains(&Event::MessagesLost { count: Some(1) }));
    assert_eq!(notifications(&events), vec![0, 2]);
    // The gap is reported before the frame after it.
    let lost = events
        .iter()
        .position(|e| matches!(e, Event::MessagesLost { .. }))
        .unwrap();
    let two = events
        .iter()
        .position(|e| matches!(e, Event::Notification { params, .. } if params == &json!(2)))
        .unwrap();
    assert!(lost < two);
}

#[test]
fn tampered_truncated_and_forged_frames_are_dropped() {
    let (mut pair, channel, frames) = pair_with_frames(1, 1);
    let frame: Frame = serde_json::from_str(&frames[0]).unwrap();
    // Flip one character of the box.
    let mut sealed = frame.sealed.clone().into_bytes();
    sealed[40] = if sealed[40] == b'A' { b'B' } else { b'A' };
    let tampered = Frame {
        sealed: String::from_utf8(sealed).unwrap(),
        ..frame.clone()
    };
    assert_eq!(
        feed(
            &mut pair,
            &channel,
            &serde_json::to_string(&tampered).unwrap()
        ),
        Err(Discard::Decrypt)
    );
    // Truncated box.
    let bytes = walletwire::base64url::decode(&frame.sealed).unwrap();
    let truncated = Frame {
        sealed: walletwire::base64url::encode(&bytes[..bytes.len() - 1]),
        ..frame.clone()
    };
    assert_eq!(
        feed(
            &mut pair,
            &channel,
            &serde_json::to_string(&truncated).unwrap()
        ),
        Err(Discard::Decrypt)
    );
    let truncated = Frame {
        sealed: walletwire::base64url::encode(&bytes[..30]),
        ..frame.clone()
    };
    assert_eq!(
        feed(
            &mut pair,
            &channel,
            &serde_json::to_string(&truncated).unwrap()
        ),
        Err(Discard::Decrypt)
    );
    // Sequence number rewritten by the relay (it is in the associated data).
    let reseq = Frame {
        seq: 7,
        ..frame.clone()
    };
    assert_eq!(
        feed(&mut pair, &channel, &serde_json::to_string(&reseq).unwrap()),
        Err(Discard::Decrypt)
    );
    // Direction rewritten: a wallet frame claiming to come from the dApp is our "own" and
    // never processed; under the wrong key it would not decrypt either.
    let reflected = Frame {
        from: walletwire::protocol::Role::Dapp,
        ..frame.clone()
    };
    assert_eq!(
        feed(
            &mut pair,
            &channel,
            &serde_json::to_string(&reflected).unwrap()
        ),
        Err(Discard::Own)
    );
    // Junk of every shape.
    for junk in [
        "",
        "{",
        "null",
        "42",
        "{\"from\":\"wallet\",\"seq\":-1,\"box\":\"\"}",
        "{\"from\":\"wallet\",\"seq\":0,\"box\":\"***\"}",
    ] {
        assert!(feed(&mut pair, &channel, junk).is_err(), "{junk}");
    }
    let huge = format!(
        "{{\"from\":\"wallet\",\"seq\":0,\"box\":\"{}\"}}",
        "A".repeat(70_000)
    );
    assert_eq!(feed(&mut pair, &channel, &huge), Err(Discard::TooLarge));
    // The genuine frame still goes through after all that.
    assert_eq!(feed(&mut pair, &channel, &frames[0]), Ok(()));
    assert_eq!(notifications(&drain(&mut pair)), vec![0]);
}

#[test]
fn frames_from_another_session_channel_are_dropped() {
    // Two independent sessions: a frame of one replayed into the other does not open.
    let (mut a, a_channel, a_frames) = pair_with_frames(1, 10);
    let (_b, _b_channel, b_frames) = pair_with_frames(1, 20);
    assert_eq!(
        feed(&mut a, &a_channel, &b_frames[0]),
        Err(Discard::Decrypt)
    );
    // The same frame delivered on a channel this connection does not own is refused too.
    assert_eq!(
        feed(
            &mut a,
            "session:00000000-0000-4000-8000-000000000000",
            &a_frames[0]
        ),
        Err(Discard::UnknownChannel)
    );
}

#[test]
fn own_frames_echoed_by_the_relay_are_ignored() {
    let mut pair = Pair::connected(Mode::Trusted);
    let now = pair.now;
    pair.dapp.conn.notify("echo", json!(1), now).unwrap();
    pair.drive();
    assert!(
        !pair
            .dapp
            .has_event(|e| matches!(e, Event::Notification { .. }))
    );
    assert!(
        pair.wallet()
            .has_event(|e| matches!(e, Event::Notification { .. }))
    );
}

#[test]
fn messages_lost_when_relay_cannot_recover() {
    let mut pair = Pair::connected(Mode::Trusted);
    let record = pair.dapp.records(pair.now).pop().unwrap();
    let walletwire::protocol::Record::Session(record) = record else {
        panic!("session record")
    };
    pair.relay.restart(); // memory broker restarted: every epoch changes
    let conn = walletwire::protocol::DappConnection::resume_session(
        &record,
        SeededRandom::boxed(9),
        Default::default(),
    );
    pair.dapp = Peer::new(conn);
    pair.drive();
    assert!(
        pair.dapp
            .has_event(|e| *e == Event::MessagesLost { count: None })
    );
    assert!(pair.dapp.has_event(is_connected));
}

#[test]
fn a_peer_reading_back_its_own_frame_writes_no_record_and_a_later_record_carries_the_position() {
    use walletwire::protocol::{Output, StreamPosition};
    let (mut pair, channel, frames) = pair_with_frames(1, 3);
    let now = pair.now;
    let wallet = &mut pair.wallet().conn;
    while wallet.poll_output().is_some() {}
    let at = |offset| StreamPosition {
        offset,
        epoch: "e".into(),
    };
    // The relay delivers the wallet's own frame back to it: dropped, and nothing is stored
    // (a store per frame sent was the one write a round trip did not need).
    assert_eq!(
        wallet.handle_publication(&channel, Some(at(41)), &frames[0], now),
        Err(Discard::Own)
    );
    let mut stored = 0;
    while let Some(o) = wallet.poll_output() {
        stored += usize::from(matches!(o, Output::Store { .. }));
    }
    assert_eq!(stored, 0, "no record write for an own frame");
    // The next write (here the wallet's next frame) holds the position past the own frame.
    wallet.notify("n", json!(1), now).unwrap();
    let record = std::iter::from_fn(|| wallet.poll_output())
        .find_map(|o| match o {
            Output::Store { record, .. } => Some(record),
            _ => None,
        })
        .expect("the next frame stores its counter");
    assert!(record.contains("\"offset\":41"), "{record}");
}
