//! The direct flow's data-channel messages in both directions (`ChannelRequest` read by the
//! daemon, `ChannelResponse` read by the dApp), the HS256 JWTs of the signaling server and
//! the daemon, permission lists and `tari://` links. What parses must re-encode to itself;
//! a token verifies only under its own secret and before its expiry.
use walletwire::direct::channel::{ChannelRequest, ChannelResponse, MAX_MESSAGE_LEN};
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::link::Link;
use walletwire::direct::{Error, Permissions};

use crate::check::has_float;

const NOW_SECS: u64 = 1_700_000_000;

/// The audience the token checks expect (the daemon's: data-channel tokens).
const AUD: &str = jwt::AUD_DAEMON;

fn secret(byte: u8) -> Secret {
    Secret::new(vec![byte; 32]).expect("32 bytes")
}

fn token_checks(token: &str) {
    match jwt::verify(token, &secret(1), NOW_SECS, AUD) {
        Ok(claims) => {
            assert!(claims.exp > NOW_SECS, "an expired token verified");
            assert_eq!(jwt::unverified_claims(token).as_ref(), Ok(&claims));
            assert!(
                jwt::verify(token, &secret(2), NOW_SECS, AUD).is_err(),
                "a token verified under two secrets"
            );
        }
        Err(Error::InvalidToken | Error::TokenExpired) => {}
        Err(other) => panic!("verify failed with {other:?}"),
    }
    let _ = jwt::unverified_claims(token);
}

pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % 6 {
        0 => {
            // dApp → daemon.
            if let Ok(request) = ChannelRequest::decode(&text)
                && let Ok(encoded) = request.encode()
                && !has_float(&request.params)
            {
                assert_eq!(ChannelRequest::decode(&encoded).as_ref(), Ok(&request));
            }
        }
        1 => {
            // daemon → dApp.
            if let Ok((id, outcome)) = ChannelResponse::decode(&text) {
                let response = match &outcome {
                    Ok(payload) => ChannelResponse::ok(id, payload.clone()),
                    Err(Error::Remote { message }) => ChannelResponse::error(id, message),
                    Err(other) => panic!("a response decoded to {other:?}"),
                };
                let encoded = response.encode();
                assert!(encoded.len() <= MAX_MESSAGE_LEN);
                let (again, outcome_again) =
                    ChannelResponse::decode(&encoded).expect("an encoded response decodes");
                assert_eq!(again, id);
                let floats = outcome.as_ref().is_ok_and(has_float);
                if encoded.len() < MAX_MESSAGE_LEN / 2 && !floats {
                    assert_eq!(outcome_again, outcome, "a response survives re-encoding");
                }
            }
        }
        2 => token_checks(&text),
        3 => {
            // Claims chosen by the input, signed: verify must return them exactly.
            if let Ok(claims) = serde_json::from_str::<Claims>(&text) {
                let token = jwt::encode(&claims, &secret(1));
                let floats = has_float(&claims.permissions.to_json());
                match jwt::verify(&token, &secret(1), NOW_SECS, &claims.aud) {
                    Ok(verified) => assert!(floats || verified == claims),
                    Err(Error::TokenExpired) => assert!(claims.exp <= NOW_SECS),
                    Err(Error::InvalidToken) => assert!(token.len() > jwt::MAX_TOKEN_LEN),
                    Err(other) => panic!("verify failed with {other:?}"),
                }
                assert!(jwt::verify(&token, &secret(2), NOW_SECS, &claims.aud).is_err());
                // Any tampering with a signed token must be refused.
                let mut bytes = token.clone().into_bytes();
                let at = usize::from(selector) % bytes.len();
                bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
                if let Ok(tampered) = String::from_utf8(bytes)
                    && tampered != token
                {
                    // base64url's last character may carry unused bits; a decoder that
                    // ignored them would accept the change, this one must not.
                    assert!(
                        jwt::verify(&tampered, &secret(1), NOW_SECS, &claims.aud).is_err(),
                        "a tampered token verified: {tampered}"
                    );
                }
            }
        }
        4 => {
            if let Ok(permissions) = Permissions::parse(&text) {
                let json = permissions.to_json();
                let again = Permissions::from_json(&json).expect("permissions re-read");
                assert_eq!(again, permissions);
                for p in permissions.as_slice() {
                    let _ = permissions.allows(p.name(), Some("x"));
                }
                let _ = permissions.granted_by(&permissions);
            }
        }
        _ => {
            if let Ok(link) = Link::parse(&text)
                && !has_float(&link.permissions.to_json())
                && !has_float(&link.optional_permissions.to_json())
            {
                let uri = link.to_uri();
                assert_eq!(
                    Link::parse(&uri).as_ref(),
                    Ok(&link),
                    "a link survives its URI"
                );
            }
        }
    }
}
