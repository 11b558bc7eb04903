//! Stored records (`walletwire:v1:*` values) as the SDK loads them: `Record::decode`, then a
//! connection resumed from the record inside a relay-flow `Hub`, driven through its first
//! subscription and a few timers. A record that decodes must re-encode to a record that
//! decodes to it; a resumed connection must never panic or spin on its timers.
use crate::{SplitMix, T0, check};
use walletwire::protocol::{Limits, Record};
use walletwire::relay::client::RelayClientOptions;
use walletwire::relay::client::Transmit;
use walletwire::relay::hub::{Hub, HubOutput};

pub fn run(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let (clock, rest) = data.split_at(4);
    // The load time: anywhere in the ±2^31 ms (about 25 days) around T0.
    let offset = i64::from(i32::from_le_bytes(clock.try_into().expect("4 bytes")));
    let now = T0.saturating_add_signed(offset);
    let text = String::from_utf8_lossy(rest);
    let Ok(record) = Record::decode(&text, now) else {
        return;
    };
    let encoded = record.encode();
    assert_eq!(
        Record::decode(&encoded, now).as_ref(),
        Ok(&record),
        "a decoded record re-encodes to itself"
    );
    assert!(record.key().starts_with(walletwire::protocol::STORE_PREFIX));

    let mut hub = Hub::new(
        RelayClientOptions::default(),
        Limits::default(),
        SplitMix::boxed(3),
    );
    let id = hub.resume(&record, now, SplitMix::boxed(4));
    // Bring the relay link up and confirm every subscription the connection asks for, as a
    // relay would: connect reply, then each subscribe reply at offset 0 of one epoch.
    let mut now = now;
    let mut sent = Vec::new();
    hub.handle_timeout(now);
    hub.handle_open(now);
    for round in 0..6 {
        while let Some(output) = hub.poll_output() {
            match output {
                HubOutput::Socket(Transmit::Send(text)) => sent.push(text),
                HubOutput::Store { key, record } => check::stored_record(&key, &record, now),
                _ => {}
            }
        }
        for text in std::mem::take(&mut sent) {
            let command: serde_json::Value =
                serde_json::from_str(&text).expect("the client sends JSON");
            let cid = command["id"].as_u64().unwrap_or(0);
            let reply = if command.get("connect").is_some() {
                format!(r#"{{"id":{cid},"connect":{{"client":"c","ping":25,"pong":true}}}}"#)
            } else if command.get("subscribe").is_some() {
                format!(
                    r#"{{"id":{cid},"subscribe":{{"epoch":"e","recoverable":true,"positioned":true}}}}"#
                )
            } else {
                format!(r#"{{"id":{cid}}}"#)
            };
            hub.handle_text(&reply, now);
        }
        // Fire the next timer (bounded jumps), checking the one after lies ahead.
        if let Some(next) = hub.poll_timeout() {
            now = now.max(next).min(now + 3_600_000 * (round + 1));
            hub.handle_timeout(now);
            check::timer_progress("hub", now, hub.poll_timeout());
        }
    }
    if let Some(conn) = hub.connection(id) {
        conn.close("fuzz", now);
    }
    hub.pump(now);
    while hub.poll_output().is_some() {}
}
