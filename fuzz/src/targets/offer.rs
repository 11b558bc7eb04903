//! A dApp listening on its handshake channel, fed arbitrary handshake-channel data: raw text,
//! or offers sealed correctly under the request's keys (by a wallet key the input chooses)
//! with any body, mixed with typed codes, time, syncs, re-subscriptions, reloads and cancel.
//!
//! Untrusted offers may commit to a wallet nonce; a `Reveal` step then publishes the sealed
//! reveal frame (honest or not) on the session channel the offer named, and `RightOtp` types
//! the code derived from both nonces (PROTOCOL.md §5).
//!
//! Invariants: no panic; stored records read back as themselves; timers make progress; the
//! dApp connects at most once, and only to a session channel a correctly sealed offer named,
//! in untrusted mode only after that offer's commitment was honestly revealed and the code
//! derived from both keys and both nonces was typed; the pending record keeps the request
//! shown.

use arbitrary::{Arbitrary, Unstructured};
use walletwire::base64url;
use walletwire::crypto::{KeyPair, KeySchedule};
use walletwire::protocol::{
    DappConnection, Event, Frame, Mode, OfferMessage, Payload, Record, Role, SESSION_PREFIX,
    SessionRequest, StreamPosition, frame_aad, offer_aad, sas,
};

use crate::input::{Blob, Encode, Json, Text, read_all, variant};
use crate::pair::Side;
use crate::{SplitMix, T0, dapp_options, uuid_from};
use walletwire::relay::hub::AnyConnection;

/// The sealed content of an offer.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Body {
    /// Any plaintext bytes.
    Bytes(Blob),
    /// Any JSON value.
    Value(Json),
    /// A well-formed body with fuzzed fields.
    Fields {
        channel: [u8; 16],
        raw_channel: Option<Text>,
        name: Text,
        url: Option<Text>,
        /// A code inside the offer: protocol v1's kind, which must never connect.
        otp: Option<Text>,
        /// The wallet nonce the offer commits to.
        commit: Option<[u8; 32]>,
        otp_deadline: Option<u32>,
        since: Option<(u64, Text)>,
    },
}

/// One step.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Op {
    /// Any publication on the handshake channel.
    Raw(Text),
    /// A correctly sealed offer from wallet key number `wallet`.
    Sealed {
        wallet: u8,
        body: Body,
        nonce: [u8; 24],
        /// Sealed for another request id: the box must not open.
        wrong_id: bool,
    },
    /// The user types this.
    Otp(Text),
    /// The user types the code derived for the k-th sealed offer that committed.
    RightOtp(u8),
    /// Time passes (ms, at most 10 minutes).
    Advance(u32),
    /// The driver reports a finished sync.
    Synced,
    /// The relay confirms the subscription (again) at this position.
    Resubscribe { offset: u8, same_epoch: bool },
    /// The page reloads.
    Reload,
    /// The user gives up.
    Cancel,
    /// The wallet of the k-th sealed offer that committed reveals (its nonce, or another one)
    /// as its frame `seq` on the offer's session channel.
    Reveal { offer: u8, honest: bool, seq: u8 },
}

impl Encode for Body {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Body::Bytes(bytes) => {
                variant(0, 3, out);
                bytes.encode(out);
            }
            Body::Value(value) => {
                variant(1, 3, out);
                value.encode(out);
            }
            Body::Fields {
                channel,
                raw_channel,
                name,
                url,
                otp,
                commit,
                otp_deadline,
                since,
            } => {
                variant(2, 3, out);
                channel.encode(out);
                raw_channel.encode(out);
                name.encode(out);
                url.encode(out);
                otp.encode(out);
                commit.encode(out);
                otp_deadline.encode(out);
                since.encode(out);
            }
        }
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 10;
        match self {
            Op::Raw(text) => {
                variant(0, N, out);
                text.encode(out);
            }
            Op::Sealed {
                wallet,
                body,
                nonce,
                wrong_id,
            } => {
                variant(1, N, out);
                wallet.encode(out);
                body.encode(out);
                nonce.encode(out);
                wrong_id.encode(out);
            }
            Op::Otp(text) => {
                variant(2, N, out);
                text.encode(out);
            }
            Op::RightOtp(k) => {
                variant(3, N, out);
                k.encode(out);
            }
            Op::Advance(ms) => {
                variant(4, N, out);
                ms.encode(out);
            }
            Op::Synced => variant(5, N, out),
            Op::Resubscribe { offset, same_epoch } => {
                variant(6, N, out);
                offset.encode(out);
                same_epoch.encode(out);
            }
            Op::Reload => variant(7, N, out),
            Op::Cancel => variant(8, N, out),
            Op::Reveal { offer, honest, seq } => {
                variant(9, N, out);
                offer.encode(out);
                honest.encode(out);
                seq.encode(out);
            }
        }
    }
}

