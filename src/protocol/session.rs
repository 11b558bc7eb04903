//! An established session, the same for both roles: sealing and opening frames, sequence
//! numbers, requests and their timeouts, ping, close and expiry (`docs/PROTOCOL.md` §6).

use std::collections::VecDeque;

use crate::json::Json;

use super::info::SessionInfo;
use super::message::{Frame, Payload, RpcError, frame_aad};
use super::record::{AwaitingAck, Record, SessionRecord};
use super::rpc::Correlation;
use super::{
    Discard, Disconnect, Error, Event, Limits, Output, State, StreamPosition, session_key,
};
use crate::base64url;
use crate::crypto::{Key, RandomSource};

/// The JSON-RPC error code a wallet answers a request outside the granted scopes with
/// (EIP-1193 4100, unauthorized).
pub const METHOD_NOT_GRANTED_CODE: i64 = 4100;

/// Whether the session goes on after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Ended,
}

/// Established session state.
#[derive(Debug)]
pub struct Session {
    pub(crate) info: SessionInfo,
    send_key: Key,
    recv_key: Key,
    send_seq: u64,
    recv_next: u64,
    position: Option<StreamPosition>,
    rpc: Correlation,
    limits: Limits,
    next_ping: u64,
    /// Wallet in untrusted mode before the dApp's ack.
    pub(crate) awaiting_ack: Option<AwaitingAck>,
    /// Not stored: a dApp's untrusted-mode candidate before the code was checked (its
    /// handshake lives in the pending record until then).
    pub(crate) volatile: bool,
}

impl Session {
    pub(crate) fn new(
        info: SessionInfo,
        send_key: Key,
        recv_key: Key,
        position: Option<StreamPosition>,
        limits: Limits,
    ) -> Self {
        Self {
            info,
            send_key,
            recv_key,
            send_seq: 0,
            recv_next: 0,
            position,
            rpc: Correlation::default(),
            limits,
            next_ping: 0,
            awaiting_ack: None,
            volatile: false,
        }
    }

    pub(crate) fn from_record(record: &SessionRecord, limits: Limits) -> Self {
        Self {
            info: record.info.clone(),
            send_key: Key::from_bytes(record.send_key),
            recv_key: Key::from_bytes(record.recv_key),
            send_seq: record.send_seq,
            recv_next: record.recv_next,
            position: record.position.clone(),
            rpc: Correlation::starting_at(record.next_request_id),
            limits,
            next_ping: 0,
            awaiting_ack: record.awaiting_ack.clone(),
            volatile: false,
        }
    }

    pub(crate) fn to_record(&self) -> SessionRecord {
        SessionRecord {
            info: self.info.clone(),
            send_key: *self.send_key.as_bytes(),
            recv_key: *self.recv_key.as_bytes(),
            send_seq: self.send_seq,
            recv_next: self.recv_next,
            position: self.position.clone(),
            next_request_id: self.rpc.next_id(),
            awaiting_ack: self.awaiting_ack.clone(),
        }
    }

    pub(crate) fn position(&self) -> Option<StreamPosition> {
        self.position.clone()
    }

    pub(crate) fn store(&self, out: &mut VecDeque<Output>) {
        if self.volatile {
            return;
        }
        out.push_back(Output::Store {
            key: session_key(self.info.role, &self.info.id),
            record: Record::Session(self.to_record()).encode(),
        });
    }

    fn touch(&mut self, now: u64) {
        self.info.expires_at = now.saturating_add(self.limits.session_ttl_ms);
    }

