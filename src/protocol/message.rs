//! Wire messages of the relay flow (`docs/PROTOCOL.md` §4-§6): the handshake offer on the
//! handshake channel, session frames on the session channel, and the payloads inside frames.

use crate::json::Json;
use serde::{Deserialize, Serialize};

use super::request::Metadata;
use super::{Role, StreamPosition};

/// Largest publication `data` the core parses; larger input is dropped unparsed.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// What the wallet publishes on the handshake channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferMessage {
    /// Always `"offer"`.
    pub t: String,
    /// The wallet's X25519 public key, base64url.
    pub pk: String,
    /// `nonce || ciphertext || tag` of the [`OfferBody`], base64url.
    #[serde(rename = "box")]
    pub sealed: String,
}

/// The sealed content of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferBody {
    /// `session:<uuid>` the wallet listens on.
    pub channel: String,
    /// What the dApp shows about the wallet.
    pub wallet: Metadata,
    /// Untrusted mode: the wallet's commitment to its nonce, base64url of 32 bytes
    /// ([`super::sas::commit`]); the nonce is revealed only after the dApp sent its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Untrusted mode: Unix ms after which the wallet stops waiting for the ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_deadline: Option<u64>,
    /// Relay position of the session channel when the wallet subscribed: the dApp recovers
    /// from here so it sees every frame the wallet sent before the dApp joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<StreamPosition>,
    /// Protocol v3, when the request named scopes: what the wallet grants, with accounts.
    #[serde(skip)]
    pub scopes: Option<super::scope::Scopes>,
}

/// One encrypted frame on a session channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Sender role.
    pub from: Role,
    /// Per-direction sequence number, from 0.
    pub seq: u64,
    /// `nonce || ciphertext || tag`, base64url.
    #[serde(rename = "box")]
    pub sealed: String,
}

/// A JSON-RPC style error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcError {
    /// Error code (JSON-RPC: -32601 method not found, -32602 invalid params, 4001 user
    /// rejected, ...).
    pub code: i64,
    /// Human-readable message.
    pub message: String,
}

/// The plaintext inside a session frame.
///
/// Serialized as an object tagged by `t` (`{"t":"req","id":1,...}`). Deserialized by hand
/// through one flat struct holding every variant's fields (`PayloadFields`): serde's
/// derive for an internally tagged enum buffers the whole object into its generic `Content`
/// tree first, which is code the wasm bundle would carry for this one type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Payload {
    /// Untrusted mode: the user typed the matching code and the dApp accepted the wallet's
    /// offer (always dApp seq 1).
    Ack,
    /// Untrusted mode: the dApp's nonce, sent once the wallet's offer committed to its own
    /// (always dApp seq 0).
    Nonce {
        /// 32 bytes, base64url.
        nonce: String,
    },
    /// Untrusted mode: the wallet opens its commitment (always wallet seq 0).
    Reveal {
        /// The committed 32 bytes, base64url.
        nonce: String,
    },
    /// Liveness probe; the peer answers with `pong` carrying the same `n`.
    Ping {
        /// Probe number.
        n: u64,
    },
    /// Answer to `ping`.
    Pong {
        /// The probe number being answered.
        n: u64,
    },
    /// The sender ended the session.
    Close {
        /// Why, for display.
        #[serde(default)]
        reason: String,
    },
    /// A request expecting a response with the same id.
    Req {
        /// Sender-chosen id, increasing.
        id: u64,
        /// Method name.
        method: String,
        /// Parameters.
        #[serde(default)]
        params: Json,
    },
    /// Response to a request.
    Res {
        /// The request's id.
        id: u64,
        /// Result on success.
        #[serde(default, skip_serializing_if = "Json::is_null")]
        result: Json,
        /// Error on failure; when present, `result` is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<RpcError>,
    },
    /// A notification, no response expected.
    Note {
        /// Event name.
        method: String,
        /// Parameters.
        #[serde(default)]
        params: Json,
    },
}

/// Every field any [`Payload`] variant has; unknown fields are ignored, as by the derive.
#[derive(Deserialize)]
struct PayloadFields {
    t: String,
    n: Option<u64>,
    nonce: Option<String>,
    reason: Option<String>,
    id: Option<u64>,
    method: Option<String>,
    #[serde(default)]
    params: Json,
    #[serde(default)]
    result: Json,
    error: Option<RpcError>,
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = PayloadFields::deserialize(deserializer)?;
        let need = |field: &'static str| D::Error::missing_field(field);
        Ok(match f.t.as_str() {
            "ack" => Payload::Ack,
            "nonce" => Payload::Nonce {
                nonce: f.nonce.ok_or_else(|| need("nonce"))?,
            },
            "reveal" => Payload::Reveal {
                nonce: f.nonce.ok_or_else(|| need("nonce"))?,
            },
            "ping" => Payload::Ping {
                n: f.n.ok_or_else(|| need("n"))?,
            },
            "pong" => Payload::Pong {
                n: f.n.ok_or_else(|| need("n"))?,
            },
            "close" => Payload::Close {
                reason: f.reason.unwrap_or_default(),
            },
            "req" => Payload::Req {
                id: f.id.ok_or_else(|| need("id"))?,
                method: f.method.ok_or_else(|| need("method"))?,
                params: f.params,
            },
            "res" => Payload::Res {
                id: f.id.ok_or_else(|| need("id"))?,
                result: f.result,
                error: f.error,
            },
            "note" => Payload::Note {
                method: f.method.ok_or_else(|| need("method"))?,
                params: f.params,
            },
            _ => return Err(D::Error::custom("unknown payload type")),
        })
    }
}

