//! An established session (either mode) whose two ends are fed arbitrary session-channel
//! data: raw text, or frames sealed with the real sending key of the other end (taken from
//! its stored record) at any sequence number with any plaintext, mixed with requests,
//! responses, notifications, pings, time and closes.
//!
//! Invariants: no panic; stored records read back as themselves; timers make progress; a
//! `Response` only for a request this end made, at most once; a request id is not delivered
//! again while unanswered; a frame sealed by the peer with a sequence number ahead of the
//! expected one raises `MessagesLost` with the exact gap.

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Arbitrary, Unstructured};
use serde_json::json;
use walletwire::protocol::{Event, Mode, Role, RpcError, StreamPosition};

use crate::input::{Blob, Encode, Json, Text, read_all, variant};
use crate::pair::{Pair, Side, seal_frame};

/// The plaintext of a forged frame.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Plain {
    /// Any bytes.
    Bytes(Blob),
    /// Any JSON.
    Value(Json),
    /// `ack`.
    Ack,
    /// `ping`.
    Ping(u64),
    /// `pong`.
    Pong(u64),
    /// `close`.
    Close(Text),
    /// `req`.
    Req { id: u64, method: Text, params: Json },
    /// `res`.
    Res {
        id: u64,
        result: Json,
        error: Option<(i64, Text)>,
    },
    /// `note`.
    Note { method: Text, params: Json },
}

/// One step; `wallet` picks the end that acts (or, for frames, receives).
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Op {
    /// Any publication on the session channel.
    Raw {
        to_wallet: bool,
        data: Text,
        offset: Option<u64>,
    },
    /// A frame sealed by the other end at the expected sequence number plus `seq_ahead`,
    /// or minus `seq_back` when that is not 0.
    Sealed {
        to_wallet: bool,
        seq_ahead: u8,
        seq_back: u8,
        plain: Plain,
        nonce: [u8; 24],
    },
    /// `request`.
    Request {
        wallet: bool,
        method: Text,
        timeout: Option<u16>,
    },
    /// `respond` to id.
    Respond { wallet: bool, id: u64, error: bool },
    /// `notify`.
    Notify { wallet: bool, params: Json },
    /// `ping`.
    Ping { wallet: bool },
    /// Deliver everything, in order.
    Settle,
    /// Time passes (ms, at most an hour), firing timers on the way.
    Advance(u32),
    /// `close`.
    Close { wallet: bool },
}

