//! Data-channel messages between the dApp and the daemon (label [`LABEL`]), one JSON text
//! per message.
//!
//! * dApp → daemon: `{token, id, jsonrpc: "2.0", method, params}`. The first call after the
//!   channel opens is [`GET_TOKEN`] with id 0 and the signaling JWT as `token`; its payload is
//!   the wallet's JWT, which every later call carries.
//! * daemon → dApp: `{id, payload}`; a failure is `{id, payload: {error: "..."}}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Error;

/// The data channel's label.
pub const LABEL: &str = "tari-data";
/// The first call: trades the signaling JWT for the wallet's JWT.
pub const GET_TOKEN: &str = "get.token";
/// Largest message either side sends or accepts (well under SCTP's practical 256 KiB).
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// A call from the dApp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRequest {
    /// The signaling JWT for `get.token`, the wallet's JWT afterwards.
    pub token: String,
    /// Increasing per call, starting at 0 with `get.token`.
    pub id: u64,
    /// `"2.0"`.
    #[serde(default = "jsonrpc")]
    pub jsonrpc: String,
    /// The method.
    pub method: String,
    /// Its params.
    #[serde(default)]
    pub params: Value,
}

fn jsonrpc() -> String {
    "2.0".into()
}

/// An answer from the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelResponse {
    /// The call's id.
    pub id: u64,
    /// The result, or `{error: "..."}`.
    pub payload: Value,
}

impl ChannelRequest {
    /// Encodes a call, refusing one over [`MAX_MESSAGE_LEN`].
    pub fn encode(&self) -> Result<String, Error> {
        // Strings, integers and JSON values always serialize.
        let text = serde_json::to_string(self).expect("request serializes");
        check_len(&text)?;
        Ok(text)
    }

    /// Reads a call (daemon side).
    pub fn decode(text: &str) -> Result<Self, Error> {
        check_len(text)?;
        serde_json::from_str(text).map_err(|_| Error::InvalidMessage("not a data-channel request"))
    }
}

impl ChannelResponse {
    /// A success.
    pub fn ok(id: u64, payload: Value) -> Self {
        Self { id, payload }
    }

    /// A failure: `{id, payload: {error}}`.
    pub fn error(id: u64, message: &str) -> Self {
        Self {
            id,
            payload: serde_json::json!({ "error": message }),
        }
    }

    /// Encodes an answer (daemon side); an answer too large becomes an error answer.
    pub fn encode(&self) -> String {
        // Integers and JSON values always serialize.
        let text = serde_json::to_string(self).expect("response serializes");
        if text.len() > MAX_MESSAGE_LEN {
            return Self::error(self.id, "response too large").encode();
        }
        text
    }

    /// Reads an answer (dApp side): the id and the payload or the daemon's error.
    pub fn decode(text: &str) -> Result<(u64, Result<Value, Error>), Error> {
        check_len(text)?;
        let response: Self = serde_json::from_str(text)
            .map_err(|_| Error::InvalidMessage("not a data-channel response"))?;
        let outcome = match response.payload.get("error") {
            Some(error) if response.payload.as_object().is_some_and(|o| o.len() == 1) => {
                Err(Error::Remote {
                    message: match error {
                        Value::String(s) => s.chars().take(512).collect(),
                        other => other.to_string().chars().take(512).collect(),
                    },
                })
            }
            _ => Ok(response.payload),
        };
        Ok((response.id, outcome))
    }
}

fn check_len(text: &str) -> Result<(), Error> {
    if text.len() > MAX_MESSAGE_LEN {
        return Err(Error::PayloadTooLarge {
            size: text.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn request_and_answers() {
        let call = ChannelRequest {
            token: "t".into(),
            id: 0,
            jsonrpc: "2.0".into(),
            method: GET_TOKEN.into(),
            params: json!({}),
        };
        let text = call.encode().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"token": "t", "id": 0, "jsonrpc": "2.0", "method": "get.token", "params": {}})
        );
        assert_eq!(ChannelRequest::decode(&text).unwrap(), call);
        let (id, ok) = ChannelResponse::decode(r#"{"id":4,"payload":"jwt"}"#).unwrap();
        assert_eq!((id, ok.unwrap()), (4, json!("jwt")));
        let (_, err) = ChannelResponse::decode(&ChannelResponse::error(5, "no").encode()).unwrap();
        assert_eq!(err.unwrap_err().code(), "remote_error");
        // A result that merely has an `error` field among others is a result.
        let (_, ok) = ChannelResponse::decode(r#"{"id":6,"payload":{"error":1,"x":2}}"#).unwrap();
        assert!(ok.is_ok());
    }

    #[test]
    fn junk_is_typed() {
        for junk in ["", "nope", "{}", r#"{"id":-1,"payload":1}"#, "[1]"] {
            assert_eq!(
                ChannelResponse::decode(junk).unwrap_err().code(),
                "invalid_message"
            );
            assert!(ChannelRequest::decode(junk).is_err());
        }
        let big = format!(r#"{{"id":1,"payload":"{}"}}"#, "x".repeat(MAX_MESSAGE_LEN));
        assert_eq!(
            ChannelResponse::decode(&big).unwrap_err().code(),
            "payload_too_large"
        );
        let huge = ChannelResponse::ok(1, json!("x".repeat(MAX_MESSAGE_LEN))).encode();
        assert!(huge.contains("response too large"));
    }
}
