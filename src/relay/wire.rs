//! JSON shapes of the Centrifugo client protocol (version 2), as the official clients send and
//! expect them.
//!
//! Field names follow Centrifugo's `client.proto`; empty and default fields are left out when
//! serializing, as Centrifugo's JSON encoder does. `data` fields are raw JSON kept verbatim, so
//! the relay never re-encodes the SDK's payloads.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::codes::ErrorCode;

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One command from a client: an `id` and exactly one method object.
///
/// A command with no method and no `id` (`{}`) is the client's pong to a server ping.
/// Methods the relay recognises but does not offer (presence, RPC, `send`, token refresh) are
/// kept as raw JSON so the server can answer them with "not available".
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Command {
    /// Request id, echoed in the reply; 0 only for pongs and `send`.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub id: u32,
    /// Authenticate the connection (always anonymous on the walletwire relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ConnectRequest>,
    /// Subscribe to a channel, optionally recovering missed publications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<SubscribeRequest>,
    /// Leave a channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<UnsubscribeRequest>,
    /// Publish to a channel (no subscription needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishRequest>,
    /// Read a channel's history or its current stream position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryRequest>,
    /// Explicit ping command; answered with an empty result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<Box<RawValue>>,
    /// Presence (not offered by the walletwire relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Box<RawValue>>,
    /// Presence stats (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_stats: Option<Box<RawValue>>,
    /// RPC (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<Box<RawValue>>,
    /// Asynchronous message to the server (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<Box<RawValue>>,
    /// Connection token refresh (not offered: connections are anonymous).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Box<RawValue>>,
    /// Subscription token refresh (not offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_refresh: Option<Box<RawValue>>,
}

impl Command {
    /// Whether this is a pong: no id and no method.
    pub fn is_pong(&self) -> bool {
        self.id == 0 && self.method_name().is_none()
    }

    /// The name of the method this command carries, if any (the first one found).
    pub fn method_name(&self) -> Option<&'static str> {
        [
            (self.connect.is_some(), "connect"),
            (self.subscribe.is_some(), "subscribe"),
            (self.unsubscribe.is_some(), "unsubscribe"),
            (self.publish.is_some(), "publish"),
            (self.history.is_some(), "history"),
            (self.ping.is_some(), "ping"),
            (self.presence.is_some(), "presence"),
            (self.presence_stats.is_some(), "presence_stats"),
            (self.rpc.is_some(), "rpc"),
            (self.send.is_some(), "send"),
            (self.refresh.is_some(), "refresh"),
            (self.sub_refresh.is_some(), "sub_refresh"),
        ]
        .into_iter()
        .find_map(|(present, name)| present.then_some(name))
    }
}

/// `connect` request. Tokens and custom data are accepted and ignored: the relay is anonymous.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ConnectRequest {
    /// Connection token (ignored).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// Custom connect data (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
    /// Client name, e.g. `js`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Client version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// `connect` result.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ConnectResult {
    /// Server-assigned client id.
    pub client: String,
    /// Server version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Server ping interval in seconds; the client expects a ping (`{}`) at least this often.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub ping: u32,
    /// Whether the client must answer each ping with a pong (`{}`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub pong: bool,
}

/// A position in a channel's publication stream.
///
/// `offset` is the offset of the last publication (0 for an empty stream); `epoch` names one
/// incarnation of the stream: when it changes, offsets from the old epoch mean nothing.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPosition {
    /// Offset of the last publication in the stream.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
    /// Stream incarnation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub epoch: String,
}

/// `subscribe` request.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SubscribeRequest {
    /// Channel name, `handshake:<uuid>` or `session:<uuid>` on the walletwire relay.
    #[serde(default)]
    pub channel: String,
    /// Ask to recover publications after `offset` in `epoch`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recover: bool,
    /// Epoch the client last saw.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub epoch: String,
    /// Offset of the last publication the client saw.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
    /// The client wants a positioned subscription (always granted).
    #[serde(default, skip_serializing_if = "is_false")]
    pub positioned: bool,
    /// The client wants a recoverable subscription (always granted).
    #[serde(default, skip_serializing_if = "is_false")]
    pub recoverable: bool,
    /// Subscription token (ignored).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
}

