//! Channel names the relay accepts and the history policy of each namespace.
//!
//! Only `handshake:<uuid>` and `session:<uuid>` exist, with a lowercase hyphenated UUID. As in
//! Centrifugo, a namespace that is not configured is "unknown channel" (102) and a name that
//! fails the namespace's pattern is "permission denied" (103).

use std::time::Duration;

use walletwire::relay::ErrorCode;

use super::options::RelayOptions;

/// A channel namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Pairing: short-lived, small history.
    Handshake,
    /// An established session: longer history.
    Session,
}

/// History limits of one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPolicy {
    /// Publications kept (the oldest are dropped first).
    pub size: usize,
    /// History lifetime after the last publication.
    pub ttl: Duration,
}

/// History policy of both namespaces.
#[derive(Debug, Clone, Copy)]
pub struct ChannelPolicies {
    handshake: HistoryPolicy,
    session: HistoryPolicy,
}

impl ChannelPolicies {
    /// Policies from the command line.
    pub fn from_options(options: &RelayOptions) -> Self {
        Self {
            handshake: HistoryPolicy {
                size: options.handshake_history_size.max(1),
                ttl: options.handshake_history_ttl,
            },
            session: HistoryPolicy {
                size: options.session_history_size.max(1),
                ttl: options.session_history_ttl,
            },
        }
    }

    /// The policy of a namespace.
    pub fn of(&self, namespace: Namespace) -> HistoryPolicy {
        match namespace {
            Namespace::Handshake => self.handshake,
            Namespace::Session => self.session,
        }
    }
}

/// Checks a channel name and returns its namespace, or the Centrifugo error for it.
pub fn parse(channel: &str) -> Result<Namespace, ErrorCode> {
    let (namespace, id) = channel.split_once(':').ok_or(ErrorCode::UnknownChannel)?;
    let namespace = match namespace {
        "handshake" => Namespace::Handshake,
        "session" => Namespace::Session,
        _ => return Err(ErrorCode::UnknownChannel),
    };
    if is_lowercase_uuid(id) {
        Ok(namespace)
    } else {
        Err(ErrorCode::PermissionDenied)
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` with lowercase hex digits.
fn is_lowercase_uuid(text: &str) -> bool {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| {
            if HYPHENS.contains(&index) {
                byte == b'-'
            } else {
                byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f8e4c7a-3b2d-4e1f-9a6b-5c4d3e2f1a0b";

    #[test]
    fn accepts_both_namespaces_with_lowercase_uuid() {
        assert_eq!(parse(&format!("handshake:{ID}")), Ok(Namespace::Handshake));
        assert_eq!(parse(&format!("session:{ID}")), Ok(Namespace::Session));
    }

    #[test]
    fn unknown_namespaces_are_unknown_channels() {
        assert_eq!(parse("news"), Err(ErrorCode::UnknownChannel));
        assert_eq!(parse(&format!("chat:{ID}")), Err(ErrorCode::UnknownChannel));
        assert_eq!(parse(""), Err(ErrorCode::UnknownChannel));
    }

    #[test]
    fn malformed_ids_are_denied() {
        assert_eq!(
            parse(&format!("session:{}", ID.to_uppercase())),
            Err(ErrorCode::PermissionDenied)
        );
        assert_eq!(parse("session:"), Err(ErrorCode::PermissionDenied));
        assert_eq!(
            parse(&format!("session:{ID}x")),
            Err(ErrorCode::PermissionDenied)
        );
        assert_eq!(
            parse(&format!("session:{}", ID.replace('-', "_"))),
            Err(ErrorCode::PermissionDenied)
        );
    }
}
