//! The protocol layer's error type. Codes are stable strings that reach JavaScript unchanged.

use crate::crypto::CryptoError;

/// Everything that can go wrong in the relay-flow protocol, grouped by cause.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // -- bad input: a session request, a stored record or a peer message we cannot accept
    /// The session request or URI is malformed; the text says which part.
    InvalidRequest(&'static str),
    /// The session request or record carries a protocol version this build does not speak.
    UnsupportedVersion(u64),
    /// The session request or URI exceeds its size limit.
    RequestTooLarge,
    /// A peer message is malformed; the text says which part.
    InvalidMessage(&'static str),
    /// Cryptographic failure (could not decrypt, or an unacceptable peer key).
    Crypto(CryptoError),
    /// A stored record is unreadable.
    RecordCorrupt,

    // -- the user and the OTP
    /// The typed code matched no offer; `attempts_left` more tries remain.
    OtpMismatch {
        /// Remaining attempts.
        attempts_left: u8,
    },
    /// The OTP window closed.
    OtpExpired,
    /// Three wrong codes: the handshake is over.
    OtpAttemptsExhausted,
    /// The code typed is not six digits.
    OtpMalformed,
    /// Untrusted mode: two different wallets answered one request (someone else saw the QR
    /// code or intercepted the link). The handshake ends without checking any code; pair
    /// again with a fresh request.
    HandshakeContested,

    // -- expiry and the peer
    /// The session request expired before a wallet answered.
    RequestExpired,
    /// The wallet did not receive the dApp's confirmation in time.
    HandshakeTimeout,
    /// A request got no response within its timeout.
    Timeout,
    /// The peer closed the session; no answer can come.
    PeerClosed,
    /// The session passed its expiry.
    SessionExpired,
    /// The user or the application cancelled.
    Cancelled,
    /// The peer answered a request with an error.
    Remote {
        /// The peer's error code (JSON-RPC style).
        code: i64,
        /// The peer's message.
        message: String,
    },
    /// Messages were lost in transit (the relay no longer had them).
    MessagesLost,

    // -- misuse of the API
    /// The call does not fit the current state; the text names the state.
    InvalidState(&'static str),
    /// The payload exceeds what one relay frame can carry.
    PayloadTooLarge {
        /// Encoded payload size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Too many requests are awaiting responses.
    TooManyPending,
    /// The request id is unknown or was already answered.
    UnknownRequest,
    /// The record that accounts for a frame could not be saved (storage full or disabled), so
    /// the frame was not sent.
    StorageFull,
    /// The session's granted scopes do not include this method.
    MethodNotGranted,
    /// No sealed request was found on the relay for a scanned QR code (it expired, or the
    /// relay lost it): the dApp shows a new one.
    RequestNotFound,
}

impl Error {
    /// The stable, machine-readable code (`docs/PROTOCOL.md` §8).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::RequestTooLarge => "request_too_large",
            Self::InvalidMessage(_) => "invalid_message",
            Self::Crypto(CryptoError::Decrypt) => "decrypt_failed",
            Self::Crypto(_) => "weak_key",
            Self::RecordCorrupt => "record_corrupt",
            Self::OtpMismatch { .. } => "otp_mismatch",
            Self::OtpExpired => "otp_expired",
            Self::OtpAttemptsExhausted => "otp_attempts_exhausted",
            Self::OtpMalformed => "otp_malformed",
            Self::HandshakeContested => "handshake_contested",
            Self::RequestExpired => "request_expired",
            Self::HandshakeTimeout => "handshake_timeout",
            Self::Timeout => "timeout",
            Self::PeerClosed => "peer_closed",
            Self::SessionExpired => "session_expired",
            Self::Cancelled => "cancelled",
            Self::Remote { .. } => "remote_error",
            Self::MessagesLost => "messages_lost",
            Self::InvalidState(_) => "invalid_state",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::TooManyPending => "too_many_pending",
            Self::UnknownRequest => "unknown_request",
            Self::StorageFull => "storage_full",
            Self::MethodNotGranted => "method_not_granted",
            Self::RequestNotFound => "request_not_found",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidRequest(what) => write!(f, "invalid session request: {what}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            Self::RequestTooLarge => f.write_str("session request too large"),
            Self::InvalidMessage(what) => write!(f, "invalid message: {what}"),
            Self::Crypto(e) => e.fmt(f),
            Self::RecordCorrupt => f.write_str("stored record is corrupt"),
            Self::OtpMismatch { attempts_left } => {
                write!(f, "wrong code, {attempts_left} attempts left")
            }
            Self::OtpExpired => f.write_str("the one-time code expired"),
            Self::OtpAttemptsExhausted => f.write_str("too many wrong codes"),
            Self::OtpMalformed => f.write_str("the code must be six digits"),
            Self::HandshakeContested => f.write_str(
                "two wallets answered this request (someone else may have seen the QR code): pair again with a new one",
            ),
            Self::RequestExpired => f.write_str("the session request expired"),
            Self::HandshakeTimeout => {
                f.write_str("the dApp did not confirm the connection in time")
            }
            Self::Timeout => f.write_str("request timed out"),
            Self::PeerClosed => f.write_str("the peer closed the session"),
            Self::SessionExpired => f.write_str("the session expired"),
            Self::Cancelled => f.write_str("cancelled"),
            Self::Remote { code, message } => write!(f, "peer error {code}: {message}"),
            Self::MessagesLost => f.write_str("messages were lost in transit"),
            Self::InvalidState(state) => write!(f, "not allowed in state {state}"),
            Self::PayloadTooLarge { size, max } => {
                write!(f, "payload of {size} bytes exceeds the limit of {max}")
            }
            Self::TooManyPending => f.write_str("too many requests awaiting a response"),
            Self::UnknownRequest => f.write_str("unknown or already answered request id"),
            Self::StorageFull => f.write_str(STORAGE_FULL),
            Self::MethodNotGranted => {
                f.write_str("the wallet did not grant this method to the session")
            }
            Self::RequestNotFound => {
                f.write_str("the session request was not found on the relay (it may have expired)")
            }
        }
    }
}

impl std::error::Error for Error {}

/// The message of [`Error::StorageFull`].
pub const STORAGE_FULL: &str =
    "the session could not be saved (storage full or disabled): nothing was sent";

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}
