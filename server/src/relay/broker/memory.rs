//! In-process broker: one node, history in memory.
//!
//! Reading never creates state: a channel nobody published to has no stream, and reads and
//! subscriptions see it at offset 0 of its *genesis epoch*, a hash of the channel name under a
//! key drawn at start (so it is stable while the process runs and new after a restart). The
//! first publication creates the stream in that same epoch, so a subscriber that was waiting
//! on the empty channel goes on without a reconnect.
//!
//! A stream's history expires `ttl` after the last publication; its epoch and top offset are
//! kept for `--stream-meta-ttl` after that (as the Redis broker keeps its meta keys), so a
//! client that was away learns exactly how much it missed. Then, or at a restart, the stream
//! is forgotten and old positions become unrecoverable.
//!
//! Totals are bounded: at most `--max-streams` streams and `--max-history-bytes` payload
//! bytes in history. A publish that would pass the byte cap first drops its own channel's
//! oldest publications (never another channel's); a publish that cannot fit, or would start a
//! stream beyond either cap, is refused ([`Full`]) and stores nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::{HistoryQuery, StoredPublication, StreamSlice};
use crate::relay::channel::HistoryPolicy;
use crate::relay::hub::Hub;
use crate::relay::metrics::Metrics;

/// Caps of the memory broker.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Streams kept in total.
    pub max_streams: usize,
    /// Payload bytes kept in history in total.
    pub max_history_bytes: usize,
    /// How long a stream's epoch and top outlive its history.
    pub meta_ttl: Duration,
}

/// A publish the broker refused because a global cap is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Full {
    /// `--max-streams` streams exist.
    #[error("too many channels on this relay")]
    Streams,
    /// `--max-history-bytes` are held in history.
    #[error("relay history is full")]
    HistoryBytes,
}

#[derive(Debug)]
struct Stream {
    epoch: Arc<str>,
    top: u64,
    history: VecDeque<Arc<StoredPublication>>,
    /// Payload bytes in `history`.
    bytes: usize,
    /// When the history expires.
    expires: Instant,
    /// When the stream (epoch and top) may be forgotten.
    forget: Instant,
}

/// The in-memory broker.
#[derive(Debug)]
pub struct MemoryBroker {
    streams: RwLock<HashMap<String, Arc<Mutex<Stream>>>>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    caps: Caps,
    /// Payload bytes in every history together.
    bytes: AtomicUsize,
    genesis_key: [u8; 16],
    /// Dropped with the broker, which ends its sweeper at once rather than at the next tick.
    sweeper_stop: tokio::sync::watch::Sender<()>,
}

impl MemoryBroker {
    /// An empty broker delivering to `hub`.
    pub fn new(hub: Arc<Hub>, metrics: Arc<Metrics>, caps: Caps) -> Self {
        Self {
            streams: RwLock::new(HashMap::new()),
            hub,
            metrics,
            caps,
            bytes: AtomicUsize::new(0),
            genesis_key: *uuid::Uuid::new_v4().as_bytes(),
            sweeper_stop: tokio::sync::watch::channel(()).0,
        }
    }

    /// The epoch of `channel` before its first publication.
    fn genesis(&self, channel: &str) -> Arc<str> {
        Arc::from(genesis_epoch(&self.genesis_key, channel))
    }

    fn existing(&self, channel: &str) -> Option<Arc<Mutex<Stream>>> {
        self.streams
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(channel)
            .cloned()
    }

    /// The stream of `channel`, created (in its genesis epoch) if there is room for it.
    fn stream_for_publish(&self, channel: &str, size: usize) -> Result<Arc<Mutex<Stream>>, Full> {
        if let Some(stream) = self.existing(channel) {
            return Ok(stream);
        }
        let mut streams = self
            .streams
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(stream) = streams.get(channel) {
            return Ok(stream.clone());
        }
        if streams.len() >= self.caps.max_streams {
            return Err(Full::Streams);
        }
        if self.bytes.load(Ordering::Relaxed) + size > self.caps.max_history_bytes {
            return Err(Full::HistoryBytes);
        }
        let now = Instant::now();
        let stream = Arc::new(Mutex::new(Stream {
            epoch: self.genesis(channel),
            top: 0,
            history: VecDeque::new(),
            bytes: 0,
            expires: now,
            forget: now,
        }));
        streams.insert(channel.to_owned(), stream.clone());
        self.metrics.set_streams(streams.len());
        Ok(stream)
    }

    /// Drops the oldest publication of `stream`, keeping the totals.
    fn pop_oldest(&self, stream: &mut Stream) {
        if let Some(oldest) = stream.history.pop_front() {
            let len = oldest.data.get().len();
            stream.bytes -= len;
            self.bytes.fetch_sub(len, Ordering::Relaxed);
        }
    }

