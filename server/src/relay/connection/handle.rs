//! The part of a connection that other tasks touch: its outbound queue, the state of each of
//! its subscriptions, and the signal that closes it.
//!
//! Publications reach a connection from the hub, possibly while the connection is still
//! reading history for a recovering subscribe. The subscription state keeps the stream
//! gap-free and duplicate-free across that boundary: while `Buffering`, live publications are
//! held back; the subscribe reply is then queued followed by the held publications newer than
//! the history it carried, all under one lock; once `Live`, each publication must be the next
//! offset of the same epoch, duplicates are dropped and a gap closes the connection with
//! 3010 (insufficient state) so the client reconnects and recovers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};
use walletwire::relay::{DisconnectCode, ErrorCode};

use crate::relay::metrics::Metrics;

/// One serialized reply or push (a JSON object without the trailing newline).
pub type Frame = Arc<str>;

/// A live publication held back while a subscribe reads history.
#[derive(Debug)]
struct HeldPublication {
    epoch: Arc<str>,
    offset: u64,
    frame: Frame,
}

#[derive(Debug)]
enum SubscriptionState {
    /// Subscribe in progress: live publications wait here.
    Buffering {
        held: Vec<HeldPublication>,
        bytes: usize,
    },
    /// Subscribed: the client has everything up to `offset` of `epoch`.
    Live { epoch: Arc<str>, offset: u64 },
}

/// Shared state of one client connection.
#[derive(Debug)]
pub struct ConnectionHandle {
    id: u64,
    queue: mpsc::UnboundedSender<Frame>,
    queued_bytes: AtomicUsize,
    max_queue_bytes: usize,
    subscriptions: Mutex<HashMap<String, SubscriptionState>>,
    disconnect: watch::Sender<Option<DisconnectCode>>,
    metrics: Arc<Metrics>,
}

/// The receiving ends the connection's own tasks use.
#[derive(Debug)]
pub struct ConnectionReceivers {
    /// Frames to write, in order.
    pub queue: mpsc::UnboundedReceiver<Frame>,
    /// Becomes `Some(code)` when the connection must close.
    pub disconnect: watch::Receiver<Option<DisconnectCode>>,
}

