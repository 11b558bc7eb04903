//! The direct flow's error, with stable string codes shared by the SDK's JS errors.

/// Everything that can go wrong in the direct flow's core.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A permission list that is not a JSON array of names or single-key objects.
    InvalidPermissions(&'static str),
    /// A `tari://` link that does not parse.
    InvalidLink(&'static str),
    /// A JWT that is malformed, forged or for another algorithm.
    InvalidToken,
    /// A JWT past its `exp`.
    TokenExpired,
    /// A message from the peer or the signaling server that is not what the protocol says.
    InvalidMessage(&'static str),
    /// The signaling server answered with a JSON-RPC error.
    Signaling {
        /// JSON-RPC error code (see [`crate::direct::signaling::codes`]).
        code: i64,
        /// Its message.
        message: String,
    },
    /// The daemon answered a data-channel request with `{error: ...}`.
    Remote {
        /// The daemon's error text.
        message: String,
    },
    /// A request or the whole connection attempt ran out of time.
    Timeout,
    /// Too many requests awaiting answers.
    TooManyPending,
    /// A message larger than the limit.
    PayloadTooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
}

impl Error {
    /// The stable code (`error.code` in JavaScript).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidPermissions(_) => "invalid_permissions",
            Self::InvalidLink(_) => "invalid_link",
            Self::InvalidToken => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::InvalidMessage(_) => "invalid_message",
            Self::Signaling { .. } => "signaling_error",
            Self::Remote { .. } => "remote_error",
            Self::Timeout => "timeout",
            Self::TooManyPending => "too_many_pending",
            Self::PayloadTooLarge { .. } => "payload_too_large",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidPermissions(why) => write!(f, "invalid permissions: {why}"),
            Self::InvalidLink(why) => write!(f, "invalid link: {why}"),
            Self::InvalidToken => f.write_str("invalid token"),
            Self::TokenExpired => f.write_str("token expired"),
            Self::InvalidMessage(why) => write!(f, "invalid message: {why}"),
            Self::Signaling { code, message } => {
                write!(f, "signaling server error {code}: {message}")
            }
            Self::Remote { message } => write!(f, "wallet daemon error: {message}"),
            Self::Timeout => f.write_str("timed out"),
            Self::TooManyPending => f.write_str("too many pending requests"),
            Self::PayloadTooLarge { size, max } => {
                write!(f, "payload of {size} bytes exceeds the limit of {max}")
            }
        }
    }
}

impl std::error::Error for Error {}
