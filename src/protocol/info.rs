//! What the application may know about a session: the lowest layer of the protocol modules,
//! which the record, the session and both handshakes build on
//! (record ← session ← connection ← {dapp, wallet}).

use serde::{Deserialize, Serialize};

use super::scope::Scopes;
use super::{Metadata, Mode, Role};

/// What the application may know about a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Session id (the UUID of its channel).
    pub id: String,
    /// `session:<uuid>`.
    pub channel: String,
    /// Our role.
    pub role: Role,
    /// Mode the session was made in.
    pub mode: Mode,
    /// The peer's metadata.
    pub peer: Metadata,
    /// Relay URL.
    pub relay: String,
    /// Unix ms when the session expires unless used.
    pub expires_at: u64,
    /// The scopes the wallet granted, with its CAIP-10 accounts, when the dApp asked for
    /// scopes: the dApp's requests are then limited to their methods. `None`: unscoped.
    #[serde(skip)]
    pub scopes: Option<Scopes>,
}