/// Reads an input: the mode (trusted?), then the steps.
pub fn decode(data: &[u8]) -> (bool, Vec<Op>) {
    let mut u = Unstructured::new(data);
    let trusted = bool::arbitrary(&mut u).unwrap_or(false);
    (trusted, read_all(&mut u, 64))
}

/// Writes an input.
pub fn encode(trusted: bool, ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    trusted.encode(&mut out);
    for op in ops {
        op.encode(&mut out);
    }
    out
}

/// An offer message sealed for `request` by the wallet key made from `wallet`.
pub fn sealed_offer(
    request: &SessionRequest,
    wallet: u8,
    body: &[u8],
    nonce: [u8; 24],
    wrong_id: bool,
) -> String {
    let keys = wallet_keys(wallet);
    let dapp_public = request.dapp_public_key().expect("a valid request");
    let id = if wrong_id { "x" } else { request.id.as_str() };
    let Ok(shared) = keys.agree(&dapp_public) else {
        return String::new();
    };
    let offer_key = KeySchedule::derive(&shared, id, &dapp_public, &keys.public()).handshake;
    let sealed = offer_key.seal_with_nonce(nonce, &offer_aad(id), body);
    serde_json::to_string(&OfferMessage {
        t: "offer".into(),
        pk: base64url::encode(&keys.public().0),
        sealed: base64url::encode(&sealed),
    })
    .expect("an offer message serializes")
}

/// What a wallet sealed in `data` for `request`, opened with the dApp's secret (as the dApp
/// does), if it is a sealed offer at all.
fn open_offer(request: &SessionRequest, secret: [u8; 32], data: &str) -> Option<Vec<u8>> {
    let message: OfferMessage = serde_json::from_str(data).ok()?;
    let wallet = walletwire::crypto::PublicKey(base64url::decode_array(&message.pk)?);
    let keys = KeyPair::from_secret(secret);
    let shared = keys.agree(&wallet).ok()?;
    let schedule = KeySchedule::derive(&shared, &request.id, &keys.public(), &wallet);
    let sealed = base64url::decode(&message.sealed)?;
    schedule
        .handshake
        .open(&offer_aad(&request.id), &sealed)
        .ok()
}

/// The key pair of wallet number `wallet`.
fn wallet_keys(wallet: u8) -> KeyPair {
    KeyPair::from_secret([wallet.wrapping_add(1); 32])
}

/// A correctly sealed offer the dApp may have taken.
struct Offered {
    session: String,
    /// The wallet number and the nonce it committed to, for offers the input sealed.
    committed: Option<(u8, [u8; 32])>,
    /// An honest reveal was published for it.
    revealed: bool,
}

/// Notes the session channel an opened offer body names.
fn note_offer(plain: &[u8], committed: Option<(u8, [u8; 32])>, offered: &mut Vec<Offered>) {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(plain)
        && let Some(session) = body["channel"].as_str()
    {
        offered.push(Offered {
            session: session.to_owned(),
            committed: committed.filter(|_| body["commit"].is_string()),
            revealed: false,
        });
    }
}

fn plaintext(body: Body, now: u64, request: &SessionRequest, wallet: u8) -> Vec<u8> {
    match body {
        Body::Bytes(bytes) => bytes.0,
        Body::Value(value) => value.0.to_string().into_bytes(),
        Body::Fields {
            channel: id,
            raw_channel,
            name,
            url,
            otp,
            commit,
            otp_deadline,
            since,
        } => {
            let session =
                raw_channel.map_or_else(|| format!("{SESSION_PREFIX}{}", uuid_from(id)), |t| t.0);
            let mut body = serde_json::json!({
                "channel": session,
                "wallet": {"name": name.0, "url": url.map(|u| u.0)},
            });
            if let Some(otp) = otp {
                body["otp"] = otp.0.into();
            }
            if let Some(nonce) = commit {
                let dapp = request.dapp_public_key().expect("a valid request");
                let th = sas::transcript(&request.id, &dapp, &wallet_keys(wallet).public());
                body["commit"] = base64url::encode(&sas::commit(&th, &nonce)).into();
            }
            if let Some(d) = otp_deadline {
                body["otpDeadline"] = (now + u64::from(d)).into();
            }
            if let Some((offset, epoch)) = since {
                body["since"] = serde_json::json!({"offset": offset, "epoch": epoch.0});
            }
            body.to_string().into_bytes()
        }
    }
}