/// `subscribe` result, as the relay sends it ([`SubscribeResultOf`] with raw JSON data).
pub type SubscribeResult = SubscribeResultOf<Box<RawValue>>;

/// `subscribe` result, its publications' `data` held as `D` (see [`PublicationOf`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscribeResultOf<D> {
    /// The subscription can be recovered later from `epoch`/`offset`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recoverable: bool,
    /// Publications carry offsets and the server watches the stream for gaps.
    #[serde(default, skip_serializing_if = "is_false")]
    pub positioned: bool,
    /// Current stream epoch.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub epoch: String,
    /// Current stream top offset (when the reply was built).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
    /// The client asked for recovery.
    #[serde(default, skip_serializing_if = "is_false")]
    pub was_recovering: bool,
    /// Every missed publication is in `publications`: no gap.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recovered: bool,
    /// Missed publications in offset order (only when `recovered`).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<PublicationOf<D>>,
}

impl<D> Default for SubscribeResultOf<D> {
    fn default() -> Self {
        Self {
            recoverable: false,
            positioned: false,
            epoch: String::new(),
            offset: 0,
            was_recovering: false,
            recovered: false,
            publications: Vec::new(),
        }
    }
}

/// `unsubscribe` request.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct UnsubscribeRequest {
    /// Channel to leave.
    #[serde(default)]
    pub channel: String,
}

/// `unsubscribe` result (empty).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct UnsubscribeResult {}

/// `publish` request.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PublishRequest {
    /// Target channel.
    #[serde(default)]
    pub channel: String,
    /// Payload, any JSON value; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
}

/// `publish` result (empty).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct PublishResult {}

/// `history` request.
///
/// `limit: 0` returns no publications, only the stream top (a cheap barrier); a positive
/// limit caps the number returned; a negative limit means "as many as the history holds".
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct HistoryRequest {
    /// Channel to read.
    #[serde(default)]
    pub channel: String,
    /// Maximum number of publications.
    #[serde(default)]
    pub limit: i32,
    /// Only publications after this position (error 112 when it is not in the stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<StreamPosition>,
    /// Newest first.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
}

/// `history` result, as the relay sends it.
pub type HistoryResult = HistoryResultOf<Box<RawValue>>;

/// `history` result, its publications' `data` held as `D`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryResultOf<D> {
    /// Publications in the requested order.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<PublicationOf<D>>,
    /// Current stream epoch.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub epoch: String,
    /// Current stream top offset.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
}

impl<D> Default for HistoryResultOf<D> {
    fn default() -> Self {
        Self {
            publications: Vec::new(),
            epoch: String::new(),
            offset: 0,
        }
    }
}

/// A message published to a channel, as the relay handles it (`data` raw JSON).
pub type Publication = PublicationOf<Box<RawValue>>;

/// A message published to a channel, its `data` held as `D`: `Box<RawValue>` in the relay
/// (serde), `String` in the SDK's client (JSON text, read by `relay::codec`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicationOf<D> {
    /// The publisher's payload, verbatim.
    pub data: D,
    /// Position of the publication in its channel stream (first is 1).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
}

/// An error in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientError {
    /// Centrifugo error code (100–112 for built-in errors).
    pub code: u32,
    /// Human-readable message.
    pub message: String,
    /// The command may succeed if retried.
    #[serde(default, skip_serializing_if = "is_false")]
    pub temporary: bool,
}

impl From<ErrorCode> for ClientError {
    fn from(code: ErrorCode) -> Self {
        Self {
            code: code.code(),
            message: code.message().to_owned(),
            temporary: code.temporary(),
        }
    }
}

/// An asynchronous message from the server, as the relay sends it.
pub type Push = PushOf<Box<RawValue>>;

