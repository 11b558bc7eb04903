//! The sans-IO core of the relay flow.
//!
//! A [`DappConnection`] or [`WalletConnection`] is fed inputs (publications received from the
//! relay, subscription confirmations, the current time, user actions) and queues
//! [`Output`]s (what to subscribe to, what to publish on which channel, what to store, which
//! [`Event`]s to emit) plus a wake-up time ([`DappConnection::poll_timeout`]). It never reads
//! a clock, opens a socket or spawns a task: the browser driver (`web/`) and the native
//! wallet pump bytes and timers, and tests drive two peers through an in-memory relay with
//! simulated time. The wire format is specified in `docs/PROTOCOL.md`.

mod channel;
mod codec;
mod connection;
mod dapp;
mod error;
mod info;
mod message;
mod otp;
mod record;
mod request;
mod rpc;
pub mod sas;
mod scope;
mod session;
pub use session::METHOD_NOT_GRANTED_CODE;
mod wallet;

use crate::json::Json;
use serde::{Deserialize, Serialize};

pub use channel::{HANDSHAKE_PREFIX, SESSION_PREFIX, is_channel, is_uuid, random_uuid};
pub use connection::{Connection, Handshake};
pub use dapp::{DappConnection, DappHandshake, DappOptions, SYNC_TIMEOUT_MS};
pub use error::{Error, STORAGE_FULL};
pub use info::SessionInfo;
pub use message::{
    Frame, MAX_MESSAGE_LEN, OfferBody, OfferMessage, Payload, RpcError, frame_aad, offer_aad,
    request_aad,
};
pub use otp::{OTP_ATTEMPTS, OTP_DIGITS, Otp};
pub use record::{
    AwaitingAck, LATE_OFFER_GRACE_MS, PendingRecord, Record, RecordError, STORE_PREFIX,
    SessionRecord,
};
pub use request::{
    Invitation, MAX_URI_LEN, Metadata, Mode, PROTOCOL_VERSION, SessionRequest, URI_PREFIX,
};
pub use rpc::Correlation;
pub use scope::{Scope, Scopes, scopes_from_json, scopes_to_json};
pub use wallet::{READ_TIMEOUT_MS, WalletConnection, WalletHandshake, WalletOptions};

/// Which end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The web page that asked for a wallet.
    Dapp,
    /// The wallet that answered.
    Wallet,
}

impl Role {
    /// The other end.
    pub fn peer(self) -> Self {
        match self {
            Self::Dapp => Self::Wallet,
            Self::Wallet => Self::Dapp,
        }
    }
}

/// A position in a relay channel's stream (Centrifugo `offset` + `epoch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPosition {
    /// Offset of the last publication seen (0: none yet).
    pub offset: u64,
    /// Identifies the stream instance; a different epoch means history was lost.
    pub epoch: String,
}

/// Coarse connection state, reported through [`Event::State`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Setting up: subscribing, waiting for the wallet's offer or for the dApp's ack.
    Connecting,
    /// The dApp holds at least one offer and waits for the user to type the code.
    AwaitingOtp,
    /// Session established.
    Connected,
    /// Over; the connection accepts no more input.
    Disconnected,
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// This side called `close()`.
    Local,
    /// The peer sent `close`.
    Peer {
        /// The peer's stated reason.
        reason: String,
    },
    /// The handshake or the session failed or expired.
    Failed(Error),
}

/// Something the application should learn about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// dApp: show this request as a QR code / deep link.
    SessionRequest(Box<SessionRequest>),
    /// Wallet: the sealed request a QR code pointed at was read: what the dApp claims to be
    /// and the scopes it asks for. Unless the wallet granted up front, it answers with
    /// [`WalletConnection::approve`] or [`WalletConnection::reject`].
    SessionProposal(Box<SessionRequest>),
    /// dApp: ask the user for the code shown on the wallet (raised once per handshake).
    OtpRequired {
        /// Unix ms when the code stops being accepted.
        deadline: u64,
        /// Attempts left.
        attempts_left: u8,
    },
    /// Wallet: show this code to the user.
    DisplayOtp {
        /// Six digits.
        otp: String,
        /// Unix ms when it stops being accepted.
        deadline: u64,
    },
    /// The session is established.
    Connected(SessionInfo),
    /// The peer sent a request; answer with `respond`.
    Request {
        /// Request id (the peer's).
        id: u64,
        /// Method name.
        method: String,
        /// Parameters.
        params: Json,
    },
    /// The peer sent a notification.
    Notification {
        /// Event name.
        method: String,
        /// Parameters.
        params: Json,
    },
    /// One of our requests settled: a result, the peer's error, a timeout, or `PeerClosed`.
    Response {
        /// Our request id.
        id: u64,
        /// The outcome.
        result: Result<Json, Error>,
    },
    /// Answer to our ping.
    Pong {
        /// The ping's number.
        n: u64,
    },
    /// Frames were lost: `count` sequence numbers were skipped, or the relay could not
    /// recover the channel (`count: None`).
    MessagesLost {
        /// How many frames are missing, when known.
        count: Option<u64>,
    },
    /// The coarse state changed.
    State(State),
    /// The connection ended.
    Disconnected(Disconnect),
}