/// The wallet's reveal frame for `offered` (`nonce`, as frame `seq`), sealed as the wallet
/// of that offer seals it.
fn reveal_frame(request: &SessionRequest, offered: &Offered, nonce: [u8; 32], seq: u64) -> String {
    let Some((wallet, _)) = offered.committed else {
        return String::new();
    };
    let keys = wallet_keys(wallet);
    let dapp = request.dapp_public_key().expect("a valid request");
    let Ok(shared) = keys.agree(&dapp) else {
        return String::new();
    };
    let schedule = KeySchedule::derive(&shared, &request.id, &dapp, &keys.public());
    let plain = serde_json::to_string(&Payload::Reveal {
        nonce: base64url::encode(&nonce),
    })
    .expect("a payload serializes");
    let aad = frame_aad(&offered.session, Role::Wallet, seq);
    let sealed = schedule
        .wallet_to_dapp
        .seal_with_nonce([5; 24], &aad, plain.as_bytes());
    serde_json::to_string(&Frame {
        from: Role::Wallet,
        seq,
        sealed: base64url::encode(&sealed),
    })
    .expect("a frame serializes")
}

/// The code the dApp derives for a committed offer (PROTOCOL.md §5).
fn derived_code(request: &SessionRequest, seed: &[u8; 32], wallet: u8, nonce: &[u8; 32]) -> String {
    let dapp = request.dapp_public_key().expect("a valid request");
    let wallet = wallet_keys(wallet).public();
    let th = sas::transcript(&request.id, &dapp, &wallet);
    sas::code(&th, &sas::dapp_nonce(seed, &wallet), nonce)
        .as_str()
        .to_owned()
}

/// Runs one input.
pub fn run(data: &[u8]) {
    connections(data);
}

