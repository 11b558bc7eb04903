//! The sans-IO core of the direct flow: a dApp reaches a wallet daemon over a WebRTC data
//! channel, introduced by a signaling server. Wire-compatible with the Tari wallet-connector
//! protocol (current generation); specified in `docs/DIRECT.md`.
//!
//! * [`permission`]: what a dApp asks for and a daemon grants (`"Admin"`,
//!   `{"AccountBalance": "All"}`), and the check a daemon runs per method;
//! * [`jwt`]: the HS256 tokens of the signaling server and of the daemon;
//! * [`signaling`]: the signaling server's JSON-RPC 2.0 methods, envelopes and error codes;
//! * [`channel`]: the data-channel messages (`{token, id, jsonrpc, method, params}` →
//!   `{id, payload}`);
//! * [`pending`]: request ids and per-request deadlines on the dApp side;
//! * [`link`]: the `tari://<name>/<jwt>/<permissions>/<optional permissions>` link;
//! * [`schedule`]: when to poll the signaling server for the answer, and when to give up.
//!
//! Nothing here reads a clock, opens a socket or spawns a task: times are inputs in Unix
//! milliseconds (JWT `exp` in seconds, as JWTs have it). The browser driver (`web/direct.rs`),
//! the signaling server and the native daemon move the bytes.

pub mod channel;
mod error;
pub mod jwt;
pub mod link;
pub mod pending;
pub mod permission;
pub mod schedule;
pub mod signaling;

pub use error::Error;
pub use permission::{Permission, Permissions};
