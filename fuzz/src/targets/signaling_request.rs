//! The signaling server's JSON-RPC endpoint, in-process through its own routes: sequences
//! of requests (raw bodies or calls of every method with fuzzed params) with no token, a
//! token from an earlier login, a tampered, foreign or expired token, or any header.
//!
//! Invariants: no panic; every answer is HTTP 200 with a JSON-RPC 2.0 response carrying
//! exactly one of `result` and `error`, echoing the request id; the SDK's client helpers read
//! every answer (`read_response`, and `read_token`/`read_sdp`/`read_candidates` for the
//! methods that return those); a token works only if the server issued it and it is intact;
//! `get.*` return exactly what was last stored for that login.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{Value, json};
use walletwire::direct::jwt::{self, Claims, Secret};
use walletwire::direct::signaling::{self as rpc, codes};

use crate::input::{Blob, Encode, Json, List, Text, read_all, variant};
use crate::signaling::{post, routes, secret};

/// Whose token a request carries.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// The token of the k-th successful login.
    Login(u8),
    /// That token with one character changed.
    Tampered(u8, u16),
    /// Signed with another secret.
    Foreign,
    /// Signed with the right secret, expired.
    Expired,
    /// Any header value.
    Raw(Text),
}

/// The params of a call.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Params {
    /// No `params`.
    None,
    /// A string (an SDP).
    Sdp(Text),
    /// A candidate object with this `candidate` and an extra field.
    Candidate(Text, Json),
    /// A candidate object as JSON text.
    CandidateText(Text),
    /// A permission list (indexes into a fixed set).
    Permissions(List<u8>),
    /// `{permissions, name}`.
    LoginObject(List<u8>, Text),
    /// Any JSON.
    Any(Json),
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Body {
    /// Any bytes.
    Raw(Blob),
    /// A JSON-RPC 2.0 call of method number `method` (one past the list: unknown).
    Call {
        method: u8,
        id: Option<Json>,
        params: Params,
    },
}

/// One request.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub struct Step {
    /// `POST /json_rpc` rather than `POST /`.
    pub json_rpc_path: bool,
    /// The token.
    pub auth: Auth,
    /// The body.
    pub body: Body,
}

impl Encode for Auth {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Auth::None => variant(0, 6, out),
            Auth::Login(k) => {
                variant(1, 6, out);
                k.encode(out);
            }
            Auth::Tampered(k, at) => {
                variant(2, 6, out);
                k.encode(out);
                at.encode(out);
            }
            Auth::Foreign => variant(3, 6, out),
            Auth::Expired => variant(4, 6, out),
            Auth::Raw(text) => {
                variant(5, 6, out);
                text.encode(out);
            }
        }
    }
}

impl Encode for Params {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Params::None => variant(0, 7, out),
            Params::Sdp(sdp) => {
                variant(1, 7, out);
                sdp.encode(out);
            }
            Params::Candidate(candidate, extra) => {
                variant(2, 7, out);
                candidate.encode(out);
                extra.encode(out);
            }
            Params::CandidateText(candidate) => {
                variant(3, 7, out);
                candidate.encode(out);
            }
            Params::Permissions(picks) => {
                variant(4, 7, out);
                picks.encode(out);
            }
            Params::LoginObject(picks, name) => {
                variant(5, 7, out);
                picks.encode(out);
                name.encode(out);
            }
            Params::Any(value) => {
                variant(6, 7, out);
                value.encode(out);
            }
        }
    }
}

impl Encode for Body {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Body::Raw(bytes) => {
                variant(0, 2, out);
                bytes.encode(out);
            }
            Body::Call { method, id, params } => {
                variant(1, 2, out);
                method.encode(out);
                id.encode(out);
                params.encode(out);
            }
        }
    }
}

impl Encode for Step {
    fn encode(&self, out: &mut Vec<u8>) {
        self.json_rpc_path.encode(out);
        self.auth.encode(out);
        self.body.encode(out);
    }
}

/// Reads the steps of an input.
pub fn decode(data: &[u8]) -> Vec<Step> {
    read_all(&mut Unstructured::new(data), 24)
}

const PERMISSIONS: [&str; 6] = [
    r#""Admin""#,
    r#""AccountInfo""#,
    r#"{"AccountBalance":"All"}"#,
    r#"{"TransactionSend":null}"#,
    r#""StartWebrtc""#,
    r#"{"MessageSign":"0abc"}"#,
];

