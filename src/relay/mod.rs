//! Centrifugo client protocol (JSON encoding): the wire types shared by the relay server and
//! the SDK's relay driver.
//!
//! The relay speaks the bidirectional Centrifugo protocol (version 2) at
//! `/connection/websocket`: text frames carry one or more JSON objects separated by `\n`,
//! commands from the client carry an `id` and exactly one method object, replies echo the
//! `id`, and pushes (publications, server pings) have no `id`. `docs/RELAY.md` lists what the
//! walletwire relay supports and how it maps to a real Centrifugo configuration.
//!
//! This module only holds plain data and codes (serde and serde_json, nothing else), so it
//! compiles to wasm32 for the browser driver as well as natively for the server.

pub mod client;
pub mod codec;
pub mod codes;
#[cfg(any(feature = "dapp", feature = "wallet"))]
pub mod hub;
pub mod wire;

pub use codes::{DisconnectCode, ErrorCode};
pub use wire::{
    ClientError, ClientReply, Command, ConnectRequest, ConnectResult, HistoryRequest,
    HistoryResult, HistoryResultOf, Publication, PublicationOf, PublishRequest, PublishResult,
    Push, PushOf, Reply, ReplyOf, StreamPosition, SubscribeRequest, SubscribeResult,
    SubscribeResultOf, UnsubscribeRequest, UnsubscribeResult,
};
