//! One JSON-RPC call: parse, authenticate, dispatch, answer. Every failure is a JSON-RPC
//! error in a 200 response (as JSON-RPC over HTTP has it); nothing here panics on input.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use serde_json::Value;
use walletwire::base64url;
use walletwire::direct::jwt::{self, Claims};
use walletwire::direct::signaling::*;
use walletwire::direct::{Error as DirectError, Permissions};

use super::store::Side;
use super::{MAX_ANSWER_WAIT_MS, Signaling, now_secs, random_token_id};

type Outcome = Result<Value, (i64, String)>;

fn refuse(code: i64, message: impl Into<String>) -> (i64, String) {
    (code, message.into())
}

/// The axum handler for `POST /` and `POST /json_rpc`.
pub async fn handle(
    State(signaling): State<Arc<Signaling>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let owner = crate::relay::address::group(peer.ip());
    let response = match serde_json::from_slice::<Value>(&body) {
        Err(_) => Response::failure(Value::Null, codes::PARSE_ERROR, "body is not JSON"),
        Ok(value) => match serde_json::from_value::<Request>(value) {
            Ok(request) if request.jsonrpc == "2.0" => {
                let id = request.id.clone();
                match call_waiting(&signaling, &headers, request, owner).await {
                    Ok(result) => Response::success(id, result),
                    Err((code, message)) => Response::failure(id, code, message),
                }
            }
            _ => Response::failure(
                Value::Null,
                codes::INVALID_REQUEST,
                "expected a JSON-RPC 2.0 request object",
            ),
        },
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&response).unwrap_or_default(),
    )
        .into_response()
}

/// `waitMs` of a `get.answer` whose params ask to wait (a long poll), capped.
fn answer_wait(request: &Request) -> Option<u64> {
    if request.method != GET_ANSWER {
        return None;
    }
    let wait = request.params.get("waitMs")?.as_u64()?;
    (wait > 0).then(|| wait.min(MAX_ANSWER_WAIT_MS))
}

/// One call; a `get.answer` with `waitMs` that finds no answer yet waits for one up to that
/// long (woken by `add.answer`), then answers as without it. Clients that send no `waitMs`
/// (the original connector) see no difference. At most `MAX_ANSWER_WAITERS` wait at once;
/// the others answer at once.
async fn call_waiting(
    signaling: &Signaling,
    headers: &HeaderMap,
    request: Request,
    owner: IpAddr,
) -> Outcome {
    let Some(wait) = answer_wait(&request) else {
        return signaling.call(headers, request, owner);
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(wait);
    let permit = signaling.waiters.try_acquire().ok();
    loop {
        // Registered before the check, so an answer stored in between still wakes us.
        let notified = signaling.answered.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match signaling.call(headers, request.clone(), owner) {
            Err((code, _))
                if code == codes::NOT_FOUND
                    && permit.is_some()
                    && tokio::time::Instant::now() < deadline =>
            {
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    return signaling.call(headers, request, owner);
                }
            }
            outcome => return outcome,
        }
    }
}