fn permissions(picks: &[u8]) -> Value {
    Value::Array(
        picks
            .iter()
            .map(|p| {
                serde_json::from_str(PERMISSIONS[usize::from(*p) % PERMISSIONS.len()])
                    .expect("a listed permission is JSON")
            })
            .collect(),
    )
}

fn params_value(params: Params) -> Option<Value> {
    Some(match params {
        Params::None => return None,
        Params::Sdp(sdp) => Value::String(sdp.0),
        Params::Candidate(candidate, extra) => {
            json!({"candidate": candidate.0, "sdpMid": "0", "extra": extra.0})
        }
        Params::CandidateText(candidate) => {
            Value::String(json!({"candidate": candidate.0, "sdpMLineIndex": 0}).to_string())
        }
        Params::Permissions(picks) => permissions(&picks.0),
        Params::LoginObject(picks, name) => {
            json!({"permissions": permissions(&picks.0), "name": name.0})
        }
        Params::Any(value) => value.0,
    })
}

#[derive(Default)]
struct Model {
    /// Tokens of successful logins, in order.
    tokens: Vec<String>,
    /// Per login (its token id, `jti`): what was stored.
    offers: BTreeMap<String, String>,
    answers: BTreeMap<String, String>,
    offer_candidates: BTreeMap<String, Vec<Value>>,
    answer_candidates: BTreeMap<String, Vec<Value>>,
}

