//! Persisted records: established sessions and pending handshakes, versioned
//! (`docs/PROTOCOL.md` §10). Unreadable or expired records are reported so the caller can
//! delete them; they never bring the client down.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::codec::{
    head, info, key, request, write_info, write_key, write_optional_position, write_request,
};
use super::info::SessionInfo;
use super::request::SessionRequest;
use crate::json::{self, Invalid, Object, Reader, once};

/// How long after the request's expiry a pending handshake record is kept: an offer the
/// wallet published in time may still be read from the relay's history (10 min there).
pub const LATE_OFFER_GRACE_MS: u64 = 10 * 60 * 1000;
use super::{HANDSHAKE_PREFIX, SESSION_PREFIX, StreamPosition, is_channel};
use crate::base64url;
use crate::crypto::KEY_LEN;

/// Every storage key starts with this.
pub const STORE_PREFIX: &str = "walletwire:v1:";
/// Version of the record format.
const RECORD_VERSION: u64 = 1;
/// Records longer than this are corrupt by definition.
const MAX_RECORD_LEN: usize = 16 * 1024;

/// Why a stored record cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// Written by another format version.
    Version(u64),
    /// Not a record this code can read.
    Corrupt,
    /// Past its expiry.
    Expired,
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Version(v) => write!(f, "stored record has unsupported version {v}"),
            Self::Corrupt => f.write_str("stored record is corrupt"),
            Self::Expired => f.write_str("stored record expired"),
        }
    }
}

impl std::error::Error for RecordError {}

/// The wallet's untrusted-mode handshake on its session channel, kept across reloads:
/// waiting for the dApp's nonce (then the code is computed and shown), then for its ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitingAck {
    /// What the code is about ([`super::sas::transcript`]).
    #[serde(with = "key_text")]
    pub transcript: [u8; KEY_LEN],
    /// The nonce the offer committed to.
    #[serde(with = "key_text")]
    pub wallet_nonce: [u8; KEY_LEN],
    /// The code on display, once the dApp's nonce arrived and the wallet revealed its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Unix ms after which the wallet gives up.
    pub deadline: u64,
    /// When the code window itself closes (shown to the user).
    pub otp_deadline: u64,
}

/// An established (or wallet-side, ack-awaiting) session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// Public description.
    pub info: SessionInfo,
    /// Our sending key.
    #[serde(with = "key_text")]
    pub send_key: [u8; KEY_LEN],
    /// The peer's sending key.
    #[serde(with = "key_text")]
    pub recv_key: [u8; KEY_LEN],
    /// Next sequence number we send.
    pub send_seq: u64,
    /// Next sequence number we expect.
    pub recv_next: u64,
    /// Relay position of the last processed publication.
    pub position: Option<StreamPosition>,
    /// Next request id.
    pub next_request_id: u64,
    /// Wallet, untrusted mode, before the ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_ack: Option<AwaitingAck>,
}

/// A dApp handshake in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRecord {
    /// The request shown to the user.
    pub request: SessionRequest,
    /// The dApp's X25519 secret for this request.
    #[serde(with = "key_text")]
    pub secret: [u8; KEY_LEN],
    /// Handshake-channel position taken before any offer: recovering from it replays every
    /// offer after a reload.
    pub position: Option<StreamPosition>,
    /// OTP attempts left; persisted so reloading cannot reset the count.
    pub attempts_left: u8,
    /// Untrusted mode: where the dApp's nonce for each offer comes from
    /// ([`super::sas::dapp_nonce`]), so a reload sends the same one again.
    #[serde(with = "key_text")]
    pub nonce_seed: [u8; KEY_LEN],
    /// Wallet metadata is not kept; offers are re-read from the relay.
    #[serde(default)]
    pub otp_prompted: bool,
}

/// Anything the core persists: `{"v":1,"kind":"session"|"pending",...the record's fields}`.
///
/// Only serialized by derive; [`Record::decode`] reads `v` and `kind` first and then the
/// record's own struct from the same text (a derived internally tagged, flattened
/// deserializer would buffer the whole record into serde's generic `Content` tree, code the
/// wasm bundle would carry for this one type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)]
pub enum Record {
    /// Established session.
    Session(SessionRecord),
    /// Pending dApp handshake.
    Pending(PendingRecord),
}

impl Record {
    /// Encodes with the format version.
    pub fn encode(&self) -> String {
        record_to_json(RECORD_VERSION, self)
    }

