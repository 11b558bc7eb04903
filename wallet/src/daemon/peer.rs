//! One WebRTC session of the daemon, from `webrtc.start` to the closed peer connection:
//!
//! 1. read the dApp's offer from the signaling server and answer it (`add.answer`), trickling
//!    our candidates (`add.answer_ice_candidate`) and polling the dApp's;
//! 2. serve the `tari-data` channel: `get.token` (with the signaling JWT) returns a wallet
//!    JWT for the granted permissions; other calls run against the wallet when that JWT's
//!    permissions cover them, else `{error}`;
//! 3. close the peer connection when the channel closes, ICE fails, the session does not
//!    connect within the timeout, `webrtc.stop` is called, or the daemon shuts down.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use walletwire::direct::Permissions;
use walletwire::direct::channel::{
    ChannelRequest, ChannelResponse, GET_TOKEN, LABEL, MAX_MESSAGE_LEN,
};
use walletwire::direct::signaling::{
    ADD_ANSWER, ADD_ANSWER_ICE_CANDIDATE, GET_OFFER, GET_OFFER_ICE_CANDIDATES, read_candidates,
    read_sdp,
};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

use super::signaling::SignalingClient;
use super::{Shared, access, locked};
use crate::system::now_ms;

/// What `webrtc.start` hands the session.
#[derive(Debug)]
pub struct SessionStart {
    /// Session id.
    pub id: u64,
    /// The dApp's name.
    pub name: String,
    /// What the user granted.
    pub permissions: Permissions,
    /// The dApp's signaling JWT.
    pub signaling_token: String,
    /// When `webrtc.start` was called (Unix ms).
    pub started_ms: u64,
}

/// Something that happened to the peer connection.
#[derive(Debug)]
enum PeerEvent {
    Open,
    Closed(&'static str),
}

/// The webrtc-rs event handler: candidates go to the signaling poster, state changes and
/// the data channel to the session loop.
struct Handler {
    shared: Arc<Shared>,
    session: Arc<ChannelContext>,
    events: mpsc::Sender<PeerEvent>,
    candidates: mpsc::UnboundedSender<Value>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json()
            && let Ok(value) = serde_json::to_value(init)
        {
            let _ = self.candidates.send(value);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Failed => {
                let _ = self.events.try_send(PeerEvent::Closed("ice_failed"));
            }
            RTCPeerConnectionState::Closed => {
                let _ = self.events.try_send(PeerEvent::Closed("closed"));
            }
            _ => {}
        }
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let label = channel.label().await.unwrap_or_default();
        if label != LABEL {
            let _ = channel.close().await;
            return;
        }
        let session = self.session.clone();
        let events = self.events.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            while let Some(event) = channel.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        let _ = events.try_send(PeerEvent::Open);
                    }
                    DataChannelEvent::OnMessage(message) => {
                        let reply = match std::str::from_utf8(&message.data) {
                            Ok(text) => session.answer(&shared, text),
                            Err(_) => invalid(None, "message is not UTF-8 text"),
                        };
                        if channel.send_text(&reply).await.is_err() {
                            break;
                        }
                    }
                    DataChannelEvent::OnClose => break,
                    _ => {}
                }
            }
            let _ = events.try_send(PeerEvent::Closed("channel_closed"));
        });
    }
}

/// What the data channel needs to answer calls.
struct ChannelContext {
    id: u64,
    name: String,
    permissions: Permissions,
    signaling_token: String,
}

/// `{id, payload: {error}}` for a call that could not be read (id `null` when unknown).
fn invalid(id: Option<u64>, message: &str) -> String {
    json!({"id": id, "payload": {"error": message}}).to_string()
}

/// Compares two tokens without an early exit on the first difference.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl ChannelContext {
    fn answer(&self, shared: &Shared, text: &str) -> String {
        if text.len() > MAX_MESSAGE_LEN {
            return invalid(None, "message too large");
        }
        let request = match ChannelRequest::decode(text) {
            Ok(request) => request,
            Err(_) => {
                let id = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|v| v.get("id").and_then(Value::as_u64));
                return invalid(id, "invalid request: expected {token, id, method, params}");
            }
        };
        let id = request.id;
        if request.method == GET_TOKEN {
            if !same_token(&request.token, &self.signaling_token) {
                return ChannelResponse::error(id, "get.token needs the signaling token").encode();
            }
            let token = shared.issue(
                self.id,
                &self.name,
                self.permissions.clone(),
                shared.options.token_ttl,
            );
            return ChannelResponse::ok(id, Value::String(token)).encode();
        }
        let claims = match shared.verify(&request.token) {
            Ok(claims) if claims.id == self.id => claims,
            Ok(_) => return ChannelResponse::error(id, "token of another session").encode(),
            Err(e) => return ChannelResponse::error(id, &e.to_string()).encode(),
        };
        if let Err(refusal) = access::check(&claims.permissions, &request.method, &request.params) {
            return ChannelResponse::error(id, &refusal).encode();
        }
        let outcome = locked(&shared.api).handle(&request.method, &request.params, now_ms());
        match outcome {
            Ok(result) => ChannelResponse::ok(id, result).encode(),
            Err(error) => ChannelResponse::error(id, &error.message).encode(),
        }
    }
}