/// Associated data of the offer box: label, NUL, request id.
pub fn offer_aad(request_id: &str) -> Vec<u8> {
    let mut aad = b"walletwire v1 offer\0".to_vec();
    aad.extend_from_slice(request_id.as_bytes());
    aad
}

/// Associated data of the sealed request box (protocol v3): label, NUL, request id.
pub fn request_aad(request_id: &str) -> Vec<u8> {
    let mut aad = b"walletwire v3 request\0".to_vec();
    aad.extend_from_slice(request_id.as_bytes());
    aad
}

/// Associated data of a frame box: label, NUL, sender byte (`d`/`w`), seq as 8 bytes
/// big-endian, channel name. Binds each frame to its channel, direction and position.
pub fn frame_aad(channel: &str, from: Role, seq: u64) -> Vec<u8> {
    let mut aad = b"walletwire v1 frame\0".to_vec();
    aad.push(match from {
        Role::Dapp => b'd',
        Role::Wallet => b'w',
    });
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(channel.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::{Payload, RpcError};
    use serde_json::json;

    /// The hand-written decoder reads exactly what the derived encoder writes, and the
    /// encoding is the one PROTOCOL.md §7 gives (tag `t` first, field order as declared).
    #[test]
    fn payloads_round_trip_as_documented() {
        let cases = [
            (Payload::Ack, r#"{"t":"ack"}"#),
            (
                Payload::Nonce {
                    nonce: "AAEC".into(),
                },
                r#"{"t":"nonce","nonce":"AAEC"}"#,
            ),
            (
                Payload::Reveal {
                    nonce: "AAEC".into(),
                },
                r#"{"t":"reveal","nonce":"AAEC"}"#,
            ),
            (Payload::Ping { n: 7 }, r#"{"t":"ping","n":7}"#),
            (Payload::Pong { n: 7 }, r#"{"t":"pong","n":7}"#),
            (
                Payload::Close {
                    reason: "bye".into(),
                },
                r#"{"t":"close","reason":"bye"}"#,
            ),
            (
                Payload::Req {
                    id: 1,
                    method: "m".into(),
                    params: json!({"a": [1, 2.5]}).into(),
                },
                r#"{"t":"req","id":1,"method":"m","params":{"a":[1,2.5]}}"#,
            ),
            (
                Payload::Res {
                    id: 1,
                    result: json!("ok").into(),
                    error: None,
                },
                r#"{"t":"res","id":1,"result":"ok"}"#,
            ),
            (
                Payload::Res {
                    id: 2,
                    result: crate::json::Json::null(),
                    error: Some(RpcError {
                        code: 4001,
                        message: "no".into(),
                    }),
                },
                r#"{"t":"res","id":2,"error":{"code":4001,"message":"no"}}"#,
            ),
            (
                Payload::Note {
                    method: "n".into(),
                    params: json!(null).into(),
                },
                r#"{"t":"note","method":"n","params":null}"#,
            ),
        ];
        for (payload, text) in cases {
            assert_eq!(serde_json::to_string(&payload).unwrap(), text);
            assert_eq!(serde_json::from_str::<Payload>(text).unwrap(), payload);
        }
    }

    #[test]
    fn payload_defaults_unknown_fields_and_refusals() {
        let parse = serde_json::from_str::<Payload>;
        // Optional fields default, unknown fields are ignored (PROTOCOL.md §2).
        assert_eq!(
            parse(r#"{"method":"m","t":"req","id":3,"extra":{}}"#).unwrap(),
            Payload::Req {
                id: 3,
                method: "m".into(),
                params: crate::json::Json::null()
            }
        );
        assert_eq!(
            parse(r#"{"t":"close"}"#).unwrap(),
            Payload::Close {
                reason: String::new()
            }
        );
        // A required field missing, an unknown type, no type, a wrong type: refused.
        for bad in [
            r#"{"t":"req","method":"m"}"#,
            r#"{"t":"ping"}"#,
            r#"{"t":"nonce"}"#,
            r#"{"t":"reveal","nonce":7}"#,
            r#"{"t":"note"}"#,
            r#"{"t":"frobnicate"}"#,
            r#"{"id":1}"#,
            r#"{"t":"res","id":"1"}"#,
            r#"{"t":"req","id":1,"method":"m","t":"res"}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
