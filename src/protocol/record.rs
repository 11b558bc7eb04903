//! Persisted records: established sessions and pending handshakes, versioned
//! (`docs/PROTOCOL.md` §10). Unreadable or expired records are reported so the caller can
//! delete them; they never bring the client down.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::info::SessionInfo;
use super::request::SessionRequest;

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

#[derive(Serialize)]
struct Envelope<T> {
    v: u64,
    #[serde(flatten)]
    record: T,
}

impl Record {
    /// Encodes with the format version.
    pub fn encode(&self) -> String {
        // Strings, integers and byte arrays encoded as text always serialize.
        serde_json::to_string(&Envelope {
            v: RECORD_VERSION,
            record: self,
        })
        .expect("record serializes")
    }

    /// Decodes and validates; `now` decides expiry.
    pub fn decode(text: &str, now: u64) -> Result<Self, RecordError> {
        if text.len() > MAX_RECORD_LEN {
            return Err(RecordError::Corrupt);
        }
        #[derive(Deserialize)]
        struct Head {
            v: Option<serde_json::Value>,
            kind: Option<String>,
        }
        let head: Head = serde_json::from_str(text).map_err(|_| RecordError::Corrupt)?;
        match head.v.as_ref().and_then(serde_json::Value::as_u64) {
            Some(RECORD_VERSION) => {}
            Some(other) => return Err(RecordError::Version(other)),
            None => return Err(RecordError::Corrupt),
        }
        // The record's struct ignores `v` and `kind` like any other unknown field.
        let record = match head.kind.as_deref() {
            Some("session") => serde_json::from_str(text).map(Record::Session),
            Some("pending") => serde_json::from_str(text).map(Record::Pending),
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
