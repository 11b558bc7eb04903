//! The writer task: batches queued frames into text frames (newline-separated, as Centrifugo
//! does) and ends the connection with the close code once one is requested.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use walletwire::relay::DisconnectCode;

use super::handle::{ConnectionHandle, Frame};

/// Frames are joined into one WebSocket message up to about this size.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// The close frame for a disconnect.
pub fn close_message(code: DisconnectCode) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.code(),
        reason: code.reason().into(),
    }))
}

/// Writes until a disconnect is requested or a write fails or stalls past `write_timeout`.
pub async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::UnboundedReceiver<Frame>,
    mut disconnect: watch::Receiver<Option<DisconnectCode>>,
    handle: Arc<ConnectionHandle>,
    write_timeout: Duration,
) {
    let mut batch = String::new();
    loop {
        tokio::select! {
            biased;
            _ = disconnect.changed() => break,
            frame = queue.recv() => {
                let Some(frame) = frame else { break };
                batch.clear();
                batch.push_str(&frame);
                handle.dequeued(frame.len());
                while batch.len() < MAX_BATCH_BYTES {
                    let Ok(frame) = queue.try_recv() else { break };
                    batch.push('\n');
                    batch.push_str(&frame);
                    handle.dequeued(frame.len());
                }
                let message = Message::Text(std::mem::take(&mut batch).into());
                if !matches!(timeout(write_timeout, sink.send(message)).await, Ok(Ok(()))) {
                    // A broken or stuck socket gets no close handshake.
                    handle.disconnect(DisconnectCode::WriteError);
                    return;
                }
            }
        }
    }
    match handle.disconnect_code() {
        Some(DisconnectCode::ConnectionClosed | DisconnectCode::WriteError) | None => {}
        Some(code) => {
            let _ = timeout(write_timeout, sink.send(close_message(code))).await;
        }
    }
    // Flushes the close frame, or the reply to a client's own close.
    let _ = timeout(write_timeout, sink.close()).await;
}