impl Signaling {
    fn call(&self, headers: &HeaderMap, request: Request, owner: IpAddr) -> Outcome {
        let method = request.method.as_str();
        if !METHODS.contains(&method) {
            return Err(refuse(
                codes::METHOD_NOT_FOUND,
                format!(
                    "method not found: {}",
                    method.chars().take(64).collect::<String>()
                ),
            ));
        }
        let now = now_secs();
        if method == AUTH_LOGIN {
            return self.login(request.params, now);
        }
        let claims = self.authenticate(headers, now)?;
        // The login's entry is named by its random token id (a signed claim).
        let id = base64url::decode_array::<16>(&claims.jti)
            .map(u128::from_be_bytes)
            .ok_or_else(|| refuse(codes::UNAUTHORIZED, "invalid token"))?;
        let exp = claims.exp;
        let params = request.params;
        let stored = |result: Result<(), (i64, &'static str)>| {
            result
                .map(|()| Value::Null)
                .map_err(|(code, message)| refuse(code, message))
        };
        match method {
            ADD_OFFER | ADD_ANSWER => {
                let side = if method == ADD_OFFER {
                    Side::Offer
                } else {
                    Side::Answer
                };
                let Value::String(sdp) = params else {
                    return Err(refuse(
                        codes::INVALID_PARAMS,
                        "params must be the SDP string",
                    ));
                };
                let outcome = stored(self.store().set_sdp(id, exp, now, side, sdp, owner));
                if side == Side::Answer && outcome.is_ok() {
                    self.answered.notify_waiters();
                }
                outcome
            }
            ADD_OFFER_ICE_CANDIDATE | ADD_ANSWER_ICE_CANDIDATE => {
                let side = if method == ADD_OFFER_ICE_CANDIDATE {
                    Side::Offer
                } else {
                    Side::Answer
                };
                // Some clients send the candidate as JSON text rather than an object.
                let candidate = match params {
                    Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
                    other => other,
                };
                // Shape here; size is the store's limit (413).
                if !candidate.get("candidate").is_some_and(Value::is_string) {
                    return Err(refuse(
                        codes::INVALID_PARAMS,
                        "params must be an RTCIceCandidateInit object",
                    ));
                }
                stored(
                    self.store()
                        .add_candidate(id, exp, now, side, candidate, owner),
                )
            }
            GET_OFFER | GET_ANSWER => {
                let (side, what) = if method == GET_OFFER {
                    (Side::Offer, "no offer for this token")
                } else {
                    (Side::Answer, "no answer for this token yet")
                };
                self.store()
                    .sdp(id, now, side)
                    .map(Value::String)
                    .ok_or_else(|| refuse(codes::NOT_FOUND, what))
            }
            GET_OFFER_ICE_CANDIDATES => {
                Ok(Value::Array(self.store().candidates(id, now, Side::Offer)))
            }
            GET_ANSWER_ICE_CANDIDATES => {
                Ok(Value::Array(self.store().candidates(id, now, Side::Answer)))
            }
            _ => Err(refuse(codes::METHOD_NOT_FOUND, "method not found")),
        }
    }

    fn login(&self, params: Value, now: u64) -> Outcome {
        // The Tari connector sends the permissions array; `{permissions, name}` also names
        // the dApp in the token.
        let (permissions, name) = match &params {
            Value::Object(object) => (
                object.get("permissions").cloned().unwrap_or(Value::Null),
                object.get("name").and_then(Value::as_str).unwrap_or(""),
            ),
            other => (other.clone(), ""),
        };
        let permissions = Permissions::from_json(&permissions)
            .map_err(|e| refuse(codes::INVALID_PARAMS, e.to_string()))?;
        if name.chars().count() > 128 {
            return Err(refuse(
                codes::INVALID_PARAMS,
                "name longer than 128 characters",
            ));
        }
        let claims = Claims {
            id: 0,
            jti: jwt::token_id(random_token_id()),
            aud: jwt::AUD_SIGNALING.to_owned(),
            name: name.to_owned(),
            permissions,
            exp: now + self.token_ttl.as_secs().max(1),
        };
        tracing::debug!(jti = claims.jti, "login");
        Ok(Value::String(jwt::encode(&claims, &self.secret)))
    }

    fn authenticate(&self, headers: &HeaderMap, now: u64) -> Result<Claims, (i64, String)> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| refuse(codes::UNAUTHORIZED, "missing bearer token"))?;
        jwt::verify(token.trim(), &self.secret, now, jwt::AUD_SIGNALING).map_err(|e| match e {
            DirectError::TokenExpired => refuse(codes::UNAUTHORIZED, "token expired"),
            _ => refuse(codes::UNAUTHORIZED, "invalid token"),
        })
    }
}
