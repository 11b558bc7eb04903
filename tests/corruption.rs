//! Property: no corruption of a genuine frame ever decrypts, and no input panics.
#![cfg(not(target_arch = "wasm32"))] // proptest runs natively only
mod common;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use walletwire::protocol::{Discard, Mode, Record};

fn genuine() -> (Pair, String, String) {
    let mut pair = Pair::connected(Mode::Trusted);
    let channel = pair.dapp.conn.session().unwrap().channel.clone();
    pair.dapp.frozen = true;
    let now = pair.now;
    pair.wallet()
        .conn
        .notify("n", json!({"k": "v"}), now)
        .unwrap();
    pair.drive();
    let frame = pair.wallet().published.last().unwrap().1.clone();
    (pair, channel, frame)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn corrupted_frames_never_decrypt(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let (mut pair, channel, frame) = genuine();
        let mut bytes = frame.clone().into_bytes();
        for (at, x) in flips {
            let i = at % bytes.len();
            bytes[i] ^= x | 1;
        }
        let corrupted = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(corrupted != frame);
        let verdict = pair.dapp.conn.handle_publication(&channel, None, &corrupted, pair.now);
        // A flip may land in JSON whitespace-free syntax or in the box; either way the frame
        // is not accepted, unless the change is a JSON-equivalent rewrite of the same frame.
        if verdict.is_ok() {
            let a: serde_json::Value = serde_json::from_str(&corrupted).unwrap();
            let b: serde_json::Value = serde_json::from_str(&frame).unwrap();
            prop_assert_eq!(a, b);
        } else {
            prop_assert!(matches!(verdict, Err(Discard::Decrypt | Discard::Malformed | Discard::Own | Discard::TooLarge)));
        }
    }

    #[test]
    fn arbitrary_input_never_panics(data in ".{0,300}", channel in prop::sample::select(vec![0usize, 1, 2])) {
        let (mut pair, session_channel, _) = genuine();
        let name = [session_channel.as_str(), "handshake:x", ""][channel].to_owned();
        let _ = pair.dapp.conn.handle_publication(&name, None, &data, pair.now);
        let _ = walletwire::protocol::Invitation::from_uri(&data);
        let _ = Record::decode(&data, pair.now);
    }
}