/// An asynchronous message from the server, publication `data` held as `D`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushOf<D> {
    /// Channel the push belongs to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// A publication in `channel`.
    #[serde(
        default = "Option::default",
        rename = "pub",
        skip_serializing_if = "Option::is_none"
    )]
    pub publication: Option<PublicationOf<D>>,
}

impl<D> Default for PushOf<D> {
    fn default() -> Self {
        Self {
            channel: String::new(),
            publication: None,
        }
    }
}

/// One frame element from the server, as the relay sends it.
pub type Reply = ReplyOf<Box<RawValue>>;

/// What the SDK's client reads: publication data as JSON text.
pub type ClientReply = ReplyOf<String>;

/// One frame element from the server: a reply to a command (`id` set), a push, or, when
/// everything is empty (`{}`), a server ping. Publication `data` is held as `D`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyOf<D> {
    /// Id of the command this answers; 0 for pushes and pings.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub id: u32,
    /// The command failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ClientError>,
    /// Asynchronous push.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub push: Option<PushOf<D>>,
    /// Result of `connect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ConnectResult>,
    /// Result of `subscribe`.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<SubscribeResultOf<D>>,
    /// Result of `unsubscribe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<UnsubscribeResult>,
    /// Result of `publish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishResult>,
    /// Result of `history`.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryResultOf<D>>,
}

impl<D> Default for ReplyOf<D> {
    fn default() -> Self {
        Self {
            id: 0,
            error: None,
            push: None,
            connect: None,
            subscribe: None,
            unsubscribe: None,
            publish: None,
            history: None,
        }
    }
}

impl<D> ReplyOf<D> {
    /// An error reply to command `id`.
    pub fn error(id: u32, code: ErrorCode) -> Self {
        Self {
            id,
            error: Some(code.into()),
            ..Self::default()
        }
    }

    /// Whether this is a server ping (`{}`).
    pub fn is_ping(&self) -> bool {
        self.id == 0
            && self.error.is_none()
            && self.push.is_none()
            && self.connect.is_none()
            && self.subscribe.is_none()
            && self.unsubscribe.is_none()
            && self.publish.is_none()
            && self.history.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pong_and_ping_are_empty_objects() {
        let pong: Command = serde_json::from_str("{}").expect("valid JSON");
        assert!(pong.is_pong());
        let ping = Reply::default();
        assert!(ping.is_ping());
        assert_eq!(serde_json::to_string(&ping).expect("serializable"), "{}");
    }

    #[test]
    fn publish_push_keeps_data_verbatim() {
        let data = RawValue::from_string(r#"{"a": [1, 2]}"#.to_owned()).expect("valid JSON");
        let reply = Reply {
            push: Some(Push {
                channel: "session:x".to_owned(),
                publication: Some(Publication { data, offset: 7 }),
            }),
            ..Reply::default()
        };
        assert_eq!(
            serde_json::to_string(&reply).expect("serializable"),
            r#"{"push":{"channel":"session:x","pub":{"data":{"a": [1, 2]},"offset":7}}}"#
        );
    }

    #[test]
    fn commands_parse_as_centrifuge_js_sends_them() {
        let line = r#"{"id":3,"subscribe":{"channel":"session:a","recover":true,"offset":5,"epoch":"xyz","flag":1}}"#;
        let command: Command = serde_json::from_str(line).expect("valid command");
        assert_eq!(command.id, 3);
        assert_eq!(command.method_name(), Some("subscribe"));
        let subscribe = command.subscribe.expect("subscribe present");
        assert!(subscribe.recover);
        assert_eq!((subscribe.offset, subscribe.epoch.as_str()), (5, "xyz"));

        let unknown: Command = serde_json::from_str(r#"{"id":4,"frobnicate":{}}"#).expect("JSON");
        assert_eq!(unknown.method_name(), None);
        assert!(!unknown.is_pong());
    }

    #[test]
    fn error_reply_shape() {
        let reply = Reply::error(9, ErrorCode::TooManyRequests);
        assert_eq!(
            serde_json::to_string(&reply).expect("serializable"),
            r#"{"id":9,"error":{"code":111,"message":"too many requests","temporary":true}}"#
        );
    }
}