/// Runs one session to its end and removes it.
pub async fn run(shared: Arc<Shared>, start: SessionStart, mut stopped: watch::Receiver<bool>) {
    let id = start.id;
    let mut shutdown = shared.shutdown_signal();
    let (events_tx, mut events) = mpsc::channel(16);
    let (candidates_tx, candidates_rx) = mpsc::unbounded_channel();
    let deadline = tokio::time::Instant::now() + shared.options.connect_timeout;
    let handler = Arc::new(Handler {
        shared: shared.clone(),
        session: Arc::new(ChannelContext {
            id,
            name: start.name.clone(),
            permissions: start.permissions.clone(),
            signaling_token: start.signaling_token.clone(),
        }),
        events: events_tx,
        candidates: candidates_tx,
    });
    let client = match SignalingClient::new(&shared.options.signaling_url, &start.signaling_token) {
        Ok(client) => client,
        Err(e) => return finish(&shared, id, &format!("signaling_failed {e}")),
    };
    let established = tokio::select! {
        result = answer_offer(&shared, &client, handler) => result,
        () = tokio::time::sleep_until(deadline) => Err("timeout".into()),
        _ = stopped.changed() => Err("stopped".into()),
        _ = shutdown.changed() => Err("shutdown".into()),
    };
    let pc = match established {
        Ok(pc) => pc,
        Err(reason) => return finish(&shared, id, &reason),
    };
    shared.set_state(id, "answered");
    let poster = tokio::spawn(post_candidates(client.clone(), candidates_rx));
    let poller = tokio::spawn(poll_candidates(client, pc.clone()));
    let mut connected = false;
    let reason = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(PeerEvent::Open) if !connected => {
                    connected = true;
                    poller.abort();
                    shared.set_state(id, "connected");
                    shared.emit(&format!(
                        "WEBRTC_CONNECTED {id} {}",
                        now_ms().saturating_sub(start.started_ms)
                    ));
                }
                Some(PeerEvent::Open) => {}
                Some(PeerEvent::Closed(reason)) => break reason,
                None => break "closed",
            },
            () = tokio::time::sleep_until(deadline), if !connected => break "timeout",
            _ = stopped.changed() => break "stopped",
            _ = shutdown.changed() => break "shutdown",
        }
    };
    poller.abort();
    poster.abort();
    // Closing sends SCTP ABORT / DTLS close_notify so the dApp learns at once.
    let _ = tokio::time::timeout(Duration::from_secs(2), pc.close()).await;
    finish(&shared, id, reason);
}

fn finish(shared: &Shared, id: u64, reason: &str) {
    shared.remove_session(id);
    shared.emit(&format!("WEBRTC_CLOSED {id} {reason}"));
}

async fn answer_offer(
    shared: &Shared,
    client: &SignalingClient,
    handler: Arc<Handler>,
) -> Result<Arc<dyn PeerConnection>, String> {
    let offer = client
        .call(GET_OFFER, Value::Null)
        .await
        .map_err(|e| format!("signaling_failed {e}"))?;
    let offer = read_sdp(offer).map_err(|e| format!("bad_offer {e}"))?;
    let settings = SettingEngineBuilder::default()
        .with_ice_connection_attempts(Some(shared.options.ice_check_interval), None)
        .build();
    let pc = PeerConnectionBuilder::new()
        .with_setting_engine(settings)
        .with_handler(handler)
        .with_udp_addrs(vec![shared.options.webrtc_bind.clone()])
        .build()
        .await
        .map_err(|e| format!("webrtc_failed {e}"))?;
    let pc: Arc<dyn PeerConnection> = Arc::new(pc);
    let result = async {
        let offer = RTCSessionDescription::offer(offer).map_err(|e| format!("bad_offer {e}"))?;
        pc.set_remote_description(offer)
            .await
            .map_err(|e| format!("bad_offer {e}"))?;
        let answer = pc
            .create_answer(None)
            .await
            .map_err(|e| format!("webrtc_failed {e}"))?;
        pc.set_local_description(answer)
            .await
            .map_err(|e| format!("webrtc_failed {e}"))?;
        let local = pc
            .local_description()
            .await
            .ok_or_else(|| "webrtc_failed no local description".to_owned())?;
        client
            .call(ADD_ANSWER, Value::String(local.sdp))
            .await
            .map_err(|e| format!("signaling_failed {e}"))?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(pc),
        Err(reason) => {
            // Never leak a half-built peer connection.
            let _ = tokio::time::timeout(Duration::from_secs(2), pc.close()).await;
            Err(reason)
        }
    }
}

/// Posts our candidates as they are gathered.
async fn post_candidates(client: SignalingClient, mut candidates: mpsc::UnboundedReceiver<Value>) {
    while let Some(candidate) = candidates.recv().await {
        if let Err(error) = client.call(ADD_ANSWER_ICE_CANDIDATE, candidate).await {
            eprintln!("add.answer_ice_candidate failed: {error}");
        }
    }
}

/// Polls the dApp's candidates (they may still be trickling in) until aborted.
async fn poll_candidates(client: SignalingClient, pc: Arc<dyn PeerConnection>) {
    let mut added = 0;
    let mut delay = Duration::from_millis(50);
    loop {
        if let Ok(list) = client.call(GET_OFFER_ICE_CANDIDATES, Value::Null).await
            && let Ok(list) = read_candidates(list)
        {
            for candidate in list.into_iter().skip(added) {
                added += 1;
                match serde_json::from_value::<RTCIceCandidateInit>(candidate) {
                    Ok(init) if !init.candidate.is_empty() => {
                        if let Err(error) = pc.add_ice_candidate(init).await {
                            eprintln!("ignoring a dApp candidate: {error}");
                        }
                    }
                    _ => {}
                }
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
        assert_eq!(invalid(Some(3), "x"), r#"{"id":3,"payload":{"error":"x"}}"#);
    }
}
