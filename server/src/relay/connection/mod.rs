//! One client connection: a reader task running the protocol session and a writer task
//! draining the outbound queue, joined by a [`handle::ConnectionHandle`].

pub mod handle;
mod session;
mod writer;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocket;
use futures_util::{SinkExt, StreamExt};

use self::handle::ConnectionHandle;
use self::session::Session;
use super::Relay;

/// Runs a connection from upgrade to close.
pub async fn serve(socket: WebSocket, relay: Arc<Relay>, address: Option<IpAddr>) {
    let (handle, receivers) = ConnectionHandle::new(
        relay.next_connection_id(),
        relay.options.max_queue_bytes,
        relay.metrics.clone(),
    );
    let (mut sink, stream) = socket.split();
    let admitted = relay
        .addresses
        .admit(address)
        .and_then(|ticket| relay.register(&handle).map(|()| ticket));
    let ticket = match admitted {
        Ok(ticket) => ticket,
        Err(code) => {
            let _ = tokio::time::timeout(
                relay.options.write_timeout,
                sink.send(writer::close_message(code)),
            )
            .await;
            relay.metrics.disconnected(code.code());
            tracing::info!(
                code = code.code(),
                reason = code.reason(),
                "connection refused"
            );
            return;
        }
    };
    relay.metrics.connection_opened();
    let writer = tokio::spawn(writer::run(
        sink,
        receivers.queue,
        receivers.disconnect.clone(),
        handle.clone(),
        relay.options.write_timeout,
    ));
    let mut session = Session::new(relay.clone(), handle.clone(), ticket);
    let code = session.run(stream, receivers.disconnect).await;
    handle.disconnect(code);
    // The writer ends after the close frame (or at once if the socket is broken).
    let _ = writer.await;
    session.leave_all_channels().await;
    relay.unregister(handle.id());
    relay.metrics.connection_closed(code.code());
    tracing::debug!(
        connection = handle.id(),
        code = code.code(),
        reason = code.reason(),
        "connection closed"
    );
}
