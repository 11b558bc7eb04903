//! `SessionRequest` as a wallet reads it (a scanned `walletwire:connect?v=3&…` invitation, the
//! sealed request it opens from the handshake channel, request JSON) and as a dApp makes it. A request that parses must re-encode to a URI and JSON that parse
//! to the same request; a request a dApp makes must fit a URI the wallet accepts and a QR code
//! (every one is checked; see `fits_qr_code`).
use std::sync::OnceLock;

use qrcode::EcLevel;

use crate::{SplitMix, T0, dapp_options};
use walletwire::protocol::{
    DappConnection, Invitation, MAX_URI_LEN, Metadata, Mode, SessionRequest,
};

/// True if `walletwire::qr` can render `uri`. Rendering costs milliseconds (most of it
/// choosing the best of eight masks, which cannot fail), so this runs only what can fail:
/// the segment encoding and the error-correction codewords, at the level `walletwire::qr`
/// uses. That level is pinned once per process against `walletwire::qr::modules` itself.
fn fits_qr_code(uri: &str) -> bool {
    static LEVEL: OnceLock<EcLevel> = OnceLock::new();
    let level = *LEVEL.get_or_init(|| {
        // 2300 bytes fit levels L and M only, 2500 bytes L only: the answers name the level.
        let fits = |n: usize| walletwire::qr::modules(&"x".repeat(n)).is_some();
        assert!(
            fits(2300) && !fits(2500),
            "walletwire::qr no longer uses level M: update fits_qr_code"
        );
        EcLevel::M
    });
    qrcode::bits::encode_auto(uri.as_bytes(), level)
        .and_then(|bits| {
            let version = bits.version();
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, level)
        })
        .is_ok()
}

fn round_trip(request: &SessionRequest) {
    request.validate().expect("a parsed request is valid");
    let uri = request.to_uri();
    assert_eq!(
        Invitation::from_uri(&uri),
        Ok(request.invitation()),
        "the URI of a parsed request parses to its invitation"
    );
    assert_eq!(
        SessionRequest::from_json(&request.to_json()).as_ref(),
        Ok(request),
        "the JSON of a parsed request parses to it"
    );
}

pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % 4 {
        3 => open(selector, &text),
        0 => {
            if let Ok(invitation) = Invitation::from_uri(&text) {
                assert_eq!(
                    Invitation::from_uri(&invitation.to_uri()).as_ref(),
                    Ok(&invitation),
                    "a parsed invitation re-encodes to itself"
                );
            }
        }
        1 => {
            if let Ok(request) = SessionRequest::from_json(&text) {
                round_trip(&request);
            }
            let _ = Invitation::from_uri(&text);
        }
        _ => {
            // A dApp with fuzzed metadata and relay URL: name, url, icon, relay by line.
            let mut lines = text.split('\n');
            let name = lines.next().unwrap_or_default().to_owned();
            let url = lines.next().map(str::to_owned).filter(|s| !s.is_empty());
            let icon = lines.next().map(str::to_owned).filter(|s| !s.is_empty());
            let relay = lines.next().unwrap_or_default();
            let mut options = dapp_options(if selector & 4 == 0 {
                Mode::Untrusted
            } else {
                Mode::Trusted
            });
            options.dapp = Metadata { name, url, icon };
            if !relay.is_empty() {
                options.relay = relay.to_owned();
            }
            let ttl = u64::from(selector >> 3) * 1000;
            options.request_ttl_ms = (ttl > 0).then_some(ttl);
            let Ok(conn) = DappConnection::new(options, T0, SplitMix::boxed(7)) else {
                return;
            };
            let request = conn
                .session_request()
                .expect("a new dApp shows its request");
            let uri = request.to_uri();
            assert!(
                uri.len() <= MAX_URI_LEN,
                "the dApp made a request of {} bytes, over the URI limit",
                uri.len()
            );
            round_trip(request);
            assert!(fits_qr_code(&uri), "a valid request fits a QR code");
        }
    }
}

/// The fixed invitation the `open` branch reads with.
fn invitation() -> Invitation {
    let key = walletwire::crypto::KeyPair::from_secret([3u8; 32]);
    Invitation {
        id: "8b0a2b9e-3c1f-4a57-9d3e-5f6a7b8c9d0e".into(),
        mode: Mode::Untrusted,
        public_key: walletwire::base64url::encode(&key.public().0),
        relay: crate::RELAY_URL.into(),
    }
}

/// A handshake-channel publication opened as the invitation's sealed request: `text` as the
/// publication, or (`selector & 4`) as a body sealed under the invitation's real key. What
/// opens carries the invitation's fields; a valid one seals and opens back to itself.
fn open(selector: u8, text: &str) {
    let invitation = invitation();
    let data = if selector & 4 == 0 {
        text.to_owned()
    } else {
        let key = walletwire::crypto::request_key(
            &invitation.id,
            &invitation.dapp_public_key().expect("a valid key"),
        );
        let aad = walletwire::protocol::request_aad(&invitation.id);
        let sealed = key.seal_with_nonce([7u8; 24], &aad, text.as_bytes());
        format!(
            "{{\"t\":\"request\",\"box\":\"{}\"}}",
            walletwire::base64url::encode(&sealed)
        )
    };
    let Ok(request) = invitation.open(&data) else {
        return;
    };
    assert_eq!(
        request.invitation(),
        invitation,
        "an opened request is the invitation's"
    );
    if request.validate().is_ok() {
        let again = request
            .sealed_message(SplitMix::boxed(1).as_mut())
            .expect("a valid request seals");
        assert_eq!(
            invitation.open(&again).as_ref(),
            Ok(&request),
            "a valid opened request seals and opens back to itself"
        );
    }
}