    /// Seals and publishes one payload; stores the advanced counter first.
    pub(crate) fn send(
        &mut self,
        payload: &Payload,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<(), Error> {
        let plain = payload.to_json().into_bytes();
        if plain.len() > self.limits.max_payload {
            return Err(Error::PayloadTooLarge {
                size: plain.len(),
                max: self.limits.max_payload,
            });
        }
        let role = self.info.role;
        let aad = frame_aad(&self.info.channel, role, self.send_seq);
        let sealed = self.send_key.seal(rng, &aad, &plain);
        let frame = Frame {
            from: role,
            seq: self.send_seq,
            sealed: base64url::encode(&sealed),
        };
        self.send_seq += 1;
        self.touch(now);
        self.store(out);
        out.push_back(Output::Publish {
            channel: self.info.channel.clone(),
            data: frame.to_json(),
        });
        Ok(())
    }

    pub(crate) fn request(
        &mut self,
        method: &str,
        params: Json,
        timeout_ms: Option<u64>,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<u64, Error> {
        if self.info.role == super::Role::Dapp && !self.granted(method) {
            return Err(Error::MethodNotGranted);
        }
        if self.rpc.pending() >= self.limits.max_pending_requests {
            return Err(Error::TooManyPending);
        }
        let timeout = timeout_ms.unwrap_or(self.limits.request_timeout_ms);
        let id = self.rpc.start(now.saturating_add(timeout));
        let payload = Payload::Req {
            id,
            method: method.to_owned(),
            params,
        };
        if let Err(e) = self.send(&payload, now, rng, out) {
            self.rpc.abandon(id);
            return Err(e);
        }
        Ok(id)
    }

    /// True when the session is unscoped or its granted scopes include `method`.
    fn granted(&self, method: &str) -> bool {
        self.info.scopes.as_ref().is_none_or(|s| s.allows(method))
    }

    /// Forgets our request `id` without settling it (its frame was never sent).
    pub(crate) fn forget_request(&mut self, id: u64) {
        self.rpc.abandon(id);
    }

    pub(crate) fn respond(
        &mut self,
        id: u64,
        outcome: Result<Json, RpcError>,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<(), Error> {
        if !self.rpc.answer(id) {
            return Err(Error::UnknownRequest);
        }
        let payload = match outcome {
            Ok(result) => Payload::Res {
                id,
                result,
                error: None,
            },
            Err(error) => Payload::Res {
                id,
                result: Json::null(),
                error: Some(error),
            },
        };
        match self.send(&payload, now, rng, out) {
            Err(Error::PayloadTooLarge { size, max }) => {
                // The answer must still settle the peer's request: send a small error instead.
                let error = RpcError {
                    code: -32603,
                    message: format!("response of {size} bytes exceeds the limit of {max}"),
                };
                self.send(
                    &Payload::Res {
                        id,
                        result: Json::null(),
                        error: Some(error),
                    },
                    now,
                    rng,
                    out,
                )
            }
            other => other,
        }
    }

    pub(crate) fn ping(
        &mut self,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<u64, Error> {
        let n = self.next_ping;
        self.next_ping += 1;
        self.send(&Payload::Ping { n }, now, rng, out)?;
        Ok(n)
    }

    /// Takes over the responses to requests an earlier instance of this session sent
    /// ([`Correlation::adopt`]).
    pub(crate) fn adopt_requests(&mut self) {
        self.rpc.adopt();
    }

    /// Local close: tells the peer, settles pending requests, forgets the session.
    pub(crate) fn close(
        &mut self,
        reason: &str,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) {
        let close = Payload::Close {
            reason: reason.chars().take(200).collect(),
        };
        // A 200-character reason always fits the payload limit.
        let _ = self.send(&close, now, rng, out);
        self.end(Disconnect::Local, Error::Cancelled, out);
    }

    fn end(&mut self, why: Disconnect, pending_error: Error, out: &mut VecDeque<Output>) {
        for id in self.rpc.drain() {
            out.push_back(Output::Event(Event::Response {
                id,
                result: Err(pending_error.clone()),
            }));
        }
        out.push_back(Output::Unsubscribe {
            channel: self.info.channel.clone(),
        });
        out.push_back(Output::Remove {
            key: session_key(self.info.role, &self.info.id),
        });
        out.push_back(Output::Event(Event::State(State::Disconnected)));
        out.push_back(Output::Event(Event::Disconnected(why)));
    }

    /// Authenticates a frame and applies the sequence rules; returns the payload.
    pub(crate) fn open(
        &mut self,
        data: &str,
        out: &mut VecDeque<Output>,
    ) -> Result<Payload, Discard> {
        if data.len() > self.limits.max_frame_len() {
            return Err(Discard::TooLarge);
        }
        let frame = Frame::from_json(data).map_err(|_| Discard::Malformed)?;
        if frame.from == self.info.role {
            return Err(Discard::Own);
        }
        let sealed = base64url::decode(&frame.sealed).ok_or(Discard::Malformed)?;
        let aad = frame_aad(&self.info.channel, frame.from, frame.seq);
        let plain = self
            .recv_key
            .open(&aad, &sealed)
            .map_err(|_| Discard::Decrypt)?;
        if frame.seq < self.recv_next {
            return Err(Discard::Replay);
        }
        if frame.seq > self.recv_next {
            out.push_back(Output::Event(Event::MessagesLost {
                count: Some(frame.seq - self.recv_next),
            }));
        }
        self.recv_next = frame.seq + 1;
        let plain = std::str::from_utf8(&plain).map_err(|_| Discard::Malformed)?;
        Payload::from_json(plain).map_err(|_| Discard::Malformed)
    }

    /// Records the relay position of a processed publication.
    pub(crate) fn advance(&mut self, position: Option<StreamPosition>) {
        if let Some(p) = position {
            self.position = Some(p);
        }
    }

    /// Handles a session-channel publication of an established session.
    pub(crate) fn handle_frame(
        &mut self,
        data: &str,
        position: Option<StreamPosition>,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<Flow, Discard> {
        let payload = self.open(data, out);
        // Even a discarded publication moves the recovery position past it.
        self.advance(position);
        let payload = match payload {
            Ok(p) => p,
            // Our own frame coming back: nothing changed but the position, and a position left
            // behind it only makes a resumed session read (and drop) its own frames again. Not
            // storing here saves a record write per frame sent (the next store carries it).
            Err(Discard::Own) => return Err(Discard::Own),
            Err(e) => {
                self.store(out);
                return Err(e);
            }
        };
        self.touch(now);
        self.store(out);
        self.apply(payload, now, rng, out)
    }

    pub(crate) fn apply(
        &mut self,
        payload: Payload,
        now: u64,
        rng: &mut dyn RandomSource,
        out: &mut VecDeque<Output>,
    ) -> Result<Flow, Discard> {
        match payload {
            Payload::Ack | Payload::Nonce { .. } | Payload::Reveal { .. } => {
                return Err(Discard::Unexpected);
            }
            Payload::Ping { n } => {
                // A pong is tiny; it fits the payload limit.
                let _ = self.send(&Payload::Pong { n }, now, rng, out);
            }
            Payload::Pong { n } => out.push_back(Output::Event(Event::Pong { n })),
            Payload::Close { reason } => {
                self.end(Disconnect::Peer { reason }, Error::PeerClosed, out);
                return Ok(Flow::Ended);
            }
            Payload::Req { id, method, params } => {
                if !self.rpc.receive(id) {
                    return Err(Discard::Replay);
                }
                // The wallet holds the dApp to the scopes it granted: the application never
                // sees a request outside them (EIP-1193's 4100, unauthorized).
                if self.info.role == super::Role::Wallet && !self.granted(&method) {
                    let refusal = RpcError {
                        code: METHOD_NOT_GRANTED_CODE,
                        message: String::from("method not granted to this session"),
                    };
                    let _ = self.respond(id, Err(refusal), now, rng, out);
                    return Ok(Flow::Continue);
                }
                out.push_back(Output::Event(Event::Request { id, method, params }));
            }
            Payload::Res { id, result, error } => {
                if !self.rpc.settle(id) {
                    return Err(Discard::Unexpected);
                }
                let result = match error {
                    Some(RpcError { code, message }) => Err(Error::Remote { code, message }),
                    None => Ok(result),
                };
                out.push_back(Output::Event(Event::Response { id, result }));
            }
            Payload::Note { method, params } => {
                out.push_back(Output::Event(Event::Notification { method, params }));
            }
        }
        Ok(Flow::Continue)
    }

    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        let expiry = Some(self.info.expires_at);
        let ack = self.awaiting_ack.as_ref().map(|a| a.deadline);
        [expiry, ack, self.rpc.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Request timeouts and session expiry.
    pub(crate) fn handle_timeout(&mut self, now: u64, out: &mut VecDeque<Output>) -> Flow {
        if now >= self.info.expires_at {
            self.end(
                Disconnect::Failed(Error::SessionExpired),
                Error::SessionExpired,
                out,
            );
            return Flow::Ended;
        }
        for id in self.rpc.expire(now) {
            out.push_back(Output::Event(Event::Response {
                id,
                result: Err(Error::Timeout),
            }));
        }
        Flow::Continue
    }
}
