//! The test vectors of `docs/PROTOCOL.md` §11, read from the document itself so that the
//! document and the code cannot drift apart.

use std::collections::HashMap;

use walletwire::base64url;
use walletwire::crypto::{Key, KeyPair, KeySchedule, PublicKey};
use walletwire::protocol::{Frame, Payload, Role, frame_aad, offer_aad};

fn vectors() -> HashMap<String, String> {
    let doc = include_str!("../docs/PROTOCOL.md");
    let start = doc
        .find("```vectors\n")
        .expect("PROTOCOL.md has a vectors block")
        + 11;
    let end = start + doc[start..].find("```").expect("vectors block is closed");
    doc[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(" = ").expect("name = value");
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn arr<const N: usize>(text: &str) -> [u8; N] {
    hex(text).try_into().unwrap()
}

#[test]
fn key_schedule_vectors() {
    let v = vectors();
    let dapp = KeyPair::from_secret(arr(&v["dapp_secret"]));
    let wallet = KeyPair::from_secret(arr(&v["wallet_secret"]));
    assert_eq!(to_hex(&dapp.public().0), v["dapp_public"]);
    assert_eq!(to_hex(&wallet.public().0), v["wallet_public"]);
    let shared = dapp.agree(&wallet.public()).unwrap();
    assert_eq!(to_hex(shared.as_bytes()), v["shared_secret"]);
    assert_eq!(
        to_hex(wallet.agree(&dapp.public()).unwrap().as_bytes()),
        v["shared_secret"]
    );
    let keys = KeySchedule::derive(&shared, &v["request_id"], &dapp.public(), &wallet.public());
    assert_eq!(to_hex(keys.handshake.as_bytes()), v["handshake_key"]);
    assert_eq!(
        to_hex(keys.dapp_to_wallet.as_bytes()),
        v["dapp_to_wallet_key"]
    );
    assert_eq!(
        to_hex(keys.wallet_to_dapp.as_bytes()),
        v["wallet_to_dapp_key"]
    );
}

#[test]
fn offer_vector() {
    let v = vectors();
    let key = Key::from_bytes(arr(&v["handshake_key"]));
    let aad = offer_aad(&v["request_id"]);
    assert_eq!(to_hex(&aad), v["offer_aad"]);
    let sealed = key.seal_with_nonce(arr(&v["offer_nonce"]), &aad, v["offer_body"].as_bytes());
    assert_eq!(base64url::encode(&sealed), v["offer_box"]);
    assert_eq!(key.open(&aad, &sealed).unwrap(), v["offer_body"].as_bytes());
    let pk = PublicKey(arr(&v["wallet_public"]));
    let message = format!(
        "{{\"t\":\"offer\",\"pk\":\"{}\",\"box\":\"{}\"}}",
        base64url::encode(&pk.0),
        v["offer_box"]
    );
    assert_eq!(message, v["offer_message"]);
}

#[test]
fn frame_vector() {
    let v = vectors();
    let key = Key::from_bytes(arr(&v["wallet_to_dapp_key"]));
    let seq: u64 = v["frame_seq"].parse().unwrap();
    let aad = frame_aad(&v["frame_channel"], Role::Wallet, seq);
    assert_eq!(to_hex(&aad), v["frame_aad"]);
    let payload: Payload = serde_json::from_str(&v["frame_payload"]).unwrap();
    assert_eq!(serde_json::to_string(&payload).unwrap(), v["frame_payload"]);
    let sealed = key.seal_with_nonce(arr(&v["frame_nonce"]), &aad, v["frame_payload"].as_bytes());
    let frame = Frame {
        from: Role::Wallet,
        seq,
        sealed: base64url::encode(&sealed),
    };
    assert_eq!(serde_json::to_string(&frame).unwrap(), v["frame"]);
}

#[test]
fn committed_code_vectors() {
    use walletwire::protocol::sas;
    let v = vectors();
    let dapp = PublicKey(arr(&v["dapp_public"]));
    let wallet = PublicKey(arr(&v["wallet_public"]));
    let transcript = sas::transcript(&v["request_id"], &dapp, &wallet);
    assert_eq!(to_hex(&transcript), v["transcript"]);
    let wallet_nonce = arr(&v["wallet_nonce"]);
    assert_eq!(
        to_hex(&sas::commit(&transcript, &wallet_nonce)),
        v["commit"]
    );
    let dapp_nonce = sas::dapp_nonce(&arr(&v["dapp_nonce_seed"]), &wallet);
    assert_eq!(to_hex(&dapp_nonce), v["dapp_nonce"]);
    assert_eq!(
        sas::code(&transcript, &dapp_nonce, &wallet_nonce).as_str(),
        v["code"]
    );
    // The offer body carries the commitment; the two payloads carry the nonces.
    assert!(v["offer_body"].contains(&format!(
        "\"commit\":\"{}\"",
        base64url::encode(&sas::commit(&transcript, &wallet_nonce))
    )));
    for (name, payload) in [
        (
            "nonce_payload",
            Payload::Nonce {
                nonce: base64url::encode(&dapp_nonce),
            },
        ),
        (
            "reveal_payload",
            Payload::Reveal {
                nonce: base64url::encode(&wallet_nonce),
            },
        ),
    ] {
        assert_eq!(serde_json::to_string(&payload).unwrap(), v[name]);
        assert_eq!(serde_json::from_str::<Payload>(&v[name]).unwrap(), payload);
    }
}

#[test]
fn v3_invitation_and_sealed_request_vectors() {
    use walletwire::crypto::request_key;
    use walletwire::protocol::{Invitation, Mode, request_aad, scopes_from_json};
    let v = vectors();
    let dapp = KeyPair::from_secret(arr(&v["dapp_secret"]));
    let id = &v["request_id"];
    let key = request_key(id, &dapp.public());
    assert_eq!(to_hex(key.as_bytes()), v["request_key"]);
    let aad = request_aad(id);
    assert_eq!(to_hex(&aad), v["request_aad"]);
    let sealed = key.seal_with_nonce(arr(&v["request_nonce"]), &aad, v["request_body"].as_bytes());
    let message = format!(
        "{{\"t\":\"request\",\"box\":\"{}\"}}",
        base64url::encode(&sealed)
    );
    assert_eq!(message, v["request_message"]);
    // The QR code for these keys, and what a wallet makes of it and of the message.
    let invitation = Invitation::from_uri(&v["request_uri"]).expect("the vector URI parses");
    assert_eq!(invitation.id, *id);
    assert_eq!(invitation.mode, Mode::Untrusted);
    assert_eq!(invitation.public_key, base64url::encode(&dapp.public().0));
    assert_eq!(invitation.relay, v["request_relay"]);
    assert_eq!(invitation.to_uri(), v["request_uri"]);
    let request = invitation.open(&message).expect("the vector box opens");
    request.validate().expect("the vector request is valid");
    assert_eq!(request.expires_at, 1_700_000_120_000);
    assert_eq!(request.dapp.name, "Example dApp");
    assert_eq!(
        request.scopes,
        Some(scopes_from_json(&v["request_scopes"]).unwrap())
    );
    assert_eq!(request.sealed_body(), v["request_body"]);
}
