//! walletwire connects a dApp web page to a user's wallet over an end-to-end encrypted
//! channel.
//!
//! # The two flows
//!
//! * **Relay flow** ([`protocol`]): the dApp publishes a session request (QR code / deep
//!   link); the wallet answers with a sealed offer on the request's handshake channel of a
//!   Centrifugo-compatible relay; both derive per-direction keys (X25519, HKDF-SHA256) and
//!   exchange XChaCha20-Poly1305 frames on a session channel. Untrusted mode confirms the
//!   wallet with a six-digit code; trusted mode does not. Wire format: `docs/PROTOCOL.md`.
//! * **Direct flow** ([`direct`]): a WebRTC data channel to a wallet daemon, set up through a
//!   signaling server with JWT permissions; wire-compatible with the Tari wallet connector.
//!   See `docs/DIRECT.md`.
//!
//! # The run loop
//!
//! The core is sans-IO. A driver creates a [`protocol::DappConnection`] or
//! [`protocol::WalletConnection`], then loops:
//!
//! 1. feed inputs: `handle_subscribed`, `handle_publication`, `handle_synced`,
//!    `handle_timeout(now)`, user calls (`submit_otp`, `request`, `respond`, `close`);
//! 2. drain `poll_output()` in order: subscribe, publish, store, remove, events;
//! 3. sleep until `poll_timeout()` or the next input.
//!
//! Time and randomness are always inputs, so [`loopback`] can run two peers through an
//! in-memory relay deterministically.
//!
//! # Error policy
//!
//! Bad input from the network (junk, replays, forgeries) is dropped with a
//! [`protocol::Discard`] reason and never ends a session. Misuse of the API, expiry and peer
//! failures are [`protocol::Error`]s with stable string codes. Panics are reserved for broken
//! invariants; each `expect` says why it cannot fail.
#![forbid(unsafe_code)]

pub mod base64url;
pub mod crypto;
pub mod direct;
pub mod json;
pub mod loopback;
pub mod protocol;
pub mod qr;
pub mod relay;
pub mod sorted;
#[cfg(target_arch = "wasm32")]
pub mod web;