impl Encode for Plain {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 9;
        match self {
            Plain::Bytes(b) => {
                variant(0, N, out);
                b.encode(out);
            }
            Plain::Value(v) => {
                variant(1, N, out);
                v.encode(out);
            }
            Plain::Ack => variant(2, N, out),
            Plain::Ping(n) => {
                variant(3, N, out);
                n.encode(out);
            }
            Plain::Pong(n) => {
                variant(4, N, out);
                n.encode(out);
            }
            Plain::Close(reason) => {
                variant(5, N, out);
                reason.encode(out);
            }
            Plain::Req { id, method, params } => {
                variant(6, N, out);
                id.encode(out);
                method.encode(out);
                params.encode(out);
            }
            Plain::Res { id, result, error } => {
                variant(7, N, out);
                id.encode(out);
                result.encode(out);
                error.encode(out);
            }
            Plain::Note { method, params } => {
                variant(8, N, out);
                method.encode(out);
                params.encode(out);
            }
        }
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const N: u32 = 9;
        match self {
            Op::Raw {
                to_wallet,
                data,
                offset,
            } => {
                variant(0, N, out);
                to_wallet.encode(out);
                data.encode(out);
                offset.encode(out);
            }
            Op::Sealed {
                to_wallet,
                seq_ahead,
                seq_back,
                plain,
                nonce,
            } => {
                variant(1, N, out);
                to_wallet.encode(out);
                seq_ahead.encode(out);
                seq_back.encode(out);
                plain.encode(out);
                nonce.encode(out);
            }
            Op::Request {
                wallet,
                method,
                timeout,
            } => {
                variant(2, N, out);
                wallet.encode(out);
                method.encode(out);
                timeout.encode(out);
            }
            Op::Respond { wallet, id, error } => {
                variant(3, N, out);
                wallet.encode(out);
                id.encode(out);
                error.encode(out);
            }
            Op::Notify { wallet, params } => {
                variant(4, N, out);
                wallet.encode(out);
                params.encode(out);
            }
            Op::Ping { wallet } => {
                variant(5, N, out);
                wallet.encode(out);
            }
            Op::Settle => variant(6, N, out),
            Op::Advance(ms) => {
                variant(7, N, out);
                ms.encode(out);
            }
            Op::Close { wallet } => {
                variant(8, N, out);
                wallet.encode(out);
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

fn plaintext(plain: Plain) -> Vec<u8> {
    let value = match plain {
        Plain::Bytes(bytes) => return bytes.0,
        Plain::Value(v) => v.0,
        Plain::Ack => json!({"t": "ack"}),
        Plain::Ping(n) => json!({"t": "ping", "n": n}),
        Plain::Pong(n) => json!({"t": "pong", "n": n}),
        Plain::Close(reason) => json!({"t": "close", "reason": reason.0}),
        Plain::Req { id, method, params } => {
            json!({"t": "req", "id": id, "method": method.0, "params": params.0})
        }
        Plain::Res { id, result, error } => match error {
            Some((code, message)) => {
                json!({"t": "res", "id": id, "error": {"code": code, "message": message.0}})
            }
            None => json!({"t": "res", "id": id, "result": result.0}),
        },
        Plain::Note { method, params } => {
            json!({"t": "note", "method": method.0, "params": params.0})
        }
    };
    value.to_string().into_bytes()
}

#[derive(Default)]
struct Seen {
    /// Our request ids → settled?
    issued: BTreeMap<u64, bool>,
    /// Peer request ids delivered and not answered.
    open_requests: BTreeSet<u64>,
}

fn check(events: Vec<Event>, seen: &mut Seen, expected_gap: Option<u64>) {
    let mut gap_reported = None;
    for event in events {
        match event {
            Event::Response { id, .. } => {
                let settled = seen
                    .issued
                    .get_mut(&id)
                    .unwrap_or_else(|| panic!("a response for request {id}, never made"));
                assert!(!*settled, "request {id} settled twice");
                *settled = true;
            }
            Event::Request { id, .. } => {
                assert!(
                    seen.open_requests.insert(id),
                    "request {id} delivered again while unanswered"
                );
            }
            Event::MessagesLost { count } => gap_reported = Some(count),
            _ => {}
        }
    }
    if let Some(gap) = expected_gap {
        assert_eq!(
            gap_reported,
            Some(Some(gap)),
            "a gap of {gap} frames is reported exactly"
        );
    }
}

fn side(pair: &mut Pair, wallet: bool) -> &mut Side {
    pair.side(if wallet { Role::Wallet } else { Role::Dapp })
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let (trusted, ops) = decode(data);
    let mode = if trusted {
        Mode::Trusted
    } else {
        Mode::Untrusted
    };
    let mut pair = Pair::connected(mode, 21);
    pair.dapp.take_events();
    pair.wallet.take_events();
    let mut seen = [Seen::default(), Seen::default()];
    let mut offset = 1_000;
    for op in ops {
        let now = pair.now;
        let mut expected_gap = [None, None];
        match op {
            Op::Raw {
                to_wallet,
                data,
                offset: at,
            } => {
                if let Some(conn) = side(&mut pair, to_wallet).conn.as_mut() {
                    let channel = conn
                        .session()
                        .map(|s| s.channel.clone())
                        .unwrap_or_default();
                    let position = at.map(|offset| StreamPosition {
                        offset,
                        epoch: "e".into(),
                    });
                    let _ = conn.handle_publication(&channel, position, &data.0, now);
                }
            }
            Op::Sealed {
                to_wallet,
                seq_ahead,
                seq_back,
                plain,
                nonce,
            } => {
                let sender = side(&mut pair, !to_wallet).session_record(now);
                let receiver = side(&mut pair, to_wallet);
                let (Some(sender), Some(expected)) =
                    (sender, receiver.session_record(now).map(|r| r.recv_next))
                else {
                    continue;
                };
                let seq = if seq_back > 0 {
                    expected.saturating_sub(u64::from(seq_back))
                } else {
                    expected + u64::from(seq_ahead)
                };
                let data = seal_frame(&sender, seq, &plaintext(plain), nonce);
                let fits = data.len() <= walletwire::protocol::Limits::default().max_frame_len();
                if seq > expected && receiver.is_live() && fits {
                    expected_gap[usize::from(to_wallet)] = Some(seq - expected);
                }
                offset += 1;
                let position = StreamPosition {
                    offset,
                    epoch: "e".into(),
                };
                if let Some(conn) = receiver.conn.as_mut() {
                    let channel = sender.info.channel.clone();
                    let _ = conn.handle_publication(&channel, Some(position), &data, now);
                }
            }
            Op::Request {
                wallet,
                method,
                timeout,
            } => {
                if let Some(conn) = side(&mut pair, wallet).conn.as_mut()
                    && let Ok(id) = conn.request(&method.0, json!({}), timeout.map(u64::from), now)
                {
                    let fresh = seen[usize::from(wallet)].issued.insert(id, false).is_none();
                    assert!(fresh, "request id {id} reused");
                }
            }
            Op::Respond { wallet, id, error } => {
                let outcome = if error {
                    Err(RpcError {
                        code: 4001,
                        message: "no".into(),
                    })
                } else {
                    Ok(json!(id).into())
                };
                if let Some(conn) = side(&mut pair, wallet).conn.as_mut()
                    && conn.respond(id, outcome, now).is_ok()
                {
                    assert!(
                        seen[usize::from(wallet)].open_requests.remove(&id),
                        "answered {id}, which was never asked"
                    );
                }
            }
            Op::Notify { wallet, params } => {
                if let Some(conn) = side(&mut pair, wallet).conn.as_mut() {
                    let _ = conn.notify("note", params.0, now);
                }
            }
            Op::Ping { wallet } => {
                if let Some(conn) = side(&mut pair, wallet).conn.as_mut() {
                    let _ = conn.ping(now);
                }
            }
            Op::Settle => pair.settle(),
            Op::Advance(ms) => pair.advance_to(now + u64::from(ms % 3_600_000)),
            Op::Close { wallet } => {
                if let Some(conn) = side(&mut pair, wallet).conn.as_mut() {
                    conn.close("fuzz", now);
                }
            }
        }
        pair.apply();
        let dapp_events = pair.dapp.take_events();
        let wallet_events = pair.wallet.take_events();
        check(dapp_events, &mut seen[0], expected_gap[0]);
        check(wallet_events, &mut seen[1], expected_gap[1]);
    }
}