    /// Decodes and validates; `now` decides expiry.
    pub fn decode(text: &str, now: u64) -> Result<Self, RecordError> {
        if text.len() > MAX_RECORD_LEN {
            return Err(RecordError::Corrupt);
        }
        let (v, kind) = head(text, true).map_err(|_| RecordError::Corrupt)?;
        match v {
            Some(RECORD_VERSION) => {}
            Some(other) => return Err(RecordError::Version(other)),
            None => return Err(RecordError::Corrupt),
        }
        // The record's struct ignores `v` and `kind` like any other unknown field.
        let record = match kind.as_deref() {
            Some("session") => session_record(text).map(Record::Session),
            Some("pending") => pending_record(text).map(Record::Pending),
            _ => return Err(RecordError::Corrupt),
        }
        .map_err(|_| RecordError::Corrupt)?;
        match &record {
            Record::Session(s) => {
                let id_ok = s.info.channel.strip_prefix(SESSION_PREFIX) == Some(s.info.id.as_str());
                if !id_ok || !is_channel(&s.info.channel, SESSION_PREFIX) {
                    return Err(RecordError::Corrupt);
                }
                let deadline = s
                    .awaiting_ack
                    .as_ref()
                    .map_or(s.info.expires_at, |a| a.deadline);
                if now >= deadline {
                    return Err(RecordError::Expired);
                }
            }
            Record::Pending(p) => {
                if p.request.validate().is_err()
                    || !is_channel(&p.request.channel, HANDSHAKE_PREFIX)
                {
                    return Err(RecordError::Corrupt);
                }
                if now >= p.request.expires_at.saturating_add(LATE_OFFER_GRACE_MS) {
                    return Err(RecordError::Expired);
                }
            }
        }
        Ok(record)
    }

    /// The key this record is stored under.
    pub fn key(&self) -> String {
        match self {
            Record::Session(s) => super::session_key(s.info.role, &s.info.id),
            Record::Pending(p) => super::pending_key(&p.request.id),
        }
    }
}

// The record codec, by hand (see `super::codec`).

/// `{"v":version,"kind":…,…the record's fields}`, as serde_json writes the derived form.
pub(super) fn record_to_json(version: u64, record: &Record) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    o.u64("v", version);
    match record {
        Record::Session(s) => {
            o.string("kind", "session");
            let mut i = Object::new(o.key("info"));
            write_info(&mut i, &s.info);
            i.end();
            write_key(&mut o, "sendKey", &s.send_key);
            write_key(&mut o, "recvKey", &s.recv_key);
            o.u64("sendSeq", s.send_seq);
            o.u64("recvNext", s.recv_next);
            write_optional_position(&mut o, "position", &s.position);
            o.u64("nextRequestId", s.next_request_id);
            if let Some(a) = &s.awaiting_ack {
                let mut a_o = Object::new(o.key("awaitingAck"));
                write_key(&mut a_o, "transcript", &a.transcript);
                write_key(&mut a_o, "walletNonce", &a.wallet_nonce);
                if let Some(otp) = &a.otp {
                    a_o.string("otp", otp);
                }
                a_o.u64("deadline", a.deadline);
                a_o.u64("otpDeadline", a.otp_deadline);
                a_o.end();
            }
        }
        Record::Pending(p) => {
            o.string("kind", "pending");
            let mut q = Object::new(o.key("request"));
            write_request(&mut q, &p.request);
            q.end();
            write_key(&mut o, "secret", &p.secret);
            write_optional_position(&mut o, "position", &p.position);
            o.u64("attemptsLeft", p.attempts_left.into());
            write_key(&mut o, "nonceSeed", &p.nonce_seed);
            o.bool("otpPrompted", p.otp_prompted);
        }
    }
    o.end();
    out
}

