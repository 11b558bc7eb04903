//! In-process broker: one node, history in memory.
//!
//! A stream is created (with a new random epoch) on first use. Its history expires `ttl` after
//! the last publication; a stream with no history left and no local subscriber is forgotten,
//! so a later use starts a new epoch and old positions become unrecoverable. A restart of the
//! process forgets every stream in the same way.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use super::{HistoryQuery, StoredPublication, StreamSlice, new_epoch};
use crate::relay::channel::HistoryPolicy;
use crate::relay::hub::Hub;

#[derive(Debug)]
struct Stream {
    epoch: Arc<str>,
    top: u64,
    history: VecDeque<Arc<StoredPublication>>,
    expires: Instant,
}

impl Stream {
    fn new(now: Instant, policy: HistoryPolicy) -> Self {
        Self {
            epoch: Arc::from(new_epoch()),
            top: 0,
            history: VecDeque::new(),
            expires: now + policy.ttl,
        }
    }

    fn expire(&mut self, now: Instant) {
        if now >= self.expires {
            self.history.clear();
        }
    }
}

/// The in-memory broker.
#[derive(Debug)]
pub struct MemoryBroker {
    streams: RwLock<HashMap<String, Arc<Mutex<Stream>>>>,
    hub: Arc<Hub>,
}

impl MemoryBroker {
    /// An empty broker delivering to `hub`.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self {
            streams: RwLock::new(HashMap::new()),
            hub,
        }
    }

    fn stream(&self, channel: &str, policy: HistoryPolicy) -> Arc<Mutex<Stream>> {
        if let Some(stream) = self
            .streams
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(channel)
        {
            return stream.clone();
        }
        let mut streams = self
            .streams
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        streams
            .entry(channel.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(Stream::new(Instant::now(), policy))))
            .clone()
    }

    /// Appends and delivers under the stream's lock, so deliveries follow offset order.
    pub fn publish(&self, channel: &str, policy: HistoryPolicy, data: Box<RawValue>) -> u64 {
        let stream = self.stream(channel, policy);
        let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
        let now = Instant::now();
        stream.expire(now);
        stream.top += 1;
        let publication = Arc::new(StoredPublication {
            offset: stream.top,
            data,
        });
        stream.history.push_back(publication.clone());
        while stream.history.len() > policy.size {
            stream.history.pop_front();
        }
        stream.expires = now + policy.ttl;
        self.hub.deliver(channel, &stream.epoch, &publication);
        stream.top
    }

    /// Reads a stream, creating it on first use.
    pub fn history(
        &self,
        channel: &str,
        policy: HistoryPolicy,
        query: HistoryQuery,
    ) -> StreamSlice {
        let stream = self.stream(channel, policy);
        let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
        stream.expire(Instant::now());
        let limit = query.limit.unwrap_or(usize::MAX);
        let publications = if query.reverse {
            let before = query.before.unwrap_or(u64::MAX);
            stream
                .history
                .iter()
                .rev()
                .filter(|publication| publication.offset < before)
                .take(limit)
                .cloned()
                .collect()
        } else {
            let after = query.after.unwrap_or(0);
            stream
                .history
                .iter()
                .filter(|publication| publication.offset > after)
                .take(limit)
                .cloned()
                .collect()
        };
        StreamSlice {
            epoch: stream.epoch.clone(),
            top: stream.top,
            first: stream
                .history
                .front()
                .map_or(stream.top + 1, |publication| publication.offset),
            publications,
        }
    }

    /// Drops expired history and forgets idle streams nobody here listens to.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut streams = self
            .streams
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        streams.retain(|channel, stream| {
            let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
            stream.expire(now);
            !stream.history.is_empty() || now < stream.expires || self.hub.has_subscribers(channel)
        });
    }

    /// Sweeps every `interval` until the process ends.
    pub fn spawn_sweeper(self: &Arc<Self>, interval: Duration) {
        let broker = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                let Some(broker) = broker.upgrade() else {
                    return;
                };
                broker.sweep();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::metrics::Metrics;

    fn broker() -> MemoryBroker {
        MemoryBroker::new(Arc::new(Hub::new(Arc::new(Metrics::default()))))
    }

    const POLICY: HistoryPolicy = HistoryPolicy {
        size: 3,
        ttl: Duration::from_secs(60),
    };

    fn data(n: u64) -> Box<RawValue> {
        RawValue::from_string(n.to_string()).expect("a number is JSON")
    }

    #[test]
    fn history_keeps_the_newest_and_reports_the_first_offset() {
        let broker = broker();
        for n in 1..=5 {
            assert_eq!(broker.publish("c", POLICY, data(n)), n);
        }
        let slice = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!((slice.top, slice.first), (5, 3));
        let offsets: Vec<u64> = slice.publications.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [3, 4, 5]);
        assert!(slice.covers(&slice.epoch, 2));
        assert!(!slice.covers(&slice.epoch, 1));
        assert!(!slice.covers("other", 4));
        assert!(!slice.covers(&slice.epoch, 6));

        let reverse = HistoryQuery {
            before: Some(5),
            limit: Some(1),
            reverse: true,
            ..HistoryQuery::default()
        };
        let offsets: Vec<u64> = broker
            .history("c", POLICY, reverse)
            .publications
            .iter()
            .map(|p| p.offset)
            .collect();
        assert_eq!(offsets, [4]);
    }

    #[test]
    fn an_unused_stream_gets_an_epoch_on_first_read() {
        let broker = broker();
        let first = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!((first.top, first.first), (0, 1));
        assert!(!first.epoch.is_empty());
        let second = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!(first.epoch, second.epoch);
    }
}