    fn clear_history(&self, stream: &mut Stream) {
        self.bytes.fetch_sub(stream.bytes, Ordering::Relaxed);
        stream.bytes = 0;
        stream.history = VecDeque::new();
    }

    fn expire(&self, stream: &mut Stream, now: Instant) {
        if now >= stream.expires && !stream.history.is_empty() {
            self.clear_history(stream);
        }
    }

    /// Appends and delivers under the stream's lock, so deliveries follow offset order.
    pub fn publish(
        &self,
        channel: &str,
        policy: HistoryPolicy,
        data: Box<RawValue>,
    ) -> Result<u64, Full> {
        let size = data.get().len();
        let stream = self.stream_for_publish(channel, size)?;
        let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
        let now = Instant::now();
        self.expire(&mut stream, now);
        // Room for this payload: the channel pays for it with its own oldest publications.
        if size > self.caps.max_history_bytes {
            return Err(Full::HistoryBytes);
        }
        while self.bytes.load(Ordering::Relaxed) + size > self.caps.max_history_bytes {
            if stream.history.is_empty() {
                self.metrics
                    .set_history_bytes(self.bytes.load(Ordering::Relaxed));
                return Err(Full::HistoryBytes);
            }
            self.pop_oldest(&mut stream);
        }
        stream.top += 1;
        let publication = Arc::new(StoredPublication {
            offset: stream.top,
            data,
        });
        stream.history.push_back(publication.clone());
        stream.bytes += size;
        self.bytes.fetch_add(size, Ordering::Relaxed);
        while stream.history.len() > policy.size {
            self.pop_oldest(&mut stream);
        }
        stream.expires = now + policy.ttl;
        stream.forget = stream.expires + self.caps.meta_ttl;
        self.metrics
            .set_history_bytes(self.bytes.load(Ordering::Relaxed));
        self.hub.deliver(channel, &stream.epoch, &publication);
        Ok(stream.top)
    }

    /// Reads a stream; a channel without one reads as empty, at offset 0 of its genesis epoch,
    /// and stays without one.
    pub fn history(
        &self,
        channel: &str,
        _policy: HistoryPolicy,
        query: HistoryQuery,
    ) -> StreamSlice {
        let Some(stream) = self.existing(channel) else {
            return StreamSlice {
                epoch: self.genesis(channel),
                top: 0,
                first: 1,
                publications: Vec::new(),
            };
        };
        let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
        self.expire(&mut stream, Instant::now());
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

    /// Drops expired history, and forgets streams past their meta lifetime that nobody here
    /// listens to.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut streams = self
            .streams
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        streams.retain(|channel, stream| {
            let mut stream = stream.lock().unwrap_or_else(|poison| poison.into_inner());
            self.expire(&mut stream, now);
            now < stream.forget || self.hub.has_subscribers(channel)
        });
        self.metrics.set_streams(streams.len());
        self.metrics
            .set_history_bytes(self.bytes.load(Ordering::Relaxed));
    }

    /// Sweeps every `interval` until the broker is dropped.
    pub fn spawn_sweeper(self: &Arc<Self>, interval: Duration) {
        let broker = Arc::downgrade(self);
        let mut stop = self.sweeper_stop.subscribe();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    // Only an error ever comes: the broker (the sender) is gone.
                    _ = stop.changed() => return,
                }
                let Some(broker) = broker.upgrade() else {
                    return;
                };
                broker.sweep();
            }
        });
    }
}

