//! Session requests and URIs: what a wallet scanning an unknown QR code must refuse.
mod common;

use common::*;
use walletwire::base64url;
use walletwire::protocol::{Error, Invitation, Mode, SessionRequest, WalletConnection};

fn valid() -> SessionRequest {
    Pair::new(Mode::Untrusted).request()
}

fn uri_of(json: &str) -> String {
    format!(
        "walletwire:connect?r={}",
        base64url::encode(json.as_bytes())
    )
}

/// The sealed request the dApp published on its handshake channel.
fn sealed(pair: &Pair) -> String {
    pair.dapp
        .published
        .iter()
        .find(|(c, d)| c.starts_with("handshake:") && d.contains("\"t\":\"request\""))
        .map(|(_, d)| d.clone())
        .expect("the dApp published its sealed request")
}

#[test]
fn the_qr_code_carries_only_the_invitation_and_the_sealed_request_the_rest() {
    let pair = Pair::new(Mode::Untrusted);
    let request = pair.request();
    let uri = request.to_uri();
    assert!(uri.starts_with("walletwire:connect?v=3&m=u&k="), "{uri}");
    assert!(
        uri.len() <= 200,
        "a small QR code: {} characters",
        uri.len()
    );
    assert!(
        !uri.contains("Test"),
        "metadata stays out of the QR code: {uri}"
    );
    // The demo's relay: 136 characters, a version-8 QR code (PROTOCOL.md §2.1); version 2's
    // request was 465 characters, version 19.
    let demo = Invitation {
        relay: "ws://127.0.0.1:8080/connection/websocket".into(),
        ..request.invitation()
    };
    assert_eq!(demo.to_uri().len(), 136);
    let (width, _) = walletwire::qr::modules(&demo.to_uri()).unwrap();
    assert_eq!((width - 17) / 4, 8, "QR version");
    let invitation = Invitation::from_uri(&uri).unwrap();
    assert_eq!(invitation, request.invitation());
    assert_eq!(invitation.to_uri(), uri);
    let data = sealed(&pair);
    assert!(!data.contains("Test dApp"), "the relay sees no metadata");
    assert_eq!(invitation.open(&data).unwrap(), request);
    // Another invitation's key does not open it.
    let forged = Invitation {
        public_key: base64url::encode(&[7u8; 32]),
        ..invitation.clone()
    };
    assert!(forged.open(&data).is_err());
    // Trusted mode and a relay URL that needs escaping round-trip too.
    let mut trusted = Invitation {
        mode: Mode::Trusted,
        relay: "wss://relay.example/connection/websocket?token=a&b=%20".into(),
        ..invitation
    };
    assert_eq!(Invitation::from_uri(&trusted.to_uri()).unwrap(), trusted);
    trusted.relay = "http://nope".into();
    assert!(Invitation::from_uri(&trusted.to_uri()).is_err());
}

#[test]
fn refuses_what_is_not_ours_or_malformed() {
    let cases: &[(&str, &str)] = &[
        ("https://example.com", "invalid_request"),
        ("wc:abc@2?relay-protocol=irn", "invalid_request"),
        ("walletwire:connect?r=", "invalid_request"),
        ("walletwire:connect?r=***", "invalid_request"),
        ("walletwire:connect?v=3&k=AAAA&r=ws://x", "invalid_request"),
        ("walletwire:connect?v=x", "invalid_request"),
        ("walletwire:connect?v=3&v=3", "invalid_request"),
        ("", "invalid_request"),
    ];
    for (uri, code) in cases {
        assert_eq!(
            Invitation::from_uri(uri).unwrap_err().code(),
            *code,
            "{uri}"
        );
    }
    let uri = valid().to_uri();
    for broken in [
        uri.replace("m=u", "m=x"),
        uri.replace("ws://", "http://"),
        uri.replace("&k=", "&k=AA"),
        uri.replace("&r=", "&r=%ZZ"),
    ] {
        let err = Invitation::from_uri(&broken).unwrap_err();
        assert_eq!(err.code(), "invalid_request", "{broken}: {err}");
    }
}

#[test]
fn refuses_unknown_versions_oversize_and_expired() {
    let request = valid();
    // Version 1 and 2 links (JSON in `r`, or bare JSON) and a link from the future: all
    // refused with the version named, never half understood.
    for v in [1, 2] {
        let json = format!("{{\"v\":{v},\"id\":\"x\"}}");
        assert_eq!(
            Invitation::from_uri(&uri_of(&json)),
            Err(Error::UnsupportedVersion(v))
        );
        assert_eq!(
            Invitation::from_uri(&json),
            Err(Error::UnsupportedVersion(v))
        );
    }
    let future = request.to_uri().replace("v=3", "v=4");
    assert_eq!(
        Invitation::from_uri(&future),
        Err(Error::UnsupportedVersion(4))
    );
    assert_eq!(
        Invitation::from_uri(&"x".repeat(5000)),
        Err(Error::RequestTooLarge)
    );
    let padded = request.to_json().replace(
        "\"name\":\"Test dApp\"",
        &format!("\"name\":\"Test dApp\",\"pad\":\"{}\"", "x".repeat(40_000)),
    );
    assert_eq!(
        SessionRequest::from_json(&padded),
        Err(Error::RequestTooLarge)
    );
    let late = request.expires_at + 31_000;
    assert_eq!(
        WalletConnection::accept(&request, wallet_options(), late, SeededRandom::boxed(1))
            .unwrap_err(),
        Error::RequestExpired
    );
    // Within the clock-skew allowance it is still accepted.
    assert!(
        WalletConnection::accept(
            &request,
            wallet_options(),
            request.expires_at + 29_000,
            SeededRandom::boxed(1)
        )
        .is_ok()
    );
}

#[test]
fn refuses_a_low_order_dapp_key() {
    let mut request = valid();
    request.public_key = base64url::encode(&[0u8; 32]);
    let err = WalletConnection::accept(&request, wallet_options(), T0, SeededRandom::boxed(1))
        .unwrap_err();
    assert_eq!(err.code(), "weak_key");
}

#[test]
fn attack_a_request_forged_with_the_qr_code_after_the_real_one_is_never_read() {
    // Someone who saw the QR code can seal a request of their own (SECURITY.md): published
    // after the dApp's (which is on the relay before the code is shown), it is never read,
    // nor is a box under another key.
    let mut pair = Pair::new(Mode::Untrusted);
    let real = pair.request();
    let mut forged = real.clone();
    forged.dapp.name = "Uniswap".into();
    let mut rng = SeededRandom::boxed(99);
    let forged_box = forged.sealed_message(rng.as_mut()).unwrap();
    let mut other_key = real.clone();
    other_key.public_key = base64url::encode(&[9u8; 32]);
    let foreign_box = other_key.sealed_message(rng.as_mut()).unwrap();
    pair.relay.publish(&real.channel, forged_box);
    pair.relay.publish(&real.channel, foreign_box);
    pair.scan();
    let read: Vec<_> = pair
        .wallet()
        .events
        .iter()
        .filter_map(|e| match e {
            walletwire::protocol::Event::SessionProposal(r) => Some(r.dapp.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        read,
        ["Test dApp"],
        "the first box that opens is the dApp's own"
    );
}
