//! Wire messages of the relay flow (`docs/PROTOCOL.md` §4-§6): the handshake offer on the
//! handshake channel, session frames on the session channel, and the payloads inside frames.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::request::Metadata;
use super::{Role, StreamPosition};

/// Largest publication `data` the core parses; larger input is dropped unparsed.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// What the wallet publishes on the handshake channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferMessage {
    /// Always `"offer"`.
    pub t: String,
    /// The wallet's X25519 public key, base64url.
    pub pk: String,
    /// `nonce || ciphertext || tag` of the [`OfferBody`], base64url.
    #[serde(rename = "box")]
    pub sealed: String,
}

/// The sealed content of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferBody {
    /// `session:<uuid>` the wallet listens on.
    pub channel: String,
    /// What the dApp shows about the wallet.
    pub wallet: Metadata,
    /// Untrusted mode: the six digits the wallet displays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Untrusted mode: Unix ms after which the wallet stops waiting for the ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_deadline: Option<u64>,
    /// Relay position of the session channel when the wallet subscribed: the dApp recovers
    /// from here so it sees every frame the wallet sent before the dApp joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<StreamPosition>,
}

/// One encrypted frame on a session channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Sender role.
    pub from: Role,
    /// Per-direction sequence number, from 0.
    pub seq: u64,
    /// `nonce || ciphertext || tag`, base64url.
    #[serde(rename = "box")]
    pub sealed: String,
}

/// A JSON-RPC style error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcError {
    /// Error code (JSON-RPC: -32601 method not found, -32602 invalid params, 4001 user
    /// rejected, ...).
    pub code: i64,
    /// Human-readable message.
    pub message: String,
}

/// The plaintext inside a session frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Payload {
    /// Untrusted mode: the dApp accepted the wallet's offer (always dApp seq 0).
    Ack,
    /// Liveness probe; the peer answers with `pong` carrying the same `n`.
    Ping {
        /// Probe number.
        n: u64,
    },
    /// Answer to `ping`.
    Pong {
        /// The probe number being answered.
        n: u64,
    },
    /// The sender ended the session.
    Close {
        /// Why, for display.
        #[serde(default)]
        reason: String,
    },
    /// A request expecting a response with the same id.
    Req {
        /// Sender-chosen id, increasing.
        id: u64,
        /// Method name.
        method: String,
        /// Parameters.
        #[serde(default)]
        params: Value,
    },
    /// Response to a request.
    Res {
        /// The request's id.
        id: u64,
        /// Result on success.
        #[serde(default, skip_serializing_if = "Value::is_null")]
        result: Value,
        /// Error on failure; when present, `result` is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<RpcError>,
    },
    /// A notification, no response expected.
    Note {
        /// Event name.
        method: String,
        /// Parameters.
        #[serde(default)]
        params: Value,
    },
}

/// Associated data of the offer box: label, NUL, request id.
pub fn offer_aad(request_id: &str) -> Vec<u8> {
    let mut aad = b"walletwire v1 offer\0".to_vec();
    aad.extend_from_slice(request_id.as_bytes());
    aad
}

/// Associated data of a frame box: label, NUL, sender byte (`d`/`w`), seq as 8 bytes
/// big-endian, channel name. Binds each frame to its channel, direction and position.
pub fn frame_aad(channel: &str, from: Role, seq: u64) -> Vec<u8> {
    let mut aad = b"walletwire v1 frame\0".to_vec();
    aad.push(match from {
        Role::Dapp => b'd',
        Role::Wallet => b'w',
    });
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(channel.as_bytes());
    aad
}