/// What the driver must do. Apply outputs in order: a `Store` precedes the `Publish` that
/// depends on it, so a crash between the two never reuses a sequence number.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Subscribe, recovering from `since` when given, then report with `handle_subscribed`. A
    /// `since` with an empty epoch asks for every publication the relay retains first.
    Subscribe {
        /// Channel name.
        channel: String,
        /// Position to recover from.
        since: Option<StreamPosition>,
    },
    /// Stop listening on a channel.
    Unsubscribe {
        /// Channel name.
        channel: String,
    },
    /// Publish `data` (a JSON object) on `channel`; retry until the relay acknowledges.
    Publish {
        /// Channel name.
        channel: String,
        /// JSON text.
        data: String,
    },
    /// Make sure every publication the relay holds for `channel` has been fed in (e.g. a
    /// `history` call since the last position), then call `handle_synced`. Used before
    /// declaring expiry, so a page that was frozen still sees an offer published meanwhile.
    Sync {
        /// Channel name.
        channel: String,
    },
    /// Persist `record` under `key` (replacing any previous value).
    Store {
        /// Storage key, starting with [`STORE_PREFIX`].
        key: String,
        /// Encoded record.
        record: String,
    },
    /// Delete the record under `key`.
    Remove {
        /// Storage key.
        key: String,
    },
    /// Emit an event to the application.
    Event(Event),
}

/// Why an input publication was ignored. Ignoring is the protocol's answer to junk, replays
/// and forgeries (`docs/PROTOCOL.md` §7); drivers may log the reason, never surface it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Discard {
    /// Not a channel of this connection.
    UnknownChannel,
    /// Too large to parse.
    TooLarge,
    /// Not the expected JSON shape.
    Malformed,
    /// Our own publication echoed back by the relay.
    Own,
    /// Did not authenticate under the expected key, channel, direction and sequence.
    Decrypt,
    /// Sequence number already delivered (duplicate or replay).
    Replay,
    /// Valid, but the connection is in a state that has no use for it.
    Unexpected,
}

/// Timing and size settings shared by both sides. Defaults are in `docs/PROTOCOL.md` §9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded payload (JSON) one frame may carry. The default keeps every frame
    /// under the 64 KiB client message limit of a default Centrifugo; raise it only together
    /// with the relay's frame limit (`walletwire-server --max-frame-size`).
    pub max_payload: usize,
    /// Requests awaiting a response, per session.
    pub max_pending_requests: usize,
    /// Session lifetime after the last use.
    pub session_ttl_ms: u64,
    /// Default timeout of `request()`.
    pub request_timeout_ms: u64,
}

impl Limits {
    /// Largest session-channel publication `data` accepted from the peer: a frame carrying
    /// `max_payload` bytes (base64url of nonce, ciphertext and tag, plus the JSON envelope),
    /// and never less than [`MAX_MESSAGE_LEN`]. Larger input is dropped unparsed.
    pub fn max_frame_len(&self) -> usize {
        let sealed = self.max_payload.saturating_add(24 + 16);
        let encoded = sealed.div_ceil(3).saturating_mul(4);
        encoded.saturating_add(256).max(MAX_MESSAGE_LEN)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 48_000,
            max_pending_requests: 1024,
            session_ttl_ms: 7 * 24 * 3600 * 1000,
            request_timeout_ms: 60_000,
        }
    }
}

/// The store key of a session record. The role is part of the key because a dApp page and
/// a wallet page of the same origin (or one test page) may hold both ends of one session.
pub fn session_key(role: Role, session_id: &str) -> String {
    let role = match role {
        Role::Dapp => "dapp",
        Role::Wallet => "wallet",
    };
    format!("{STORE_PREFIX}{role}:session:{session_id}")
}

/// The store key of a pending dApp handshake.
pub fn pending_key(request_id: &str) -> String {
    format!("{STORE_PREFIX}dapp:pending:{request_id}")
}
