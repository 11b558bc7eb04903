//! The local subscriber registry of one relay process: which connections listen to which
//! channel, and fan-out of a publication to them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use walletwire::relay::DisconnectCode;

use super::connection::handle::{ConnectionHandle, Frame};
use super::metrics::Metrics;
use super::publication::StoredPublication;

/// Channel → subscribed connections of this process.
#[derive(Debug)]
pub struct Hub {
    channels: RwLock<HashMap<String, HashMap<u64, Arc<ConnectionHandle>>>>,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// An empty hub.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            channels: RwLock::new(HashMap::new()),
            metrics,
        }
    }

    /// Registers a subscriber.
    pub fn add(&self, channel: &str, connection: Arc<ConnectionHandle>) {
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        channels
            .entry(channel.to_owned())
            .or_default()
            .insert(connection.id(), connection);
        self.metrics.set_channels(channels.len());
    }

    /// Unregisters a subscriber.
    pub fn remove(&self, channel: &str, connection_id: u64) {
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(subscribers) = channels.get_mut(channel) {
            subscribers.remove(&connection_id);
            if subscribers.is_empty() {
                channels.remove(channel);
            }
        }
        self.metrics.set_channels(channels.len());
    }

    /// Whether any local connection listens to `channel`.
    pub fn has_subscribers(&self, channel: &str) -> bool {
        let channels = self
            .channels
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        channels.contains_key(channel)
    }

    /// Hands a publication to every local subscriber of `channel`. Never blocks: each
    /// connection only queues the frame. Callers deliver one channel's publications in offset
    /// order.
    pub fn deliver(&self, channel: &str, epoch: &Arc<str>, publication: &StoredPublication) {
        let channels = self
            .channels
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        let Some(subscribers) = channels.get(channel) else {
            return;
        };
        let frame = push_frame(channel, publication);
        for connection in subscribers.values() {
            connection.deliver(channel, epoch, publication.offset, &frame);
        }
    }

    /// Closes every subscribed connection (the broker lost publications it cannot replay).
    pub fn disconnect_all(&self, code: DisconnectCode) {
        let channels = self
            .channels
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        for connection in channels.values().flat_map(HashMap::values) {
            connection.disconnect(code);
        }
    }
}

/// `{"push":{"channel":…,"pub":{"data":…,"offset":…}}}`, written by hand so the payload is
/// copied once per publication rather than once per subscriber.
fn push_frame(channel: &str, publication: &StoredPublication) -> Frame {
    // Channel names are validated (`namespace:uuid`), but quote them properly regardless.
    let channel = serde_json::to_string(channel).unwrap_or_else(|_| "\"\"".to_owned());
    Frame::from(format!(
        r#"{{"push":{{"channel":{channel},"pub":{{"data":{},"offset":{}}}}}}}"#,
        publication.data.get(),
        publication.offset
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;
    use walletwire::relay::Reply;

    use super::*;

    #[test]
    fn push_frame_is_a_centrifugo_publication_push() {
        let publication = StoredPublication {
            offset: 42,
            data: RawValue::from_string(r#"{"k":"v"}"#.to_owned()).expect("valid JSON"),
        };
        let frame = push_frame("session:x", &publication);
        let reply: Reply = serde_json::from_str(&frame).expect("frame parses as a reply");
        let push = reply.push.expect("a push");
        assert_eq!(push.channel, "session:x");
        let publication = push.publication.expect("a publication");
        assert_eq!(
            (publication.offset, publication.data.get()),
            (42, r#"{"k":"v"}"#)
        );
    }
}
