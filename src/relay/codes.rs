//! Centrifugo error codes (replies to commands) and disconnect codes (WebSocket close codes),
//! with the meaning Centrifugo documents for them and the reconnect advice the official
//! clients derive from them.

/// An error returned in a reply to one command; the connection stays open.
///
/// Codes and messages are Centrifugo's built-in client errors (100–112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 100: something went wrong on the server; retrying may help.
    Internal,
    /// 101: the request is not authorized.
    Unauthorized,
    /// 102: the channel's namespace does not exist.
    UnknownChannel,
    /// 103: the channel exists but this access is not allowed (e.g. a malformed channel id).
    PermissionDenied,
    /// 104: the command names a method the server does not know.
    MethodNotFound,
    /// 105: the connection is already subscribed to this channel.
    AlreadySubscribed,
    /// 106: a limit was exceeded (e.g. channels per connection).
    LimitExceeded,
    /// 107: the request is malformed; retrying does not help.
    BadRequest,
    /// 108: the feature is not enabled on this server (presence, RPC, ...).
    NotAvailable,
    /// 109: the connection token expired.
    TokenExpired,
    /// 110: the connection expired.
    Expired,
    /// 111: rate limited; retrying later may help.
    TooManyRequests,
    /// 112: the stream no longer holds the requested range, or the epoch changed.
    UnrecoverablePosition,
}

impl ErrorCode {
    /// The numeric code on the wire.
    pub const fn code(self) -> u32 {
        match self {
            Self::Internal => 100,
            Self::Unauthorized => 101,
            Self::UnknownChannel => 102,
            Self::PermissionDenied => 103,
            Self::MethodNotFound => 104,
            Self::AlreadySubscribed => 105,
            Self::LimitExceeded => 106,
            Self::BadRequest => 107,
            Self::NotAvailable => 108,
            Self::TokenExpired => 109,
            Self::Expired => 110,
            Self::TooManyRequests => 111,
            Self::UnrecoverablePosition => 112,
        }
    }

    /// Centrifugo's message for the code.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Internal => "internal server error",
            Self::Unauthorized => "unauthorized",
            Self::UnknownChannel => "unknown channel",
            Self::PermissionDenied => "permission denied",
            Self::MethodNotFound => "method not found",
            Self::AlreadySubscribed => "already subscribed",
            Self::LimitExceeded => "limit exceeded",
            Self::BadRequest => "bad request",
            Self::NotAvailable => "not available",
            Self::TokenExpired => "token expired",
            Self::Expired => "expired",
            Self::TooManyRequests => "too many requests",
            Self::UnrecoverablePosition => "unrecoverable position",
        }
    }

    /// Whether Centrifugo marks the error temporary (the client may retry the command).
    pub const fn temporary(self) -> bool {
        matches!(self, Self::Internal | Self::TooManyRequests)
    }

    /// The code for a numeric value, if it is one of Centrifugo's built-in codes.
    pub const fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            100 => Self::Internal,
            101 => Self::Unauthorized,
            102 => Self::UnknownChannel,
            103 => Self::PermissionDenied,
            104 => Self::MethodNotFound,
            105 => Self::AlreadySubscribed,
            106 => Self::LimitExceeded,
            107 => Self::BadRequest,
            108 => Self::NotAvailable,
            109 => Self::TokenExpired,
            110 => Self::Expired,
            111 => Self::TooManyRequests,
            112 => Self::UnrecoverablePosition,
            _ => return None,
        })
    }
}

/// Why the server closed the connection: the WebSocket close code and reason.
///
/// Codes 3000–3499 ask the client to reconnect, 3500–3999 ask it not to (the rule the
/// official clients apply). [`DisconnectCode::MessageTooBig`] is the plain WebSocket code
/// 1009 that Centrifugo's WebSocket layer sends for an oversized frame; centrifuge-js maps
/// it to its terminal "message size limit exceeded" state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectCode {
    /// 1009: an incoming frame exceeded the size limit (terminal in centrifuge-js).
    MessageTooBig,
    /// 3000: closed without advice from the server.
    ConnectionClosed,
    /// 3001: the server is shutting down.
    Shutdown,
    /// 3004: internal server error.
    ServerError,
    /// 3008: the client does not read fast enough; its outbound queue overflowed.
    Slow,
    /// 3009: writing to the connection failed or timed out.
    WriteError,
    /// 3010: the server found a gap in a channel stream; reconnecting recovers it.
    InsufficientState,
    /// 3011: the server asks the client to reconnect.
    ForceReconnect,
    /// 3012: no pong arrived for a server ping in time.
    NoPong,
    /// 3013: too many commands.
    TooManyRequests,
    /// 3501: malformed frame or command, or a command before connect.
    BadRequest,
    /// 3502: no connect command arrived in time after dialing.
    Stale,
    /// 3503: the server asks the client not to reconnect.
    ForceNoReconnect,
    /// 3504: the server's connection limit is reached.
    ConnectionLimit,
    /// 3505: the connection's channel limit is reached.
    ChannelLimit,
    /// 3508: the command is not available on this server (e.g. `send`).
    NotAvailable,
}