/// The genesis epoch of `channel` under `key`: 12 hex digits of SHA-256(key ‖ channel).
pub fn genesis_epoch(key: &[u8], channel: &str) -> String {
    let digest = Sha256::new()
        .chain_update(key)
        .chain_update(channel.as_bytes())
        .finalize();
    let mut epoch = String::with_capacity(12);
    for byte in &digest[..6] {
        epoch.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        epoch.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    epoch
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: Caps = Caps {
        max_streams: 1000,
        max_history_bytes: 1 << 20,
        meta_ttl: Duration::from_secs(3600),
    };

    fn broker_with(caps: Caps) -> MemoryBroker {
        let metrics = Arc::new(Metrics::default());
        MemoryBroker::new(Arc::new(Hub::new(metrics.clone())), metrics, caps)
    }

    fn broker() -> MemoryBroker {
        broker_with(CAPS)
    }

    /// A dropped broker's sweeper ends at once, not an interval later (the fuzz harness builds
    /// one relay per input on a paused clock that never reaches the next tick).
    #[tokio::test]
    async fn the_sweeper_ends_with_its_broker_not_at_its_next_tick() {
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let broker = Arc::new(broker());
        broker.spawn_sweeper(Duration::from_secs(3600));
        tokio::task::yield_now().await;
        assert_eq!(metrics.num_alive_tasks(), before + 1);
        drop(broker);
        for _ in 0..10 {
            if metrics.num_alive_tasks() == before {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            metrics.num_alive_tasks(),
            before,
            "the sweeper outlived its broker"
        );
    }

    const POLICY: HistoryPolicy = HistoryPolicy {
        size: 3,
        ttl: Duration::from_secs(60),
    };

    fn data(n: u64) -> Box<RawValue> {
        RawValue::from_string(n.to_string()).expect("a number is JSON")
    }

    fn streams(broker: &MemoryBroker) -> usize {
        broker.streams.read().unwrap().len()
    }

    #[test]
    fn history_keeps_the_newest_and_reports_the_first_offset() {
        let broker = broker();
        for n in 1..=5 {
            assert_eq!(broker.publish("c", POLICY, data(n)), Ok(n));
        }
        let slice = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!((slice.top, slice.first), (5, 3));
        let offsets: Vec<u64> = slice.publications.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [3, 4, 5]);
        assert!(slice.covers(&slice.epoch, 2));
        assert!(!slice.covers(&slice.epoch, 1));
        assert!(!slice.covers("other", 4));
        assert!(!slice.covers(&slice.epoch, 6));
        assert_eq!(broker.bytes.load(Ordering::Relaxed), 3);

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
    fn reads_create_nothing_and_the_first_publication_keeps_the_genesis_epoch() {
        let broker = broker();
        let first = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!((first.top, first.first), (0, 1));
        assert_eq!(first.epoch.len(), 12);
        let second = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!(first.epoch, second.epoch);
        assert_eq!(streams(&broker), 0, "a read leaves no stream behind");
        assert_ne!(
            broker.history("d", POLICY, HistoryQuery::default()).epoch,
            first.epoch
        );
        assert_eq!(broker.publish("c", POLICY, data(1)), Ok(1));
        let after = broker.history("c", POLICY, HistoryQuery::default());
        assert_eq!(after.epoch, first.epoch);
        assert!(after.covers(&first.epoch, 0));
        // Another process (a restart) has other genesis epochs.
        assert_ne!(
            self::broker()
                .history("c", POLICY, HistoryQuery::default())
                .epoch,
            first.epoch
        );
    }

    #[test]
    fn caps_refuse_new_streams_and_a_full_history_is_paid_by_its_own_channel() {
        let broker = broker_with(Caps {
            max_streams: 2,
            max_history_bytes: 10,
            ..CAPS
        });
        let wide = HistoryPolicy {
            size: 100,
            ..POLICY
        };
        assert_eq!(broker.publish("a", wide, data(1111)), Ok(1));
        assert_eq!(broker.publish("b", wide, data(2222)), Ok(1));
        assert_eq!(broker.publish("c", wide, data(3)), Err(Full::Streams));
        // 8 bytes held: a third 4-byte payload into "a" drops a's own oldest first.
        assert_eq!(broker.publish("a", wide, data(1112)), Ok(2));
        let a = broker.history("a", wide, HistoryQuery::default());
        assert_eq!((a.first, a.top), (2, 2));
        let b = broker.history("b", wide, HistoryQuery::default());
        assert_eq!(
            b.publications.len(),
            1,
            "another channel's history is untouched"
        );
        // Bigger than the whole cap: refused, nothing changes.
        assert_eq!(
            broker.publish("a", wide, data(12_345_678_901)),
            Err(Full::HistoryBytes)
        );
        assert_eq!(broker.history("a", wide, HistoryQuery::default()).top, 2);
        assert!(broker.bytes.load(Ordering::Relaxed) <= 10);
    }

    #[test]
    fn expired_history_keeps_the_position_until_the_meta_ttl() {
        let broker = broker_with(Caps {
            meta_ttl: Duration::ZERO,
            ..CAPS
        });
        let brief = HistoryPolicy {
            size: 3,
            ttl: Duration::ZERO,
        };
        assert_eq!(broker.publish("c", brief, data(1)), Ok(1));
        let slice = broker.history("c", brief, HistoryQuery::default());
        assert_eq!(
            (slice.top, slice.first, slice.publications.len()),
            (1, 2, 0)
        );
        assert_eq!(broker.bytes.load(Ordering::Relaxed), 0);
        broker.sweep();
        assert_eq!(streams(&broker), 0);
    }
}
