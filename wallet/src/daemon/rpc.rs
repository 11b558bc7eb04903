//! The daemon's JSON-RPC 2.0 endpoint (HTTP POST to `/` or `/json_rpc`, CORS open so a wallet
//! UI page can call it). Every call needs `Authorization: Bearer <token>` with a token the
//! daemon issued (the admin token printed at start).
//!
//! | method | needs | params | result |
//! |---|---|---|---|
//! | `webrtc.start` | `StartWebrtc`, not a session's token | `{signaling_server_token, permissions, name}` | `{sessionId}` |
//! | `webrtc.sessions` | `StartWebrtc`, not a session's token | — | `[{id, name, state, permissions}]` |
//! | `webrtc.stop` | `StartWebrtc`, not a session's token | `{sessionId}` | `true` / `false` |
//! | `admin.rotate_token` | `Admin`, not a session's token | — | `{token}`: a new admin token; the one before stops working at once |
//! | wallet methods | see [`super::access`] | as [`crate::api`] | as [`crate::api`] |
//!
//! `webrtc.start` refuses (403) a grant holding `Admin` or `StartWebrtc`: a dApp session is
//! never given either, so it can never start sessions or mint itself a wider token.
//!
//! Errors: 401 missing/invalid/expired token, 403 permission missing, 503 too many sessions,
//! and the JSON-RPC codes -32700, -32600, -32601, -32602.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use walletwire::direct::permission::{ADMIN, START_WEBRTC};
use walletwire::direct::signaling::{ErrorObject, Request, Response};
use walletwire::direct::{Error as DirectError, Permissions, link};

use super::{Shared, access, locked, peer};
use crate::system::now_ms;

/// Missing, invalid or expired token.
pub const UNAUTHORIZED: i64 = 401;
/// The token lacks the permission.
pub const FORBIDDEN: i64 = 403;
/// Too many sessions.
pub const BUSY: i64 = 503;
const INVALID_REQUEST: i64 = -32600;
const PARSE_ERROR: i64 = -32700;
const INVALID_PARAMS: i64 = -32602;

type Outcome = Result<Value, ErrorObject>;

fn refuse(code: i64, message: impl Into<String>) -> ErrorObject {
    ErrorObject {
        code,
        message: message.into(),
    }
}

/// The endpoint's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(handle).options(preflight))
        .route("/json_rpc", post(handle).options(preflight))
        .layer(DefaultBodyLimit::max(256 * 1024))
        .with_state(shared)
}

fn cors(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
}

async fn preflight() -> HttpResponse {
    let mut response = StatusCode::NO_CONTENT.into_response();
    cors(&mut response);
    response
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let response = match serde_json::from_slice::<Value>(&body) {
        Err(_) => Response::failure(Value::Null, PARSE_ERROR, "body is not JSON"),
        Ok(value) => match serde_json::from_value::<Request>(value) {
            Ok(request) if request.jsonrpc == "2.0" => {
                let id = request.id.clone();
                match call(&shared, &headers, request) {
                    Ok(result) => Response::success(id, result),
                    Err(error) => Response::failure(id, error.code, error.message),
                }
            }
            _ => Response::failure(
                Value::Null,
                INVALID_REQUEST,
                "expected a JSON-RPC 2.0 request object",
            ),
        },
    };
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&response).unwrap_or_default(),
    )
        .into_response();
    cors(&mut response);
    response
}

#[derive(Deserialize)]
struct StartParams {
    signaling_server_token: String,
    permissions: Value,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopParams {
    session_id: u64,
}

fn call(shared: &Arc<Shared>, headers: &HeaderMap, request: Request) -> Outcome {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| refuse(UNAUTHORIZED, "missing bearer token"))?;
    let claims = shared.verify(token.trim()).map_err(|e| match e {
        DirectError::TokenExpired => refuse(UNAUTHORIZED, "token expired"),
        _ => refuse(UNAUTHORIZED, "invalid token"),
    })?;
    // Tokens with id 0 are the wallet UI's (and operators' narrower ones). Any other id is a
    // WebRTC session's wallet token: it works here only while that session is live, so
    // stopping a session revokes its token on this endpoint too.
    if claims.id != 0 && !shared.session_live(claims.id) {
        return Err(refuse(UNAUTHORIZED, "token of a session that ended"));
    }
    let method = request.method.as_str();
    // Starting, listing and stopping sessions is the wallet UI's: a session's own token never
    // reaches these methods, whatever it holds, so a dApp cannot start a session of its own.
    let webrtc = |what: &str| {
        if claims.id != 0 {
            Err(refuse(
                FORBIDDEN,
                format!("{what} needs the wallet UI's token, not a session's"),
            ))
        } else if claims.permissions.holds(START_WEBRTC) {
            Ok(())
        } else {
            Err(refuse(
                FORBIDDEN,
                format!("{what} needs the StartWebrtc permission"),
            ))
        }
    };
    match method {
        "webrtc.start" => {
            webrtc(method)?;
            let params: StartParams = serde_json::from_value(request.params)
                .map_err(|e| refuse(INVALID_PARAMS, format!("invalid params: {e}")))?;
            let permissions = Permissions::from_json(&params.permissions)
                .map_err(|e| refuse(INVALID_PARAMS, e.to_string()))?;
            if let Some(never) = permissions.never_for_sessions() {
                return Err(refuse(
                    FORBIDDEN,
                    format!("a dApp session is never granted {}", never.name()),
                ));
            }
            walletwire::direct::jwt::unverified_claims(&params.signaling_server_token)
                .map_err(|_| refuse(INVALID_PARAMS, "signaling_server_token is not a JWT"))?;
            let name = params.name.unwrap_or_default();
            if name.chars().count() > link::MAX_NAME_LEN {
                return Err(refuse(INVALID_PARAMS, "name longer than 128 characters"));
            }
            let (id, stopped) = shared
                .add_session(name.clone(), permissions.clone())
                .ok_or_else(|| refuse(BUSY, "too many WebRTC sessions"))?;
            shared.emit(&format!(
                "WEBRTC_STARTED {id} {}",
                serde_json::to_string(&name).unwrap_or_default()
            ));
            tokio::spawn(peer::run(
                shared.clone(),
                peer::SessionStart {
                    id,
                    name,
                    permissions,
                    signaling_token: params.signaling_server_token,
                    started_ms: now_ms(),
                },
                stopped,
            ));
            Ok(json!({ "sessionId": id }))
        }
        "admin.rotate_token" => {
            if claims.id != 0 || !claims.permissions.holds(ADMIN) {
                return Err(refuse(
                    FORBIDDEN,
                    "admin.rotate_token needs the admin token",
                ));
            }
            Ok(json!({ "token": shared.rotate_admin_token() }))
        }
        "webrtc.sessions" => {
            webrtc(method)?;
            Ok(serde_json::to_value(shared.sessions()).unwrap_or(Value::Null))
        }
        "webrtc.stop" => {
            webrtc(method)?;
            let params: StopParams = serde_json::from_value(request.params)
                .map_err(|e| refuse(INVALID_PARAMS, format!("invalid params: {e}")))?;
            Ok(Value::Bool(shared.stop_session(params.session_id)))
        }
        _ => {
            access::check(&claims.permissions, method, &request.params)
                .map_err(|message| refuse(FORBIDDEN, message))?;
            locked(&shared.api)
                .handle(method, &request.params, now_ms())
                .map_err(|e| refuse(e.code, e.message))
        }
    }
}