impl ConnectionHandle {
    /// A new handle and the receivers for its reader and writer.
    pub fn new(
        id: u64,
        max_queue_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> (Arc<Self>, ConnectionReceivers) {
        let (queue, queue_rx) = mpsc::unbounded_channel();
        let (disconnect, disconnect_rx) = watch::channel(None);
        let handle = Arc::new(Self {
            id,
            queue,
            queued_bytes: AtomicUsize::new(0),
            max_queue_bytes,
            subscriptions: Mutex::new(HashMap::new()),
            disconnect,
            metrics,
        });
        let receivers = ConnectionReceivers {
            queue: queue_rx,
            disconnect: disconnect_rx,
        };
        (handle, receivers)
    }

    /// Connection id, unique in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Asks the connection to close with `code`; the first request wins.
    pub fn disconnect(&self, code: DisconnectCode) {
        self.disconnect.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(code);
                true
            } else {
                false
            }
        });
    }

    /// The close code requested so far.
    pub fn disconnect_code(&self) -> Option<DisconnectCode> {
        *self.disconnect.borrow()
    }

    /// Queues a frame for the writer. A client whose queue exceeds the byte limit is closed
    /// with 3008 (slow) and gets nothing more, so memory per connection stays bounded.
    pub fn enqueue(&self, frame: Frame) -> bool {
        if self.disconnect_code().is_some() {
            return false;
        }
        let queued = self.queued_bytes.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
        if queued > self.max_queue_bytes {
            self.queued_bytes.fetch_sub(frame.len(), Ordering::Relaxed);
            self.disconnect(DisconnectCode::Slow);
            return false;
        }
        if self.queue.send(frame).is_err() {
            // The writer is gone: the connection is closing anyway.
            return false;
        }
        true
    }

    /// The writer took a frame of `len` bytes off the queue.
    pub fn dequeued(&self, len: usize) {
        self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
    }

    fn subscriptions(&self) -> MutexGuard<'_, HashMap<String, SubscriptionState>> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Starts a subscription in the buffering state, enforcing "already subscribed" and the
    /// channel limit.
    pub fn begin_subscription(&self, channel: &str, max_channels: usize) -> Result<(), ErrorCode> {
        let mut subscriptions = self.subscriptions();
        if subscriptions.contains_key(channel) {
            return Err(ErrorCode::AlreadySubscribed);
        }
        if subscriptions.len() >= max_channels {
            return Err(ErrorCode::LimitExceeded);
        }
        subscriptions.insert(
            channel.to_owned(),
            SubscriptionState::Buffering {
                held: Vec::new(),
                bytes: 0,
            },
        );
        Ok(())
    }

    /// Completes a subscription: queues `reply` (which brought the client to `offset` of
    /// `epoch`), then every held publication after it, and goes live.
    pub fn finish_subscription(&self, channel: &str, epoch: Arc<str>, offset: u64, reply: Frame) {
        let mut subscriptions = self.subscriptions();
        let Some(state) = subscriptions.get_mut(channel) else {
            return;
        };
        let held = match std::mem::replace(
            state,
            SubscriptionState::Live {
                epoch: epoch.clone(),
                offset,
            },
        ) {
            SubscriptionState::Buffering { held, .. } => held,
            SubscriptionState::Live { .. } => Vec::new(),
        };
        // The reply counts against the queue limit like any frame (its publications are
        // bounded by the session's reply budget), so a client that re-subscribes with
        // recovery in a loop without reading is closed as slow.
        self.enqueue(reply);
        for publication in held {
            self.deliver_live(
                state,
                &publication.epoch,
                publication.offset,
                publication.frame,
            );
        }
    }

    /// Removes a subscription; returns whether there was one.
    pub fn end_subscription(&self, channel: &str) -> bool {
        self.subscriptions().remove(channel).is_some()
    }

    /// Channels this connection is subscribed to (or subscribing).
    pub fn channels(&self) -> Vec<String> {
        self.subscriptions().keys().cloned().collect()
    }

    /// A publication of `channel` from the hub.
    pub fn deliver(&self, channel: &str, epoch: &Arc<str>, offset: u64, frame: &Frame) {
        let mut subscriptions = self.subscriptions();
        let Some(state) = subscriptions.get_mut(channel) else {
            return;
        };
        match state {
            SubscriptionState::Buffering { held, bytes } => {
                *bytes += frame.len();
                if *bytes > self.max_queue_bytes {
                    self.disconnect(DisconnectCode::Slow);
                    return;
                }
                held.push(HeldPublication {
                    epoch: epoch.clone(),
                    offset,
                    frame: frame.clone(),
                });
            }
            SubscriptionState::Live { .. } => {
                self.deliver_live(state, epoch, offset, frame.clone())
            }
        }
    }

    fn deliver_live(
        &self,
        state: &mut SubscriptionState,
        epoch: &Arc<str>,
        offset: u64,
        frame: Frame,
    ) {
        let SubscriptionState::Live {
            epoch: live_epoch,
            offset: live_offset,
        } = state
        else {
            return;
        };
        if **live_epoch != **epoch {
            // The stream was recreated (history expired, broker restarted): the client must
            // resubscribe to learn that its position is gone.
            self.disconnect(DisconnectCode::InsufficientState);
            return;
        }
        if offset <= *live_offset {
            return; // Already sent in the subscribe reply.
        }
        if offset != *live_offset + 1 {
            self.disconnect(DisconnectCode::InsufficientState);
            return;
        }
        *live_offset = offset;
        if self.enqueue(frame) {
            self.metrics.delivered();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> (Arc<ConnectionHandle>, ConnectionReceivers) {
        ConnectionHandle::new(1, 1 << 20, Arc::new(Metrics::default()))
    }

    fn drain(receivers: &mut ConnectionReceivers) -> Vec<String> {
        std::iter::from_fn(|| {
            receivers
                .queue
                .try_recv()
                .ok()
                .map(|frame| frame.to_string())
        })
        .collect()
    }

    #[test]
    fn held_publications_follow_the_reply_without_duplicates() {
        let (handle, mut receivers) = handle();
        let epoch: Arc<str> = Arc::from("e");
        handle
            .begin_subscription("c", 8)
            .expect("first subscription");
        for offset in 4..=6 {
            handle.deliver("c", &epoch, offset, &Frame::from(format!("pub{offset}")));
        }
        // The history read saw offsets up to 5: only 6 is new.
        handle.finish_subscription("c", epoch.clone(), 5, Frame::from("reply"));
        handle.deliver("c", &epoch, 6, &Frame::from("pub6-again"));
        handle.deliver("c", &epoch, 7, &Frame::from("pub7"));
        assert_eq!(drain(&mut receivers), ["reply", "pub6", "pub7"]);
        assert_eq!(handle.disconnect_code(), None);
    }

    #[test]
    fn a_gap_or_new_epoch_closes_with_insufficient_state() {
        let (handle, _receivers) = handle();
        let epoch: Arc<str> = Arc::from("e");
        handle
            .begin_subscription("c", 8)
            .expect("first subscription");
        handle.finish_subscription("c", epoch.clone(), 1, Frame::from("reply"));
        handle.deliver("c", &epoch, 3, &Frame::from("pub3"));
        assert_eq!(
            handle.disconnect_code(),
            Some(DisconnectCode::InsufficientState)
        );

        let (handle, _receivers) = self::handle();
        handle
            .begin_subscription("c", 8)
            .expect("first subscription");
        handle.finish_subscription("c", epoch, 1, Frame::from("reply"));
        handle.deliver("c", &Arc::from("other"), 2, &Frame::from("pub2"));
        assert_eq!(
            handle.disconnect_code(),
            Some(DisconnectCode::InsufficientState)
        );
    }

    #[test]
    fn limits_and_slow_consumers() {
        let (handle, _receivers) = ConnectionHandle::new(1, 10, Arc::new(Metrics::default()));
        handle
            .begin_subscription("a", 1)
            .expect("first subscription");
        assert_eq!(
            handle.begin_subscription("a", 1),
            Err(ErrorCode::AlreadySubscribed)
        );
        assert_eq!(
            handle.begin_subscription("b", 1),
            Err(ErrorCode::LimitExceeded)
        );
        assert!(handle.enqueue(Frame::from("0123456789")));
        assert!(!handle.enqueue(Frame::from("x")));
        assert_eq!(handle.disconnect_code(), Some(DisconnectCode::Slow));
    }
}