/// Runs one input; returns how many times the dApp connected, over all page loads.
pub fn connections(data: &[u8]) -> usize {
    let mut total = 0;
    let (trusted, ops) = decode(data);
    let mode = if trusted {
        Mode::Trusted
    } else {
        Mode::Untrusted
    };
    let mut relay = walletwire::loopback::LoopbackRelay::default();
    let mut now = T0;
    let dapp = DappConnection::new(dapp_options(mode), now, SplitMix::boxed(11))
        .expect("the dApp options are valid");
    let request = dapp.session_request().expect("connecting").clone();
    let channel = request.channel.clone();
    let mut side = Side::new(Role::Dapp, AnyConnection::Dapp(dapp), 11);
    side.apply(&mut relay, now);
    let (secret, seed) = side
        .store
        .values()
        .find_map(|text| match Record::decode(text, now) {
            Ok(Record::Pending(p)) => Some((p.secret, p.nonce_seed)),
            _ => None,
        })
        .expect("the dApp stores its pending handshake");
    // Session channels named by correctly sealed offers.
    let mut offered: Vec<Offered> = Vec::new();
    let mut typed: Vec<String> = Vec::new();
    let mut connected = 0;
    let mut offset = 0;
    for op in ops {
        match op {
            Op::Raw(data) => {
                if let Some(plain) = open_offer(&request, secret, &data.0) {
                    note_offer(&plain, None, &mut offered);
                }
                offset += 1;
                let position = StreamPosition {
                    offset,
                    epoch: "raw".into(),
                };
                if let Some(conn) = side.conn.as_mut() {
                    let _ = conn.handle_publication(&channel, Some(position), &data.0, now);
                }
            }
            Op::Sealed {
                wallet,
                body,
                nonce,
                wrong_id,
            } => {
                let committed = match &body {
                    Body::Fields { commit, .. } => commit.map(|n| (wallet, n)),
                    _ => None,
                };
                let plain = plaintext(body, now, &request, wallet);
                if !wrong_id {
                    note_offer(&plain, committed, &mut offered);
                }
                let data = sealed_offer(&request, wallet, &plain, nonce, wrong_id);
                relay.publish(&channel, data);
                side.fetch(&mut relay);
                while side.deliver_one(now) {}
            }
            Op::Otp(code) => {
                typed.push(code.0.clone());
                if let Some(AnyConnection::Dapp(dapp)) = side.conn.as_mut() {
                    let _ = dapp.submit_otp(&code.0, now);
                }
            }
            Op::RightOtp(k) => {
                let committed: Vec<_> = offered.iter().filter_map(|o| o.committed).collect();
                if !committed.is_empty() {
                    let (wallet, nonce) = committed[usize::from(k) % committed.len()];
                    let code = derived_code(&request, &seed, wallet, &nonce);
                    typed.push(code.clone());
                    if let Some(AnyConnection::Dapp(dapp)) = side.conn.as_mut() {
                        let _ = dapp.submit_otp(&code, now);
                    }
                }
            }
            Op::Reveal { offer, honest, seq } => {
                let count = offered.iter().filter(|o| o.committed.is_some()).count();
                if count > 0 {
                    let target = offered
                        .iter_mut()
                        .filter(|o| o.committed.is_some())
                        .nth(usize::from(offer) % count)
                        .expect("index below count");
                    let (_, nonce) = target.committed.expect("committed");
                    let sent = if honest { nonce } else { nonce.map(|b| b ^ 1) };
                    let data = reveal_frame(&request, target, sent, u64::from(seq % 3));
                    target.revealed |= honest;
                    relay.publish(&target.session.clone(), data);
                    side.fetch(&mut relay);
                    while side.deliver_one(now) {}
                }
            }
            Op::Advance(ms) => {
                now += u64::from(ms % 600_000);
                side.fire(now);
            }
            Op::Synced => {
                if let Some(conn) = side.conn.as_mut() {
                    conn.handle_synced(&channel, now);
                }
            }
            Op::Resubscribe { offset, same_epoch } => {
                let top = StreamPosition {
                    offset: u64::from(offset),
                    epoch: relay.top(&channel).epoch + if same_epoch { "" } else { "'" },
                };
                if let Some(conn) = side.conn.as_mut() {
                    conn.handle_subscribed(&channel, top, now);
                }
            }
            Op::Reload => {
                side.reload(now);
                // A resumed session announces itself again.
                connected = 0;
            }
            Op::Cancel => {
                if let Some(AnyConnection::Dapp(dapp)) = side.conn.as_mut() {
                    dapp.cancel(now);
                }
            }
        }
        side.apply(&mut relay, now);
        for event in side.take_events() {
            if let Event::Connected(info) = event {
                connected += 1;
                total += 1;
                assert_eq!(info.role, Role::Dapp);
                let digits = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
                let legitimate = offered.iter().any(|o| {
                    o.session == info.channel
                        && (mode == Mode::Trusted
                            || o.committed.is_some_and(|(wallet, nonce)| {
                                let code = derived_code(&request, &seed, wallet, &nonce);
                                o.revealed && typed.iter().any(|t| digits(t) == code)
                            }))
                });
                assert!(
                    legitimate,
                    "connected to {} without a sealed offer for it (and, untrusted, its \
                     commitment revealed and its derived code typed)",
                    info.channel
                );
            }
        }
        assert!(connected <= 1, "connected twice in one page load");
        for text in side.store.values() {
            if let Ok(Record::Pending(p)) = Record::decode(text, now) {
                assert_eq!(p.request, request, "the pending record keeps the request");
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    /// The seeds reach what the invariants are about: an honest reveal and the derived code
    /// connect; a wrong reveal does not, nor does an offer of protocol v1's kind.
    #[test]
    fn the_committed_code_seeds_connect_and_the_old_kind_does_not() {
        for (name, expected) in [
            ("untrusted-code-typed", 1),
            ("untrusted-wrong-reveal-reload", 1),
            ("untrusted-two-offers", 0),
            ("untrusted-old-kind-offer", 0),
            ("trusted-sealed", 1),
        ] {
            let path = format!("{}/corpus/offer/seed-{name}", env!("CARGO_MANIFEST_DIR"));
            let data = std::fs::read(&path).expect("committed seed");
            assert_eq!(super::connections(&data), expected, "{name}");
        }
    }
}
