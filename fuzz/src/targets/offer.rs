//! A dApp listening on its handshake channel, fed arbitrary handshake-channel data: raw text,
//! or offers sealed correctly under the request's keys (by a wallet key the input chooses)
//! with any body, mixed with typed codes, time, syncs, re-subscriptions, reloads and cancel.
//!
//! Invariants: no panic; stored records read back as themselves; timers make progress; the
//! dApp connects at most once, and only to a session channel a correctly sealed offer named,
//! in untrusted mode only after that offer's code was typed; the pending record keeps the
//! request shown.

use arbitrary::{Arbitrary, Unstructured};
use walletwire::base64url;
use walletwire::crypto::{KeyPair, KeySchedule};
use walletwire::protocol::{
    DappConnection, Event, Mode, OfferMessage, Record, Role, SESSION_PREFIX, SessionRequest,
    StreamPosition, offer_aad,
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
        otp: Option<Text>,
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
    /// The user types the code of the k-th sealed offer that had one.
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
                otp_deadline,
                since,
            } => {
                variant(2, 3, out);
                channel.encode(out);
                raw_channel.encode(out);
                name.encode(out);
                url.encode(out);
                otp.encode(out);
                otp_deadline.encode(out);
                since.encode(out);
            }
        }
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 9;
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
    let keys = KeyPair::from_secret([wallet.wrapping_add(1); 32]);
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

/// Notes the session channel and code an opened offer body names.
fn note_offer(plain: &[u8], offered: &mut Vec<(String, Option<String>)>, codes: &mut Vec<String>) {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(plain)
        && let Some(session) = body["channel"].as_str()
    {
        let otp = body["otp"].as_str().map(str::to_owned);
        codes.extend(otp.clone());
        offered.push((session.to_owned(), otp));
    }
}

fn plaintext(body: Body, now: u64) -> Vec<u8> {
    match body {
        Body::Bytes(bytes) => bytes.0,
        Body::Value(value) => value.0.to_string().into_bytes(),
        Body::Fields {
            channel: id,
            raw_channel,
            name,
            url,
            otp,
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

/// Runs one input.
pub fn run(data: &[u8]) {
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
    let secret = side
        .store
        .values()
        .find_map(|text| match Record::decode(text, now) {
            Ok(Record::Pending(p)) => Some(p.secret),
            _ => None,
        })
        .expect("the dApp stores its pending handshake");
    // Session channels named by correctly sealed offers, with the code each carried.
    let mut offered: Vec<(String, Option<String>)> = Vec::new();
    let mut codes: Vec<String> = Vec::new();
    let mut typed: Vec<String> = Vec::new();
    let mut connected = 0;
    let mut offset = 0;
    for op in ops {
        match op {
            Op::Raw(data) => {
                if let Some(plain) = open_offer(&request, secret, &data.0) {
                    note_offer(&plain, &mut offered, &mut codes);
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
                let plain = plaintext(body, now);
                if !wrong_id {
                    note_offer(&plain, &mut offered, &mut codes);
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
                if !codes.is_empty() {
                    let code = codes[usize::from(k) % codes.len()].clone();
                    typed.push(code.clone());
                    if let Some(AnyConnection::Dapp(dapp)) = side.conn.as_mut() {
                        let _ = dapp.submit_otp(&code, now);
                    }
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
                assert_eq!(info.role, Role::Dapp);
                let digits = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
                let legitimate = offered.iter().any(|(session, otp)| {
                    *session == info.channel
                        && (mode == Mode::Trusted
                            || otp
                                .as_ref()
                                .is_some_and(|o| typed.iter().any(|t| digits(t) == digits(o))))
                });
                assert!(
                    legitimate,
                    "connected to {} without a sealed offer for it (and its code typed)",
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
}