impl Model {
    /// The header for `auth`, and the login id if the server must accept it.
    fn header(&self, auth: &Auth) -> (Option<String>, Option<String>) {
        let pick = |k: u8| &self.tokens[usize::from(k) % self.tokens.len()];
        match auth {
            Auth::None => (None, None),
            Auth::Login(_) | Auth::Tampered(..) if self.tokens.is_empty() => (None, None),
            Auth::Login(k) => {
                let token = pick(*k);
                let id = jwt::unverified_claims(token)
                    .expect("issued tokens read")
                    .jti;
                (Some(format!("Bearer {token}")), Some(id))
            }
            Auth::Tampered(k, at) => {
                let mut bytes = pick(*k).clone().into_bytes();
                let at = usize::from(*at) % bytes.len();
                bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
                let token = String::from_utf8(bytes).expect("ASCII");
                (Some(format!("Bearer {token}")), None)
            }
            Auth::Foreign | Auth::Expired => {
                let expired = matches!(auth, Auth::Expired);
                let claims = Claims {
                    id: 0,
                    jti: jwt::token_id([1; 16]),
                    aud: jwt::AUD_SIGNALING.into(),
                    name: String::new(),
                    permissions: walletwire::direct::Permissions::parse(r#"["Admin"]"#)
                        .expect("a permission list"),
                    exp: if expired { 1 } else { u64::MAX },
                };
                let key = if expired {
                    secret()
                } else {
                    Secret::new(vec![7; 32]).expect("long enough")
                };
                (Some(format!("Bearer {}", jwt::encode(&claims, &key))), None)
            }
            Auth::Raw(text) => (Some(text.0.clone()), None),
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let steps = decode(data);
    let routes = routes();
    let mut model = Model::default();
    crate::block_on(async {
        for (index, step) in steps.into_iter().enumerate() {
            let (header, valid_login) = model.header(&step.auth);
            let mut sent_params = None;
            let (body, call) = match step.body {
                Body::Raw(bytes) => (bytes.0, None),
                Body::Call { method, id, params } => {
                    let method = rpc::METHODS
                        .get(usize::from(method) % (rpc::METHODS.len() + 1))
                        .copied()
                        .unwrap_or("no.such_method");
                    let id = id.map_or(Value::from(index as u64), |v| v.0);
                    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
                    if let Some(params) = params_value(params) {
                        sent_params = Some(params.clone());
                        request["params"] = params;
                    }
                    (request.to_string().into_bytes(), Some((method, id)))
                }
            };
            let path = if step.json_rpc_path { "/json_rpc" } else { "/" };
            let (status, content_type, answer) = post(&routes, path, header.as_deref(), body).await;
            if status == 0 {
                continue; // the header never made it into a request
            }
            assert_eq!(status, 200, "JSON-RPC errors travel in 200 responses");
            assert_eq!(content_type.as_deref(), Some("application/json"));
            let text = std::str::from_utf8(&answer).expect("the answer is UTF-8");
            let response: Value = serde_json::from_str(text).expect("the answer is JSON");
            assert_eq!(response["jsonrpc"], "2.0");
            let object = response.as_object().expect("the answer is an object");
            assert!(
                object.contains_key("result") != object.contains_key("error"),
                "exactly one of result and error: {text}"
            );
            let typed: rpc::Response = serde_json::from_str(text).expect("a Response");
            let Some((method, id)) = call else {
                let _ = rpc::read_response(text, 0);
                continue;
            };
            if !crate::check::has_float(&id) {
                assert_eq!(typed.id, id, "the answer echoes the id");
            }
            if let Some(numeric) = id.as_u64() {
                let outcome = rpc::read_response(text, numeric);
                assert_eq!(outcome.is_ok(), typed.error.is_none(), "{text}");
            }
            // Authentication: only intact, unexpired tokens the server issued.
            if method != rpc::AUTH_LOGIN && rpc::METHODS.contains(&method) && valid_login.is_none()
            {
                let code = typed.error.as_ref().map(|e| e.code);
                assert_eq!(
                    code,
                    Some(codes::UNAUTHORIZED),
                    "{method} without a valid token"
                );
                continue;
            }
            let login = valid_login.unwrap_or_default();
            if let (rpc::GET_OFFER | rpc::GET_ANSWER, Some(error)) = (method, &typed.error)
                && error.code == codes::NOT_FOUND
            {
                let stored = if method == rpc::GET_OFFER {
                    model.offers.get(&login)
                } else {
                    model.answers.get(&login)
                };
                assert_eq!(stored, None, "{method} lost what was stored");
            }
            if typed.error.is_some() {
                continue; // refused: nothing changed
            }
            let result = typed.result.clone().unwrap_or(Value::Null);
            match method {
                rpc::AUTH_LOGIN => {
                    let token = rpc::read_token(result).expect("a login returns a token");
                    let claims = jwt::verify(&token, &secret(), 1_000, jwt::AUD_SIGNALING)
                        .expect("a fresh token");
                    assert!(
                        model.tokens.iter().all(|t| {
                            jwt::unverified_claims(t).expect("issued").jti != claims.jti
                        }),
                        "two logins got the same id"
                    );
                    model.tokens.push(token);
                }
                rpc::ADD_OFFER | rpc::ADD_ANSWER => {
                    let sdp = sent_params
                        .and_then(|p| p.as_str().map(str::to_owned))
                        .expect("only a string is accepted as SDP");
                    let map = if method == rpc::ADD_OFFER {
                        &mut model.offers
                    } else {
                        &mut model.answers
                    };
                    map.insert(login, sdp);
                }
                rpc::ADD_OFFER_ICE_CANDIDATE | rpc::ADD_ANSWER_ICE_CANDIDATE => {
                    let stored = match sent_params.expect("params were sent") {
                        Value::String(text) => {
                            serde_json::from_str(&text).expect("accepted text is JSON")
                        }
                        other => other,
                    };
                    let map = if method == rpc::ADD_OFFER_ICE_CANDIDATE {
                        &mut model.offer_candidates
                    } else {
                        &mut model.answer_candidates
                    };
                    map.entry(login).or_default().push(stored);
                }
                rpc::GET_OFFER | rpc::GET_ANSWER => {
                    let expected = if method == rpc::GET_OFFER {
                        model.offers.get(&login)
                    } else {
                        model.answers.get(&login)
                    };
                    let sdp = rpc::read_sdp(result).expect("an SDP the client reads");
                    assert_eq!(Some(&sdp), expected, "{method} returns what was stored");
                }
                rpc::GET_OFFER_ICE_CANDIDATES | rpc::GET_ANSWER_ICE_CANDIDATES => {
                    let expected = if method == rpc::GET_OFFER_ICE_CANDIDATES {
                        model.offer_candidates.get(&login)
                    } else {
                        model.answer_candidates.get(&login)
                    };
                    let list = rpc::read_candidates(result).expect("candidates the client reads");
                    if !list.iter().any(crate::check::has_float) {
                        assert_eq!(Some(&list).filter(|l| !l.is_empty()), expected, "{method}");
                    }
                }
                _ => {}
            }
        }
    });
}
