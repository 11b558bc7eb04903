//! The signaling server's JSON-RPC 2.0 interface (HTTP POST to `/` or `/json_rpc`).
//!
//! `auth.login(permissions)` returns a JWT; every other method needs
//! `Authorization: Bearer <jwt>` and acts on the entry of that JWT's `id`:
//!
//! | method | params | result |
//! |---|---|---|
//! | `auth.login` | permissions array (or `{permissions, name}`) | JWT string |
//! | `add.offer` / `add.answer` | SDP string | `null` |
//! | `add.offer_ice_candidate` / `add.answer_ice_candidate` | `RTCIceCandidateInit` object | `null` |
//! | `get.offer` / `get.answer` | — | SDP string (error [`codes::NOT_FOUND`] until posted) |
//! | `get.offer_ice_candidates` / `get.answer_ice_candidates` | — | array of candidate objects |
//!
//! This module has the envelopes, the method names, the error codes, and the client side:
//! building a call and reading its result.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, Permissions};

/// `auth.login`.
pub const AUTH_LOGIN: &str = "auth.login";
/// `add.offer`.
pub const ADD_OFFER: &str = "add.offer";
/// `add.offer_ice_candidate`.
pub const ADD_OFFER_ICE_CANDIDATE: &str = "add.offer_ice_candidate";
/// `add.answer`.
pub const ADD_ANSWER: &str = "add.answer";
/// `add.answer_ice_candidate`.
pub const ADD_ANSWER_ICE_CANDIDATE: &str = "add.answer_ice_candidate";
/// `get.offer`.
pub const GET_OFFER: &str = "get.offer";
/// `get.answer`.
pub const GET_ANSWER: &str = "get.answer";
/// `get.offer_ice_candidates`.
pub const GET_OFFER_ICE_CANDIDATES: &str = "get.offer_ice_candidates";
/// `get.answer_ice_candidates`.
pub const GET_ANSWER_ICE_CANDIDATES: &str = "get.answer_ice_candidates";

/// Every method the server answers.
pub const METHODS: &[&str] = &[
    AUTH_LOGIN,
    ADD_OFFER,
    ADD_OFFER_ICE_CANDIDATE,
    ADD_ANSWER,
    ADD_ANSWER_ICE_CANDIDATE,
    GET_OFFER,
    GET_ANSWER,
    GET_OFFER_ICE_CANDIDATES,
    GET_ANSWER_ICE_CANDIDATES,
];

/// The default signaling server of the Tari connector.
pub const DEFAULT_URL: &str = "http://localhost:9100";

/// Largest SDP string accepted.
pub const MAX_SDP_LEN: usize = 32 * 1024;
/// Largest candidate object accepted, as JSON text.
pub const MAX_CANDIDATE_LEN: usize = 2 * 1024;
/// Most candidates kept per side of one entry.
pub const MAX_CANDIDATES: usize = 64;
/// Largest request or response body.
pub const MAX_BODY_LEN: usize = 256 * 1024;

/// JSON-RPC error codes of the signaling server.
pub mod codes {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC 2.0 request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad params.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Missing, forged or expired token (the upstream's 401).
    pub const UNAUTHORIZED: i64 = 401;
    /// The requested data has not been posted yet (or expired).
    pub const NOT_FOUND: i64 = 404;
    /// Posting it again where only one is allowed (a second offer or answer).
    pub const CONFLICT: i64 = 409;
    /// Over a size or count limit.
    pub const TOO_LARGE: i64 = 413;
    /// The server holds as much as it may; retry later.
    pub const FULL: i64 = 503;
}

/// A JSON-RPC 2.0 request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// Echoed in the response.
    #[serde(default)]
    pub id: Value,
    /// The method.
    pub method: String,
    /// Its params.
    #[serde(default)]
    pub params: Value,
}

/// A JSON-RPC 2.0 error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// See [`codes`].
    pub code: i64,
    /// Human-readable.
    pub message: String,
}

/// A JSON-RPC 2.0 response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// The request's id.
    pub id: Value,
    /// Success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl Response {
    /// A success; `result: null` is kept (JSON-RPC requires `result` or `error`).
    pub fn success(id: Value, result: Value) -> Self {
        Self {
            jsonrpc: "2.0".into(),
            id,
            result: Some(result),
            error: None,
        }
    }

    /// A failure.
    pub fn failure(id: Value, code: i64, message: impl Into<String>) -> Self {
        Self {
            jsonrpc: "2.0".into(),
            id,
            result: None,
            error: Some(ErrorObject {
                code,
                message: message.into(),
            }),
        }
    }
}