impl DisconnectCode {
    /// The WebSocket close code.
    pub const fn code(self) -> u16 {
        match self {
            Self::MessageTooBig => 1009,
            Self::ConnectionClosed => 3000,
            Self::Shutdown => 3001,
            Self::ServerError => 3004,
            Self::Slow => 3008,
            Self::WriteError => 3009,
            Self::InsufficientState => 3010,
            Self::ForceReconnect => 3011,
            Self::NoPong => 3012,
            Self::TooManyRequests => 3013,
            Self::BadRequest => 3501,
            Self::Stale => 3502,
            Self::ForceNoReconnect => 3503,
            Self::ConnectionLimit => 3504,
            Self::ChannelLimit => 3505,
            Self::NotAvailable => 3508,
        }
    }

    /// Centrifugo's reason string, sent as the close reason.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::MessageTooBig => "message too big",
            Self::ConnectionClosed => "connection closed",
            Self::Shutdown => "shutdown",
            Self::ServerError => "internal server error",
            Self::Slow => "slow",
            Self::WriteError => "write error",
            Self::InsufficientState => "insufficient state",
            Self::ForceReconnect => "force reconnect",
            Self::NoPong => "no pong",
            Self::TooManyRequests => "too many requests",
            Self::BadRequest => "bad request",
            Self::Stale => "stale",
            Self::ForceNoReconnect => "force disconnect",
            Self::ConnectionLimit => "connection limit",
            Self::ChannelLimit => "channel limit",
            Self::NotAvailable => "not available",
        }
    }

    /// Whether the official clients reconnect after this close code.
    pub const fn reconnect(self) -> bool {
        close_code_reconnects(self.code())
    }

    /// The disconnect for a close code, if it is one of the codes above.
    pub const fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1009 => Self::MessageTooBig,
            3000 => Self::ConnectionClosed,
            3001 => Self::Shutdown,
            3004 => Self::ServerError,
            3008 => Self::Slow,
            3009 => Self::WriteError,
            3010 => Self::InsufficientState,
            3011 => Self::ForceReconnect,
            3012 => Self::NoPong,
            3013 => Self::TooManyRequests,
            3501 => Self::BadRequest,
            3502 => Self::Stale,
            3503 => Self::ForceNoReconnect,
            3504 => Self::ConnectionLimit,
            3505 => Self::ChannelLimit,
            3508 => Self::NotAvailable,
            _ => return None,
        })
    }
}

/// The reconnect rule of centrifuge-js for any close code: application codes 3500–3999 and
/// 4500–4999 are terminal, 1009 (message too big) is terminal, everything else reconnects.
pub const fn close_code_reconnects(code: u16) -> bool {
    !(matches!(code, 3500..=3999 | 4500..=4999) || code == 1009)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip_and_match_centrifugo() {
        for code in 100..=112 {
            let error = ErrorCode::from_code(code).expect("100..=112 are all defined");
            assert_eq!(error.code(), code);
        }
        assert_eq!(ErrorCode::from_code(99), None);
        assert_eq!(
            ErrorCode::UnrecoverablePosition.message(),
            "unrecoverable position"
        );
        assert!(ErrorCode::TooManyRequests.temporary());
        assert!(!ErrorCode::BadRequest.temporary());
    }

    #[test]
    fn disconnect_codes_carry_reconnect_advice() {
        assert!(DisconnectCode::Shutdown.reconnect());
        assert!(DisconnectCode::Slow.reconnect());
        assert!(DisconnectCode::NoPong.reconnect());
        assert!(!DisconnectCode::BadRequest.reconnect());
        assert!(!DisconnectCode::Stale.reconnect());
        assert!(!DisconnectCode::ConnectionLimit.reconnect());
        assert!(!DisconnectCode::MessageTooBig.reconnect());
        for code in [
            1009, 3000, 3001, 3004, 3008, 3012, 3501, 3502, 3504, 3505, 3508,
        ] {
            let disconnect = DisconnectCode::from_code(code).expect("listed codes are defined");
            assert_eq!(disconnect.code(), code);
        }
    }
}
