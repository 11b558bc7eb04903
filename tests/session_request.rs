//! Session requests and URIs: what a wallet scanning an unknown QR code must refuse.
mod common;

use common::*;
use walletwire::base64url;
use walletwire::protocol::{Error, Mode, SessionRequest, WalletConnection};

fn valid() -> SessionRequest {
    Pair::new(Mode::Untrusted).request()
}

fn uri_of(json: &str) -> String {
    format!(
        "walletwire:connect?r={}",
        base64url::encode(json.as_bytes())
    )
}

#[test]
fn round_trips_through_the_uri() {
    let request = valid();
    let uri = request.to_uri();
    assert!(uri.starts_with("walletwire:connect?r="));
    assert!(uri.len() < 1000, "fits a small QR code: {}", uri.len());
    assert_eq!(SessionRequest::from_uri(&uri).unwrap(), request);
    assert_eq!(
        SessionRequest::from_uri(&request.to_json()).unwrap(),
        request
    );
}

#[test]
fn refuses_what_is_not_ours_or_malformed() {
    let cases: &[(&str, &str)] = &[
        ("https://example.com", "invalid_request"),
        ("wc:abc@2?relay-protocol=irn", "invalid_request"),
        ("walletwire:connect?r=", "invalid_request"),
        ("walletwire:connect?r=***", "invalid_request"),
        ("walletwire:connect?r=AAAA", "invalid_request"),
        ("", "invalid_request"),
    ];
    for (uri, code) in cases {
        assert_eq!(
            SessionRequest::from_uri(uri).unwrap_err().code(),
            *code,
            "{uri}"
        );
    }
    let json = valid().to_json();
    let broken = [
        json.replace("\"mode\":\"untrusted\"", "\"mode\":\"sneaky\""),
        json.replace("handshake:", "session:"),
        json.replace("ws://", "http://"),
        json.replace("\"expiresAt\":", "\"expiresAt\":\"soon\",\"x\":"),
        json.replace("\"name\":\"Test dApp\"", "\"name\":\"\""),
        json.replace("\"publicKey\":\"", "\"publicKey\":\"AA"),
        "{\"v\":2}".to_owned(),
        "[]".to_owned(),
        "{}".to_owned(),
    ];
    for b in broken {
        let err = SessionRequest::from_uri(&uri_of(&b)).unwrap_err();
        assert_eq!(err.code(), "invalid_request", "{b}: {err}");
    }
}

#[test]
fn refuses_unknown_versions_oversize_and_expired() {
    let request = valid();
    // A request of protocol v1 (a code inside the offer, no commitment) and one from the
    // future: both refused with the version named, never half understood.
    for v in [1, 3] {
        let json = request.to_json().replace("\"v\":2", &format!("\"v\":{v}"));
        assert_eq!(
            SessionRequest::from_uri(&uri_of(&json)),
            Err(Error::UnsupportedVersion(v))
        );
    }
    let padded = request.to_json().replace(
        "\"name\":\"Test dApp\"",
        &format!("\"name\":\"Test dApp\",\"pad\":\"{}\"", "x".repeat(2000)),
    );
    assert_eq!(
        SessionRequest::from_uri(&uri_of(&padded)),
        Err(Error::RequestTooLarge)
    );
    assert_eq!(
        SessionRequest::from_uri(&"x".repeat(5000)),
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