fn awaiting_ack(r: &mut Reader<'_>) -> json::Result<AwaitingAck> {
    let (mut transcript, mut wallet_nonce, mut otp) = (None, None, None);
    let (mut deadline, mut otp_deadline) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, name| {
        match name {
            "transcript" => {
                once(&mut seen, 0)?;
                transcript = Some(key(r)?);
            }
            "walletNonce" => {
                once(&mut seen, 1)?;
                wallet_nonce = Some(key(r)?);
            }
            "otp" => {
                once(&mut seen, 2)?;
                otp = r.optional(Reader::string)?;
            }
            "deadline" => {
                once(&mut seen, 3)?;
                deadline = Some(r.u64()?);
            }
            "otpDeadline" => {
                once(&mut seen, 4)?;
                otp_deadline = Some(r.u64()?);
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(AwaitingAck {
        transcript: transcript.ok_or(Invalid)?,
        wallet_nonce: wallet_nonce.ok_or(Invalid)?,
        otp,
        deadline: deadline.ok_or(Invalid)?,
        otp_deadline: otp_deadline.ok_or(Invalid)?,
    })
}

/// Reads a session record's fields (the derived `Deserialize`; `v` and `kind` are unknown
/// fields to it, skipped).
pub(super) fn session_record(text: &str) -> json::Result<SessionRecord> {
    let mut r = Reader::new(text);
    let (mut info_v, mut send_key, mut recv_key, mut send_seq) = (None, None, None, None);
    let (mut recv_next, mut position, mut next_request_id, mut awaiting) = (None, None, None, None);
    let mut seen = 0;
    r.object(&mut |r, name| {
        match name {
            "info" => {
                once(&mut seen, 0)?;
                info_v = Some(info(r)?);
            }
            "sendKey" => {
                once(&mut seen, 1)?;
                send_key = Some(key(r)?);
            }
            "recvKey" => {
                once(&mut seen, 2)?;
                recv_key = Some(key(r)?);
            }
            "sendSeq" => {
                once(&mut seen, 3)?;
                send_seq = Some(r.u64()?);
            }
            "recvNext" => {
                once(&mut seen, 4)?;
                recv_next = Some(r.u64()?);
            }
            "position" => {
                once(&mut seen, 5)?;
                position = Some(r.optional(super::codec::position)?);
            }
            "nextRequestId" => {
                once(&mut seen, 6)?;
                next_request_id = Some(r.u64()?);
            }
            "awaitingAck" => {
                once(&mut seen, 7)?;
                awaiting = if r.null()? {
                    None
                } else {
                    Some(awaiting_ack(r)?)
                };
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    r.finish()?;
    Ok(SessionRecord {
        info: info_v.ok_or(Invalid)?,
        send_key: send_key.ok_or(Invalid)?,
        recv_key: recv_key.ok_or(Invalid)?,
        send_seq: send_seq.ok_or(Invalid)?,
        recv_next: recv_next.ok_or(Invalid)?,
        // serde reads an absent `Option` as `None`.
        position: position.flatten(),
        next_request_id: next_request_id.ok_or(Invalid)?,
        awaiting_ack: awaiting,
    })
}

/// Reads a pending record's fields (the derived `Deserialize`).
pub(super) fn pending_record(text: &str) -> json::Result<PendingRecord> {
    let mut r = Reader::new(text);
    let (mut request_v, mut secret, mut position, mut attempts) = (None, None, None, None);
    let (mut nonce_seed, mut otp_prompted) = (None, false);
    let mut seen = 0;
    r.object(&mut |r, name| {
        match name {
            "request" => {
                once(&mut seen, 0)?;
                request_v = Some(request(r)?);
            }
            "secret" => {
                once(&mut seen, 1)?;
                secret = Some(key(r)?);
            }
            "position" => {
                once(&mut seen, 2)?;
                position = Some(r.optional(super::codec::position)?);
            }
            "attemptsLeft" => {
                once(&mut seen, 3)?;
                attempts = Some(u8::try_from(r.u64()?).map_err(|_| Invalid)?);
            }
            "nonceSeed" => {
                once(&mut seen, 4)?;
                nonce_seed = Some(key(r)?);
            }
            "otpPrompted" => {
                once(&mut seen, 5)?;
                otp_prompted = r.bool()?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    r.finish()?;
    Ok(PendingRecord {
        request: request_v.ok_or(Invalid)?,
        secret: secret.ok_or(Invalid)?,
        position: position.flatten(),
        attempts_left: attempts.ok_or(Invalid)?,
        nonce_seed: nonce_seed.ok_or(Invalid)?,
        otp_prompted,
    })
}

impl Drop for SessionRecord {
    fn drop(&mut self) {
        self.send_key.zeroize();
        self.recv_key.zeroize();
    }
}

impl Drop for PendingRecord {
    fn drop(&mut self) {
        self.secret.zeroize();
        self.nonce_seed.zeroize();
    }
}

mod key_text {
    use super::{KEY_LEN, base64url};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(key: &[u8; KEY_LEN], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64url::encode(key))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; KEY_LEN], D::Error> {
        let text = String::deserialize(d)?;
        base64url::decode_array(&text).ok_or_else(|| D::Error::custom("key is not 32 bytes"))
    }
}