/// The body of a call with numeric `id`.
pub fn request_body(id: u64, method: &str, params: Value) -> String {
    let request = Request {
        jsonrpc: "2.0".into(),
        id: Value::from(id),
        method: method.into(),
        params,
    };
    // A struct of strings and JSON values always serializes.
    serde_json::to_string(&request).expect("request serializes")
}

/// The params of `auth.login`: the permissions array, as the Tari connector sends it.
pub fn login_params(permissions: &Permissions) -> Value {
    permissions.to_json()
}

/// Reads a response body: the result, or the server's error as [`Error::Signaling`].
pub fn read_response(body: &str, id: u64) -> Result<Value, Error> {
    if body.len() > MAX_BODY_LEN {
        return Err(Error::PayloadTooLarge {
            size: body.len(),
            max: MAX_BODY_LEN,
        });
    }
    let response: Response = serde_json::from_str(body)
        .map_err(|_| Error::InvalidMessage("signaling response is not JSON-RPC"))?;
    if response.id != id && !response.id.is_null() {
        return Err(Error::InvalidMessage("signaling response for another id"));
    }
    match (response.result, response.error) {
        (_, Some(error)) => Err(Error::Signaling {
            code: error.code,
            message: error.message.chars().take(256).collect(),
        }),
        (Some(result), None) => Ok(result),
        (None, None) => Ok(Value::Null),
    }
}

/// A result that must be a JWT string (`auth.login`).
pub fn read_token(result: Value) -> Result<String, Error> {
    match result {
        Value::String(token) if !token.is_empty() && token.len() <= super::jwt::MAX_TOKEN_LEN => {
            Ok(token)
        }
        _ => Err(Error::InvalidMessage("auth.login did not return a token")),
    }
}

/// A result that must be an SDP string (`get.offer`, `get.answer`).
pub fn read_sdp(result: Value) -> Result<String, Error> {
    match result {
        Value::String(sdp) if !sdp.is_empty() && sdp.len() <= MAX_SDP_LEN => Ok(sdp),
        _ => Err(Error::InvalidMessage("not an SDP string")),
    }
}

/// A result that must be an array of candidate objects (`get.*_ice_candidates`).
pub fn read_candidates(result: Value) -> Result<Vec<Value>, Error> {
    match result {
        Value::Array(list) if list.len() <= MAX_CANDIDATES => {
            if list.iter().all(is_candidate) {
                Ok(list)
            } else {
                Err(Error::InvalidMessage("not a candidate object"))
            }
        }
        _ => Err(Error::InvalidMessage("not an array of candidates")),
    }
}

/// True for an `RTCIceCandidateInit`-shaped object (a `candidate` string) within the size
/// limit. Other fields are carried as they are.
pub fn is_candidate(value: &Value) -> bool {
    value.get("candidate").is_some_and(Value::is_string)
        && value.to_string().len() <= MAX_CANDIDATE_LEN
}

/// True when an error means "not posted yet": polling goes on.
pub fn is_not_yet(error: &Error) -> bool {
    matches!(error, Error::Signaling { code, .. } if *code == codes::NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn calls_and_results() {
        let body = request_body(3, ADD_OFFER, json!("v=0"));
        let parsed: Request = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (parsed.jsonrpc.as_str(), parsed.method.as_str()),
            ("2.0", ADD_OFFER)
        );
        let ok = r#"{"jsonrpc":"2.0","id":3,"result":"v=0"}"#;
        assert_eq!(read_sdp(read_response(ok, 3).unwrap()).unwrap(), "v=0");
        let err = r#"{"jsonrpc":"2.0","id":3,"error":{"code":404,"message":"no answer yet"}}"#;
        let e = read_response(err, 3).unwrap_err();
        assert!(is_not_yet(&e));
        assert_eq!(e.code(), "signaling_error");
    }

    #[test]
    fn bad_responses_are_typed() {
        assert!(matches!(
            read_response("<html>", 1),
            Err(Error::InvalidMessage(_))
        ));
        assert!(matches!(
            read_response(r#"{"jsonrpc":"2.0","id":9,"result":1}"#, 1),
            Err(Error::InvalidMessage(_))
        ));
        assert!(read_sdp(json!(5)).is_err());
        assert!(read_candidates(json!([{"nope": 1}])).is_err());
        assert!(read_candidates(Value::Array(vec![json!({"candidate": "x"}); 65])).is_err());
        assert_eq!(
            read_candidates(json!([{"candidate": "c", "sdpMid": "0"}]))
                .unwrap()
                .len(),
            1
        );
        assert!(read_token(json!(null)).is_err());
    }
}
