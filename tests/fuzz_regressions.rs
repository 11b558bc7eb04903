//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found failing, replayed through the
//! public API. Each test names its target and what the minimised input did; the same input
//! is also a seed of that target (`fuzz/corpus/<target>/seed-regression-*`).
mod common;

use common::*;
use walletwire::protocol::{DappConnection, Error, Invitation, Metadata, Mode};
use walletwire::relay::client::{RelayClient, RelayClientOptions, RelayEvent, Transmit};

/// Target `session_request`: a dApp whose URL holds control characters (each escaped to six
/// bytes in JSON) made a request of more than 1500 bytes of JSON, so its QR code was refused
/// by every wallet (`RequestTooLarge`) while the dApp waited for an answer. Control characters
/// in a URL are now refused outright (metadata rules); since protocol v3 metadata no longer
/// rides in the QR code at all.
#[test]
fn a_dapp_refuses_metadata_that_makes_an_unscannable_request() {
    let mut options = dapp_options(Mode::Untrusted);
    options.dapp = Metadata {
        name: "Ex ".into(),
        url: Some(format!("ht\u{1}{}", "\0".repeat(216))),
        icon: None,
    };
    let made = DappConnection::new(options.clone(), T0, SeededRandom::boxed(1));
    assert!(
        matches!(made.err(), Some(Error::InvalidRequest(_))),
        "control characters in a URL"
    );
    // Since protocol v3 the metadata travels sealed, not in the QR code: the longest
    // metadata allowed makes the same small QR code, and the sealed body stays in its limit.
    options.dapp.url = Some(format!("https://x.example/{}", "\"".repeat(230)));
    options.dapp.icon = Some(format!("https://x.example/{}", "\"".repeat(490)));
    let conn = DappConnection::new(options, T0, SeededRandom::boxed(1)).expect("fits");
    let request = conn.session_request().expect("connecting");
    assert!(request.to_uri().len() <= 200);
    assert_eq!(
        Invitation::from_uri(&request.to_uri()),
        Ok(request.invitation())
    );
}

/// Target `relay_replies`: a publish refused for now (111, rate limit) is retried after a
/// pause; when the retry's reply never came, the link dropped, and from then on until the
/// reconnect `poll_timeout` returned the pause's end, already past: every driver called
/// `handle_timeout` in a loop (a busy tab, a spinning wallet process).
#[test]
fn a_paused_publication_does_not_spin_the_driver_while_the_link_is_down() {
    let mut client = RelayClient::new(RelayClientOptions::default(), SeededRandom::boxed(1));
    let mut now = T0;
    let next_command = |client: &mut RelayClient| loop {
        match client.poll_transmit() {
            Some(Transmit::Send(text)) => {
                let command: serde_json::Value = serde_json::from_str(&text).unwrap();
                return command["id"].as_u64().unwrap();
            }
            Some(_) => {}
            None => panic!("the client sent nothing"),
        }
    };
    client.handle_timeout(now);
    client.handle_open(now);
    let id = next_command(&mut client);
    client.handle_text(
        &format!(r#"{{"id":{id},"connect":{{"client":"c","ping":25,"pong":true}}}}"#),
        now,
    );
    client
        .publish(
            "handshake:22222222-2222-4222-8222-222222222222",
            r#"{"t":"offer"}"#.into(),
            now,
        )
        .unwrap();
    let id = next_command(&mut client);
    client.handle_text(
        &format!(
            r#"{{"id":{id},"error":{{"code":111,"message":"too many requests","temporary":true}}}}"#
        ),
        now,
    );
    // 254 s pass with the relay silent: the retry goes out, gets no reply, the link drops
    // and the client reconnects with backoff. Every deadline lies ahead of its firing.
    let end = now + 254_490;
    let mut fired = 0;
    while let Some(next) = client.poll_timeout().filter(|t| *t <= end) {
        now = now.max(next);
        client.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        let after = client.poll_timeout();
        assert!(
            after.is_none_or(|t| t > now),
            "handle_timeout({now}) left poll_timeout at {after:?}"
        );
        fired += 1;
        assert!(fired < 1000, "timers keep firing");
    }
}

/// Target `relay_replies`: a push read from a socket the client had already dropped (a frame
/// the driver read before it saw the close) was delivered while nothing was subscribed. It
/// moved the subscription's position, so an offset-0 publication came twice in one epoch, and
/// a stale push ahead of the stream made the reconnect recover from past it: the history in
/// between was skipped. Text while the link is down is now ignored.
#[test]
fn a_push_read_after_the_link_dropped_does_not_skip_the_recovered_history() {
    let channel = "session:11111111-1111-4111-8111-111111111111";
    let mut client = RelayClient::new(RelayClientOptions::default(), SeededRandom::boxed(1));
    let now = T0;
    let next_command = |client: &mut RelayClient| loop {
        match client.poll_transmit() {
            Some(Transmit::Send(text)) => {
                let command: serde_json::Value = serde_json::from_str(&text).unwrap();
                return (command["id"].as_u64().unwrap(), text);
            }
            Some(_) => {}
            None => panic!("the client sent nothing"),
        }
    };
    let connect = |client: &mut RelayClient, now: u64| {
        client.handle_timeout(now);
        client.handle_open(now);
        let (id, _) = next_command(client);
        client.handle_text(
            &format!(r#"{{"id":{id},"connect":{{"client":"c","ping":25,"pong":true}}}}"#),
            now,
        );
    };
    connect(&mut client, now);
    client.subscribe(channel, None, now);
    let (id, _) = next_command(&mut client);
    client.handle_text(
        &format!(
            r#"{{"id":{id},"subscribe":{{"recoverable":true,"positioned":true,"epoch":"e","offset":3}}}}"#
        ),
        now,
    );
    // The relay speaks nonsense: the client drops the link. Then a stale push at offset 9.
    client.handle_text("not json", now);
    client.handle_text(
        &format!(r#"{{"push":{{"channel":"{channel}","pub":{{"data":{{"n":9}},"offset":9}}}}}}"#),
        now,
    );
    let mut delivered = Vec::new();
    while let Some(event) = client.poll_event() {
        if let RelayEvent::Publication { position, .. } = event {
            delivered.push(position.offset);
        }
    }
    assert_eq!(delivered, [] as [u64; 0], "nothing is delivered while down");
    // The reconnect recovers from offset 3, and the relay answers with 4 and 5.
    let later = now + 60_000;
    connect(&mut client, later);
    let (id, resubscribe) = next_command(&mut client);
    assert!(resubscribe.contains(r#""offset":3"#), "{resubscribe}");
    client.handle_text(
        &format!(
            r#"{{"id":{id},"subscribe":{{"recoverable":true,"positioned":true,"epoch":"e","offset":5,"was_recovering":true,"recovered":true,"publications":[{{"data":{{"n":4}},"offset":4}},{{"data":{{"n":5}},"offset":5}}]}}}}"#
        ),
        later,
    );
    while let Some(event) = client.poll_event() {
        if let RelayEvent::Publication { position, .. } = event {
            delivered.push(position.offset);
        }
    }
    assert_eq!(delivered, [4, 5]);
}
